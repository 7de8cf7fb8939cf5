"""Small measuring helpers: percentiles, RSS, folder sizes, an embedder that counts its calls."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from isnad.indexer.embed import Embedder, Role


def percentiles(ms: Sequence[float]) -> dict[str, float]:
    arr = np.asarray(ms, dtype=np.float64)
    if arr.size == 0:
        return {"n": 0}
    p50, p95, p99 = np.percentile(arr, [50, 95, 99])
    return {"n": int(arr.size), "p50_ms": round(float(p50), 3), "p95_ms": round(float(p95), 3),
            "p99_ms": round(float(p99), 3), "mean_ms": round(float(arr.mean()), 3)}


def time_each(func: Callable[[Any], object], items: Sequence[Any]) -> list[float]:
    """Milliseconds per call of func(item)."""
    out = []
    for item in items:
        started = time.perf_counter()
        func(item)
        out.append((time.perf_counter() - started) * 1000)
    return out


def rss_mb(pid: int | None = None) -> float:
    return round(psutil.Process(pid or os.getpid()).memory_info().rss / 2**20, 1)


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


class CountingEmbedder:
    """Wraps an embedder and counts calls and texts, to prove an unchanged re-index embeds nothing."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dim = inner.dim
        self.calls = 0
        self.texts = 0
        self.passage_texts = 0  # chunks only: the cross-lingual bridge embeds vocabulary words as queries

    def embed_batch(self, texts: Sequence[str], role: Role) -> np.ndarray:
        self.calls += 1
        self.texts += len(texts)
        self.passage_texts += len(texts) if role == "passage" else 0
        return self.inner.embed_batch(texts, role)
