"""Which collections a request may use, and searches and answers over them.

A key never learns that a collection it cannot read exists: such a name gets the same 404, with the same
words, as a name no collection has (one dict lookup either way), and the lists and suggestions name only
the key's own collections.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from fastapi import HTTPException, Request

from isnad.indexer.types import SearchFilters
from isnad.service.api.auth import Grant, request_grant
from isnad.service.api.schemas import AskResponseOut, SearchResponseOut
from isnad.service.collections import Collections, merged_ask, merged_search, split
from isnad.service.live import LiveIndex
from isnad.service.state import ServiceState

COLLECTIONS = "isnad.collections"  # the names a request acted on, for the access log
QUESTION = "isnad.question"
Out = TypeVar("Out", SearchResponseOut, AskResponseOut)


def registry(request: Request) -> Collections:
    found: Collections = request.app.state.collections
    if request.app.state.isnad is None:
        raise HTTPException(status_code=503, detail="the index is not loaded yet; try again shortly")
    return found


def readable(request: Request) -> list[str]:
    grant = request_grant(request)
    return [n for n in registry(request).names if grant.holds(n)]


def _not_found(name: str, grant: Grant, names: list[str]) -> HTTPException:
    mine = [n for n in names if grant.holds(n)]
    hint = f"this key reads: {', '.join(mine)}" if mine else "this key reads no collection"
    return HTTPException(status_code=404, detail=f"no collection {name!r} ({hint}; GET /collections lists them)")


def read_state(request: Request, name: str) -> ServiceState:
    """The named collection's state, or 404 if it is missing or the key may not read it (the same 404)."""
    return held(request, name).current


def held(request: Request, name: str) -> LiveIndex:
    """The named collection (to read, or to write: Access checked the key's scope), or the same 404 as a
    missing one when the key does not hold it."""
    reg, grant = registry(request), request_grant(request)
    live = reg.live(name)
    if live is None or not grant.holds(name):
        raise _not_found(name, grant, reg.names)
    _note(request, [name])
    return live


def default_live(request: Request) -> LiveIndex:
    """Today's write routes act on the default collection; a key without it is told so, without its name."""
    reg, grant = registry(request), request_grant(request)
    if not grant.holds(reg.default):
        raise HTTPException(status_code=403, detail="this key may not write the default collection: use "
                                                    "/collections/{name}/documents with one of its collections")
    _note(request, [reg.default])
    live = reg.live(reg.default)
    assert live is not None
    return live


def chosen(request: Request, names: Sequence[str] | None) -> list[str]:
    """The collections a search or question runs over: those named (each readable), else every readable one."""
    if names is None:
        picked = readable(request)
        if not picked:
            raise HTTPException(status_code=404, detail="this key reads no collection")
    else:
        for name in names:
            read_state(request, name)  # 404 for a missing or unreadable one
        picked = list(dict.fromkeys(names))
    _note(request, picked)
    return picked


def search(request: Request, names: list[str], query: str, k: int,
           filters: SearchFilters | None = None) -> SearchResponseOut:
    reg = registry(request)
    _question(request, query)
    return search_over({n: reg.state(n) for n in names}, query, k, filters)


def ask(request: Request, names: list[str], question: str, k: int, filters: SearchFilters | None,
        min_confidence: float | None) -> AskResponseOut:
    reg = registry(request)
    _question(request, question)
    return ask_over({n: reg.state(n) for n in names}, question, k, filters, min_confidence)


def search_over(states: Mapping[str, ServiceState], query: str, k: int,
                filters: SearchFilters | None = None) -> SearchResponseOut:
    """The response body of a search over these collections (the CLI's too)."""
    if len(states) == 1:  # one collection: exactly the single-index path
        [(name, state)] = states.items()
        out = SearchResponseOut.from_domain(state.searcher.search(query, k, filters), state.index.documents)
        return label(out, name)
    merged = merged_search(states, query, k, filters)
    return label(SearchResponseOut.from_domain(merged.response, merged.documents), None)


def ask_over(states: Mapping[str, ServiceState], question: str, k: int, filters: SearchFilters | None = None,
             min_confidence: float | None = None) -> AskResponseOut:
    """The response body of a question over these collections (the CLI's too)."""
    if len(states) == 1:
        [(name, state)] = states.items()
        answer = state.answerer.ask(question, k, filters, min_confidence)
        return label(AskResponseOut.from_answer(answer, state.index.documents), name)
    started = time.perf_counter()
    merged = merged_search(states, question, k, filters)
    answer = merged_ask(merged, started, min_confidence)
    return label(AskResponseOut.from_answer(answer, merged.documents), None)


def label(out: Out, name: str | None) -> Out:
    """Each result, citation and copy names its collection: `name`, or the one its qualified doc_id holds."""
    items: list[Any] = list(out.results) if isinstance(out, SearchResponseOut) else [*out.citations, *out.closest]
    for item in items:
        _name(item, name)
        for copy in item.also_reported_by:
            _name(copy, name)
    return out


def _name(item: Any, name: str | None) -> None:
    collection, doc_id = split(item.doc_id) if name is None else (name, item.doc_id)
    item.doc_id, item.collection = doc_id, collection


def noted(request: Request) -> str | None:
    """The one collection the request acted on (a write's), or None."""
    names = request.scope.get(COLLECTIONS) or []
    return names[0] if len(names) == 1 else None


def _note(request: Request, names: list[str]) -> None:
    request.scope[COLLECTIONS] = names


def _question(request: Request, text: str) -> None:
    request.scope[QUESTION] = text
