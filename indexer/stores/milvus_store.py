"""`VectorStore` on Milvus: the same protocol as `FaissStore`, vectors and filter fields in a collection.

A URI ending in `.db` is a local file served in-process by milvus-lite (tests, one machine); `http://host:19530`
is a Milvus server (production). Milvus persists by itself, so `save(folder)` writes only a pointer file
(uri, collection, dim) into the index data folder and `load(folder)` reconnects.

Collection schema (primary key `Chunk.key`, a 63-bit int):
    key INT64 | vector FLOAT_VECTOR(dim), IP on L2-normalized rows | doc_id VARCHAR | published VARCHAR
    ("" when unknown; ISO dates compare as strings) | rounds ARRAY<INT64> | terms VARCHAR + sparse: BM25.

`terms` holds the chunk's `indexer.text.arabic.tokenize` tokens, each hashed to an ASCII word: milvus-lite ships
only the `standard` and `jieba` tokenizers, so hashing keeps Milvus' BM25 term-for-term identical to ours.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from indexer.stores.faiss_store import StoreError
from indexer.types import Chunk, Hit, SearchFilters

log = logging.getLogger(__name__)

POINTER_FILE = "milvus.json"
DEFAULT_COLLECTION = "isnad_chunks"
HNSW_MIN_ROWS = 100_000  # below this exact FLAT search is fast enough (same cut-over as the FAISS store)
HNSW_PARAMS = {"M": 16, "efConstruction": 200}
MAX_TOPK = 16_384  # Milvus' limit on `limit`
MAX_ROUNDS = 128
MAX_TERMS_BYTES = 65_535
WRITE_BATCH = 2_000
IN_BATCH = 1_000
BM25_K1 = 1.5  # keys per `key in [...]` expression


def is_local(uri: str) -> bool:
    """pymilvus serves URIs ending in `.db` (no scheme) with embedded milvus-lite."""
    return "://" not in uri and uri.endswith(".db")


def quote(value: str) -> str:
    """A Milvus string literal: JSON escaping (quotes, backslashes, control characters) is what its parser reads."""
    return json.dumps(value, ensure_ascii=False)


def filter_expression(filters: SearchFilters | None) -> str:
    """`SearchFilters` as a Milvus boolean expression ("" when there is nothing to filter)."""
    if filters is None or filters.is_empty():
        return ""
    parts: list[str] = []
    if filters.doc_id is not None:
        parts.append(f"doc_id == {quote(filters.doc_id)}")
    if filters.round is not None:
        parts.append(f"ARRAY_CONTAINS(rounds, {int(filters.round)})")
    if filters.published_from is not None or filters.published_to is not None:
        parts.append('published != ""')  # an undated chunk never matches a date range, as in `accepts`
    if filters.published_from is not None:
        parts.append(f"published >= {quote(filters.published_from)}")
    if filters.published_to is not None:
        parts.append(f"published <= {quote(filters.published_to)}")
    return " and ".join(parts)


def term_words(tokens: Sequence[str]) -> str:
    """Tokens as space-separated ASCII words the `standard` tokenizer keeps whole (48-bit hashes)."""
    return " ".join("t" + hashlib.blake2b(t.encode("utf-8"), digest_size=6).hexdigest() for t in tokens if t)


class MilvusStore:
    """Exact (FLAT) or HNSW inner-product search in a Milvus collection keyed by `Chunk.key`.

    A new store (the constructor) starts from an empty collection, dropping one of the same name; `load`
    reconnects to an existing one. Writes are upserts; reads use Strong consistency so a search right after
    `add` sees it.
    """

    name = "milvus"

    def __init__(self, dim: int, uri: str = "milvus.db", collection: str = DEFAULT_COLLECTION,
                 lexical: bool = True, index_type: str | None = None, *, _create: bool = True) -> None:
        if dim < 1:
            raise ValueError("dim must be positive")
        self.dim = dim
        self.uri = str(Path(uri).resolve()) if is_local(uri) else uri
        self.collection = collection
        self.lexical = lexical
        self._fixed_index = index_type  # None: chosen by size at save time
        self._client = _connect(self.uri)
        if _create:
            self._create()
        elif not self._client.has_collection(collection):
            raise StoreError(f"Milvus collection {collection!r} not found at {self.uri}; rebuild with isnad index "
                             f"--store milvus")
        self.index_type = self._current_index_type()

    # -- schema ---------------------------------------------------------------------------------------------
    def _create(self) -> None:
        from pymilvus import DataType, Function, FunctionType

        c = self._client
        if c.has_collection(self.collection):
            c.drop_collection(self.collection)
        schema = c.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("key", DataType.INT64, is_primary=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dim)
        schema.add_field("doc_id", DataType.VARCHAR, max_length=1024)
        schema.add_field("published", DataType.VARCHAR, max_length=32)
        schema.add_field("rounds", DataType.ARRAY, element_type=DataType.INT64, max_capacity=MAX_ROUNDS)
        if self.lexical:
            schema.add_field("terms", DataType.VARCHAR, max_length=MAX_TERMS_BYTES, enable_analyzer=True,
                             analyzer_params={"tokenizer": "standard"})
            schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
            schema.add_function(Function(name="bm25", function_type=FunctionType.BM25,
                                         input_field_names=["terms"], output_field_names=["sparse"]))
        params = c.prepare_index_params()
        self._vector_index(params, self._fixed_index or "FLAT")
        if self.lexical:
            # k1/b as bm25s' defaults so scores match indexer.stores.lexical
            params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                             params={"bm25_k1": BM25_K1, "bm25_b": 0.75})
        c.create_collection(self.collection, schema=schema, index_params=params, consistency_level="Strong")

    @staticmethod
    def _vector_index(params: Any, index_type: str) -> None:
        extra = HNSW_PARAMS if index_type == "HNSW" else {}
        params.add_index("vector", index_name="vector", index_type=index_type, metric_type="IP", params=extra)

    def _current_index_type(self) -> str:
        return str(self._client.describe_index(self.collection, "vector").get("index_type", "FLAT"))

    def _ensure_index_for_size(self) -> None:
        """FLAT under HNSW_MIN_ROWS, HNSW above: rebuilt once when a build crosses the line."""
        wanted = self._fixed_index or ("HNSW" if self.count() >= HNSW_MIN_ROWS else "FLAT")
        if wanted == self.index_type:
            return
        c = self._client
        c.release_collection(self.collection)
        c.drop_index(self.collection, "vector")
        params = c.prepare_index_params()
        self._vector_index(params, wanted)
        from pymilvus.exceptions import MilvusException

        try:
            c.create_index(self.collection, params)
        except MilvusException:
            # a long HNSW build can outlive the gRPC keepalive; pymilvus then retries into "already exists"
            if self._current_index_type() != wanted:
                raise
        c.load_collection(self.collection)
        self.index_type = wanted

    # -- protocol -------------------------------------------------------------------------------------------
    def add(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape != (len(chunks), self.dim):
            raise ValueError(f"expected vectors of shape ({len(chunks)}, {self.dim}), got {vectors.shape}")
        for i in range(0, len(chunks), WRITE_BATCH):
            rows = [self._row(c, v) for c, v in zip(chunks[i : i + WRITE_BATCH], vectors[i : i + WRITE_BATCH],
                                                    strict=True)]
            self._client.upsert(self.collection, rows)  # upsert on the primary key: re-adding replaces

    def _row(self, chunk: Chunk, vector: np.ndarray) -> dict[str, Any]:
        if len(chunk.rounds) > MAX_ROUNDS:
            raise ValueError(f"chunk {chunk.chunk_id} has {len(chunk.rounds)} rounds, at most {MAX_ROUNDS}")
        row: dict[str, Any] = {"key": chunk.key, "vector": vector, "doc_id": chunk.doc_id,
                               "published": chunk.published or "", "rounds": [int(r) for r in chunk.rounds]}
        if self.lexical:
            from indexer.text.arabic import tokenize

            words = term_words(tokenize(f"{chunk.title}\n{chunk.text}" if chunk.title else chunk.text))
            # ASCII, so characters are bytes; cut at a word boundary
            row["terms"] = words if len(words) <= MAX_TERMS_BYTES else words[:MAX_TERMS_BYTES].rsplit(" ", 1)[0]
        return row

    def search(self, vectors: np.ndarray, k: int, filters: SearchFilters | None = None) -> list[list[Hit]]:
        vectors = np.ascontiguousarray(np.atleast_2d(vectors), dtype=np.float32)
        if k < 1 or len(vectors) == 0:
            return [[] for _ in range(len(vectors))]
        limit = min(k, MAX_TOPK)
        params: dict[str, Any] = {"metric_type": "IP"}
        if self.index_type == "HNSW":
            params["params"] = {"ef": max(limit, 128)}
        result = self._client.search(self.collection, data=[v for v in vectors], anns_field="vector", limit=limit,
                                     filter=filter_expression(filters), search_params=params, output_fields=[])
        return [[Hit(int(h["key"] if "key" in h else h["id"]), float(h["distance"])) for h in row] for row in result]

    def lexical_search(self, terms: Sequence[str], k: int, filters: SearchFilters | None = None) -> list[Hit]:
        """BM25 top-k for already-tokenized query terms (`indexer.text.arabic.tokenize`), computed inside Milvus."""
        if not self.lexical:
            raise StoreError(f"collection {self.collection} was created without the BM25 field")
        words = term_words(list(dict.fromkeys(terms)))
        if k < 1 or not words:
            return []
        result = self._client.search(self.collection, data=[words], anns_field="sparse", limit=min(k, MAX_TOPK),
                                     filter=filter_expression(filters), search_params={"metric_type": "BM25"},
                                     output_fields=[])
        # milvus-lite reports BM25 as a negated distance, a Milvus server as the score (BM25 is never negative);
        # Milvus keeps the (k1 + 1) numerator bm25s drops: divide it out so scores match indexer.stores.lexical
        return [Hit(int(h["key"] if "key" in h else h["id"]), abs(float(h["distance"])) / (1 + BM25_K1))
                for h in result[0]]

    def delete(self, keys: Sequence[int]) -> int:
        removed = 0
        for batch in _batches(list(dict.fromkeys(int(k) for k in keys)), IN_BATCH):
            # Milvus' delete reports the keys it was given, not those it found: count them first
            present = [int(r["key"]) for r in self._client.query(self.collection, filter=f"key in {batch}",
                                                                 output_fields=["key"])]
            if present:
                self._client.delete(self.collection, ids=present)
                removed += len(present)
        return removed

    def count(self) -> int:
        rows = self._client.query(self.collection, filter="", output_fields=["count(*)"])
        return int(rows[0]["count(*)"])

    def save(self, folder: Path) -> None:
        self._ensure_index_for_size()
        self._client.flush(self.collection)
        folder.mkdir(parents=True, exist_ok=True)
        pointer = {"uri": self._portable_uri(folder), "collection": self.collection, "dim": self.dim,
                   "count": self.count(), "index_type": self.index_type, "lexical": self.lexical}
        (folder / POINTER_FILE).write_text(json.dumps(pointer, indent=2), encoding="utf-8")

    def _portable_uri(self, folder: Path) -> str:
        """A local database inside the index folder is recorded relative to it, so the folder can move."""
        if is_local(self.uri):
            index_folder = folder.resolve().parent
            if Path(self.uri).is_relative_to(index_folder):
                return "./" + str(Path(self.uri).relative_to(index_folder))
        return self.uri

    @classmethod
    def load(cls, folder: Path) -> MilvusStore:
        """Reconnect to the collection `folder`'s pointer names; env ISNAD_MILVUS_URI overrides its uri."""
        path = folder / POINTER_FILE
        try:
            pointer = json.loads(path.read_text(encoding="utf-8"))
            uri, collection, dim = str(pointer["uri"]), str(pointer["collection"]), int(pointer["dim"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise StoreError(f"Milvus store pointer {path} is missing or unreadable: {exc}") from exc
        if uri.startswith("./"):
            uri = str(folder.resolve().parent / uri[2:])
        uri = os.environ.get("ISNAD_MILVUS_URI") or uri
        store = cls(dim, uri, collection, lexical=bool(pointer.get("lexical", True)), _create=False)
        store._client.load_collection(collection)
        return store

    def close(self) -> None:
        """Close the client; for a local file also stop this process' milvus-lite server so another may open it."""
        self._client.close()
        if is_local(self.uri):
            from milvus_lite.server_manager import server_manager_instance

            server_manager_instance.release_server(self.uri)


class MilvusStoreFactory:
    """What `IndexBuilder(store_factory=...)` takes: a new, empty store of a given dimension."""

    name = "milvus"

    def __init__(self, uri: str, collection: str = DEFAULT_COLLECTION, lexical: bool = True) -> None:
        self.uri, self.collection, self.lexical = uri, collection, lexical

    def __call__(self, dim: int) -> MilvusStore:
        return MilvusStore(dim, self.uri, self.collection, self.lexical)

    def same_target(self, store: object) -> bool:
        """An incremental build may reuse `store` only if it lives where this factory would write."""
        uri = str(Path(self.uri).resolve()) if is_local(self.uri) else self.uri
        return isinstance(store, MilvusStore) and (store.uri, store.collection) == (uri, self.collection)


def _connect(uri: str) -> Any:
    from pymilvus import MilvusClient
    from pymilvus.exceptions import MilvusException

    if is_local(uri):
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
    try:
        return MilvusClient(uri)
    except MilvusException as exc:
        hint = (" (milvus-lite lets one process open a database file: stop the other isnad process, or use a "
                "Milvus server URI)") if is_local(uri) else ""
        raise StoreError(f"cannot connect to Milvus at {uri}: {exc.message}{hint}") from exc


def _batches(items: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def make_store_factory(kind: str, index_folder: Path, milvus_uri: str | None = None,
                       collection: str = DEFAULT_COLLECTION) -> Any:
    """The `store_factory` for `IndexBuilder`: FAISS files, or Milvus at `milvus_uri` (default INDEX/milvus.db)."""
    if kind == "faiss":
        from indexer.stores.faiss_store import FaissStore

        return FaissStore
    if kind == "milvus":
        return MilvusStoreFactory(milvus_uri or str(index_folder / "milvus.db"), collection)
    raise ValueError(f"unknown store {kind!r}: use faiss or milvus")
