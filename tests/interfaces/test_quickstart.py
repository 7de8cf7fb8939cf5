"""The README's Python quickstart, run as written: it indexes the sample folder, answers, and prints the cited
span exactly as the document has it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CORPUS, ROOT

pytestmark = pytest.mark.slow


def quickstart() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quickstart (Python)", 1)[1]
    (code,) = re.findall(r"```python\n(.*?)```", section.split("\n## ", 1)[0], re.S)
    return code


def test_the_quickstart_is_about_ten_lines() -> None:
    assert len(quickstart().strip().splitlines()) <= 12


def test_the_readme_quickstart_runs_and_prints_the_cited_span(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "astana").symlink_to(CORPUS)  # the clone's layout, without writing into the clone
    done = subprocess.run([sys.executable, "-c", quickstart()], cwd=tmp_path, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[0] != "not found" and "[1]" in lines[0]
    doc_id, start, end, cited = lines[1].split(" ", 3)
    text = (CORPUS / f"{doc_id}.txt").read_text(encoding="utf-8")
    assert "22" in cited and cited in text  # the eighth round: 21-22 December
    assert int(end) - int(start) == len(cited)
    hits = lines[2:]
    assert len(hits) == 3 and all(float(h.split()[0]) > 0 for h in hits)
    assert (tmp_path / "index" / "manifest.json").is_file()
