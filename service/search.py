"""Search over a loaded index: embed the query, rank chunks, return cited passages."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from indexer.embed import Embedder
from indexer.index import Index
from indexer.types import Chunk, SearchFilters

MAX_K = 50


@dataclass(frozen=True)
class SearchResult:
    rank: int
    chunk: Chunk
    score: float


@dataclass(frozen=True)
class SearchResponse:
    query: str
    results: tuple[SearchResult, ...]
    took_ms: float
    query_vector: np.ndarray | None = None


class Searcher:
    """Dense retrieval over the index's vector store."""

    def __init__(self, index: Index, embedder: Embedder) -> None:
        if index.manifest.model != embedder.model_id:
            raise ValueError(f"index was built with {index.manifest.model!r}, embedder is {embedder.model_id!r}")
        self.index = index
        self.embedder = embedder

    def search(self, query: str, k: int = 5, filters: SearchFilters | None = None) -> SearchResponse:
        if not 1 <= k <= MAX_K:
            raise ValueError(f"k must be between 1 and {MAX_K}")
        started = time.perf_counter()
        vector = self.embedder.embed_batch([query], role="query")
        hits = self.index.store.search(vector, k, filters)[0]
        results = tuple(
            SearchResult(rank=i + 1, chunk=self.index.chunk_by_key[hit.key], score=hit.score)
            for i, hit in enumerate(h for h in hits if h.key in self.index.chunk_by_key)
        )
        took = (time.perf_counter() - started) * 1000
        return SearchResponse(query, results, took, vector[0])
