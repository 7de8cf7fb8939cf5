"""Web archives end to end: `isnad index` on saved pages, a WARC.gz and an RSS feed (made from the shared
Arabic news pages), then `/ask` on the real server and the chat page in a real browser: every citation carries
its URL, site and date, and links to the original page safely."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from playwright.sync_api import Page, Route

from isnad.cli.main import cli
from tests.e2e.conftest import ask, screenshot
from tests.indexer.web_fixtures import (
    FULL_ITEM_TEXT,
    SUMMARY_ITEM_TEXT,
    expected,
    feed_with_links,
    fold,
    needs_pages,
    page_bytes,
    write_warc,
)
from tests.live_server import LiveServer, live_server

pytestmark = [pytest.mark.slow, needs_pages]
SAVED = ["sputnik-2020-03-17.html", "alyaum-2020-12-01.html"]  # a handful of pages keeps embedding short
CRAWLED = ["youm7-2020-08-24.html"]
EGYPT_CASES = "كم حالة إصابة جديدة بفيروس كورونا سجلت مصر؟"
HOMS_PARK = "ما مساحة الحديقة العامة الجديدة التي افتتحتها بلدية حمص على نهر العاصي؟"


@pytest.fixture(scope="module")
def web_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    corpus = tmp_path_factory.mktemp("web-corpus")
    for name in SAVED:
        (corpus / name).write_bytes(page_bytes(name))
    write_warc(corpus / "crawl.warc.gz", [(expected()[n]["url"], page_bytes(n), "text/html") for n in CRAWLED])
    (corpus / "feed.rss").write_bytes(feed_with_links([*SAVED, *CRAWLED]))
    (corpus / "saved-again.htm").write_bytes(page_bytes(SAVED[0]))
    index = tmp_path_factory.mktemp("web-index") / "index"
    result = CliRunner().invoke(cli, ["index", str(corpus), "--index", str(index), "--no-progress",
                                      "--embed-workers", "1"])
    assert result.exit_code == 0, result.output
    assert "indexed 5 documents" in result.output  # 3 pages, the feed's full item and its summary-only item
    assert "1 web pages were read again (same URL, or same text on one site) and indexed once" in result.output
    return index


@pytest.fixture(scope="module")
def server(web_index: Path) -> Iterator[LiveServer]:
    with live_server(web_index) as live:
        yield live


def test_ask_cites_the_page_with_its_url_site_and_date(server: LiveServer) -> None:
    want = expected()["sputnik-2020-03-17.html"]
    with httpx.Client(base_url=server.url, timeout=60) as client:
        body = client.post("/ask", json={"question": EGYPT_CASES}).json()
        assert not body["abstained"], body
        first = body["citations"][0]
        assert (first["url"], first["published"], first["lang"]) == (want["canonical"], "2020-03-17", "ar")
        assert first["site"] and fold(first["title"]) == fold(want["title"])
        assert "196" in body["answer"]
        document = client.get(f"/documents/{first['doc_id']}").json()
        for c in body["citations"]:
            text = document["text"] if c["doc_id"] == first["doc_id"] else \
                client.get(f"/documents/{c['doc_id']}").json()["text"]
            assert text[c["start"]:c["end"]] == c["text"]
        assert document["url"] == want["canonical"] and fold(want["first_sentence"]) in fold(document["text"])
        results = client.post("/search", json={"query": EGYPT_CASES, "k": 3}).json()["results"]
        assert results[0]["url"] == want["canonical"] and results[0]["published"] == "2020-03-17"


def test_a_feed_item_is_cited_with_its_link_and_date(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        body = client.post("/ask", json={"question": HOMS_PARK}).json()
    cited = [c for c in body["citations"] if c["url"] == "https://news.example.org/homs-park"]
    assert cited, body
    assert cited[0]["published"] == "2024-01-02" and cited[0]["site"] == "news.example.org"
    assert cited[0]["text"] in FULL_ITEM_TEXT.replace(". ", ".\n\n") and not cited[0]["summary_only"]
    with httpx.Client(base_url=server.url, timeout=60) as client:
        results = client.post("/search", json={"query": "موسم القمح في الحسكة", "k": 1}).json()["results"]
    assert (results[0]["text"], results[0]["summary_only"]) == (SUMMARY_ITEM_TEXT, True)
    assert results[0]["url"] == "https://news.example.org/wheat" and results[0]["published"] == "2024-01-03"


def test_cli_shows_headline_site_date_and_link(web_index: Path) -> None:
    want = expected()["sputnik-2020-03-17.html"]
    as_json = CliRunner().invoke(cli, ["ask", EGYPT_CASES, "--index", str(web_index), "--json"])
    assert as_json.exit_code == 0, as_json.output
    first = json.loads(as_json.output)["citations"][0]
    assert first["url"] == want["canonical"] and first["published"] == "2020-03-17" and first["site"]
    text = CliRunner().invoke(cli, ["ask", EGYPT_CASES, "--index", str(web_index), "--no-shape"]).output
    assert want["canonical"] in text and f"{first['site']} · 2020-03-17" in text and fold(want["title"]) in text


def test_chat_page_links_each_citation_to_its_original_page(page: Page, server: LiveServer) -> None:
    body = ask(page, server.url, EGYPT_CASES)
    first = body["citations"][0]
    link = page.locator(f"#citations li[data-n='{first['n']}'] a.cite-link")
    assert link.get_attribute("href") == first["url"]
    assert link.get_attribute("rel") == "noopener noreferrer" and link.get_attribute("target") == "_blank"
    assert link.inner_text() == first["site"]
    item = page.locator(f"#citations li[data-n='{first['n']}']")
    assert item.locator("time.cite-date").inner_text() == "2020-03-17"
    assert fold(item.locator(".cite-title").inner_text()) == fold(first["title"])
    item.locator(".cite-title").click()  # the article panel shows the link too
    page.wait_for_selector("#article-text mark")
    assert page.locator("#article-meta a.cite-link").get_attribute("rel") == "noopener noreferrer"
    screenshot(page, "citation-source-link")


def test_a_source_url_that_is_not_http_never_becomes_a_link(page: Page, server: LiveServer) -> None:
    """The service only stores http/https URLs; the page checks again, and shows page text as text."""
    def forge(route: Route) -> None:
        body = route.fetch().json()
        for c in body["citations"]:
            c["url"], c["site"] = "javascript:window.__pwned=1", "<img src=x onerror=window.__pwned=2>"
            c["also_reported_by"] = [
                {"doc_id": "x", "title": None, "published": None, "url": "data:text/html,<script>1</script>",
                 "site": "<b>x</b>"},
                {"doc_id": "y", "title": None, "published": None, "url": "https://y.example/a", "site": "Y"}]
        route.fulfill(json=body)

    page.route("**/ask", forge)
    body = ask(page, server.url, EGYPT_CASES)
    links = page.locator("#citations a")
    assert links.count() == len(body["citations"])  # only the https source of each "also reported by"
    for i in range(links.count()):
        assert links.nth(i).get_attribute("href") == "https://y.example/a"
        assert links.nth(i).get_attribute("rel") == "noopener noreferrer"
    assert "<img src=x onerror=window.__pwned=2>" in page.inner_text("#citations")
    assert "<b>x</b>" in page.inner_text("#citations")
    assert page.evaluate("document.querySelectorAll('#history img').length") == 0
    assert page.evaluate("window.__pwned === undefined")
