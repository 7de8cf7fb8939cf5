"""`isnad.client`: the HTTP `Client` and the in-process `Local` give the same typed results, and every refusal
is an `IsnadError` naming what to fix."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from isnad.client import Client, IsnadError, Local
from tests.interfaces.conftest import ANSWERED, NOT_IN_ARCHIVE, KeyedServer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local(sample_index: Path) -> Local:
    return Local(sample_index)


def test_client_and_local_agree_and_offsets_slice_the_document(keyed_server: KeyedServer, local: Local) -> None:
    with Client(keyed_server.url, keyed_server.key) as client:
        remote = client.search("أستانة", k=4)
        assert [(p.doc_id, p.start, p.end) for p in remote] == [(p.doc_id, p.start, p.end) for p in
                                                                 local.search("أستانة", k=4)]
        answer = client.ask(ANSWERED)
        assert answer.found and answer.span and answer.confidence is not None
        assert local.ask(ANSWERED).span == answer.span  # the same answer in the process as over HTTP
        for c in answer.citations:
            assert client.document(c.doc_id).text[c.start:c.end] == c.text
        span = answer.span
        assert client.document(span.doc_id).text[span.start:span.end] == span.text
        assert answer.citation(span.n).doc_id == span.doc_id
        missing = client.ask(NOT_IN_ARCHIVE)
        assert not missing.found and missing.span is None
        assert client.health()["reader"]


def test_refusals_name_what_to_fix(keyed_server: KeyedServer, local: Local) -> None:
    with Client(keyed_server.url) as keyless, pytest.raises(IsnadError, match="Authorization: Bearer") as info:
        keyless.search("أستانة")
    assert info.value.status == 401
    with Client(keyed_server.url, keyed_server.key) as client:
        for archive in (client, local):
            with pytest.raises(IsnadError, match="no document with doc_id 'nope'") as info:
                archive.document("nope")
            assert info.value.status == 404
            with pytest.raises(IsnadError, match="published_to") as info:
                archive.search("أستانة", filters={"published_to": "soon"})
            assert info.value.status == 422
            with pytest.raises(IsnadError, match="min_confidence"):
                archive.ask(ANSWERED, min_confidence=2)
            with pytest.raises(IsnadError, match="doc_id"):
                archive.document("../../etc/passwd")


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def test_timeouts_and_unreachable_servers_are_isnad_errors(silent_port: int) -> None:
    with Client(f"http://127.0.0.1:{silent_port}", timeout=0.5) as client, \
            pytest.raises(IsnadError, match="did not answer within the timeout") as info:
        client.search("أستانة")
    assert info.value.status == 0
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    with Client(f"http://127.0.0.1:{closed}") as client, pytest.raises(IsnadError, match="cannot reach Isnad"):
        client.ask("أستانة")
