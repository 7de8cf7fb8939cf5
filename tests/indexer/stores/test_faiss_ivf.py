"""The store contract again with the approximate IVF-SQ8 index forced, plus the size-based switch."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from isnad.indexer.stores import FaissStore, VectorStore
from isnad.indexer.stores import faiss_store as store_module
from isnad.indexer.types import SearchFilters
from tests.indexer.stores.store_contract import DIM, StoreContract, make_chunks, unit_vectors


class TestFaissStoreIVF(StoreContract):
    @pytest.fixture
    def new_store(self) -> Callable[[int], VectorStore]:
        return partial(FaissStore, kind="ivf")

    @pytest.fixture
    def reopen(self) -> Callable[[VectorStore, Path], VectorStore]:
        def _reopen(store: VectorStore, folder: Path) -> VectorStore:
            store.save(folder)
            loaded = FaissStore.load(folder)
            assert loaded.index_type == "ivf"
            return loaded

        return _reopen

    def test_nearest_vector_ranks_first(self, new_store: Callable[[int], VectorStore]) -> None:
        # Same as the contract, but scores are decoded from 8-bit codes: close to, not exactly, the cosine.
        store = new_store(DIM)
        chunks, vectors = make_chunks(12), unit_vectors(12)
        store.add(chunks, vectors)
        hits = store.search(vectors[[3, 7]], k=3)
        assert [h[0].key for h in hits] == [chunks[3].key, chunks[7].key]
        assert hits[0][0].score == pytest.approx(1.0, abs=1e-2)
        assert hits[0][0].score >= hits[0][1].score >= hits[0][2].score


def test_auto_switches_to_ivf_past_the_threshold_and_keeps_deletes_and_filters(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(store_module, "APPROX_THRESHOLD", 200)
    store = FaissStore(16)
    chunks, vectors = make_chunks(300), unit_vectors(300)
    store.add(chunks[:150], vectors[:150])
    assert store.index_type == "flat"
    store.add(chunks[150:], vectors[150:])
    assert store.index_type == "ivf" and store.count() == 300
    assert store.search(vectors[10:11], 1)[0][0].key == chunks[10].key
    assert store.delete([chunks[10].key]) == 1 and store.count() == 299
    assert chunks[10].key not in {h.key for h in store.search(vectors[10:11], 5)[0]}
    target = chunks[11]
    only = store.search(vectors[11:12], 50, SearchFilters(doc_id=target.doc_id, round=target.rounds[0]))[0]
    expected = {c.key for c in chunks if c.doc_id == target.doc_id and target.rounds[0] in c.rounds}
    assert only[0].key == target.key and {h.key for h in only} == expected - {chunks[10].key}
    store.save(tmp_path)
    again = FaissStore.load(tmp_path)
    assert again.index_type == "ivf" and again.count() == 299
    np.testing.assert_allclose(again.vectors_for([chunks[12].key])[0], vectors[12], atol=0.05)
