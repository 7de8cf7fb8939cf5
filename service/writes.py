"""Writes run one at a time on their own thread, behind a bounded queue, so reads never wait behind them.

Writes to one index are serialized anyway (one lock, one data folder switch at a time); running them on the
request threads let one slow write plus a few dozen queued ones take every thread the reads need. Here a
request only enqueues a `Job` (refused with `QueueFull` when the queue is full) and awaits its future.

A job can be cancelled while queued (dropped, never started) or while running: the embedder it writes with
checks the job between batches and raises `WriteCancelled`, so nothing is written and the previous generation
stays. `stop()` (SIGTERM) cancels everything queued and the job in progress the same way.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from isnad.indexer.embed import Embedder, Role

log = logging.getLogger(__name__)
JobState = Literal["queued", "running", "done", "failed", "cancelled"]
FINISHED: frozenset[str] = frozenset({"done", "failed", "cancelled"})


class QueueFull(RuntimeError):
    """The write queue holds its maximum of waiting writes."""


class WriteCancelled(RuntimeError):
    """The write was cancelled (by a client or by shutdown) before it changed the index."""


@dataclass(eq=False)
class Job:
    kind: str  # "add", "delete", "reload"
    run: Callable[[Job], Any]
    documents: int = 0
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    state: JobState = "queued"
    total_chunks: int | None = None  # known once the job has chunked its documents
    embedded_chunks: int = 0
    error: BaseException | None = None
    result: Any = None
    created: float = field(default_factory=time.time)
    finished: float | None = None
    cancel_reason: str | None = None
    future: Future[Any] = field(default_factory=Future)
    collection: str | None = None  # the collection it writes: only keys holding it may see or cancel the job

    def check(self) -> None:
        """Called between steps of the write: raises if it should stop before changing the index."""
        if self.cancel_reason is not None:
            raise WriteCancelled(self.cancel_reason)


class ProgressEmbedder:
    """Wraps the service's embedder for one job: counts embedded chunks, stops the job between batches."""

    def __init__(self, inner: Embedder, job: Job) -> None:
        self.inner, self.job = inner, job
        self.model_id, self.dim = inner.model_id, inner.dim

    def embed_batch(self, texts: Sequence[str], role: Role) -> np.ndarray:
        self.job.check()
        vectors = self.inner.embed_batch(texts, role)
        self.job.check()  # a cancel during the batch takes effect before anything is written
        self.job.embedded_chunks += len(texts)
        return vectors

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class WriteQueue:
    def __init__(self, max_waiting: int, keep_finished: int = 100) -> None:
        self.max_waiting = max_waiting
        self.keep_finished = keep_finished
        self._waiting: deque[Job] = deque()
        self._jobs: OrderedDict[str, Job] = OrderedDict()  # every job still known, oldest first
        self._cond = threading.Condition()
        self._stopping = False
        self.running: Job | None = None
        self.dropped = 0  # cancelled before they started (client gone, DELETE /jobs, shutdown)
        self._thread = threading.Thread(target=self._work, name="isnad-writer", daemon=True)
        self._thread.start()

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def submit(self, job: Job) -> Job:
        with self._cond:
            if self._stopping:
                raise WriteCancelled("the service is shutting down")
            if len(self._waiting) >= self.max_waiting:
                raise QueueFull(f"{len(self._waiting)} writes are already waiting (the limit is {self.max_waiting})")
            self._waiting.append(job)
            self._remember(job)
            self._cond.notify()
        return job

    def get(self, job_id: str) -> Job | None:
        with self._cond:
            return self._jobs.get(job_id)

    def cancel(self, job: Job, reason: str) -> bool:
        """Queued: dropped now. Running: stops at its next check. Returns False when it already finished."""
        with self._cond:
            if job.state in FINISHED:
                return False
            job.cancel_reason = reason
            if job.state == "queued":
                self._waiting.remove(job)
                self.dropped += 1
                self._finish(job, WriteCancelled(reason))
            return True

    def drop_if_queued(self, job: Job, reason: str) -> bool:
        with self._cond:
            return job.state == "queued" and self.cancel(job, reason)

    def stop(self, reason: str = "the service is shutting down; the write was not applied") -> None:
        """Refuse new writes, drop the queued ones, stop the running one at its next check. Safe in a signal
        handler's thread: takes only this queue's lock, never waits for the write."""
        with self._cond:
            self._stopping = True
            for job in list(self._waiting):
                self.cancel(job, reason)
            if self.running is not None:
                self.running.cancel_reason = reason
            self._cond.notify_all()

    def join(self, timeout: float) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._waiting and not self._stopping:
                    self._cond.wait()
                if not self._waiting:
                    return
                job = self._waiting.popleft()
                job.state, self.running = "running", job
            try:
                job.check()
                result = job.run(job)
            except BaseException as exc:  # delivered to the waiting request; the worker keeps going
                if not isinstance(exc, WriteCancelled | ValueError | KeyError):
                    log.exception("write job %s failed", job.id)
                with self._cond:
                    self.running = None
                    self._finish(job, exc)
                continue
            with self._cond:
                self.running = None
                self._finish(job, None, result)

    def _finish(self, job: Job, error: BaseException | None, result: Any = None) -> None:
        job.state = "cancelled" if isinstance(error, WriteCancelled) else "failed" if error else "done"
        job.error, job.result, job.finished = error, result, time.time()
        if error is None:
            job.future.set_result(result)
        else:
            job.future.set_exception(error)
        self._prune()

    def _remember(self, job: Job) -> None:
        self._jobs[job.id] = job
        self._prune()

    def _prune(self) -> None:
        finished = [j for j in self._jobs.values() if j.state in FINISHED]
        for old in finished[: max(0, len(finished) - self.keep_finished)]:
            del self._jobs[old.id]
