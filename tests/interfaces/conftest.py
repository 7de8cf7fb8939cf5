"""A real `isnad serve` on loopback with a read key, shared by the client, MCP and LangChain tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from isnad.service import keys
from tests.live_server import live_server

ANSWERED = "When was the eighth round of the Astana talks held?"
NOT_IN_ARCHIVE = "Who won the 1998 football World Cup final in Paris?"
# Strings a careless or hostile caller sends: each must come back as a clear error or a normal answer.
HOSTILE = ("", "   ", "\x00", "' OR 1=1; --", "../../etc/passwd", "<script>alert(1)</script>", "\u202eأستانة\u202c",
           "A" * 5000, "%00%2e%2e%2f", "{{7*7}}", "🙂" * 50, "\ud800 lone surrogate")


@dataclass(frozen=True)
class KeyedServer:
    url: str
    key: str


@pytest.fixture(scope="session")
def keyed_server(sample_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KeyedServer]:
    folder = tmp_path_factory.mktemp("keys")
    keys_file = folder / "keys.json"
    _, key = keys.add(keys_file, "read", "interfaces tests")
    with live_server(sample_index, env={"ISNAD_KEYS_FILE": str(keys_file)}) as server:
        yield KeyedServer(server.url, key)
