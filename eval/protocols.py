"""Answerability protocols of issue 9, run by `make eval` beside the retrieval ablations.

- off-corpus: every XQuAD question (en, ar) asked of the sample (Astana) index: it should abstain;
- on-corpus: every XQuAD question asked of the XQuAD index: false abstention, gold answer inside `answer`,
  answer length (citation markers stripped), `answer_span` exact match / F1 (SQuAD normalization);
- held-out ARCD / TyDi questions asked of the sample index: answered share (report only, never tuned);
- calibration: ECE of `confidence` on the XQuAD test split (held out of training) and its reliability plot.

On-corpus and off-corpus figures are given for all questions and per split: "train" articles chose the
model and its threshold (tuned-on), "test" articles did not (held out of training).
"""

from __future__ import annotations

import json
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from isnad.eval.cache import SHARED
from isnad.eval.calibrate import Corpora, cached_embedder, open_corpora, split_of
from isnad.eval.datasets import load_squad
from isnad.eval.metrics import contains_answer
from isnad.indexer.embed import Embedder
from isnad.service.ask.answerability import MODEL_DIR, model_file_stem
from isnad.service.ask.answerer import Answerer
from isnad.service.ask.judge import judge_beside
from isnad.service.ask.reader import Reader

_MARKER = re.compile(r"\s*\[\d+\]")
_PUNCT = set(string.punctuation) | set("،؛؟«»…–—")
_EN_ARTICLES = re.compile(r"\b(a|an|the)\b")


