from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Annotated, Self
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, Field, ValidationInfo, field_validator, model_validator

from isnad.indexer.changes import UnknownDocumentError
from isnad.indexer.read import DOC_ID_PATTERN, doc_id_problem
from isnad.indexer.skipped import Skipped
from isnad.indexer.types import RawDocument
from isnad.service.api import scoped
from isnad.service.api.auth import request_grant, require_writer
from isnad.service.api.errors import NOT_FOUND, WRITE_RESPONSES, LimitExceeded, error_json
from isnad.service.api.routes.jobs import JobOut, accepted, await_job, submit
from isnad.service.api.schemas import DocumentOut, StrictModel, check_unicode
from isnad.service.live import LiveIndex
from isnad.service.settings import Settings
from isnad.service.state import ServiceState
from isnad.service.writes import Job

router = APIRouter(tags=["documents"])
MAX_DOCS_PER_REQUEST = 1000


def _no_dotdot(value: str) -> str:
    """The folder reader's rule too (indexer/read.py): no '..', no invisible or look-alike characters."""
    problem = doc_id_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


# `:path` in the routes lets "a/b" and "../x" reach this check (422) instead of missing the route (404).
DocIdPath = Annotated[str, Path(pattern=DOC_ID_PATTERN.pattern, max_length=200,
                                description="letters, digits, _ . - (no '/', no '..')"),
                      AfterValidator(_no_dotdot)]
DocId = Annotated[str, Field(pattern=DOC_ID_PATTERN.pattern, max_length=200), AfterValidator(_no_dotdot)]


