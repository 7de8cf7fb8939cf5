"""`/ask` as one component: the corpus' own sentences, each cited to its exact span.

`Answerer.ask` runs the stages of `service/ask/`: retrieve (the searcher; the question analysed once,
`question.py`, and each top passage split once, `passages.py`) → gate (the answerability model, one call) →
read (the `Reader` seam, `reader.py`, and the judge, `judge.py`) → decide (`decide.py`: answer, differing
figures side by side, or abstain) → present (`present.py`: citations, segments, `answer_span`, `certainty`).
Without a reader (no file, or a damaged one) the fallback scores sentences by the question's terms and answer
type and lets the answerability model decide, as before.
"""

from __future__ import annotations

import logging
import time

from isnad.indexer.types import SearchFilters
from isnad.service.ask.answer_types import AnswerType
from isnad.service.ask.answerability import AnswerabilityModel, Evidence
from isnad.service.ask.decide import Decision, abstain, decide_by_reader, decide_by_sentences
from isnad.service.ask.judge import Judge, JudgedPassage, judge
from isnad.service.ask.passages import Passages, choose
from isnad.service.ask.present import answer_string, escape_brackets, present
from isnad.service.ask.question import Question
from isnad.service.ask.reader import Reader, read
from isnad.service.ask.result import (
    CERTAINTIES,
    DIFFERING_FIGURES,
    NOT_FOUND,
    Answer,
    AnswerSpan,
    Certainty,
    Citation,
    Segment,
)
from isnad.service.search import Searcher, SearchResponse

__all__ = ["CERTAINTIES", "DIFFERING_FIGURES", "NOT_FOUND", "Answer", "AnswerSpan", "Answerer", "Certainty",
           "Citation", "Segment", "answer_string", "escape_brackets"]
log = logging.getLogger(__name__)
LANGS = ("ar", "en")  # what query analysis tells apart
READ_PASSAGES = 3  # passages the reader reads per question: its cost grows with each (bench: /ask latency)


