"""Answerability features and the model file, on hand-built search responses (no model needed: the test is
about the arithmetic of the features and the JSON contract, not about the embedder)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from isnad.indexer.text.query import analyze
from isnad.indexer.types import Chunk
from isnad.service.ask.answerability import FEATURES, AnswerabilityModel, Evidence, features, model_file_stem
from isnad.service.search import SearchResponse, SearchResult

TEXT = "افتتح مطار المدينة الجديد في 12 مارس 2019. وبلغت كلفته 300 مليون دولار."


def _response(question: str, dense: tuple[float, ...], lexical: float | None, vector: np.ndarray) -> SearchResponse:
    chunk = Chunk("d1", "d1:0", 0, len(TEXT), TEXT)
    results = tuple(SearchResult(i + 1, chunk, d, d, lexical) for i, d in enumerate(dense))
    return SearchResponse(question, results, 1.0, analyze(question, None), max(dense), vector)


def _f(x: np.ndarray, name: str) -> float:
    return float(x[FEATURES.index(name)])


def test_dense_score_is_normalized_against_the_background() -> None:
    background = np.eye(4, dtype=np.float32)  # the query's cosines with it: 1, 0, 0, 0
    vector = np.array([1.0, 0.0, 0.0, 0.0], dtype=np.float32)
    x = features(Evidence(_response("متى افتتح المطار؟", (0.9, 0.8), 3.0, vector), TEXT, "date"), background)
    mean, std = 0.25, np.std([1, 0, 0, 0])
    assert _f(x, "dense_top") == pytest.approx(0.9)
    assert _f(x, "dense_z") == pytest.approx((0.9 - mean) / std)
    assert _f(x, "dense_margin") == pytest.approx(0.1)


def test_coverage_numbers_and_answer_type() -> None:
    vector = np.ones(4, dtype=np.float32) / 2
    sentence = "افتتح مطار المدينة الجديد في 12 مارس 2019."
    x = features(Evidence(_response("متى افتتح المطار؟", (0.9,), 2.0, vector), sentence, "date"), None)
    assert _f(x, "sent_term_cov") == 1.0  # افتتح, مطار: both in the sentence
    assert _f(x, "type_wanted") == 1.0 and _f(x, "type_match") == 1.0
    assert _f(x, "dense_z") == 0.0  # no background: the feature is neutral
    other = features(Evidence(_response("متى افتتح الملعب؟", (0.9,), 2.0, vector), "وبلغت كلفته الكثير.",
                              "date"), None)
    assert _f(other, "sent_term_cov") < 1.0 and _f(other, "type_match") == 0.0
    numbers = features(Evidence(_response("ماذا حدث في 2019؟", (0.9,), 2.0, vector), sentence, "other"), None)
    assert _f(numbers, "asks_number") == 1.0 and _f(numbers, "sent_number_cov") == 1.0


def _write_model(folder: Path, model_id: str, threshold: float, coef: list[float], features_: list[str]) -> None:
    n = len(FEATURES)
    lang = {"mean": [0.0] * n, "scale": [1.0] * n, "coef": coef, "intercept": 0.0, "threshold": threshold}
    spec = {"model_id": model_id, "features": features_, "langs": {"ar": lang, "en": lang}}
    (folder / f"{model_file_stem(model_id)}.json").write_text(json.dumps(spec), encoding="utf-8")
    np.save(folder / f"{model_file_stem(model_id)}.background.npy", np.eye(4, dtype=np.float16))


def test_model_file_round_trip_and_decision(tmp_path: Path) -> None:
    coef = [0.0] * len(FEATURES)
    coef[FEATURES.index("dense_top")] = 10.0
    _write_model(tmp_path, "fake:model/1", 0.5, coef, list(FEATURES))
    model = AnswerabilityModel.load("fake:model/1", tmp_path)
    assert model is not None
    vector = np.ones(4, dtype=np.float32) / 2
    strong = model.score(Evidence(_response("متى افتتح المطار؟", (0.9,), 1.0, vector), TEXT, "date"))
    weak = model.score(Evidence(_response("متى افتتح المطار؟", (-0.9,), 1.0, vector), TEXT, "date"))
    assert strong[1] and strong[0] == pytest.approx(1 / (1 + np.exp(-9.0)))
    assert not weak[1] and weak[0] < 0.5


def test_model_for_another_embedder_or_feature_set_is_not_used(tmp_path: Path) -> None:
    assert AnswerabilityModel.load("no-such-model", tmp_path) is None
    _write_model(tmp_path, "fake:old", 0.5, [0.0] * len(FEATURES), [*FEATURES[:-1], "retired"])
    assert AnswerabilityModel.load("fake:old", tmp_path) is None
