"""The serving embedder's owner thread: every engine call from one thread, one at a time, queued texts batched."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from isnad.cli.main import passive_engine_waits
from isnad.indexer.embed import Embedder, Role
from isnad.service.embed_executor import EmbedExecutor
from isnad.service.query_cache import CachedQueryEmbedder
from isnad.service.state import ServiceState
from tests.indexer.fake_embedder import HashEmbedder

HANG_GUARD_S = 60.0  # only stops a broken executor from hanging the suite; never decides an outcome


class CallProbe:
    """Wraps an embedder and records, per call, the calling thread and how many calls were inside at once."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.model_id = inner.model_id  # type: ignore[attr-defined]
        self.dim = inner.dim  # type: ignore[attr-defined]
        self.calls: list[tuple[list[str], Role]] = []
        self.threads: set[int] = set()
        self.active = 0
        self.max_active = 0
        self._lock = threading.Lock()

    def embed_batch(self, texts: Sequence[str], role: Role) -> np.ndarray:
        with self._lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            self.threads.add(threading.get_ident())
            self.calls.append((list(texts), role))
        try:
            return self.inner.embed_batch(texts, role)  # type: ignore[attr-defined]
        finally:
            with self._lock:
                self.active -= 1


class GatedEmbedder(HashEmbedder):
    """A stand-in (the test is about queueing, not vectors) whose first call waits until the test opens a gate."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.fail_on: str | None = None

    def embed_batch(self, texts: Sequence[str], role: str) -> np.ndarray:
        self.entered.set()
        assert self.gate.wait(HANG_GUARD_S)
        if self.fail_on in texts:
            raise RuntimeError(f"cannot embed {self.fail_on}")
        return super().embed_batch(texts, role)


def _wait_until(condition: object) -> None:
    deadline = time.monotonic() + HANG_GUARD_S
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "the executor stopped making progress"
        time.sleep(0.001)


def _submit(executor: EmbedExecutor, text: str, role: Role, out: dict[str, object]) -> threading.Thread:
    def call() -> None:
        try:
            out[text] = executor.embed_batch([text], role)
        except Exception as exc:
            out[text] = exc

    thread = threading.Thread(target=call)
    thread.start()
    return thread


def test_concurrent_searches_make_every_engine_call_from_one_thread_one_at_a_time(
        sample_index: Path, embedder: Embedder) -> None:
    probe = CallProbe(embedder)
    state = ServiceState.open(sample_index, probe)  # type: ignore[arg-type]
    queries = [f"{q} {i}" for i in range(6) for q in ("متى عقدت الجولة الثامنة؟", "who are the guarantor states?",
                                                        "وقف إطلاق النار")]
    barrier = threading.Barrier(len(queries))
    got: dict[str, list[str]] = {}

    def search(query: str) -> None:
        barrier.wait()
        got[query] = [r.chunk.chunk_id for r in state.searcher.search(query, k=5).results]

    threads = [threading.Thread(target=search, args=(q,)) for q in queries]
    for t in threads:
        t.start()
    for t in threads:
        t.join(HANG_GUARD_S)

    assert probe.max_active == 1
    assert len(probe.threads) == 1 and probe.threads.isdisjoint({t.ident for t in threads})
    assert sorted(t for texts, _ in probe.calls for t in texts) == sorted(queries)  # each embedded once
    assert all(role == "query" for _, role in probe.calls)
    # Batched or not, each query ranks as it does alone.
    for query in queries[:3]:
        assert got[query] == [r.chunk.chunk_id for r in state.searcher.search(query, k=5).results]


def test_texts_queued_behind_a_running_call_go_into_the_next_call_together() -> None:
    inner = GatedEmbedder()
    probe = CallProbe(inner)
    executor = EmbedExecutor(probe)  # type: ignore[arg-type]
    out: dict[str, object] = {}
    threads = [_submit(executor, "first", "query", out)]
    assert inner.entered.wait(HANG_GUARD_S)
    threads += [_submit(executor, text, "query", out) for text in ("b", "c", "d")]
    _wait_until(lambda: executor._jobs["query"].qsize() == 3)
    inner.gate.set()
    for t in threads:
        t.join(HANG_GUARD_S)

    assert [sorted(texts) for texts, _ in probe.calls] == [["first"], ["b", "c", "d"]]
    reference = HashEmbedder()
    for text in ("first", "b", "c", "d"):
        assert np.array_equal(out[text], reference.embed_batch([text], "query"))  # each caller got its own row


class PassageGate(HashEmbedder):
    """A stand-in (the test is about scheduling, not vectors) whose passage calls wait for the test's gate."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.gate = threading.Event()

    def embed_batch(self, texts: Sequence[str], role: str) -> np.ndarray:
        if role == "passage":
            self.entered.set()
            assert self.gate.wait(HANG_GUARD_S)
        return super().embed_batch(texts, role)


