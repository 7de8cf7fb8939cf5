"""The reader's answer logit -> a calibrated probability (Platt scaling) and the bar to answer."""

from __future__ import annotations

import math

import numpy as np


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, x))))


def fit_platt(logits: np.ndarray, labels: np.ndarray, iterations: int = 50) -> tuple[float, float]:
    """(a, b) maximizing the likelihood of labels under sigmoid(a * logit + b) (Newton's method)."""
    x = np.asarray(logits, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    a, b = 1.0, 0.0
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-(a * x + b)))
        w = np.maximum(p * (1 - p), 1e-9)
        grad = np.array([((p - y) * x).sum(), (p - y).sum()])
        hess = np.array([[(w * x * x).sum(), (w * x).sum()], [(w * x).sum(), w.sum()]]) + 1e-6 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        a, b = a - step[0], b - step[1]
        if np.abs(step).max() < 1e-8:
            break
    return float(a), float(b)


def threshold_for_recall(logits: np.ndarray, labels: np.ndarray, platt: tuple[float, float],
                         recall: float) -> float:
    """The highest probability bar that still answers `recall` of the answerable cases."""
    a, b = platt
    positive = np.sort(1 / (1 + np.exp(-(a * np.asarray(logits)[np.asarray(labels, bool)] + b))))
    if not len(positive):
        return 0.5
    k = min(len(positive) - 1, max(0, math.floor((1 - recall) * len(positive))))
    return float(positive[k])
