"""Fit the judge (service/ask/judge.py) on the reader's dev split, end to end, as `/ask` meets questions.

The dev archive: every paragraph of XQuAD (outside its test articles), MLQA and ARCD (train-split paragraphs
are distractors the reader has seen), and the dev-split documents of the larger sets (ASER's whole articles,
AQAD, ArDQA). Up to DEV_PER_SOURCE dev questions per source and language are asked (`dev_sample`), of that
archive intact, and of variants where their document lost the sentence holding its answer (variant r removes
the r-th dev question's sentence of each document; a question whose answer still occurs anywhere is dropped);
AQAD's dev unanswerable questions are asked of the intact archive. Rows are the passages the service reads:
label 1 when the sentence it would cite holds a gold answer, 0 for every removed or unanswerable asking. Then:
- a logistic model over FEATURES, evidence features kept non-negative (dropped and refitted otherwise);
- Platt scaling of the best passage's logit per question (what `confidence` is);
- per language, two bars chosen on trust, not on a quota: with intact and not-answerable askings weighed 1:1,
  `thresholds` is the lowest bar at which the answers shown are right >= ANSWER_PRECISION of the time (below it
  "not found"), `sure_thresholds` the lowest at which they are right >= SURE_PRECISION (below it, an answer is
  shown as possible, not confirmed). They are chosen on the dev askings of news (BAR_SOURCES: ASER, whose
  articles are read whole as the service reads an archive) where the language has some, else on all of the
  language's dev askings (English: XQuAD's). The other sets' questions (Wikipedia trivia, machine-translated
  AQAD) are right far less often at any confidence and would set a bar for an archive Isnad does not serve.
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
from isnad.eval.reader_train.data import (
    Question,
    Unanswerable,
    answer_removed_text,
    dev_sample,
    load_questions,
    load_unanswerable,
    split_of,
)
from isnad.indexer.embed import Embedder
from isnad.indexer.encoder.convert import file_sha256
from isnad.indexer.reader.runtime import OnnxReader
from isnad.indexer.reader.weights import save_judge
from isnad.indexer.types import RawDocument
from isnad.service.ask.answerer import Answerer
from isnad.service.ask.judge import FEATURES, Judge
from isnad.service.search import Searcher

SLOTS = 5  # answer-removed variants of the dev archive
DEV_PER_SOURCE = 300  # dev questions asked per source and language (bounds the fit to minutes)
DISTRACTOR_SOURCES = frozenset({"xquad", "mlqa", "arcd"})  # whose train-split paragraphs stay in the dev archive
ANSWER_PRECISION = 0.85  # answers shown right at least this often (intact : not answerable = 1 : 1)
SURE_PRECISION = 0.95  # and this often for an answer shown as sure
MIN_ANSWERED = 10  # a bar is judged on at least this many answered askings of the language
TARGET_SOURCES = frozenset({"xquad", "mlqa", "arcd"})  # the dev AUC protocol
BAR_SOURCES = frozenset({"aser"})  # news: where a language has dev askings of these, its bars are chosen there
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
    removed: bool  # asked where the answer is not: its sentence removed, or an unanswerable question
    gated: bool  # a rule or the topic gate abstained before reading
    features: np.ndarray  # one row per read passage
    labels: np.ndarray


def _dev_archive(questions: list[Question]) -> tuple[list[RawDocument], dict[tuple[str, str], str]]:
    """The dev archive (module docstring), and each document's doc id by (article, text)."""
    docs: list[RawDocument] = []
    ids: dict[tuple[str, str], str] = {}
    for q in questions:
        source, _, title = q.article.partition(":")
        key = (q.article, q.paragraph)
        split = split_of(q.article, source, title)
        if split == "test" or key in ids or (split == "train" and source not in DISTRACTOR_SOURCES):
            continue
        ids[key] = f"dev{len(ids):04d}"
        docs.append(RawDocument(ids[key], q.paragraph, f"reading#{ids[key]}", title))
    return docs, ids


def _ask(answerer: Answerer, q: Question | Unanswerable, removed: bool) -> Asked:
    response = answerer.searcher.search(q.question, 5)
    fallback, kind, final = answerer.screen(response)
    judged = () if final else answerer.judged(response, kind, fallback.confidence)
    x = np.array([j.features for j in judged]) if judged else np.zeros((0, len(FEATURES)))
    y = np.array([float(not removed and contains_answer(j.sentence.text, q.answers)) for j in judged])
    if not len(y):
        y = np.zeros(0)
    return Asked(q.article, q.lang, removed, final, x, y)


def _answerer(searcher: Searcher, reader: OnnxReader) -> Answerer:
    answerer = Answerer(searcher, reader=reader)
    answerer.judge = None  # the features do not depend on a judge; an old one beside the file must not matter
    return answerer


