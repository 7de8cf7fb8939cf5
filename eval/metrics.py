"""Retrieval and QA metrics, and the two evaluators (`evaluate_retrieval`, `evaluate_answers`).

Definitions (k = 10 unless stated; every relevance is binary):
- Ranked units: passages for level "passage"; for level "document" the passage list is collapsed to distinct
  doc ids in first-seen order (MaxP), so a paragraph split into several chunks counts once.
- Gain: 1 at the first rank where each relevant doc shows up. At passage level that is the first passage of a
  relevant doc that contains a gold answer; more answer passages from the same doc earn nothing, so the
  figures do not depend on how the engine chunks text.
- recall@k: 1 if any gain lies in the top k (hit rate / top-k accuracy: one answer-bearing passage suffices).
- coverage@k: share of relevant docs with a gain in the top k.
- mrr@k: 1 / rank of the first gain within k, else 0.
- ndcg@k: DCG = sum of 1/log2(rank+1) over gains within k; ideal DCG puts min(#relevant docs, k) gains at
  ranks 1.. . Single-gold queries reduce to 1/log2(rank+1).
Metric means are over answerable queries; unanswerable ones only enter `evaluate_answers`.
"""

from __future__ import annotations

import math
import re
import time
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import TypeVar

import numpy as np

from isnad.eval.datasets import Benchmark, Level, Query

T = TypeVar("T")
K = 10
RECALL_KS = (1, 5, 10)
_WHITESPACE = re.compile(r"\s+")  # str patterns are Unicode-aware: covers NBSP, thin spaces, newlines


@lru_cache(maxsize=1 << 16)
def normalize_for_match(text: str) -> str:
    """The README matching rule: NFKC, every whitespace run (NBSP included) to one space, strip."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip()


def contains_answer(text: str, answers: Iterable[str]) -> bool:
    haystack = normalize_for_match(text)
    # An empty gold answer would match everything: ignore it.
    return any((needle := normalize_for_match(a)) and needle in haystack for a in answers)


def passage_relevant(query: Query, doc_id: str, passage_text: str, level: Level) -> bool:
    if doc_id not in query.relevant_docs:
        return False
    return level == "document" or contains_answer(passage_text, query.answers)


def answer_correct(answer_text: str, cited_doc_ids: Iterable[str], query: Query) -> bool:
    """Contains a gold answer (normalized) and cites at least one gold doc."""
    return any(d in query.relevant_docs for d in cited_doc_ids) and contains_answer(
        answer_text, query.answers
    )


@dataclass(frozen=True)
class RetrievedPassage:
    doc_id: str
    text: str


@dataclass(frozen=True)
class AnswerOutcome:
    text: str
    abstained: bool
    cited_doc_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class QueryDetail:
    """One query's outcome. `rank`: 1-based rank of the first relevant unit within k (None = miss)."""

    query_id: str
    lang: str
    question: str
    ok: bool
    latency_ms: float
    rank: int | None = None
    gain_ranks: tuple[int, ...] = ()
    retrieved: tuple[str, ...] = ()  # ranked doc ids (top k)
    expected: tuple[str, ...] = ()  # gold answers
    abstained: bool = False  # answers only
    note: str = ""  # e.g. the produced answer, or "false abstention"


@dataclass(frozen=True)
class EvalResult:
    benchmark: str
    kind: str  # "retrieval" | "answers"
    primary_metric: str
    metrics: Mapping[str, float]
    details: tuple[QueryDetail, ...] = field(default=())

    @property
    def primary(self) -> float:
        return self.metrics.get(self.primary_metric, math.nan)  # absent when undefined (e.g. no queries)

    @property
    def failed(self) -> tuple[QueryDetail, ...]:
        return tuple(d for d in self.details if not d.ok)

    def recall_curve(self, max_k: int = K, lang: str | None = None) -> list[float]:
        """recall@1..max_k (retrieval results only)."""
        ranks = [d.rank for d in self.details if lang is None or d.lang == lang]
        return [
            float(np.mean([recall_at_k(r, k) for r in ranks])) if ranks else 0.0 for k in range(1, max_k + 1)
        ]

    def to_dict(self) -> dict:
        return asdict(self) | {"metrics": dict(self.metrics)}


def recall_at_k(rank: int | None, k: int) -> float:
    return 1.0 if rank is not None and rank <= k else 0.0


def reciprocal_rank(rank: int | None, k: int = K) -> float:
    return 1.0 / rank if rank is not None and rank <= k else 0.0


def ndcg_at_k(gain_ranks: Sequence[int], n_relevant: int, k: int = K) -> float:
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(n_relevant, k) + 1))
    if ideal == 0.0:
        return 0.0
    return sum(1.0 / math.log2(r + 1) for r in gain_ranks if r <= k) / ideal


def gain_ranks(
    query: Query, passages: Sequence[RetrievedPassage], level: Level, k: int = K
) -> tuple[int, ...]:
    """1-based ranks (within k) where a relevant doc is first credited; see the module docstring."""
    if level == "document":
        units = list(dict.fromkeys(p.doc_id for p in passages))[:k]
        return tuple(i for i, d in enumerate(units, 1) if d in query.relevant_docs)
    credited: set[str] = set()
    ranks = []
    for i, p in enumerate(passages[:k], 1):
        if p.doc_id not in credited and passage_relevant(query, p.doc_id, p.text, level):
            credited.add(p.doc_id)
            ranks.append(i)
    return tuple(ranks)


def percentile_ms(latencies: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(latencies, dtype=float), q))


