"""One contract every VectorStore implementation must pass.

Subclass `StoreContract` in a test module and provide the `new_store` fixture (a factory taking `dim`) and
`reopen` (save, then load a store from its folder). Vectors here are synthetic unit vectors: the contract is
about storage semantics, not the model. It calls every `VectorStore` method; `close()` runs before another
process opens the same store (milvus-lite lets one process hold a database file).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from isnad.indexer.stores import VectorStore, store_class
from isnad.indexer.types import Chunk, SearchFilters

DIM = 16
ROOT = Path(__file__).resolve().parents[3]


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

    def test_identity_keys_and_vectors(self, new_store: Callable[[int], VectorStore],
                                       reopen: Callable[[VectorStore, Path], VectorStore], tmp_path: Path) -> None:
        store = new_store(DIM)
        assert isinstance(store, VectorStore) and issubclass(type(store), store_class(store.name))
        assert store.index_type and store.all_keys().size == 0
        chunks, vectors = make_chunks(7), unit_vectors(7)
        store.add(chunks, vectors)
        assert store.delete([chunks[3].key]) == 1
        expected = np.sort(np.array([c.key for i, c in enumerate(chunks) if i != 3], dtype=np.int64))
        keys = store.all_keys()
        assert keys.dtype == np.int64 and np.array_equal(keys, expected)
        np.testing.assert_allclose(store.vectors_for([chunks[5].key, chunks[0].key]), vectors[[5, 0]], atol=0.05)
        loaded = reopen(store, tmp_path / "store")
        assert np.array_equal(loaded.all_keys(), expected) and loaded.index_type == store.index_type
        np.testing.assert_allclose(loaded.vectors_for([chunks[6].key]), vectors[[6]], atol=0.05)
        for s in (loaded, store):
            s.close()

    def test_empty_store_and_bad_shapes(self, new_store: Callable[[int], VectorStore]) -> None:
        store = new_store(DIM)
        assert store.count() == 0
        assert store.search(unit_vectors(1), 5) == [[]]
        with pytest.raises(ValueError):
            store.add(make_chunks(2), unit_vectors(3))

    def test_incremental_update_across_generations(self, new_store: Callable[[int], VectorStore],
                                                   reopen: Callable[[VectorStore, Path], VectorStore],
                                                   tmp_path: Path) -> None:
        # What IndexBuilder does on a re-index: load the previous store, delete a changed document's chunks,
        # add its new chunks and a new document, save into the next data folder, load from there.
        first = reopen(_filled(new_store, make_chunks(9, "a"), unit_vectors(9)), tmp_path / "data-1")
        changed = [c for c in make_chunks(9, "a") if c.doc_id == "a1"]
        assert first.delete([c.key for c in changed]) == len(changed)
        rewritten = [Chunk(c.doc_id, c.chunk_id + "v2", 0, 1, "y", None, "2019-03-01", (7,)) for c in changed]
        added = make_chunks(3, "b", "2019-04-01")
        fresh = unit_vectors(len(rewritten) + len(added), seed=5)
        first.add(rewritten + added, fresh)
        second = reopen(first, tmp_path / "data-2")
        assert second.count() == 9 - len(changed) + len(rewritten) + len(added)
        assert second.search(fresh[:1], 1)[0][0].key == rewritten[0].key
        assert {h.key for h in second.search(fresh[:1], 20)[0]}.isdisjoint(c.key for c in changed)
        by_round = second.search(fresh[:1], 20, SearchFilters(round=7))[0]
        assert {h.key for h in by_round} == {c.key for c in rewritten}
        by_date = second.search(fresh[:1], 20, SearchFilters(published_from="2019-01-01", doc_id="b1"))[0]
        assert {h.key for h in by_date} == {c.key for c in added if c.doc_id == "b1"}
        assert second.delete([c.key for c in changed]) == 0  # a rerun deleting the same keys is harmless

    def test_reload_in_a_fresh_process(self, new_store: Callable[[int], VectorStore],
                                       reopen: Callable[[VectorStore, Path], VectorStore], tmp_path: Path) -> None:
        chunks, vectors = make_chunks(10), unit_vectors(10)
        store = _filled(new_store, chunks, vectors)
        loaded = reopen(store, tmp_path / "store")
        for s in (loaded, store):
            s.close()
        np.save(tmp_path / "q.npy", vectors[[2, 6]])
        cls = type(loaded)
        script = (
            "import json, sys\nfrom pathlib import Path\nimport numpy as np\n"
            f"from {cls.__module__} import {cls.__qualname__} as S\n"
            "from indexer.types import SearchFilters\n"
            "s = S.load(Path(sys.argv[1])); q = np.load(sys.argv[2])\n"
            "print(json.dumps({'count': s.count(), 'dim': s.dim, 'top': [r[0].key for r in s.search(q, 1)],"
            " 'round2': sorted(h.key for h in s.search(q[:1], 20, SearchFilters(round=2))[0])}))\n"
        )
        run = subprocess.run([sys.executable, "-c", script, str(tmp_path / "store"), str(tmp_path / "q.npy")],
                             capture_output=True, text=True, cwd=ROOT, timeout=180)
        assert run.returncode == 0, run.stderr[-2000:]
        out = json.loads(run.stdout.strip().splitlines()[-1])
        assert out["count"] == 10 and out["dim"] == DIM
        assert out["top"] == [chunks[2].key, chunks[6].key]
        assert out["round2"] == sorted(c.key for c in chunks if 2 in c.rounds)


def _filled(new_store: Callable[[int], VectorStore], chunks: list[Chunk], vectors: np.ndarray) -> VectorStore:
    store = new_store(DIM)
    store.add(chunks, vectors)
    return store
