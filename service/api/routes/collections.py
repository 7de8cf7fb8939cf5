"""The routes of a named collection: `/collections` (the key's own), and search, ask and documents in one.

A collection the key may not read answers exactly as a missing one (service/api/scoped.py).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse

from isnad.service.api import scoped
from isnad.service.api.auth import require_writer
from isnad.service.api.errors import NOT_FOUND, WRITE_RESPONSES
from isnad.service.api.routes.documents import ACCEPTED, DocIdPath, IngestRequest, WriteOut, add, delete, document_out
from isnad.service.api.schemas import (
    AskRequest,
    AskResponseOut,
    CollectionName,
    CollectionOut,
    CollectionsOut,
    DocumentOut,
    SearchParams,
    SearchRequest,
    SearchResponseOut,
)

router = APIRouter(tags=["collections"])
Name = Annotated[CollectionName, Path(description="a collection's name (GET /collections lists the key's)")]


@router.get("/collections", response_model=CollectionsOut)
def list_collections(request: Request) -> CollectionsOut:
    """The collections this key may read (and only those)."""
    reg = scoped.registry(request)
    out = []
    for name in scoped.readable(request):
        index = reg.state(name).index
        out.append(CollectionOut(name=name, default=name == reg.default, documents=len(index.documents),
                                 chunks=index.passage_count()))
    return CollectionsOut(collections=out)


def _one(name: str, body_names: list[str] | None) -> list[str]:
    if body_names is not None and body_names != [name]:
        from fastapi.exceptions import RequestValidationError

        raise RequestValidationError([{"loc": ("body", "collections"), "type": "value_error",
                                       "msg": "the path names the collection: leave `collections` out, or use "
                                              "POST /search to search several"}])
    return [name]


@router.post("/collections/{name}/search", response_model=SearchResponseOut, responses=NOT_FOUND)
def search(name: Name, body: SearchRequest, request: Request) -> SearchResponseOut:
    scoped.read_state(request, name)
    filters = body.filters.to_internal() if body.filters else None
    return scoped.search(request, _one(name, body.collections), body.query, body.k, filters)


@router.get("/collections/{name}/search", response_model=SearchResponseOut, responses=NOT_FOUND)
def search_get(name: Name, params: Annotated[SearchParams, Query()], request: Request) -> SearchResponseOut:
    scoped.read_state(request, name)
    return scoped.search(request, [name], params.q, params.k)


@router.post("/collections/{name}/ask", response_model=AskResponseOut, responses=NOT_FOUND)
def ask(name: Name, body: AskRequest, request: Request) -> AskResponseOut:
    scoped.read_state(request, name)
    filters = body.filters.to_internal() if body.filters else None
    return scoped.ask(request, _one(name, body.collections), body.question, body.k, filters, body.min_confidence)


@router.get("/collections/{name}/documents/{doc_id:path}", response_model=DocumentOut, responses=NOT_FOUND)
def get_document(name: Name, doc_id: DocIdPath, request: Request) -> DocumentOut:
    return document_out(scoped.read_state(request, name), doc_id, name)


@router.post("/collections/{name}/documents", response_model=WriteOut, dependencies=[Depends(require_writer)],
             responses={**WRITE_RESPONSES, **ACCEPTED, **NOT_FOUND})
async def add_documents(name: Name, body: IngestRequest, request: Request) -> WriteOut | JSONResponse:
    """Add or replace articles of this collection (as POST /documents does for the default one)."""
    return await add(body, request, scoped.held(request, name))


@router.delete("/collections/{name}/documents/{doc_id:path}", response_model=WriteOut,
               dependencies=[Depends(require_writer)], responses={**WRITE_RESPONSES, **NOT_FOUND})
async def delete_document(name: Name, doc_id: DocIdPath, request: Request) -> WriteOut | JSONResponse:
    return await delete(doc_id, request, scoped.held(request, name))
