"""The wheel, built from this checkout and installed into a fresh virtualenv outside it, indexes and answers.

Catches what a green run in the repo hides: a data file read from the repo instead of the package, a module
missing from the package list, a dependency only the test environment has. The install resolves from the
registries (and the pip cache), never from the repo's .venv.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _run(*args: str | Path, cwd: Path) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{args}: {done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "build", "--wheel", "--outdir", out, ROOT, cwd=out)
    (found,) = out.glob("isnad-*.whl")
    return found


def test_the_wheel_is_one_small_package_without_tests_or_corpora(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names} == {"isnad", wheel.name.split("-py3")[0] + ".dist-info"}
    assert not [n for n in names if "/tests/" in n or "astana" in n or "/eval/results/" in n]
    for needed in ("isnad/indexer/text/data/lexicon_en_ar.tsv", "isnad/indexer/text/data/english_words.txt",
                   "isnad/service/static/index.html"):
        assert needed in names
    assert any(n.startswith("isnad/service/data/answerability/") for n in names)
    assert "isnad/indexer/reader/data/reader.npz" in names  # the trained reader ships in the package
    reader = (ROOT / "indexer" / "reader" / "data" / "reader.npz").stat().st_size
    assert wheel.stat().st_size < 3_000_000 + reader  # the code and small data stay small beside the reader


def test_the_installed_wheel_indexes_and_answers_outside_the_repo(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    _run(venv / "bin" / "python", "-m", "pip", "install", "-q", wheel, cwd=tmp_path)
    corpus = Path(shutil.copytree(ROOT / "data" / "astana", tmp_path / "corpus"))
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    isnad = venv / "bin" / "isnad"
    _run(isnad, "index", corpus, "--index", tmp_path / "idx", cwd=empty)
    answer = json.loads(_run(isnad, "ask", "متى عقدت الجولة الثامنة؟", "--index", tmp_path / "idx", "--json",
                             cwd=empty))
    assert not answer["abstained"] and answer["citations"] and answer["answer_span"], answer
    for citation in answer["citations"]:
        document = json.loads(_run(venv / "bin" / "python", "-c",
                                   "import json, sys; from isnad.indexer.index import Index; "
                                   "d = Index.load(sys.argv[1]).documents.get(sys.argv[2]); print(json.dumps(d.text))",
                                   tmp_path / "idx", citation["doc_id"], cwd=empty))
        assert document[citation["start"]:citation["end"]] == citation["text"]
    # serving needs no torch: `make run` and a plain install stay small
    probe = subprocess.run([venv / "bin" / "python", "-c", "import torch"], capture_output=True, cwd=empty)
    assert probe.returncode != 0
    # eval and bench need the repository's data: the installed command names the missing folders
    missing = subprocess.run([isnad, "eval", "--no-answers"], capture_output=True, text=True, cwd=empty)
    assert missing.returncode != 0 and "data/eval" in missing.stderr, missing.stderr[-1000:]
    assert list(empty.iterdir()) == []  # nothing written to the working directory
