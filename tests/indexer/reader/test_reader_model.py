"""The shipped reader, on the real model through onnxruntime: it finds the answer span, and a passage with its
answer sentence removed gets a low answer probability. The passages are written for this test (news-style
Arabic, with harakat), not taken from any training or evaluation set."""

from __future__ import annotations

import pytest

from isnad.indexer.reader.runtime import OnnxReader

INTACT = ("انعقدت الجولةُ الثامنة من مفاوضات أستانا يومي 21 و22 ديسمبر 2017 في العاصمة الكازاخية. "
          "وشاركت فيها وفود روسيا وتركيا وإيران إلى جانب وفدي الحكومة والمعارضة.")
REMOVED = "وشاركت فيها وفود روسيا وتركيا وإيران إلى جانب وفدي الحكومة والمعارضة."
QUESTIONS = {"ar": "متى انعقدت الجولة الثامنة من مفاوضات أستانا؟",
             "en": "When was the eighth round of the Astana negotiations held?"}


@pytest.fixture(scope="module")
def reader() -> OnnxReader:
    return OnnxReader()


@pytest.mark.parametrize("lang", sorted(QUESTIONS))
def test_the_span_is_the_date_and_slices_the_passage_exactly(reader: OnnxReader, lang: str) -> None:
    """The best span holds the dates, its offsets slice the passage (harakat and all), and it answers."""
    (reading,) = reader.read(QUESTIONS[lang], [INTACT])
    span = INTACT[reading.start : reading.end]
    assert "21" in span and "22" in span, span
    assert reading.end - reading.start < 60
    assert reading.probability >= reader.threshold


@pytest.mark.parametrize("lang", sorted(QUESTIONS))
def test_the_passage_without_its_answer_sentence_scores_low(reader: OnnxReader, lang: str) -> None:
    """Same topic and names, the date gone: below the bar, and far below the intact passage."""
    intact, removed = reader.read(QUESTIONS[lang], [INTACT, REMOVED])
    assert removed.probability < reader.threshold <= intact.probability
    assert removed.probability < intact.probability / 2


def test_readings_follow_the_passages_order_and_an_empty_list_reads_nothing(reader: OnnxReader) -> None:
    """One reading per passage, in order; nothing to read, nothing returned."""
    readings = reader.read(QUESTIONS["ar"], [REMOVED, INTACT])
    assert [r.passage for r in readings] == [0, 1]
    assert readings[1].probability > readings[0].probability
    assert reader.read(QUESTIONS["ar"], []) == []
