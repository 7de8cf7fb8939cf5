"""BM25 inside Milvus over Isnad's own tokens, scored exactly as `LexicalIndex` (bm25s) scores them: the helpers
the archive's passages collection (`milvus_tables.MilvusPassages.lexical`) uses. A replica holds no BM25 matrix,
and a write through one replica is searchable through every other at once (Milvus keeps the corpus statistics).

How the scores stay today's: Isnad tokenizes (normalized, stemmed Arabic; `indexer.text.arabic.tokenize`) and
each token is written as one opaque ASCII word (`x` + 16 hex digits of its blake2b hash), which Milvus'
`standard` analyzer keeps whole (milvus-lite 3.2 has no whitespace tokenizer; `standard` would split Arabic
by its own rules). Milvus' BM25 function with k1=1.5, b=0.75 is then bm25s' Lucene BM25 times -(k1+1) in
milvus-lite (distance sign and the (k1+1) numerator bm25s leaves out): dividing by `MILVUS_SCALE` gives bm25s'
score to float precision (tested on the sample corpus against `LexicalIndex`).

Weighted queries (lexicon expansions count less than the question's words): bm25s sums one scoring pass per
distinct weight over every row; here each weight group is one Milvus search for its top k x WEIGHTED_DEPTH rows,
summed. Exact while every group's matches fit (the sample corpus); at scale a row deep in one group and absent
from another's list loses that group's share.

Left as it is, measured (milvus-lite 3.2.2): a BM25 search with a filter expression is scored with the
statistics of the filtered rows only (N, avgdl, df), not the collection's, so filtered scores differ from
bm25s' (the same passages pass the filter; their order may differ: tests/service/test_milvus_backend.py).
Post-filtering an over-fetched unfiltered search, or sparse vectors Isnad computes with global statistics, would
restore them; Milvus' server keeps BM25 statistics per collection, which should be checked on one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

K1, B = 1.5, 0.75  # bm25s' defaults (`LexicalIndex.build`)
MILVUS_SCALE = -(K1 + 1)  # milvus-lite's BM25 distance = MILVUS_SCALE x bm25s' score
WEIGHTED_DEPTH = 4  # a weighted query reads each weight group's top k x this many rows


def milvus_words(terms: Sequence[str]) -> str:
    """Isnad tokens as words Milvus' standard analyzer keeps whole (one per token, order kept)."""
    return " ".join("x" + hashlib.blake2b(t.encode("utf-8"), digest_size=8).hexdigest() for t in terms if t)


def _weight_groups(terms: Sequence[str] | Mapping[str, float]) -> list[tuple[float, str]]:
    """(weight, words) per distinct weight, as `LexicalIndex.weighted_scores` groups them (a plain list of
    terms is one group of weight 1; duplicates count once, as in bm25s)."""
    weights: Mapping[str, float] = terms if isinstance(terms, Mapping) else dict.fromkeys(terms, 1.0)
    by_weight: dict[float, list[str]] = {}
    for term, weight in weights.items():
        if term and weight > 0:
            by_weight.setdefault(round(float(weight), 3), []).append(term)
    return [(w, milvus_words(ts)) for w, ts in by_weight.items()]


__all__ = ["MILVUS_SCALE", "milvus_words"]
