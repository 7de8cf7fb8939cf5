"""A bilingual lexicon induced from the archive itself: English words → the index's nearest Arabic terms.

The index's Arabic vocabulary (one readable surface word per BM25 term, the commonest) is embedded once with
the index's own model and cached next to the index (`induced-vocab.npz`, keyed by model; a changed archive
re-embeds only its new words). A question's English content words are embedded the same way (`query:` role
on both sides: word-to-word similarity is symmetric) and each is mapped to its nearest Arabic terms above a
confidence bar. Nothing here is domain-specific: it works on words nobody typed into a file.

The bar, the neighbour count and the margin were chosen on the TRAIN half of xquad_en2ar (articles split by
a hash of their title, `eval/splits.py`), never on seed_qa.dev or the held-out sets.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from isnad.indexer.text.arabic import surface_terms
from isnad.indexer.text.english_vectors import EnglishVectors
from isnad.indexer.text.english_words import EN_STOP, EN_WORD, embed_words, english_content_words, save_npz
from isnad.indexer.text.script import stems_as_arabic
from isnad.indexer.types import Embedder

__all__ = ["CACHE_FILE", "EN_STOP", "EN_WORD", "Expansion", "InducedConfig", "InducedLexicon", "arabic_vocabulary",
           "embed_words", "english_content_words", "save_npz", "vocabulary_version", "vocabulary_with_df"]

log = logging.getLogger(__name__)
CACHE_FILE = "induced-vocab.npz"
MIN_DF = 2  # see arabic_vocabulary: halves the words to embed (indexing cost ≤ 1.5x), xquad-en -0.005
_KEEP = 8  # neighbours remembered per English word; the config picks among them
@dataclass(frozen=True)
class InducedConfig:
    threshold: float = 0.86  # cosine below this is not a translation
    neighbours: int = 3  # at most this many Arabic terms per English word
    margin: float = 0.03  # and only those within this of the word's best match


@dataclass(frozen=True)
class Expansion:
    word: str  # the English word
    term: str  # the BM25 term it reaches
    weight: float  # in (0, 1]: how sure the bridge is


class InducedLexicon:
    """English word → Arabic BM25 terms of this archive, by nearest neighbours in the model's space."""

    def __init__(self, embedder: Embedder, terms: Sequence[str], vectors: np.ndarray,
                 config: InducedConfig | None = None, memo_size: int = 50_000,
                 words: Sequence[str] | None = None, names: Sequence[tuple[str, str]] | None = None,
                 english: EnglishVectors | None = None) -> None:
        self.embedder = embedder
        self.english = english  # precomputed English word vectors: words found there skip the model
        self.terms = list(terms)
        self.words = list(words) if words is not None else list(terms)  # the surface word behind each term
        # every (term, word) of the archive, embedded or not: names are matched by spelling, so rare ones count
        self.names = list(names) if names is not None else list(zip(self.terms, self.words, strict=True))
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.config = config or InducedConfig()
        self._memo: dict[str, list[tuple[str, float]]] = {}  # English word -> neighbours (word-level cache)
        self._memo_size = memo_size
        self._lock = threading.Lock()

    @classmethod
    def for_index(cls, folder: Path, version: str, vocabulary: Callable[[], Sequence[tuple[str, ...]]],
                  embedder: Embedder, config: InducedConfig | None = None, min_df: int = 1,
                  build_embedder: Embedder | None = None, english: EnglishVectors | None = None) -> InducedLexicon:
        """The embedded vocabulary of the index at `folder`, from its cache file when that was written for
        this `version` of the index (no scan of the archive, so a service starts fast); otherwise
        `vocabulary()` ((term, surface word) pairs, see `arabic_vocabulary`) is read and only the words the
        cache lacks are embedded (by `build_embedder`, default `embedder`, which the lexicon keeps for the
        questions' words), and the cache is rewritten."""
        cache = Path(folder) / CACHE_FILE
        known: dict[str, np.ndarray] = {}
        if cache.is_file():
            try:
                with np.load(cache, allow_pickle=False) as data:
                    if str(data["model"]) == embedder.model_id:
                        words_, vectors_ = data["words"].tolist(), data["vectors"]
                        if str(data["version"]) == version:
                            return cls(embedder, data["terms"].tolist(), vectors_.astype(np.float32), config,
                                       words=words_, names=list(zip(data["all_terms"].tolist(),
                                                                    data["all_words"].tolist(), strict=True)),
                                       english=english)
                        known = dict(zip(words_, vectors_, strict=True))
            except (OSError, ValueError, KeyError) as exc:
                log.warning("induced vocabulary cache %s unreadable (%s); re-embedding", cache, exc)
        every = list(vocabulary())  # (term, word) or (term, word, document frequency)
        vocab = [(v[0], v[1]) for v in every if len(v) < 3 or v[2] >= min_df]  # only these are embedded
        terms, words = [t for t, _ in vocab], [w for _, w in vocab]
        names = [(v[0], v[1]) for v in every]
        missing = [w for w in words if w not in known]
        bulk = build_embedder or embedder
        if missing:
            known.update(zip(missing, embed_words(bulk, missing).astype(np.float16), strict=True))
        vectors16 = np.stack([known[w] for w in words]) if words else np.zeros((0, embedder.dim), np.float16)
        try:
            save_npz(cache, model=np.array(embedder.model_id), version=np.array(version), terms=np.array(terms),
                     words=np.array(words), vectors=vectors16, all_terms=np.array([t for t, _ in names]),
                     all_words=np.array([w for _, w in names]))
        except OSError as exc:  # a read-only index still works, it just re-embeds next time
            log.warning("cannot write %s (%s)", cache, exc)
        return cls(embedder, terms, vectors16.astype(np.float32), config, words=words, names=names, english=english)

    @classmethod
    def load_cached(cls, folder: Path, version: str, embedder: Embedder, config: InducedConfig | None = None,
                    english: EnglishVectors | None = None) -> InducedLexicon | None:
        """The cached lexicon of the index at `folder` if it was written for this `version`, else None."""
        def unavailable() -> list[tuple[str, str]]:
            raise LookupError(version)

        try:
            return cls.for_index(folder, version, unavailable, embedder, config, english=english)
        except LookupError:
            return None

    def neighbours(self, words: Sequence[str]) -> dict[str, list[tuple[str, float]]]:
        """For each English word, its nearest Arabic terms, best first, as (term, cosine), unfiltered."""
        with self._lock:
            missing = [w for w in dict.fromkeys(words) if w not in self._memo]
        if missing and len(self.terms):
            sims = self._word_vectors(missing) @ self.vectors.T
            k = min(_KEEP, len(self.terms))
            found: dict[str, list[tuple[str, float]]] = {}
            for w, row in zip(missing, sims, strict=True):
                top = np.argpartition(-row, k - 1)[:k] if k < len(row) else np.arange(len(row))
                top = top[np.argsort(-row[top], kind="stable")]
                found[w] = [(self.terms[i], float(row[i])) for i in top]
            with self._lock:
                if len(self._memo) + len(found) > self._memo_size:
                    self._memo.clear()
                self._memo.update(found)
        with self._lock:
            return {w: self._memo.get(w, []) for w in words}

    def forget(self) -> None:
        """Drop the memoized neighbours (a benchmark measures words the service has not seen yet)."""
        with self._lock:
            self._memo.clear()

    def _word_vectors(self, words: list[str]) -> np.ndarray:
        """One row per word: from the English table where it has the word, from the model otherwise."""
        found, unseen = self.english.lookup(words) if self.english is not None else ({}, words)
        if unseen:
            found.update(zip(unseen, embed_words(self.embedder, unseen), strict=True))
        return np.stack([found[w] for w in words])

    def expand(self, words: Sequence[str], config: InducedConfig | None = None) -> list[Expansion]:
        """Arabic terms for `words` above the confidence bar, weighted by their cosine."""
        cfg = config or self.config
        out: list[Expansion] = []
        for word, pairs in self.neighbours(words).items():
            if not pairs:
                continue
            best = pairs[0][1]
            kept = [(t, sim) for t, sim in pairs[: cfg.neighbours]
                    if sim >= cfg.threshold and sim >= best - cfg.margin]
            out.extend(Expansion(word, term, round(sim, 4)) for term, sim in kept)
        return out


