"""Platt scaling of the answer logit and the probability bar that keeps a given recall."""

from __future__ import annotations

import math

import numpy as np
import pytest

from isnad.indexer.reader.calibration import fit_platt, sigmoid, threshold_for_recall


def sampled(a: float, b: float, n: int = 20000, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Logits ~ N(0, 2) and labels drawn from sigmoid(a * logit + b)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 2.0, size=n)
    y = rng.random(n) < 1 / (1 + np.exp(-(a * x + b)))
    return x, y


@pytest.mark.parametrize(("a", "b"), [(1.0, 0.0), (0.6, -1.2), (2.5, 0.8)])
def test_fit_platt_recovers_a_known_logistic(a: float, b: float) -> None:
    """Labels sampled from a known logistic give back its slope and intercept (within sampling noise)."""
    x, y = sampled(a, b)
    fa, fb = fit_platt(x, y)
    assert fa == pytest.approx(a, abs=0.1)
    assert fb == pytest.approx(b, abs=0.1)


@pytest.mark.parametrize("recall", [0.5, 0.8, 0.95, 1.0])
def test_threshold_answers_at_least_the_requested_recall(recall: float) -> None:
    """At the returned bar, at least `recall` of the positives have a probability that reaches it."""
    x, y = sampled(1.3, -0.4)
    platt = fit_platt(x, y)
    bar = threshold_for_recall(x, y, platt, recall)
    p = 1 / (1 + np.exp(-(platt[0] * x[y] + platt[1])))
    assert 0.0 < bar < 1.0
    assert np.mean(p >= bar) >= recall
    assert np.mean(p >= bar) <= recall + 0.01  # and the bar is not needlessly low


def test_threshold_rises_as_recall_falls() -> None:
    """Asking for less recall never lowers the bar."""
    x, y = sampled(1.3, -0.4)
    platt = fit_platt(x, y)
    bars = [threshold_for_recall(x, y, platt, r) for r in (0.99, 0.9, 0.7, 0.5)]
    assert bars == sorted(bars)
    assert bars[0] < bars[-1]


def test_threshold_without_positives_is_one_half() -> None:
    """No answerable case to keep: the bar falls back to 0.5."""
    assert threshold_for_recall(np.array([1.0, -2.0]), np.array([False, False]), (1.0, 0.0), 0.95) == 0.5


def test_sigmoid() -> None:
    """The logistic function, clipped so that extreme logits neither overflow nor reach exactly 0 or 1."""
    assert sigmoid(0.0) == 0.5
    assert sigmoid(2.0) == pytest.approx(1 / (1 + math.exp(-2.0)))
    assert 0.0 < sigmoid(-1e9) < 1e-20
    assert 1.0 - 1e-15 < sigmoid(1e9) <= 1.0
