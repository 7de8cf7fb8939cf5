"""A loaded index's documents and chunks as numpy columns, not Python objects.

At 1M chunks (~250k articles) the object form cost more than the whole service budget: every `Chunk`
carried its text, every `Document` its full text (~1.6 GB of Arabic), plus two key dicts. Here:

- `DocumentTable` keeps ids, byte offsets into `documents.jsonl` (read through mmap) and publication dates;
  a `Document` is parsed from its line on access (small LRU cache). Only the pages of documents actually
  cited become resident.
- `ChunkTable` keeps doc row, start, end, ordinal, key and rounds (CSR) per chunk; `table[row]` builds the
  `Chunk` (text = document text[start:end], chunk_id = f"{doc_id}#{ordinal}"). Chunks that do not follow
  that shape (ids, titles or dates differing from their document's) are kept whole in a small dict.
- `KeyRows`: key -> row over a sorted key array (`chunks[chunks.by_key[key]]` is the key's Chunk).
- `ChunkTable.filters`: the filter kernel (indexer/stores/filters.py) over these columns.

`chunks.npz` (written by `write_index`) holds all columns so a load reads no JSON; without it the columns
are rebuilt from the JSONL files.
"""

from __future__ import annotations

import json
import mmap
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, overload

import numpy as np

from isnad.indexer.stores.filters import FilterColumns
from isnad.indexer.types import Chunk, Document, SearchFilters, chunk_key, document_record

COLUMNS_FILE = "chunks.npz"
COLUMNS_VERSION = 1
DOC_CACHE = 1024  # parsed documents kept: a request touches at most a few dozen


class TableError(ValueError):
    """The column file or the JSONL files it indexes are missing, corrupt or inconsistent."""


class DocumentTable(Mapping[str, Document]):
    """doc_id -> Document, parsed lazily from `documents.jsonl` lines located by byte offset."""

    def __init__(self, path: Path, ids: list[str], offsets: np.ndarray, hashes: np.ndarray,
                 pub: np.ndarray, dates: list[str | None], api: np.ndarray | None = None) -> None:
        self._ids = ids
        self._row = {d: i for i, d in enumerate(ids)}
        if len(self._row) != len(ids):
            raise TableError(f"{path}: duplicate doc_id")
        self._offsets = offsets  # int64, len(ids) + 1
        self._hashes = hashes  # bytes (S64), hex sha256 per document
        self.pub = pub  # int32 code into `dates` per document; code 0 is "no date"
        self.dates = dates
        # True per document added through the API (Document.origin == "api"); older indexes have none
        self.api = np.zeros(len(ids), dtype=bool) if api is None else api.astype(bool)
        if len(self.api) != len(ids):
            raise TableError(f"{path}: origin column has {len(self.api)} rows for {len(ids)} documents")
        size = path.stat().st_size
        if int(offsets[-1]) != size:
            raise TableError(f"{path} has {size} bytes, its offset table ends at {int(offsets[-1])}")
        with path.open("rb") as fh:
            # The mapping outlives the file: a later build may delete this data folder while we serve it.
            self._buf: mmap.mmap | bytes = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        self.at = lru_cache(maxsize=DOC_CACHE)(self._parse)

    def _parse(self, row: int) -> Document:
        line = self._buf[int(self._offsets[row]) : int(self._offsets[row + 1])]
        rec = json.loads(line)
        rec.pop("hash", None)
        document = Document(**rec)
        if document.doc_id != self._ids[row]:
            raise TableError(f"documents.jsonl line {row} holds {document.doc_id!r}, expected {self._ids[row]!r}")
        return document

    def row(self, doc_id: str) -> int | None:
        return self._row.get(doc_id)

    @property
    def ids(self) -> list[str]:
        return self._ids

    @property
    def row_of(self) -> Mapping[str, int]:
        """doc_id -> row (read-only use)."""
        return self._row

    def __getitem__(self, doc_id: str) -> Document:
        return self.at(self._row[doc_id])

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._row

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    def hashes(self) -> dict[str, str]:
        return {d: h.decode() for d, h in zip(self._ids, self._hashes.tolist(), strict=True)}

    def api_ids(self) -> list[str]:
        """Ids of the documents added through the API, in index order."""
        return [self._ids[i] for i in np.flatnonzero(self.api).tolist()]


