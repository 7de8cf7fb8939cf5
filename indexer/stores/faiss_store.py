"""`VectorStore` in-process on FAISS: exact below `APPROX_THRESHOLD` vectors, IVF-SQ8 above.

Scores are inner products of L2-normalized vectors (cosine similarity); higher is better.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import faiss
import numpy as np

from isnad.indexer.stores.base import StoreError
from isnad.indexer.stores.filters import FilterTable
from isnad.indexer.types import Chunk, Hit, SearchFilters

FAISS_FILE = "index.faiss"
IndexKind = Literal["auto", "flat", "ivf"]
# Exact search scans every vector: ~10-25 ms per query at 100k x 384 on one core, linear beyond. From this
# size on the store switches to IVF-SQ8 (4x smaller, scans a quarter of the lists), see models.md (Speed).
APPROX_THRESHOLD = 100_000
NPROBE_FRACTION = 4  # nlist/16 gave recall@10 0.75 on the benchmark's cone-shaped vectors; nlist/4 ~0.95
MIN_NPROBE = 8
# Measured at 1M (nlist 1000, 1 thread): nprobe 128 / 250 -> recall@10 0.970 / 0.975, 11.6 / 17.9 ms; the
# plateau is SQ8's own error, so probing past ~128 lists buys little and costs latency linearly.
MAX_NPROBE = 128
# A store converts to IVF once, at APPROX_THRESHOLD vectors, and keeps those centroids as it grows; its lists
# are sized for 10x growth (1000 lists at 100k) so that at 1M they are ~1000 long, not ~3000.
IVF_GROWTH = 10


# faiss's OpenMP thread count belongs to the calling thread: omp_set_num_threads in one thread leaves every
# other (each request thread of the server) at one thread per core. So the limit is applied per searching thread.
_search_threads: int | None = None
_thread_limit = threading.local()


def set_search_threads(n: int | None) -> None:
    """OpenMP threads for each FAISS search from now on, in whichever thread it runs (None: faiss's default)."""
    global _search_threads
    if n is not None and n < 1:
        raise ValueError("search threads must be at least 1")
    _search_threads = n


def _limit_search_threads() -> None:
    n = _search_threads
    if n is not None and getattr(_thread_limit, "n", None) != n:
        faiss.omp_set_num_threads(n)
        _thread_limit.n = n


class FaissStore:
    """Inner-product search keyed by `Chunk.key`; the index type follows the size.

    - `flat`: exact `IndexIDMap2(IndexFlatIP)`, used below `APPROX_THRESHOLD` vectors.
    - `ivf`: `IndexIVFScalarQuantizer` (8-bit, inner product, ids stored in the lists), built from the flat
      vectors the first time the store crosses the threshold (or at once when `kind="ivf"`). IVF, unlike
      HNSW, supports `remove_ids`, so deletes and upserts stay exact without tombstones. Its centroids are
      trained on the vectors present at conversion; later adds are assigned to them.

    It keeps the few fields filters need (doc_id, published, rounds) so filtered search happens inside
    FAISS through an ID selector rather than by over-fetching.
    """

    name = "faiss"

    def __init__(self, dim: int, index: faiss.Index | None = None, kind: IndexKind = "auto") -> None:
        if dim < 1:
            raise ValueError("dim must be positive")
        if kind not in ("auto", "flat", "ivf"):
            raise ValueError(f"kind must be auto, flat or ivf, not {kind!r}")
        self.dim = dim
        self.kind = kind
        self._index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self._meta = FilterTable()

    @property
    def index_type(self) -> str:
        return "ivf" if isinstance(self._index, faiss.IndexIVF) else "flat"

    def add(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape != (len(chunks), self.dim):
            raise ValueError(f"expected vectors of shape ({len(chunks)}, {self.dim}), got {vectors.shape}")
        if not chunks:
            return
        keys = np.fromiter((c.key for c in chunks), dtype=np.int64, count=len(chunks))
        existing = keys[self._meta.contains(keys)]
        if existing.size:
            self.delete(existing)  # add is an upsert: a re-added chunk replaces its old vector
        self._index.add_with_ids(vectors, keys)
        self._meta.add(chunks)
        wants_ivf = self.kind == "ivf" or (self.kind == "auto" and self.count() >= APPROX_THRESHOLD)
        if wants_ivf and self.index_type == "flat":
            self._index = _ivf_from_flat(self._index, self.dim)

    def problem(self) -> str | None:
        return None  # in this process: it answers whenever the process does

    def search(self, vectors: np.ndarray, k: int, filters: SearchFilters | None = None) -> list[list[Hit]]:
        vectors = np.ascontiguousarray(np.atleast_2d(vectors), dtype=np.float32)
        if k < 1 or self.count() == 0:
            return [[] for _ in range(len(vectors))]
        _limit_search_threads()
        sel, allowed = None, None
        if filters is not None and not filters.is_empty():
            allowed = self.matching_keys(filters)
            if allowed.size == 0:
                return [[] for _ in range(len(vectors))]
            sel = faiss.IDSelectorBatch(allowed)  # a local: it must outlive the search call
        if isinstance(self._index, faiss.IndexIVF):
            params = self._ivf_params(sel, None if allowed is None else len(allowed))
        else:
            params = faiss.SearchParameters(sel=sel) if sel is not None else None
        scores, keys = self._index.search(vectors, min(k, self.count()), params=params)
        return [
            [Hit(int(key), float(score)) for key, score in zip(row_keys, row_scores, strict=True) if key >= 0]
            for row_keys, row_scores in zip(keys, scores, strict=True)
        ]

    def _ivf_params(self, sel: faiss.IDSelector | None, allowed: int | None) -> faiss.SearchParametersIVF:
        index = self._index
        nprobe = index.nprobe
        if allowed is not None:
            # A selective filter leaves few candidates in the probed lists: probe proportionally more
            # (all lists for a single document), so filtered results stay complete.
            nprobe = min(index.nlist, math.ceil(nprobe * self.count() / max(allowed, 1)))
        return faiss.SearchParametersIVF(sel=sel, nprobe=nprobe) if sel else faiss.SearchParametersIVF(nprobe=nprobe)

    def matching_keys(self, filters: SearchFilters) -> np.ndarray:
        return self._meta.matching_keys(filters)

    def all_keys(self) -> np.ndarray:
        """Every stored key, sorted (the index checks them against its chunks on load)."""
        return self._meta.all_keys()

    def delete(self, keys: Sequence[int] | np.ndarray) -> int:
        present = self._meta.remove(np.asarray(keys, dtype=np.int64))
        if not present.size:
            return 0
        return int(self._index.remove_ids(present))

    def count(self) -> int:
        return int(self._index.ntotal)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self._index, str(folder / FAISS_FILE))
        self._meta.save(folder)

    @classmethod
    def load(cls, folder: Path, *, uri: str | None = None) -> FaissStore:
        """The store saved in `folder` (`uri` is for server-backed stores: FAISS lives in the folder)."""
        index_path = folder / FAISS_FILE
        if not index_path.is_file() or not FilterTable.exists(folder):
            raise StoreError(f"FAISS store files missing in {folder}")
        try:
            index = faiss.read_index(str(index_path))
            meta = FilterTable.load(folder)
        except (RuntimeError, ValueError, OSError, KeyError) as exc:
            raise StoreError(f"FAISS store in {folder} is unreadable: {exc}") from exc
        store = cls(index.d, index)
        store._meta = meta
        if len(store._meta) != store.count():
            raise StoreError(f"FAISS store in {folder} is inconsistent: {store.count()} vectors, "
                             f"{len(store._meta)} metadata entries")
        return store

    def close(self) -> None:
        """Nothing to release: the index is in this process' memory."""

    def vectors_for(self, keys: Sequence[int]) -> np.ndarray:
        """Stored vectors for keys (used to carry unchanged chunks into a rebuilt index); IVF ones are decoded."""
        if isinstance(self._index, faiss.IndexIVF) and self._index.direct_map.type != faiss.DirectMap.Hashtable:
            self._index.set_direct_map_type(faiss.DirectMap.Hashtable)
        out = np.empty((len(keys), self.dim), dtype=np.float32)
        for i, key in enumerate(keys):
            out[i] = self._index.reconstruct(int(key))
        return out


def nlist_for(n: int) -> int:
    """~sqrt(n) lists, at least 39 training points each (faiss's floor), at most 4096 to bound training."""
    return max(1, min(4096, int(math.sqrt(n)), n // 39))


def _ivf_from_flat(flat: faiss.IndexIDMap2, dim: int) -> faiss.IndexIVF:
    n = int(flat.ntotal)
    vectors = faiss.rev_swig_ptr(faiss.downcast_index(flat.index).get_xb(), n * dim).reshape(n, dim).copy()
    ids = faiss.vector_to_array(flat.id_map).astype(np.int64)
    return build_ivf(vectors, ids, dim, nlist=store_nlist(n))


def store_nlist(n: int) -> int:
    """Lists of an IVF that a store converts to at n vectors (it keeps them while it grows)."""
    return nlist_for(IVF_GROWTH * n)


def build_ivf(vectors: np.ndarray, ids: np.ndarray, dim: int, nlist: int | None = None) -> faiss.IndexIVF:
    """Train an IVF-SQ8 inner-product index on (a sample of) vectors and add them under their ids."""
    n = len(vectors)
    nlist = nlist or nlist_for(n)
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFScalarQuantizer(quantizer, dim, nlist, faiss.ScalarQuantizer.QT_8bit,
                                          faiss.METRIC_INNER_PRODUCT)
    index.own_fields = True
    quantizer.this.disown()  # the IVF index frees its quantizer
    sample = vectors if n <= 64 * nlist else vectors[np.random.default_rng(0).choice(n, 64 * nlist, replace=False)]
    index.cp.max_points_per_centroid = 64  # k-means on <= 64 points per list: seconds, not minutes, at 1M
    index.cp.min_points_per_centroid = 1  # tiny forced-IVF stores (tests) train on what they have, quietly
    index.train(np.ascontiguousarray(sample, dtype=np.float32))
    index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.ascontiguousarray(ids, dtype=np.int64))
    index.nprobe = min(nlist, max(MIN_NPROBE, min(MAX_NPROBE, nlist // NPROBE_FRACTION)))
    return index
