"""An archive kept whole in Milvus (`--store milvus`): passages, documents, BM25, vectors; the folder, a pointer.

    INDEX/manifest.json   layout "milvus": model, dimension, chunking (what the folder layout records too)
    INDEX/milvus.json     {uri, collection}: where the archive lives (`--milvus-uri` on serve overrides the uri)

The collections are `indexer/stores/milvus_tables.py`'s. Nothing that grows with the archive is read into an API
replica: every search asks Milvus, so a write through any replica is found through every other at once (Strong
consistency), with no reload. Writes (the index job and POST/DELETE /documents alike) hold the archive's write
lease (`milvus_lease.py`) and are upserts by key: a repeated write changes nothing.

A write, in the order that keeps an acknowledged write whole and a crashed one invisible: embed the changed
documents' passages and upsert them as rows of their new versions (keys of their own, beside the current ones),
upsert the documents (each head row is its document's commit point), delete the passages of other versions, then
remove deleted documents (heads first, then parts and passages), flush, release the lease. Search shows a passage
only while its document's head names its version, so a writer killed part way leaves the previous version whole
and searchable; its leftovers are removed by the next write of that document.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from isnad.indexer import phases
from isnad.indexer.embed import runtime_of
from isnad.indexer.index import (
    FORMAT_VERSION,
    MANIFEST_FILE,
    BuildReport,
    Index,
    IndexBuilder,
    IndexLoadError,
    Manifest,
    SearchIndex,
    UnknownDocumentError,
)
from isnad.indexer.lock import IndexBusy
from isnad.indexer.read import Skipped
from isnad.indexer.stores.base import StoreError, StoreUnavailable
from isnad.indexer.stores.milvus_lease import DEFAULT_TTL_S, LeaseBusy, WriteLease
from isnad.indexer.stores.milvus_store import is_local
from isnad.indexer.stores.milvus_tables import MilvusDocuments, MilvusMeta, MilvusPassages
from isnad.indexer.types import Chunk, Document, Hit, RawDocument, SearchFilters

log = logging.getLogger(__name__)

LAYOUT = "milvus"
POINTER_FILE = "milvus.json"
RENEW_EVERY = 1_000  # documents written between two looks at the lease


@dataclass
class MilvusArchive:
    """A `SearchIndex` (indexer/index.py) whose every table is a Milvus collection."""

    folder: Path
    manifest: Manifest
    uri: str
    collection: str
    store: MilvusPassages
    documents: MilvusDocuments
    meta: MilvusMeta
    damaged: str | None = None

    # -- opening --------------------------------------------------------------------------------------------
    @classmethod
    def create(cls, folder: Path, uri: str, collection: str, model: str, dim: int, chunking: dict[str, Any],
               runtime: str) -> MilvusArchive:
        """Drop and create the archive's collections; write the folder's pointer and manifest."""
        folder.mkdir(parents=True, exist_ok=True)
        store = MilvusPassages(dim, uri, collection)
        documents = MilvusDocuments(store._client, f"{collection}_documents", create=True)
        meta = MilvusMeta(store._client, f"{collection}_meta", create=True)
        store.companions = (documents.collection, meta.collection)
        manifest = Manifest(FORMAT_VERSION, model, dim, chunking, 0, 0, data=f"{LAYOUT}-{time.time_ns():x}",
                            store=LAYOUT, created=time.time(), runtime=runtime, layout=LAYOUT)
        meta.put("manifest", _manifest_record(manifest))
        meta.put("rounds", [])
        (folder / POINTER_FILE).write_text(json.dumps({"uri": _portable(store.uri, folder), "collection": collection},
                                                      indent=2), encoding="utf-8")
        manifest.write(folder)
        return cls(folder, manifest, store.uri, collection, store, documents, meta)

    @classmethod
    def open(cls, folder: Path, uri: str | None = None, expected_model: str | None = None) -> MilvusArchive:
        """Connect to the archive the folder points at (`uri`: where Milvus runs now, overriding the pointer)."""
        path = folder / POINTER_FILE
        try:
            pointer = json.loads(path.read_text(encoding="utf-8"))
            saved, collection = str(pointer["uri"]), str(pointer["collection"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IndexLoadError(f"index at {folder}: its Milvus pointer {path} is missing or unreadable ({exc}); "
                                 f"rebuild with isnad index --store milvus") from exc
        if saved.startswith("./"):
            saved = str(folder.resolve() / saved[2:])
        try:
            from isnad.indexer.stores.milvus_tables import connect

            client = connect(uri or saved)  # documents and meta share it; the passages store has its own
            meta = MilvusMeta(client, f"{collection}_meta")
            record = meta.get("manifest")
            if not isinstance(record, dict):
                raise StoreError(f"Milvus archive {collection!r} at {uri or saved} has no manifest row")
            manifest = Manifest(**{**record, "previous": None})
            if expected_model is not None and manifest.model != expected_model:
                raise IndexLoadError(f"index at {folder} was built with model {manifest.model!r}, but the embedder "
                                     f"is {expected_model!r}; use that model or rebuild the index")
            store = MilvusPassages(manifest.dim, uri or saved, collection, _create=False)
            store._client.load_collection(collection)
            documents = MilvusDocuments(client, f"{collection}_documents")
            store.companions = (documents.collection, meta.collection)
        except StoreUnavailable as exc:
            raise IndexLoadError(f"index at {folder} cannot be opened now: {exc}") from exc
        except StoreError as exc:
            raise IndexLoadError(f"index at {folder} is unreadable ({exc}); rebuild it with isnad index "
                                 f"--store milvus") from exc
        return cls(folder, manifest, store.uri, collection, store, documents, meta)

    def close(self) -> None:
        self.store.close()

    # -- the SearchIndex seam -------------------------------------------------------------------------------
    @property
    def has_lexical(self) -> bool:
        return True

    def dense_hits(self, vector: np.ndarray, n: int, filters: SearchFilters | None) -> list[Hit]:
        return self.store.search(vector, n, filters)[0]

    def lexical_hits(self, terms: Sequence[str] | Mapping[str, float], n: int,
                     filters: SearchFilters | None) -> list[Hit]:
        return self.store.lexical(terms, n, filters)

    def passages(self, keys: Sequence[int]) -> dict[int, Chunk]:
        """Only passages of the version their document's head names: rows of a write not yet committed (or of a
        writer killed part way) are never shown."""
        found = self.store.passages(keys)
        current = self.documents.hashes_of(list({chunk.doc_id for chunk, _ in found.values()}))
        return {key: chunk for key, (chunk, version) in found.items()
                if current.get(chunk.doc_id, ("", ""))[0] == version}

    def rounds_of(self, keys: Sequence[int]) -> dict[int, tuple[int, ...]]:
        return self.store.rounds_of(keys)

    def known_rounds(self) -> set[int]:
        return {int(r) for r in self.meta.get("rounds") or []}

    def passage_count(self) -> int:
        return self.store.count()

    def tie_order(self, key: int) -> int:
        return key  # Milvus keeps no order of its rows: copies tie by key (the folder index: by row)

    def document_texts(self) -> Iterable[str]:
        return self.documents.texts()

    # -- writes ---------------------------------------------------------------------------------------------
    def lease(self, purpose: str, timeout_s: float, ttl_s: float = DEFAULT_TTL_S) -> WriteLease:
        """Hold the archive's write lease (IndexBusy, naming the holder, after `timeout_s`)."""
        try:
            return WriteLease(self.meta, purpose, ttl_s).acquire(timeout_s)
        except LeaseBusy as exc:
            raise IndexBusy(self.folder, str(exc), timeout_s) from exc

    def write(self, builder: IndexBuilder, add: Sequence[Document], delete: Sequence[str], lease: WriteLease,
              skipped: Sequence[Skipped] = (), started: float | None = None) -> BuildReport:
        """Add or replace `add` (cleaned), remove `delete`; the caller holds `lease`. Unchanged documents (same
        content hash) are not re-embedded, but a changed origin is recorded."""
        started = time.perf_counter() if started is None else started
        stored = self.documents.hashes_of([d.doc_id for d in add])
        changed = [d for d in add if stored.get(d.doc_id, ("", ""))[0] != d.content_hash]
        changed_ids = {d.doc_id for d in changed}
        relabelled = [d for d in add if d.doc_id in stored and d.doc_id not in changed_ids
                      and stored[d.doc_id][1] != d.origin]
        fresh: list[Chunk] = []
        for document in changed:
            lease.renew()  # cheap unless a quarter of its time has passed: a batch job chunks for minutes
            fresh.extend(builder.chunk(document))
        embed_started = time.perf_counter()
        # new versions' passages go in beside the current ones (keys of their own), invisible until their heads move
        builder._embed_into(_Renewing(self.store, lease, {d.doc_id: d.content_hash for d in changed}), fresh)
        embed_seconds = time.perf_counter() - embed_started
        phases.reached(phases.BEFORE_HEADS, embedded=len(fresh))
        written = [(d, d.content_hash) for d in [*changed, *relabelled]]
        for i in range(0, len(written), RENEW_EVERY):
            lease.renew()
            self.documents.put(written[i : i + RENEW_EVERY])  # the heads move: the new versions are the documents
            self._drop_other_versions([d.doc_id for d, _ in written[i : i + RENEW_EVERY]])
        removed = list(self.documents.hashes_of(list(delete))) if delete else []
        for i in range(0, len(removed), RENEW_EVERY):
            lease.renew()
            batch = removed[i : i + RENEW_EVERY]
            self.documents.remove(batch)  # heads first: from here on the documents are gone
            gone = self.store.keys_of_documents(batch)
            self.store.delete([key for rows in gone.values() for key, _ in rows])
        rounds = {r for c in fresh for r in c.rounds}
        known = self.known_rounds()
        if not rounds <= known:
            self.meta.put("rounds", sorted(known | rounds))
        lease.renew()
        self.store._ensure_index_for_size()  # FLAT -> HNSW once the archive crosses HNSW_MIN_ROWS
        self.store._client.flush(self.collection)
        self.store._client.flush(self.documents.collection)
        documents = len(self.documents)
        return BuildReport(documents, self.passage_count(), len(fresh), len(add) - len(changed), len(changed),
                           len(removed), tuple(skipped), time.perf_counter() - started, embed_seconds)

    def _drop_other_versions(self, doc_ids: Sequence[str]) -> None:
        """Delete passages of versions other than the one each document's head names now (a replaced version, or
        one a killed writer left)."""
        current = self.documents.hashes_of(list(doc_ids))
        stored = self.store.keys_of_documents(list(doc_ids))
        self.store.delete([key for doc_id, rows in stored.items() for key, version in rows
                           if version != current.get(doc_id, ("", ""))[0]])


