"""Read and write keys: every route with no key, a wrong key, a read key and a write key."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from isnad.indexer.embed import Embedder
from isnad.service import keys
from isnad.service.api.auth import FailedAttempts, needed_scope
from isnad.service.api.main import create_app
from isnad.service.settings import Settings
from isnad.service.state import ServiceState
from tests.live_server import live_server

DOC = "000_00b00902cae748a1"
# (method, path, json body): one request per route; the jobs id does not exist, so a permitted call is 404.
ROUTES = [
    ("GET", "/search?q=أستانا", None),
    ("POST", "/search", {"query": "أستانا"}),
    ("POST", "/ask", {"question": "متى عقدت الجولة الثامنة؟"}),
    ("GET", f"/documents/{DOC}", None),
    ("GET", "/metrics", None),
    ("GET", "/jobs/nope", None),
    ("DELETE", "/documents/not-there", None),
    ("POST", "/admin/reload", None),
]
READS = {"/search", "/ask", "/documents", "/metrics"}


@pytest.fixture()
def keyed(tmp_path: Path, sample_index: Path) -> tuple[Path, str, str]:
    folder = tmp_path / "keys.json"
    _, read_key = keys.add(folder, "read", label="reporter")
    _, write_key = keys.add(folder, "write", label="editor")
    return folder, read_key, write_key


@pytest.fixture()
def client(tmp_path: Path, sample_index: Path, embedder: Embedder,
           keyed: tuple[Path, str, str]) -> Iterator[TestClient]:
    index = Path(shutil.copytree(sample_index, tmp_path / "index"))
    settings = Settings(keys_file=keyed[0], auth_failure_limit=1000)
    with TestClient(create_app(ServiceState.open(index, embedder), settings)) as c:
        yield c


def _call(c: TestClient | httpx.Client, method: str, path: str, body: object, key: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return c.request(method, path, json=body, headers=headers)


def _is_read(path: str) -> bool:
    return any(path.startswith(p) for p in READS) and not path.startswith("/documents/not-there")


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_each_route_with_each_kind_of_key(client: TestClient, keyed: tuple[Path, str, str], method: str,
                                          path: str, body: object) -> None:
    _, read_key, write_key = keyed
    for key in (None, "isnad_wrong"):
        r = _call(client, method, path, body, key)
        assert r.status_code == 401, (key, r.text)
        assert "Authorization: Bearer" in r.json()["message"]
        assert r.headers["www-authenticate"].startswith("Bearer")
    as_reader = _call(client, method, path, body, read_key)
    if _is_read(path):
        assert as_reader.status_code == 200, as_reader.text
    else:
        assert as_reader.status_code == 403 and "write-scope key" in as_reader.json()["message"]
    as_writer = _call(client, method, path, body, write_key)
    assert as_writer.status_code in ((200,) if _is_read(path) else (200, 202, 404)), as_writer.text


def test_health_is_open_but_counts_need_a_key(client: TestClient, keyed: tuple[Path, str, str]) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    full = client.get("/health", headers={"Authorization": f"Bearer {keyed[1]}"}).json()
    assert full["documents"] == 5 and full["chunks"] > 0 and full["model"]


def test_the_chat_page_and_docs_stay_open(client: TestClient) -> None:
    for path in ("/", "/docs", "/openapi.json", "/static/app.js"):
        assert client.get(path).status_code == 200, path


def test_a_revoked_key_is_refused_and_a_new_one_accepted_without_restart(client: TestClient,
                                                                         keyed: tuple[Path, str, str]) -> None:
    folder, read_key, _ = keyed
    record = next(r for r in keys.load(folder) if r.scope == "read")
    keys.revoke(folder, record.id)
    assert client.get("/search?q=x", headers={"Authorization": f"Bearer {read_key}"}).status_code == 401
    _, fresh = keys.add(folder, "read")
    assert client.get("/search?q=x", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200


def test_refusals_are_counted_in_metrics(client: TestClient, keyed: tuple[Path, str, str]) -> None:
    client.get("/search?q=x")
    client.post("/admin/reload", headers={"Authorization": f"Bearer {keyed[1]}"})
    text = client.get("/metrics", headers={"Authorization": f"Bearer {keyed[1]}"}).text
    assert 'status="401"' in text and 'status="403"' in text


def test_without_a_keys_file_reads_stay_open_and_writes_need_the_api_key(sample_index: Path, tmp_path: Path,
                                                                         embedder: Embedder) -> None:
    index = Path(shutil.copytree(sample_index, tmp_path / "index"))
    with TestClient(create_app(ServiceState.open(index, embedder), Settings(api_key="k"))) as c:
        assert c.get("/search?q=x").status_code == 200
        assert c.get("/health").json()["documents"] == 5
        assert c.delete("/documents/x").status_code == 401
        assert c.delete("/documents/x", headers={"Authorization": "Bearer k"}).status_code == 404


def test_failed_attempts_are_rate_limited_per_client() -> None:
    now = [0.0]
    attempts = FailedAttempts(limit=3, window_s=60, clock=lambda: now[0])
    for _ in range(3):
        assert attempts.retry_after("10.0.0.1") is None
        attempts.record("10.0.0.1")
    assert attempts.retry_after("10.0.0.1") == 61
    assert attempts.retry_after("10.0.0.2") is None  # another client is not affected
    now[0] = 60.5
    assert attempts.retry_after("10.0.0.1") is None  # the window has passed


def test_which_routes_need_which_scope() -> None:
    assert needed_scope("GET", "/health") is None and needed_scope("GET", "/static/app.js") is None
    assert needed_scope("GET", "/search") == "read" and needed_scope("GET", "/documents/a") == "read"
    assert needed_scope("POST", "/documents") == "write" and needed_scope("GET", "/jobs/1") == "write"


@pytest.mark.slow
def test_a_real_server_closes_reads_and_locks_out_a_guesser(sample_index: Path, keyed: tuple[Path, str, str],
                                                            tmp_path: Path) -> None:
    folder, read_key, _ = keyed
    index = Path(shutil.copytree(sample_index, tmp_path / "live-index"))
    env = {"ISNAD_KEYS_FILE": str(folder), "ISNAD_AUTH_FAILURE_LIMIT": "3"}
    with live_server(index, env=env) as server, httpx.Client(base_url=server.url, timeout=60) as http:
        ok = http.post("/ask", json={"question": "متى عقدت الجولة الثامنة؟"},
                       headers={"Authorization": f"Bearer {read_key}"})
        assert ok.status_code == 200 and ok.json()["citations"]
        assert http.get(f"/documents/{DOC}").status_code == 401  # failure 1 of the 3 allowed
        for _ in range(2):
            assert http.get("/search?q=x", headers={"Authorization": "Bearer guess"}).status_code == 401
        locked = http.get("/search?q=x", headers={"Authorization": f"Bearer {read_key}"})
        assert locked.status_code == 429 and int(locked.headers["retry-after"]) >= 1
