"""The archive's tables in Milvus: passages (vectors, text, citation fields, BM25), documents, and a small meta table.

With `--store milvus` everything that grows with the archive lives here, so an API replica holds only its models
(docs/scaling.md). Three collections per archive name `C`:

    C             passages: `MilvusStore`'s fields (key, vector, doc_id, published, rounds) + chunk_id, start, end,
                  title, text, doc_hash, and BM25 (`terms` + Milvus' BM25 function, scored as bm25s:
                  `milvus_lexical.py`). An archive's passage key is `passage_key(chunk_id, doc_hash)`: each version of
                  a document has its own rows, so writing a new version never touches the current one's.
    C_documents   the document's JSON record (`types.document_record`) cut into parts of PART_CHARS: the head row
                  (part 0, key "h:<doc_id>") names the current version (content hash, part count); parts 1.. of a
                  version are keyed by doc_id, hash and number
    C_meta        name -> JSON value: the manifest, the rounds the archive mentions, the write lease

The head row is each document's commit point: a document is the version its head names, and a passage is shown
only while its doc_hash is that version's (`MilvusArchive.passages`). A writer killed before the head moves
leaves the previous version whole; rows of unfinished versions are invisible and the next write removes them.

Milvus requires a vector field in every collection: the documents and meta collections carry a constant 2-d one.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from isnad.indexer.stores.base import StoreError
from isnad.indexer.stores.filters import milvus_expression, quote
from isnad.indexer.stores.milvus_lexical import K1, MILVUS_SCALE, WEIGHTED_DEPTH, B, _weight_groups, milvus_words
from isnad.indexer.stores.milvus_store import (
    IN_BATCH,
    MAX_TOPK,
    SCAN_BATCH,
    WRITE_BATCH,
    MilvusStore,
    _batches,
    _connect,
)
from isnad.indexer.text.arabic import tokenize
from isnad.indexer.types import (
    Chunk,
    Document,
    Hit,
    SearchFilters,
    chunk_key,
    document_from_record,
    document_record,
    passage_text,
)

FRESH_S = 0.5  # a document read is reused this long (see `MilvusDocuments.get_many`)
RECENT_DOCUMENTS = 512
PART_CHARS = 16_000  # a VARCHAR holds 65,535 bytes: 16k characters fit even at 4 bytes each
TEXT_MAX = 65_535
_PLACEHOLDER = [1.0, 0.0]  # the constant vector of the documents and meta collections
_PASSAGE_FIELDS = ["key", "doc_id", "chunk_id", "start", "end", "title", "published", "rounds", "text", "doc_hash"]


class MilvusPassages(MilvusStore):
    """The passages collection: a `VectorStore` (the same contract as FAISS) whose rows also carry the passage's
    text and citation fields and its BM25 terms, so search needs nothing but Milvus.

    An archive writes with `add_versions` (rows of a document version); plain `add` (the protocol's) writes rows of
    no version, which `MilvusArchive.passages` never shows."""

    name = "milvus"

    def _create(self) -> None:
        from pymilvus import DataType, Function, FunctionType

        c = self._client
        schema = _fresh(c, self.collection, "key", DataType.INT64)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dim)
        from isnad.indexer.stores.filters import milvus_schema_fields

        milvus_schema_fields(schema, DataType)
        schema.add_field("chunk_id", DataType.VARCHAR, max_length=1024)
        schema.add_field("doc_hash", DataType.VARCHAR, max_length=64)
        schema.add_field("start", DataType.INT64)
        schema.add_field("end", DataType.INT64)
        schema.add_field("title", DataType.VARCHAR, max_length=TEXT_MAX)
        schema.add_field("text", DataType.VARCHAR, max_length=TEXT_MAX)
        schema.add_field("terms", DataType.VARCHAR, max_length=TEXT_MAX, enable_analyzer=True,
                         analyzer_params={"tokenizer": "standard"})
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["terms"],
                                     output_field_names=["sparse"]))
        params = c.prepare_index_params()
        self._vector_index(params, self._fixed_index or "FLAT")
        params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                         params={"bm25_k1": K1, "bm25_b": B})
        c.create_collection(self.collection, schema=schema, index_params=params, consistency_level="Strong")

    @staticmethod
    def _row(chunk: Chunk, vector: Any, doc_hash: str = "") -> dict[str, Any]:
        row = MilvusStore._row(chunk, vector)
        row.update(chunk_id=chunk.chunk_id, start=chunk.start, end=chunk.end, title=chunk.title or "",
                   text=chunk.text, doc_hash=doc_hash, terms=milvus_words(tokenize(passage_text(chunk))))
        if doc_hash:
            row["key"] = passage_key(chunk.chunk_id, doc_hash)
        return row

    def add_versions(self, chunks: Sequence[Chunk], vectors: Any, doc_hashes: Mapping[str, str]) -> None:
        """Upsert chunks as rows of their document's version `doc_hashes[doc_id]` (keys `passage_key`)."""
        for i in range(0, len(chunks), WRITE_BATCH):
            rows = [self._row(c, v, doc_hashes[c.doc_id])
                    for c, v in zip(chunks[i : i + WRITE_BATCH], vectors[i : i + WRITE_BATCH], strict=True)]
            self._client.upsert(self.collection, rows)

    def lexical(self, terms: Sequence[str] | Mapping[str, float], k: int,
                filters: SearchFilters | None = None) -> list[Hit]:
        """BM25 top-k keys on bm25s' scale (`LexicalIndex.search_terms`), best first; weighted terms are one
        search per weight, summed (`milvus_lexical.MilvusLexical.search_terms`)."""
        if k <= 0:
            return []
        groups = [(weight, words) for weight, words in _weight_groups(terms) if words]
        if not groups:
            return []
        expression = milvus_expression(filters)
        if len(groups) == 1 and groups[0][0] == 1.0:
            return self._bm25([groups[0][1]], k, expression)[0]
        total: dict[int, float] = {}
        # every weight group in one call (one round trip), each its top k x WEIGHTED_DEPTH
        lists = self._bm25([words for _, words in groups], k * WEIGHTED_DEPTH, expression)
        for (weight, _), hits in zip(groups, lists, strict=True):
            for hit in hits:
                total[hit.key] = total.get(hit.key, 0.0) + weight * hit.score
        ranked = sorted(((key, s) for key, s in total.items() if s > 0), key=lambda x: (-x[1], x[0]))
        return [Hit(key, s) for key, s in ranked[:k]]

    def _bm25(self, queries: list[str], k: int, expression: str) -> list[list[Hit]]:
        result = self._client.search(self.collection, data=queries, anns_field="sparse", limit=min(k, MAX_TOPK),
                                     filter=expression, search_params={"metric_type": "BM25"}, output_fields=["key"])
        return [[Hit(int(h["key"]), float(h["distance"]) / MILVUS_SCALE) for h in row] for row in result]

    def passages(self, keys: Sequence[int]) -> dict[int, tuple[Chunk, str]]:
        """(passage, its document version's hash) of the `keys` that exist (one query per IN_BATCH keys)."""
        out: dict[int, tuple[Chunk, str]] = {}
        for batch in _batches(list(dict.fromkeys(int(k) for k in keys)), IN_BATCH):
            for r in self._client.query(self.collection, filter=f"key in {batch}", output_fields=_PASSAGE_FIELDS):
                out[int(r["key"])] = (Chunk(r["doc_id"], r["chunk_id"], int(r["start"]), int(r["end"]), r["text"],
                                            r["title"] or None, r["published"] or None,
                                            tuple(int(x) for x in r["rounds"])), r["doc_hash"])
        return out

    def rounds_of(self, keys: Sequence[int]) -> dict[int, tuple[int, ...]]:
        out: dict[int, tuple[int, ...]] = {}
        for batch in _batches(list(dict.fromkeys(int(k) for k in keys)), IN_BATCH):
            for r in self._client.query(self.collection, filter=f"key in {batch}", output_fields=["key", "rounds"]):
                out[int(r["key"])] = tuple(int(x) for x in r["rounds"])
        return out

    def keys_of_documents(self, doc_ids: Sequence[str]) -> dict[str, list[tuple[int, str]]]:
        """doc_id -> (key, version hash) of every passage stored for it now, of any version."""
        out: dict[str, list[tuple[int, str]]] = {d: [] for d in doc_ids}
        for i in range(0, len(doc_ids), IN_BATCH):
            ids = ", ".join(quote(d) for d in doc_ids[i : i + IN_BATCH])
            for r in _query_all(self._client, self.collection, f"doc_id in [{ids}]", ["key", "doc_id", "doc_hash"]):
                out[r["doc_id"]].append((int(r["key"]), r["doc_hash"]))
        return out


class MilvusDocuments(Mapping[str, Document]):
    """doc_id -> Document over the documents collection (each access is a query: nothing is held here)."""

    def __init__(self, client: Any, collection: str, *, create: bool = False) -> None:
        self._client, self.collection = client, collection
        self._recent: dict[str, tuple[float, Document]] = {}
        if create:
            from pymilvus import DataType

            schema = _fresh(client, collection, "pk", DataType.VARCHAR, max_length=1100)
            schema.add_field("doc_id", DataType.VARCHAR, max_length=1024)
            schema.add_field("part", DataType.INT64)
            schema.add_field("parts", DataType.INT64)
            schema.add_field("hash", DataType.VARCHAR, max_length=64)
            schema.add_field("origin", DataType.VARCHAR, max_length=16)
            schema.add_field("data", DataType.VARCHAR, max_length=TEXT_MAX)
            _create_with_placeholder(client, collection, schema)
        _load(client, collection, "the archive's documents")

    # -- writes ---------------------------------------------------------------------------------------------
    def put(self, documents: Sequence[tuple[Document, str]]) -> None:
        """Upsert (document, content hash) pairs: a version's later parts first, then its head (the commit point),
        then the parts of versions the heads no longer name."""
        heads: list[dict[str, Any]] = []
        tails: list[dict[str, Any]] = []
        for document, content_hash in documents:
            record = document_record(document, content_hash).decode("utf-8")
            parts = [record[i : i + PART_CHARS] for i in range(0, len(record), PART_CHARS)]
            rows = [{"pk": _part_pk(document.doc_id, content_hash, i), "doc_id": document.doc_id, "part": i,
                     "parts": len(parts), "hash": content_hash, "origin": document.origin, "data": p,
                     "v": _PLACEHOLDER} for i, p in enumerate(parts)]
            heads.append(rows[0])
            tails += rows[1:]
        for batch in (tails, heads):
            for i in range(0, len(batch), WRITE_BATCH):
                self._client.upsert(self.collection, batch[i : i + WRITE_BATCH])
        for head in heads:
            self._recent.pop(head["doc_id"], None)
        self._drop_other_versions({h["doc_id"]: h["hash"] for h in heads})

    def _drop_other_versions(self, current: Mapping[str, str]) -> None:
        """Delete later parts of versions other than `current` (doc_id -> hash)."""
        ids = list(current)
        for i in range(0, len(ids), IN_BATCH):
            quoted = ", ".join(quote(d) for d in ids[i : i + IN_BATCH])
            stale = [r["pk"] for r in _query_all(self._client, self.collection, f"part >= 1 and doc_id in [{quoted}]",
                                                 ["pk", "doc_id", "hash"]) if r["hash"] != current[r["doc_id"]]]
            for j in range(0, len(stale), IN_BATCH):
                self._client.delete(self.collection, ids=stale[j : j + IN_BATCH])

    def remove(self, doc_ids: Sequence[str]) -> None:
        """Delete documents: heads first (from then on they are gone), then their parts."""
        for doc_id in doc_ids:
            self._recent.pop(doc_id, None)
        for i in range(0, len(doc_ids), IN_BATCH):
            batch = list(doc_ids[i : i + IN_BATCH])
            self._client.delete(self.collection, ids=[_part_pk(d, "", 0) for d in batch])
            ids = ", ".join(quote(d) for d in batch)
            self._client.delete(self.collection, filter=f"doc_id in [{ids}]")

    # -- reads ----------------------------------------------------------------------------------------------
    def hashes_of(self, doc_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """doc_id -> (content hash, origin) of those stored."""
        out: dict[str, tuple[str, str]] = {}
        for i in range(0, len(doc_ids), IN_BATCH):
            ids = ", ".join(quote(d) for d in doc_ids[i : i + IN_BATCH])
            for r in _query_all(self._client, self.collection, f"part == 0 and doc_id in [{ids}]",
                                ["doc_id", "hash", "origin"]):
                out[r["doc_id"]] = (r["hash"], r["origin"])
        return out

    def all_hashes(self) -> dict[str, tuple[str, str]]:
        """Every document's (content hash, origin): what the index job compares a corpus against."""
        return {r["doc_id"]: (r["hash"], r["origin"])
                for r in _query_all(self._client, self.collection, "part == 0", ["doc_id", "hash", "origin"])}

    def get_many(self, doc_ids: Sequence[str]) -> dict[str, Document]:
        """The stored documents among `doc_ids`; one read serves the same id again for FRESH_S (a response reads
        a cited document's title, source and text in turn), so another replica's write shows within that."""
        now = time.monotonic()
        out: dict[str, Document] = {}
        wanted: list[str] = []
        for doc_id in doc_ids:
            hit = self._recent.get(doc_id)
            if hit is not None and now - hit[0] < FRESH_S:
                out[doc_id] = hit[1]
            else:
                wanted.append(doc_id)
        if wanted:
            read = self._read(wanted)
            for doc_id, document in read.items():
                self._recent[doc_id] = (now, document)
            out.update(read)
            while len(self._recent) > RECENT_DOCUMENTS:
                self._recent.pop(next(iter(self._recent)), None)
        return out

    def _read(self, doc_ids: Sequence[str]) -> dict[str, Document]:
        heads: dict[str, dict[str, Any]] = {}
        for i in range(0, len(doc_ids), IN_BATCH):
            ids = ", ".join(quote(d) for d in doc_ids[i : i + IN_BATCH])
            for r in _query_all(self._client, self.collection, f"part == 0 and doc_id in [{ids}]",
                                ["doc_id", "parts", "hash", "data"]):
                heads[r["doc_id"]] = r
        long = [d for d, head in heads.items() if int(head["parts"]) > 1]
        tails: dict[str, dict[int, str]] = {}
        for i in range(0, len(long), IN_BATCH):
            ids = ", ".join(quote(d) for d in long[i : i + IN_BATCH])
            for r in _query_all(self._client, self.collection, f"part >= 1 and doc_id in [{ids}]",
                                ["doc_id", "part", "hash", "data"]):
                if r["hash"] == heads[r["doc_id"]]["hash"]:  # the version its head names, no other
                    tails.setdefault(r["doc_id"], {})[int(r["part"])] = r["data"]
        out: dict[str, Document] = {}
        for doc_id, head in heads.items():
            rest = tails.get(doc_id, {})
            if sorted(rest) != list(range(1, int(head["parts"]))):
                raise StoreError(f"document {doc_id!r} in Milvus collection {self.collection} lacks parts of its "
                                 f"current version; write it again")
            out[doc_id] = document_from_record(head["data"] + "".join(rest[i] for i in sorted(rest)))
        return out

    def __getitem__(self, doc_id: str) -> Document:
        found = self.get_many([doc_id]).get(doc_id)
        if found is None:
            raise KeyError(doc_id)
        return found

    def __contains__(self, doc_id: object) -> bool:
        return isinstance(doc_id, str) and bool(self.hashes_of([doc_id]))

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.all_hashes()))

    def __len__(self) -> int:
        rows = self._client.query(self.collection, filter="part == 0", output_fields=["count(*)"])
        return int(rows[0]["count(*)"])

    def texts(self) -> Iterator[str]:
        """Every document's text in one pass (the induced lexicon's vocabulary), not one query per document."""
        long: list[str] = []
        for r in _query_all(self._client, self.collection, "part == 0", ["doc_id", "parts", "data"]):
            if int(r["parts"]) == 1:
                yield document_from_record(r["data"]).text
            else:
                long.append(r["doc_id"])
        for i in range(0, len(long), 64):
            yield from (d.text for d in self.get_many(long[i : i + 64]).values())


