"""The lockout behind a reverse proxy: X-Forwarded-For counts only from a trusted proxy, per real client."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from isnad.service import keys
from isnad.service.api.main import create_app
from isnad.service.api.proxy import TrustedProxies
from isnad.service.settings import Settings
from isnad.service.state import ServiceState

PROXY = ("127.0.0.1", 40000)  # the connection every request arrives on, as behind a proxy
GUESSER, READER = "203.0.113.5", "198.51.100.7"
LIMIT = 3


@contextmanager
def behind_proxy(state: ServiceState, tmp_path: Path, trusted: str) -> Iterator[tuple[TestClient, str]]:
    path = tmp_path / "keys.json"
    _, key = keys.add(path, "read")
    settings = Settings(keys_file=path, auth_failure_limit=LIMIT, trusted_proxies=trusted, access_log="")
    with TestClient(create_app(state, settings), client=PROXY) as client:
        yield client, key


def _get(client: TestClient, forwarded: str | None, key: str) -> int:
    headers = {"Authorization": f"Bearer {key}"}
    if forwarded is not None:
        headers["X-Forwarded-For"] = forwarded
    return client.get("/collections", headers=headers).status_code


def test_a_trusted_proxy_locks_out_the_guesser_only(service_state: ServiceState, tmp_path: Path) -> None:
    with behind_proxy(service_state, tmp_path, "127.0.0.1, 10.0.0.0/8") as (client, key):
        assert [_get(client, GUESSER, "isnad_wrong") for _ in range(LIMIT)] == [401] * LIMIT
        assert _get(client, GUESSER, "isnad_wrong") == 429
        assert _get(client, GUESSER, key) == 429  # locked out even with the right key, until the window passes
        # another hop of the chain that is itself a trusted proxy: still the guesser
        assert _get(client, f"{GUESSER}, 10.1.2.3", "isnad_wrong") == 429
        assert _get(client, READER, key) == 200  # everyone else behind the same proxy reads on
        assert _get(client, READER, "isnad_wrong") == 401  # and is counted on their own
        # a client's own forged entries on the left do not move it: the last untrusted hop is the client
        assert _get(client, f"{READER}, {GUESSER}", key) == 429


def test_an_untrusted_peers_header_is_ignored(service_state: ServiceState, tmp_path: Path) -> None:
    with behind_proxy(service_state, tmp_path, "10.0.0.1") as (client, key):  # the peer is not this proxy
        for i in range(LIMIT):  # a new forged address each time does not escape the count
            assert _get(client, f"192.0.2.{i}", "isnad_wrong") == 401
        assert _get(client, READER, key) == 429  # one address: the connection's, as before the setting


def test_without_the_setting_the_connection_is_the_client(service_state: ServiceState, tmp_path: Path) -> None:
    with behind_proxy(service_state, tmp_path, "") as (client, key):
        for _ in range(LIMIT):
            assert _get(client, GUESSER, "isnad_wrong") == 401
        assert _get(client, READER, key) == 429
        assert _get(client, None, key) == 429


def test_a_bad_trusted_proxy_names_itself() -> None:
    with pytest.raises(ValidationError, match=r"'10\.0\.0\.300' is not an IP address or network"):
        Settings(trusted_proxies="10.0.0.1,10.0.0.300")
    assert TrustedProxies.parse("").client_of({"client": ("1.2.3.4", 1), "headers": []}) == "1.2.3.4"
