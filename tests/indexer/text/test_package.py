"""`indexer.text` exports the names other packages use, and they import no private one."""

from __future__ import annotations

import ast
from pathlib import Path

import isnad.indexer.text

ROOT = Path(__file__).resolve().parents[3]
OUTSIDE = ("bench", "cli", "eval", "indexer", "service", "tests")
INSIDE = ("indexer/text", "tests/indexer/text")


def _imports_from_text() -> list[tuple[str, str]]:
    """(file, name) for every name imported from indexer.text or one of its modules outside the package and
    its own tests (which may test a module's helpers)."""
    found = []
    for folder in OUTSIDE:
        for path in (ROOT / folder).rglob("*.py"):
            if any(path.is_relative_to(ROOT / inside) for inside in INSIDE):
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("isnad.indexer.text"):
                    found.extend((str(path.relative_to(ROOT)), alias.name) for alias in node.names)
    return found


def test_exports_resolve() -> None:
    assert len(set(isnad.indexer.text.__all__)) == len(isnad.indexer.text.__all__)
    for name in isnad.indexer.text.__all__:
        assert not name.startswith("_") and getattr(isnad.indexer.text, name) is not None, name


def test_other_packages_import_only_exported_names() -> None:
    imports = _imports_from_text()
    assert ("indexer/pipeline.py", "tag_rounds") in imports  # the scan sees real imports
    assert [(f, n) for f, n in imports if n not in isnad.indexer.text.__all__] == []
