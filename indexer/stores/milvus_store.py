"""`VectorStore` on Milvus: the same protocol as `FaissStore`, vectors and filter fields in a collection.

A URI ending in `.db` is a local file served in-process by milvus-lite (tests, one machine); `http://host:19530`
is a Milvus server (production). Milvus persists by itself, so `save(folder)` writes only a pointer file
(uri, collection, dim) into the index data folder and `load(folder)` reconnects.

Collection schema (primary key `Chunk.key`, a 63-bit int):
    key INT64 | vector FLOAT_VECTOR(dim), IP on L2-normalized rows | the filter fields of
    `indexer.stores.filters.milvus_fields` (doc_id, published, rounds), which `milvus_expression` filters on.

Collections written before BM25 moved out of Milvus also carry `terms` + `sparse` (BM25): they still load and
search; the next `isnad index` rebuilds them without those fields (their upserts would need `terms`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from isnad.indexer.stores.base import StoreError, StoreUnavailable
from isnad.indexer.stores.filters import milvus_expression, milvus_fields, milvus_schema_fields
from isnad.indexer.types import Chunk, Hit, SearchFilters

log = logging.getLogger(__name__)

POINTER_FILE = "milvus.json"
DEFAULT_COLLECTION = "isnad_chunks"
HNSW_MIN_ROWS = 100_000  # below this exact FLAT search is fast enough (same cut-over as the FAISS store)
HNSW_PARAMS = {"M": 16, "efConstruction": 200}
MAX_TOPK = 16_384  # Milvus' limit on `limit`
WRITE_BATCH = 2_000
IN_BATCH = 1_000  # keys per `key in [...]` expression
SCAN_BATCH = 16_384  # keys per page when listing every key (Milvus' cap on a query page)
# A request's calls wait this long for Milvus, then the service answers 503 (naming the uri) instead of hanging
CALL_TIMEOUT_S = 30.0
_TIMED = frozenset({"search", "query", "upsert", "delete", "get_load_state", "has_collection"})
# retried once after loading a collection a restarted server released
_READS = frozenset({"search", "query", "query_iterator"})


def is_local(uri: str) -> bool:
    """pymilvus serves URIs ending in `.db` (no scheme) with embedded milvus-lite."""
    return "://" not in uri and uri.endswith(".db")


class MilvusStore:
    """Exact (FLAT) or HNSW inner-product search in a Milvus collection keyed by `Chunk.key`.

    A new store (the constructor) starts from an empty collection, dropping one of the same name; `load`
    reconnects to an existing one. Writes are upserts; reads use Strong consistency so a search right after
    `add` sees it.
    """

    name = "milvus"

    def __init__(self, dim: int, uri: str = "milvus.db", collection: str = DEFAULT_COLLECTION,
                 index_type: str | None = None, *, _create: bool = True) -> None:
        if dim < 1:
            raise ValueError("dim must be positive")
        self.dim = dim
        self.uri = str(Path(uri).resolve()) if is_local(uri) else uri
        self.collection = collection
        self.legacy_bm25 = False  # a collection written with the old BM25 fields (see the module docstring)
        self.companions: tuple[str, ...] = ()  # other collections `problem()` keeps loaded (an archive's tables)
        self._fixed_index = index_type  # None: chosen by size at save time
        self._client = _connect(self.uri)
        if _create:
            self._create()
        elif not self._client.has_collection(collection):
            raise StoreError(f"Milvus collection {collection!r} not found at {self.uri}; rebuild with isnad index "
                             f"--store milvus")
        else:
            fields = {f["name"] for f in self._client.describe_collection(collection)["fields"]}
            self.legacy_bm25 = "terms" in fields
        self.index_type = self._current_index_type()

    # -- schema ---------------------------------------------------------------------------------------------
    def _create(self) -> None:
        from pymilvus import DataType

        c = self._client
        schema = fresh_schema(c, self.collection)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dim)
        milvus_schema_fields(schema, DataType)
        params = c.prepare_index_params()
        self._vector_index(params, self._fixed_index or "FLAT")
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
        except (MilvusException, StoreError):
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

    @staticmethod
    def _row(chunk: Chunk, vector: np.ndarray) -> dict[str, Any]:
        return {"key": chunk.key, "vector": vector, **milvus_fields(chunk)}

    def search(self, vectors: np.ndarray, k: int, filters: SearchFilters | None = None) -> list[list[Hit]]:
        vectors = np.ascontiguousarray(np.atleast_2d(vectors), dtype=np.float32)
        if k < 1 or len(vectors) == 0:
            return [[] for _ in range(len(vectors))]
        limit = min(k, MAX_TOPK)
        # ef always: another process (the index job) may have switched this collection to HNSW since we looked,
        # and FLAT ignores it
        params: dict[str, Any] = {"metric_type": "IP", "params": {"ef": max(limit, 128)}}
        result = self._client.search(self.collection, data=[v for v in vectors], anns_field="vector", limit=limit,
                                     filter=milvus_expression(filters), search_params=params, output_fields=[])
        return [[Hit(int(h["key"] if "key" in h else h["id"]), float(h["distance"])) for h in row] for row in result]

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

    def all_keys(self) -> np.ndarray:
        """Every stored key, sorted (paged: a collection may hold more than one query returns)."""
        pages: list[np.ndarray] = []
        it = self._client.query_iterator(self.collection, batch_size=SCAN_BATCH, filter="", output_fields=["key"])
        try:
            while page := it.next():
                pages.append(np.fromiter((int(r["key"]) for r in page), np.int64, len(page)))
        finally:
            it.close()
        return np.sort(np.concatenate(pages)) if pages else np.empty(0, np.int64)

    def vectors_for(self, keys: Sequence[int]) -> np.ndarray:
        row_of = {int(k): i for i, k in enumerate(keys)}
        if len(row_of) != len(keys):
            raise ValueError("vectors_for takes distinct keys")
        out = np.empty((len(keys), self.dim), dtype=np.float32)
        found = 0
        for batch in _batches(list(row_of), IN_BATCH):
            for r in self._client.query(self.collection, filter=f"key in {batch}", output_fields=["key", "vector"]):
                out[row_of[int(r["key"])]] = np.asarray(r["vector"], dtype=np.float32)
                found += 1
        if found != len(keys):
            raise KeyError(f"{len(keys) - found} of {len(keys)} keys are not in collection {self.collection}")
        return out

    def save(self, folder: Path) -> None:
        self._ensure_index_for_size()
        self._client.flush(self.collection)
        folder.mkdir(parents=True, exist_ok=True)
        pointer = {"uri": self._portable_uri(folder), "collection": self.collection, "dim": self.dim,
                   "count": self.count(), "index_type": self.index_type}
        (folder / POINTER_FILE).write_text(json.dumps(pointer, indent=2), encoding="utf-8")

    def _portable_uri(self, folder: Path) -> str:
        """A local database inside the index folder is recorded relative to it, so the folder can move."""
        if is_local(self.uri):
            index_folder = folder.resolve().parent
            if Path(self.uri).is_relative_to(index_folder):
                return "./" + str(Path(self.uri).relative_to(index_folder))
        return self.uri

    @classmethod
    def load(cls, folder: Path, *, uri: str | None = None) -> MilvusStore:
        """Reconnect to the collection `folder`'s pointer names; `uri` (where Milvus runs now) overrides its uri."""
        path = folder / POINTER_FILE
        try:
            pointer = json.loads(path.read_text(encoding="utf-8"))
            saved, collection, dim = str(pointer["uri"]), str(pointer["collection"]), int(pointer["dim"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise StoreError(f"Milvus store pointer {path} is missing or unreadable: {exc}") from exc
        if saved.startswith("./"):
            saved = str(folder.resolve().parent / saved[2:])
        store = cls(dim, uri or saved, collection, _create=False)
        store._client.load_collection(collection)
        return store

    def problem(self) -> str | None:
        """None while Milvus answers; else why not. A collection a restarted server left released is loaded
        again here, so a replica recovers on its health check even before the next search."""
        try:
            for collection in (self.collection, *self.companions):
                state = str(self._client.get_load_state(collection).get("state", ""))
                if "NotLoad" in state:
                    self._client.load_collection(collection)
        except StoreError as exc:
            return str(exc)
        return None

    def close(self) -> None:
        """Close the client; for a local file also stop this process' milvus-lite server so another may open it."""
        self._client.close()
        if is_local(self.uri):
            from milvus_lite.server_manager import server_manager_instance

            server_manager_instance.release_server(self.uri)


class MilvusStoreFactory:
    """What `IndexBuilder(store_factory=...)` takes: a new, empty store of a given dimension."""

    name = "milvus"
    layout = "milvus"  # `IndexBuilder.run` keeps the whole archive in Milvus; `build` (folder data) the vectors only

    def __init__(self, uri: str, collection: str = DEFAULT_COLLECTION, lease_s: float = 60.0) -> None:
        self.uri, self.collection = uri, collection
        self.lease_s = lease_s  # how long a killed writer of the archive keeps others out (milvus_lease.py)

    def __call__(self, dim: int) -> MilvusStore:
        return MilvusStore(dim, self.uri, self.collection)

    def same_target(self, store: object) -> bool:
        """An incremental build may reuse `store` only if it lives where this factory would write (and it has
        no legacy BM25 fields, which the rows written now lack)."""
        uri = str(Path(self.uri).resolve()) if is_local(self.uri) else self.uri
        return (isinstance(store, MilvusStore) and not store.legacy_bm25
                and (store.uri, store.collection) == (uri, self.collection))


def _connect(uri: str) -> Any:
    try:  # imported only when the milvus store is selected: serving with FAISS needs no pymilvus
        from pymilvus import MilvusClient
        from pymilvus.exceptions import MilvusException
    except ImportError as exc:
        raise ImportError("the milvus store needs the milvus extra: pip install 'isnad[milvus]'") from exc

    if is_local(uri):
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
    try:
        return GuardedClient(MilvusClient(uri), uri)
    except MilvusException as exc:
        hint = (" (milvus-lite lets one process open a database file: stop the other isnad process, or use a "
                "Milvus server URI)") if is_local(uri) else ""
        kind = StoreError if is_local(uri) else StoreUnavailable  # a server may be back soon; a locked file not
        raise kind(f"cannot connect to Milvus at {uri}: {exc.message}{hint}") from exc


class GuardedClient:
    """A MilvusClient whose every failure is a `StoreUnavailable` naming the uri (the service's 503), whose
    request calls wait at most CALL_TIMEOUT_S, and whose reads load a collection that a restarted Milvus left
    released (milvus-lite's server does: "call load() before search"), then retry once."""

    def __init__(self, client: Any, uri: str) -> None:
        self._client, self._uri = client, uri

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        return self._guarded(name, attr) if callable(attr) else attr

    def _guarded(self, name: str, call: Callable[..., Any]) -> Callable[..., Any]:
        from pymilvus.exceptions import MilvusException

        def guarded(*args: Any, **kwargs: Any) -> Any:
            if name in _TIMED:
                kwargs.setdefault("timeout", CALL_TIMEOUT_S)
            for attempt in (1, 2):
                try:
                    return call(*args, **kwargs)
                except MilvusException as exc:
                    collection = args[0] if args else kwargs.get("collection_name")
                    if attempt == 1 and name in _READS and collection and _released(exc):
                        self._load_again(str(collection))
                        continue
                    raise StoreUnavailable(f"Milvus at {self._uri} did not answer ({name}: {exc.message}); "
                                           f"retry when it is back") from exc
            raise AssertionError("unreachable")

        return guarded

    def _load_again(self, collection: str) -> None:
        from pymilvus.exceptions import MilvusException

        log.warning("Milvus at %s released collection %s (restarted?): loading it again", self._uri, collection)
        try:
            self._client.load_collection(collection)
        except MilvusException as exc:
            raise StoreUnavailable(f"Milvus at {self._uri} did not load collection {collection} again "
                                   f"({exc.message})") from exc


def _released(exc: Any) -> bool:
    message = str(getattr(exc, "message", exc)).lower()
    return "released" in message or "not loaded" in message or "load()" in message


def fresh_schema(client: Any, collection: str) -> Any:
    """Drop `collection` if it exists; a new schema keyed by `Chunk.key` (INT64 primary), no dynamic fields."""
    from pymilvus import DataType

    if client.has_collection(collection):
        client.drop_collection(collection)
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("key", DataType.INT64, is_primary=True)
    return schema


def _batches(items: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
