"""What `/ask` returns, before the API's schemas: the answer, its citations, segments and span."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from isnad.indexer.types import Chunk

NOT_FOUND = "Not found in the corpus. / لم يُعثر على إجابة في المدونة."
DIFFERING_FIGURES = "Sources give different figures / المصادر تذكر أرقاماً مختلفة:"
# How sure an answer is, for a client to branch on: "sure" at or above the judge's sure bar (chosen on dev where
# >= 95% of answers are right), "possible" between the answer bar and it (or whenever no sure bar exists: the
# fallback, a reader without a judge, an older judge file), "not_found" when the service abstains.
Certainty = Literal["sure", "possible", "not_found"]
CERTAINTIES: tuple[Certainty, ...] = ("sure", "possible", "not_found")


@dataclass(frozen=True)
class Citation:
    n: int
    chunk: Chunk
    start: int  # offsets into the document's canonical text
    end: int
    text: str
    copies: tuple[Chunk, ...] = ()  # the same passage in other documents: other sources, not confirmations


@dataclass(frozen=True)
class Segment:
    """A run of answer text; `n` is set when the service's citation [n] backs it (its marker follows it)."""

    text: str
    n: int | None = None


@dataclass(frozen=True)
class AnswerSpan:
    n: int  # the citation it lies in
    start: int  # offsets into the document's canonical text
    end: int
    text: str


@dataclass(frozen=True)
class Answer:
    question: str
    text: str  # the segments as one string, see `answer_string`
    abstained: bool
    citations: tuple[Citation, ...]
    took_ms: float
    confidence: float | None = None  # 0-1: the reader's calibrated probability (or the answerability model's)
    span: AnswerSpan | None = None
    closest: tuple[Citation, ...] = ()  # on abstention: the nearest passages, which do not answer
    segments: tuple[Segment, ...] = ()  # what clients render; `text` is answer_string(segments)
    certainty: Certainty = "possible"
