"""The `VectorStore` seam: everything the index, the builder and the service call on a vector store.

Scores are inner products of L2-normalized vectors (cosine similarity); higher is better. Keys are `Chunk.key`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from isnad.indexer.types import Chunk, Hit, SearchFilters


class StoreError(RuntimeError):
    """The store's files are missing, corrupt or inconsistent, or its server cannot be reached."""


class StoreUnavailable(StoreError):
    """The store's server did not answer (down, restarting, unreachable); the message names where it runs.

    Transient by nature: the service answers 503 and the next request tries again.
    """


@runtime_checkable
class VectorStore(Protocol):
    name: str  # recorded in the manifest; the registry maps it back to the class
    dim: int

    @property
    def index_type(self) -> str:
        """The vector index in use now (e.g. "flat", "ivf", "FLAT", "HNSW"), for reports."""
        ...

    def add(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Upsert: a chunk whose key is stored already replaces its old vector."""
        ...

    def search(self, vectors: np.ndarray, k: int, filters: SearchFilters | None = None) -> list[list[Hit]]: ...

    def delete(self, keys: Sequence[int]) -> int:
        """Remove keys; return how many were present."""
        ...

    def count(self) -> int: ...

    def all_keys(self) -> np.ndarray:
        """Every stored key, sorted ascending (int64)."""
        ...

    def vectors_for(self, keys: Sequence[int]) -> np.ndarray:
        """The stored vectors of keys, one float32 row each (approximate for quantized indexes)."""
        ...

    def save(self, folder: Path) -> None: ...

    @classmethod
    def load(cls, folder: Path, *, uri: str | None = None) -> VectorStore:
        """Open the store saved in `folder`; `uri` overrides where a server-backed store's data lives."""
        ...

    def close(self) -> None:
        """Release connections and files (a no-op for in-process stores)."""
        ...

    def problem(self) -> str | None:
        """None while the store answers; otherwise why not, naming where it runs (what /health shows)."""
        ...
