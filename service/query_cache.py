"""A bounded LRU of query vectors, keyed by the model id and the normalized query text.

A vector depends on the text alone, so nothing invalidates an entry: reloads and writes change the
index, not what a question embeds to. Queries are normalized before they are embedded too (NFKC, which
the model's tokenizer applies anyway, and collapsed whitespace), so a cached vector is exactly the one a
fresh call would return. Passages pass straight through.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from isnad.indexer.embed import Embedder, Role
from isnad.service.metrics import QUERY_CACHE_HITS, QUERY_CACHE_MISSES

DEFAULT_SIZE = 8192  # 8192 x 384 float32 = 12 MB
_SPACE = re.compile(r"\s+")


def normalize_query(text: str) -> str:
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip()


class CachedQueryEmbedder:
    """An `Embedder` that answers repeated queries from memory; `size=0` turns the cache off."""

    def __init__(self, inner: Embedder, size: int = DEFAULT_SIZE) -> None:
        if size < 0:
            raise ValueError("the query cache size must be 0 (off) or more")
        self.inner = inner
        self.model_id = inner.model_id
        self.dim = inner.dim
        self.size = size
        self.hits = 0
        self.misses = 0
        self._vectors: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def background(self) -> Embedder:
        """For bulk work no request waits on (the bridge's vocabulary): past the cache, on a background lane."""
        return getattr(self.inner, "background", self.inner)

    def __len__(self) -> int:
        return len(self._vectors)

    @property
    def hit_rate(self) -> float:
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else 0.0

    def embed_batch(self, texts: Sequence[str], role: Role) -> np.ndarray:
        if role != "query" or not texts:
            return self.inner.embed_batch(texts, role)
        keys = [(self.model_id, normalize_query(t)) for t in texts]
        found: dict[int, np.ndarray] = {}
        with self._lock:
            for i, key in enumerate(keys):
                vector = self._vectors.get(key)
                if vector is not None:
                    self._vectors.move_to_end(key)
                    found[i] = vector
            self.hits += len(found)
            self.misses += len(keys) - len(found)
        QUERY_CACHE_HITS.inc(len(found))
        QUERY_CACHE_MISSES.inc(len(keys) - len(found))
        missing = [i for i in range(len(keys)) if i not in found]
        if missing:
            fresh = self.inner.embed_batch([keys[i][1] for i in missing], role)
            with self._lock:
                for i, vector in zip(missing, fresh, strict=True):
                    found[i] = vector
                    if self.size:
                        self._vectors[keys[i]] = vector
                        self._vectors.move_to_end(keys[i])
                while len(self._vectors) > self.size:
                    self._vectors.popitem(last=False)
        return np.stack([found[i] for i in range(len(keys))])
