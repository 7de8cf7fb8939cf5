"""The judge stage: features of a read passage, ranking by a fitted model, and the model's file form. The reader
is scripted (tests/indexer/reader tests the real one); the index is tiny with a fake embedder: what is tested
here is what the service makes of the reader's output."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from isnad.indexer.reader.weights import save_judge
from isnad.indexer.types import RawDocument
from isnad.service.ask.answerer import Answerer
from isnad.service.ask.judge import FEATURES, Judge, judge, load_judge_for
from isnad.service.ask.passages import Passages
from isnad.service.ask.question import Question
from isnad.service.ask.reader import read
from isnad.service.search import Searcher, SearchResponse
from tests.service.ask.scripted_reader import ScriptedReader
from tests.service.tiny_index import tiny_searcher

DOCUMENTS = (
    RawDocument("talks", "عقدت الجولة الرابعة من المحادثات في أستانا. واتفق المشاركون على إنشاء أربع مناطق "
                "لخفض التصعيد في سوريا.", "talks.txt", title="الجولة الرابعة"),
    RawDocument("weather", "كان الطقس باردا في أستانا خلال المحادثات. وتساقطت الثلوج طوال الأسبوع.",
                "weather.txt", title="الطقس"),
)


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory) -> Searcher:
    return tiny_searcher(tmp_path_factory.mktemp("judge") / "index", DOCUMENTS)


def _only(feature: str, weight: float = 1.0) -> Judge:
    """A judge that looks at one feature only (unit scale)."""
    coef = np.array([weight if f == feature else 0.0 for f in FEATURES])
    return Judge(np.zeros(len(FEATURES)), np.ones(len(FEATURES)), coef, 0.0, (1.0, 0.0), {"ar": 0.6, "en": 0.7})


def _passages(response: SearchResponse) -> Passages:
    return Passages.of(response, Question.of(response), 5, 4)


SCRIPT = {"مناطق": (0.6, "أربع مناطق"), "الثلوج": (0.9, "الأسبوع")}
QUESTION = "على ماذا اتفق المشاركون في الجولة الرابعة؟"


def test_without_a_model_the_reader_decides_and_each_passage_carries_its_sentence(searcher: Searcher) -> None:
    response = searcher.search(QUESTION, 5)
    judged = judge(read(response, ScriptedReader(SCRIPT), 2), _passages(response), None, None)
    assert [round(j.probability, 2) for j in judged] == [0.9, 0.6]
    best, runner = judged
    assert best.sentence.text == "وتساقطت الثلوج طوال الأسبوع."
    assert runner.sentence.text == "واتفق المشاركون على إنشاء أربع مناطق لخفض التصعيد في سوريا."
    assert len(best.features) == len(FEATURES)


def test_the_sentence_holding_the_questions_words_scores_its_coverage(searcher: Searcher) -> None:
    """sentence_terms: the share of the question's content terms in the cited sentence; 0 for the snow one."""
    response = searcher.search(QUESTION, 5)
    judged = judge(read(response, ScriptedReader(SCRIPT), 2), _passages(response), None, None)
    at = FEATURES.index("sentence_terms")
    by_doc = {j.passage.result.chunk.doc_id: j.features[at] for j in judged}
    assert by_doc["talks"] > 0.3 and by_doc["weather"] == 0.0


def test_a_model_on_the_cited_sentences_evidence_reorders_the_readers_choice(searcher: Searcher) -> None:
    """The reader prefers the snow sentence; a judge weighing term coverage cites the agreement instead."""
    response = searcher.search(QUESTION, 5)
    judged = judge(read(response, ScriptedReader(SCRIPT), 2), Passages.of(response, Question.of(response), 5, 4), None,
                   _only("sentence_terms", 8.0))
    assert judged[0].passage.result.chunk.doc_id == "talks"
    assert judged[0].probability > 0.9 > judged[1].probability


def test_type_match_reads_the_span_not_the_passage(searcher: Searcher) -> None:
    """A number question: the span "أربع مناطق" holds a number word; the span "الأسبوع" does not."""
    response = searcher.search("كم منطقة اتفق عليها المشاركون؟", 5)
    judged = judge(read(response, ScriptedReader(SCRIPT), 2), _passages(response), None, None)
    at = FEATURES.index("type_match")
    by_doc = {j.passage.result.chunk.doc_id: j.features[at] for j in judged}
    assert by_doc == {"talks": 1.0, "weather": 0.0}


