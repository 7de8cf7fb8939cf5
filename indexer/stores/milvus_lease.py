"""One writer at a time over a Milvus archive: a lease row in its meta collection.

Milvus has no compare-and-set, so the lease is Fischer's timed mutual exclusion: read the row; if it is free (absent,
released or expired), write your own id within SET_WITHIN_S of that read, wait SETTLE_S (> SET_WITHIN_S), read it
again: still yours means you hold it. A writer that sees another's id backs off. Two writers that both saw it free
both write, and the later write wins: the earlier one reads the later's id after settling and backs off. The
assumption it rests on, as every timed lease: a write lands within SET_WITHIN_S of its read (a write that took
longer is withdrawn and retried), and a holder renews before `ttl_s` passes (the write job renews between batches).

Every write is also an upsert by key, so even a lost lease cannot duplicate a passage: the worst case is the
mixed rows of two versions of one document, which the next write of that document repairs (docs/scaling.md).
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from dataclasses import dataclass

from isnad.indexer.stores.milvus_tables import MilvusMeta

LEASE_ROW = "write-lease"
SET_WITHIN_S = 1.0
SETTLE_S = 2.0
# How long a writer that stopped renewing (killed) keeps others out (`isnad index --write-lease`, the service's
# ISNAD_WRITE_LEASE_S)
DEFAULT_TTL_S = 60.0


class LeaseBusy(RuntimeError):
    """Another writer holds the archive's write lease (the message names it and when it expires)."""


@dataclass
class WriteLease:
    meta: MilvusMeta
    purpose: str
    ttl_s: float = DEFAULT_TTL_S
    holder: str = ""
    renewed: float = 0.0

    def __post_init__(self) -> None:
        self.holder = self.holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def acquire(self, timeout_s: float) -> WriteLease:
        """Hold the lease, waiting at most `timeout_s` for another holder; LeaseBusy names it after that."""
        deadline = time.monotonic() + timeout_s
        while True:
            seen = self.meta.get(LEASE_ROW)
            if self._free(seen):
                read_at = time.monotonic()
                self._write()
                if time.monotonic() - read_at <= SET_WITHIN_S:
                    time.sleep(SETTLE_S)
                    if self._mine(self.meta.get(LEASE_ROW)):
                        return self
                elif self._mine(self.meta.get(LEASE_ROW)):
                    self.meta.delete(LEASE_ROW)  # too slow to count: withdraw the write, then try again
                seen = self.meta.get(LEASE_ROW)
            if time.monotonic() >= deadline:
                raise LeaseBusy(f"another writer holds the archive's write lease ({_describe(seen)}); retry later")
            time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))

    def renew(self) -> None:
        """Extend the lease (called between batches); LeaseBusy if it was lost (expired and taken)."""
        if time.monotonic() - self.renewed < self.ttl_s / 4:
            return
        if not self._mine(self.meta.get(LEASE_ROW)):
            raise LeaseBusy("the archive's write lease expired and another writer took it; the write stops")
        self._write()

    def release(self) -> None:
        if self._mine(self.meta.get(LEASE_ROW)):
            self.meta.put(LEASE_ROW, {"holder": "", "expires": 0.0, "purpose": ""})

    def __enter__(self) -> WriteLease:
        return self

    def __exit__(self, *_: object) -> None:
        self.release()

    def _write(self) -> None:
        self.meta.put(LEASE_ROW, {"holder": self.holder, "expires": time.time() + self.ttl_s, "purpose": self.purpose})
        self.renewed = time.monotonic()

    def _mine(self, row: object) -> bool:
        return isinstance(row, dict) and row.get("holder") == self.holder

    @staticmethod
    def _free(row: object) -> bool:
        return not isinstance(row, dict) or not row.get("holder") or float(row.get("expires", 0)) < time.time()


def _describe(row: object) -> str:
    if not isinstance(row, dict):
        return "unknown"
    left = float(row.get("expires", 0)) - time.time()
    return f"{row.get('purpose') or 'a write'} by {row.get('holder')}, expires in {max(0.0, left):.0f} s"
