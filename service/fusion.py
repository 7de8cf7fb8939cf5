"""Score fusion, the round bonus and dedupe: pure functions over row numbers, used by `Searcher.search`.

score = cosine(query, chunk) + w_lang * bm25 / max(bm25) [+ round bonus]. Rows are an index's chunk rows;
nothing here reads an index or a model, so ranking can be tested on hand-made numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from isnad.indexer.text.arabic import normalize_str, tokenize


@dataclass(frozen=True)
class LexicalWeights:
    """BM25's weight by the question's language: English questions reach Arabic BM25 only through the bridge."""

    ar: float
    en: float
    bridge: float  # times the share of an English question the lexicon and bridge translated

    def for_query(self, lang: str, bridge_coverage: float) -> float:
        if lang == "en":
            return self.en + self.bridge * bridge_coverage
        return self.ar


@dataclass(frozen=True)
class Fused:
    rows: list[int]  # best first: fused score, then dense score, then row
    scores: dict[int, float]  # every candidate's fused score


def fuse(dense: Mapping[int, float], lexical: Sequence[tuple[int, float]], weight: float,
         round_rows: Collection[int] = (), round_bonus: float = 0.0) -> Fused:
    """Add BM25 (normalized by its best hit, times `weight`) to the cosine; rows in `round_rows` get the bonus.

    A chunk only BM25 found starts from the weakest dense score seen: below every dense candidate.
    """
    floor = min(dense.values(), default=0.0)
    scores = dict(dense)
    top = lexical[0][1] if lexical else 1.0
    for row, score in lexical:
        scores[row] = scores.get(row, floor) + weight * score / top
    for row in scores:
        if row in round_rows:
            scores[row] += round_bonus
    rows = sorted(scores, key=lambda r: (-scores[r], -dense.get(r, -1.0), r))
    return Fused(rows, scores)


def dedupe(rows: Sequence[int], k: int, text_of: Callable[[int], str], jaccard: float) -> list[int]:
    """The first `k` rows whose text is neither a normalized copy nor a near copy (token Jaccard >= `jaccard`)
    of a row kept before it: syndicated copies of a passage appear once."""
    kept: list[int] = []
    seen_texts: set[str] = set()
    kept_terms: list[frozenset[str]] = []
    for row in rows:
        key, terms = text_signature(text_of(row))
        if key in seen_texts or any(jaccard_similarity(terms, other) >= jaccard for other in kept_terms):
            continue
        seen_texts.add(key)
        kept_terms.append(terms)
        kept.append(row)
        if len(kept) >= k:
            break
    return kept


@lru_cache(maxsize=1 << 16)
def text_signature(text: str) -> tuple[str, frozenset[str]]:
    return normalize_str(text), frozenset(tokenize(text))


def jaccard_similarity(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)