class MilvusMeta:
    """name -> JSON value: the archive's manifest, the rounds it mentions, the write lease."""

    def __init__(self, client: Any, collection: str, *, create: bool = False) -> None:
        self._client, self.collection = client, collection
        if create:
            from pymilvus import DataType

            schema = _fresh(client, collection, "name", DataType.VARCHAR, max_length=256)
            schema.add_field("value", DataType.VARCHAR, max_length=TEXT_MAX)
            _create_with_placeholder(client, collection, schema)
        _load(client, collection, "the archive's manifest")

    def get(self, name: str) -> Any:
        rows = self._client.query(self.collection, filter=f"name == {quote(name)}", output_fields=["value"])
        return json.loads(rows[0]["value"]) if rows else None

    def put(self, name: str, value: Any) -> None:
        self._client.upsert(self.collection, [{"name": name, "value": json.dumps(value, ensure_ascii=False),
                                               "v": _PLACEHOLDER}])

    def delete(self, name: str) -> None:
        self._client.delete(self.collection, filter=f"name == {quote(name)}")


def passage_key(chunk_id: str, doc_hash: str) -> int:
    """An archive passage's primary key: its chunk id within one version of its document (63 bits)."""
    return chunk_key(f"{chunk_id}@{doc_hash}")


def _part_pk(doc_id: str, content_hash: str, part: int) -> str:
    return f"h:{doc_id}" if part == 0 else f"p:{doc_id}#{content_hash[:16]}#{part}"


