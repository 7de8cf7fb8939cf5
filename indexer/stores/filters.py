"""The filter kernel: the chunk fields `SearchFilters` test, as columns, and the one rule that evaluates them.

`FilterColumns` holds, per row, a document code, a publication-date code and the rounds (CSR), built from
chunks; `mask(filters)` is THE filter rule (vectorized), and `milvus_expression(filters)` compiles the same
rule for a Milvus collection whose rows carry `milvus_fields(chunk)`. Every filtered search goes through here:
the FAISS store's keyed `FilterTable` (ID selector), the index's `ChunkTable` (BM25 rows) and Milvus.
A new filter field is a column here, a field of `SearchFilters`, and a field of the API's schema.

Numpy columns instead of a dict of tuples: at 1M chunks a dict costs ~300 MB of Python objects, seconds of
JSON to load and a Python loop per filtered query; these columns cost ~30 MB, load in milliseconds from one
`.npz` and filter with vectorized comparisons.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from isnad.indexer.types import Chunk, SearchFilters

TABLE_FILE = "filter_meta.npz"
MILVUS_MAX_ROUNDS = 128  # capacity of the Milvus `rounds` array field


class FilterColumns:
    """Filter fields of n rows. Codes index `docs` / `dates` (date code 0 is "no date").

    The vocabularies only grow and may be shared by the columns `append` and `take` return.
    """

    def __init__(self, doc: np.ndarray, pub: np.ndarray, rptr: np.ndarray, rval: np.ndarray, docs: list[str],
                 dates: list[str | None], doc_code: Mapping[str, int] | None = None) -> None:
        if not (len(doc) == len(pub) == len(rptr) - 1 and int(rptr[-1]) == len(rval)):
            raise ValueError("filter columns have different lengths")
        self.doc, self.pub, self.rptr, self.rval = doc, pub, rptr, rval
        self.docs, self.dates = docs, dates
        # a caller that already has doc_id -> code (the document table) passes it instead of a second dict
        self.doc_code: Mapping[str, int] = doc_code if doc_code is not None else {d: i for i, d in enumerate(docs)}
        self._date_code = {d: i for i, d in enumerate(dates)}

    @classmethod
    def empty(cls) -> FilterColumns:
        return cls(np.empty(0, np.int32), np.empty(0, np.int32), np.zeros(1, np.int64), np.empty(0, np.int32),
                   [], [None])

    @classmethod
    def from_chunks(cls, chunks: Iterable[Chunk]) -> FilterColumns:
        return cls.empty().append(list(chunks))

    def __len__(self) -> int:
        return len(self.doc)

    def append(self, chunks: Sequence[Chunk]) -> FilterColumns:
        """These rows followed by one row per chunk (the vocabularies are extended in place)."""
        if not isinstance(self.doc_code, dict):
            raise TypeError("columns over a borrowed doc_id mapping cannot grow")
        doc = np.fromiter((self._code(self.doc_code, self.docs, c.doc_id) for c in chunks), np.int32, len(chunks))
        pub = np.fromiter((self._code(self._date_code, self.dates, c.published) for c in chunks), np.int32,
                          len(chunks))
        lens = np.array([len(c.rounds) for c in chunks], dtype=np.int64)
        rval = np.fromiter((r for c in chunks for r in c.rounds), np.int32, int(lens.sum()))
        rptr = np.concatenate([self.rptr, self.rptr[-1] + np.cumsum(lens)]).astype(np.int64)
        return FilterColumns(np.concatenate([self.doc, doc]), np.concatenate([self.pub, pub]), rptr,
                             np.concatenate([self.rval, rval]), self.docs, self.dates, self.doc_code)

    @staticmethod
    def _code(codes: Any, values: list[Any], value: Any) -> int:
        code = codes.get(value)
        if code is None:
            code = codes[value] = len(values)
            values.append(value)
        return int(code)

    def take(self, rows: np.ndarray) -> FilterColumns:
        """The given rows (indices, or a boolean mask), in that order."""
        rows = np.flatnonzero(rows) if rows.dtype == bool else np.asarray(rows, dtype=np.int64)
        lens = np.diff(self.rptr)[rows]
        rptr = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
        idx = np.repeat(self.rptr[:-1][rows] - rptr[:-1], lens) + np.arange(int(rptr[-1]))
        return FilterColumns(self.doc[rows], self.pub[rows], rptr, self.rval[idx].astype(np.int32), self.docs,
                             self.dates, self.doc_code)

    def rounds(self, row: int) -> tuple[int, ...]:
        return tuple(self.rval[self.rptr[row] : self.rptr[row + 1]].tolist())

    def mask(self, filters: SearchFilters | None) -> np.ndarray:
        """Rows every set field of `filters` holds for: the filter rule."""
        n = len(self)
        mask = np.ones(n, dtype=bool)
        if filters is None:
            return mask
        if filters.doc_id is not None:
            code = self.doc_code.get(filters.doc_id)
            mask &= self.doc == (-1 if code is None else code)
        if filters.round is not None:
            rows = np.searchsorted(self.rptr, np.flatnonzero(self.rval == filters.round), side="right") - 1
            in_round = np.zeros(n, dtype=bool)
            in_round[rows] = True
            mask &= in_round
        if filters.published_from is not None or filters.published_to is not None:
            lo, hi = filters.published_from, filters.published_to
            # an undated chunk never matches a date range
            ok = np.array([d is not None and (lo is None or d >= lo) and (hi is None or d <= hi)
                           for d in self.dates], dtype=bool)
            mask &= ok[self.pub]
        return mask

    def arrays(self) -> dict[str, np.ndarray]:
        """The columns as named arrays for an `.npz` (see `from_arrays`)."""
        return {"doc": self.doc, "pub": self.pub, "rptr": self.rptr, "rval": self.rval,
                "docs": np.array(self.docs, dtype=str), "dates": np.array([d or "" for d in self.dates[1:]], dtype=str)}

    @classmethod
    def from_arrays(cls, z: Mapping[str, np.ndarray]) -> FilterColumns:
        return cls(z["doc"], z["pub"], z["rptr"], z["rval"], [str(d) for d in z["docs"]],
                   [None, *(str(d) for d in z["dates"])])


# --- Milvus: the same rule as an expression over the fields `milvus_fields` writes ----------------------


def milvus_schema_fields(schema: Any, data_type: Any) -> None:
    """Add the filter fields to a Milvus collection schema (`data_type`: pymilvus' DataType)."""
    schema.add_field("doc_id", data_type.VARCHAR, max_length=1024)
    schema.add_field("published", data_type.VARCHAR, max_length=32)  # "" when unknown; ISO dates sort as text
    schema.add_field("rounds", data_type.ARRAY, element_type=data_type.INT64, max_capacity=MILVUS_MAX_ROUNDS)


def milvus_fields(chunk: Chunk) -> dict[str, Any]:
    """A chunk's filter fields as a Milvus row carries them."""
    if len(chunk.rounds) > MILVUS_MAX_ROUNDS:
        raise ValueError(f"chunk {chunk.chunk_id} has {len(chunk.rounds)} rounds, at most {MILVUS_MAX_ROUNDS}")
    return {"doc_id": chunk.doc_id, "published": chunk.published or "", "rounds": [int(r) for r in chunk.rounds]}


def quote(value: str) -> str:
    """A Milvus string literal: JSON escaping (quotes, backslashes, control characters) is what its parser reads."""
    return json.dumps(value, ensure_ascii=False)


def milvus_expression(filters: SearchFilters | None) -> str:
    """`FilterColumns.mask`'s rule as a Milvus boolean expression ("" when there is nothing to filter)."""
    if filters is None or filters.is_empty():
        return ""
    parts: list[str] = []
    if filters.doc_id is not None:
        parts.append(f"doc_id == {quote(filters.doc_id)}")
    if filters.round is not None:
        parts.append(f"ARRAY_CONTAINS(rounds, {int(filters.round)})")
    if filters.published_from is not None or filters.published_to is not None:
        parts.append('published != ""')  # an undated chunk never matches a date range, as in `mask`
    if filters.published_from is not None:
        parts.append(f"published >= {quote(filters.published_from)}")
    if filters.published_to is not None:
        parts.append(f"published <= {quote(filters.published_to)}")
    return " and ".join(parts)


# --- the FAISS store's table: the columns keyed by chunk key -------------------------------------------


class FilterTable:
    """`FilterColumns` in ascending `Chunk.key` order, with upserts and deletes by key.

    Adds are buffered (a build adds batches of 32) and merged on the next read, so a build stays O(n log n).
    """

    def __init__(self, keys: np.ndarray | None = None, columns: FilterColumns | None = None) -> None:
        self._keys = np.empty(0, np.int64) if keys is None else keys  # sorted; the row order of `_cols`
        self._cols = FilterColumns.empty() if columns is None else columns
        if len(self._keys) != len(self._cols):
            raise ValueError(f"{len(self._keys)} keys for {len(self._cols)} filter rows")
        self._pending: list[Chunk] = []
        self._pending_keys: set[int] = set()

    def __len__(self) -> int:
        return len(self._keys) + len(self._pending)

    def add(self, chunks: Iterable[Chunk]) -> None:
        """Append rows; the caller has removed keys already present (the store's upsert)."""
        for c in chunks:
            self._pending.append(c)
            self._pending_keys.add(c.key)

    def contains(self, keys: np.ndarray) -> np.ndarray:
        keys = np.asarray(keys, dtype=np.int64)
        found = np.zeros(len(keys), dtype=bool)
        if len(self._keys):
            pos = np.minimum(np.searchsorted(self._keys, keys), len(self._keys) - 1)
            found = self._keys[pos] == keys
        if self._pending_keys:
            found |= np.fromiter((int(k) in self._pending_keys for k in keys), dtype=bool, count=len(keys))
        return found

    def remove(self, keys: Sequence[int] | np.ndarray) -> np.ndarray:
        """Drop rows for keys; return the keys that were present."""
        self._merge()
        keys = np.unique(np.asarray(keys, dtype=np.int64))
        present = keys[self.contains(keys)]
        if present.size:
            keep = np.ones(len(self._keys), dtype=bool)
            keep[np.searchsorted(self._keys, present)] = False
            self._keys, self._cols = self._keys[keep], self._cols.take(keep)
        return present

    def all_keys(self) -> np.ndarray:
        self._merge()
        return self._keys

    def matching_keys(self, filters: SearchFilters) -> np.ndarray:
        self._merge()
        return self._keys[self._cols.mask(filters)]

    def _merge(self) -> None:
        if not self._pending:
            return
        keys = np.concatenate([self._keys, np.fromiter((c.key for c in self._pending), np.int64,
                                                       len(self._pending))])
        cols = self._cols.append(self._pending)
        self._pending, self._pending_keys = [], set()
        order = np.argsort(keys, kind="stable")
        self._keys, self._cols = keys[order], cols.take(order)

    def save(self, folder: Path) -> None:
        self._merge()
        with (folder / TABLE_FILE).open("wb") as fh:
            np.savez(fh, keys=self._keys, **self._cols.arrays())

    @classmethod
    def exists(cls, folder: Path) -> bool:
        return (folder / TABLE_FILE).is_file()

    @classmethod
    def load(cls, folder: Path) -> FilterTable:
        with np.load(folder / TABLE_FILE, allow_pickle=False) as z:
            return cls(z["keys"], FilterColumns.from_arrays(z))
