"""Decide: answer (which sentences, which span), give differing figures side by side, or abstain.

With a reader: the passage the judge (the reader plus the cited sentence's evidence) finds most likely to
answer decides; below the judge's calibrated bar for the question's language the service abstains. Its span
is the answer span and the sentence holding it is cited. Without a reader (the fallback): the scored sentences
and the answerability model, as before the reader.
"""

from __future__ import annotations

from dataclasses import dataclass

from isnad.indexer.types import Chunk
from isnad.service.ask.answer_types import find_span
from isnad.service.ask.answerability import AnswerabilityModel, Evidence
from isnad.service.ask.judge import JudgedPassage
from isnad.service.ask.passages import Passages, Sentence


@dataclass(frozen=True)
class Decision:
    abstained: bool
    confidence: float | None = None
    sentences: tuple[Sentence, ...] = ()  # what to cite, in order
    differing: bool = False  # the sentences give different figures for the asked quantity
    span: tuple[Chunk, int, int] | None = None  # the answer's document offsets, inside the first sentence's chunk
    sure: bool = False  # at or above the judge's sure bar (never without a reader and a judge that has one)


def abstain(confidence: float | None) -> Decision:
    return Decision(True, confidence)


def decide_by_reader(judged: tuple[JudgedPassage, ...], threshold: float, quantity: bool,
                     sure_bar: float | None = None) -> Decision:
    """`judged` best first. Differing figures: answering passages whose spans' sentences state other figures.
    `sure_bar`: an answer whose confidence reaches it is sure (None: none is)."""
    if not judged or judged[0].probability < threshold:
        return abstain(round(judged[0].probability, 4) if judged else 0.0)
    best = judged[0]
    sentence, span = best.sentence, best.span
    confidence = round(best.probability, 4)
    sure = sure_bar is not None and confidence >= sure_bar
    if quantity and sentence.figure is not None:
        picked, seen = [sentence], {sentence.figure}
        for other in judged[1:]:
            if other.probability < threshold:
                break
            figure = other.sentence.figure
            if figure is not None and figure not in seen:
                seen.add(figure)
                picked.append(other.sentence)
        if len(picked) > 1:
            return Decision(False, confidence, tuple(picked[:3]), True, span, sure)
    return Decision(False, confidence, (sentence,), False, span, sure)


def decide_by_sentences(passages: Passages, best: Sentence, chosen: list[Sentence], differing: bool,
                        model: AnswerabilityModel | None, weak_dense: bool) -> Decision:
    """The fallback (no reader): the answerability model (or, without one, the cosine bar) on the best sentence."""
    confidence = None
    if model is not None:
        score, answerable = model.score(Evidence.of(passages, best))
        confidence = round(score, 4)
        if not answerable:
            return abstain(confidence)
    elif weak_dense:
        return abstain(None)
    span = None
    if not differing:
        first, question = chosen[0], passages.question
        found = find_span(question.kind, first.text, question.query, question.query_numbers)
        if found is not None:
            span = (first.chunk, first.start + found[0], first.start + found[1])
    return Decision(False, confidence, tuple(chosen), differing, span)