class ChunkTable(Sequence[Chunk]):
    """Chunks in store order as columns; `table[row]` materializes one `Chunk`."""

    def __init__(self, documents: DocumentTable, doc: np.ndarray, start: np.ndarray, end: np.ndarray,
                 ordinal: np.ndarray, keys: np.ndarray, rptr: np.ndarray, rval: np.ndarray,
                 odd: dict[int, Chunk] | None = None) -> None:
        n = len(doc)
        if not (len(start) == len(end) == len(ordinal) == len(keys) == n and len(rptr) == n + 1):
            raise TableError("chunk columns have different lengths")
        if n and (int(doc.min()) < 0 or int(doc.max()) >= len(documents)):
            raise TableError("a chunk points at a document row that does not exist")
        if int(rptr[-1]) != len(rval):
            raise TableError("chunk rounds column is inconsistent")
        self.documents = documents
        self.doc, self.start, self.end, self.ordinal, self.keys = doc, start, end, ordinal, keys
        self.rptr, self.rval = rptr, rval
        self.odd = odd or {}  # rows whose Chunk does not follow the column shape, kept whole
        self.by_key = KeyRows(keys)

    def __len__(self) -> int:
        return len(self.doc)

    @overload
    def __getitem__(self, row: int) -> Chunk: ...

    @overload
    def __getitem__(self, row: slice) -> list[Chunk]: ...

    def __getitem__(self, row: int | slice) -> Chunk | list[Chunk]:
        if isinstance(row, slice):
            return [self._chunk(i) for i in range(*row.indices(len(self)))]
        n = len(self)
        i = int(row)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"chunk row {row} out of range ({n} chunks)")
        return self._chunk(i)

    def __iter__(self) -> Iterator[Chunk]:
        return (self._chunk(i) for i in range(len(self)))

    def _chunk(self, i: int) -> Chunk:
        odd = self.odd.get(i)
        if odd is not None:
            return odd
        document = self.documents.at(int(self.doc[i]))
        start, end = int(self.start[i]), int(self.end[i])
        return Chunk(document.doc_id, f"{document.doc_id}#{int(self.ordinal[i])}", start, end,
                     document.text[start:end], document.title, document.published, self.rounds(i))

    def rounds(self, row: int) -> tuple[int, ...]:
        return tuple(self.rval[self.rptr[row] : self.rptr[row + 1]].tolist())

    def known_rounds(self) -> set[int]:
        return {int(r) for r in np.unique(self.rval)}

    @cached_property
    def filters(self) -> FilterColumns:
        """The filter kernel over these rows: the document columns for regular rows, each odd row as itself."""
        odd_rows = np.fromiter(self.odd, np.int64, len(self.odd))
        if not odd_rows.size:
            return FilterColumns(self.doc, self.documents.pub[self.doc], self.rptr, self.rval,
                                 self.documents.ids, self.documents.dates, self.documents.row_of)
        # An odd chunk's doc_id or date may be no document's: those rows get codes of their own
        plain = np.ones(len(self), dtype=bool)
        plain[odd_rows] = False
        regular = FilterColumns(self.doc, self.documents.pub[self.doc], self.rptr, self.rval,
                                list(self.documents.ids), list(self.documents.dates))
        extended = regular.take(plain).append([self.odd[int(i)] for i in odd_rows])
        order = np.empty(len(self), dtype=np.int64)
        order[np.concatenate([np.flatnonzero(plain), odd_rows])] = np.arange(len(self))
        return extended.take(order)

    def mask(self, filters: SearchFilters) -> np.ndarray:
        """Rows the filters accept (`FilterColumns.mask`), in row order."""
        return self.filters.mask(filters)


