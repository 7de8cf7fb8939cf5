"""The MCP server, driven by the official `mcp` client SDK: over stdio (`isnad mcp`) and over streamable HTTP
(`isnad serve`'s /mcp, behind its keys)."""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from mcp.client import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from tests.interfaces.conftest import ANSWERED, HOSTILE, NOT_IN_ARCHIVE, KeyedServer

pytestmark = pytest.mark.slow
TOOLS = {"search_archive", "ask_archive", "get_document"}
# The SDK's client cannot encode a lone surrogate, so no MCP client sends one; raw JSON-RPC sends it below.
ENCODABLE = tuple(h for h in HOSTILE if not any("\ud800" <= ch <= "\udfff" for ch in h))


async def call(session: ClientSession, tool: str, **arguments: Any) -> tuple[bool, Any]:
    """(is_error, the structured result, or the error's text)."""
    result = await session.call_tool(tool, arguments)
    if result.is_error:
        return True, " ".join(getattr(block, "text", "") for block in result.content)
    return False, result.structured_content


async def check_tools(session: ClientSession) -> None:
    listed = (await session.list_tools()).tools
    assert {t.name for t in listed} == TOOLS
    for tool in listed:
        assert "offset" in (tool.description or ""), tool.name  # an assistant learns how to quote exactly

    error, found = await call(session, "search_archive", query="Astana talks ceasefire", k=3)
    assert not error and len(found["passages"]) == 3
    for p in found["passages"]:
        error, cited = await call(session, "get_document", doc_id=p["doc_id"], start=p["start"], end=p["end"])
        assert not error and cited["text"] == p["text"]
        assert set(p) >= {"doc_id", "start", "end", "title", "published", "url", "score"}

    error, answer = await call(session, "ask_archive", question=ANSWERED)
    assert not error and answer["found"] and answer["citations"]
    for c in answer["citations"]:
        error, whole = await call(session, "get_document", doc_id=c["doc_id"])
        assert not error and whole["text"][c["start"]:c["end"]] == c["text"] and whole["length"] == len(whole["text"])
    span = answer["span"]
    error, cited = await call(session, "get_document", doc_id=span["doc_id"], start=span["start"], end=span["end"])
    assert cited["text"] == span["text"] and "22" in span["text"]  # the 8th round: 21-22 December

    error, missing = await call(session, "ask_archive", question=NOT_IN_ARCHIVE)
    assert not error and missing["found"] is False and missing["answer"] == "not found" and missing["span"] is None

    await check_errors(session)


async def check_errors(session: ClientSession) -> None:
    error, message = await call(session, "get_document", doc_id="no_such_article")
    assert error and "no document with doc_id 'no_such_article'" in message
    error, message = await call(session, "search_archive", query="Astana", filters={"colour": "red"})
    assert error and "unknown filter keys 'colour'" in message and "round" in message
    error, message = await call(session, "search_archive", query="Astana", filters={"published_from": "yesterday"})
    assert error and "published_from" in message
    error, message = await call(session, "search_archive", query="Astana", k=500)
    assert error and "k" in message and "50" in message
    error, message = await call(session, "get_document", doc_id="000_00b00902cae748a1", start=50, end=10)
    assert error and "0 <= start <= end <=" in message
    for hostile in ENCODABLE:
        for tool, argument in (("search_archive", "query"), ("ask_archive", "question"), ("get_document", "doc_id")):
            error, result = await call(session, tool, **{argument: hostile})
            if error:  # refused: the message names the field or the rule to follow
                assert any(word in result for word in (argument, "doc_id", "characters", "no document")), result
            else:  # answered like any query (a harmless string is just a query)
                assert tool != "get_document" and isinstance(result, dict)
    await check_still_serving(session)


async def check_still_serving(session: ClientSession) -> None:
    error, found = await call(session, "search_archive", query="أستانة", k=1)
    assert not error and len(found["passages"]) == 1


def run_session(connect: Callable[[], Any], body: Callable[[ClientSession], Awaitable[None]]) -> None:
    async def main() -> None:
        async with connect() as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            await body(session)

    anyio.run(main)


def test_stdio_server_answers_cites_and_refuses_clearly(sample_index: Path) -> None:
    params = StdioServerParameters(command=sys.executable,
                                   args=["-m", "isnad.cli.main", "mcp", "--index", str(sample_index)])
    run_session(lambda: stdio_client(params), check_tools)


def test_http_mcp_behind_the_servers_keys(keyed_server: KeyedServer) -> None:
    url = keyed_server.url + "/mcp"

    def connect(key: str | None) -> Callable[[], Any]:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return lambda: streamable_http_client(url, http_client=httpx2.AsyncClient(headers=headers, timeout=120))

    run_session(connect(keyed_server.key), check_tools)

    refused: list[Exception] = []

    async def keyless() -> None:
        try:
            async with connect(None)() as (read, write), ClientSession(read, write) as session:
                await session.initialize()
        except Exception as exc:  # the SDK may wrap the HTTP refusal in a group
            refused.append(exc)

    anyio.run(keyless)
    assert refused and "error response" in repr(refused[0]), "a client without a key got through to /mcp"
    plain = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, timeout=30)
    assert plain.status_code == 401 and "Authorization: Bearer" in plain.json()["message"]

    # a lone surrogate, escaped in JSON as a raw client may send it: the SDK's parser refuses the message (a
    # JSON-RPC parse error), and the server goes on serving
    call_body = {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                 "params": {"name": "search_archive", "arguments": {"query": "\ud800 أستانة"}}}
    raw = httpx.post(url, content=json.dumps(call_body), timeout=60, headers={
        "Authorization": f"Bearer {keyed_server.key}", "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-06-18"})
    assert raw.status_code == 400 and raw.json()["error"]["code"] == -32700
    run_session(connect(keyed_server.key), check_still_serving)


def test_mcp_over_a_running_server_passes_on_its_refusals(keyed_server: KeyedServer) -> None:
    """`isnad mcp --url` without a key: every tool says the key is missing, as a tool error."""
    params = StdioServerParameters(command=sys.executable,
                                   args=["-m", "isnad.cli.main", "mcp", "--url", keyed_server.url],
                                   env={"ISNAD_KEY": ""})

    async def body(session: ClientSession) -> None:
        error, message = await call(session, "search_archive", query="أستانة")
        assert error and "Authorization: Bearer" in message

    run_session(lambda: stdio_client(params), body)
    keyed = StdioServerParameters(command=sys.executable, args=["-m", "isnad.cli.main", "mcp", "--url",
                                                                keyed_server.url, "--key", keyed_server.key])

    async def answered(session: ClientSession) -> None:
        error, answer = await call(session, "ask_archive", question=ANSWERED)
        assert not error and answer["found"], json.dumps(answer)[:300]

    run_session(lambda: stdio_client(keyed), answered)
