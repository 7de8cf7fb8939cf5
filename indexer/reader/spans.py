"""From the reader's start and end logits to the best answer span, in characters of the passage."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from isnad.indexer.reader.inputs import ReaderInput

MAX_ANSWER_TOKENS = 30


@dataclass(frozen=True)
class Reading:
    """What a reader says of one passage (the `Reader` seam's type, service/ask/reader.py)."""

    passage: int  # index into the passages read
    probability: float  # calibrated: that this passage answers the question
    start: int  # the best span, characters of the passage
    end: int
    span_score: float  # start + end logit
    span_probability: float = 0.0  # softmax(start) x softmax(end) over the passage at the span's edges

    @property
    def has_span(self) -> bool:
        return self.end > self.start

# Trimmed from a span's edges: a cited answer starts and ends on words ("القاهرة،" -> "القاهرة").
_EDGE = " \t\n\u00a0.,;:!?()[]{}\"'«»“”‘’،؛؟…-–—/"


def best_span(start: np.ndarray, end: np.ndarray, inp: ReaderInput, text: str | None = None,
              max_tokens: int = MAX_ANSWER_TOKENS) -> tuple[int, int, float]:
    """(start, end, score) of the best span over the passage's tokens: characters of the passage, score =
    start logit + end logit. `start`/`end` are logits over every position of `inp.ids`."""
    lo, hi = inp.first, inp.last
    if hi <= lo:
        return 0, 0, float("-inf")
    s = np.asarray(start[lo:hi], dtype=np.float64)
    e = np.asarray(end[lo:hi], dtype=np.float64)
    n = len(s)
    # score[i, j] = s[i] + e[j] for i <= j < i + max_tokens
    scores = s[:, None] + e[None, :]
    i, j = np.indices((n, n))
    scores[(j < i) | (j >= i + max_tokens)] = -np.inf
    flat = int(np.argmax(scores))
    a, b = divmod(flat, n)
    char_start, char_end = inp.offsets[a][0], inp.offsets[b][1]
    return *trim(char_start, char_end, text), float(scores[a, b])


def span_probability(start: np.ndarray, end: np.ndarray, inp: ReaderInput, score: float) -> float:
    """How much of the start and end distributions over the passage's tokens the best span holds: softmax(start)
    at its first token times softmax(end) at its last (a diffuse choice, as when no sentence answers, is low)."""
    lo, hi = inp.first, inp.last
    if hi <= lo or not np.isfinite(score):
        return 0.0
    s = np.asarray(start[lo:hi], dtype=np.float64)
    e = np.asarray(end[lo:hi], dtype=np.float64)
    return float(np.exp(score - _logsumexp(s) - _logsumexp(e)))


def _logsumexp(x: np.ndarray) -> float:
    top = float(x.max())
    return top + float(np.log(np.exp(x - top).sum()))


def trim(start: int, end: int, text: str | None = None) -> tuple[int, int]:
    """Without punctuation or spaces at its edges (when the passage text is given)."""
    if text is None or end <= start:
        return start, max(start, end)
    while start < end and text[start] in _EDGE:
        start += 1
    while end > start and text[end - 1] in _EDGE:
        end -= 1
    return start, end
