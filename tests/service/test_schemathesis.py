"""Property-based fuzzing of every endpoint of the real server from its own OpenAPI schema (schemathesis).

Checks: no 5xx, every status code is declared, every body matches its declared schema. Runs with an API key
against a copy of the sample index, so the write endpoints are exercised for real. Bounded: 30 examples
per operation (positive and negative), no deadline.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from isnad.service import keys
from isnad.service.api.main import create_app
from tests.live_server import LiveServer, live_server

KEY = "fuzz-key"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory, sample_index: Path) -> Iterator[LiveServer]:
    index = Path(shutil.copytree(sample_index, tmp_path_factory.mktemp("fuzz") / "index"))
    with live_server(index, env={"ISNAD_API_KEY": KEY}) as server:
        yield server


# Loaded from the app at collection time (the server isn't up yet; `from_fixture` breaks on pytest 9);
# test_the_live_server_serves_this_schema checks the live server publishes exactly this document.
OPENAPI = create_app().openapi()
schema = schemathesis.openapi.from_dict(OPENAPI)


def test_the_live_server_serves_this_schema(fuzz_server: LiveServer) -> None:
    served = httpx.get(f"{fuzz_server.url}/openapi.json").json()
    assert served == json.loads(json.dumps(OPENAPI))
    assert {"/search", "/ask", "/documents", "/documents/{doc_id}", "/admin/reload", "/health"} <= set(served["paths"])


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_endpoint_conforms_to_its_schema(case: schemathesis.Case, fuzz_server: LiveServer) -> None:
    case.call_and_validate(base_url=fuzz_server.url, headers={"Authorization": f"Bearer {KEY}"}, timeout=60,
                           checks=[not_a_server_error, status_code_conformance, content_type_conformance,
                                   response_schema_conformance])


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory: pytest.TempPathFactory, sample_index: Path) -> Iterator[tuple[LiveServer, str]]:
    """Read keys configured: every read route needs a key, so both the refusals and the reads are fuzzed."""
    folder = tmp_path_factory.mktemp("fuzz-keys")
    _, read_key = keys.add(folder / "keys.json", "read")
    index = Path(shutil.copytree(sample_index, folder / "index"))
    env = {"ISNAD_KEYS_FILE": str(folder / "keys.json"), "ISNAD_AUTH_FAILURE_LIMIT": "1000000"}
    with live_server(index, env=env) as server:
        yield server, read_key


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@pytest.mark.parametrize("with_key", [True, False], ids=["read-key", "no-key"])
def test_every_endpoint_conforms_with_read_keys_configured(case: schemathesis.Case,
                                                          keyed_server: tuple[LiveServer, str],
                                                          with_key: bool) -> None:
    server, read_key = keyed_server
    headers = {"Authorization": f"Bearer {read_key}"} if with_key else {}
    case.call_and_validate(base_url=server.url, headers=headers, timeout=60,
                           checks=[not_a_server_error, status_code_conformance, content_type_conformance,
                                   response_schema_conformance])
