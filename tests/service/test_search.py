"""`Searcher.search` on a tiny index and a fake embedder: how the signals add up, by language, with the round
bonus, dedupe, filters and k. The hash embedder gives every passage an arbitrary cosine; the tests assert
how the fused score is made of it, not which passage the model would prefer."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from isnad.indexer.types import RawDocument, SearchFilters
from isnad.service.search import ABLATIONS, MAX_K, SearchConfig, Searcher, SearchResponse
from tests.indexer.fake_embedder import HashEmbedder
from tests.service.tiny_index import tiny_searcher

ROUND_FOUR = "اتفقت الدول الضامنة في الجولة الرابعة من محادثات أستانا على إنشاء أربع مناطق لخفض التصعيد في سوريا."
DOCUMENTS = (
    RawDocument("r4", ROUND_FOUR, "r4.txt", title="الجولة الرابعة", published="2017-05-04"),
    RawDocument("r4-copy", ROUND_FOUR, "r4-copy.txt", title="الجولة الرابعة", published="2017-05-05"),
    RawDocument("r6", "ناقشت الجولة السادسة من محادثات أستانا حدود مناطق خفض التصعيد في إدلب وانتشار المراقبين.",
                "r6.txt", title="الجولة السادسة", published="2017-09-15"),
    RawDocument("airport", "افتتحت السلطات المطار الجديد في العاصمة بعد سنوات من الأشغال وحضر الافتتاح وزير النقل.",
                "airport.txt", title="افتتاح المطار", published="2019-03-12"),
)
PLAIN = SearchConfig(rounds=False, dedupe=False)  # fusion alone


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory) -> Searcher:
    return tiny_searcher(tmp_path_factory.mktemp("search-index") / "index", DOCUMENTS)


def _implied_weight(response: SearchResponse) -> float:
    """BM25's weight, read off the best BM25 hit (its normalized BM25 is 1): fused score minus cosine."""
    top = max((r for r in response.results if r.lexical_score), key=lambda r: r.lexical_score or 0.0)
    assert top.dense_score is not None
    return top.score - top.dense_score


def _check_fused(response: SearchResponse, weight: float, bonus_rows: frozenset[str] = frozenset(),
                 bonus: float = 0.0) -> None:
    top = max(r.lexical_score or 0.0 for r in response.results)
    for r in response.results:
        assert r.dense_score is not None  # the tiny index fits in the dense candidates: every chunk is one
        expected = r.dense_score + weight * (r.lexical_score or 0.0) / top
        expected += bonus if r.chunk.chunk_id in bonus_rows else 0.0
        assert r.score == pytest.approx(expected, abs=1e-6)


def test_arabic_question_adds_bm25_at_the_arabic_weight(searcher: Searcher) -> None:
    response = searcher.with_config(PLAIN).search("مناطق خفض التصعيد", MAX_K)
    assert response.analyzed is not None and response.analyzed.lang == "ar"
    assert len(response.results) == len(searcher.index.chunks)
    assert _implied_weight(response) == pytest.approx(0.05, abs=1e-6)
    _check_fused(response, 0.05)
    assert [r.rank for r in response.results] == list(range(1, len(response.results) + 1))
    assert [r.score for r in response.results] == sorted((r.score for r in response.results), reverse=True)
    assert response.best_dense == max(r.dense_score or -1.0 for r in response.results)


def test_english_question_weight_grows_with_the_bridges_coverage(searcher: Searcher) -> None:
    question = "de-escalation zones in Syria, said blorptastic"
    response = searcher.with_config(PLAIN).search(question, MAX_K)
    analyzed = response.analyzed
    assert analyzed is not None and analyzed.lang == "en" and "تصعيد" in analyzed.bridge_terms
    assert 0 < analyzed.bridge_coverage < 1  # the made-up word is not translated
    weight = 0.02 + 0.04 * analyzed.bridge_coverage
    assert _implied_weight(response) == pytest.approx(weight, abs=1e-6)
    _check_fused(response, weight)
    heavier = searcher.with_config(replace(PLAIN, lexical_weight_bridge=0.2)).search(question, MAX_K)
    assert _implied_weight(heavier) == pytest.approx(0.02 + 0.2 * analyzed.bridge_coverage, abs=1e-6)


def test_bm25_alone_ranks_by_normalized_bm25(searcher: Searcher) -> None:
    response = searcher.with_config(ABLATIONS["bm25"]).search("مناطق خفض التصعيد", 10)
    assert response.best_dense is None and response.query_vector is None
    assert response.results and all(r.dense_score is None for r in response.results)
    top = response.results[0].lexical_score
    assert top is not None and response.results[0].score == 1.0
    for r in response.results:
        assert r.score == pytest.approx((r.lexical_score or 0.0) / top, abs=1e-6)


