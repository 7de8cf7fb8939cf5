"""Fusion, the round bonus and dedupe on hand-made numbers: no index, no model."""

from __future__ import annotations

import pytest

from isnad.service.fusion import LexicalWeights, dedupe, dedupe_copies, fuse, jaccard_similarity
from isnad.service.search import SearchConfig

WEIGHTS = LexicalWeights(ar=0.05, en=0.02, bridge=0.04)


def test_bm25_is_normalized_by_its_best_hit_and_weighted() -> None:
    fused = fuse({0: 0.80, 1: 0.70}, [(1, 10.0), (0, 5.0)], weight=0.05)
    assert fused.scores == pytest.approx({0: 0.80 + 0.05 * 0.5, 1: 0.70 + 0.05 * 1.0})
    assert fused.rows == [0, 1]


def test_a_chunk_only_bm25_found_starts_below_every_dense_candidate() -> None:
    fused = fuse({0: 0.82, 1: 0.76}, [(7, 4.0)], weight=0.05)
    assert fused.scores[7] == pytest.approx(0.76 + 0.05)  # the weakest dense score, plus its BM25 share
    assert fused.rows == [0, 7, 1]
    assert fuse({0: 0.82, 1: 0.76}, [(7, 4.0)], weight=0.0).rows == [0, 1, 7]  # the floor alone ranks last


def test_without_dense_scores_bm25_alone_ranks() -> None:
    fused = fuse({}, [(3, 6.0), (1, 3.0)], weight=1.0)
    assert fused.rows == [3, 1] and fused.scores == {3: 1.0, 1: 0.5}


def test_ties_break_on_the_dense_score_then_the_row() -> None:
    # row 5 has no dense score: it loses the tie to row 2, whose fused score came from the dense signal
    fused = fuse({2: 0.5, 4: 0.5}, [(5, 2.0)], weight=0.0)
    assert fused.rows == [2, 4, 5]
    assert fuse({9: 0.6, 3: 0.6}, [], weight=0.05).rows == [3, 9]


def test_exact_ties_follow_the_index_order_not_the_key() -> None:
    # two copies of one passage (same cosine, same BM25): the index's order decides, whatever their keys
    dense, lexical = {901: 0.8, 17: 0.8, 5: 0.7}, [(901, 2.0), (17, 2.0)]
    row_of = {901: 0, 17: 1, 5: 2}
    assert fuse(dense, lexical, 0.05).rows[:2] == [17, 901]  # no order given: by key
    assert fuse(dense, lexical, 0.05, tie_order=row_of.__getitem__).rows == [901, 17, 5]


def test_the_round_bonus_lifts_only_the_named_rounds_rows() -> None:
    fused = fuse({0: 0.80, 1: 0.79}, [], weight=0.05, round_rows={1}, round_bonus=0.02)
    assert fused.scores == pytest.approx({0: 0.80, 1: 0.81})
    assert fused.rows == [1, 0]
    assert fuse({0: 0.80}, [], 0.05, round_rows={5}, round_bonus=0.02).scores == {0: 0.80}  # not a candidate


def test_weights_follow_the_question_language_and_the_bridges_coverage() -> None:
    assert WEIGHTS.for_query("ar", 0.0) == 0.05
    assert WEIGHTS.for_query("ar", 1.0) == 0.05  # coverage only matters for English questions
    assert WEIGHTS.for_query("en", 0.0) == 0.02
    assert WEIGHTS.for_query("en", 0.5) == pytest.approx(0.04)
    assert WEIGHTS.for_query("en", 1.0) == pytest.approx(0.06)
    assert SearchConfig().lexical_weights == WEIGHTS  # the service's configuration


def test_same_bm25_counts_less_for_an_english_question() -> None:
    dense, bm25 = {0: 0.80, 1: 0.78}, [(1, 9.0), (0, 1.0)]
    arabic = fuse(dense, bm25, WEIGHTS.for_query("ar", 0.0))
    english = fuse(dense, bm25, WEIGHTS.for_query("en", 0.0))
    assert arabic.rows == [1, 0]  # 0.78 + 0.05 > 0.80 + 0.0056
    assert english.rows == [0, 1]  # 0.78 + 0.02 < 0.80 + 0.0022


def test_dedupe_keeps_the_first_of_copies_and_near_copies() -> None:
    texts = {
        0: "اتفق المشاركون على أربع مناطق لخفض التصعيد في سوريا",
        1: "اتفق  المشاركون على أربع مناطق لخفض التصعيد في سوريا",  # the same after normalization
        2: "اتفق المشاركون على أربع مناطق لخفض التصعيد في سوريا اليوم",  # 9 of 10 words shared
        3: "عقدت الجولة المقبلة في العاصمة الكازاخية",
    }
    assert dedupe([0, 1, 2, 3], 10, texts.__getitem__, jaccard=0.85) == [0, 3]
    assert dedupe([2, 0, 3], 10, texts.__getitem__, jaccard=0.95) == [2, 0, 3]  # 0.9 is under a stricter bar
    assert dedupe([0, 1, 2, 3], 1, texts.__getitem__, jaccard=0.85) == [0]  # stops at k
    # each kept row with the copies it stands for, also past k (within the next k rows)
    assert dedupe_copies([0, 3, 1, 2], 2, texts.__getitem__, jaccard=0.85) == {0: [1, 2], 3: []}
    assert dedupe_copies([0, 1, 3, 2], 1, texts.__getitem__, jaccard=0.85) == {0: [1]}  # 2 is past the window


def test_jaccard_of_empty_sets_is_zero() -> None:
    assert jaccard_similarity(frozenset(), frozenset({"a"})) == 0.0
    assert jaccard_similarity(frozenset({"a", "b"}), frozenset({"b", "c"})) == pytest.approx(1 / 3)
