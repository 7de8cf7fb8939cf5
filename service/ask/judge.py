"""Judge: one small logistic model over what the reader says of a passage *and* what the question shares with
the sentence it would cite, the passage's retrieval evidence and the topic gate's confidence.

The reader alone tells "this passage answers" from "the answer sentence was removed" poorly (dev AUC ~0.8):
with the answering sentence gone it still finds a plausible span nearby. Whether the question's own words
(for an English question: the bridge's weighted Arabic terms) stand in the cited sentence, and whether the span
is of the kind asked, are evidence the reader's 256-token view weighs differently. The judge ranks the read
passages (which one to cite) and its probability is `/ask`'s confidence.

Coefficients, scaling, the final question-level Platt map and the per-language bar live in the reader file's
metadata (`judge`), fitted on the reader's dev split by `isnad train-reader` (eval/reader_train/judge_fit.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from isnad.indexer.reader.weights import load_judge
from isnad.indexer.text.arabic import normalize_str
from isnad.indexer.types import Chunk
from isnad.service.ask.logistic import Logistic
from isnad.service.ask.passages import Passage, Passages, Sentence, spanning
from isnad.service.ask.question import Question
from isnad.service.ask.reader import PassageReading

# A sentence's own cosine to the question was tried too: no better on dev (5-fold AUC 0.824 with or without it)
# for an embedding call that cost as much as reading the passage.
FEATURES: tuple[str, ...] = (
    "reader_logit", "span_score", "span_probability", "sentence_terms", "passage_terms", "type_wanted",
    "type_match", "inverse_rank", "dense", "topic_logit", "lang_en", "en_reader_logit", "en_sentence_terms",
)


@dataclass(frozen=True)
class JudgedPassage:
    passage: PassageReading
    sentence: Sentence  # the sentence holding the reader's span: what would be cited
    features: np.ndarray
    probability: float  # calibrated: that citing `sentence` answers the question
    span: tuple[Chunk, int, int] | None = None  # the reader's span in document offsets (None: it gave none)


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def _coverage(weights: dict[str, float], tokens: frozenset[str]) -> float:
    if not weights:
        return 0.0
    return sum(w for t, w in weights.items() if t in tokens) / sum(weights.values())


def passage_features(p: PassageReading, passage: Passage, sentence: Sentence, question: Question,
                     topic: float | None, matched: dict[str, bool] | None = None) -> np.ndarray:
    """`matched`: span text -> whether it has the kind wanted, for spans already met (two passages, one span)."""
    r = p.reading
    span_text = p.result.chunk.text[r.start : r.end]
    reader_logit = _logit(r.probability)
    sentence_terms = _coverage(question.weights, sentence.tokens)
    en = float(question.lang == "en")
    cue = question.cue
    wanted = question.kind != "other"
    matched = {} if matched is None else matched
    if span_text not in matched:
        matched[span_text] = wanted and cue is not None and cue.search(normalize_str(span_text)) is not None
    match = matched[span_text]
    return np.array([
        reader_logit, r.span_score, r.span_probability, sentence_terms, _coverage(question.weights, passage.tokens),
        float(wanted), float(match), 1.0 / p.result.rank,
        p.result.dense_score or 0.0, _logit(topic) if topic is not None else 0.0, en, en * reader_logit,
        en * sentence_terms,
    ], dtype=np.float64)


@dataclass(frozen=True)
class Judge(Logistic):
    """The judge's logistic model (its `platt`: the best passage's logit -> probability, fitted per question)
    and its bars."""

    thresholds: dict[str, float] = field(default_factory=dict)  # answer at the question language's bar
    early_exit: float | None = None  # the top passage this likely: the others are not read (None: always read)
    # At or above the question language's sure bar an answer is "sure", between the two bars "possible"; None: the
    # judge file has none (an older fit), so every answer is "possible" and /health says so.
    sure_thresholds: dict[str, float] | None = None

    @classmethod
    def from_meta(cls, meta: dict) -> Judge:
        if tuple(meta["features"]) != FEATURES:
            raise ValueError(f"the judge was fitted on features {meta['features']}, this code computes {FEATURES}")
        return cls(np.array(meta["mean"]), np.array(meta["scale"]), np.array(meta["coef"]), float(meta["intercept"]),
                   (float(meta["platt"][0]), float(meta["platt"][1])),
                   {k: float(v) for k, v in meta["thresholds"].items()},
                   None if meta.get("early_exit") is None else float(meta["early_exit"]),
                   None if meta.get("sure_thresholds") is None
                   else {k: float(v) for k, v in meta["sure_thresholds"].items()})

    def to_meta(self) -> dict:
        return {"features": list(FEATURES), "mean": self.mean.tolist(), "scale": self.scale.tolist(),
                "coef": self.coef.tolist(), "intercept": self.intercept, "platt": list(self.platt),
                "thresholds": self.thresholds, "early_exit": self.early_exit,
                "sure_thresholds": self.sure_thresholds}

    def threshold(self, lang: str) -> float:
        return self.thresholds.get(lang, max(self.thresholds.values()))

    def sure_threshold(self, lang: str) -> float | None:
        """The bar for "sure" in the question's language (None: this judge has no sure bar)."""
        if not self.sure_thresholds:
            return None
        return self.sure_thresholds.get(lang, max(self.sure_thresholds.values()))


