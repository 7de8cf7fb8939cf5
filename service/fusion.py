"""Score fusion, the round bonus and dedupe: pure functions over row numbers, used by `Searcher.search`.

score = cosine(query, chunk) + w_lang * bm25 / max(bm25) [+ round bonus]. Rows are an index's chunk rows;
nothing here reads an index or a model, so ranking can be tested on hand-made numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
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
         round_rows: Collection[int] = (), round_bonus: float = 0.0,
         tie_order: Callable[[int], int] | None = None) -> Fused:
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
    order = tie_order or (lambda r: r)  # exact ties (a passage and its copies) go by the index's own order
    rows = sorted(scores, key=lambda r: (-scores[r], -dense.get(r, -1.0), order(r)))
    return Fused(rows, scores)


def dedupe(rows: Sequence[int], k: int, text_of: Callable[[int], str], jaccard: float) -> list[int]:
    """The first `k` rows whose text is neither a normalized copy nor a near copy (token Jaccard >= `jaccard`)
    of a row kept before it: syndicated copies of a passage appear once."""
    return list(dedupe_copies(rows, k, text_of, jaccard))


def dedupe_copies(rows: Iterable[int], k: int, text_of: Callable[[int], str],
                  jaccard: float) -> dict[int, list[int]]:
    """`dedupe`'s rows, in order, each with the rows it stands for (its copies, best first): the same wire story
    on two sites is one passage from two sources, not two confirmations. Once `k` rows are kept, only the next
    `k` rows are looked at for copies (a copy scores as its original does, so it ranks beside it; tokenizing
    every candidate would cost ~20 ms a query)."""
    kept: dict[int, list[int]] = {}
    seen_texts: dict[str, int] = {}
    kept_terms: list[tuple[int, frozenset[str]]] = []
    after_full = 0
    for row in rows:
        if len(kept) >= k:
            after_full += 1
            if after_full > k:
                break
        key, terms = text_signature(text_of(row))
        first = seen_texts.get(key)
        if first is None:
            first = next((other for other, other_terms in kept_terms
                          if jaccard_similarity(terms, other_terms) >= jaccard), None)
        if first is not None:
            kept[first].append(row)
            continue
        if len(kept) >= k:
            continue  # full: later rows only matter as copies of the kept ones
        seen_texts[key] = row
        kept_terms.append((row, terms))
        kept[row] = []
    return kept


@lru_cache(maxsize=1 << 16)
def text_signature(text: str) -> tuple[str, frozenset[str]]:
    return normalize_str(text), frozenset(tokenize(text))


def jaccard_similarity(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)
