"""The reader's protocols (issue 19), run by `make eval` beside issue 9's:

- intact: XQuAD questions of the *test* articles (never trained or chosen on) asked of the whole XQuAD index:
  false abstention, gold answer inside the cited answer, `answer_span` EM / F1 over answered (no span = 0);
- answer removed: the same questions asked of the XQuAD index in which their paragraph lost the sentence(s)
  holding the answer (the rest of the paragraph kept). A paragraph's questions have different answer
  sentences, so the index is rebuilt once per question slot (variant r removes each paragraph's r-th
  question's sentence); questions whose answer string still occurs anywhere in the variant are dropped;
- held out: ARCD-test and TyDi-dev questions, each set asked of an index of its own paragraphs (report only);
- calibration: `confidence` against "the cited answer holds the gold answer" (0 for every answer-removed
  question), over intact and answer-removed test questions: ECE in 10 bins and the reliability plot.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from isnad.eval.cache import SHARED, cache_folder
from isnad.eval.datasets import Benchmark, Query, load_squad
from isnad.eval.metrics import contains_answer, normalize_for_match
from isnad.eval.protocols import span_scores
from isnad.eval.reader_train.data import answer_removed_text
from isnad.eval.splits import xquad_split
from isnad.indexer.embed import Embedder
from isnad.indexer.pipeline import make_builder
from isnad.indexer.types import RawDocument
from isnad.service.ask.answerer import Answer, Answerer
from isnad.service.ask.judge import judge_beside
from isnad.service.ask.reader import Reader
from isnad.service.search import Searcher
from isnad.service.state import open_searcher

READING = SHARED / "reading"
XQUAD_FILES = {"ar": "xquad.ar.json", "en": "xquad.en-question.ar-context.json"}
AnswererFor = Callable[[Searcher], Answerer]


@dataclass(frozen=True)
class Asked:
    lang: str
    protocol: str  # "intact" | "removed" | a held-out set's name
    abstained: bool
    confidence: float | None
    gold_in_answer: bool
    span: bool
    em: float
    f1: float


def asked(answer: Answer, q: Query, protocol: str) -> Asked:
    em, f1 = span_scores(answer.span.text, q.answers) if answer.span and not answer.abstained else (0.0, 0.0)
    return Asked(q.lang, protocol, answer.abstained, answer.confidence,
                 not answer.abstained and contains_answer(answer.text, q.answers), answer.span is not None, em, f1)


@dataclass(frozen=True)
class _Paragraph:
    doc_id: str
    title: str
    text: str
    questions: tuple[tuple[str, tuple[int, int], dict[str, Query]], ...]  # (qid, answer span, query by lang)


def _xquad_paragraphs() -> list[_Paragraph]:
    """XQuAD's 240 paragraphs with their questions in both languages and the answer offsets."""
    by_lang = {lang: json.loads((READING / name).read_text(encoding="utf-8"))["data"]
               for lang, name in XQUAD_FILES.items()}
    out = []
    for a_idx, article in enumerate(by_lang["ar"]):
        for p_idx, para in enumerate(article["paragraphs"]):
            en_qas = {qa["id"]: qa for qa in by_lang["en"][a_idx]["paragraphs"][p_idx]["qas"]}
            questions = []
            for qa in para["qas"]:
                answer = qa["answers"][0]
                start = int(answer["answer_start"])
                span = (start, start + len(answer["text"]))
                answers = tuple(dict.fromkeys(a["text"] for a in qa["answers"]))
                queries = {"ar": Query(qa["id"] + "#ar", qa["question"], "ar", frozenset(), answers)}
                if qa["id"] in en_qas:
                    queries["en"] = Query(qa["id"] + "#en", en_qas[qa["id"]]["question"], "en", frozenset(), answers)
                questions.append((qa["id"], span, queries))
            out.append(_Paragraph(f"xq{a_idx:02d}_{p_idx}", article["title"], para["context"], tuple(questions)))
    return out


def searcher_for(documents: list[RawDocument], name: str, embedder: Embedder) -> Searcher:
    bench = Benchmark(name, tuple(documents), (), "document")
    folder = cache_folder(bench, embedder)
    make_builder(embedder, progress=False).run(bench.documents, folder)
    return open_searcher(folder, embedder)


