"""Web archives in: saved HTML pages (gzipped or not), WARC / WARC.gz crawls and RSS / Atom feeds.

Each page goes through `indexer.web.extract_page` (main text, headline, date, site, canonical URL) and comes
out as a `RawDocument` carrying its source; the builder's cleaning then runs on the extracted text again,
which leaves it as it is (the extractor already cleaned it). Problems are `Skipped` with the file (or
`file#record`) and why; they never stop a run.

Duplicates (`WebDocuments`): a page is the same article as one already read when its canonical URL is
(courlan: tracking parameters such as utm_* and ref dropped, host lower-cased), or when its extracted text is
the same on the same site. The same text on two sites (a wire story) stays two documents.
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit
from xml.parsers import expat

import lxml.html
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from isnad.indexer.skipped import Duplicate, Skipped
from isnad.indexer.text.script import arabic_share
from isnad.indexer.types import Document, RawDocument
from isnad.indexer.web import Skipped as PageSkipped
from isnad.indexer.web import canonical_url, extract_page, read_feed

log = logging.getLogger(__name__)

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/xml", "text/xml")
_MAX_PAGE_BYTES = 20_000_000  # a record or file larger than this is no article page
_DECLARED_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?\s*([\w.:-]+)""", re.I)
_CANONICAL = re.compile(rb"""<link[^>]+rel=["']?canonical["']?[^>]*>""", re.I)
_BLOCKS = ("p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr", "section", "article")


@dataclass(frozen=True)
class FeedPayload:
    """A feed file, or one found inside a WARC: read once every page of the run is known, so its links can be
    matched. `maybe`: generic XML from a crawl (a sitemap as often as a feed): no items is no problem then."""

    where: str
    data: bytes
    url: str | None
    maybe: bool = False


# --- pages ------------------------------------------------------------------------------------------------


def read_page(data: bytes, where: str, url: str | None = None, http_charset: str | None = None,
              fetched: str | None = None) -> RawDocument | Skipped:
    """One HTML page's bytes to a raw document with its source, or why not (warnings logged here name `where`)."""
    charset = _settled_charset(data, where, http_charset)
    _warn_bad_canonical(data, where)
    page = extract_page(data, url=url, http_charset=charset, fetched=fetched)
    if isinstance(page, PageSkipped):
        return Skipped(where, page.reason)
    return raw_from_page(page, where)


def raw_from_page(page: Document, where: str) -> RawDocument:
    page_url = page.url if page.url and _is_http(page.url) else None
    if page.url and page_url is None:
        log.warning("%s: dropped its URL %r: only http/https URLs are kept as a source", where, page.url[:80])
    return RawDocument(doc_id=page.doc_id, text=page.text, path=where, title=page.title, published=page.published,
                       source=page.source, url=page_url, site=page.site, author=page.author,
                       lang=page.lang or guess_lang(page.text), summary_only=page.summary_only)


def read_html_file(path: Path) -> RawDocument | Skipped:
    try:
        data = path.read_bytes()
    except OSError as exc:
        return Skipped(str(path), f"unreadable: {exc.strerror}")
    if path.name.lower().endswith(".gz"):
        # At most _MAX_PAGE_BYTES out: a small gzip bomb never fills the memory
        inflater = zlib.decompressobj(wbits=31)
        try:
            data = inflater.decompress(data, _MAX_PAGE_BYTES + 1)
        except zlib.error as exc:
            return Skipped(str(path), f"not a readable gzip file ({exc})")
        if not inflater.eof and len(data) <= _MAX_PAGE_BYTES:
            return Skipped(str(path), "not a readable gzip file (cut off: the stream ends early)")
    if len(data) > _MAX_PAGE_BYTES:
        return Skipped(str(path), f"more than {_MAX_PAGE_BYTES} bytes: too large for one article page")
    return read_page(data, str(path))


def guess_lang(text: str) -> str | None:
    """"ar" for text that is mostly Arabic letters; otherwise unknown (None), never a guess."""
    return "ar" if arabic_share(text[:4000]) > 0.5 else None


