"""Sentence and span choice on a fake embedder: the test is about which sentence answers the question's type
and about exact offsets, not about the model (the hash embedder gives every passage an arbitrary cosine)."""

from __future__ import annotations

import pytest

from isnad.indexer.index import Index
from isnad.indexer.pipeline import make_builder
from isnad.service.ask.answerer import Answerer
from isnad.service.search import Searcher
from tests.indexer.fake_embedder import HashEmbedder

# One paragraph, so one passage: the sentences differ only in what they hold, not in passage rank.
ARTICLE = ("افتتاح المطار\n"
           "أعلنت السلطات افتتاح المطار الجديد بعد سنوات من الأشغال. "
           "وجرى افتتاح المطار رسميا في 12 مارس 2019 بحضور المسؤولين. "
           "وقال مدير المطار إن الافتتاح يفتح صفحة جديدة للسفر.\n")


@pytest.fixture(scope="module")
def answerer(tmp_path_factory: pytest.TempPathFactory) -> Answerer:
    corpus = tmp_path_factory.mktemp("focus-corpus")
    (corpus / "airport.txt").write_text(ARTICLE, encoding="utf-8")
    folder = tmp_path_factory.mktemp("focus-index") / "index"
    embedder = HashEmbedder()
    make_builder(embedder, progress=False).run(corpus, folder)
    searcher = Searcher(Index.load(folder), embedder)
    # no answerability model for the fake embedder; a cosine bar below any hash cosine lets every question in
    return Answerer(searcher, min_dense={"ar": -1.0, "en": -1.0}, model=False, max_sentences=1)


def test_when_question_gets_the_sentence_with_the_date_and_its_span(answerer: Answerer) -> None:
    answer = answerer.ask("متى تم افتتاح المطار؟")
    assert not answer.abstained and answer.confidence is None  # no model: no confidence is invented
    # the first sentence covers the question's terms as well; only the date in the second one tells them apart
    assert "12 مارس 2019" in answer.citations[0].text
    span = answer.span
    assert span is not None and span.text == "12 مارس 2019" and span.n == answer.citations[0].n
    document = answerer.searcher.index.documents["airport"].text
    assert document[span.start : span.end] == span.text
    c = answer.citations[0]
    assert c.start <= span.start < span.end <= c.end


def test_question_without_a_wanted_type_has_no_span(answerer: Answerer) -> None:
    answer = answerer.ask("ماذا قال مدير المطار عن الافتتاح؟")
    assert not answer.abstained and answer.span is None
    assert "مدير المطار" in answer.citations[0].text


def test_abstention_returns_the_closest_passages_apart(answerer: Answerer) -> None:
    strict = Answerer(answerer.searcher, min_dense={"ar": 2.0, "en": 2.0}, model=False)
    answer = strict.ask("متى تم افتتاح مطار المدينة؟")
    assert answer.abstained and answer.citations == () and answer.span is None
    assert answer.closest and all(c.text == c.chunk.text for c in answer.closest)
