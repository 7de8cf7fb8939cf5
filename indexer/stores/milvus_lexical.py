"""BM25 inside Milvus over Isnad's own tokens, scored exactly as `LexicalIndex` (bm25s) scores them.

A building block of issue 29's "the whole hybrid search inside Milvus" (not yet used by the service): a replica
would hold no BM25 matrix, and a write through one replica would be searchable through every other at once
(Milvus keeps the corpus statistics).

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

Not solved here, measured (milvus-lite 3.2.2): a BM25 search with a filter expression is scored with the
statistics of the filtered rows only (N, avgdl, df), not the collection's, so filtered scores differ from
bm25s' (and a second pass restricted by `key in [...]` cannot rescore a union). What to do about it (post-filter
an over-fetched unfiltered search, or sparse vectors Isnad computes with global statistics) is open; Milvus'
server computes BM25 statistics per collection (segment statistics), which should be checked on one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

from isnad.indexer.stores.filters import milvus_expression, milvus_fields, milvus_schema_fields
from isnad.indexer.stores.milvus_store import IN_BATCH, MAX_TOPK, WRITE_BATCH, _batches, _connect, fresh_schema
from isnad.indexer.text.arabic import tokenize
from isnad.indexer.types import Chunk, Hit, SearchFilters, passage_text

K1, B = 1.5, 0.75  # bm25s' defaults (`LexicalIndex.build`)
MILVUS_SCALE = -(K1 + 1)  # milvus-lite's BM25 distance = MILVUS_SCALE x bm25s' score
WEIGHTED_DEPTH = 4  # a weighted query reads each weight group's top k x this many rows


def milvus_words(terms: Sequence[str]) -> str:
    """Isnad tokens as words Milvus' standard analyzer keeps whole (one per token, order kept)."""
    return " ".join("x" + hashlib.blake2b(t.encode("utf-8"), digest_size=8).hexdigest() for t in terms if t)


class MilvusLexical:
    """BM25 over chunks in a Milvus collection keyed by `Chunk.key`, with the store's filter fields."""

    def __init__(self, uri: str, collection: str, *, create: bool = True) -> None:
        self.uri, self.collection = uri, collection
        self._client = _connect(uri)
        if create:
            self._create()
        self._client.load_collection(collection)

    def _create(self) -> None:
        from pymilvus import DataType, Function, FunctionType

        c = self._client
        schema = fresh_schema(c, self.collection)
        milvus_schema_fields(schema, DataType)
        schema.add_field("terms", DataType.VARCHAR, max_length=65_535, enable_analyzer=True,
                         analyzer_params={"tokenizer": "standard"})
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["terms"],
                                     output_field_names=["sparse"]))
        params = c.prepare_index_params()
        params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                         params={"bm25_k1": K1, "bm25_b": B})
        c.create_collection(self.collection, schema=schema, index_params=params, consistency_level="Strong")

    def add(self, chunks: Sequence[Chunk]) -> None:
        """Upsert by key: re-adding a chunk replaces its terms (idempotent, so a retried write is harmless)."""
        for i in range(0, len(chunks), WRITE_BATCH):
            rows = [{"key": c.key, **milvus_fields(c), "terms": milvus_words(tokenize(passage_text(c)))}
                    for c in chunks[i : i + WRITE_BATCH]]
            self._client.upsert(self.collection, rows)

    def delete(self, keys: Sequence[int]) -> None:
        for batch in _batches(list(dict.fromkeys(int(k) for k in keys)), IN_BATCH):
            self._client.delete(self.collection, ids=batch)

    def search_terms(self, terms: Sequence[str] | Mapping[str, float], k: int,
                     filters: SearchFilters | None = None) -> list[Hit]:
        """`LexicalIndex.search_terms` in Milvus: top-k keys by BM25 (bm25s' scale), best first."""
        if k <= 0:
            return []
        groups = _weight_groups(terms)
        expression = milvus_expression(filters)
        if len(groups) == 1 and groups[0][0] == 1.0:
            return self._search(groups[0][1], k, expression)
        # (a second, exact pass restricted by `key in [...]` is not possible: see the module docstring)
        total: dict[int, float] = {}
        for weight, words in groups:
            for hit in self._search(words, k * WEIGHTED_DEPTH, expression):
                total[hit.key] = total.get(hit.key, 0.0) + weight * hit.score
        ranked = sorted(((key, s) for key, s in total.items() if s > 0), key=lambda x: (-x[1], x[0]))
        return [Hit(key, s) for key, s in ranked[:k]]

    def _search(self, words: str, k: int, expression: str) -> list[Hit]:
        if not words:
            return []
        result = self._client.search(self.collection, data=[words], anns_field="sparse", limit=min(k, MAX_TOPK),
                                     filter=expression, search_params={"metric_type": "BM25"}, output_fields=["key"])
        return [Hit(int(h["key"]), float(h["distance"]) / MILVUS_SCALE) for h in result[0]]

    def count(self) -> int:
        rows = self._client.query(self.collection, filter="", output_fields=["count(*)"])
        return int(rows[0]["count(*)"])

    def close(self) -> None:
        self._client.close()


def _weight_groups(terms: Sequence[str] | Mapping[str, float]) -> list[tuple[float, str]]:
    """(weight, words) per distinct weight, as `LexicalIndex.weighted_scores` groups them (a plain list of
    terms is one group of weight 1; duplicates count once, as in bm25s)."""
    weights: Mapping[str, float] = terms if isinstance(terms, Mapping) else dict.fromkeys(terms, 1.0)
    by_weight: dict[float, list[str]] = {}
    for term, weight in weights.items():
        if term and weight > 0:
            by_weight.setdefault(round(float(weight), 3), []).append(term)
    return [(w, milvus_words(ts)) for w, ts in by_weight.items()]


__all__ = ["MILVUS_SCALE", "MilvusLexical", "milvus_words"]
