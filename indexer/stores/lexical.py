"""BM25 over chunk texts (bm25s sparse index), tokenized with `indexer.text.arabic.tokenize`.

Rows are positions in the `texts` given to `build`; callers map them to chunks. The index lives in
`<folder>/bm25/` (bm25s's own .npy/.json files) next to `<folder>/bm25/lexical.json`, which records the
row count and the tokenizer version so a stale index is refused instead of silently scoring garbage.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import bm25s
import numpy as np

from isnad.indexer.text.arabic import TOKENIZER_VERSION, tokenize

__all__ = ["LexicalIndex"]

_SUBDIR = "bm25"
_META = "lexical.json"
_FORMAT = "isnad-lexical/1"
logging.getLogger("bm25s").setLevel(logging.WARNING)


class LexicalIndex:
    """BM25 index over a fixed list of texts; `search_terms` returns (row, score) pairs, best first."""

    def __init__(self, bm25: bm25s.BM25 | None, size: int) -> None:
        self._bm25 = bm25  # None for an empty corpus
        self._size = size

    @classmethod
    def build(cls, texts: Sequence[str]) -> LexicalIndex:
        corpus = [tokenize(t) for t in texts]
        if not corpus:
            return cls(None, 0)
        bm25 = bm25s.BM25()  # Lucene BM25, k1=1.5, b=0.75
        # bm25s refuses an all-empty corpus; a never-matching placeholder term keeps rows aligned
        if not any(corpus):
            corpus[0] = ["\x00"]
        bm25.index(corpus, show_progress=False)
        return cls(bm25, len(corpus))

    def __len__(self) -> int:
        return self._size

    def scores(self, terms: Sequence[str]) -> np.ndarray:
        """Dense BM25 scores of every row for already-tokenized query terms (duplicates count once)."""
        if self._bm25 is None:
            return np.zeros(0, dtype=np.float32)
        vocab = self._bm25.vocab_dict
        ids = [vocab[t] for t in dict.fromkeys(terms) if t and t in vocab]
        if not ids:
            return np.zeros(self._size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(ids), dtype=np.float32)

    def has_term(self, term: str) -> bool:
        return self._bm25 is not None and term in self._bm25.vocab_dict

    def weighted_scores(self, weights: Mapping[str, float]) -> np.ndarray:
        """BM25 scores where each term's contribution is scaled by its weight (expansion terms count less
        than the question's own)."""
        if self._bm25 is None:
            return np.zeros(0, dtype=np.float32)
        vocab = self._bm25.vocab_dict
        by_weight: dict[float, list[int]] = {}
        for t, w in weights.items():
            if t in vocab and w > 0:
                by_weight.setdefault(round(float(w), 3), []).append(vocab[t])
        total = np.zeros(self._size, dtype=np.float32)
        for w, ids in by_weight.items():  # one pass per distinct weight: BM25 is a sum over terms
            total += w * np.asarray(self._bm25.get_scores(ids), dtype=np.float32)
        return total

    def search_terms(
        self, terms: Sequence[str] | Mapping[str, float], k: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """Top-k rows for already-tokenized terms (e.g. `tokenize(q)` plus lexicon expansions), or for a
        mapping term -> weight."""
        if k <= 0 or self._size == 0:
            return []
        scores = self.weighted_scores(terms) if isinstance(terms, Mapping) else self.scores(terms)
        if allowed is not None:
            allowed = np.asarray(allowed, dtype=bool)
            if allowed.shape != (self._size,):
                raise ValueError(f"allowed mask has shape {allowed.shape}, expected ({self._size},)")
            scores = np.where(allowed, scores, 0.0)
        candidates = np.flatnonzero(scores > 0)
        if candidates.size > k:
            candidates = candidates[np.argpartition(-scores[candidates], k - 1)[:k]]
        order = candidates[np.lexsort((candidates, -scores[candidates]))]  # score desc, then row asc
        return [(int(r), float(scores[r])) for r in order]

    def save(self, folder: Path) -> None:
        target = Path(folder) / _SUBDIR
        target.mkdir(parents=True, exist_ok=True)
        if self._bm25 is not None:
            self._bm25.save(str(target), show_progress=False)
        meta = {"format": _FORMAT, "tokenizer_version": TOKENIZER_VERSION, "size": self._size}
        (target / _META).write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        target = Path(folder) / _SUBDIR
        meta_path = target / _META
        if not meta_path.is_file():
            raise FileNotFoundError(f"no lexical index at {target} (missing {_META})")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("format") != _FORMAT:
            raise ValueError(f"{meta_path}: unknown format {meta.get('format')!r}")
        if meta.get("tokenizer_version") != TOKENIZER_VERSION:
            raise ValueError(
                f"{meta_path}: built with tokenizer v{meta.get('tokenizer_version')}, this code is "
                f"v{TOKENIZER_VERSION}; rebuild the index"
            )
        size = int(meta["size"])
        if size == 0:
            return cls(None, 0)
        # mmap: a query reads only its terms' columns, so the ~8 bytes per posting (~0.6 GB at 1M chunks)
        # stay on disk instead of in the service's RSS
        bm25 = bm25s.BM25.load(str(target), show_progress=False, mmap=True)
        num_docs = int(bm25.scores["num_docs"])
        if num_docs != size:
            raise ValueError(f"{target}: bm25 holds {num_docs} rows, metadata says {size}")
        return cls(bm25, size)
