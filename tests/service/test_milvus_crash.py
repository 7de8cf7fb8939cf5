"""A Milvus archive's writer killed mid-write (SIGKILL at a named phase, never at a time) against a real milvus-lite
server: the acknowledged version of every document stays whole and is what search shows (citations round-trip);
the half-written version is invisible; the killed writer's lease expires; the rerun completes and leaves only the
new version's passages."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from isnad.indexer import phases
from isnad.indexer.embed import Embedder
from isnad.indexer.milvus_archive import MilvusArchive, open_index
from isnad.service.search import Searcher
from tests.milvus_server import MilvusServer, milvus_server
from tests.service.test_crash_and_reload import _changed_corpus, _index_until_paused

pytestmark = pytest.mark.slow
ADDED = "فقرة أضيفت لإعادة الفهرسة بعد التعديل"  # what _changed_corpus appends to the first article


@pytest.fixture
def milvus(tmp_path: Path) -> Iterator[MilvusServer]:
    with milvus_server(tmp_path / "milvus-data") as server:
        yield server


def _index(corpus: Path, index: Path, uri: str, env: dict[str, str] | None = None) -> None:
    done = subprocess.run([sys.executable, "-m", "isnad.cli.main", "index", str(corpus), "--index", str(index),
                           "--store", "milvus", "--milvus-uri", uri, "--no-progress"],
                          capture_output=True, text=True, timeout=600, env={**os.environ, **(env or {})})
    assert done.returncode == 0, done.stderr[-3000:]


def _open(index: Path) -> MilvusArchive:
    archive = open_index(index)
    assert isinstance(archive, MilvusArchive)
    return archive


def test_a_writer_killed_before_the_heads_move_loses_nothing(milvus: MilvusServer, tmp_path: Path,
                                                             embedder: Embedder) -> None:
    from tests.conftest import CORPUS

    index = tmp_path / "index"
    _index(CORPUS, index, milvus.uri)  # acknowledged: the original five articles
    before = _open(index)
    first = sorted(before.documents)[0]
    acknowledged = before.documents[first].text
    count = before.passage_count()

    corpus = _changed_corpus(tmp_path, everything=False)  # the first article gains a paragraph
    os.environ["ISNAD_WRITE_LEASE_S"] = "5"  # the killed writer keeps others out 5 s, not a minute
    try:
        paused = _index_until_paused(phases.BEFORE_HEADS, corpus, index, tmp_path / "marker",
                                     ["--store", "milvus", "--milvus-uri", milvus.uri])
    finally:
        del os.environ["ISNAD_WRITE_LEASE_S"]
    assert int(paused["embedded"]) > 0  # new passages were written into Milvus when it died

    after = _open(index)
    assert after.passage_count() > count  # the half-written version's rows are there ...
    assert after.documents[first].text == acknowledged  # ... but the document is the acknowledged version
    searcher = Searcher(after, embedder)
    for question in ("مناطق خفض التصعيد", ADDED, "Astana talks ceasefire"):
        for r in searcher.search(question, 10).results:  # ... and search shows only its passages
            assert after.documents[r.chunk.doc_id].text[r.chunk.start : r.chunk.end] == r.chunk.text
            assert ADDED not in r.chunk.text

    _index(corpus, index, milvus.uri, {"ISNAD_WRITE_LEASE_S": "5"})  # the rerun waits out the lease, completes
    done = _open(index)
    assert ADDED in done.documents[first].text
    current = done.documents.hashes_of([first])[first][0]
    assert {version for _, version in done.store.keys_of_documents([first])[first]} == {current}
    top = Searcher(done, embedder).search(ADDED, 3).results
    assert top and top[0].chunk.doc_id == first and ADDED in top[0].chunk.text
