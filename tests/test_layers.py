"""The import graph: every import points down the layers, and no private name crosses a package.

text → stores → indexer → service → eval / bench → cli, with `indexer.types` (the dataclasses and the Embedder
seam) beneath them all. Parsed from the source with `ast`, so a lazy import inside a function counts too.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("indexer", "service", "eval", "bench", "cli")
TOP = "isnad."  # the one import package the folders are mapped into (pyproject's package-dir)


def short(name: str) -> str:
    """`isnad.service.search` -> `service.search`: the layers are named by their folders."""
    return name.removeprefix(TOP)


def layer(module: str) -> tuple[int, str]:
    """(rank, name) of a module's layer: a module may import only from layers of lower or equal rank."""
    if module == "indexer.types":
        return 0, "types"
    for prefix, rank, name in (("indexer.text", 1, "text"), ("indexer.stores", 2, "stores"), ("indexer", 3, "indexer"),
                               ("service", 4, "service"), ("eval", 5, "eval"), ("bench", 5, "bench"),
                               ("cli", 6, "cli")):
        if module == prefix or module.startswith(prefix + "."):
            return rank, name
    raise ValueError(module)


def home(module: str) -> str:
    """The package a private name must not leave: the package itself, or the folder holding the module."""
    if module in ALL and ALL[module].name == "__init__.py":
        return module
    return module.rpartition(".")[0] or module


def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for top in PACKAGES:
        for path in (ROOT / top).rglob("*.py"):
            rel = path.relative_to(ROOT).with_suffix("")
            parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
            found[".".join(parts)] = path
    return found


def imports(path: Path, module: str) -> list[tuple[str, str | None, int]]:
    """(imported module, imported name or None, line) for every import of our packages in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: list[tuple[str, str | None, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((short(a.name), None, node.lineno) for a in node.names
                       if short(a.name).split(".")[0] in PACKAGES)
        elif isinstance(node, ast.ImportFrom):
            base = short(node.module or "")
            if node.level:  # relative: resolve against this module's package
                pkg = module.split(".")[: -node.level] if path.name != "__init__.py" else module.split(".")
                base = ".".join([*pkg, *([base] if base else [])])
            if base.split(".")[0] in PACKAGES:
                out.extend((base, a.name, node.lineno) for a in node.names)
    return out


ALL = modules()


def test_the_packages_are_found() -> None:
    expected = {"indexer.types", "indexer.text.arabic", "indexer.stores.faiss_store", "service.search", "cli.main"}
    assert expected <= set(ALL)


@pytest.mark.parametrize("module", sorted(ALL))
def test_imports_point_down_and_keep_private_names_home(module: str) -> None:
    rank, name = layer(module)
    problems = []
    for target, symbol, line in imports(ALL[module], module):
        full = f"{target}.{symbol}" if symbol and f"{target}.{symbol}" in ALL else target
        target_rank, target_name = layer(full)
        if target_rank > rank or (target_rank == rank and target_name != name):
            problems.append(f"line {line}: {name} imports {full} ({target_name})")
        if symbol and symbol.startswith("_") and home(target) != home(module):
            problems.append(f"line {line}: private {symbol} of {target}")
    assert not problems, f"{module}: " + "; ".join(problems)


def test_the_rule_itself_catches_an_upward_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from isnad.service.search import Searcher\nfrom isnad.indexer.text.lexicon import _words\n")
    found = imports(bad, "indexer.stores.bad")
    assert [(t, s) for t, s, _ in found] == [("service.search", "Searcher"), ("indexer.text.lexicon", "_words")]
    assert layer("service.search")[0] > layer("indexer.stores.bad")[0]


BELOW_THE_EDGE = ("indexer", "service", "eval")  # configuration reaches them as arguments and Settings


@pytest.mark.parametrize("module", sorted(m for m in ALL if m.split(".")[0] in BELOW_THE_EDGE))
def test_no_environment_below_the_edge(module: str) -> None:
    tree = ast.parse(ALL[module].read_text(encoding="utf-8"))
    uses = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name) and node.value.id == "os"
            and node.attr in ("environ", "getenv", "putenv", "unsetenv")]
    assert not uses, f"{module} reads or writes the environment on lines {uses}: take it from Settings or an argument"


@pytest.mark.parametrize("module", sorted(ALL))
def test_every_module_imports(module: str) -> None:
    """A renamed or moved name breaks at import, even in a script no other test runs."""
    importlib.import_module(TOP + module)


def test_no_import_cycles() -> None:
    """No cycle among all imports: one inside a function or under TYPE_CHECKING that only exists to break a
    cycle is still a cycle, so every import counts."""
    graph: dict[str, set[str]] = {}
    for module, path in ALL.items():
        deps = set()
        for base, symbol, _ in imports(path, module):
            full = f"{base}.{symbol}" if symbol and f"{base}.{symbol}" in ALL else base
            if full in ALL and full != module:
                deps.add(full)
        graph[module] = deps
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        for dep in graph[module]:
            assert dep not in path, "import cycle: " + " -> ".join([*path[path.index(dep):], dep])
            if dep not in done:
                visit(dep, [*path, dep])
        done.add(module)

    for module in graph:
        visit(module, [module])
