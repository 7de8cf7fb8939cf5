"""A deterministic stand-in for the model, for tests about reading/cleaning/chunking/storing at volume."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np


class HashEmbedder:
    model_id = "fake:hash"
    dim = 32

    def __init__(self) -> None:
        self.texts = 0

    def embed_batch(self, texts: Sequence[str], role: str) -> np.ndarray:
        self.texts += len(texts)
        seeds = [int.from_bytes(hashlib.blake2b(t.encode(), digest_size=4).digest(), "big") for t in texts]
        vectors = np.stack([np.random.default_rng(s).standard_normal(self.dim) for s in seeds]).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
