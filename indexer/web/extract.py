"""One HTML page to a Document: trafilatura for main text and metadata, htmldate for the date.

The page is decoded and parsed once (lxml); the same tree feeds furniture pruning, trafilatura's metadata
(which runs htmldate once, markup only), the headline and date rules, and the body extraction.
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import ipaddress
import re
import zlib
from dataclasses import dataclass, fields
from urllib.parse import urljoin, urlsplit

import courlan
import trafilatura
from charset_normalizer import from_bytes
from lxml.html import HtmlElement
from trafilatura.metadata import Document as PageMeta
from trafilatura.metadata import examine_meta, extract_meta_json

from isnad.indexer.clean import Cleaner
from isnad.indexer.types import Document, RawDocument
from isnad.indexer.web.dates import publication_date
from isnad.indexer.web.headline import headline
from isnad.indexer.web.prune import fold, prune_furniture, recover_lead

_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?\s*([\w.:-]+)""", re.I)
_LATIN_SINGLE_BYTE = {"iso8859-1", "cp1252", "ascii"}  # codecs.lookup() names
_GZIP_MAGIC = b"\x1f\x8b"
_MAX_PAGE_BYTES = 50_000_000
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")
_MIN_ARTICLE_CHARS = 200  # below this a page is a home/tag/error page, not an article
_ARABIC_LETTER = re.compile(r"[\u0620-\u064a\u0671-\u06d3\u06fa-\u06ff]")
_LATIN_LETTER = re.compile(r"[A-Za-z\u00c0-\u024f]")
_ARABIC_SCRIPT_LANGS = {"ar", "fa", "ur", "ps", "ku", "sd", "ug"}


@dataclass(frozen=True)
class Skipped:
    name: str
    reason: str


@dataclass(frozen=True)
class Article:
    """What one page yields before cleaning: the body text and where it came from."""

    text: str
    title: str | None
    published: str | None
    url: str | None
    site: str | None
    author: str | None
    lang: str | None


def canonical_url(url: str) -> str:
    """Tracking parameters (utm_*, ref, fbclid ...) stripped, host lower-cased; non-http URLs kept as given."""
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        return url
    return courlan.normalize_url(url, strict=True)


def decode_html(data: bytes, http_charset: str | None = None) -> str | None:
    """BOM, then strict UTF-8, then the HTTP charset, then <meta charset>, else charset-normalizer's guess.

    Valid UTF-8 wins over a declaration: Arabic in windows-1256 or ISO-8859-6 never forms valid UTF-8, so a
    page that decodes is UTF-8 whatever its label says. A single-byte Latin label (ISO-8859-1, windows-1252)
    on non-ASCII bytes is not trusted either: old Arabic sites sent it for windows-1256 pages, and those
    codecs decode any byte, so they cannot fail over; charset-normalizer decides."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data.decode("utf-8-sig", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    candidates = [http_charset] if http_charset else []
    if match := _META_CHARSET.search(data[:4096]):
        candidates.append(match.group(1).decode("ascii", "ignore"))
    for encoding in candidates:
        if _normal_codec(encoding) in _LATIN_SINGLE_BYTE:
            continue
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue  # a charset that lies: fall through to detection
    best = from_bytes(data).best()
    return None if best is None else str(best)


def _gunzip(data: bytes) -> bytes:
    """At most _MAX_PAGE_BYTES out: a small gzip bomb never fills the memory."""
    inflater = zlib.decompressobj(wbits=31)
    out = inflater.decompress(data, _MAX_PAGE_BYTES)
    if inflater.unconsumed_tail:
        raise ValueError(f"more than {_MAX_PAGE_BYTES} bytes once decompressed")
    if not inflater.eof:
        raise EOFError("cut off: the gzip stream ends early")
    return out


def _normal_codec(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return name.lower()


def extract_article(
    data: bytes, url: str | None = None, http_charset: str | None = None, fetched: str | None = None
) -> Article | Skipped:
    name = url or "page"
    if data.startswith(_GZIP_MAGIC):  # a saved .html.gz, or a WARC payload still Content-Encoded
        try:
            data = _gunzip(data)
        except (OSError, EOFError, zlib.error, ValueError) as exc:
            return Skipped(name, f"gzip data that does not decompress ({exc})")
    if not data.strip():
        return Skipped(name, "empty page")
    html = decode_html(data, http_charset)
    if html is None or len(_CONTROL_CHARS.findall(html, 0, 4096)) > 40:
        return Skipped(name, "binary content, not HTML")
    tree = trafilatura.load_html(html)
    if tree is None:
        return Skipped(name, "not parseable as HTML")
    meta = _page_meta(tree)
    page_url = _page_url(tree, meta.url, url)
    host = (urlsplit(page_url).hostname or None) if page_url else None
    prune_furniture(tree, html, host)
    text = _main_text(tree, page_url)
    if lead := recover_lead(tree, meta.description, text):
        text = f"{lead}\n{text}"
    if len(text) < _MIN_ARTICLE_CHARS:
        return Skipped(name, f"no article (only {len(text)} characters of main text)")
    published = publication_date(tree, page_url) or (fetched[:10] if fetched else None)
    title = headline(tree, meta.title, meta.sitename, host)
    return Article(
        text=text,
        title=title.text,
        published=published,
        url=page_url,
        site=host.removeprefix("www.") if host else (meta.sitename or None),
        author=_person_author(meta.author, title.site_names),
        lang=_language(tree, text),
    )


def extract_page(
    data: bytes, url: str | None = None, http_charset: str | None = None, fetched: str | None = None
) -> Document | Skipped:
    article = extract_article(data, url, http_charset, fetched)
    if isinstance(article, Skipped):
        return article
    # Today's cleaning rules still run on the extracted text.
    return Cleaner().run(raw_document(article, path=url or "page"))


def web_doc_id(article_url: str | None, text: str) -> str:
    """A page's doc_id: its canonical URL hashed, so the same article saved twice is one document."""
    key = canonical_url(article_url) if article_url else text
    return "web-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def raw_document(article: Article, path: str, **extra_fields: str | bool | None) -> RawDocument:
    """The article as the indexer's RawDocument (cleaned later, by whoever indexes it).

    url/site/author/lang (and `extra_fields` such as summary_only) travel when RawDocument has those
    fields (the ingest branch adds them); until then `source` carries the URL (else the site)."""
    known = {f.name for f in fields(RawDocument)}
    extra = {"url": article.url, "site": article.site, "author": article.author, "lang": article.lang, **extra_fields}
    source = article.site if "url" in known else (article.url or article.site)
    return RawDocument(doc_id=web_doc_id(article.url, article.text), text=article.text, path=path,
                       title=article.title, published=article.published, source=source,
                       **{k: v for k, v in extra.items() if k in known})


