"""The shipped reader refuses what the archive does not hold (issue 28), on the reading data's dev split (which
chose the reader's epoch, calibration and bars, so these are tuned-on figures, asserted as properties):

- a news article's passage where the answer stood, with the answer's sentence removed, gets a low probability,
  below that of the same passage intact;
- AQAD's unanswerable questions (SQuAD 2.0's adversarial ones), asked of an archive of their own paragraphs
  through the whole `/ask` component (retrieval, reader, judge, trust bar), are not answered.
The questions are the first of `dev_sample`'s fixed order, not picked by hand.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from isnad.eval.reader_train.data import (
    answer_removed_text,
    build_chunks,
    dev_sample,
    load_questions,
    load_unanswerable,
)
from isnad.indexer.embed import Embedder
from isnad.indexer.pipeline import make_builder
from isnad.indexer.reader.runtime import OnnxReader
from isnad.indexer.types import RawDocument
from isnad.service.ask.answerer import Answerer
from isnad.service.ask.judge import judge_beside
from isnad.service.state import open_searcher
from tests.conftest import SHARED_EVAL

READING = SHARED_EVAL / "reading"


@pytest.fixture(scope="module")
def reader() -> OnnxReader:
    return OnnxReader()


def _chunk_at(text: str, at: int) -> str:
    chunks = build_chunks(text)
    s, e = next(((s, e) for s, e in chunks if s <= at < e), chunks[-1])
    return text[s:e]


def test_a_passage_without_its_answer_sentence_gets_a_low_probability(reader: OnnxReader) -> None:
    questions = dev_sample(load_questions(READING, frozenset({"aser"}))[0], 20)
    pairs = []
    for q in questions:
        removed = answer_removed_text(q.paragraph, q.answer, q.answers)
        if removed is None:
            continue
        intact = _chunk_at(q.paragraph, q.answer[0])
        # where the answer stood: the chunk of the shortened article at the cut
        cut = next(s for s, e in build_chunks(q.paragraph) if s <= q.answer[0] < e)
        gone = _chunk_at(removed, min(cut, len(removed) - 1))
        p_intact, p_gone = (reader.read(q.question, [text])[0].probability for text in (intact, gone))
        pairs.append((q.qid, p_intact, p_gone))
    assert len(pairs) >= 15
    for qid, p_intact, p_gone in pairs:
        assert p_gone < 0.5 and p_gone < p_intact, (qid, p_intact, p_gone)


def test_aqads_unanswerable_questions_are_not_answered(tmp_path: Path, embedder: Embedder, reader: OnnxReader) -> None:
    unanswerable = dev_sample(load_unanswerable(READING), 10)
    paragraphs = {u.paragraph: f"aqad{n:02d}" for n, u in enumerate(unanswerable)}
    docs = [RawDocument(doc_id, text, f"aqad#{doc_id}", "AQAD") for text, doc_id in paragraphs.items()]
    make_builder(embedder, progress=False).run(docs, tmp_path / "index")
    answerer = Answerer(open_searcher(tmp_path / "index", embedder), reader=reader, judge=judge_beside(reader))
    assert answerer.judge is not None  # the shipped judge and its trust bars decide, as /ask does
    answered = [(u.question, a.confidence) for u in unanswerable if not (a := answerer.ask(u.question)).abstained]
    assert not answered, answered
