"""Request and response bodies of the HTTP API, kept apart from the internal dataclasses."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from indexer.read import DOC_ID_PATTERN
from indexer.types import SearchFilters
from service.search import MAX_K

MAX_QUERY_CHARS = 2000

K = Annotated[int, Field(ge=1, le=MAX_K, description=f"number of passages, 1..{MAX_K}")]


def _check_text(value: str, name: str) -> str:
    if not value.strip():
        raise ValueError(f"{name} must not be empty or only whitespace")
    if len(value) > MAX_QUERY_CHARS:
        raise ValueError(f"{name} is {len(value)} characters; the limit is {MAX_QUERY_CHARS}")
    return value.strip()


class Filters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    round: int | None = Field(default=None, ge=1, le=100, description="round number of the Astana talks")
    doc_id: str | None = Field(default=None, pattern=DOC_ID_PATTERN.pattern)
    published_from: date | None = Field(default=None, description="inclusive, YYYY-MM-DD")
    published_to: date | None = Field(default=None, description="inclusive, YYYY-MM-DD")

    def to_internal(self) -> SearchFilters:
        return SearchFilters(
            round=self.round,
            doc_id=self.doc_id,
            published_from=self.published_from.isoformat() if self.published_from else None,
            published_to=self.published_to.isoformat() if self.published_to else None,
        )


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(description=f"question or keywords, Arabic or English, at most {MAX_QUERY_CHARS} chars")
    k: K = 5
    filters: Filters | None = None

    @field_validator("query")
    @classmethod
    def _query(cls, value: str) -> str:
        return _check_text(value, "query")


class SearchParams(BaseModel):
    """Query parameters of GET /search."""

    model_config = ConfigDict(extra="forbid")

    q: str = Field(description=f"question or keywords, at most {MAX_QUERY_CHARS} chars")
    k: K = 5

    @field_validator("q")
    @classmethod
    def _q(cls, value: str) -> str:
        return _check_text(value, "q")


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(description=f"a question in Arabic or English, at most {MAX_QUERY_CHARS} chars")
    k: K = 5
    filters: Filters | None = None

    @field_validator("question")
    @classmethod
    def _question(cls, value: str) -> str:
        return _check_text(value, "question")


class SearchResultOut(BaseModel):
    rank: int
    doc_id: str
    chunk_id: str
    score: float
    text: str
    start: int
    end: int
    title: str | None
    published: str | None


class SearchResponseOut(BaseModel):
    query: str
    results: list[SearchResultOut]
    took_ms: float


class CitationOut(BaseModel):
    n: int
    doc_id: str
    chunk_id: str
    text: str
    start: int
    end: int
    title: str | None
    published: str | None


class AnswerSpanOut(BaseModel):
    n: int = Field(description="the citation the span lies in")
    start: int = Field(description="offset into the document's text, like every citation")
    end: int
    text: str


class ClosestOut(CitationOut):
    answers: bool = Field(default=False, description="always false: the nearest passage, which does not answer")


class AskResponseOut(BaseModel):
    question: str
    answer: str
    abstained: bool
    citations: list[CitationOut]
    took_ms: float
    confidence: float | None = Field(default=None, ge=0, le=1,
                                     description="how likely the corpus answers the question (calibrated)")
    answer_span: AnswerSpanOut | None = Field(
        default=None, description="the shortest part of a cited sentence that answers a number or date question")
    closest: list[ClosestOut] = Field(default_factory=list,
                                      description="when abstaining: the nearest passages, marked as not answering")


class DocumentOut(BaseModel):
    doc_id: str
    title: str | None
    published: str | None
    source: str | None
    text: str


class HealthOut(BaseModel):
    status: str
    documents: int
    chunks: int
    model: str