def test_the_named_round_adds_its_bonus_to_its_passages_only(searcher: Searcher) -> None:
    query = "ماذا تقرر في الجولة الرابعة؟"
    with_rounds = searcher.with_config(replace(PLAIN, rounds=True)).search(query, MAX_K)
    without = searcher.with_config(PLAIN).search(query, MAX_K)
    assert with_rounds.analyzed is not None and with_rounds.analyzed.round == 4
    in_round = frozenset(c.chunk_id for c in searcher.index.chunks if 4 in c.rounds)
    assert in_round and {c.split("#")[0] for c in in_round} == {"r4", "r4-copy"}
    before = {r.chunk.chunk_id: r.score for r in without.results}
    for r in with_rounds.results:
        bonus = 0.02 if r.chunk.chunk_id in in_round else 0.0
        assert r.score == pytest.approx(before[r.chunk.chunk_id] + bonus, abs=1e-6)
    assert {r.chunk.doc_id for r in with_rounds.results[:2]} == {"r4", "r4-copy"}


def test_a_syndicated_copy_appears_once(searcher: Searcher) -> None:
    query = "إنشاء أربع مناطق لخفض التصعيد"
    deduped = searcher.search(query, 10)
    texts = [r.chunk.text for r in deduped.results]
    assert len(texts) == len(set(texts)) == len(searcher.index.chunks) - 1
    assert sum(r.chunk.doc_id in ("r4", "r4-copy") for r in deduped.results) == 1
    everything = searcher.with_config(replace(searcher.config, dedupe=False)).search(query, 10)
    assert {r.chunk.doc_id for r in everything.results} >= {"r4", "r4-copy"}


@pytest.mark.parametrize(("filters", "accepted"), [
    (SearchFilters(round=6), {"r6"}),
    (SearchFilters(doc_id="airport"), {"airport"}),
    (SearchFilters(published_from="2017-05-05", published_to="2017-12-31"), {"r4-copy", "r6"}),
])
def test_filters_hold_for_both_signals(searcher: Searcher, filters: SearchFilters, accepted: set[str]) -> None:
    for config in (searcher.config, ABLATIONS["bm25"], ABLATIONS["dense"]):
        response = searcher.with_config(config).search("محادثات أستانا مناطق خفض التصعيد المطار", MAX_K, filters)
        assert response.results and {r.chunk.doc_id for r in response.results} <= accepted
    unfiltered = searcher.search("محادثات أستانا", MAX_K, SearchFilters())  # an empty filter filters nothing
    assert len(unfiltered.results) == len(searcher.index.chunks) - 1  # the copy is deduped


@pytest.mark.parametrize("k", [0, MAX_K + 1, -1])
def test_k_out_of_bounds_is_refused(searcher: Searcher, k: int) -> None:
    with pytest.raises(ValueError, match=f"between 1 and {MAX_K}"):
        searcher.search("أستانا", k)


def test_k_bounds_the_results(searcher: Searcher) -> None:
    assert [r.rank for r in searcher.search("محادثات أستانا", 1).results] == [1]
    assert len(searcher.search("محادثات أستانا", 2).results) == 2


def test_an_index_of_another_model_is_refused(searcher: Searcher, tmp_path: Path) -> None:
    class OtherModel(HashEmbedder):
        model_id = "fake:other"

    with pytest.raises(ValueError, match="fake:hash"):
        Searcher(searcher.index, OtherModel())


def test_the_query_analysis_the_searcher_uses(searcher: Searcher) -> None:
    arabic = searcher.search("ماذا تقرر في الجولة الرابعة؟", 3).analyzed
    assert arabic is not None and arabic.lang == "ar" and arabic.round == 4 and arabic.bridge_terms == ()
    english = searcher.search("What did round 4 decide about de-escalation zones?", 3).analyzed
    assert english is not None and english.lang == "en" and english.round == 4
    assert "4" in english.terms and {"خفض", "تصعيد"} <= set(english.bridge_terms)
    # without the hand lexicon (and the bridge) an English question reaches no Arabic term: BM25 at its floor
    bare = searcher.with_config(replace(PLAIN, lexicon=False, induced=False, names=False, dates=False))
    response = bare.search("de-escalation zones", MAX_K)
    assert response.analyzed is not None and response.analyzed.bridge_terms == ()
    assert response.analyzed.bridge_coverage == 0.0
    assert all(r.lexical_score is None and r.score == round(r.dense_score or 0.0, 6) for r in response.results)
