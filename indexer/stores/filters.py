"""Column store of the chunk fields filters need (doc_id, published, rounds), keyed by `Chunk.key`.

Numpy columns sorted by key instead of a dict of tuples: at 1M chunks a dict costs ~300 MB of Python objects,
seconds of JSON to load, and a Python loop per filtered query; these columns cost ~30 MB, load in
milliseconds from one `.npz`, and filter with vectorized comparisons. Adds are buffered (a build adds
batches of 32) and merged on the next read, so a build stays O(n log n) rather than O(n²).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from indexer.types import Chunk, SearchFilters

TABLE_FILE = "filter_meta.npz"
LEGACY_FILE = "filter_meta.json"  # format 1 stores: [[key, doc_id, published, rounds], ...]


class FilterTable:
    def __init__(self) -> None:
        self._keys = np.empty(0, np.int64)  # sorted ascending; the row order of every column
        self._doc = np.empty(0, np.int32)  # code into self._docs
        self._pub = np.empty(0, np.int32)  # code into self._dates; 0 is "no date"
        self._rptr = np.zeros(1, np.int64)  # rounds as CSR: row i has _rval[_rptr[i]:_rptr[i+1]]
        self._rval = np.empty(0, np.int32)
        self._docs: list[str] = []
        self._doc_code: dict[str, int] = {}
        self._dates: list[str | None] = [None]
        self._date_code: dict[str | None, int] = {None: 0}
        self._pending: list[tuple[int, int, int, tuple[int, ...]]] = []
        self._pending_keys: set[int] = set()

    def __len__(self) -> int:
        return len(self._keys) + len(self._pending)

    def add(self, chunks: Iterable[Chunk]) -> None:
        """Append rows; the caller has removed keys already present (the store's upsert)."""
        for c in chunks:
            self._add_row(c.key, c.doc_id, c.published, c.rounds)

    def _add_row(self, key: int, doc_id: str, published: str | None, rounds: Sequence[int]) -> None:
        doc = self._doc_code.setdefault(doc_id, len(self._docs))
        if doc == len(self._docs):
            self._docs.append(doc_id)
        pub = self._date_code.setdefault(published, len(self._dates))
        if pub == len(self._dates):
            self._dates.append(published)
        self._pending.append((key, doc, pub, tuple(rounds)))
        self._pending_keys.add(key)

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
            self._take(keep)
        return present

    def all_keys(self) -> np.ndarray:
        self._merge()
        return self._keys

    def matching_keys(self, filters: SearchFilters) -> np.ndarray:
        self._merge()
        mask = np.ones(len(self._keys), dtype=bool)
        if filters.doc_id is not None:
            code = self._doc_code.get(filters.doc_id)
            if code is None:
                return np.empty(0, np.int64)
            mask &= self._doc == code
        if filters.round is not None:
            rows = np.searchsorted(self._rptr, np.flatnonzero(self._rval == filters.round), side="right") - 1
            in_round = np.zeros(len(self._keys), dtype=bool)
            in_round[rows] = True
            mask &= in_round
        if filters.published_from is not None or filters.published_to is not None:
            lo, hi = filters.published_from, filters.published_to
            ok = np.array([d is not None and (lo is None or d >= lo) and (hi is None or d <= hi)
                           for d in self._dates], dtype=bool)
            mask &= ok[self._pub]
        return self._keys[mask]

    def _merge(self) -> None:
        if not self._pending:
            return
        keys = np.array([p[0] for p in self._pending], dtype=np.int64)
        doc = np.array([p[1] for p in self._pending], dtype=np.int32)
        pub = np.array([p[2] for p in self._pending], dtype=np.int32)
        lens = np.array([len(p[3]) for p in self._pending], dtype=np.int64)
        rval = np.fromiter((r for p in self._pending for r in p[3]), dtype=np.int32, count=int(lens.sum()))
        self._pending, self._pending_keys = [], set()
        all_lens = np.concatenate([np.diff(self._rptr), lens])
        all_rval = np.concatenate([self._rval, rval])
        all_keys = np.concatenate([self._keys, keys])
        order = np.argsort(all_keys, kind="stable")
        self._keys = all_keys[order]
        self._doc = np.concatenate([self._doc, doc])[order]
        self._pub = np.concatenate([self._pub, pub])[order]
        starts = np.concatenate([[0], np.cumsum(all_lens)])[:-1][order]
        self._rptr, self._rval = _gather_csr(starts, all_lens[order], all_rval)

    def _take(self, keep: np.ndarray) -> None:
        lens = np.diff(self._rptr)
        self._rval = self._rval[np.repeat(keep, lens)]
        self._rptr = np.concatenate([[0], np.cumsum(lens[keep])]).astype(np.int64)
        self._keys, self._doc, self._pub = self._keys[keep], self._doc[keep], self._pub[keep]

    def save(self, folder: Path) -> None:
        self._merge()
        with (folder / TABLE_FILE).open("wb") as fh:
            np.savez(fh, keys=self._keys, doc=self._doc, pub=self._pub, rptr=self._rptr, rval=self._rval,
                     docs=np.array(self._docs, dtype=str),
                     dates=np.array([d or "" for d in self._dates[1:]], dtype=str))

    @classmethod
    def exists(cls, folder: Path) -> bool:
        return (folder / TABLE_FILE).is_file() or (folder / LEGACY_FILE).is_file()

    @classmethod
    def load(cls, folder: Path) -> FilterTable:
        table = cls()
        if not (folder / TABLE_FILE).is_file():
            for key, doc_id, published, rounds in json.loads((folder / LEGACY_FILE).read_text(encoding="utf-8")):
                table._add_row(int(key), doc_id, published, rounds)
            table._merge()
            return table
        with np.load(folder / TABLE_FILE, allow_pickle=False) as z:
            table._keys, table._doc, table._pub = z["keys"], z["doc"], z["pub"]
            table._rptr, table._rval = z["rptr"], z["rval"]
            table._docs = [str(d) for d in z["docs"]]
            table._dates = [None, *(str(d) for d in z["dates"])]
        table._doc_code = {d: i for i, d in enumerate(table._docs)}
        table._date_code = {d: i for i, d in enumerate(table._dates)}
        return table


def _gather_csr(starts: np.ndarray, lens: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rebuild a CSR column whose rows are `values[starts[i]:starts[i]+lens[i]]`, in the given row order."""
    rptr = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    idx = np.repeat(starts - rptr[:-1], lens) + np.arange(int(rptr[-1]))
    return rptr, values[idx].astype(np.int32)