def _retrieval_metrics(details: Sequence[QueryDetail], n_relevant: Mapping[str, int]) -> dict[str, float]:
    m = {f"recall@{k}": float(np.mean([recall_at_k(d.rank, k) for d in details])) for k in RECALL_KS}
    m["mrr@10"] = float(np.mean([reciprocal_rank(d.rank) for d in details]))
    m["ndcg@10"] = float(np.mean([ndcg_at_k(d.gain_ranks, n_relevant[d.query_id]) for d in details]))
    m["coverage@10"] = float(np.mean([len(d.gain_ranks) / n_relevant[d.query_id] for d in details]))
    return m


def _latency_metrics(details: Sequence[QueryDetail]) -> dict[str, float]:
    lat = [d.latency_ms for d in details]
    return {"latency_p50_ms": percentile_ms(lat, 50), "latency_p95_ms": percentile_ms(lat, 95)}


def _with_lang_breakdown(
    details: Sequence[QueryDetail], compute: Callable[[Sequence[QueryDetail]], dict[str, float]]
) -> dict[str, float]:
    """Overall keys unprefixed, then `{lang}/{key}` for every query language."""
    if not details:
        return {"n_queries": 0.0}
    out = {"n_queries": float(len(details))} | compute(details) | _latency_metrics(details)
    for lang in sorted({d.lang for d in details}):
        sub = [d for d in details if d.lang == lang]
        out[f"{lang}/n_queries"] = float(len(sub))
        out |= {f"{lang}/{key}": v for key, v in compute(sub).items()}
    return out


def _timed(fn: Callable[[str], T], arg: str) -> tuple[T, float]:
    t0 = time.perf_counter()
    value = fn(arg)
    return value, (time.perf_counter() - t0) * 1000.0


def evaluate_retrieval(
    benchmark: Benchmark,
    retrieve: Callable[[str], Sequence[RetrievedPassage]],
    k: int = K,
    primary_metric: str | None = None,
) -> EvalResult:
    """Run `retrieve` on every answerable query and score the ranked passages.

    Primary metric: ndcg@10 for document-level sets (comparable with MTEB anchors), recall@5 for passage-level
    ones (what the answerer reads).
    """
    details = []
    for q in benchmark.answerable:
        ranked, ms = _timed(retrieve, q.text)
        passages = list(ranked)
        gains = gain_ranks(q, passages, benchmark.level, k)
        retrieved = (
            list(dict.fromkeys(p.doc_id for p in passages))
            if benchmark.level == "document"
            else [p.doc_id for p in passages]
        )
        details.append(
            QueryDetail(
                query_id=q.id,
                lang=q.lang,
                question=q.text,
                ok=bool(gains),
                latency_ms=ms,
                rank=gains[0] if gains else None,
                gain_ranks=gains,
                retrieved=tuple(retrieved[:k]),
                expected=q.answers,
            )
        )
    n_relevant = {q.id: len(q.relevant_docs) for q in benchmark.answerable}
    metrics = _with_lang_breakdown(details, lambda ds: _retrieval_metrics(ds, n_relevant))
    metrics["n_unanswerable_skipped"] = float(len(benchmark.queries) - len(details))
    primary = primary_metric or ("ndcg@10" if benchmark.level == "document" else "recall@5")
    return EvalResult(benchmark.name, "retrieval", primary, metrics, tuple(details))


def _answer_metrics(details: Sequence[QueryDetail], unanswerable: frozenset[str]) -> dict[str, float]:
    """Undefined ratios (no answerable / no unanswerable / no abstention) are left out rather than faked."""
    ans = [d for d in details if d.query_id not in unanswerable]
    una = [d for d in details if d.query_id in unanswerable]
    abstained = [d for d in details if d.abstained]
    true_abst = [d for d in una if d.abstained]
    m: dict[str, float] = {"n_answerable": float(len(ans)), "n_unanswerable": float(len(una))}
    false_abst = sum(d.abstained for d in ans)
    m["false_abstentions"] = float(false_abst)
    if ans:
        m["answer_accuracy"] = sum(d.ok for d in ans) / len(ans)
        m["false_abstention_rate"] = false_abst / len(ans)
    if abstained:
        m["abstention_precision"] = len(true_abst) / len(abstained)
    if una:
        m["abstention_recall"] = len(true_abst) / len(una)
    m["overall_accuracy"] = sum(d.ok for d in details) / len(details)
    return m


def evaluate_answers(
    benchmark: Benchmark, ask: Callable[[str], AnswerOutcome], primary_metric: str = "answer_accuracy"
) -> EvalResult:
    """Ask every query. Answerable: ok = not abstained and `answer_correct`. Unanswerable: ok = abstained.

    abstention_precision = correct abstentions / all abstentions; abstention_recall = correct abstentions /
    unanswerable queries; overall_accuracy counts a correct abstention as a correct answer.
    """
    details = []
    for q in benchmark.queries:
        outcome, ms = _timed(ask, q.text)
        if not isinstance(outcome, AnswerOutcome):
            raise TypeError(f"ask() must return AnswerOutcome, got {type(outcome).__name__}")
        if q.unanswerable:
            ok, note = outcome.abstained, "abstained" if outcome.abstained else f"answered: {outcome.text}"
        elif outcome.abstained:
            ok, note = False, "false abstention"
        else:
            ok, note = answer_correct(outcome.text, outcome.cited_doc_ids, q), f"answered: {outcome.text}"
        details.append(
            QueryDetail(
                query_id=q.id,
                lang=q.lang,
                question=q.text,
                ok=ok,
                latency_ms=ms,
                retrieved=tuple(outcome.cited_doc_ids),
                expected=q.answers,
                abstained=outcome.abstained,
                note=note,
            )
        )
    unanswerable = frozenset(q.id for q in benchmark.queries if q.unanswerable)
    metrics = _with_lang_breakdown(details, lambda ds: _answer_metrics(ds, unanswerable))
    return EvalResult(benchmark.name, "answers", primary_metric, metrics, tuple(details))