class _Renewing:
    """The passages store as `IndexBuilder._embed_into` writes to it: rows of the documents' new versions, the
    lease renewed between batches."""

    def __init__(self, store: MilvusPassages, lease: WriteLease, versions: Mapping[str, str]) -> None:
        self.store, self.lease, self.versions = store, lease, versions

    def add(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        self.lease.renew()
        self.store.add_versions(chunks, vectors, self.versions)


def index_into_milvus(builder: IndexBuilder, source: str | Path | Iterable[RawDocument], folder: Path, uri: str,
                      collection: str, keep_api_documents: bool = True, rebuild: bool = False,
                      lock_timeout: float | None = None, lease_s: float = DEFAULT_TTL_S) -> BuildReport:
    """`isnad index DIR --store milvus`: make the archive hold exactly the folder's documents (plus those added
    through the API, unless `keep_api_documents` is False), embedding only new and changed ones."""
    started = time.perf_counter()
    documents, skipped, duplicates = builder.read_cleaned(source)
    archive = None if rebuild else _reusable(folder, builder, uri, collection)
    if archive is None:
        archive = MilvusArchive.create(folder, uri, collection, builder.embedder.model_id, builder.embedder.dim,
                                       builder.params, runtime_of(builder.embedder))
    try:
        with archive.lease("isnad index", 3600.0 if lock_timeout is None else lock_timeout, lease_s) as lease:
            stored = archive.documents.all_hashes()
            ids = {d.doc_id for d in documents}
            kept = [i for i, (_, origin) in stored.items() if origin == "api" and i not in ids and keep_api_documents]
            delete = [i for i in stored if i not in ids and i not in kept]
            report = archive.write(builder, documents, delete, lease, skipped, started)
            # a new vocabulary version: replicas' cross-lingual bridge reads the archive's vocabulary again
            manifest = replace(archive.manifest, data=f"{LAYOUT}-{time.time_ns():x}")
            archive.meta.put("manifest", _manifest_record(manifest))
            manifest.write(folder)
        return replace(report, kept_api_documents=len(kept), duplicates=duplicates)
    finally:
        archive.close()


def apply_archive_changes(archive: MilvusArchive, builder: IndexBuilder, add: Sequence[RawDocument],
                          delete: Sequence[str], origin: str = "api", lock_timeout: float = 30.0,
                          lease_s: float = DEFAULT_TTL_S) -> BuildReport:
    """POST/DELETE /documents on a Milvus archive: the same checks as `indexer.changes.apply_changes`."""
    cleaned = [replace(builder.cleaner.run(raw), origin=origin) for raw in add]
    empty = [d.doc_id for d in cleaned if not d.text.strip()]
    if empty:
        raise ValueError(f"document {empty[0]!r} has no text left after cleaning")
    with archive.lease("API write", lock_timeout, lease_s) as lease:
        missing = [doc_id for doc_id in delete if doc_id not in archive.documents]
        if missing:
            raise UnknownDocumentError(missing[0])
        return archive.write(builder, cleaned, delete, lease)


def open_index(folder: str | Path, expected_model: str | None = None, store_uri: str | None = None,
               verify_checksums: bool = True) -> SearchIndex:
    """What the service searches: the folder's `Index`, or the Milvus archive its manifest points at."""
    folder = Path(folder)
    if Manifest.read(folder).layout == LAYOUT:
        return MilvusArchive.open(folder, store_uri, expected_model)
    return Index.load(folder, expected_model, store_uri, verify_checksums)


def is_archive_folder(folder: Path) -> bool:
    return (folder / MANIFEST_FILE).is_file() and Manifest.read(folder).layout == LAYOUT


def _reusable(folder: Path, builder: IndexBuilder, uri: str, collection: str) -> MilvusArchive | None:
    """The archive the folder points at, if this build may add to it (same place, model and chunking)."""
    if not (folder / POINTER_FILE).is_file() or not is_archive_folder(folder):
        return None
    try:
        archive = MilvusArchive.open(folder, uri)
    except IndexLoadError as exc:
        if "cannot be opened now" in str(exc):
            raise
        log.warning("rebuilding %s from scratch: %s", folder, exc)
        return None
    same = (archive.collection == collection and archive.manifest.model == builder.embedder.model_id
            and archive.manifest.chunking == builder.params)
    if not same:
        log.warning("rebuilding %s from scratch: the collection, model or chunking changed", folder)
        archive.close()
        return None
    return archive


def _manifest_record(manifest: Manifest) -> dict[str, Any]:
    from dataclasses import asdict

    return {**asdict(manifest), "previous": None, "files": {}}


def _portable(uri: str, folder: Path) -> str:
    """A local database inside the index folder is recorded relative to it, so the folder can move."""
    if is_local(uri) and Path(uri).is_relative_to(folder.resolve()):
        return "./" + str(Path(uri).relative_to(folder.resolve()))
    return uri