class DocumentIn(StrictModel):
    id: DocId
    text: str | None = Field(default=None, description="the article (or send `html`); its first short line may "
                                                       "become the title when none is given")
    html: str | None = Field(default=None, description="a saved web page instead of `text`: its article, "
                                                       "headline, date, site and canonical URL are extracted")
    url: str | None = Field(default=None, max_length=2000, description="the original page (http/https)")
    title: str | None = None
    published: date | None = Field(default=None, description="YYYY-MM-DD")
    source: str | None = Field(default=None, max_length=2000)
    site: str | None = Field(default=None, max_length=500)
    author: str | None = Field(default=None, max_length=500)
    lang: str | None = Field(default=None, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$",
                             description="ISO 639 language code")

    @field_validator("text", "html")
    @classmethod
    def _text(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        check_unicode(value, str(info.field_name))
        value = value.replace("\x00", "")  # as the folder reader does
        if not value.strip():
            raise ValueError(f"{info.field_name} must not be empty or only whitespace")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme.lower() not in ("http", "https"):
            raise ValueError("url must be an http or https URL")
        return value

    # Before the core's own checks: a length limit on a str would fail first with a raw codec message
    @field_validator("title", "source", "site", "author", "url", mode="before")
    @classmethod
    def _unicode(cls, value: object, info: ValidationInfo) -> object:
        return check_unicode(value, str(info.field_name)) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _text_or_html(self) -> Self:
        if (self.text is None) == (self.html is None):
            raise ValueError("send the article as exactly one of `text` or `html`")
        return self

    def raw(self) -> RawDocument:
        """The document as the builder takes it. For a page, the fields sent win over the extracted ones, but
        for the URL: a page's own canonical URL names the article better than the address it was saved from."""
        sent = {"title": self.title, "published": self.published.isoformat() if self.published else None,
                "source": self.source, "url": self.url, "site": self.site, "author": self.author, "lang": self.lang}
        if self.html is None:
            return RawDocument(doc_id=self.id, text=self.text or "", path=f"api:{self.id}", **sent)
        from isnad.indexer.read_web import read_page  # the web libraries load on the first page, not at start

        page = read_page(self.html.encode("utf-8"), f"api:{self.id}", url=self.url, http_charset="utf-8")
        if isinstance(page, Skipped):
            raise ValueError(f"document {self.id!r}: {page.reason}")
        sent["url"] = page.url or self.url
        return replace(page, doc_id=self.id, **{k: v for k, v in sent.items() if v is not None})


class IngestRequest(StrictModel):
    documents: list[DocumentIn] = Field(min_length=1, max_length=MAX_DOCS_PER_REQUEST)

    @field_validator("documents")
    @classmethod
    def _unique(cls, value: list[DocumentIn]) -> list[DocumentIn]:
        ids = [d.id for d in value]
        if len(set(ids)) != len(ids):
            raise ValueError("document ids must be unique within one request")
        return value


class WriteOut(BaseModel):
    changed: list[str]
    documents: int
    chunks: int
    embedded_chunks: int


@router.get("/documents/{doc_id:path}", response_model=DocumentOut, responses=NOT_FOUND)
def get_document(doc_id: DocIdPath, request: Request) -> DocumentOut:
    """A document of the default collection."""
    reg, grant = scoped.registry(request), request_grant(request)
    if not grant.holds(reg.default):  # as if it were missing: the same 404
        raise HTTPException(status_code=404, detail=f"no document with doc_id {doc_id!r}")
    return document_out(reg.state(reg.default), doc_id, reg.default)


def document_out(state: ServiceState, doc_id: str, collection: str) -> DocumentOut:
    document = state.index.documents.get(doc_id)
    if document is None:
        raise HTTPException(status_code=404, detail=f"no document with doc_id {doc_id!r}")
    return DocumentOut.from_document(document, collection)


ACCEPTED: dict[int | str, dict[str, object]] = {
    202: {"model": JobOut, "description": "a large write (or `Prefer: respond-async`) runs as a job: poll Location"},
}
GONE = "the client disconnected; the write was dropped if it had not started"


def _check_limits(body: IngestRequest, settings: Settings) -> None:
    for i, d in enumerate(body.documents):
        if d.text is not None and len(d.text) > settings.max_document_chars:
            raise LimitExceeded(f"document {d.id!r} is {len(d.text)} characters; the limit is "
                                f"{settings.max_document_chars} (max_document_chars): split it, or index large "
                                f"corpora with `isnad index`")
        if d.title is not None and len(d.title) > settings.max_title_chars:
            raise RequestValidationError([{"loc": ("body", "documents", i, "title"), "type": "value_error",
                                           "msg": f"title is {len(d.title)} characters; the limit is "
                                                  f"{settings.max_title_chars} (max_title_chars)"}])


def _add_job(live: LiveIndex, raws: list[RawDocument], settings: Settings) -> Job:
    def run(job: Job) -> WriteOut:
        total = live.count_chunks(raws)
        if total > settings.max_chunks_per_request:
            raise LimitExceeded(f"these documents make {total} chunks; the limit is {settings.max_chunks_per_request}"
                                f" per request (max_chunks_per_request): send fewer documents per request")
        job.total_chunks = total
        report = live.write(add=raws, job=job)
        return WriteOut(changed=[r.doc_id for r in raws], documents=report.documents, chunks=report.chunks,
                        embedded_chunks=report.embedded_chunks)

    return Job("add", run, documents=len(raws))


@router.post("/documents", response_model=WriteOut, dependencies=[Depends(require_writer)],
             responses={**WRITE_RESPONSES, **ACCEPTED})
async def add_documents(body: IngestRequest, request: Request) -> WriteOut | JSONResponse:
    """Add or replace articles of the default collection: embeds only these, writes the index atomically,
    then serves it.

    Writes run one at a time behind a bounded queue (503 + Retry-After when it is full). Large writes answer
    202 with a job to poll at `GET /jobs/{id}` (progress, result) and to cancel with `DELETE /jobs/{id}`.
    """
    return await add(body, request, scoped.default_live(request))


async def add(body: IngestRequest, request: Request, live: LiveIndex) -> WriteOut | JSONResponse:
    settings: Settings = request.app.state.settings
    _check_limits(body, settings)
    try:
        # Extracting a page takes a fraction of a second: off the event loop
        raws = await run_in_threadpool(lambda: [d.raw() for d in body.documents])
    except ValueError as exc:  # a page with no article
        raise RequestValidationError([{"loc": ("body", "documents"), "msg": str(exc), "type": "value_error"}]) from exc
    for raw in raws:
        if len(raw.text) > settings.max_document_chars:
            raise LimitExceeded(f"document {raw.doc_id!r} is {len(raw.text)} characters; the limit is "
                                f"{settings.max_document_chars} (max_document_chars): split it, or index large "
                                f"corpora with `isnad index`")
    job = submit(request, _add_job(live, raws, settings), scoped.noted(request))
    chars = sum(len(r.text) for r in raws)
    if chars > settings.sync_write_max_chars or "respond-async" in request.headers.get("prefer", ""):
        return accepted(job)
    try:
        result: WriteOut | None = await await_job(request, job)
    except ValueError as exc:  # e.g. text that is only page furniture, nothing left to index
        raise RequestValidationError([{"loc": ("body", "documents"), "msg": str(exc), "type": "value_error"}]) from exc
    return result if result is not None else error_json(503, GONE)


@router.delete("/documents/{doc_id:path}", response_model=WriteOut, dependencies=[Depends(require_writer)],
               responses={**WRITE_RESPONSES, **NOT_FOUND})
async def delete_document(doc_id: DocIdPath, request: Request) -> WriteOut | JSONResponse:
    """Delete a document of the default collection."""
    return await delete(doc_id, request, scoped.default_live(request))


async def delete(doc_id: str, request: Request, live: LiveIndex) -> WriteOut | JSONResponse:
    def run(job: Job) -> WriteOut:
        report = live.write(delete=[doc_id], job=job)
        return WriteOut(changed=[doc_id], documents=report.documents, chunks=report.chunks,
                        embedded_chunks=report.embedded_chunks)

    try:
        job = submit(request, Job("delete", run, documents=1), scoped.noted(request))
        result: WriteOut | None = await await_job(request, job)
    except UnknownDocumentError as exc:
        raise HTTPException(status_code=404, detail=f"no document with doc_id {doc_id!r}") from exc
    return result if result is not None else error_json(503, GONE)
