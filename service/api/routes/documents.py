from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from indexer.changes import UnknownDocumentError
from indexer.read import DOC_ID_PATTERN, doc_id_problem
from indexer.types import RawDocument
from service.api.auth import require_writer
from service.api.deps import StateDep
from service.api.errors import NOT_FOUND, WRITE_RESPONSES
from service.api.routes.admin import LiveDep
from service.api.schemas import DocumentOut, check_unicode
from service.titles import shown_title

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


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: DocId
    text: str = Field(description="the article; its first short line may become the title when none is given")
    title: str | None = None
    published: date | None = Field(default=None, description="YYYY-MM-DD")
    source: str | None = None

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        check_unicode(value, "text")
        value = value.replace("\x00", "")  # as the folder reader does
        if not value.strip():
            raise ValueError("text must not be empty or only whitespace")
        return value

    @field_validator("title", "source")
    @classmethod
    def _unicode(cls, value: str | None, info: ValidationInfo) -> str | None:
        return value if value is None else check_unicode(value, str(info.field_name))


class IngestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

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
def get_document(doc_id: DocIdPath, state: StateDep) -> DocumentOut:
    document = state.index.documents.get(doc_id)
    if document is None:
        raise HTTPException(status_code=404, detail=f"no document with doc_id {doc_id!r}")
    title, derived = shown_title(document.title, {doc_id: document}, doc_id)
    return DocumentOut(doc_id=document.doc_id, title=title, title_derived=derived, published=document.published,
                       source=document.source, text=document.text)


@router.post("/documents", response_model=WriteOut, dependencies=[Depends(require_writer)],
             responses=WRITE_RESPONSES)
def add_documents(body: IngestRequest, live: LiveDep) -> WriteOut:
    """Add or replace articles: embeds only these, writes the index atomically, then serves it."""
    raws = [RawDocument(doc_id=d.id, text=d.text, path=f"api:{d.id}", title=d.title,
                        published=d.published.isoformat() if d.published else None, source=d.source)
            for d in body.documents]
    try:
        report = live.write(add=raws)
    except ValueError as exc:  # e.g. text that is only page furniture, nothing left to index
        raise RequestValidationError([{"loc": ("body", "documents"), "msg": str(exc), "type": "value_error"}]) from exc
    return WriteOut(changed=[r.doc_id for r in raws], documents=report.documents, chunks=report.chunks,
                    embedded_chunks=report.embedded_chunks)


@router.delete("/documents/{doc_id:path}", response_model=WriteOut, dependencies=[Depends(require_writer)],
               responses={**WRITE_RESPONSES, **NOT_FOUND})
def delete_document(doc_id: DocIdPath, live: LiveDep) -> WriteOut:
    try:
        report = live.write(delete=[doc_id])
    except UnknownDocumentError as exc:
        raise HTTPException(status_code=404, detail=f"no document with doc_id {doc_id!r}") from exc
    return WriteOut(changed=[doc_id], documents=report.documents, chunks=report.chunks,
                    embedded_chunks=report.embedded_chunks)