def intact_and_removed(embedder: Embedder, answerer_for: AnswererFor) -> list[Asked]:
    paragraphs = _xquad_paragraphs()
    docs = [RawDocument(p.doc_id, p.text, f"xquad#{p.doc_id}", p.title) for p in paragraphs]
    test = [p for p in paragraphs if xquad_split(p.title) == "test"]
    out: list[Asked] = []
    answerer = answerer_for(searcher_for(docs, "reader-intact-xquad", embedder))
    for p in test:
        for _, _, queries in p.questions:
            out.extend(asked(answerer.ask(q.text), q, "intact") for q in queries.values())
    slots = max(len(p.questions) for p in test)
    for r in range(slots):
        variant, asking = [], []
        for p in paragraphs:
            text = p.text
            if xquad_split(p.title) == "test" and r < len(p.questions):
                _, span, queries = p.questions[r]
                removed = answer_removed_text(p.text, span, next(iter(queries.values())).answers)
                if removed is not None:
                    text = removed
                    asking.append(queries)
            variant.append(RawDocument(p.doc_id, text, f"xquad#{p.doc_id}", p.title))
        everything = normalize_for_match("\n".join(d.text for d in variant))
        answerer = answerer_for(searcher_for(variant, f"reader-removed-{r}", embedder))
        for queries in asking:
            answers = next(iter(queries.values())).answers
            if any(normalize_for_match(a) and normalize_for_match(a) in everything for a in answers):
                continue  # the answer is still somewhere in the index: not an answer-removed case
            out.extend(asked(answerer.ask(q.text), q, "removed") for q in queries.values())
    return out


def heldout_own(embedder: Embedder, answerer_for: AnswererFor) -> list[Asked]:
    out: list[Asked] = []
    for name in ("arcd-test.json", "tydiqa-goldp-dev-arabic.json"):
        path = SHARED / "heldout" / name
        if not path.exists():
            continue
        bench = load_squad(path, name=path.stem)
        answerer = answerer_for(searcher_for(list(bench.documents), f"reader-own-{path.stem}", embedder))
        out.extend(asked(answerer.ask(q.text), q, path.stem) for q in bench.queries if q.answers)
    return out


def rerank(embedder: Embedder, reader: Reader, k: int = 5) -> dict:
    """Does the reader's probability order the top `k` passages better than retrieval? Recall@1 and MRR@k of
    the first passage holding the gold answer, per XQuAD split (the decision is the train split's, as the
    issue asks; the reader trained on those paragraphs, so test is the honest figure), and the reading cost."""
    paragraphs = _xquad_paragraphs()
    docs = [RawDocument(p.doc_id, p.text, f"xquad#{p.doc_id}", p.title) for p in paragraphs]
    searcher = searcher_for(docs, "reader-intact-xquad", embedder)
    rows: dict[str, list[tuple[int | None, int | None, float]]] = {}
    for p in paragraphs:
        split = xquad_split(p.title)
        for _, _, queries in p.questions:
            for q in queries.values():
                results = searcher.search(q.text, k).results
                texts = [r.chunk.text for r in results]
                gold = [r.chunk.doc_id == p.doc_id and contains_answer(r.chunk.text, q.answers) for r in results]
                started = time.perf_counter()
                readings = reader.read(q.text, texts) if texts else []
                ms = (time.perf_counter() - started) * 1000
                order = sorted(range(len(texts)), key=lambda i: (-readings[i].probability, i))
                by_retrieval = next((i + 1 for i, g in enumerate(gold) if g), None)
                by_reader = next((n + 1 for n, i in enumerate(order) if gold[i]), None)
                rows.setdefault(f"{split}/{q.lang}", []).append((by_retrieval, by_reader, ms))
    out = {}
    for key, rs in sorted(rows.items()):
        out[key] = {"n": len(rs), "ms_per_question_p50": float(np.median([r[2] for r in rs]))}
        for name, idx in (("retrieval", 0), ("reader", 1)):
            ranks = [r[idx] for r in rs]
            out[key][f"{name}_recall@1"] = float(np.mean([x == 1 for x in ranks]))
            out[key][f"{name}_mrr@{k}"] = float(np.mean([1 / x if x else 0.0 for x in ranks]))
    return out


def summarize(rows: list[Asked]) -> dict:
    out: dict[str, dict] = {}
    for key in sorted({(r.protocol, r.lang) for r in rows}):
        rs = [r for r in rows if (r.protocol, r.lang) == key]
        answered = [r for r in rs if not r.abstained]
        out[f"{key[0]}/{key[1]}"] = {
            "n": len(rs),
            "answered": float(np.mean([not r.abstained for r in rs])),
            "false_abstention": float(np.mean([r.abstained for r in rs])),
            "gold_in_answer_of_answered": _mean([r.gold_in_answer for r in answered]),
            "span_given": _mean([r.span for r in answered]),
            "span_em_answered": _mean([r.em for r in answered]),
            "span_f1_answered": _mean([r.f1 for r in answered]),
        }
    return out