def squad_normalize(text: str) -> str:
    """SQuAD's answer normalization (lower case, no punctuation or English articles, one space), after NFKC."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(ch for ch in text if ch not in _PUNCT)
    return " ".join(_EN_ARTICLES.sub(" ", text).split())


def span_scores(prediction: str, golds: Iterable[str]) -> tuple[float, float]:
    """(exact match, F1), the best over the gold answers."""
    pred = squad_normalize(prediction).split()
    best_em, best_f1 = 0.0, 0.0
    for gold in golds:
        g = squad_normalize(gold).split()
        best_em = max(best_em, float(pred == g))
        common = sum((Counter(pred) & Counter(g)).values())
        if common:
            p, r = common / len(pred), common / len(g)
            best_f1 = max(best_f1, 2 * p * r / (p + r))
    return best_em, best_f1


def _share(values: list[bool]) -> float | None:
    return float(np.mean(values)) if values else None


def off_corpus(corpora: Corpora, answerer: Answerer) -> dict:
    rows: dict[str, list[bool]] = {}
    for q in corpora.queries:
        split = split_of(corpora.article_of[next(iter(q.relevant_docs))])
        answered = not answerer.ask(q.text).abstained
        for key in (q.lang, f"{q.lang}/{split}"):
            rows.setdefault(key, []).append(answered)
    return {k: {"answered": _share(v), "n": len(v)} for k, v in sorted(rows.items())}


def on_corpus(corpora: Corpora, answerer: Answerer) -> dict:
    rows: dict[str, list[dict]] = {}
    for q in corpora.queries:
        split = split_of(corpora.article_of[next(iter(q.relevant_docs))])
        a = answerer.ask(q.text)
        row = {"abstained": a.abstained}
        if not a.abstained:
            row["gold_in_answer"] = contains_answer(a.text, q.answers)
            row["length"] = len(_MARKER.sub("", a.text))
            em, f1 = span_scores(a.span.text, q.answers) if a.span else (0.0, 0.0)
            row |= {"span": a.span is not None, "em": em, "f1": f1}
        for key in (q.lang, f"{q.lang}/{split}"):
            rows.setdefault(key, []).append(row)
    out = {}
    for key, rs in sorted(rows.items()):
        answered = [r for r in rs if not r["abstained"]]
        spans = [r for r in answered if r["span"]]
        out[key] = {
            "n": len(rs),
            "false_abstention": _share([r["abstained"] for r in rs]),
            "gold_in_answer_of_answered": _share([r["gold_in_answer"] for r in answered]),
            "gold_in_answer_of_all": _share([r.get("gold_in_answer", False) for r in rs]),
            "answer_chars_median": float(np.median([r["length"] for r in answered])) if answered else None,
            "span_given": _share([r["span"] for r in answered]),
            "span_em_all": _share([r["em"] for r in answered]),
            "span_f1_all": _share([r["f1"] for r in answered]),
            "span_em_given": _share([r["em"] for r in spans]),
            "span_f1_given": _share([r["f1"] for r in spans]),
        }
    return out


def heldout_off_corpus(answerer: Answerer) -> dict:
    out = {}
    for name in ("arcd-test.json", "tydiqa-goldp-dev-arabic.json"):
        path = SHARED / "heldout" / name
        if not path.exists():
            continue
        bench = load_squad(path, name=path.stem)
        answered = [not answerer.ask(q.text).abstained for q in bench.queries]
        out[path.stem] = {"answered": _share(answered), "n": len(answered)}
    return out


def calibration(model_id: str) -> dict | None:
    """ECE on the XQuAD test split, as measured by `isnad eval calibrate` when it trained the shipped model
    (it also drew the reliability plot); recomputing it would replay ~7,000 searches for the same figure."""
    path = MODEL_DIR / f"{model_file_stem(model_id)}.json"
    if not path.exists():
        return None
    spec = json.loads(path.read_text(encoding="utf-8"))
    return {"ece": spec["test_ece"], "n": spec["test_n"],
            "ece_by_lang": {lang: m["report"]["test_ece"] for lang, m in spec["langs"].items()}}


def run_protocols(out_dir: Path, heldout: bool = True, inner: Embedder | None = None,
                  reader: Reader | None = None) -> dict:
    """Issue 9's protocols with the service's answerer: the reader when given, else the fallback."""
    embedder = cached_embedder(inner)
    corpora = open_corpora(embedder)
    sample = Answerer(corpora.sample, reader=reader, judge=judge_beside(reader))
    xquad = Answerer(corpora.xquad, reader=reader, judge=judge_beside(reader))
    figures: dict = {"off_corpus": off_corpus(corpora, sample), "on_corpus": on_corpus(corpora, xquad)}
    if heldout:
        figures["heldout_off_corpus"] = heldout_off_corpus(sample)
    if reader is None and (cal := calibration(embedder.model_id)) is not None:
        figures["calibration_test_split"] = cal
    embedder.save()
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "answerability.json").write_text(json.dumps(figures, indent=1, sort_keys=True), encoding="utf-8")
    (out_dir / "answerability.md").write_text(protocols_markdown(figures) + "\n", encoding="utf-8")
    return figures


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def protocols_markdown(figures: dict) -> str:
    """The issue's table, one row per figure; "train" = tuned-on split, "test" = held out of training."""
    off, on = figures["off_corpus"], figures["on_corpus"]
    lines = ["## Answerability (issue 9)", "",
             "| protocol | metric | en | ar | en train / test | ar train / test |", "|---|---|---|---|---|---|"]

    def row(protocol: str, metric: str, table: dict, key: str, fmt: Callable[[float | None], str] = _pct) -> None:
        cells = [fmt(table.get(lang, {}).get(key)) for lang in ("en", "ar")]
        splits = [f"{fmt(table.get(f'{lang}/train', {}).get(key))} / {fmt(table.get(f'{lang}/test', {}).get(key))}"
                  for lang in ("en", "ar")]
        lines.append(f"| {protocol} | {metric} | " + " | ".join(cells + splits) + " |")

    def chars(v: float | None) -> str:
        return "–" if v is None else f"{v:.0f}"

    def num(v: float | None) -> str:
        return "–" if v is None else f"{v:.3f}"

    row("XQuAD asked of the sample index", "answered", off, "answered")
    row("XQuAD asked of the XQuAD index", "false abstention", on, "false_abstention")
    row("same", "gold answer inside `answer` (of answered)", on, "gold_in_answer_of_answered")
    row("same", "gold answer inside `answer` (of all)", on, "gold_in_answer_of_all")
    row("same", "`answer` median characters", on, "answer_chars_median", chars)
    row("same", "`answer_span` given (of answered)", on, "span_given")
    row("same", "`answer_span` exact match where given", on, "span_em_given", num)
    row("same", "`answer_span` F1 where given", on, "span_f1_given", num)
    row("same", "`answer_span` F1 over answered (null = 0)", on, "span_f1_all", num)
    for name, v in figures.get("heldout_off_corpus", {}).items():
        lines.append(f"| {name} (held out) asked of the sample index | answered | | {_pct(v['answered'])} "
                     f"(n={v['n']}) | | |")
    cal = figures.get("calibration_test_split")
    if cal:
        by = ", ".join(f"{k} {v:.3f}" for k, v in cal["ece_by_lang"].items())
        lines.append(f"| XQuAD test split (held out of training) | ECE of `confidence` | {cal['ece']:.3f} "
                     f"(n={cal['n']}; {by}) | | | |")
    return "\n".join(lines)