def usable_judge(meta: dict) -> tuple[Judge | None, str | None]:
    """The judge in this metadata, or None and why this code cannot use it ({}: none, and no reason)."""
    if not meta:
        return None, None
    try:
        return Judge.from_meta(meta), None
    except (KeyError, TypeError, ValueError) as exc:
        return None, f"the judge file cannot be used: {exc}"


def load_judge_for(reader_file: Path, reader_sha256: str) -> tuple[Judge | None, str | None]:
    """The judge fitted for a reader file (beside it), or None and why not: the one place that says whether a
    judge is usable (missing, damaged, fitted for another reader file, or on other features)."""
    meta, problem = load_judge(reader_file, reader_sha256)
    return (None, problem) if problem else usable_judge(meta)


def judge_beside(reader: object) -> Judge | None:
    """The usable judge fitted for a file-backed reader (one with `path` and `sha256`), else None."""
    path, sha256 = getattr(reader, "path", None), getattr(reader, "sha256", None)
    return load_judge_for(path, sha256)[0] if path is not None and sha256 is not None else None


def judge(readings: tuple[PassageReading, ...], passages: Passages, topic: float | None,
          model: Judge | None) -> tuple[JudgedPassage, ...]:
    """Each read passage with its sentence, features and probability, best first (without a judge: the
    reader's own probability)."""
    out = []
    for p in readings:
        passage = passages.by_chunk[p.result.chunk.chunk_id]
        sentence = _around(passage, passages.question, p.reading.start, p.reading.end)
        x = passage_features(p, passage, sentence, passages.question, topic, passages.span_matches)
        r, chunk = p.reading, p.result.chunk
        span = (chunk, chunk.start + r.start, chunk.start + r.end) if r.end > r.start else None
        out.append(JudgedPassage(p, sentence, x, model.probability(x) if model is not None else r.probability, span))
    return tuple(sorted(out, key=lambda j: (-j.probability, j.passage.result.rank)))


def _around(passage: Passage, question: Question, start: int, end: int) -> Sentence:
    """The sentence(s) of the passage holding characters [start, end) of it: what would be cited."""
    chunk = passage.result.chunk
    inside = [s for s in passage.sentences
              if s.start - chunk.start < max(end, start + 1) and start < s.end - chunk.start]
    if len(inside) == 1:
        return inside[0]
    s, e = (inside[0].start - chunk.start, inside[-1].end - chunk.start) if inside else (0, len(chunk.text))
    return spanning(passage, question, s, e)