class Answerer:
    """Answers from the reader when one is given; otherwise chooses sentences and lets the answerability model
    decide. Either way it abstains when a named round is absent from the archive.

    `model`: True loads the bundled answerability model trained for the embedder (service/data/answerability/),
    False uses none. Without one, the old rule applies: `min_dense` is per question language (an English
    question sits further from Arabic text in the embedding space). Both were picked on the development set only.
    """

    def __init__(self, searcher: Searcher, min_dense: dict[str, float] | None = None, max_sentences: int = 3,
                 passages: int = 4, model: AnswerabilityModel | bool | None = True, runner_up: float = 0.8,
                 max_chars: int = 400, reader: Reader | None = None, read_passages: int = READ_PASSAGES,
                 judge: Judge | None = None) -> None:
        if not 1 <= max_sentences <= 3:
            raise ValueError("max_sentences must be 1, 2 or 3")
        if passages < 1 or read_passages < 1:
            raise ValueError("passages and read_passages must be at least 1")
        self.searcher = searcher
        self.min_dense = min_dense or {"ar": 0.80, "en": 0.72}
        self.max_sentences = max_sentences
        self.passages = passages
        # The best sentence, plus runners-up scoring >= runner_up x its score while the answer stays within
        # max_chars. Chosen on the XQuAD training split (every third question): one sentence only put the gold
        # answer in 73% (ar) / 45% (en) of answers at a median 160 chars; (3, 0.8, 400) 80% / 56% at 196 / 217.
        self.runner_up, self.max_chars = runner_up, max_chars
        self.reader, self.read_passages = reader, read_passages
        # the judge fitted for the reader (judge.load_judge_for); without one the reader's own probability decides
        self.judge = judge
        self.model = AnswerabilityModel.load(searcher.embedder.model_id) if model is True else (model or None)

    def ask(self, question: str, k: int = 5, filters: SearchFilters | None = None,
            min_confidence: float | None = None) -> Answer:
        """`min_confidence`: the caller's own bar above the service's (a stricter "not found"); an answer whose
        confidence is under it, or unknown, abstains with the closest passages apart."""
        started = time.perf_counter()
        return self.answer(self.searcher.search(question, k, filters), started, min_confidence)

    def answer(self, response: SearchResponse, started: float, min_confidence: float | None = None) -> Answer:
        """The answer to a search response (split from `ask` so the evaluation can replay responses)."""
        decision = self.decide(response)
        if min_confidence is not None and not decision.abstained and \
                (decision.confidence is None or decision.confidence < min_confidence):
            decision = abstain(decision.confidence)
        return present(response, decision, self.searcher.index.documents, started)

    def decide(self, response: SearchResponse) -> Decision:
        """Retrieved → read → decided: the question analysed once and each passage split once, for every stage."""
        if self._rule_abstains(response):
            return abstain(0.0 if self.reader is not None or self.model else None)
        passages = self._passages(response)
        if self.reader is None:
            return self._fallback(passages)
        gate = self._gate(passages)
        if gate.abstained:
            return gate
        question = passages.question
        judged = self._judged(passages, gate.confidence, may_stop_early=not question.quantity)
        bar, sure_bar = self._bars(question.lang)
        return decide_by_reader(judged, bar, question.quantity, sure_bar)

    @property
    def judge(self) -> Judge | None:
        return self._judge

    @judge.setter
    def judge(self, judge: Judge | None) -> None:
        """Its bars are looked up once per language here (the judge's fit sets None on a built answerer)."""
        self._judge = judge
        self._judge_bars = {} if judge is None else {
            lang: (judge.threshold(lang), judge.sure_threshold(lang)) for lang in LANGS}

    def _bars(self, lang: str) -> tuple[float, float | None]:
        """(the answer bar, the sure bar or None) for a question language."""
        if self._judge is None:
            return self.reader.threshold if self.reader is not None else 1.0, None
        return self._judge_bars.get(lang) or (self._judge.threshold(lang), self._judge.sure_threshold(lang))

    def _gate(self, passages: Passages) -> Decision:
        """The topic gate, one call: the answerability model (retrieval evidence and the best-scored sentence;
        issue 9: 1.5% / 0.8% of off-archive questions answered) abstains when the archive does not cover the
        question at all (the reader never saw enough off-topic passages to refuse them itself). Its confidence
        is one of the judge's features; without the model there is no gate (None)."""
        if self.model is None:
            return Decision(False, None)
        score, answerable = self.model.score(Evidence.of(passages, passages.ranked[0]))
        return Decision(not answerable, round(score, 4))

    def _fallback(self, passages: Passages) -> Decision:
        """Without a reader: the scored sentences chosen, the answerability model (or the cosine bar) decides."""
        sentences = passages.ranked
        chosen, differing = choose(sentences, passages.question.quantity, self.max_sentences, self.runner_up,
                                   self.max_chars)
        return decide_by_sentences(passages, sentences[0], chosen, differing, self.model,
                                   self._weak_dense(passages.response))

    def screen(self, response: SearchResponse) -> tuple[Decision, AnswerType, bool]:
        """What `decide` does before reading (the judge's fit replays it): with a reader the topic gate, without
        one the fallback's decision; the answer type asked; and whether that decision is final (a rule or the
        answerability model abstains)."""
        if self._rule_abstains(response):
            return abstain(0.0 if self.reader is not None or self.model else None), "other", True
        passages = self._passages(response)
        decision = self._gate(passages) if self.reader is not None else self._fallback(passages)
        return decision, passages.question.kind, decision.abstained and self.model is not None

    def judged(self, response: SearchResponse, kind: AnswerType, topic: float | None,
               may_stop_early: bool = False) -> tuple[JudgedPassage, ...]:
        """The read passages with the sentences they would cite, best first (the judge's fit replays these;
        `kind` is the question's own, kept for its callers)."""
        return self._judged(self._passages(response), topic, may_stop_early)

    def _judged(self, passages: Passages, topic: float | None, may_stop_early: bool) -> tuple[JudgedPassage, ...]:
        """`may_stop_early`: the top passage is read alone first, and when the judge finds it at least as likely as
        its `early_exit` bar (chosen on dev so that no dev decision changes) the others are not read: a third
        of the reading for a confident answer. Quantity questions read every passage (differing figures)."""
        if self.reader is None:
            raise ValueError("judged() needs a reader")
        response = passages.response
        stop = self.judge.early_exit if self.judge is not None and may_stop_early else None
        if stop is None or self.read_passages == 1:
            return judge(read(response, self.reader, self.read_passages), passages, topic, self.judge)
        first = judge(read(response, self.reader, 1), passages, topic, self.judge)
        if first and first[0].probability >= stop:
            return first
        rest = judge(read(response, self.reader, self.read_passages, skip=1), passages, topic, self.judge)
        return tuple(sorted(first + rest, key=lambda j: (-j.probability, j.passage.result.rank)))

    def evidence(self, response: SearchResponse) -> tuple[Evidence, tuple[Citation, ...], bool] | None:
        """The fallback's chosen sentences, cited, and what the answerability model reads (its calibration
        replays these); None when a rule abstains."""
        if self._rule_abstains(response):
            return None
        passages = self._passages(response)
        sentences = passages.ranked
        chosen, differing = choose(sentences, passages.question.quantity, self.max_sentences, self.runner_up,
                                   self.max_chars)
        documents = self.searcher.index.documents
        citations = tuple(Citation(n=i + 1, chunk=s.chunk, start=s.start, end=s.end,
                                   text=documents[s.chunk.doc_id].text[s.start : s.end])
                          for i, s in enumerate(chosen))
        return Evidence.of(passages, sentences[0]), citations, differing

    def _passages(self, response: SearchResponse) -> Passages:
        """The question analysed once and the passages every stage reads (those read, those the gate scores)."""
        return Passages.of(response, Question.of(response), self.read_passages if self.reader is not None else 0,
                            self.passages)

    def _rule_abstains(self, response: SearchResponse) -> bool:
        if not response.results:
            return True
        analyzed = response.analyzed
        # the question is about a round no article mentions
        return (analyzed is not None and analyzed.round is not None
                and analyzed.round not in self.searcher.index.known_rounds())

    def _weak_dense(self, response: SearchResponse) -> bool:
        """The fallback rule when no answerability model fits the embedder: one cosine bar per language."""
        lang = response.analyzed.lang if response.analyzed is not None else "ar"
        return response.best_dense is not None and response.best_dense < self.min_dense.get(lang, 0.75)

