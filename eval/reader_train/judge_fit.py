"""Fit the judge (service/ask/judge.py) on the reader's dev split, end to end, as `/ask` meets questions.

The dev archive: every paragraph of the reading sets outside XQuAD's test articles (train-split paragraphs
are distractors the reader has seen; only dev-split questions are asked). Each dev question is asked of that
archive intact, and of variants where its paragraph lost the sentence holding its answer (variant r removes
the r-th dev question's sentence of each paragraph; a question whose answer still occurs anywhere is dropped).
Rows are the passages the service reads: label 1 when the sentence it would cite holds a gold answer, 0 for
every answer-removed passage. Then:
- a logistic model over FEATURES, evidence features kept non-negative (dropped and refitted otherwise);
- Platt scaling of the best passage's logit per question (what `confidence` is);
- per language, the bar: the lowest one keeping intact dev questions' false abstention (the topic gate's
  included) at or under MAX_FALSE_ABSTENTION.
A 5-fold cross-validation by article on the same rows says how much of the dev figure is in-sample.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from isnad.eval.calibrate import L2, auc, ece, fit_logistic, fit_monotone, standardize
from isnad.eval.metrics import contains_answer, normalize_for_match
from isnad.eval.reader_protocols import searcher_for
from isnad.eval.reader_train.data import Question, answer_removed_text, load_questions, split_of
from isnad.indexer.embed import Embedder
from isnad.indexer.encoder.convert import file_sha256
from isnad.indexer.reader.runtime import OnnxReader
from isnad.indexer.reader.weights import save_judge
from isnad.indexer.types import RawDocument
from isnad.service.answer import Answerer
from isnad.service.ask.judge import FEATURES, Judge
from isnad.service.search import Searcher

SLOTS = 5  # answer-removed variants of the dev archive
# Per question language; under the targets (8% en / 5% ar) by a point, as dev is small.
MAX_FALSE_ABSTENTION = {"ar": 0.04, "en": 0.07}
# Evidence that may only raise the probability; the language terms may go either way.
MONOTONE = frozenset({"reader_logit", "span_score", "span_probability", "sentence_terms", "passage_terms",
                      "type_match", "inverse_rank", "dense", "topic_logit"})
FOLDS = 5
EARLY_EXIT_GRID = (0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1)  # tried from the top down


@dataclass(frozen=True)
class Asked:
    """One asking of one dev question: the passages read, their features and labels."""

    article: str
    lang: str
    removed: bool
    gated: bool  # a rule or the topic gate abstained before reading
    features: np.ndarray  # one row per read passage
    labels: np.ndarray


def _dev_archive(questions: list[Question]) -> tuple[list[RawDocument], dict[tuple[str, str], str]]:
    """Every paragraph outside XQuAD's test articles, and each paragraph's doc id by (article, text)."""
    docs: list[RawDocument] = []
    ids: dict[tuple[str, str], str] = {}
    for q in questions:
        source, _, title = q.article.partition(":")
        key = (q.article, q.paragraph)
        if split_of(q.article, source, title) == "test" or key in ids:
            continue
        ids[key] = f"dev{len(ids):04d}"
        docs.append(RawDocument(ids[key], q.paragraph, f"reading#{ids[key]}", title))
    return docs, ids


def _ask(answerer: Answerer, q: Question, removed: bool) -> Asked:
    response = answerer.searcher.search(q.question, 5)
    fallback, kind, final = answerer.screen(response)
    judged = () if final else answerer.judged(response, kind, fallback.confidence)
    x = np.array([j.features for j in judged]) if judged else np.zeros((0, len(FEATURES)))
    y = np.array([float(not removed and contains_answer(j.sentence.text, q.answers)) for j in judged])
    return Asked(q.article, q.lang, removed, final, x, y)


def _answerer(searcher: Searcher, reader: OnnxReader) -> Answerer:
    answerer = Answerer(searcher, reader=reader)
    answerer.judge = None  # the features do not depend on a judge; an old one beside the file must not matter
    return answerer


def collect(embedder: Embedder, reader: OnnxReader, reading: Path, log: Callable[[str], None] = print) -> list[Asked]:
    questions, _ = load_questions(reading)
    docs, ids = _dev_archive(questions)
    dev = [q for q in questions if split_of(q.article, *q.article.partition(":")[::2]) == "dev"]
    answerer = _answerer(searcher_for(docs, "judge-dev-intact", embedder), reader)
    out = [_ask(answerer, q, False) for q in dev]
    log(f"judge: {len(out)} dev questions asked of the intact archive ({len(docs)} paragraphs)")
    # doc id -> its questions, one slot per question id in order (the ar and en versions share a slot)
    by_paragraph: dict[str, dict[str, list[Question]]] = {}
    for q in dev:
        by_paragraph.setdefault(ids[(q.article, q.paragraph)], {}).setdefault(q.qid.split(":", 2)[2], []).append(q)
    for r in range(SLOTS):
        removing = {doc: list(slots.values())[r] for doc, slots in by_paragraph.items() if r < len(slots)}
        asking, variant = [], []
        for d in docs:
            text = d.text
            if d.doc_id in removing:
                qs = removing[d.doc_id]
                cut = answer_removed_text(d.text, qs[0].answer, qs[0].answers)
                if cut is not None:
                    text = cut
                    asking.extend(qs)
            variant.append(dataclasses.replace(d, text=text))
        everything = normalize_for_match("\n".join(d.text for d in variant))
        answerer = _answerer(searcher_for(variant, f"judge-dev-removed-{r}", embedder), reader)
        for q in asking:
            if any(normalize_for_match(a) and normalize_for_match(a) in everything for a in q.answers):
                continue
            out.append(_ask(answerer, q, True))
        log(f"judge: removed variant {r}: {len(out)} askings so far")
    return out


def _passage_model(rows: list[Asked]) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    x = np.vstack([a.features for a in rows if not a.gated and len(a.features)])
    y = np.concatenate([a.labels for a in rows if not a.gated and len(a.features)])
    mean, scale = standardize(x)
    coef, b = fit_monotone((x - mean) / scale, y, L2, np.array([f in MONOTONE for f in FEATURES]))
    return mean, scale, coef, b


def _best(rows: list[Asked], model: Judge) -> tuple[np.ndarray, np.ndarray]:
    """Per asking: the best passage's judge logit (-inf when gated) and whether its sentence answers."""
    logits, labels = [], []
    for a in rows:
        if a.gated or not len(a.features):
            logits.append(-np.inf)
            labels.append(0.0)
            continue
        z = np.array([model.logit(x) for x in a.features])
        logits.append(float(z.max()))
        labels.append(float(a.labels[int(z.argmax())]))
    return np.array(logits), np.array(labels)


