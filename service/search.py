"""Hybrid search: dense vectors and BM25 on normalized Arabic, fused by score, aware of the talks' rounds.

score = cosine(query, chunk) + w_lang * bm25 / max(bm25) [+ round bonus]. Cosine is on one scale for every
query; BM25 is not, so it is normalized per query. Each signal votes only where it exists: BM25 has little
to say about an English question (only the lexicon's Arabic, numbers, Latin names and titles), so its
weight follows the query's language. Weights were chosen on seed_qa.dev and xquad_en2ar, never on heldout.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from indexer.arabic import normalize_str, tokenize
from indexer.embed import Embedder
from indexer.index import Index
from indexer.types import Chunk, SearchFilters
from service.lexicon import Lexicon
from service.query import AnalyzedQuery, analyze

MAX_K = 50


@dataclass(frozen=True)
class SearchConfig:
    """Which levers are on; the evaluation runs each ablation by name (see ABLATIONS)."""

    dense: bool = True
    lexical: bool = True
    lexicon: bool = True  # English questions reach Arabic terms through the bilingual lexicon
    rounds: bool = True  # chunks about the round a question names rank higher
    dedupe: bool = True  # near-identical passages (syndicated copies) appear once
    candidates: int = 100
    lexical_weight_ar: float = 0.05
    lexical_weight_en: float = 0.02
    lexical_weight_bridge: float = 0.08  # times the share of an English question the lexicon translated
    round_bonus: float = 0.02
    dedupe_jaccard: float = 0.85


ABLATIONS: dict[str, SearchConfig] = {
    "dense": SearchConfig(lexical=False, lexicon=False, rounds=False, dedupe=False),
    "bm25": SearchConfig(dense=False, lexicon=False, rounds=False, dedupe=False),
    "hybrid": SearchConfig(lexicon=False, rounds=False, dedupe=False),
    "hybrid+lexicon": SearchConfig(rounds=False, dedupe=False),
    "hybrid+rounds": SearchConfig(lexicon=False, dedupe=False),
    "full": SearchConfig(),
}


@dataclass(frozen=True)
class SearchResult:
    rank: int
    chunk: Chunk
    score: float  # fused score, higher is better
    dense_score: float | None = None  # cosine similarity, when the dense signal found this chunk
    lexical_score: float | None = None


@dataclass(frozen=True)
class SearchResponse:
    query: str
    results: tuple[SearchResult, ...]
    took_ms: float
    analyzed: AnalyzedQuery | None = None
    best_dense: float | None = None  # similarity of the closest chunk overall (evidence strength)
    query_vector: np.ndarray | None = None  # the embedded question (answerability compares it to a background)


class Searcher:
    def __init__(self, index: Index, embedder: Embedder, lexicon: Lexicon | None = None,
                 config: SearchConfig | None = None) -> None:
        if index.manifest.model != embedder.model_id:
            raise ValueError(f"index was built with {index.manifest.model!r}, embedder is {embedder.model_id!r}")
        self.index = index
        self.embedder = embedder
        self.lexicon = lexicon if lexicon is not None else Lexicon.default()
        self.config = config or SearchConfig()
        self._row_of_key = index.chunks.by_key  # key -> row over the index's sorted key column

    def with_config(self, config: SearchConfig) -> Searcher:
        """The same index and model with other levers (used by the evaluation's ablations)."""
        clone = Searcher.__new__(Searcher)
        clone.__dict__.update({**self.__dict__, "config": config})
        return clone

    def search(self, query: str, k: int = 5, filters: SearchFilters | None = None) -> SearchResponse:
        if not 1 <= k <= MAX_K:
            raise ValueError(f"k must be between 1 and {MAX_K}")
        started = time.perf_counter()
        cfg = self.config
        analyzed = analyze(query, self.lexicon if cfg.lexicon else None)
        filters = None if filters is None or filters.is_empty() else filters
        n = max(cfg.candidates, k * 4)
        dense: dict[int, float] = {}
        lexical: dict[int, float] = {}
        best_dense = None
        vector = None

        if cfg.dense:
            vector = self.embedder.embed_batch([query], role="query")
            for hit in self.index.store.search(vector, n, filters)[0]:
                row = self._row_of_key.get(hit.key)
                if row is not None:
                    dense[row] = hit.score
            best_dense = max(dense.values(), default=None)
        # A chunk only BM25 found gets the weakest dense score seen: below every dense candidate.
        dense_floor = min(dense.values(), default=0.0)
        fused = dict(dense)

        if cfg.lexical and self.index.lexical is not None:
            terms = list(analyzed.terms) + list(analyzed.bridge_terms)
            weight = cfg.lexical_weight_ar
            if analyzed.lang == "en":
                weight = cfg.lexical_weight_en + cfg.lexical_weight_bridge * analyzed.bridge_coverage
            if not cfg.dense:
                weight = 1.0
            allowed = self._allowed_rows(filters) if filters else None
            hits = self.index.lexical.search_terms(terms, n, allowed)
            top = hits[0][1] if hits else 1.0
            for row, score in hits:
                lexical[row] = score
                fused[row] = fused.get(row, dense_floor if cfg.dense else 0.0) + weight * score / top

        if cfg.rounds and analyzed.round is not None:
            for row in fused:
                if analyzed.round in self.index.chunks.rounds(row):
                    fused[row] += cfg.round_bonus

        ranked = sorted(fused, key=lambda r: (-fused[r], -dense.get(r, -1.0), r))
        if cfg.dedupe:
            ranked = self._dedupe(ranked, k)
        results = tuple(
            SearchResult(rank=i + 1, chunk=self.index.chunks[row], score=round(fused[row], 6),
                         dense_score=dense.get(row), lexical_score=lexical.get(row))
            for i, row in enumerate(ranked[:k])
        )
        took = (time.perf_counter() - started) * 1000
        return SearchResponse(query, results, took, analyzed, best_dense, None if vector is None else vector[0])

    def _allowed_rows(self, filters: SearchFilters) -> np.ndarray:
        return self.index.chunks.mask(filters)  # vectorized over the chunk columns

    def _dedupe_key(self, row: int) -> tuple[str, frozenset[str]]:
        return _text_signature(self.index.chunks[row].text)

    def _dedupe(self, ranked: list[int], k: int) -> list[int]:
        kept: list[int] = []
        seen_texts: set[str] = set()
        kept_terms: list[frozenset[str]] = []
        for row in ranked:
            key, terms = self._dedupe_key(row)
            if key in seen_texts:
                continue
            if any(_jaccard(terms, other) >= self.config.dedupe_jaccard for other in kept_terms):
                continue
            seen_texts.add(key)
            kept_terms.append(terms)
            kept.append(row)
            if len(kept) >= k:
                break
        return kept


@lru_cache(maxsize=1 << 16)
def _text_signature(text: str) -> tuple[str, frozenset[str]]:
    return normalize_str(text), frozenset(tokenize(text))


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)