def vocabulary_version(index_data: str) -> str:
    """Cache key of an index's vocabulary: its data folder (new on every build or update) and `MIN_DF`."""
    return f"{index_data}/min_df={MIN_DF}"


def arabic_vocabulary(documents: Iterable[str], max_terms: int = 200_000,
                      min_df: int = MIN_DF) -> list[tuple[str, str]]:
    """(term, surface word) for the Arabic BM25 terms found in at least `min_df` documents, each with its
    commonest surface word; at most `max_terms`, the most frequent (bounds memory on very large archives).

    `min_df` 2 halves the words to embed (most of a vocabulary occurs once) and so the bridge's indexing
    cost; a term of one document is reached by the dense vectors of that document's passages anyway."""
    return [(t, w) for t, w, df in vocabulary_with_df(documents, max_terms) if df >= min_df]


def vocabulary_with_df(documents: Iterable[str], max_terms: int = 200_000) -> list[tuple[str, str, int]]:
    """(term, commonest surface word, document frequency) of every Arabic BM25 term of `documents`."""
    counts: Counter[tuple[str, str]] = Counter()
    df: Counter[str] = Counter()
    for text in documents:
        pairs = [(t, w) for w, t in surface_terms(text) if stems_as_arabic(w)]
        counts.update(pairs)
        df.update({t for t, _ in pairs})
    best: dict[str, tuple[int, str]] = {}
    for (term, word), n in counts.items():
        if term not in best or (n, word) > best[term]:
            best[term] = (n, word)
    ranked = sorted(df, key=lambda t: (-df[t], t))[:max_terms]
    return [(t, best[t][1], df[t]) for t in sorted(ranked)]
