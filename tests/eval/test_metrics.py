import math

import pytest

from isnad.eval.datasets import Benchmark, Query
from isnad.eval.metrics import (
    AnswerOutcome,
    RetrievedPassage,
    answer_correct,
    contains_answer,
    evaluate_answers,
    evaluate_retrieval,
    gain_ranks,
    ndcg_at_k,
    normalize_for_match,
    passage_relevant,
    percentile_ms,
    recall_at_k,
    reciprocal_rank,
)
from isnad.indexer.types import RawDocument

P = RetrievedPassage
Q1 = Query("q1", "متى عقدت الجولة؟", "ar", frozenset({"d1"}), ("21 و22 ديسمبر",))
Q2 = Query("q2", "Who attended?", "en", frozenset({"d1", "d2"}), ("روسيا وتركيا",))
Q3 = Query("q3", "Unanswerable?", "en", frozenset(), (), unanswerable=True)


def test_normalize_nbsp_nfkc_and_whitespace_runs():
    assert normalize_for_match("  21\u00a0و22 \n\t ديسمبر ") == "21 و22 ديسمبر"
    assert normalize_for_match("a\u202f\u2009b") == "a b"
    assert normalize_for_match("\uff12\uff11") == "21"  # fullwidth digits
    assert normalize_for_match("\ufefb") == "\u0644\u0627"  # lam-alef presentation form
    assert normalize_for_match("") == ""


def test_contains_answer_ignores_spacing_differences_but_not_letters():
    assert contains_answer("عقدت يومي 21\u00a0و22  ديسمبر الماضي", ["21 و22 ديسمبر"])
    assert not contains_answer("عقدت يومي 21 و23 ديسمبر", ["21 و22 ديسمبر"])
    assert not contains_answer("anything", ["", "  "])  # an empty gold answer must not match everything


def test_passage_relevant_levels():
    text = "في 21 و22 ديسمبر"
    assert passage_relevant(Q1, "d1", text, "passage")
    assert not passage_relevant(Q1, "d2", text, "passage")
    assert not passage_relevant(Q1, "d1", "نص آخر", "passage")
    assert passage_relevant(Q1, "d1", "نص آخر", "document")
    assert not passage_relevant(Q3, "d1", text, "document")


def test_rank_two_single_gold():
    gains = gain_ranks(Q1, [P("d2", "x"), P("d1", "21 و22 ديسمبر")], "passage")
    assert gains == (2,)
    assert reciprocal_rank(2) == 0.5
    assert recall_at_k(2, 1) == 0.0 and recall_at_k(2, 5) == 1.0
    assert ndcg_at_k(gains, 1) == pytest.approx(1 / math.log2(3))  # 0.6309
    assert reciprocal_rank(11) == 0.0 and reciprocal_rank(None) == 0.0


def test_passage_level_credits_each_gold_doc_once():
    ranked = [
        P("d1", "روسيا وتركيا"),
        P("d1", "روسيا وتركيا أيضا"),
        P("d2", "روسيا وتركيا"),
        P("d3", "روسيا وتركيا"),
    ]
    gains = gain_ranks(Q2, ranked, "passage")
    assert gains == (1, 3)
    assert ndcg_at_k(gains, 2) == pytest.approx((1 + 0.5) / (1 + 1 / math.log2(3)))


def test_document_level_collapses_chunks_of_one_doc():
    q = Query("q", "?", "ar", frozenset({"d2"}))
    assert gain_ranks(q, [P("d1", "a"), P("d1", "b"), P("d2", "c")], "document") == (2,)
    ranked = [P(f"x{i}", "") for i in range(10)] + [P("d2", "")]
    assert gain_ranks(q, ranked, "document") == ()  # beyond k=10


def _bench(level="passage"):
    docs = tuple(RawDocument(d, "t", d) for d in ("d1", "d2", "d3"))
    return Benchmark("tiny", docs, (Q1, Q2, Q3), level)


def test_evaluate_retrieval_metrics_and_breakdown():
    ranked = {
        Q1.text: [P("d2", "x"), P("d1", "يوم 21 و22\u00a0ديسمبر")],  # rank 2
        Q2.text: [P("d3", "no")] * 3,  # miss
    }
    result = evaluate_retrieval(_bench(), lambda text: ranked[text])
    m = result.metrics
    assert result.primary_metric == "recall@5" and result.primary == 0.5
    assert m["recall@1"] == 0.0 and m["recall@5"] == 0.5 and m["mrr@10"] == 0.25
    assert m["ndcg@10"] == pytest.approx(1 / math.log2(3) / 2)
    assert m["ar/recall@5"] == 1.0 and m["en/recall@5"] == 0.0 and m["en/n_queries"] == 1
    assert m["n_queries"] == 2 and m["n_unanswerable_skipped"] == 1
    assert m["latency_p95_ms"] >= m["latency_p50_ms"] >= 0
    assert [d.query_id for d in result.failed] == ["q2"]
    assert result.details[0].rank == 2 and result.details[0].retrieved == ("d2", "d1")
    assert result.recall_curve(3) == [0.0, 0.5, 0.5]
    assert evaluate_retrieval(_bench("document"), lambda t: ranked[t]).primary_metric == "ndcg@10"


def test_answer_correct_needs_answer_and_gold_citation():
    assert answer_correct("عقدت في 21 و22\u00a0ديسمبر", ["d1"], Q1)
    assert not answer_correct("عقدت في 21 و22 ديسمبر", ["d2"], Q1)
    assert not answer_correct("لا أعرف", ["d1"], Q1)
    assert not answer_correct("x", ["d1"], Q3)


def test_evaluate_answers():
    outcomes = {
        Q1.text: AnswerOutcome("21 و22 ديسمبر", False, ("d1",)),  # correct
        Q2.text: AnswerOutcome("", True),  # false abstention
        Q3.text: AnswerOutcome("", True),  # correct abstention
    }
    result = evaluate_answers(_bench(), lambda t: outcomes[t])
    m = result.metrics
    assert result.primary == m["answer_accuracy"] == 0.5
    assert m["false_abstentions"] == 1 and m["false_abstention_rate"] == 0.5
    assert m["abstention_precision"] == 0.5 and m["abstention_recall"] == 1.0
    assert m["overall_accuracy"] == pytest.approx(2 / 3)
    assert m["ar/answer_accuracy"] == 1.0 and m["en/answer_accuracy"] == 0.0
    assert "ar/abstention_precision" not in m  # undefined: no abstentions among ar queries
    assert "latency_p50_ms" in m
    assert {d.query_id for d in result.failed} == {"q2"}


def test_evaluate_answers_rejects_wrong_type():
    with pytest.raises(TypeError):
        evaluate_answers(_bench(), lambda t: "text")


def test_percentiles():
    assert percentile_ms([1, 2, 3, 4], 50) == 2.5
    assert percentile_ms(list(range(101)), 95) == 95.0
