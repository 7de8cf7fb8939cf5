"""Passage embedding across single-threaded worker processes: same vectors, same order, as one process."""

from __future__ import annotations

import numpy as np
import pytest

from indexer.embed import E5Embedder
from indexer.parallel_embed import ParallelE5Embedder

PASSAGES = ["انعقدت الجولة الرابعة من محادثات أستانا في مايو.", "The guarantor states met in Astana.",
            "اتفقت الدول الضامنة على أربع مناطق لخفض التصعيد في سوريا، تشمل إدلب وأجزاء من حمص والغوطة الشرقية.",
            "وقف إطلاق النار", "Round eight ended without a deal on detainees.", "دي ميستورا"]


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
