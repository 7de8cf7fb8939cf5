"""One question followed through `/ask` (issue 28, item 5): how many stops it makes in the ask component, which
modules it enters twice, and how often each tokenizer runs on one text (`stops.py` says how each is counted).
Real model, reader and judge on the sample index; the reader is called in this thread (not on the embedder's
owner thread) so that the profiler sees it."""

from __future__ import annotations

from pathlib import Path

import pytest

from isnad.indexer.embed import Embedder
from isnad.indexer.index import Index
from isnad.indexer.reader.runtime import OnnxReader
from isnad.service.ask.answerer import Answerer
from isnad.service.ask.judge import judge_beside
from isnad.service.search import Searcher
from tests.service.ask.stops import ASK_MODULES, READER, _in, trace

# Written for this test (not the dev questions): answered, not found, a quantity, English over Arabic.
QUESTIONS = ("متى انعقدت الجولة الثامنة من مفاوضات أستانا؟", "كم عدد القتلى في الغوطة الشرقية؟",
             "كم عدد مناطق خفض التصعيد؟", "What did the fourth round of the Astana talks agree on?")
# The one logistic class serves the judge and the topic gate; the reader's runtime is entered by the read
# stage and, for its one sigmoid, by that class.
SHARED = {"isnad.service.ask.logistic", READER}


@pytest.fixture(scope="module")
def answerer(sample_index: Path, embedder: Embedder) -> Answerer:
    reader = OnnxReader()
    answerer = Answerer(Searcher(Index.load(sample_index), embedder), reader=reader, judge=judge_beside(reader))
    answerer.ask("ما هي الدول الضامنة لاتفاق خفض التصعيد؟")  # first-use costs out of the way
    return answerer


@pytest.mark.parametrize("question", QUESTIONS)
def test_one_question_makes_few_stops_and_tokenizes_each_text_once(answerer: Answerer, question: str) -> None:
    answer, found = trace(lambda: answerer.ask(question), reader_as_one=True)
    assert answer.certainty in ("sure", "possible", "not_found")
    assert len(found.stops) <= 13, sorted(found.stops)
    twice = {m for m, n in found.entries().items() if n > 1}
    assert twice <= SHARED, {m: sorted(s for s in found.stops if s[2] == m) for m in twice - SHARED}
    # within the ask component each tokenizer runs once per text (retrieval's own runs are retrieval's)
    for (tokenizer, text), callers in found.run_callers.items():
        mine = [c for c in callers if _in(c, ASK_MODULES)]
        assert len(mine) <= 1, (tokenizer, text, mine)
