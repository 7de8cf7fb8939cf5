"""One contract every VectorStore implementation must pass.

Subclass `StoreContract` in a test module and provide the `new_store` fixture (a factory taking `dim`) and
`reopen` (save, then load a store from its folder). Vectors here are synthetic unit vectors: the contract is
about storage semantics, not the model.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from indexer.store import VectorStore
from indexer.types import Chunk, SearchFilters

DIM = 16


def make_chunks(n: int, doc: str = "d", published: str | None = "2018-01-01") -> list[Chunk]:
    return [
        Chunk(doc_id=f"{doc}{i % 3}", chunk_id=f"{doc}{i % 3}#{i}", start=0, end=1, text="x",
              published=published, rounds=(i % 4 + 1,))
        for i in range(n)
    ]


def unit_vectors(n: int, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


class StoreContract:
    @pytest.fixture
    def new_store(self) -> Callable[[int], VectorStore]:
        raise NotImplementedError

    @pytest.fixture
    def reopen(self) -> Callable[[VectorStore, Path], VectorStore]:
        raise NotImplementedError

    def test_nearest_vector_ranks_first(self, new_store: Callable[[int], VectorStore]) -> None:
        store = new_store(DIM)
        chunks, vectors = make_chunks(12), unit_vectors(12)
        store.add(chunks, vectors)
        assert store.count() == 12
        hits = store.search(vectors[[3, 7]], k=3)
        assert [h[0].key for h in hits] == [chunks[3].key, chunks[7].key]
        assert hits[0][0].score == pytest.approx(1.0, abs=1e-3)
        assert hits[0][0].score >= hits[0][1].score >= hits[0][2].score

    def test_add_is_an_upsert_and_delete_removes(self, new_store: Callable[[int], VectorStore]) -> None:
        store = new_store(DIM)
        chunks, vectors = make_chunks(6), unit_vectors(6)
        store.add(chunks, vectors)
        store.add(chunks[:2], unit_vectors(2, seed=9))  # same keys, new vectors
        assert store.count() == 6
        assert store.search(unit_vectors(2, seed=9)[:1], k=1)[0][0].key == chunks[0].key
        assert store.delete([chunks[0].key, chunks[1].key, 12345]) == 2
        assert store.count() == 4
        keys = {h.key for h in store.search(vectors[:1], k=10)[0]}
        assert chunks[0].key not in keys and len(keys) == 4

    def test_filters(self, new_store: Callable[[int], VectorStore]) -> None:
        store = new_store(DIM)
        old, new = make_chunks(6, "a", "2017-05-04"), make_chunks(6, "b", "2018-05-14")
        store.add(old + new, unit_vectors(12))
        query = unit_vectors(1, seed=3)
        by_doc = store.search(query, 10, SearchFilters(doc_id="a1"))[0]
        assert by_doc and {h.key for h in by_doc} == {c.key for c in old if c.doc_id == "a1"}
        by_round = store.search(query, 10, SearchFilters(round=2))[0]
        assert {h.key for h in by_round} == {c.key for c in old + new if 2 in c.rounds}
        by_date = store.search(query, 10, SearchFilters(published_from="2018-01-01"))[0]
        assert {h.key for h in by_date} == {c.key for c in new}
        until = store.search(query, 10, SearchFilters(published_to="2017-12-31", round=1))[0]
        assert {h.key for h in until} == {c.key for c in old if 1 in c.rounds}
        assert store.search(query, 10, SearchFilters(doc_id="nope"))[0] == []

    def test_save_and_reload(self, new_store: Callable[[int], VectorStore],
                             reopen: Callable[[VectorStore, Path], VectorStore], tmp_path: Path) -> None:
        store = new_store(DIM)
        chunks, vectors = make_chunks(8), unit_vectors(8)
        store.add(chunks, vectors)
        store.delete([chunks[0].key])
        loaded = reopen(store, tmp_path / "store")
        assert loaded.count() == 7 and loaded.dim == DIM
        assert loaded.search(vectors[5:6], 1)[0][0].key == chunks[5].key
        assert loaded.search(vectors[5:6], 3, SearchFilters(round=chunks[5].rounds[0]))[0][0].key == chunks[5].key

    def test_empty_store_and_bad_shapes(self, new_store: Callable[[int], VectorStore]) -> None:
        store = new_store(DIM)
        assert store.count() == 0
        assert store.search(unit_vectors(1), 5) == [[]]
        with pytest.raises(ValueError):
            store.add(make_chunks(2), unit_vectors(3))