def test_the_topic_gates_confidence_enters_as_a_logit(searcher: Searcher) -> None:
    response = searcher.search(QUESTION, 5)
    judged = judge(read(response, ScriptedReader(SCRIPT), 1), _passages(response), 0.8, None)
    assert judged[0].features[FEATURES.index("topic_logit")] == pytest.approx(math.log(0.8 / 0.2))


def test_a_judge_round_trips_through_its_metadata_and_refuses_other_features() -> None:
    original = _only("reader_logit", 2.0)
    again = Judge.from_meta(original.to_meta())
    x = np.linspace(-1, 1, len(FEATURES))
    assert again.probability(x) == pytest.approx(original.probability(x))
    assert again.thresholds == {"ar": 0.6, "en": 0.7}
    assert again.threshold("fr") == 0.7  # a language it was not fitted on gets the strictest bar
    stale = {**original.to_meta(), "features": ["reader_logit"]}
    with pytest.raises(ValueError, match="fitted on features"):
        Judge.from_meta(stale)


def test_a_gated_asking_has_probability_zero() -> None:
    assert _only("reader_logit").probability_of_logit(-math.inf) == 0.0


def test_a_judge_this_code_cannot_use_is_named_and_the_readers_probability_decides(
        searcher: Searcher, tmp_path: Path) -> None:
    """A judge fitted on other features (an older file): named as unusable, never an error on /ask."""
    reader_file = tmp_path / "reader.npz"
    reader_file.write_bytes(b"weights")
    save_judge(reader_file, "sha", {**_only("reader_logit").to_meta(), "features": ["reader_logit"]})
    found, problem = load_judge_for(reader_file, "sha")
    assert found is None and "fitted on features" in (problem or "")
    assert load_judge_for(reader_file, "another")[1] is not None  # fitted for another reader file
    answer = Answerer(searcher, reader=ScriptedReader(SCRIPT), model=False, judge=found).ask(QUESTION)
    assert not answer.abstained and answer.confidence == 0.9  # the reader's own choice, the snow sentence


def _answerer_with(searcher: Searcher, reader: ScriptedReader, early_exit: float | None) -> Answerer:
    return Answerer(searcher, reader=reader, model=False, read_passages=2,
                    judge=replace(_only("reader_logit"), early_exit=early_exit))


def test_a_confident_top_passage_is_read_alone(searcher: Searcher) -> None:
    """The top-ranked passage reaches the judge's early-exit bar: the second one is never read."""
    question = "على ماذا اتفق المشاركون في الجولة الرابعة من المحادثات؟"
    top = searcher.search(question, 5).results[0].chunk.doc_id
    script = {"مناطق": (0.95, "أربع مناطق"), "الثلوج": (0.95, "الأسبوع")}
    reader = ScriptedReader(script)
    answer = _answerer_with(searcher, reader, 0.5).ask(question)
    assert [len(passages) for _, passages in reader.calls] == [1]
    assert not answer.abstained and answer.citations[0].chunk.doc_id == top


def test_an_unsure_top_passage_reads_the_rest_and_the_best_wins(searcher: Searcher) -> None:
    """Under the bar: one call for the top passage, one for the rest; the better passage is cited."""
    question = "على ماذا اتفق المشاركون في الجولة الرابعة من المحادثات؟"
    results = searcher.search(question, 5).results
    top, second = results[0].chunk.doc_id, results[1].chunk.doc_id
    low, high = ("مناطق", "الثلوج") if top == "talks" else ("الثلوج", "مناطق")
    reader = ScriptedReader({low: (0.3, ""), high: (0.9, "الأسبوع" if high == "الثلوج" else "أربع مناطق")})
    answer = _answerer_with(searcher, reader, 0.5).ask(question)
    assert [len(passages) for _, passages in reader.calls] == [1, 1]
    assert answer.citations[0].chunk.doc_id == second


def test_a_quantity_question_always_reads_every_passage(searcher: Searcher) -> None:
    """Differing figures need the other passages: no early exit, one call with both."""
    reader = ScriptedReader({"مناطق": (0.95, "أربع مناطق"), "الثلوج": (0.95, "الأسبوع")})
    _answerer_with(searcher, reader, 0.5).ask("كم عدد المناطق التي اتفق عليها المشاركون؟")
    assert [len(passages) for _, passages in reader.calls] == [2]


def test_without_an_early_exit_bar_every_passage_is_read_at_once(searcher: Searcher) -> None:
    reader = ScriptedReader({"مناطق": (0.95, "أربع مناطق")})
    _answerer_with(searcher, reader, None).ask("على ماذا اتفق المشاركون في الجولة الرابعة من المحادثات؟")
    assert [len(passages) for _, passages in reader.calls] == [2]