def _page_meta(tree: HtmlElement) -> PageMeta:
    """Meta tags and JSON-LD only: trafilatura's full extract_metadata also copies the whole tree to look
    for an author in the body, and reads categories, tags and licence, which nothing here uses."""
    meta = examine_meta(tree)
    with contextlib.suppress(Exception):  # trafilatura's JSON-LD reader fails on malformed data: tags remain
        meta = extract_meta_json(tree, meta)
    return meta


def _person_author(author: str | None, site_names: frozenset[str]) -> str | None:
    """Bylines often name the site ("Akhbarelyom; Heba Musa"): parts equal to a site name are dropped, and
    so are one-word handles, as trafilatura rules too."""
    if not author:
        return None
    people = [part.strip() for part in re.split(r"[;,،]|\band\b| و ", author) if part.strip()]
    people = [p for p in people if " " in p and fold(p).casefold() not in site_names]
    return "; ".join(people) or None


def _main_text(tree: HtmlElement, url: str | None) -> str:
    """Precision first (drops datelines and captions, skips the slow fallbacks); balanced when it finds
    too little, so a page unlike trafilatura's expectations still yields its article."""
    for precise in (True, False):
        body = trafilatura.bare_extraction(tree, url=url, fast=True, favor_precision=precise, include_comments=False)
        text = (body.text or "") if body else ""
        if len(text) >= _MIN_ARTICLE_CHARS:
            break
    return text


def _page_url(tree: HtmlElement, meta_url: str | None, given: str | None) -> str | None:
    """<link rel=canonical> (resolved against the known URL), then og:url, then the URL it was fetched from.

    Only http(s) URLs with a host name: a javascript: canonical or an og:url on a bare IP is never a link."""
    canonical = [urljoin(given or "", str(c).strip()) for c in tree.xpath("//link[@rel='canonical']/@href")[:1]]
    for candidate in (*canonical, meta_url, given):
        if candidate and _is_named_http_url(candidate.strip()):
            return candidate.strip()
    return None


def _is_named_http_url(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return False
    try:
        ipaddress.ip_address(parts.hostname)
    except ValueError:
        return True
    return False


def _language(tree: HtmlElement, text: str) -> str | None:
    """The declared language unless the text's script contradicts it (a page in Arabic declaring en-US)."""
    declared = (tree.get("lang") or "").split("-")[0].lower() or None
    sample = text[:2000]
    arabic, latin = len(_ARABIC_LETTER.findall(sample)), len(_LATIN_LETTER.findall(sample))
    if arabic > 2 * latin:
        return declared if declared in _ARABIC_SCRIPT_LANGS else "ar"
    return declared