def _platt(logits: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    on = np.isfinite(logits)
    coef, b = fit_logistic(logits[on, None], labels[on], 1e-6)
    return float(coef[0]), b


def fit_judge(rows: list[Asked]) -> tuple[Judge, dict]:
    mean, scale, coef, b = _passage_model(rows)
    judge = Judge(mean, scale, coef, b, (1.0, 0.0), {})
    logits, labels = _best(rows, judge)
    judge = dataclasses.replace(judge, platt=_platt(logits, labels))
    p = np.array([judge.probability_of_logit(z) for z in logits])
    judge = dataclasses.replace(judge, thresholds=_bars(rows, p))
    judge = dataclasses.replace(judge, early_exit=_early_exit(rows, judge))
    return judge, _report(rows, judge.thresholds, p, labels, "dev, in sample")


def _bars(rows: list[Asked], p: np.ndarray) -> dict[str, float]:
    """Per language, the lowest bar keeping intact askings' false abstention within MAX_FALSE_ABSTENTION."""
    bars = {}
    for lang, most in MAX_FALSE_ABSTENTION.items():
        intact = np.sort(p[[a.lang == lang and not a.removed for a in rows]])
        if len(intact):
            bars[lang] = float(intact[int(np.floor(most * len(intact)))])
    return bars


def decisions(rows: list[Asked], judge: Judge, stop: float | None) -> list[tuple[bool, float]]:
    """(answered, whether the cited sentence answers) per asking, when reading stops after the top-ranked
    passage once it reaches `stop`."""
    rank_one = FEATURES.index("inverse_rank")
    out = []
    for a in rows:
        if a.gated or not len(a.features):
            out.append((False, 0.0))
            continue
        p = np.array([judge.probability(x) for x in a.features])
        first = int(np.argmax(a.features[:, rank_one]))
        i = first if stop is not None and p[first] >= stop else int(p.argmax())
        out.append((bool(p[i] >= judge.threshold(a.lang)), float(a.labels[i])))
    return out


def _early_exit(rows: list[Asked], judge: Judge) -> float | None:
    """The lowest bar on the grid at which stopping after the top passage changes no dev decision."""
    full = decisions(rows, judge, None)
    chosen = None
    for stop in EARLY_EXIT_GRID:
        if decisions(rows, judge, stop) != full:
            break
        chosen = stop
    return chosen


def _report(rows: list[Asked], bars: dict[str, float], p: np.ndarray, labels: np.ndarray, what: str) -> dict:
    """Per language: false abstention, answer-removed answered and correct among answered under `bars`; AUC and
    ECE over all askings."""
    out: dict = {"what": what}
    removed = np.array([a.removed for a in rows])
    langs = np.array([a.lang for a in rows])
    answered = p >= np.array([bars.get(a.lang, 1.0) for a in rows])
    for lang in sorted(set(langs)):
        m = langs == lang
        out[str(lang)] = {
            "intact": int((m & ~removed).sum()), "removed": int((m & removed).sum()),
            "false_abstention": float(np.mean(~answered[m & ~removed])),
            "removed_answered": float(np.mean(answered[m & removed])),
            "correct_of_answered": float(np.mean(labels[m & ~removed & answered]))}
    return {**out, "auc_intact_correct_vs_removed": _auc(rows, p, labels), "ece": ece(p, labels)}


def _auc(rows: list[Asked], p: np.ndarray, labels: np.ndarray) -> float:
    """Correct intact answers against answer-removed askings (wrong intact answers left out)."""
    kept = labels.astype(bool) | np.array([a.removed for a in rows])
    return auc(p[kept], labels[kept])


def cross_validated(rows: list[Asked]) -> dict:
    """Each article's askings judged by a judge fitted on the other folds (bars too)."""
    fold = np.array([hashlib.sha256(a.article.encode()).digest()[0] % FOLDS for a in rows])
    p = np.zeros(len(rows))
    labels = np.zeros(len(rows))
    bars = {}
    for f in range(FOLDS):
        train = [a for a, k in zip(rows, fold, strict=True) if k != f]
        judge, _ = fit_judge(train)
        test = [a for a, k in zip(rows, fold, strict=True) if k == f]
        logits, y = _best(test, judge)
        idx = np.where(fold == f)[0]
        p[idx] = [judge.probability_of_logit(z) for z in logits]
        labels[idx] = y
        bars[f] = judge.thresholds
    # each asking is answered or not under its own fold's bar: as 1 / 0 against one bar of 0.5
    fold_bar = np.array([bars[k].get(a.lang, 1.0) for a, k in zip(rows, fold, strict=True)])
    answered = np.where(p >= fold_bar, 1.0, 0.0)
    report = _report(rows, {"ar": 0.5, "en": 0.5}, answered, labels, f"{FOLDS}-fold by article")
    return {**report, "ece": ece(p, labels), "auc_intact_correct_vs_removed": _auc(rows, p, labels)}


def reader_alone(rows: list[Asked]) -> dict:
    """The same askings decided by the reader's own probability (the first feature), for comparison."""
    p, labels = [], []
    for a in rows:
        if a.gated or not len(a.features):
            p.append(0.0)
            labels.append(0.0)
            continue
        i = int(a.features[:, 0].argmax())
        p.append(1 / (1 + np.exp(-a.features[i, 0])))
        labels.append(float(a.labels[i]))
    p_arr = np.array(p)
    return _report(rows, _bars(rows, p_arr), p_arr, np.array(labels), "dev, reader's probability alone")


def fit_and_save(path: Path, reading: Path, embedder: Embedder, log: Callable[[str], None] = print) -> dict:
    reader = OnnxReader(path)
    rows = collect(embedder, reader, reading, log)
    judge, report = fit_judge(rows)
    report = {"in_sample": report, "cross_validated": cross_validated(rows), "reader_alone": reader_alone(rows),
              "askings": len(rows), "gated": int(sum(a.gated for a in rows))}
    written = save_judge(path, file_sha256(path), {**judge.to_meta(), "report": report})
    log(f"judge fitted on dev, written to {written}: {report}")
    return report
