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
from isnad.indexer.text.query import AnalyzedQuery
from isnad.service.ask.answer_types import AnswerType, question_numbers, sentence_has
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
    """What the features are computed from: the search response and the sentence the answerer chose."""

    response: SearchResponse
    sentence: str
    kind: AnswerType


# Interrogatives are not content: no answer sentence repeats "when" or "how many".
_QUESTION_WORDS = frozenset(tokenize("متى كم أين من ماذا ما لماذا كيف هل أي أيّ ماهي ماهو"))


def question_terms(analyzed: AnalyzedQuery) -> set[str]:
    return (set(analyzed.terms) | set(analyzed.bridge_terms)) - _QUESTION_WORDS


def features(evidence: Evidence, background: np.ndarray | None) -> np.ndarray:
    response, analyzed = evidence.response, evidence.response.analyzed
    results = response.results
    top_dense = response.best_dense if response.best_dense is not None else 0.0
    z = 0.0
    if background is not None and response.query_vector is not None:
        sims = background @ response.query_vector.astype(np.float32)
        z = (top_dense - float(sims.mean())) / max(float(sims.std()), 1e-6)
    dense = sorted((r.dense_score for r in results if r.dense_score is not None), reverse=True)
    margin = dense[0] - float(np.mean(dense[1:])) if len(dense) > 1 else 0.0
    terms = question_terms(analyzed) if analyzed is not None else set()
    top_tokens = set(tokenize(results[0].chunk.text)) if results else set()
    bm25_cov = len(terms & top_tokens) / len(terms) if terms else 0.0
    best_lex = max((r.lexical_score or 0.0 for r in results), default=0.0)
    per_term = math.log1p(best_lex) / len(terms) if terms else 0.0
    sent_tokens = set(tokenize(evidence.sentence))
    sent_cov = len(terms & sent_tokens) / len(terms) if terms else 0.0
    asked = question_numbers(analyzed.text) if analyzed is not None else set()
    numbers_found = len(asked & question_numbers(evidence.sentence)) / len(asked) if asked else 0.0
    wanted = evidence.kind != "other"
    match = wanted and sentence_has(evidence.kind, evidence.sentence)
    en = float(analyzed is not None and analyzed.lang == "en")
    return np.array([
        top_dense, z, margin, bm25_cov, per_term, float(bool(terms)), sent_cov, numbers_found,
        float(bool(asked)), float(wanted), float(match), en, en * top_dense, en * z,
    ], dtype=np.float64)


@dataclass(frozen=True)
class LangModel:
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float  # answer when confidence >= threshold

    def confidence(self, x: np.ndarray) -> float:
        logit = float(((x - self.mean) / self.scale) @ self.coef + self.intercept)
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, logit))))


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
                            float(m["intercept"]), float(m["threshold"]))
            for lang, m in spec["langs"].items()
        }
        return cls(model_id, langs, np.load(bg_path).astype(np.float32))

    def score(self, evidence: Evidence) -> tuple[float, bool]:
        """(confidence, answerable) for this evidence."""
        analyzed = evidence.response.analyzed
        lang = analyzed.lang if analyzed is not None and analyzed.lang in self.langs else next(iter(self.langs))
        model = self.langs[lang]
        confidence = model.confidence(features(evidence, self.background))
        return confidence, confidence >= model.threshold
