"""The HTTP API's three reads (search, ask, one document) as plain calls: the same validation, the same
response bodies and the same messages as the routes, for callers in the same process (the Python client's
local mode, the MCP server mounted in `isnad serve`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from isnad.indexer.read import DOC_ID_PATTERN, doc_id_problem
from isnad.service.api.errors import capped_validation_errors
from isnad.service.api.schemas import (
    AskRequest,
    AskResponseOut,
    DocumentOut,
    SearchRequest,
    SearchResponseOut,
)
from isnad.service.state import ServiceState

M = TypeVar("M", bound=BaseModel)


class ArchiveError(Exception):
    """A call the archive refuses: `status` is what the HTTP API answers (404, 422, 503), `message` what to fix."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def _validated(model: type[M], fields: Mapping[str, Any]) -> M:
    try:
        return model(**{k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        raise ArchiveError(422, capped_validation_errors(exc.errors())[1]) from None


def check_doc_id(doc_id: object) -> str:
    """The routes' doc_id rule (letters, digits, `_ . -`, no look-alikes), as a 422 naming the problem."""
    if not isinstance(doc_id, str):
        raise ArchiveError(422, f"doc_id must be a string, not {type(doc_id).__name__}")
    problem = "" if DOC_ID_PATTERN.match(doc_id) else "use 1-200 letters, digits, _ . - (starting with a letter " \
                                                        "or digit)"
    problem = problem or doc_id_problem(doc_id) or ""
    if problem:
        raise ArchiveError(422, f"doc_id {doc_id[:80]!r} is not valid: {problem}")
    return doc_id


class Archive:
    """Reads over whatever index `state()` holds now (a reload swaps it under a running server)."""

    def __init__(self, state: Callable[[], ServiceState | None]) -> None:
        self._state = state

    @classmethod
    def of(cls, state: ServiceState) -> Archive:
        return cls(lambda: state)

    def state(self) -> ServiceState:
        state = self._state()
        if state is None:
            raise ArchiveError(503, "the index is not loaded yet; try again shortly")
        return state

    def search(self, query: str, k: int | None = None, filters: Mapping[str, Any] | None = None) -> SearchResponseOut:
        request = _validated(SearchRequest, {"query": query, "k": k, "filters": filters})
        state = self.state()
        found = state.searcher.search(request.query, request.k,
                                      request.filters.to_internal() if request.filters else None)
        return SearchResponseOut.from_domain(found, state.index.documents)

    def ask(self, question: str, k: int | None = None, filters: Mapping[str, Any] | None = None,
            min_confidence: float | None = None) -> AskResponseOut:
        request = _validated(AskRequest, {"question": question, "k": k, "filters": filters,
                                          "min_confidence": min_confidence})
        state = self.state()
        answer = state.answerer.ask(request.question, request.k,
                                    request.filters.to_internal() if request.filters else None,
                                    request.min_confidence)
        return AskResponseOut.from_answer(answer, state.index.documents)

    def document(self, doc_id: str) -> DocumentOut:
        check_doc_id(doc_id)
        document = self.state().index.documents.get(doc_id)
        if document is None:
            raise ArchiveError(404, f"no document with doc_id {doc_id!r}; doc_ids come from search or ask results")
        return DocumentOut.from_document(document)
