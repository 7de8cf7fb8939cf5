from __future__ import annotations

from fastapi import APIRouter, HTTPException

from service.api.deps import StateDep
from service.api.schemas import DocumentOut

router = APIRouter(tags=["documents"])


@router.get("/documents/{doc_id}", response_model=DocumentOut, responses={404: {"description": "unknown doc_id"}})
def get_document(doc_id: str, state: StateDep) -> DocumentOut:
    document = state.index.documents.get(doc_id)
    if document is None:
        raise HTTPException(status_code=404, detail=f"no document with doc_id {doc_id!r}")
    return DocumentOut(doc_id=document.doc_id, title=document.title, published=document.published,
                       source=document.source, text=document.text)
