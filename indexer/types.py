"""Dataclasses that travel through every pipeline stage, and the `Embedder` seam every layer may call.

`Chunk.doc_id/chunk_id/start/end` are the citation: `document.text[start:end] == chunk.text`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Literal, Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class RawDocument:
    """A document as read from disk, before cleaning."""

    doc_id: str
    text: str
    path: str
    title: str | None = None
    published: str | None = None
    source: str | None = None
    url: str | None = None  # the original page (canonical URL); only http/https ever becomes a link
    site: str | None = None  # the publisher's name or host
    author: str | None = None
    lang: str | None = None  # ISO 639-1, as the page declares or the extractor detects
    summary_only: bool = False  # a feed item indexed from its summary: the full article was not available


@dataclass(frozen=True)
class Document:
    """A cleaned document. `text` is the canonical text every offset points into."""

    doc_id: str
    text: str
    title: str | None = None
    published: str | None = None  # ISO date YYYY-MM-DD
    source: str | None = None
    # "folder" (read by `isnad index DIR`) or "api" (POST /documents): a folder re-index keeps API documents.
    # Not part of content_hash: where a document came from does not change its chunks or vectors.
    origin: str = "folder"
    url: str | None = None
    site: str | None = None
    author: str | None = None
    lang: str | None = None
    summary_only: bool = False

    @property
    def content_hash(self) -> str:
        h = hashlib.sha256()
        for part in (self.text, self.title or "", self.published or "", self.source or ""):
            h.update(part.encode("utf-8"))
            h.update(b"\x00")
        # The source fields count only when set: documents without them keep the hash older indexes recorded
        # (no re-embedding), and a changed URL or author still makes the next build rewrite the record.
        source = source_fields(self)
        if source:
            h.update(json.dumps(source, ensure_ascii=False, sort_keys=True).encode("utf-8"))
        return h.hexdigest()


SOURCE_FIELDS = ("url", "site", "author", "lang", "summary_only")


def source_fields(document: RawDocument | Document) -> dict[str, str | bool]:
    """Where a document came from (url, site, author, lang, summary_only), only the fields that are set."""
    return {name: value for name in SOURCE_FIELDS if (value := getattr(document, name))}


@dataclass(frozen=True)
class Chunk:
    """A span of a document's canonical text; the unit that is embedded and cited."""

    doc_id: str
    chunk_id: str
    start: int
    end: int
    text: str
    title: str | None = None
    published: str | None = None
    rounds: tuple[int, ...] = field(default=())

    @property
    def key(self) -> int:
        """Stable 63-bit integer id, used where a store needs integer keys (FAISS)."""
        return chunk_key(self.chunk_id)


def passage_text(chunk: Chunk) -> str:
    """What gets embedded and BM25-indexed for a chunk: its headline gives a paragraph the context it lacks."""
    return f"{chunk.title}\n{chunk.text}" if chunk.title else chunk.text


def chunk_key(chunk_id: str) -> int:
    digest = hashlib.blake2b(chunk_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") & 0x7FFF_FFFF_FFFF_FFFF


@dataclass(frozen=True)
class SearchFilters:
    """Optional restrictions on a search. All set fields must hold; the rule is `indexer.stores.filters`."""

    round: int | None = None
    doc_id: str | None = None
    published_from: str | None = None  # inclusive, YYYY-MM-DD
    published_to: str | None = None  # inclusive, YYYY-MM-DD

    def is_empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))


@dataclass(frozen=True)
class Hit:
    """One vector-store result: a chunk key and its similarity (higher is better)."""

    key: int
    score: float


Role = Literal["query", "passage"]


@runtime_checkable
class Embedder(Protocol):
    model_id: str
    dim: int

    def embed_batch(self, texts: Sequence[str], role: Role) -> np.ndarray:
        """Return one L2-normalized float32 row per text."""
        ...


def document_record(d: Document, hash_: str) -> bytes:
    """A document's JSON line (documents.jsonl, and the Milvus archive's document rows)."""
    # url/site/author/lang only when set: a corpus of plain text writes the same bytes as format version 1
    record = {"doc_id": d.doc_id, "title": d.title, "published": d.published, "source": d.source,
              "origin": d.origin, **source_fields(d), "text": d.text, "hash": hash_}
    return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")


def document_from_record(record: str | bytes) -> Document:
    """The `Document` of a `document_record` line (its hash dropped)."""
    rec = json.loads(record)
    rec.pop("hash", None)
    return Document(**rec)
