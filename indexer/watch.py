"""`isnad watch`: poll feeds politely and index their new articles through the index's own write path.

Each poll fetches every feed with a conditional GET (indexer/fetch.py: ETag / Last-Modified, robots.txt, one
request at a time per host, timeout, size cap). An unchanged feed is one 304 and nothing else. For a changed
feed, items not seen before become documents: an item carrying its full article as is, otherwise its linked
page, fetched and extracted (indexer/web); when the page cannot be had, the item's summary, marked summary_only.
New documents go in with `apply_changes` (indexer/changes.py), the function behind POST /documents: under the
folder's writer lock, embedding only them. They are recorded as API documents, so a folder re-index keeps them.

State lives beside the index: the feeds' validators and the item links already indexed (JSON files).
The loop is bounded (`polls`) and its clock and sleep are injectable, so tests never sleep.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import lxml.html
from lxml import etree

from isnad.indexer.changes import IndexBusy, IndexWriteError, apply_changes
from isnad.indexer.fetch import Fetcher, FetchError, ValidatorStore
from isnad.indexer.index import IndexBuilder
from isnad.indexer.types import RawDocument
from isnad.indexer.web import Skipped, canonical_url, read_feed
from isnad.indexer.web.extract import Article, extract_article, raw_document
from isnad.indexer.web.feed import FeedItem

log = logging.getLogger(__name__)
VALIDATORS_FILE = "watch-validators.json"
SEEN_FILE = "watch-seen.json"
_MIN_ITEM_CHARS = 40  # a feed item with less text than this (and no page) is not an article
_BLOCK_END = re.compile(r"(?i)</(p|div|li|h[1-6]|blockquote)>|<br\s*/?>")


@dataclass
class PollReport:
    feeds_changed: int = 0  # answered 200
    feeds_unchanged: int = 0  # answered 304
    pages_fetched: int = 0
    added: list[str] = field(default_factory=list)  # doc_ids written to the index
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (item or page, why)
    errors: list[str] = field(default_factory=list)  # feeds that could not be fetched or read


class SeenItems:
    """Canonical links of the items already indexed, in one JSON file replaced atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._links: set[str] = set(json.loads(path.read_text("utf-8")))
        except (FileNotFoundError, ValueError):
            self._links = set()

    def __contains__(self, link: object) -> bool:
        return link in self._links

    def add(self, links: Sequence[str]) -> None:
        if not set(links) - self._links:
            return
        self._links.update(links)
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        tmp.write_text(json.dumps(sorted(self._links), ensure_ascii=False, indent=0), "utf-8")
        os.replace(tmp, self.path)


