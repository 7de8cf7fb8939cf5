"""The one small logistic model behind every calibrated probability of `/ask` (the judge, the answerability
model): standardized features, a linear logit, an optional Platt map, the one clamped sigmoid."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from isnad.indexer.reader.calibration import sigmoid


@dataclass(frozen=True)
class Logistic:
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    platt: tuple[float, float] = (1.0, 0.0)  # the logit -> probability map fitted after the model (identity)

    def logit(self, x: np.ndarray) -> float:
        return float(((x - self.mean) / self.scale) @ self.coef + self.intercept)

    def probability(self, x: np.ndarray) -> float:
        return self.probability_of_logit(self.logit(x))

    def probability_of_logit(self, logit: float) -> float:
        if logit == -math.inf:
            return 0.0
        return sigmoid(self.platt[0] * logit + self.platt[1])