def connect(uri: str) -> Any:
    """A guarded client (every failure a `StoreUnavailable` naming the uri): see `milvus_store.GuardedClient`."""
    return _connect(uri)


def _fresh(client: Any, collection: str, primary: str, dtype: Any, **kwargs: Any) -> Any:
    if client.has_collection(collection):
        client.drop_collection(collection)
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field(primary, dtype, is_primary=True, **kwargs)
    return schema


def _load(client: Any, collection: str, what: str) -> None:
    if not client.has_collection(collection):
        raise StoreError(f"Milvus collection {collection!r} ({what}) is missing; rebuild with isnad index "
                         f"--store milvus")
    client.load_collection(collection)


def _create_with_placeholder(client: Any, collection: str, schema: Any) -> None:
    from pymilvus import DataType

    schema.add_field("v", DataType.FLOAT_VECTOR, dim=len(_PLACEHOLDER))
    params = client.prepare_index_params()
    params.add_index("v", index_type="FLAT", metric_type="IP")
    client.create_collection(collection, schema=schema, index_params=params, consistency_level="Strong")


def _query_all(client: Any, collection: str, expression: str, fields: list[str]) -> Iterator[dict[str, Any]]:
    """Every row matching `expression`: one query when they fit a page (requests' lookups), else paged (scans)."""
    rows = client.query(collection, filter=expression, output_fields=fields, limit=SCAN_BATCH)
    if len(rows) < SCAN_BATCH:
        yield from rows
        return
    # milvus-lite has no server-side timestamp for iterators and says so on every one: not worth a warning
    logging.getLogger("pymilvus.client.iterator.query_iterator").setLevel(logging.ERROR)
    it = client.query_iterator(collection, batch_size=SCAN_BATCH, filter=expression, output_fields=fields)
    try:
        while page := it.next():
            yield from page
    finally:
        it.close()