@dataclass
class FeedWatcher:
    """Polls `feeds` into the index at `index`; `builder` embeds (make_builder, as the index command does)."""

    index: Path
    builder: IndexBuilder
    fetcher: Fetcher
    seen: SeenItems
    lock_timeout: float | None = None
    today: Callable[[], str] = field(default=lambda: datetime.now(UTC).date().isoformat())

    @classmethod
    def open(cls, index: Path, builder: IndexBuilder, fetcher: Fetcher | None = None,
             lock_timeout: float | None = None) -> FeedWatcher:
        """State files in the index folder; a Fetcher with its validators there unless one is given."""
        if not (index / "manifest.json").is_file():
            raise FileNotFoundError(f"no index at {index}: build one with `isnad index DIR --index {index}` first")
        fetcher = fetcher or Fetcher()
        if fetcher.validators is None:
            fetcher.validators = ValidatorStore(index / VALIDATORS_FILE)
        return cls(index, builder, fetcher, SeenItems(index / SEEN_FILE), lock_timeout)

    def poll(self, feeds: Sequence[str]) -> PollReport:
        report = PollReport()
        new: dict[str, RawDocument] = {}  # canonical item link -> document
        changed: list[str] = []  # feeds that answered 200
        for feed_url in feeds:
            try:
                result = self.fetcher.get(feed_url)
            except FetchError as exc:
                report.errors.append(str(exc))
                continue
            if result.not_modified:
                report.feeds_unchanged += 1
                continue
            report.feeds_changed += 1
            changed.append(feed_url)
            items = read_feed(result.body, base_url=result.url)
            if not items:
                log.warning("%s: no items (an empty feed, or not RSS/Atom)", feed_url)
            for item in items:
                link = canonical_url(item.url) if item.url else f"{feed_url}#{item.title or ''}"
                if link in self.seen or link in new:
                    continue
                document = self._document(item, report)
                if isinstance(document, Skipped):
                    report.skipped.append((document.name, document.reason))
                else:
                    new[link] = document
        for link, raw in list(new.items()):
            if not self.builder.cleaner.run(raw).text.strip():  # apply_changes would refuse the whole batch
                report.skipped.append((raw.path, "no text left after cleaning"))
                del new[link]
        if not new:
            return report
        try:
            apply_changes(self.index, self.builder, add=list(new.values()), origin="api",
                          lock_timeout=self.lock_timeout)
        except (IndexBusy, IndexWriteError) as exc:  # a long watch outlives a busy or full disk: next poll
            report.errors.append(f"{len(new)} new articles not written this time: {exc}")
            for feed_url in changed:  # or the next poll's 304 would hide these items for good
                if self.fetcher.validators is not None:
                    self.fetcher.validators.forget(feed_url)
            return report
        self.seen.add(list(new))  # only once written: a failed write retries these next time
        report.added = [d.doc_id for d in new.values()]
        return report

    def _document(self, item: FeedItem, report: PollReport) -> RawDocument | Skipped:
        """An item carrying its full article is that document (no page fetched); else the linked page's
        article; else the item's summary, marked summary_only."""
        text = _html_text(item.content)
        if not item.summary_only and len(text) >= _MIN_ITEM_CHARS:
            return self._from_feed(item, text, "content")
        why = "the item has no link"
        if item.url:
            try:
                page = self.fetcher.get(item.url, conditional=False)
                report.pages_fetched += 1
                article = extract_article(page.body, url=page.url, http_charset=page.charset)
                why = article.reason if isinstance(article, Skipped) else ""
            except FetchError as exc:
                article, why = Skipped(item.url, str(exc)), str(exc)
            if isinstance(article, Article):
                # the page's own headline and date first: the same article read from a folder is identical
                article = replace(article, title=article.title or item.title,
                                  published=article.published or item.published or self.today())
                return raw_document(article, path=item.url)
        if len(text) < _MIN_ITEM_CHARS:
            return Skipped(item.url or item.title or "feed item", f"no page ({why}) and no content in the feed")
        log.info("%s: indexed from the feed's summary (%s)", item.url, why)
        return self._from_feed(item, text, "summary")

    def _from_feed(self, item: FeedItem, text: str, kind: str) -> RawDocument:
        host = urlsplit(item.url).hostname if item.url else None
        article = Article(text=text, title=item.title, published=item.published or self.today(), url=item.url,
                          site=host.removeprefix("www.") if host else None, author=None, lang=None)
        return raw_document(article, path=item.url or f"feed item {item.title!r}", summary_only=kind == "summary")


def watch(watcher: FeedWatcher, feeds: Sequence[str], polls: int | None = None, interval: float = 900.0,
          sleep: Callable[[float], None] = time.sleep,
          on_poll: Callable[[int, PollReport], None] | None = None) -> list[PollReport]:
    """Poll `polls` times (None: until interrupted), `interval` seconds apart; returns every poll's report."""
    reports: list[PollReport] = []
    n = 0
    while polls is None or n < polls:
        if n:
            sleep(interval)
        reports.append(watcher.poll(feeds))
        n += 1
        if on_poll:
            on_poll(n, reports[-1])
        if polls is None:
            reports = reports[-1:]  # an endless watch keeps only the latest report
    return reports


def _html_text(fragment: str) -> str:
    """A feed item's HTML content as plain text, one paragraph a line."""
    if not fragment.strip():
        return ""
    marked = _BLOCK_END.sub("\n", fragment)
    try:
        text = lxml.html.fragment_fromstring(marked, create_parent="div").text_content()
    except (ValueError, etree.ParserError):
        text = marked
    return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())

