"""`EmbedExecutor.call`: other work (the reader) run on the query lane's owner thread, between embedding batches."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

import numpy as np
import pytest

from isnad.service.embed_executor import EmbedExecutor


class ZeroEmbedder:
    """A stand-in embedder (fine here: these tests are about threads, not vectors) recording its calling threads."""

    model_id = "zero-test"
    dim = 4

    def __init__(self) -> None:
        self.threads: list[str] = []

    def embed_batch(self, texts: Sequence[str], role: str) -> np.ndarray:
        self.threads.append(threading.current_thread().name)
        return np.zeros((len(texts), self.dim), dtype=np.float32)


@pytest.fixture
def inner() -> ZeroEmbedder:
    return ZeroEmbedder()


@pytest.fixture
def executor(inner: ZeroEmbedder) -> Iterator[EmbedExecutor]:
    ex = EmbedExecutor(inner)
    yield ex
    ex.close()


def test_call_returns_the_value_from_the_query_owner_thread(executor: EmbedExecutor, inner: ZeroEmbedder) -> None:
    """call() hands back fn's value, computed on "isnad-embed-query", the thread that embeds queries."""
    caller = threading.current_thread().name
    assert executor.call(lambda: (threading.current_thread().name, 41 + 1)) == ("isnad-embed-query", 42)
    assert caller != "isnad-embed-query"
    executor.embed_batch(["q"], "query")
    assert inner.threads == ["isnad-embed-query"]


def test_exception_reaches_the_caller_and_the_lane_keeps_serving(executor: EmbedExecutor) -> None:
    """An error in fn is raised in the caller; afterwards the same owner thread still embeds and runs calls."""

    def broken() -> int:
        raise KeyError("no such window")

    with pytest.raises(KeyError, match="no such window"):
        executor.call(broken)
    vectors = executor.embed_batch(["a", "b", "c"], "query")
    assert vectors.shape == (3, 4) and not vectors.any()
    assert executor.call(lambda: "still here") == "still here"


def test_call_from_the_owner_thread_runs_inline(executor: EmbedExecutor) -> None:
    """A call made from inside a call runs at once instead of queueing behind itself (no deadlock)."""
    assert executor.call(lambda: executor.call(lambda: threading.current_thread().name)) == "isnad-embed-query"


def test_calls_from_many_threads_each_get_their_own_result(executor: EmbedExecutor, inner: ZeroEmbedder) -> None:
    """Concurrent callers mixing calls and query embeddings each get their own answer; every call and every
    query embedding ran on the one query owner thread."""
    results: dict[int, object] = {}
    ran_on: set[str] = set()
    lock = threading.Lock()

    def work(k: int) -> None:
        def fn() -> int:
            with lock:
                ran_on.add(threading.current_thread().name)
            return k * k

        value = executor.call(fn)
        rows = executor.embed_batch([f"q{k}"], "query")
        with lock:
            results[k] = (value, rows.shape)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert results == {k: (k * k, (1, 4)) for k in range(16)}
    assert ran_on == {"isnad-embed-query"}
    assert set(inner.threads) == {"isnad-embed-query"}


class GatedZeroEmbedder(ZeroEmbedder):
    """ZeroEmbedder whose calls wait until the test opens a gate, to catch a call running beside a batch."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.inside = False

    def embed_batch(self, texts: Sequence[str], role: str) -> np.ndarray:
        self.inside = True
        self.entered.set()
        assert self.gate.wait(timeout=60)
        self.inside = False
        return super().embed_batch(texts, role)


def test_call_waits_for_the_running_query_batch() -> None:
    """A call queued while a query batch embeds runs after it, never beside it."""
    inner = GatedZeroEmbedder()
    executor = EmbedExecutor(inner)
    try:
        embedding = threading.Thread(target=executor.embed_batch, args=(["q"], "query"))
        embedding.start()
        assert inner.entered.wait(timeout=60)
        seen: list[bool] = []
        calling = threading.Thread(target=lambda: seen.append(executor.call(lambda: inner.inside)))
        calling.start()
        calling.join(timeout=0.3)
        assert calling.is_alive() and not seen  # still queued behind the batch
        inner.gate.set()
        calling.join(timeout=60)
        embedding.join(timeout=60)
        assert seen == [False]
    finally:
        inner.gate.set()
        executor.close()