class KeyRows(Mapping[int, int]):
    """Chunk key -> row, by binary search over the sorted keys (no per-chunk Python objects)."""

    def __init__(self, keys: np.ndarray) -> None:
        self._order = np.argsort(keys, kind="stable").astype(np.int64)
        self._sorted = keys[self._order]

    @property
    def sorted_keys(self) -> np.ndarray:
        return self._sorted

    def rows(self, keys: np.ndarray | Sequence[int]) -> np.ndarray:
        """Rows of keys, -1 where absent."""
        keys = np.asarray(keys, dtype=np.int64)
        if not len(self._sorted):
            return np.full(len(keys), -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self._sorted, keys), len(self._sorted) - 1)
        return np.where(self._sorted[pos] == keys, self._order[pos], -1)

    def __getitem__(self, key: int) -> int:
        i = int(np.searchsorted(self._sorted, key))  # scalar path: a search looks up ~100 hits one by one
        if i < len(self._sorted) and int(self._sorted[i]) == key:
            return int(self._order[i])
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, int | np.integer):
            return False
        try:
            self[int(key)]
        except KeyError:
            return False
        return True

    def __iter__(self) -> Iterator[int]:
        return iter(self._sorted.tolist())

    def __len__(self) -> int:
        return len(self._sorted)


# --- writing and reading -------------------------------------------------------------------------------


def write_documents(path: Path, documents: Sequence[Document], hashes: Mapping[str, str]) -> np.ndarray:
    """Write documents.jsonl; return the byte offset of every line (and the file size last)."""
    offsets = np.zeros(len(documents) + 1, dtype=np.int64)
    with path.open("wb") as fh:
        for i, d in enumerate(documents):
            offsets[i + 1] = offsets[i] + fh.write(document_record(d, hashes[d.doc_id]))
    return offsets


def save_columns(folder: Path, documents: Sequence[Document], hashes: Mapping[str, str], offsets: np.ndarray,
                 chunks: Sequence[Chunk], chunks_file: str) -> bool:
    """Write chunks.npz; False (and nothing written) when some chunk does not fit the column shape."""
    row_of = {d.doc_id: i for i, d in enumerate(documents)}
    n = len(chunks)
    doc = np.empty(n, np.int32)
    start = np.empty(n, np.int32)
    end = np.empty(n, np.int32)
    ordinal = np.empty(n, np.int32)
    lens = np.empty(n, np.int64)
    for i, c in enumerate(chunks):
        r = row_of.get(c.doc_id)
        head, _, tail = c.chunk_id.rpartition("#")
        if r is None or head != c.doc_id or not tail.isdigit() or str(int(tail)) != tail:
            return False
        d = documents[r]
        if c.title != d.title or c.published != d.published:
            return False
        doc[i], start[i], end[i], ordinal[i], lens[i] = r, c.start, c.end, int(tail), len(c.rounds)
    rval = np.fromiter((x for c in chunks for x in c.rounds), dtype=np.int32, count=int(lens.sum()))
    keys = np.fromiter((chunk_key(c.chunk_id) for c in chunks), dtype=np.int64, count=n)
    dates, pub = _date_codes([d.published for d in documents])
    # chunks.jsonl's size ties the two together: a load reads only this file but notices a changed JSONL
    meta = {"version": COLUMNS_VERSION, "ids": [d.doc_id for d in documents], "dates": dates[1:],
            "chunks_bytes": (folder / chunks_file).stat().st_size}
    with (folder / COLUMNS_FILE).open("wb") as fh:
        np.savez(fh, doc=doc, start=start, end=end, ordinal=ordinal, keys=keys,
                 rptr=np.concatenate([[0], np.cumsum(lens)]).astype(np.int64), rval=rval, offsets=offsets,
                 hashes=np.array([hashes[d.doc_id] for d in documents], dtype="S64"), pub=pub,
                 api=np.array([d.origin == "api" for d in documents], dtype=bool),
                 meta=np.frombuffer(json.dumps(meta, ensure_ascii=False).encode("utf-8"), dtype=np.uint8))
    return True


def load_tables(data: Path, documents_file: str, chunks_file: str) -> ChunkTable:
    """The column file when there is one, else the JSONL files (slower, same result)."""
    if (data / COLUMNS_FILE).is_file():
        return _load_columns(data, documents_file, chunks_file)
    return _load_jsonl(data, documents_file, chunks_file)


