"""The answerability trainer's parts: a fixed article split, the logistic fit, ECE and the threshold."""

from __future__ import annotations

import numpy as np

from isnad.eval.calibrate import (
    _predict,
    auc,
    ece,
    fit_logistic,
    split_of,
    standardize,
    threshold_for_precision,
)


def test_split_is_fixed_and_by_article() -> None:
    titles = [f"Article_{i}" for i in range(200)]
    first = [split_of(t) for t in titles]
    assert first == [split_of(t) for t in titles]  # no randomness: same split every run
    share = first.count("train") / len(first)
    assert 0.6 < share < 0.8


def test_logistic_fit_separates_and_is_calibrated_on_its_own_distribution() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4000, 2))
    p_true = 1 / (1 + np.exp(-(2.0 * x[:, 0] - 1.0 * x[:, 1] + 0.5)))
    y = (rng.random(4000) < p_true).astype(float)
    mean, scale = standardize(x)
    coef, b = fit_logistic((x - mean) / scale, y, l2=0.1)
    p = _predict(x, mean, scale, coef, b)
    assert coef[0] > 0 > coef[1]
    assert auc(p, y) > 0.8
    assert ece(p, y) < 0.03


def test_ece_of_a_perfect_and_a_wrong_forecast() -> None:
    y = np.array([1, 1, 0, 0], dtype=float)
    assert ece(np.array([1.0, 1.0, 0.0, 0.0]), y) == 0.0
    assert abs(ece(np.array([0.0, 0.0, 1.0, 1.0]), y) - 1.0) < 1e-9


def test_threshold_reaches_the_target_precision() -> None:
    p = np.array([0.95, 0.9, 0.8, 0.7, 0.6, 0.5])
    y = np.array([1, 1, 1, 0, 1, 0], dtype=float)
    assert threshold_for_precision(p, y, 1.0) == 0.8  # the top three are all answerable
    assert threshold_for_precision(p, y, 0.8) == 0.6  # 4 of 5 at or above 0.6
    assert threshold_for_precision(np.array([0.9]), np.array([0.0]), 0.9) == 1.0  # never reached: never answer
