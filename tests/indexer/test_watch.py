"""`isnad watch` against a loopback server serving the web fixtures: new items are indexed, an unchanged feed
costs one 304 and no embedding. The clock never decides an outcome: polls are counted, sleep is injected."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from isnad.indexer.fetch import Fetcher
from isnad.indexer.index import Index
from isnad.indexer.pipeline import make_builder
from isnad.indexer.types import RawDocument
from isnad.indexer.watch import FeedWatcher, watch
from tests.indexer.fake_embedder import HashEmbedder
from tests.indexer.feed_server import PAGES, SUMMARY, feed_server

pytestmark = pytest.mark.skipif(not (PAGES / "expected.json").is_file(), reason="shared web corpus not present")


@pytest.fixture()
def server() -> Iterator[ThreadingHTTPServer]:
    with feed_server() as httpd:
        yield httpd


@pytest.fixture()
def index(tmp_path: Path) -> Path:
    folder = tmp_path / "index"
    seed = RawDocument(doc_id="seed", path="seed.txt", text="عقدت الجولة الأولى من محادثات أستانا في كانون الثاني.")
    make_builder(HashEmbedder(), progress=False).run([seed], folder)
    return folder


def _expected() -> dict[str, dict[str, str]]:
    return json.loads((PAGES / "expected.json").read_text(encoding="utf-8"))


def _titles(index: Path) -> dict[str, str | None]:
    documents = Index.load(index).documents
    return {doc_id: documents[doc_id].title for doc_id in documents}


def test_new_items_are_indexed_and_an_unchanged_feed_costs_one_304(server: ThreadingHTTPServer, index: Path) -> None:
    feed = f"http://127.0.0.1:{server.server_address[1]}/feed.xml"
    first, second = "youm7-2020-08-24.html", "alyaum-2020-12-01.html"
    server.items.append((first, "item one"))  # type: ignore[attr-defined]
    embedder = HashEmbedder()
    watcher = FeedWatcher.open(index, make_builder(embedder, progress=False), Fetcher(min_delay=0))

    report = watcher.poll([feed])
    assert len(report.added) == 1 and report.pages_fetched == 1
    assert _expected()[first]["title"] in _titles(index).values() and "seed" in _titles(index)
    embedded = embedder.texts
    assert embedded > 0

    server.hits.clear()  # type: ignore[attr-defined]
    unchanged = watcher.poll([feed])
    assert server.hits == [("/feed.xml", 304)]  # type: ignore[attr-defined]
    assert (unchanged.feeds_unchanged, unchanged.added, embedder.texts) == (1, [], embedded)

    server.items += [(second, "item two"), ("gone.html", "a page that is not there")]  # type: ignore[attr-defined]
    server.hits.clear()  # type: ignore[attr-defined]
    report = watcher.poll([feed])
    fetched = [path for path, _ in server.hits]  # type: ignore[attr-defined]
    assert fetched == ["/feed.xml", f"/news/{second}", "/news/gone.html"]  # the first item's page is not refetched
    assert len(report.added) == 2
    documents = Index.load(index).documents
    texts = [documents[doc_id].text for doc_id in report.added]
    assert any(_expected()[second]["first_sentence"][:60] in text for text in texts)
    assert any(SUMMARY in text for text in texts)  # the missing page: indexed from the feed's summary
    assert {_expected()[first]["title"], _expected()[second]["title"]} <= set(_titles(index).values())


def test_a_new_run_starts_with_a_conditional_get(server: ThreadingHTTPServer, index: Path) -> None:
    feed = f"http://127.0.0.1:{server.server_address[1]}/feed.xml"
    server.items.append(("cnn-arabic-2013-08-03.html", "cnn"))  # type: ignore[attr-defined]
    FeedWatcher.open(index, make_builder(HashEmbedder(), progress=False), Fetcher(min_delay=0)).poll([feed])
    server.hits.clear()  # type: ignore[attr-defined]
    embedder = HashEmbedder()
    again = FeedWatcher.open(index, make_builder(embedder, progress=False), Fetcher(min_delay=0)).poll([feed])
    assert server.hits == [("/robots.txt", 200), ("/feed.xml", 304)]  # type: ignore[attr-defined]
    assert again.added == [] and embedder.texts == 0


def test_watch_polls_a_bounded_number_of_times_without_sleeping(server: ThreadingHTTPServer, index: Path) -> None:
    feed = f"http://127.0.0.1:{server.server_address[1]}/feed.xml"
    watcher = FeedWatcher.open(index, make_builder(HashEmbedder(), progress=False), Fetcher(min_delay=0))
    slept: list[float] = []
    reports = watch(watcher, [feed, "http://127.0.0.1:1/unreachable.xml"], polls=3, interval=60, sleep=slept.append)
    assert slept == [60, 60] and len(reports) == 3
    assert reports[0].feeds_changed == 1 and reports[1].feeds_unchanged == 1
    assert all(len(r.errors) == 1 and "127.0.0.1:1" in r.errors[0] for r in reports)


def test_watch_needs_an_index(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="isnad index"):
        FeedWatcher.open(tmp_path / "none", make_builder(HashEmbedder(), progress=False))


def test_a_busy_index_retries_the_items_on_the_next_poll(server: ThreadingHTTPServer, index: Path) -> None:
    from tests.lock_holder import lock_held_elsewhere

    feed = f"http://127.0.0.1:{server.server_address[1]}/feed.xml"
    server.items.append(("elbaladtv-2020-12-25.html", "item"))  # type: ignore[attr-defined]
    watcher = FeedWatcher.open(index, make_builder(HashEmbedder(), progress=False), Fetcher(min_delay=0),
                               lock_timeout=0.1)
    with lock_held_elsewhere(index):
        busy = watcher.poll([feed])
    assert busy.added == [] and "not written this time" in busy.errors[0]
    server.hits.clear()  # type: ignore[attr-defined]
    retried = watcher.poll([feed])
    assert server.hits[0] == ("/feed.xml", 200)  # type: ignore[attr-defined]  # not a 304 hiding the item
    assert len(retried.added) == 1 and retried.added[0] in Index.load(index).documents


def test_the_page_url_travels_with_the_watched_document(server: ThreadingHTTPServer, index: Path) -> None:
    feed = f"http://127.0.0.1:{server.server_address[1]}/feed.xml"
    name = "sputnik-2020-03-17.html"
    server.items.append((name, "item"))  # type: ignore[attr-defined]
    report = FeedWatcher.open(index, make_builder(HashEmbedder(), progress=False), Fetcher(min_delay=0)).poll([feed])
    document = Index.load(index).documents[report.added[0]]
    url = getattr(document, "url", None) or document.source  # Document.url once the ingest branch is merged
    assert url == _expected()[name]["canonical"] and document.published == _expected()[name]["published"]


def test_an_item_with_its_full_article_needs_no_page(server: ThreadingHTTPServer, index: Path) -> None:
    feed = f"http://127.0.0.1:{server.server_address[1]}/feed.xml"
    full = "<p>قال المتحدث باسم وزارة النقل إن الخطة الجديدة تبدأ الشهر المقبل.</p><p>وأضاف أن التمويل متوفر.</p>"
    server.items.append(("not-fetched.html", "خطة النقل", full))  # type: ignore[attr-defined]
    report = FeedWatcher.open(index, make_builder(HashEmbedder(), progress=False), Fetcher(min_delay=0)).poll([feed])
    assert [p for p, _ in server.hits] == ["/robots.txt", "/feed.xml"]  # type: ignore[attr-defined]
    document = Index.load(index).documents[report.added[0]]
    assert document.title == "خطة النقل" and document.text.split("\n\n")[1] == "وأضاف أن التمويل متوفر."