def _mean(values: list) -> float | None:
    return float(np.mean(values)) if values else None


def reliability(rows: list[Asked], bins: int = 10, answered_only: bool = False) -> dict:
    """ECE of `confidence` against a correct answer (gold inside the cited answer; never, when removed). Over
    every asking an abstention counts as not correct whatever its confidence (with a high bar, most of the
    curve under it reads 0); `answered_only` measures what `confidence` promises of the answers shown."""
    pairs = [(r.confidence, float(r.gold_in_answer and r.protocol == "intact")) for r in rows
             if r.protocol in ("intact", "removed") and r.confidence is not None
             and not (answered_only and r.abstained)]
    conf = np.array([c for c, _ in pairs])
    label = np.array([y for _, y in pairs])
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1]), 0, bins - 1)
    table = []
    ece = 0.0
    for b in range(bins):
        chosen = which == b
        if chosen.any():
            gap = abs(conf[chosen].mean() - label[chosen].mean())
            ece += chosen.mean() * gap
            table.append({"bin": b, "n": int(chosen.sum()), "confidence": float(conf[chosen].mean()),
                          "correct": float(label[chosen].mean())})
    return {"ece": float(ece), "n": len(pairs), "bins": table}


def plot_reliability(curve: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], "--", color="grey", linewidth=1)
    xs = [b["confidence"] for b in curve["bins"]]
    ys = [b["correct"] for b in curve["bins"]]
    ax.plot(xs, ys, "o-")
    for b in curve["bins"]:
        ax.annotate(str(b["n"]), (b["confidence"], b["correct"]), fontsize=7, textcoords="offset points",
                    xytext=(3, -9))
    ax.set_xlabel("/ask confidence")
    ax.set_ylabel("share correct (gold inside the cited answer)")
    ax.set_title(f"reader, XQuAD test articles, intact + answer removed\nECE {curve['ece']:.3f} (n={curve['n']})",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run_reader_protocols(embedder: Embedder, reader: Reader, out_dir: Path, heldout: bool = True) -> dict:
    def answerer_for(searcher: Searcher) -> Answerer:
        return Answerer(searcher, reader=reader, judge=judge_beside(reader))

    rows = intact_and_removed(embedder, answerer_for)
    if heldout:
        rows += heldout_own(embedder, answerer_for)
    figures = {"by_protocol": summarize(rows), "calibration": reliability(rows),
               "calibration_answered": reliability(rows, answered_only=True), "rerank": rerank(embedder, reader)}
    out_dir.mkdir(parents=True, exist_ok=True)
    plot_reliability(figures["calibration"], out_dir / "reader_reliability.png")
    (out_dir / "reader.json").write_text(json.dumps(figures, indent=1, sort_keys=True), encoding="utf-8")
    (out_dir / "reader.md").write_text(reader_markdown(figures) + "\n", encoding="utf-8")
    return figures


def reader_markdown(figures: dict) -> str:
    def pct(v: float | None) -> str:
        return "–" if v is None else f"{100 * v:.1f}%"

    def num(v: float | None) -> str:
        return "–" if v is None else f"{v:.3f}"

    lines = ["## Reader", "", "| protocol | n | answered | gold inside answer (of answered) | span given | "
             "span EM | span F1 (answered, no span = 0) |", "|---|---|---|---|---|---|---|"]
    for key, v in figures["by_protocol"].items():
        lines.append(f"| {key} | {v['n']} | {pct(v['answered'])} | {pct(v['gold_in_answer_of_answered'])} | "
                     f"{pct(v['span_given'])} | {num(v['span_em_answered'])} | {num(v['span_f1_answered'])} |")
    lines += ["", "| rerank of the top 5 (XQuAD split/lang) | n | recall@1 retrieval → reader | "
              "MRR@5 retrieval → reader | reading ms p50 |", "|---|---|---|---|---|"]
    for key, v in figures.get("rerank", {}).items():
        lines.append(f"| {key} | {v['n']} | {v['retrieval_recall@1']:.3f} → {v['reader_recall@1']:.3f} | "
                     f"{v['retrieval_mrr@5']:.3f} → {v['reader_mrr@5']:.3f} | {v['ms_per_question_p50']:.0f} |")
    cal = figures["calibration"]
    lines += ["", f"Calibration (intact + answer removed, test articles): ECE {cal['ece']:.3f} over {cal['n']} "
              "questions; plot `reader_reliability.png`."]
    if "calibration_answered" in figures:
        shown = figures["calibration_answered"]
        lines.append(f"Over the answers shown only: ECE {shown['ece']:.3f} over {shown['n']} answers.")
    return "\n".join(lines)
