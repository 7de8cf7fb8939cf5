"""A property over random keys, collections, routes and bodies against a real `isnad serve` with three collections:
no response carries a doc_id, a headline, a passage or the name of a collection the key may not read.

Results, citations, closest passages, also_reported_by, error messages and /metrics are all bodies checked here.
A request that itself names an unreadable collection (or one of its doc_ids) must get exactly the answer the
same request gets with a name nobody has: the only trace of the name is the caller's own words echoed back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isnad.indexer.embed import Embedder
from isnad.indexer.index import Index
from isnad.service import keys
from tests.live_server import LiveServer, live_server
from tests.service.three_collections import NAMES, Secrets, build

MISSING = "zz-missing"  # a collection name and doc_id no collection has
QUESTIONS = ["متى عقدت الجولة التاسعة من محادثات أستانة؟", "how many delegates attended round nine?",
             "مناطق خفض التصعيد", "ceasefire monitoring"]


@dataclass(frozen=True)
class Key:
    secret: str
    reads: frozenset[str]
    scope: str


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: dict[str, Any] | None = None
    sent: tuple[str, ...] = field(default=())  # names, doc_ids and texts the caller wrote
    params: dict[str, str] | None = None

    def replaced(self, old: str, new: str) -> Call:
        body = json.loads(json.dumps(self.body, ensure_ascii=False).replace(old, new)) if self.body else None
        params = {k: v.replace(old, new) for k, v in self.params.items()} if self.params else None
        return Call(self.method, self.path.replace(old, new), body, tuple(s.replace(old, new) for s in self.sent),
                    params)


@dataclass(frozen=True)
class World:
    server: LiveServer
    keys: list[Key]
    secrets: Secrets
    doc_ids: dict[str, list[str]]
    passages: dict[str, list[str]]  # the start of each passage, by collection: queries that reach them


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[World]:
    root = tmp_path_factory.mktemp("property")
    folders = build(root, embedder)
    path = root / "keys.json"
    made = []
    for scope in ("read", "write"):
        made.append(Key(keys.add(path, scope)[1], frozenset(NAMES), scope))  # no --collection: all of them
        for size in (1, 2):
            for names in combinations(NAMES, size):
                made.append(Key(keys.add(path, scope, collections=names)[1], frozenset(names), scope))
    indexes = {name: Index.load(folder) for name, folder in folders.items()}
    doc_ids = {name: sorted(index.documents) for name, index in indexes.items()}
    passages = {name: [c.text[:120] for c in index.chunks] for name, index in indexes.items()}
    env = {"ISNAD_COLLECTIONS": ",".join(f"{n}={p}" for n, p in folders.items()), "ISNAD_KEYS_FILE": str(path),
           "ISNAD_AUTH_FAILURE_LIMIT": "1000000", "ISNAD_ACCESS_LOG": ""}
    with live_server(folders["pubarchive"], env=env, timeout=300) as server:
        yield World(server, made, Secrets.of(folders), doc_ids, passages)


@st.composite
def calls(draw: st.DrawFn, world: World, key: Key, route: str) -> Call:
    hidden = sorted(set(NAMES) - key.reads)
    # half the time what the key may not read: the names, documents and passages a leak would show
    names = st.sampled_from(hidden) if hidden and draw(st.booleans()) else st.sampled_from([*NAMES, MISSING])
    name = draw(names)
    some = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    doc = draw(st.sampled_from([d for n in NAMES if n == name or name == MISSING for d in world.doc_ids[n]]
                               + [MISSING]))
    text = draw(st.one_of(st.sampled_from(QUESTIONS), st.sampled_from(world.passages[name]
                                                                      if name in world.passages else
                                                                      world.passages["pubarchive"])))
    k = draw(st.integers(1, 8))
    pick = draw(st.booleans())
    filters = {"doc_id": doc} if draw(st.integers(0, 4)) == 0 else None
    named = {"collections": some} if pick else {}
    sent = tuple(some) if pick else ()
    extra = {"filters": filters} if filters else {}
    doc_sent = (doc,) if filters else ()
    options = {
        "collections": Call("GET", "/collections"),
        "metrics": Call("GET", "/metrics"),
        "health": Call("GET", "/health"),
        "search": Call("POST", "/search", {"query": text, "k": k, **named, **extra}, (text, *sent, *doc_sent)),
        "search-get": Call("GET", "/search", None, (text,), {"q": text, "k": str(k)}),
        "ask": Call("POST", "/ask", {"question": text, "k": k, **named, **extra}, (text, *sent, *doc_sent)),
        "c-search": Call("POST", f"/collections/{name}/search", {"query": text, "k": k, **extra},
                         (text, name, *doc_sent)),
        "c-search-get": Call("GET", f"/collections/{name}/search", None, (text, name), {"q": text}),
        "c-ask": Call("POST", f"/collections/{name}/ask", {"question": text, **extra}, (text, name, *doc_sent)),
        "c-document": Call("GET", f"/collections/{name}/documents/{doc}", None, (name, doc)),
        "document": Call("GET", f"/documents/{doc}", None, (doc,)),
        "c-delete": Call("DELETE", f"/collections/{name}/documents/{MISSING}", None, (name,)),
        "job": Call("GET", "/jobs/0123456789abcdef", None),
    }
    return options[route]


ROUTES = ["collections", "metrics", "health", "search", "search-get", "ask", "c-search", "c-search-get", "c-ask",
          "c-document", "document", "c-delete", "job"]


def _send(client: httpx.Client, key: Key, call: Call) -> httpx.Response:
    return client.request(call.method, call.path, json=call.body, params=call.params,
                          headers={"Authorization": f"Bearer {key.secret}"})


def _strings(response: httpx.Response) -> list[str]:
    """Every string of a JSON body (unescaped), or the text of any other body."""
    try:
        data = response.json()
    except ValueError:
        return [response.text]
    out: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, dict):
            for k, v in value.items():
                out.append(str(k))
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(data)
    return out


def _comparable(response: httpx.Response) -> object:
    try:
        data = response.json()
    except ValueError:
        return response.text
    if isinstance(data, dict):
        data.pop("took_ms", None)
    return data


def _hidden_sent(call: Call, world: World, hidden: set[str]) -> list[str]:
    """What the caller wrote that belongs to a collection it may not read (a name or a doc_id)."""
    out = [s for s in call.sent if s in hidden]
    out += [s for s in call.sent if any(s in world.doc_ids[n] for n in hidden)]
    return sorted(set(out), key=len, reverse=True)


@pytest.mark.parametrize("route", ROUTES)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(data=st.data())
def test_no_response_names_or_quotes_an_unreadable_collection(world: World, route: str, data: st.DataObject) -> None:
    key = data.draw(st.sampled_from(world.keys), label="key")
    call = data.draw(calls(world, key, route), label="call")
    hidden = set(NAMES) - key.reads
    with httpx.Client(base_url=world.server.url, timeout=120) as client:
        response = _send(client, key, call)
        assert response.status_code < 500, response.text
        own = _hidden_sent(call, world, hidden)
        if own:  # the caller named what it may not read: the answer must be the one a missing name gets
            plain = call
            for i, s in enumerate(own):
                plain = plain.replaced(s, f"{MISSING}{i}")
            twin = _send(client, key, plain)
            assert response.status_code == twin.status_code, (response.text, twin.text)
            expected = json.dumps(_comparable(twin), ensure_ascii=False)
            for i, s in enumerate(own):
                expected = expected.replace(f"{MISSING}{i}", s)
            assert json.dumps(_comparable(response), ensure_ascii=False) == expected
            response, call = twin, plain
        strings = _strings(response)
        for sent in call.sent:  # the caller's own words echoed back are no leak
            strings = [s.replace(sent, "") for s in strings]
        leaked = world.secrets.leaked("\n".join(strings), hidden)
        assert not leaked, (call, sorted(key.reads), leaked)