def test_queries_never_wait_behind_a_running_passage_batch() -> None:
    inner = PassageGate()
    probe = CallProbe(inner)
    executor = EmbedExecutor(probe)  # type: ignore[arg-type]
    out: dict[str, object] = {}
    write = _submit(executor, "p1", "passage", out)
    assert inner.entered.wait(HANG_GUARD_S)
    # The write's batch is still inside the engine, and a query is answered all the same.
    assert np.array_equal(executor.embed_batch(["q1"], "query"), HashEmbedder().embed_batch(["q1"], "query"))
    assert "p1" not in out
    inner.gate.set()
    write.join(HANG_GUARD_S)
    assert np.array_equal(out["p1"], HashEmbedder().embed_batch(["p1"], "passage"))
    assert sorted((tuple(texts), role) for texts, role in probe.calls) == [(("p1",), "passage"), (("q1",), "query")]


def test_a_failing_call_fails_every_caller_in_it_and_the_executor_keeps_serving() -> None:
    inner = GatedEmbedder()
    executor = EmbedExecutor(inner)  # type: ignore[arg-type]
    out: dict[str, object] = {}
    threads = [_submit(executor, "first", "query", out)]
    assert inner.entered.wait(HANG_GUARD_S)
    threads += [_submit(executor, text, "query", out) for text in ("bad", "innocent")]
    _wait_until(lambda: executor._jobs["query"].qsize() == 2)
    inner.fail_on = "bad"
    inner.gate.set()
    for t in threads:
        t.join(HANG_GUARD_S)
    assert isinstance(out["bad"], RuntimeError) and isinstance(out["innocent"], RuntimeError)
    assert "cannot embed bad" in str(out["bad"])
    assert executor.embed_batch(["after"], "query").shape == (1, inner.dim)


def test_executor_passes_through_empty_input_and_validates_its_settings() -> None:
    executor = EmbedExecutor(HashEmbedder())  # type: ignore[arg-type]
    assert executor.embed_batch([], "query").shape == (0, 32)
    with pytest.raises(ValueError):
        EmbedExecutor(HashEmbedder(), max_batch=0)  # type: ignore[arg-type]
    executor.close()


def test_a_window_waits_for_company_only_after_the_first_text() -> None:
    probe = CallProbe(HashEmbedder())
    executor = EmbedExecutor(probe, window_s=0.001)  # type: ignore[arg-type]
    vectors = executor.embed_batch(["alone"], "query")
    assert vectors.shape == (1, 32) and probe.calls == [(["alone"], "query")]


def test_engine_waits_are_passive_unless_the_user_chose(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    passive_engine_waits()
    assert os.environ["OMP_WAIT_POLICY"] == "passive"
    monkeypatch.setenv("OMP_WAIT_POLICY", "active")
    passive_engine_waits()
    assert os.environ["OMP_WAIT_POLICY"] == "active"


class TextGate(HashEmbedder):
    """A stand-in (the test is about scheduling) whose calls holding `held` wait for the test's gate."""

    def __init__(self, held: str) -> None:
        super().__init__()
        self.held = held
        self.entered = threading.Event()
        self.gate = threading.Event()

    def embed_batch(self, texts: Sequence[str], role: str) -> np.ndarray:
        if self.held in texts:
            self.entered.set()
            assert self.gate.wait(HANG_GUARD_S)
        return super().embed_batch(texts, role)


def test_background_work_of_the_query_role_never_holds_up_a_query() -> None:
    """The bridge's vocabulary is embedded as queries, in bulk, on the background lane, past the cache."""
    inner = TextGate("vocabulary-word")
    cache = CachedQueryEmbedder(EmbedExecutor(inner))  # type: ignore[arg-type]
    out: dict[str, object] = {}

    def bulk() -> None:
        out["bulk"] = cache.background.embed_batch(["vocabulary-word"], "query")

    worker = threading.Thread(target=bulk)
    worker.start()
    assert inner.entered.wait(HANG_GUARD_S)
    assert cache.embed_batch(["q1"], "query").shape == (1, 32)  # answered while the bulk call is held
    assert "bulk" not in out
    inner.gate.set()
    worker.join(HANG_GUARD_S)
    assert np.array_equal(out["bulk"], HashEmbedder().embed_batch(["vocabulary-word"], "query"))
    assert len(cache) == 1  # only the query was cached
