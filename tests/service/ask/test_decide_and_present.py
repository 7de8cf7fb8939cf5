"""The decide and present stages with hand-made readings on a tiny index (fake embedder): the reader itself is
tested in tests/indexer/reader; here, what the service does with what it says."""

from __future__ import annotations

import time

import pytest

from isnad.indexer.types import RawDocument
from isnad.service.ask.decide import decide_by_reader
from isnad.service.ask.judge import JudgedPassage, judge
from isnad.service.ask.passages import Passages
from isnad.service.ask.present import present
from isnad.service.ask.question import Question
from isnad.service.ask.reader import read
from isnad.service.ask.result import DIFFERING_FIGURES, NOT_FOUND
from isnad.service.search import Searcher, SearchResponse
from tests.service.ask.scripted_reader import ScriptedReader
from tests.service.tiny_index import tiny_searcher

DOCUMENTS = (
    RawDocument("toll-a", "قالت الأمم المتحدة إن عدد القتلى في الحرب بلغ 300 ألف شخص منذ بدايتها. "
                "وأضافت أن المحادثات لم توقف القتال.", "a.txt", title="حصيلة"),
    RawDocument("toll-b", "قدّر المرصدُ عددَ القتلى في الحرب بنحو 500 ألف شخص. وطالب بوقف القتال.", "b.txt",
                title="المرصد"),
)


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory) -> Searcher:
    return tiny_searcher(tmp_path_factory.mktemp("ask-stages") / "index", DOCUMENTS)


def _response(searcher: Searcher, question: str) -> SearchResponse:
    return searcher.search(question, 5)


def _judged(response: SearchResponse, reader: ScriptedReader, passages: int = 3) -> tuple[JudgedPassage, ...]:
    """Read, then judged without a judge model: the reader's own probabilities decide."""
    return judge(read(response, reader, passages), Passages.of(response, Question.of(response), 5, 4), None, None)


def test_the_reader_reads_the_top_passages_once_and_orders_by_probability(searcher: Searcher) -> None:
    """One call with the top passages' texts; the readings come back best first."""
    reader = ScriptedReader({"500 ألف": (0.9, "500 ألف"), "300 ألف": (0.6, "300 ألف")})
    response = _response(searcher, "كم عدد القتلى في الحرب؟")
    readings = read(response, reader, 2)
    assert len(reader.calls) == 1 and len(reader.calls[0][1]) == 2
    assert [round(r.probability, 2) for r in readings] == [0.9, 0.6]
    assert readings[0].result.chunk.text[readings[0].reading.start : readings[0].reading.end] == "500 ألف"


def test_below_the_bar_it_abstains_with_the_reader_confidence(searcher: Searcher) -> None:
    """The best passage under the threshold: not found, confidence = its probability, closest passages apart."""
    response = _response(searcher, "كم عدد القتلى في الحرب؟")
    decision = decide_by_reader(_judged(response, ScriptedReader({"القتلى": (0.3, "القتلى")})), 0.5, quantity=False)
    assert decision.abstained and decision.confidence == 0.3
    answer = present(response, decision, searcher.index.documents, time.perf_counter())
    assert answer.abstained and answer.text == NOT_FOUND and answer.closest and not answer.citations


def test_the_span_is_cited_inside_its_sentence_with_exact_document_offsets(searcher: Searcher) -> None:
    """The cited sentence holds the span; both slice the document's text exactly, harakat included."""
    response = _response(searcher, "من قدّر عدد القتلى؟")
    judged = _judged(response, ScriptedReader({"المرصدُ": (0.8, "المرصدُ")}))
    answer = present(response, decide_by_reader(judged, 0.5, quantity=False), searcher.index.documents,
                     time.perf_counter())
    assert not answer.abstained and answer.confidence == 0.8
    span, cited = answer.span, answer.citations[0]
    assert span is not None and span.n == cited.n and span.text == "المرصدُ"
    document = searcher.index.documents[cited.chunk.doc_id].text
    assert document[span.start : span.end] == span.text
    assert cited.start <= span.start < span.end <= cited.end
    assert document[cited.start : cited.end] == cited.text == "قدّر المرصدُ عددَ القتلى في الحرب بنحو 500 ألف شخص."


def test_answering_passages_with_different_figures_are_shown_side_by_side(searcher: Searcher) -> None:
    """A quantity question, two passages above the bar giving 300 and 500 thousand: both cited, best first."""
    response = _response(searcher, "كم عدد القتلى في الحرب؟")
    reader = ScriptedReader({"500 ألف": (0.9, "500 ألف"), "300 ألف": (0.7, "300 ألف")})
    decision = decide_by_reader(_judged(response, reader), 0.5, quantity=True)
    answer = present(response, decision, searcher.index.documents, time.perf_counter())
    assert answer.segments[0].text == DIFFERING_FIGURES
    assert [c.chunk.doc_id for c in answer.citations] == ["toll-b", "toll-a"]
    assert answer.span is not None and answer.span.text == "500 ألف" and answer.span.n == 1


def test_one_answering_passage_is_one_answer_even_for_a_quantity(searcher: Searcher) -> None:
    """The other figure's passage is under the bar: it is not offered as a competing figure."""
    response = _response(searcher, "كم عدد القتلى في الحرب؟")
    reader = ScriptedReader({"500 ألف": (0.9, "500 ألف"), "300 ألف": (0.2, "300 ألف")})
    answer = present(response, decide_by_reader(_judged(response, reader), 0.5, quantity=True),
                     searcher.index.documents, time.perf_counter())
    assert answer.segments[0].text != DIFFERING_FIGURES and len(answer.citations) == 1


def test_no_readings_abstain_at_zero() -> None:
    """Nothing read (no results): abstain at confidence 0."""
    decision = decide_by_reader((), 0.5, quantity=False)
    assert decision.abstained and decision.confidence == 0.0
