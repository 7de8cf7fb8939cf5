"""Does the corpus answer this question? A small logistic model over retrieval and sentence evidence.

Features (per question, `FEATURES`):
- the best cosine, raw and normalized per query against a fixed background sample of passages (raw e5
  cosines sit in a narrow band that moves with the query; English-to-Arabic ones lower still);
- BM25 evidence: the share of the question's terms (Arabic terms, or the lexicon's Arabic and the numbers of
  an English question) found in the top passage, and the top BM25 score per term;
- coverage in the chosen sentence: content terms, and the numbers the question states;
- answer-type match: the question wants a number / date / person / place and the sentence has one;
- the question's language, and its interactions with the dense scores.

Coefficients, the feature scaling and the abstention threshold live in `service/data/answerability/<model-id>.json`,
written by `isnad eval calibrate` (eval/calibrate.py). The background vectors are next to them
(`<model-id>.background.npy`). Without a file for the embedder's model the answerer keeps its cosine rule.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from isnad.indexer.text.arabic import tokenize
from isnad.service.ask.answer_types import AnswerType, question_numbers, sentence_has
from isnad.service.ask.logistic import Logistic
from isnad.service.ask.passages import Passages, Sentence
from isnad.service.ask.question import Question
from isnad.service.search import SearchResponse

# Shipped inside the package (a wheel has no repo beside it); a plain folder on disk, so a Path.
MODEL_DIR = Path(str(resources.files("isnad.service") / "data" / "answerability"))
FEATURES: tuple[str, ...] = (
    "dense_top", "dense_z", "dense_margin", "bm25_cov_top", "bm25_per_term", "has_terms",
    "sent_term_cov", "sent_number_cov", "asks_number", "type_wanted", "type_match",
    "lang_en", "en_dense_top", "en_dense_z",
)


def model_file_stem(model_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", model_id)


@dataclass(frozen=True)
class Evidence:
    """What the features are computed from: the search response and the sentence the answerer chose. The ask
    path gives what it analysed once (`of`); given only text (the calibration, tests) it is worked out here."""

    response: SearchResponse
    sentence: str
    kind: AnswerType
    question: Question | None = None
    sentence_tokens: frozenset[str] | None = None
    sentence_numbers: frozenset[str] | None = None
    sentence_has_kind: bool | None = None  # the sentence holds something of `kind`
    top_tokens: frozenset[str] | None = None  # the top passage's BM25 terms

    @classmethod
    def of(cls, passages: Passages, best: Sentence) -> Evidence:
        question = passages.question
        top = passages.top[0].tokens if passages.top else frozenset()
        return cls(passages.response, best.text, question.kind, question, best.tokens, best.numbers, best.has_kind,
                   top)


def features(evidence: Evidence, background: np.ndarray | None) -> np.ndarray:
    response = evidence.response
    question = evidence.question or Question.of(response)
    results = response.results
    top_dense = response.best_dense if response.best_dense is not None else 0.0
    z = 0.0
    if background is not None and response.query_vector is not None:
        sims = background @ response.query_vector.astype(np.float32)
        z = (top_dense - float(sims.mean())) / max(float(sims.std()), 1e-6)
    dense = sorted((r.dense_score for r in results if r.dense_score is not None), reverse=True)
    margin = dense[0] - float(np.mean(dense[1:])) if len(dense) > 1 else 0.0
    terms = question.content
    top_tokens = evidence.top_tokens
    if top_tokens is None:
        top_tokens = frozenset(tokenize(results[0].chunk.text)) if results else frozenset()
    bm25_cov = len(terms & top_tokens) / len(terms) if terms else 0.0
    best_lex = max((r.lexical_score or 0.0 for r in results), default=0.0)
    per_term = math.log1p(best_lex) / len(terms) if terms else 0.0
    sent_tokens = evidence.sentence_tokens
    if sent_tokens is None:
        sent_tokens = frozenset(tokenize(evidence.sentence))
    sent_cov = len(terms & sent_tokens) / len(terms) if terms else 0.0
    asked = question.numbers
    found = evidence.sentence_numbers
    if found is None:
        found = frozenset(question_numbers(evidence.sentence))
    numbers_found = len(asked & found) / len(asked) if asked else 0.0
    wanted = evidence.kind != "other"
    match = evidence.sentence_has_kind
    if match is None:
        match = sentence_has(evidence.kind, evidence.sentence)
    match = wanted and match
    en = float(question.analyzed is not None and question.lang == "en")
    return np.array([
        top_dense, z, margin, bm25_cov, per_term, float(bool(terms)), sent_cov, numbers_found,
        float(bool(asked)), float(wanted), float(match), en, en * top_dense, en * z,
    ], dtype=np.float64)


@dataclass(frozen=True)
class LangModel(Logistic):
    threshold: float = 0.5  # answer when confidence >= threshold


@dataclass(frozen=True)
class AnswerabilityModel:
    """One logistic model over both question languages (Arabic questions teach it what term coverage is
    worth, which English questions the lexicon covers use too); English questions meet Arabic text on another
    cosine scale, hence the language terms; the threshold is per language."""

    model_id: str
    langs: dict[str, LangModel]
    background: np.ndarray

    @classmethod
    def load(cls, model_id: str, folder: Path = MODEL_DIR) -> AnswerabilityModel | None:
        stem = model_file_stem(model_id)
        path, bg_path = folder / f"{stem}.json", folder / f"{stem}.background.npy"
        if not path.exists() or not bg_path.exists():
            return None
        spec = json.loads(path.read_text(encoding="utf-8"))
        if spec["model_id"] != model_id or tuple(spec["features"]) != FEATURES:
            return None  # trained for another embedder or another feature set: retrain with `isnad eval calibrate`
        langs = {
            lang: LangModel(np.asarray(m["mean"]), np.asarray(m["scale"]), np.asarray(m["coef"]),
                            float(m["intercept"]), threshold=float(m["threshold"]))
            for lang, m in spec["langs"].items()
        }
        return cls(model_id, langs, np.load(bg_path).astype(np.float32))

    def score(self, evidence: Evidence) -> tuple[float, bool]:
        """(confidence, answerable) for this evidence."""
        analyzed = evidence.response.analyzed
        lang = analyzed.lang if analyzed is not None and analyzed.lang in self.langs else next(iter(self.langs))
        model = self.langs[lang]
        confidence = model.probability(features(evidence, self.background))
        return confidence, confidence >= model.threshold