def _is_http(url: str) -> bool:
    return urlsplit(url).scheme.lower() in ("http", "https")


def _settled_charset(data: bytes, where: str, http_charset: str | None) -> str | None:
    """The charset to read `data` in, None to let the extractor detect it. Valid UTF-8 with non-ASCII bytes is
    UTF-8 whatever the page declares (Arabic single-byte text never forms UTF-8 by chance); a declared charset
    that does not decode the bytes is a lie: warned about, and Windows-1256 tried before detection."""
    declared_match = _DECLARED_CHARSET.search(data[:4096])
    declared = http_charset or (declared_match.group(1).decode("ascii", "ignore") if declared_match else None)
    try:
        data.decode("utf-8")
        utf8 = not data.isascii()
    except UnicodeDecodeError:
        utf8 = False
    if utf8:
        if declared and _codec(declared) not in ("utf-8", "utf-8-sig"):
            log.warning("%s: declares charset %s but is UTF-8; read as UTF-8", where, declared)
        return "utf-8"
    if declared:
        try:
            data.decode(declared)
            return http_charset
        except (UnicodeDecodeError, LookupError):
            pass
    # Undeclared, or a declaration that lies: Arabic archives are mostly Windows-1256, which general detection
    # misses on minified pages (charset-normalizer read one fixture as mac_iceland)
    guess = "windows-1256" if _reads_as_arabic(data) else None
    if declared:
        log.warning("%s: declares charset %s, which does not decode it; read as %s", where, declared,
                    guess or "the detected charset")
    return guess


def _reads_as_arabic(data: bytes) -> bool:
    """Whether Windows-1256 turns the non-ASCII letters into Arabic (> 80%): a Latin page (é, à, ç keep their
    places in Windows-1256) does not."""
    text = data.decode("cp1256", errors="replace")
    letters = [ch for ch in text if ch.isalpha() and not ch.isascii()]
    return len(letters) >= 20 and arabic_share("".join(letters)) > 0.8


