"""The chat page with a key for two of three collections: the picker offers those two, a citation names its own."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

from isnad.indexer.embed import Embedder
from isnad.service import keys
from tests.e2e.conftest import screenshot
from tests.live_server import live_server
from tests.service.three_collections import build

QUESTION = "متى عقدت الجولة التاسعة من محادثات أستانة؟"


def test_the_picker_offers_the_keys_collections_and_citations_name_theirs(
        page: Page, tmp_path: Path, embedder: Embedder) -> None:
    folders = build(tmp_path / "collections", embedder)
    path = tmp_path / "keys.json"
    _, key = keys.add(path, "read", collections=["wirefeed", "probex9"])
    page.on("dialog", lambda dialog: dialog.accept(key))
    env = {"ISNAD_COLLECTIONS": ",".join(f"{n}={p}" for n, p in folders.items()), "ISNAD_KEYS_FILE": str(path)}
    with live_server(folders["pubarchive"], env=env) as server:
        page.goto(server.url + "/")
        page.fill("#question", QUESTION)
        with page.expect_response(lambda r: r.url.endswith("/ask") and r.status == 200) as info:
            page.click("#ask-button")  # asks for the key, then answers from both of its collections
        first = info.value.json()
        assert {c["collection"] for c in first["citations"] + first["closest"]} <= {"wirefeed", "probex9"}
        page.wait_for_selector("#collections:not([hidden]) input")
        offered = page.eval_on_selector_all("#collections input", "xs => xs.map(x => x.value)")
        assert offered == ["wirefeed", "probex9"]
        assert "pubarchive" not in page.inner_text("#collections")

        page.uncheck("#collections input[value='wirefeed']")  # ask the investigation's folder alone
        page.fill("#question", QUESTION)
        with page.expect_response(lambda r: r.url.endswith("/ask") and r.status == 200) as info:
            page.click("#ask-button")
        assert info.value.request.post_data_json["collections"] == ["probex9"]
        body = info.value.json()
        assert body["citations"], body
        page.wait_for_selector("#answer")
        labels = page.eval_on_selector_all("#history article:last-child .citations li .cite-collection",
                                           "xs => xs.map(x => x.textContent)")
        assert labels and set(labels) == {"probex9"}
        # opening a citation reads its document from its own collection
        page.click("#history article:last-child .citations li[data-n='1']")
        page.wait_for_selector("#article:not([aria-busy]) mark")
        assert page.get_attribute("#article", "data-doc-id") == body["citations"][0]["doc_id"]
        screenshot(page, "answer-with-collections")
