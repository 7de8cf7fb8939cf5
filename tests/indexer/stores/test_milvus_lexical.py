"""BM25 inside Milvus (the archive's passages collection, `MilvusPassages.lexical`) scores the sample corpus
exactly as bm25s (`LexicalIndex`) does: the same candidates with the same scores for every development question's
analyzed terms (expansions weighted); and a write is an idempotent upsert. Filtered BM25 is not compared:
milvus-lite scores it with the filtered rows' statistics (see indexer/stores/milvus_lexical.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from isnad.indexer.stores.milvus_tables import MilvusPassages
from isnad.service.state import ServiceState
from tests.service.test_milvus_backend import questions

N = 100  # the hybrid search's candidates per signal (SearchConfig.candidates)


@pytest.fixture(scope="module")
def lexical(tmp_path_factory: pytest.TempPathFactory, service_state: ServiceState) -> Iterator[MilvusPassages]:
    uri = str(tmp_path_factory.mktemp("lexical") / "milvus.db")
    store = _passages(uri, "bm25", service_state, len(service_state.index.chunks))
    yield store
    store.close()
    from milvus_lite.server_manager import server_manager_instance

    server_manager_instance.release_server(str(Path(uri).resolve()))


def _terms(service_state: ServiceState, question: str) -> list[str] | dict[str, float]:
    analyzed = service_state.searcher.search(question, k=1).analyzed  # the service's own analysis
    assert analyzed is not None
    return analyzed.weighted_terms() if analyzed.expansions else [*analyzed.terms, *analyzed.bridge_terms]


def test_same_candidates_and_scores_as_bm25s(lexical: MilvusPassages, service_state: ServiceState) -> None:
    index = service_state.index
    weighted = 0
    for question in questions():
        terms = _terms(service_state, question)
        weighted += isinstance(terms, dict)
        ref = {index.chunks[row].key: score for row, score in index.lexical.search_terms(terms, N)}
        got = {h.key: h.score for h in lexical.lexical(terms, N)}
        assert got.keys() == ref.keys(), question  # the sample has fewer matching chunks than N: all of them
        for key, score in got.items():
            assert score == pytest.approx(ref[key], rel=1e-4, abs=1e-5), question
    assert weighted > 0  # some questions carry lexicon expansions: the weighted path was exercised


def test_upsert_is_idempotent_and_delete_removes(tmp_path: Path, service_state: ServiceState) -> None:
    uri = str(tmp_path / "milvus.db")
    store = _passages(uri, "writes", service_state, 10)
    try:
        chunks = list(service_state.index.chunks)[:10]
        store.add(chunks[:4], service_state.index.store.vectors_for([c.key for c in chunks[:4]]))  # a retry
        assert {key: chunk for key, (chunk, _) in store.passages([c.key for c in chunks]).items()} == \
            {c.key: c for c in chunks}
        assert store.count() == 10
        store.delete([chunks[0].key, chunks[0].key, 12345])
        assert store.count() == 9
    finally:
        store.close()
        from milvus_lite.server_manager import server_manager_instance

        server_manager_instance.release_server(str(Path(uri).resolve()))


def _passages(uri: str, collection: str, service_state: ServiceState, n: int) -> MilvusPassages:
    """A passages collection holding the sample index's first `n` chunks with their vectors."""
    index = service_state.index
    chunks = list(index.chunks)[:n]
    store = MilvusPassages(index.store.dim, uri, collection)
    store.add(chunks, index.store.vectors_for([c.key for c in chunks]))
    return store
