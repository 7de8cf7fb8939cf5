"""End to end on Milvus: `isnad index --store milvus` keeps the whole archive in Milvus (passages, documents, BM25,
vectors) and leaves the folder a pointer; the service searches it exactly as it searches the FAISS index, and API
writes land in Milvus, seen at once by another opening of the same archive (another replica), with no reload."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from isnad.cli.main import cli
from isnad.indexer.changes import UnknownDocumentError
from isnad.indexer.embed import Embedder
from isnad.indexer.index import Index, IndexLoadError
from isnad.indexer.milvus_archive import MilvusArchive, open_index
from isnad.indexer.stores.milvus_tables import PART_CHARS
from isnad.indexer.types import RawDocument, SearchFilters
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


def _archive(folder: Path) -> MilvusArchive:
    archive = open_index(folder)
    assert isinstance(archive, MilvusArchive)
    return archive


def test_the_folder_holds_a_pointer_and_milvus_the_archive(milvus_index: Path, sample_index: Path) -> None:
    archive, faiss_index = _archive(milvus_index), Index.load(sample_index)
    assert archive.manifest.layout == "milvus" and archive.manifest.model == faiss_index.manifest.model
    pointer = json.loads((milvus_index / "milvus.json").read_text())
    assert pointer == {"uri": "./milvus.db", "collection": "isnad_chunks"}
    assert not list(milvus_index.glob("data-*")) and not list(milvus_index.rglob("*.jsonl"))
    assert archive.passage_count() == len(faiss_index.chunks)
    assert sorted(archive.documents) == sorted(faiss_index.documents)
    assert archive.known_rounds() == faiss_index.known_rounds()
    for doc_id in faiss_index.documents:
        assert archive.documents[doc_id] == faiss_index.documents[doc_id]
    with pytest.raises(IndexLoadError, match="open_index"):
        Index.load(milvus_index)


def test_same_results_as_faiss_for_every_dev_question(milvus_index: Path, sample_index: Path,
                                                      embedder: Embedder) -> None:
    faiss_index, archive = Index.load(sample_index), _archive(milvus_index)
    asked = questions()
    assert len(asked) >= 20
    f_search, m_search = Searcher(faiss_index, embedder), Searcher(archive, embedder)
    for question in asked:
        f_top = f_search.search(question, 5).results
        m_top = m_search.search(question, 5).results
        assert [r.chunk for r in m_top] == [r.chunk for r in f_top], question
        assert [r.score for r in m_top] == pytest.approx([r.score for r in f_top], abs=1e-3)
        assert [r.lexical_score for r in m_top] == pytest.approx([r.lexical_score for r in f_top], abs=1e-3)
        for r in m_top:  # offsets round-trip into the document Milvus holds
            assert archive.documents[r.chunk.doc_id].text[r.chunk.start : r.chunk.end] == r.chunk.text
    for filters in FILTERS:  # filtered: the same passages pass (BM25's filtered statistics may reorder them)
        for question in asked[:8]:
            found = m_search.search(question, 5, filters).results
            expected = f_search.search(question, 50, filters).results
            assert {r.chunk.chunk_id for r in found} <= {r.chunk.chunk_id for r in expected}, (question, filters)
            assert len(found) == min(5, len(expected))


def test_reindex_in_place_and_serve_checks_the_store(milvus_index: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    # without --store: the folder's own archive is written again (not turned into FAISS files), nothing embedded
    again = runner.invoke(cli, ["index", str(CORPUS), "--index", str(milvus_index), "--no-progress"])
    assert again.exit_code == 0 and "embedded 0 chunks" in again.output, again.output
    assert isinstance(open_index(milvus_index), MilvusArchive) and not list(milvus_index.glob("data-*"))
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    removed = sorted(corpus.glob("*.txt"))[-1]
    removed.unlink()
    smaller = runner.invoke(cli, ["index", str(corpus), "--index", str(milvus_index), "--store", "milvus",
                                  "--no-progress"])
    assert smaller.exit_code == 0 and "removed 1" in smaller.output and "embedded 0" in smaller.output
    archive = _archive(milvus_index)
    assert removed.stem not in archive.documents
    assert archive.store.keys_of_documents([removed.stem]) == {removed.stem: []}
    mismatch = runner.invoke(cli, ["serve", "--index", str(milvus_index), "--store", "faiss"])
    assert mismatch.exit_code != 0 and "uses the milvus store" in mismatch.output
    assert runner.invoke(cli, ["index", str(CORPUS), "--index", str(milvus_index), "--store", "milvus",
                               "--no-progress"]).exit_code == 0


def test_api_writes_land_in_milvus_and_another_replica_sees_them(milvus_index: Path, embedder: Embedder) -> None:
    settings = Settings()
    holder = SimpleNamespace(isnad=ServiceState.open(milvus_index, embedder, settings), settings=settings)
    live = LiveIndex(holder)
    other = Searcher(_archive(milvus_index), embedder)  # another replica's view: opened before the write
    before = other.index.passage_count()
    text = ("اتفقت الدول الضامنة في أستانا على تمديد وقف إطلاق النار في مناطق خفض التصعيد. "
            "وقال المبعوث إن الجولة المقبلة ستبحث ملف المعتقلين في سهل الغاب.")
    report = live.write(add=[RawDocument(doc_id="api-milvus-note", text=text, path="api")])
    assert report.embedded_chunks >= 1
    found = other.search("تمديد وقف إطلاق النار في مناطق خفض التصعيد", 5, SearchFilters(doc_id="api-milvus-note"))
    assert [r.chunk.doc_id for r in found.results][:1] == ["api-milvus-note"]
    assert other.index.documents["api-milvus-note"].origin == "api"
    assert holder.isnad.index is live.current.index  # nothing was reloaded

    again = live.write(add=[RawDocument(doc_id="api-milvus-note", text=text, path="api")])
    assert again.embedded_chunks == 0 and other.index.passage_count() == before + report.embedded_chunks

    shorter = "مدد الضامنون وقف إطلاق النار."
    live.write(add=[RawDocument(doc_id="api-milvus-note", text=shorter, path="api")])
    assert other.index.documents["api-milvus-note"].text == shorter
    # one passage, of the new version: the longer version's rows are gone, not merely hidden
    rows = other.index.store.keys_of_documents(["api-milvus-note"])["api-milvus-note"]
    assert [version for _, version in rows] == [other.index.documents.hashes_of(["api-milvus-note"])[
        "api-milvus-note"][0]]

    long_text = " ".join(["أعلنت اللجنة المشتركة عن خطوات جديدة في ملف المعتقلين والمفقودين."] * 600)
    assert len(long_text) > 2 * PART_CHARS
    live.write(add=[RawDocument(doc_id="api-milvus-long", text=long_text, path="api")])
    stored = other.index.documents["api-milvus-long"].text
    for r in other.search("ملف المعتقلين والمفقودين", 5, SearchFilters(doc_id="api-milvus-long")).results:
        assert stored[r.chunk.start : r.chunk.end] == r.chunk.text

    live.write(delete=["api-milvus-note", "api-milvus-long"])
    assert "api-milvus-note" not in other.index.documents and other.index.passage_count() == before
    with pytest.raises(UnknownDocumentError):
        live.write(delete=["api-milvus-note"])
