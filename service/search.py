"""Hybrid search: dense vectors and BM25 on normalized Arabic, fused by score, aware of the talks' rounds.

score = cosine(query, chunk) + w_lang * bm25 / max(bm25) [+ round bonus]. Cosine is on one scale for every
query; BM25 is not, so it is normalized per query. Each signal votes only where it exists: BM25 has little
to say about an English question (only the lexicon's Arabic, numbers, Latin names and titles), so its
weight follows the query's language. Weights were chosen on seed_qa.dev and xquad_en2ar, never on heldout.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from isnad.indexer.embed import Embedder
from isnad.indexer.index import SearchIndex
from isnad.indexer.text import induced
from isnad.indexer.text.english_vectors import EnglishVectors
from isnad.indexer.text.induced import (
    InducedConfig,
    InducedLexicon,
    english_content_words,
    vocabulary_version,
    vocabulary_with_df,
)
from isnad.indexer.text.lexicon import Lexicon
from isnad.indexer.text.names import NameConfig, NameMatcher
from isnad.indexer.text.query import AnalyzedQuery, Bridges, analyze
from isnad.indexer.text.script import query_language
from isnad.indexer.types import Chunk, SearchFilters
from isnad.service.fusion import LexicalWeights, dedupe_copies, fuse

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
    lexical_weight_bridge: float = 0.04  # times the share of an English question the lexicon translated
    round_bonus: float = 0.02
    dedupe_jaccard: float = 0.85
    # The generalizing English→Arabic bridge (issue 13): see indexer/text/induced.py, names.py, numbers.py.
    induced: bool = True  # English words → nearest Arabic terms of this archive, by the model's embeddings
    names: bool = True  # capitalized Latin names → Arabic names of the archive, by consonant skeleton
    dates: bool = True  # month names and number words → their Arabic forms
    # chosen on the TRAIN half of xquad_en2ar (eval/bridge_tune.py --grid), reported on the test half
    induced_threshold: float = 0.86
    induced_neighbours: int = 3
    induced_margin: float = 0.03
    induced_weight: float = 0.6
    names_min_ratio: float = 1.0
    names_weight: float = 0.3
    bridge_coverage_credit: float = 0.0  # words the bridge reached do not raise BM25's weight (train: +0.03)

    @property
    def lexical_weights(self) -> LexicalWeights:
        return LexicalWeights(self.lexical_weight_ar, self.lexical_weight_en, self.lexical_weight_bridge)


_NO_BRIDGE: dict[str, bool | float] = {"induced": False, "names": False, "dates": False, "lexical_weight_bridge": 0.08}
ABLATIONS: dict[str, SearchConfig] = {
    "dense": SearchConfig(lexical=False, lexicon=False, rounds=False, dedupe=False, **_NO_BRIDGE),
    "bm25": SearchConfig(dense=False, lexicon=False, rounds=False, dedupe=False, **_NO_BRIDGE),
    "hybrid": SearchConfig(lexicon=False, rounds=False, dedupe=False, **_NO_BRIDGE),
    "hybrid+lexicon": SearchConfig(rounds=False, dedupe=False, **_NO_BRIDGE),
    "hybrid+rounds": SearchConfig(lexicon=False, dedupe=False, **_NO_BRIDGE),
    "full": SearchConfig(**_NO_BRIDGE),  # the service before issue 13
    # issue 13's ablation of the cross-lingual bridge: dense; + hand lexicon (= full); each row below adds one
    "bridge:+induced": SearchConfig(names=False, dates=False),
    "bridge:+names": SearchConfig(dates=False),
    "all": SearchConfig(),  # + dates and numbers: the service's configuration
    "bridge:no-hand": SearchConfig(lexicon=False),  # the generalizing bridge alone, without the hand file
}


@dataclass(frozen=True)
class SearchResult:
    rank: int
    chunk: Chunk
    score: float  # fused score, higher is better
    dense_score: float | None = None  # cosine similarity, when the dense signal found this chunk
    lexical_score: float | None = None
    # The same passage in other documents (a wire story on other sites), dropped from the results as copies
    copies: tuple[Chunk, ...] = ()


@dataclass(frozen=True)
class SearchResponse:
    query: str
    results: tuple[SearchResult, ...]
    took_ms: float
    analyzed: AnalyzedQuery | None = None
    best_dense: float | None = None  # similarity of the closest chunk overall (evidence strength)
    query_vector: np.ndarray | None = None  # the embedded question (answerability compares it to a background)


class Searcher:
    def __init__(self, index: SearchIndex, embedder: Embedder, lexicon: Lexicon | None = None,
                 config: SearchConfig | None = None) -> None:
        if index.manifest.model != embedder.model_id:
            raise ValueError(f"index was built with {index.manifest.model!r}, embedder is {embedder.model_id!r}")
        self.index = index
        self.embedder = embedder
        self.lexicon = lexicon if lexicon is not None else Lexicon.default()
        self.config = config or SearchConfig()
        self._shared: dict[str, object] = {}  # bridge parts built once per index, shared by with_config clones
        self._shared_lock = threading.Lock()

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
        analyzed = analyze(query, self.lexicon if cfg.lexicon else None, self.bridges())
        filters = None if filters is None or filters.is_empty() else filters
        n = max(cfg.candidates, k * 4)
        dense: dict[int, float] = {}  # by chunk key, as every signal below
        vector = None
        if cfg.dense:
            vector = self.embedder.embed_batch([query], role="query")
            dense = {hit.key: hit.score for hit in self.index.dense_hits(vector, n, filters)}
        lexical: list[tuple[int, float]] = []
        weight = 1.0  # BM25 alone when the dense signal is off
        if cfg.lexical and self.index.has_lexical:
            lexical = self._lexical(analyzed, n, filters)
            if cfg.dense:
                weight = cfg.lexical_weights.for_query(analyzed.lang, analyzed.bridge_coverage)
        round_keys: set[int] = set()
        if cfg.rounds and analyzed.round is not None:
            rounds = self.index.rounds_of(list(dense.keys() | {key for key, _ in lexical}))
            round_keys = {key for key, found in rounds.items() if analyzed.round in found}
        fused = fuse(dense, lexical, weight, round_keys, cfg.round_bonus, self.index.tie_order)
        chunks = _PassageLoader(self.index, fused.rows, window=2 * k)
        present = (key for key in fused.rows if key in chunks)  # a passage deleted since its hit was found drops
        copies: dict[int, list[int]] = {}
        if cfg.dedupe:
            copies = dedupe_copies(present, k, lambda key: chunks[key].text, cfg.dedupe_jaccard)
            ranked = list(copies)
        else:
            ranked = list(itertools.islice(present, k))
        lexical_of = dict(lexical)
        results = tuple(
            SearchResult(rank=i + 1, chunk=(chunk := chunks[key]), score=round(fused.scores[key], 6),
                         dense_score=dense.get(key), lexical_score=lexical_of.get(key),
                         copies=self._other_documents(chunk, [chunks[c] for c in copies.get(key, ())]))
            for i, key in enumerate(ranked[:k])
        )
        took = (time.perf_counter() - started) * 1000
        best_dense = max(dense.values(), default=None)  # evidence strength, None without the dense signal
        return SearchResponse(query, results, took, analyzed, best_dense, None if vector is None else vector[0])

    @staticmethod
    def _other_documents(chunk: Chunk, copies: Sequence[Chunk]) -> tuple[Chunk, ...]:
        """Copies of `chunk` in other documents, one per document."""
        out: dict[str, Chunk] = {}
        for copy in copies:
            if copy.doc_id != chunk.doc_id:
                out.setdefault(copy.doc_id, copy)
        return tuple(out.values())

    def _lexical(self, analyzed: AnalyzedQuery, n: int, filters: SearchFilters | None) -> list[tuple[int, float]]:
        """BM25 hits (key, score), best first, over the query's terms, expansions and bridge terms."""
        terms: list[str] | dict[str, float] = list(analyzed.terms) + list(analyzed.bridge_terms)
        if analyzed.expansions:
            terms = analyzed.weighted_terms()
        return [(hit.key, hit.score) for hit in self.index.lexical_hits(terms, n, filters)]

    def bridges(self) -> Bridges | None:
        """The generalizing bridge this configuration uses (None when every part is off)."""
        cfg = self.config
        if not (cfg.lexical and self.index.has_lexical and (cfg.induced or cfg.names or cfg.dates)):
            return None
        ready = self._ready()
        induced = ready if cfg.induced else None
        names = self._names() if cfg.names and ready is not None else None
        return Bridges(induced=induced, names=names, dates=cfg.dates, induced_weight=cfg.induced_weight,
                       induced_config=InducedConfig(cfg.induced_threshold, cfg.induced_neighbours,
                                                    cfg.induced_margin),
                       names_config=NameConfig(min_ratio=cfg.names_min_ratio), names_weight=cfg.names_weight,
                       coverage_credit=cfg.bridge_coverage_credit)

    def prepare_bridges(self, questions: Sequence[str] = ()) -> None:
        """Build (or load from the index folder's cache) what the bridge needs, before the first query; with
        `questions` (an evaluation's), also embed their English words in batches."""
        induced = self._induced()
        self._names()
        words = [w for q in questions if query_language(q) == "en" for w in english_content_words(q)]
        if words:
            induced.neighbours(list(dict.fromkeys(words)))

    def _induced(self) -> InducedLexicon:
        with self._shared_lock:
            lexicon = self._shared.get("induced")
            if lexicon is None:
                version = vocabulary_version(self.index.manifest.data)
                index = self.index
                lexicon = InducedLexicon.for_index(
                    index.folder, version, lambda: vocabulary_with_df(index.document_texts()),
                    self.embedder, min_df=induced.MIN_DF,
                    # a serving embedder's background lane: queries never queue behind the vocabulary
                    build_embedder=getattr(self.embedder, "background", None), english=self._english())
                self._shared["induced"] = lexicon
        return lexicon  # type: ignore[return-value]

    def _ready(self) -> InducedLexicon | None:
        """The induced lexicon if it is built or its cache matches this index; otherwise None, and it is built
        in the background: a request never waits for the archive's vocabulary to be embedded (an index
        written without `make_builder`, or one just updated through POST /documents)."""
        lexicon = self._shared.get("induced")
        if lexicon is not None:
            return lexicon  # type: ignore[return-value]
        if "building" in self._shared:
            return None  # the background build holds the lock until it is done
        with self._shared_lock:
            if "building" not in self._shared:
                version = vocabulary_version(self.index.manifest.data)
                cached = InducedLexicon.load_cached(self.index.folder, version, self.embedder,
                                                    english=self._english())
                if cached is not None:
                    self._shared["induced"] = cached
                    return cached
                self._shared["building"] = threading.Thread(target=self._induced, daemon=True,
                                                            name="isnad-bridge-vocabulary")
                self._shared["building"].start()  # type: ignore[attr-defined]
        return None

    def _english(self) -> EnglishVectors | None:
        """The index folder's English word table (`isnad english-table`), read once; None without one."""
        if "english" not in self._shared:  # callers hold _shared_lock
            self._shared["english"] = EnglishVectors.load_for(self.index.folder, self.embedder)
        return self._shared["english"]  # type: ignore[return-value]

    def _names(self) -> NameMatcher:
        vocab = self._induced()  # the names share the induced lexicon's cached vocabulary
        with self._shared_lock:
            matcher = self._shared.get("names")
            if matcher is None:
                matcher = NameMatcher(vocab.names)
                self._shared["names"] = matcher
        return matcher  # type: ignore[return-value]


class _PassageLoader:
    """A request's passages by key, fetched in batches down the ranking as they are read (a window for the first
    results and their copies, then more only if dedupe drops many), so a Milvus archive answers in a query or two."""

    def __init__(self, index: SearchIndex, ranked: Sequence[int], window: int) -> None:
        self._index, self._ranked, self._window = index, list(ranked), max(1, window)
        self._loaded: dict[int, Chunk] = {}
        self._asked = 0  # ranked[:_asked] have been fetched (found or not)

    def __contains__(self, key: int) -> bool:
        self._fetch_through(key)
        return key in self._loaded

    def __getitem__(self, key: int) -> Chunk:
        self._fetch_through(key)
        return self._loaded[key]

    def _fetch_through(self, key: int) -> None:
        while key not in self._loaded and self._asked < len(self._ranked):
            batch = self._ranked[self._asked : self._asked + self._window]
            self._asked += len(batch)
            self._window *= 2
            self._loaded.update(self._index.passages(batch))
