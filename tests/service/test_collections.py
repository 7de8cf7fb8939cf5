"""Collections on one server: the registry, scoped keys, searches and answers across collections (in process)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from isnad.indexer.embed import Embedder
from isnad.service import keys
from isnad.service.api.main import create_app
from isnad.service.collections import CollectionSpecError, parse_specs
from isnad.service.settings import Settings
from isnad.service.state import ServiceState
from tests.service.three_collections import NAMES, Secrets, build, documents
from tests.service.tiny_index import tiny_searcher

ROUND_NINE = "متى عقدت الجولة التاسعة من محادثات أستانة؟"


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> dict[str, Path]:
    return build(tmp_path_factory.mktemp("collections"), embedder)


@pytest.fixture(scope="module")
def secrets(folders: dict[str, Path]) -> Secrets:
    return Secrets.of(folders)


@pytest.fixture(scope="module")
def keyring(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    path = tmp_path_factory.mktemp("keys") / "keys.json"
    made = {
        "all": keys.add(path, "read")[1],
        "pub": keys.add(path, "read", collections=["pubarchive"])[1],
        "pub+wire": keys.add(path, "read", collections=["pubarchive", "wirefeed"])[1],
        "probe": keys.add(path, "read", collections=["probex9"])[1],
        "write-probe": keys.add(path, "write", collections=["probex9"])[1],
    }
    return path, made


@pytest.fixture(scope="module")
def client(folders: dict[str, Path], embedder: Embedder, keyring: tuple[Path, dict[str, str]],
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    log = tmp_path_factory.mktemp("log") / "access.jsonl"
    settings = Settings(keys_file=keyring[0], auth_failure_limit=1000, access_log=str(log))
    state = ServiceState.open(folders["pubarchive"], embedder)
    with TestClient(create_app(state, settings, folders)) as c:
        c.access_log = log  # type: ignore[attr-defined]
        yield c


def _as(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_collections_lists_only_the_keys_own(client: TestClient, keyring: tuple[Path, dict[str, str]]) -> None:
    made = keyring[1]
    listed = client.get("/collections", headers=_as(made["all"])).json()["collections"]
    assert [c["name"] for c in listed] == list(NAMES)
    assert [c["default"] for c in listed] == [True, False, False] and all(c["documents"] > 0 for c in listed)
    assert [c["name"] for c in client.get("/collections", headers=_as(made["pub+wire"])).json()["collections"]] \
        == ["pubarchive", "wirefeed"]
    only = client.get("/collections", headers=_as(made["probe"]))
    assert [c["name"] for c in only.json()["collections"]] == ["probex9"]
    assert "pubarchive" not in only.text and "wirefeed" not in only.text


def test_an_unreadable_collection_answers_as_a_missing_one(client: TestClient,
                                                           keyring: tuple[Path, dict[str, str]]) -> None:
    made = keyring[1]
    for path in ("/collections/{}/search?q=أستانة", "/collections/{}/documents/probe-memo"):
        hidden = client.get(path.format("probex9"), headers=_as(made["pub"]))
        missing = client.get(path.format("nosuchone"), headers=_as(made["pub"]))
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json()["message"].replace("probex9", "X") == missing.json()["message"].replace("nosuchone", "X")
        assert "pubarchive" in hidden.json()["message"]  # the suggestion names the key's own only
    body = client.post("/search", json={"query": "أستانة", "collections": ["probex9"]}, headers=_as(made["pub"]))
    assert body.status_code == 404 and "probex9" in body.json()["message"]  # only the name the caller sent
    readable = client.get("/collections/probex9/documents/probe-memo", headers=_as(made["probe"]))
    assert readable.status_code == 200 and readable.json()["collection"] == "probex9"
    # the default collection's own routes: a key without it finds nothing there
    assert client.get("/documents/wire-copy-0", headers=_as(made["probe"])).status_code == 404


def test_one_ranking_across_collections_names_each_results_collection(
        client: TestClient, keyring: tuple[Path, dict[str, str]], secrets: Secrets) -> None:
    made = keyring[1]
    out = client.post("/search", json={"query": ROUND_NINE, "k": 10}, headers=_as(made["all"])).json()
    scores = [r["score"] for r in out["results"]]
    assert scores == sorted(scores, reverse=True) and [r["rank"] for r in out["results"]] == list(range(1, 11))
    seen = {r["collection"] for r in out["results"]}
    assert seen == set(NAMES), seen
    for r in out["results"]:
        assert "/" not in r["doc_id"] and r["title"] == f"H-{r['doc_id']}"
    # the memo's figure and the public article's are both in reach of one question
    scoped = client.post("/search", json={"query": ROUND_NINE, "k": 10, "collections": ["pubarchive"]},
                         headers=_as(made["all"])).json()
    assert {r["collection"] for r in scoped["results"]} == {"pubarchive"}


def test_copies_cross_collections_only_within_the_keys_reach(client: TestClient,
                                                             keyring: tuple[Path, dict[str, str]]) -> None:
    made = keyring[1]
    query = "الجولة التاسعة من محادثات أستانة ستعقد يومي الاثنين والثلاثاء"

    def copies(key: str) -> set[tuple[str, str]]:
        out = client.post("/search", json={"query": query, "k": 5}, headers=_as(key)).json()
        return {(c["collection"], c["doc_id"]) for r in out["results"] for c in r["also_reported_by"]} | \
            {(r["collection"], r["doc_id"]) for r in out["results"]}

    both = copies(made["pub+wire"])
    assert ("wirefeed", "wire-copy-0") in both
    assert not {c for c in copies(made["pub"]) if c[0] != "pubarchive"}


def test_ask_across_collections_cites_each_collection(client: TestClient, keyring: tuple[Path, dict[str, str]],
                                                      secrets: Secrets) -> None:
    made = keyring[1]
    out = client.post("/ask", json={"question": ROUND_NINE}, headers=_as(made["all"])).json()
    cited = out["citations"] + out["closest"]
    assert cited and all(c["collection"] in NAMES and "/" not in c["doc_id"] for c in cited)
    for key, hidden in (("pub", {"wirefeed", "probex9"}), ("probe", {"pubarchive", "wirefeed"})):
        r = client.post("/ask", json={"question": ROUND_NINE}, headers=_as(made[key]))
        assert r.status_code == 200
        assert not secrets.leaked(r.text, hidden), secrets.leaked(r.text, hidden)


def test_write_keys_are_scoped(client: TestClient, keyring: tuple[Path, dict[str, str]]) -> None:
    made = keyring[1]
    doc = {"documents": [{"id": "x-1", "text": "نص تجريبي عن محادثات أستانة.", "title": "x"}]}
    hidden = client.post("/collections/wirefeed/documents", json=doc, headers=_as(made["write-probe"]))
    assert hidden.status_code == 404 and "no collection 'wirefeed'" in hidden.json()["message"]
    default = client.post("/documents", json=doc, headers=_as(made["write-probe"]))
    assert default.status_code == 403 and "pubarchive" not in default.text
    read_only = client.post("/collections/probex9/documents", json=doc, headers=_as(made["probe"]))
    assert read_only.status_code == 403
    gone = client.delete("/collections/probex9/documents/not-there", headers=_as(made["write-probe"]))
    assert gone.status_code == 404 and "no document" in gone.json()["message"]


def test_the_access_log_names_the_key_id_never_the_key_nor_the_question(
        client: TestClient, keyring: tuple[Path, dict[str, str]]) -> None:
    path, made = keyring
    client.post("/collections/probex9/search", json={"query": "مذكرة داخلية"}, headers=_as(made["probe"]))
    lines = client.access_log.read_text(encoding="utf-8").splitlines()  # type: ignore[attr-defined]
    last = lines[-1]
    probe_id = next(r.id for r in keys.load(path) if r.collections == ("probex9",) and r.scope == "read")
    assert f'"key": "{probe_id}"' in last and '"collections": ["probex9"]' in last
    assert '"route": "/collections/{name}/search"' in last and '"status": 200' in last
    assert "مذكرة" not in last and made["probe"] not in client.access_log.read_text()  # type: ignore[attr-defined]


def test_collection_specs_name_what_to_fix() -> None:
    assert parse_specs(["a=/x", "b=/y,c=/z"]) == {"a": Path("/x"), "b": Path("/y"), "c": Path("/z")}
    for bad, words in (("a", "NAME=PATH"), ("A=/x", "lowercase"), ("a=/x,a=/y", "twice")):
        with pytest.raises(CollectionSpecError, match=words):
            parse_specs([bad])


def test_the_access_log_keeps_questions_only_when_asked(service_state: ServiceState, tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    record, key = keys.add(path, "read")
    for questions in (False, True):
        log = tmp_path / f"access-{questions}.jsonl"
        settings = Settings(keys_file=path, access_log=str(log), access_log_questions=questions)
        with TestClient(create_app(service_state, settings)) as c:
            assert c.post("/ask", json={"question": ROUND_NINE}, headers=_as(key)).status_code == 200
            assert c.get("/collections", headers=_as("isnad_wrong")).status_code == 401
            c.get("/health")  # open: not logged
        first, refused = (json.loads(line) for line in log.read_text(encoding="utf-8").splitlines())
        assert first["key"] == record.id and first["collections"] == ["default"] and first["route"] == "/ask"
        assert (first.get("question") == ROUND_NINE) is questions and first["status"] == 200
        assert refused["key"] is None and refused["status"] == 401 and refused["route"] == "/collections"


def test_a_scoped_write_key_writes_its_collection_only(client: TestClient,
                                                       keyring: tuple[Path, dict[str, str]]) -> None:
    made = keyring[1]
    doc = {"documents": [{"id": "probe-new", "text": "مذكرة جديدة عن لجنة صياغة الدستور في جنيف.", "title": "PN"}]}
    added = client.post("/collections/probex9/documents", json=doc, headers=_as(made["write-probe"]))
    assert added.status_code == 200 and added.json()["changed"] == ["probe-new"]
    found = client.get("/collections/probex9/documents/probe-new", headers=_as(made["probe"]))
    assert found.status_code == 200 and found.json()["title"] == "PN"
    assert client.get("/documents/probe-new", headers=_as(made["all"])).status_code == 404  # not the default's
    gone = client.delete("/collections/probex9/documents/probe-new", headers=_as(made["write-probe"]))
    assert gone.status_code == 200
    assert client.get("/collections/probex9/documents/probe-new", headers=_as(made["probe"])).status_code == 404


def test_a_collection_built_with_another_model_is_refused_by_name(tmp_path: Path, embedder: Embedder,
                                                                  folders: dict[str, Path]) -> None:
    other = tmp_path / "other"
    tiny_searcher(other, documents()["probex9"])  # the hash embedder: another model
    state = ServiceState.open(folders["pubarchive"], embedder)
    with pytest.raises(CollectionSpecError, match=r"collection 'hashed'.*first one's model"):
        create_app(state, Settings(access_log=""), {"pubarchive": folders["pubarchive"], "hashed": other})


def test_a_collections_ingest_route_has_the_ingest_body_limit(client: TestClient,
                                                             keyring: tuple[Path, dict[str, str]]) -> None:
    big = {"documents": [{"id": "big-1", "text": "نص " * 500_000}]}  # 2 MB: over max_body_bytes, under ingest
    r = client.post("/collections/probex9/documents", json=big, headers=_as(keyring[1]["write-probe"]))
    assert r.status_code == 413 and "max_document_chars" in r.json()["message"], r.text
