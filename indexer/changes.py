"""Partial updates of an index folder: add/replace some documents, delete others.

Goes through `IndexBuilder.build`, so only the added documents are embedded and the write is the same
atomic data-folder + manifest switch as a full build. The whole read-modify-write holds the folder's writer
lock (indexer/lock.py): a concurrent `isnad index` can neither interleave nor be overwritten by it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from isnad.indexer.index import BuildReport, Index, IndexBuilder, Manifest, UnknownDocumentError
from isnad.indexer.lock import IndexBusy, IndexWriteError, writer_lock
from isnad.indexer.types import RawDocument

__all__ = ["IndexBusy", "IndexWriteError", "UnknownDocumentError", "apply_changes"]


def apply_changes(folder: str | Path, builder: IndexBuilder, add: Sequence[RawDocument] = (),
                  delete: Sequence[str] = (), origin: str = "api", lock_timeout: float | None = None) -> BuildReport:
    """Add (or replace, same doc_id) `add`, remove `delete`; raises before writing anything on bad input.

    Added documents are recorded with `origin` ("api": a folder re-index keeps them). Raises `IndexBusy`
    when another writer holds the folder longer than `lock_timeout` seconds, `IndexWriteError` when the
    disk refuses the write (the previous index stays).
    """
    folder = Path(folder)
    if Manifest.read(folder).layout == "milvus":  # the archive is in Milvus: its write lease, not the folder's lock
        from isnad.indexer.milvus_archive import MilvusArchive, apply_archive_changes

        archive = MilvusArchive.open(folder)
        return apply_archive_changes(archive, builder, add, delete, origin,
                                     30.0 if lock_timeout is None else lock_timeout)
    with writer_lock(folder, lock_timeout, purpose="API write"):
        current = Index.load(folder)
        missing = [doc_id for doc_id in delete if doc_id not in current.documents]
        if missing:
            raise UnknownDocumentError(missing[0])
        cleaned = [replace(builder.cleaner.run(raw), origin=origin) for raw in add]
        empty = [d.doc_id for d in cleaned if not d.text.strip()]
        if empty:
            raise ValueError(f"document {empty[0]!r} has no text left after cleaning")
        replaced = {d.doc_id for d in cleaned} | set(delete)
        kept = [d for doc_id, d in current.documents.items() if doc_id not in replaced]
        return builder.build([*kept, *cleaned], folder, previous=current)
