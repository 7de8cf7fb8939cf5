"""Vector stores behind one seam: FAISS in-process now, a distributed engine behind the same protocol later.

Scores are inner products of L2-normalized vectors (cosine similarity); higher is better.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import faiss
import numpy as np

from indexer.types import Chunk, Hit, SearchFilters

FAISS_FILE = "index.faiss"
FILTER_META_FILE = "filter_meta.json"


class StoreError(RuntimeError):
    """The store's files are missing, corrupt or inconsistent."""


@runtime_checkable
class VectorStore(Protocol):
    dim: int

    def add(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None: ...

    def search(self, vectors: np.ndarray, k: int, filters: SearchFilters | None = None) -> list[list[Hit]]: ...

    def delete(self, keys: Sequence[int]) -> int: ...

    def count(self) -> int: ...

    def save(self, folder: Path) -> None: ...

    @classmethod
    def load(cls, folder: Path) -> VectorStore: ...


class FaissStore:
    """Exact inner-product search over an `IndexIDMap2(IndexFlatIP)` keyed by `Chunk.key`.

    It keeps the few fields filters need (doc_id, published, rounds) so filtered search happens inside
    FAISS through an ID selector rather than by over-fetching.
    """

    def __init__(self, dim: int, index: faiss.Index | None = None) -> None:
        if dim < 1:
            raise ValueError("dim must be positive")
        self.dim = dim
        self._index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self._meta: dict[int, tuple[str, str | None, tuple[int, ...]]] = {}

    def add(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape != (len(chunks), self.dim):
            raise ValueError(f"expected vectors of shape ({len(chunks)}, {self.dim}), got {vectors.shape}")
        if not chunks:
            return
        keys = np.fromiter((c.key for c in chunks), dtype=np.int64, count=len(chunks))
        existing = [int(k) for k in keys if int(k) in self._meta]
        if existing:
            self.delete(existing)  # add is an upsert: a re-added chunk replaces its old vector
        self._index.add_with_ids(vectors, keys)
        for chunk in chunks:
            self._meta[chunk.key] = (chunk.doc_id, chunk.published, chunk.rounds)

    def search(self, vectors: np.ndarray, k: int, filters: SearchFilters | None = None) -> list[list[Hit]]:
        vectors = np.ascontiguousarray(np.atleast_2d(vectors), dtype=np.float32)
        if k < 1 or self.count() == 0:
            return [[] for _ in range(len(vectors))]
        params = None
        if filters is not None and not filters.is_empty():
            allowed = self.matching_keys(filters)
            if allowed.size == 0:
                return [[] for _ in range(len(vectors))]
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed))
        scores, keys = self._index.search(vectors, min(k, self.count()), params=params)
        return [
            [Hit(int(key), float(score)) for key, score in zip(row_keys, row_scores, strict=True) if key >= 0]
            for row_keys, row_scores in zip(keys, scores, strict=True)
        ]

    def matching_keys(self, filters: SearchFilters) -> np.ndarray:
        probe = Chunk  # filters are defined on chunks; build a light stand-in per stored entry
        keys = [
            key
            for key, (doc_id, published, rounds) in self._meta.items()
            if filters.accepts(probe(doc_id, "", 0, 0, "", None, published, rounds))
        ]
        return np.asarray(keys, dtype=np.int64)

    def delete(self, keys: Sequence[int]) -> int:
        present = [int(k) for k in keys if int(k) in self._meta]
        if not present:
            return 0
        removed = int(self._index.remove_ids(np.asarray(present, dtype=np.int64)))
        for key in present:
            del self._meta[key]
        return removed

    def count(self) -> int:
        return int(self._index.ntotal)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self._index, str(folder / FAISS_FILE))
        meta = [[key, doc_id, published, list(rounds)] for key, (doc_id, published, rounds) in self._meta.items()]
        (folder / FILTER_META_FILE).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> FaissStore:
        index_path, meta_path = folder / FAISS_FILE, folder / FILTER_META_FILE
        if not index_path.is_file() or not meta_path.is_file():
            raise StoreError(f"FAISS store files missing in {folder}")
        try:
            index = faiss.read_index(str(index_path))
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (RuntimeError, ValueError) as exc:
            raise StoreError(f"FAISS store in {folder} is unreadable: {exc}") from exc
        store = cls(index.d, index)
        store._meta = {int(k): (d, p, tuple(r)) for k, d, p, r in meta}
        if len(store._meta) != store.count():
            raise StoreError(f"FAISS store in {folder} is inconsistent: {store.count()} vectors, "
                             f"{len(store._meta)} metadata entries")
        return store

    def vectors_for(self, keys: Sequence[int]) -> np.ndarray:
        """Stored vectors for keys (used to carry unchanged chunks into a rebuilt index)."""
        out = np.empty((len(keys), self.dim), dtype=np.float32)
        for i, key in enumerate(keys):
            out[i] = self._index.reconstruct(int(key))
        return out