def _codec(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return name.lower()


def _warn_bad_canonical(data: bytes, where: str) -> None:
    for tag in _CANONICAL.findall(data[:200_000]):
        href = re.search(rb"""href=["']?\s*([^"'\s>]+)""", tag, re.I)
        if href and not _is_http(href.group(1).decode("utf-8", "replace")):
            scheme = href.group(1).decode("utf-8", "replace").split(":", 1)[0][:20]
            log.warning("%s: canonical link is a %s: URL, not http/https; ignored", where, scheme)


# --- WARC -------------------------------------------------------------------------------------------------


def read_warc(path: Path, web: WebDocuments) -> Iterator[Skipped | FeedPayload]:
    """Adds the HTML response records of a WARC (streamed: one record in memory at a time) to `web` as pages;
    yields feed records as `FeedPayload`s, and what was skipped. The record's target URI and date fill what
    the page lacks. A cut-off file is named: warcio reads a truncated last record without complaint, so the
    bytes read are compared with its Content-Length. A page whose target URI was read already is not
    extracted again (crawls revisit)."""
    try:
        fh = path.open("rb")
    except OSError as exc:
        yield Skipped(str(path), f"unreadable: {exc.strerror}")
        return
    with fh:
        records = ArchiveIterator(fh)
        n = 0
        while True:
            try:
                record = next(records)
            except StopIteration:
                break
            except (ArchiveLoadFailed, OSError, EOFError, zlib.error, ValueError) as exc:
                yield Skipped(str(path), f"unreadable after record {n}: {exc}".strip())
                return
            n += 1
            try:
                item = _warc_record(record, f"{path}#{n}", web)
            except (ArchiveLoadFailed, OSError, EOFError, zlib.error, ValueError) as exc:
                yield Skipped(f"{path}#{n}", f"unreadable record: {exc}")
                return
            if isinstance(item, RawDocument):
                item = web.add(item, also=record.rec_headers.get_header("WARC-Target-URI"))
            if item is not None:
                yield item


def _warc_record(record: object, where: str, web: WebDocuments) -> RawDocument | Skipped | FeedPayload | None:
    rec_type = record.rec_type  # type: ignore[attr-defined]
    if rec_type not in ("response", "resource"):
        return None
    headers = record.http_headers  # type: ignore[attr-defined]
    content_type = (headers.get_header("Content-Type") if headers is not None else None) or \
        record.rec_headers.get_header("Content-Type") or ""  # type: ignore[attr-defined]
    mime = content_type.split(";", 1)[0].strip().lower()
    if headers is not None and not headers.get_statuscode().startswith("2"):
        return None  # redirects and errors carry no article
    is_html, is_feed = mime in _HTML_TYPES, mime in _FEED_TYPES or mime.endswith(("+rss", "rss+xml", "atom+xml"))
    if not (is_html or is_feed):
        return None
    url = record.rec_headers.get_header("WARC-Target-URI")  # type: ignore[attr-defined]
    where = f"{where} ({url})" if url else where
    seen = web.by_url(url) if url and is_html else None
    if seen is not None:
        return Duplicate(where, f"duplicate of {seen.path} (same URL); indexed once")
    data = record.content_stream().read(_MAX_PAGE_BYTES + 1)  # type: ignore[attr-defined]
    raw = record.raw_stream  # type: ignore[attr-defined]
    while raw.read(1 << 16):  # drain what the payload decoder left (chunked trailers), then count
        pass
    missing = getattr(raw, "limit", 0)
    if missing > 0:
        return Skipped(where, f"truncated: the record ends {missing} bytes short of its Content-Length "
                              f"(the file was cut off)")
    if len(data) > _MAX_PAGE_BYTES:
        return Skipped(where, "too large for one article page")
    if is_feed:
        return FeedPayload(where, data, url, maybe=mime in ("application/xml", "text/xml"))
    match = re.search(r"charset=([\w.:-]+)", content_type, re.I)
    date = record.rec_headers.get_header("WARC-Date")  # type: ignore[attr-defined]
    return read_page(data, where, url=url, http_charset=match.group(1) if match else None, fetched=date)


# --- feeds ------------------------------------------------------------------------------------------------


def read_feed_items(data: bytes, where: str, pages: WebDocuments, base_url: str | None = None,
                    maybe: bool = False) -> list[RawDocument | Skipped]:
    """A feed's items: full content is a document; an item that only links to a page read in the same run
    fills what that page lacks (no second document); otherwise its summary is a document marked
    `summary_only`. `maybe`: see `FeedPayload`."""
    if not data.strip():
        return [Skipped(where, "empty feed file")]
    malformed = _xml_problem(data)
    items = read_feed(data, base_url=base_url)
    if not items and maybe:
        log.info("%s: XML without feed items; not a feed", where)
        return []
    if not items:
        why = f"not well-formed XML ({malformed})" if malformed else "no RSS or Atom items"
        return [Skipped(where, f"not a readable feed: {why}")]
    if malformed:
        log.warning("%s: not well-formed XML (%s); read %d items leniently", where, malformed, len(items))
    out: list[RawDocument | Skipped] = []
    for i, item in enumerate(items, start=1):
        here = f"{where}#item{i}"
        url = item.url if item.url and _is_http(item.url) else None
        if item.url and url is None:
            log.warning("%s: item link %r is not http/https; ignored", here, item.url[:80])
        page = pages.by_url(url) if url else None
        if page is not None:
            pages.fill(page.doc_id, title=item.title, published=item.published)
            continue
        text = fragment_text(item.content)
        if not text.strip():
            out.append(Skipped(here, "item has neither content nor summary"))
            continue
        url = canonical_url(url) if url else None  # a feed's links carry tracking parameters (utm_*, ref)
        key = url or text
        host = urlsplit(url).hostname if url else None
        out.append(RawDocument(
            doc_id="web-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16], text=text, path=here,
            title=(item.title or "").strip() or None, published=item.published, source=host, url=url, site=host,
            lang=guess_lang(text), summary_only=item.summary_only))
    return out


def fragment_text(html: str) -> str:
    """Text of an HTML fragment (a feed item's content), one paragraph per block element or <br>."""
    if "<" not in html:
        return html
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (ValueError, lxml.etree.ParserError):
        return html
    for br in root.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for block in root.iter(*_BLOCKS):
        block.tail = "\n\n" + (block.tail or "")
    return str(root.text_content())


def _xml_problem(data: bytes) -> str | None:
    """None for well-formed XML, else expat's complaint."""
    parser = expat.ParserCreate()
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        return str(exc)
    return None


# --- one run ----------------------------------------------------------------------------------------------


def read_web_archive(pages: list[Path], warcs: list[Path], feeds: list[Path],
                     note: Callable[[Skipped], None]) -> list[RawDocument]:
    """The documents of these page, WARC and feed files, each article once; `note` gets what was skipped.
    Pages and WARCs first, so that a feed item can be matched to a page read in the same run."""
    web = WebDocuments()
    payloads: list[FeedPayload] = []
    for path in pages:
        page = read_html_file(path)
        if isinstance(page, Skipped) or (page := web.add(page)) is not None:
            note(page)
    for path in warcs:
        for item in read_warc(path, web):
            payloads.append(item) if isinstance(item, FeedPayload) else note(item)
    payloads[:0] = [_feed_file(path) for path in feeds]
    for feed in payloads:
        for entry in read_feed_items(feed.data, feed.where, web, base_url=feed.url, maybe=feed.maybe):
            if isinstance(entry, Skipped) or (entry := web.add(entry)) is not None:
                note(entry)
    return web.documents()


def _feed_file(path: Path) -> FeedPayload:
    maybe = path.suffix.lower() == ".xml"  # .rss and .atom say they are feeds; .xml may be any XML
    try:
        return FeedPayload(str(path), path.read_bytes(), None, maybe)
    except OSError:
        return FeedPayload(str(path), b"", None)  # named as an empty feed


# --- duplicates -------------------------------------------------------------------------------------------


class WebDocuments:
    """The web documents of one run, each article once: by canonical URL, and by text on the same site."""

    def __init__(self) -> None:
        self._docs: dict[str, RawDocument] = {}
        self._urls: dict[str, str] = {}  # canonical URL -> doc_id
        self._texts: dict[tuple[str, str], str] = {}  # (site, text sha256) -> doc_id

    def add(self, raw: RawDocument, also: str | None = None) -> Duplicate | None:
        """Keep `raw`, or say which document it repeats. `also`: another URL of the page (where a crawl
        fetched it), which finds it again too."""
        url = canonical_url(raw.url) if raw.url else None
        site = (urlsplit(raw.url).hostname or "") if raw.url else (raw.site or "")
        text_key = (site.removeprefix("www."), hashlib.sha256(raw.text.encode("utf-8")).hexdigest())
        first = self._urls.get(url) if url else None
        first = first or self._texts.get(text_key) or (raw.doc_id if raw.doc_id in self._docs else None)
        if first is not None:
            kept = self._docs[first]
            why = f"same URL {url}" if url and self._urls.get(url) == first else "same text on the same site"
            return Duplicate(raw.path, f"duplicate of {kept.path} ({why}); indexed once")
        self._docs[raw.doc_id] = raw
        if url:
            self._urls[url] = raw.doc_id
        if also and _is_http(also):
            self._urls.setdefault(canonical_url(also), raw.doc_id)
        self._texts[text_key] = raw.doc_id
        return None

    def by_url(self, url: str) -> RawDocument | None:
        if not _is_http(url):
            return None
        doc_id = self._urls.get(canonical_url(url))
        return self._docs.get(doc_id) if doc_id else None

    def fill(self, doc_id: str, title: str | None, published: str | None) -> None:
        """A feed item's headline and date fill what its page lacks."""
        raw = self._docs[doc_id]
        self._docs[doc_id] = replace(raw, title=raw.title or title, published=raw.published or published)

    def documents(self) -> list[RawDocument]:
        return list(self._docs.values())
