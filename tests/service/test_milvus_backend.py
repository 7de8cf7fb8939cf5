"""End to end on Milvus: the real sample index built with `isnad index --store milvus` answers the development
questions exactly as the FAISS index does (same top-3 chunks, same filtered results), and re-indexes in place."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from click.testing import CliRunner

from isnad.cli.main import cli
from isnad.indexer.embed import Embedder
from isnad.indexer.index import Index
from isnad.indexer.stores.milvus_store import MilvusStore
from isnad.indexer.types import Chunk, RawDocument, SearchFilters
from isnad.service.live import LiveIndex
from isnad.service.search import Searcher
from isnad.service.settings import Settings
from isnad.service.state import ServiceState
from tests.conftest import CORPUS, ROOT

pytestmark = pytest.mark.slow
DEV_QUESTIONS = ROOT / "data" / "eval" / "seed_qa.dev.jsonl"  # a copy of ../shared/eval/seed_qa.dev.jsonl
FILTERS = [
    SearchFilters(round=4),
    SearchFilters(round=8, published_from="2017-06-01"),
    SearchFilters(doc_id="003_4f86f5c4807d352f"),
    SearchFilters(published_to="2017-12-31"),
    SearchFilters(published_from="2018-01-01", published_to="2018-12-31"),
]


def questions() -> list[str]:
    with DEV_QUESTIONS.open(encoding="utf-8") as fh:
        return [json.loads(line)["question"] for line in fh if line.strip()]


@pytest.fixture(scope="module")
def milvus_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("milvus") / "astana"
    result = CliRunner().invoke(cli, ["index", str(CORPUS), "--index", str(folder), "--store", "milvus",
                                      "--no-progress"])
    assert result.exit_code == 0, result.output
    yield folder
    from milvus_lite.server_manager import server_manager_instance

    server_manager_instance.release_server(str(folder / "milvus.db"))


def test_manifest_records_milvus_and_load_reconnects(milvus_index: Path) -> None:
    index = Index.load(milvus_index)
    assert index.manifest.store == "milvus" and isinstance(index.store, MilvusStore)
    pointer = json.loads((milvus_index / index.manifest.data / "milvus.json").read_text())
    assert pointer["uri"] == "./milvus.db" and pointer["count"] == index.manifest.chunks == len(index.chunks)
    assert not (milvus_index / index.manifest.data / "index.faiss").exists()


def test_same_top3_as_faiss_for_every_dev_question(milvus_index: Path, sample_index: Path,
                                                   embedder: Embedder) -> None:
    faiss_index, milvus = Index.load(sample_index), Index.load(milvus_index)
    assert len(faiss_index.chunks) == len(milvus.chunks)
    asked = questions()
    assert len(asked) >= 20
    vectors = embedder.embed_batch(asked, role="query")
    for store_filters in [None, *FILTERS]:
        by_faiss = faiss_index.store.search(vectors, 3, store_filters)
        by_milvus = milvus.store.search(vectors, 3, store_filters)
        for question, f_hits, m_hits in zip(asked, by_faiss, by_milvus, strict=True):
            f_ids = [_chunk(faiss_index, h.key).chunk_id for h in f_hits]
            m_ids = [_chunk(milvus, h.key).chunk_id for h in m_hits]
            assert m_ids == f_ids, (question, store_filters)
            assert [h.score for h in m_hits] == pytest.approx([h.score for h in f_hits], abs=1e-4)
    filtered = milvus.store.search(vectors[:1], 50, SearchFilters(round=4))[0]
    assert filtered and all(4 in _chunk(milvus, h.key).rounds for h in filtered)
    # through the service's Searcher too (whatever ranking it adds on top of the store)
    f_search, m_search = Searcher(faiss_index, embedder), Searcher(milvus, embedder)
    for question in asked:
        f_top = [r.chunk.chunk_id for r in f_search.search(question, 3).results]
        assert [r.chunk.chunk_id for r in m_search.search(question, 3).results] == f_top, question


def test_reindex_in_place_and_serve_checks_the_store(milvus_index: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    again = runner.invoke(cli, ["index", str(CORPUS), "--index", str(milvus_index), "--store", "milvus",
                                "--no-progress"])
    assert again.exit_code == 0 and "embedded 0 chunks" in again.output, again.output
    # a removed article leaves the collection: its chunks are deleted, nothing is re-embedded
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    removed = sorted(corpus.glob("*.txt"))[-1]
    removed.unlink()
    smaller = runner.invoke(cli, ["index", str(corpus), "--index", str(milvus_index), "--store", "milvus",
                                  "--no-progress"])
    assert smaller.exit_code == 0 and "removed 1" in smaller.output and "embedded 0" in smaller.output
    index = Index.load(milvus_index)
    assert index.store.count() == len(index.chunks) == index.manifest.chunks
    assert removed.stem not in {c.doc_id for c in index.chunks}
    assert index.store.search(_probe(index), 5, SearchFilters(doc_id=removed.stem))[0] == []
    mismatch = runner.invoke(cli, ["serve", "--index", str(milvus_index), "--store", "faiss"])
    assert mismatch.exit_code != 0 and "uses the milvus store" in mismatch.output
    # restore the full corpus for any later test in this module
    assert runner.invoke(cli, ["index", str(CORPUS), "--index", str(milvus_index), "--store", "milvus",
                               "--no-progress"]).exit_code == 0


def _probe(index: Index) -> np.ndarray:
    return np.ones((1, index.store.dim), dtype=np.float32) / np.sqrt(index.store.dim)


def _chunk(index: Index, key: int) -> Chunk:
    return index.chunks[index.chunks.by_key[key]]


def test_an_api_write_keeps_the_milvus_store(milvus_index: Path, embedder: Embedder) -> None:
    """Before: the API's builder always made FAISS stores, so one POST /documents rebuilt a Milvus index as
    FAISS files and re-embedded the whole archive."""
    settings = Settings()
    holder = SimpleNamespace(isnad=ServiceState.open(milvus_index, embedder, settings), settings=settings)
    live = LiveIndex(holder)
    text = "اتفقت الدول الضامنة في أستانا على تمديد وقف إطلاق النار في مناطق خفض التصعيد."
    report = live.write(add=[RawDocument(doc_id="api-milvus-note", text=text, path="api")])
    assert report.embedded_chunks == 1 and report.reused_documents == report.documents - 1
    index = Index.load(milvus_index)
    assert index.manifest.store == "milvus" and isinstance(index.store, MilvusStore)
    assert not (milvus_index / index.manifest.data / "index.faiss").exists()
    hits = index.store.search(_probe(index), 5, SearchFilters(doc_id="api-milvus-note"))[0]
    assert [_chunk(index, h.key).doc_id for h in hits] == ["api-milvus-note"]
    live.write(delete=["api-milvus-note"])  # leave the module's index as the corpus made it
    assert "api-milvus-note" not in Index.load(milvus_index).documents