def collect(embedder: Embedder, reader: OnnxReader, reading: Path, log: Callable[[str], None] = print) -> list[Asked]:
    questions, _ = load_questions(reading)
    docs, ids = _dev_archive(questions)
    dev = dev_sample(questions, DEV_PER_SOURCE)
    unanswerable: list[Unanswerable] = dev_sample(load_unanswerable(reading), DEV_PER_SOURCE)
    answerer = _answerer(searcher_for(docs, "judge-dev-intact", embedder), reader)
    out = [_ask(answerer, q, False) for q in dev]
    log(f"judge: {len(out)} dev questions asked of the intact archive ({len(docs)} documents)")
    out += [_ask(answerer, u, True) for u in unanswerable]
    log(f"judge: {len(unanswerable)} unanswerable dev questions asked of it")
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
    bars = trust_bars(rows, p, labels, ANSWER_PRECISION)
    sure = {lang: max(bar, bars.get(lang, bar)) for lang, bar in trust_bars(rows, p, labels, SURE_PRECISION).items()}
    judge = dataclasses.replace(judge, thresholds=bars, sure_thresholds=sure)
    judge = dataclasses.replace(judge, early_exit=_early_exit(rows, judge))
    return judge, {**_report(rows, bars, p, labels, "dev, in sample"),
                   "sure": _report(rows, sure, p, labels, "dev, in sample, sure bars")}


def precision_mixed(p: np.ndarray, labels: np.ndarray, removed: np.ndarray, bar: float) -> tuple[float, int]:
    """The share of answers at `bar` that are right when intact and not-answerable askings come 1:1, and how
    many askings were answered."""
    answered = p >= bar
    intact, gone = ~removed, removed
    right = np.mean(answered[intact] & (labels[intact] > 0)) if intact.any() else 0.0
    wrong = (np.mean(answered[intact] & (labels[intact] <= 0)) if intact.any() else 0.0) + (
        np.mean(answered[gone]) if gone.any() else 0.0)
    return (float(right / (right + wrong)) if right + wrong > 0 else 1.0), int(answered.sum())


def trust_bars(rows: list[Asked], p: np.ndarray, labels: np.ndarray, precision: float) -> dict[str, float]:
    """Per language, the lowest bar at which the answers shown are right >= `precision` of the time (1:1 mix),
    judged on at least MIN_ANSWERED answers, on the language's news askings if it has any (BAR_SOURCES); 1.0
    (never answer) when no bar reaches it."""
    bars = {}
    langs = np.array([a.lang for a in rows])
    removed = np.array([a.removed for a in rows])
    news = np.array([a.article.partition(":")[0] in BAR_SOURCES for a in rows])
    for lang in sorted(set(langs)):
        m = langs == lang
        if (m & news).any():
            m = m & news
        bar = 1.0
        for candidate in np.unique(p[m & np.isfinite(p) & (p > 0)]):
            share, answered = precision_mixed(p[m], labels[m], removed[m], float(candidate))
            if share >= precision and answered >= MIN_ANSWERED:
                bar = float(candidate)
                break
        bars[str(lang)] = bar
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
    target = np.array([a.article.partition(":")[0] in TARGET_SOURCES for a in rows])
    for lang in sorted(set(langs)):
        m = langs == lang
        out[str(lang)] = {
            "intact": int((m & ~removed).sum()), "removed": int((m & removed).sum()),
            "false_abstention": float(np.mean(~answered[m & ~removed])),
            "intact_answered": float(np.mean(answered[m & ~removed])),
            "removed_answered": float(np.mean(answered[m & removed])),
            "correct_of_answered": float(np.mean(labels[m & ~removed & answered])) if (
                m & ~removed & answered).any() else float("nan"),
            "right_of_shown_1to1": precision_mixed(p[m], labels[m], removed[m], bars.get(str(lang), 1.0))[0],
            "auc_xquad_mlqa_arcd": _auc([a for a, t in zip(rows, m & target, strict=True) if t], p[m & target],
                                        labels[m & target]) if (m & target).any() else float("nan")}
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
    p_arr, y = np.array(p), np.array(labels)
    return _report(rows, trust_bars(rows, p_arr, y, ANSWER_PRECISION), p_arr, y, "dev, reader's probability alone")


def fit_and_save(path: Path, reading: Path, embedder: Embedder, log: Callable[[str], None] = print) -> dict:
    return save_fit(path, collect(embedder, OnnxReader(path), reading, log), log)


def save_fit(path: Path, rows: list[Asked], log: Callable[[str], None] = print) -> dict:
    """Fit the judge on `rows` (what `collect` asked) and write it beside the reader file at `path`."""
    judge, report = fit_judge(rows)
    report = {"in_sample": report, "cross_validated": cross_validated(rows), "reader_alone": reader_alone(rows),
              "askings": len(rows), "gated": int(sum(a.gated for a in rows))}
    written = save_judge(path, file_sha256(path), {**judge.to_meta(), "report": report})
    log(f"judge fitted on dev, written to {written}: {report}")
    return report
