"""The MCP server: the archive as three tools an AI assistant can call (the `mcp` extra).

`isnad mcp --index PATH` serves it over stdio (or `--url URL --key KEY`, over a running server through
`isnad.client`); `isnad serve` also answers it at `/mcp` (streamable HTTP) behind the same keys as every read
route. The tools are thin: each is one call of an `isnad.client` archive (`Local` or `Client`), whose refusals
come back as MCP tool errors carrying the API's message.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings

from isnad.client import Archive, IsnadError

if TYPE_CHECKING:
    from fastapi import FastAPI

OFFSETS = ("`start`/`end` are character offsets into the document's `text`: "
           "get_document(doc_id, start, end) returns exactly that slice, so quote it verbatim and cite doc_id, "
           "start and end.")
INSTRUCTIONS = ("Isnad searches an archive of Arabic news and answers questions from it, citing every claim to the "
                "character. Questions may be Arabic or English. " + OFFSETS + " When ask_archive says not found, the "
                "archive does not hold the fact: say so rather than guess.")

SEARCH = ("Search the news archive (Arabic or English query) and return the best passages, best first. Each has "
          "doc_id, start, end, text, title, published (date), url, site and score. " + OFFSETS +
          " k: 1-50 passages (default 5). filters (optional): {\"round\": int, \"doc_id\": str, "
          "\"published_from\": \"YYYY-MM-DD\", \"published_to\": \"YYYY-MM-DD\"}.")
ASK = ("Answer a question (Arabic or English) from the archive's own sentences. Returns found (false means the "
       "archive does not hold the fact: answer is then \"not found\" and closest lists passages that do not "
       "answer), answer (the cited sentences, each followed by [n]), span (the shortest part that answers: "
       "doc_id, start, end, text), confidence (calibrated probability, 0-1) and citations [n] with doc_id, start, "
       "end, text, title, published, url. " + OFFSETS)
DOCUMENT = ("Read one article of the archive by doc_id (from search_archive or ask_archive). Without start/end: "
            "the whole text and its metadata. With start and end (character offsets, as a citation gives them): "
            "only text[start:end], the exact cited words. `length` is the full text's length in characters.")


def _run(call: Callable[[], Any]) -> Any:
    """A refusal (bad input, unknown doc_id, missing key) is a tool error the assistant can read and act on."""
    try:
        return call()
    except IsnadError as exc:
        raise ToolError(exc.message) from None


def build_server(archive: Archive) -> MCPServer:
    server = MCPServer("isnad", instructions=INSTRUCTIONS)

    @server.tool(description=SEARCH)
    async def search_archive(query: str, k: int = 5, filters: dict[str, Any] | None = None) -> dict[str, Any]:
        passages = await anyio.to_thread.run_sync(lambda: _run(lambda: archive.search(query, k, filters)))
        return {"query": query, "passages": [asdict(p) for p in passages]}

    @server.tool(description=ASK)
    async def ask_archive(question: str) -> dict[str, Any]:
        answer = await anyio.to_thread.run_sync(lambda: _run(lambda: archive.ask(question)))
        return {"question": question, "found": answer.found,
                "answer": answer.answer if answer.found else "not found",
                "span": asdict(answer.span) if answer.span and answer.found else None,
                "confidence": answer.confidence,
                "citations": [asdict(c) for c in answer.citations],
                "closest": [asdict(c) for c in answer.closest]}

    @server.tool(description=DOCUMENT)
    async def get_document(doc_id: str, start: int | None = None, end: int | None = None) -> dict[str, Any]:
        document = await anyio.to_thread.run_sync(lambda: _run(lambda: archive.document(doc_id)))
        length = len(document.text)
        lo, hi = 0 if start is None else start, length if end is None else end
        if not 0 <= lo <= hi <= length:
            raise ToolError(f"start {start} and end {end} are outside {doc_id!r}'s text: use 0 <= start <= end <= "
                            f"{length} (the offsets a citation gives)")
        out = asdict(document)
        out.update(text=document.text[lo:hi], start=lo, end=hi, length=length)
        return out

    return server


def mount(app: FastAPI, archive: Archive, host: str = "127.0.0.1") -> None:
    """Answer MCP at `/mcp` of `app` (streamable HTTP, stateless). The app's own middleware (the Access check
    of keys, body limits, metrics) wraps it like any read route. The MCP session manager runs in the app's
    lifespan, around whatever lifespan the app had."""
    loopback = host in ("127.0.0.1", "localhost", "::1")
    # The SDK's DNS-rebinding guard lists loopback host names; a server bound elsewhere names its own host.
    security = None if loopback else TransportSecuritySettings(enable_dns_rebinding_protection=False)
    server = build_server(archive)
    http = server.streamable_http_app(streamable_http_path="/mcp", stateless_http=True, json_response=True,
                                      transport_security=security, host=host)
    app.router.routes.extend(http.routes)
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: Any) -> AsyncIterator[Any]:
        async with server.session_manager.run(), inner(a) as state:
            yield state

    app.router.lifespan_context = lifespan