def _load_columns(data: Path, documents_file: str, chunks_file: str) -> ChunkTable:
    path = data / COLUMNS_FILE
    try:
        with np.load(path, allow_pickle=False) as z:
            cols: dict[str, Any] = {k: z[k] for k in z.files}
        meta = json.loads(cols.pop("meta").tobytes().decode("utf-8"))
        if meta.get("version") != COLUMNS_VERSION:
            raise TableError(f"unknown version {meta.get('version')!r}")
        ids: list[str] = meta["ids"]
        size = (data / chunks_file).stat().st_size
        if size != meta["chunks_bytes"]:
            raise TableError(f"{chunks_file} has {size} bytes, {meta['chunks_bytes']} when the index was written")
        if not len(cols["offsets"]) == len(cols["hashes"]) + 1 == len(cols["pub"]) + 1 == len(ids) + 1:
            raise TableError("document columns have different lengths")
        documents = DocumentTable(data / documents_file, ids, cols["offsets"], cols["hashes"], cols["pub"],
                                  [None, *meta["dates"]], cols.get("api"))
        return ChunkTable(documents, cols["doc"], cols["start"], cols["end"], cols["ordinal"], cols["keys"],
                          cols["rptr"], cols["rval"])
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as exc:
        raise TableError(f"cannot read {path}: {exc}") from exc


def _load_jsonl(data: Path, documents_file: str, chunks_file: str) -> ChunkTable:
    ids: list[str] = []
    hashes: list[str] = []
    published: list[str | None] = []
    titles: list[str | None] = []
    api: list[bool] = []
    offsets = [0]
    path = data / documents_file
    try:
        with path.open("rb") as fh:
            for line in fh:
                rec = json.loads(line)
                ids.append(rec["doc_id"])
                hashes.append(rec["hash"])
                published.append(rec.get("published"))
                titles.append(rec.get("title"))
                api.append(rec.get("origin") == "api")
                offsets.append(offsets[-1] + len(line))
        dates, pub = _date_codes(published)
        documents = DocumentTable(path, ids, np.array(offsets, dtype=np.int64), np.array(hashes, dtype="S64"),
                                  pub, dates, np.array(api, dtype=bool))
        path = data / chunks_file
        doc: list[int] = []
        start: list[int] = []
        end: list[int] = []
        ordinal: list[int] = []
        keys: list[int] = []
        rounds: list[tuple[int, ...]] = []
        odd: dict[int, Chunk] = {}
        with path.open(encoding="utf-8") as fh:
            for i, rec in enumerate(map(json.loads, fh)):
                chunk = Chunk(**{**rec, "rounds": tuple(rec["rounds"])})
                r = documents.row(chunk.doc_id)
                head, _, tail = chunk.chunk_id.rpartition("#")
                regular = (r is not None and head == chunk.doc_id and tail.isdigit() and str(int(tail)) == tail
                           and titles[r] == chunk.title and published[r] == chunk.published)
                if not regular:
                    odd[i] = chunk
                doc.append(r if r is not None else 0)
                start.append(chunk.start)
                end.append(chunk.end)
                ordinal.append(int(tail) if regular else -1)
                keys.append(chunk.key)
                rounds.append(chunk.rounds)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise TableError(f"cannot read {path}: {exc}") from exc
    lens = np.array([len(r) for r in rounds], dtype=np.int64)
    rval = np.fromiter((x for r in rounds for x in r), dtype=np.int32, count=int(lens.sum()))
    return ChunkTable(documents, np.array(doc, dtype=np.int32), np.array(start, dtype=np.int32),
                      np.array(end, dtype=np.int32), np.array(ordinal, dtype=np.int32),
                      np.array(keys, dtype=np.int64), np.concatenate([[0], np.cumsum(lens)]).astype(np.int64),
                      rval, odd)


def _date_codes(published: Sequence[str | None]) -> tuple[list[str | None], np.ndarray]:
    dates: list[str | None] = [None]
    code: dict[str | None, int] = {None: 0}
    pub = np.empty(len(published), dtype=np.int32)
    for i, p in enumerate(published):
        c = code.get(p)
        if c is None:
            c = code[p] = len(dates)
            dates.append(p)
        pub[i] = c
    return dates, pub
