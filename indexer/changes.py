"""Partial updates of an index folder: add/replace some documents, delete others.

Goes through `IndexBuilder.build`, so only the added documents are embedded and the write is the same
atomic data-folder + manifest switch as a full build.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from indexer.index import BuildReport, Index, IndexBuilder
from indexer.types import RawDocument


class UnknownDocumentError(KeyError):
    """A delete named a doc_id the index does not hold."""


def apply_changes(folder: str | Path, builder: IndexBuilder, add: Sequence[RawDocument] = (),
                  delete: Sequence[str] = ()) -> BuildReport:
    """Add (or replace, same doc_id) `add`, remove `delete`; raises before writing anything on bad input."""
    folder = Path(folder)
    current = Index.load(folder)
    missing = [doc_id for doc_id in delete if doc_id not in current.documents]
    if missing:
        raise UnknownDocumentError(missing[0])
    cleaned = [builder.cleaner.run(raw) for raw in add]
    empty = [d.doc_id for d in cleaned if not d.text.strip()]
    if empty:
        raise ValueError(f"document {empty[0]!r} has no text left after cleaning")
    replaced = {d.doc_id for d in cleaned} | set(delete)
    kept = [d for doc_id, d in current.documents.items() if doc_id not in replaced]
    return builder.build([*kept, *cleaned], folder)
