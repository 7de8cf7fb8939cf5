"""One HTML page to a Document: trafilatura for main text and metadata, htmldate for the date."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import courlan
import trafilatura
from charset_normalizer import from_bytes
from htmldate import find_date

from isnad.indexer.clean import Cleaner
from isnad.indexer.types import Document, RawDocument

_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?\s*([\w.:-]+)""", re.I)
_MIN_ARTICLE_CHARS = 200  # below this a page is a home/tag/error page, not an article


@dataclass(frozen=True)
class Skipped:
    name: str
    reason: str


def canonical_url(url: str) -> str:
    """Tracking parameters (utm_*, ref, fbclid ...) stripped, host lower-cased; non-http URLs kept as given."""
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        return url
    return courlan.normalize_url(url, strict=True)


def decode_html(data: bytes, http_charset: str | None = None) -> str | None:
    """HTTP charset, then BOM, then <meta charset>, else charset-normalizer's guess."""
    candidates: list[str] = []
    if http_charset:
        candidates.append(http_charset)
    if data.startswith(b"\xef\xbb\xbf"):
        candidates.append("utf-8-sig")
    if match := _META_CHARSET.search(data[:4096]):
        candidates.append(match.group(1).decode("ascii", "ignore"))
    for encoding in candidates:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue  # a charset that lies: fall through to detection
    best = from_bytes(data).best()
    return None if best is None else str(best)


def extract_page(
    data: bytes, url: str | None = None, http_charset: str | None = None, fetched: str | None = None
) -> Document | Skipped:
    name = url or "page"
    if not data.strip():
        return Skipped(name, "empty page")
    html = decode_html(data, http_charset)
    if html is None or sum(1 for c in html[:4096] if ord(c) < 32 and c not in "\n\r\t\f") > 40:
        return Skipped(name, "binary content, not HTML")
    # Comments stay on: off, trafilatura drops some sites' lead paragraph (measured on the sputnik page).
    doc = trafilatura.bare_extraction(html, url=url, with_metadata=True, include_comments=True, as_dict=True)
    text = (doc.get("text") or "") if doc else ""
    if len(text) < _MIN_ARTICLE_CHARS:
        return Skipped(name, f"no article (only {len(text)} characters of main text)")
    page_url = doc.get("url") or url
    if page_url and urlsplit(page_url).scheme.lower() not in ("http", "https"):
        page_url = url  # a javascript: or data: canonical link is never a citation's link
    title = (doc.get("title") or "").strip() or None
    site = doc.get("sitename") or (urlsplit(page_url).hostname if page_url else None)
    if title and site:
        for sep in (" - ", " | ", " – "):
            if title.endswith(sep + site):
                title = title[: -len(sep + site)].strip()
    published = find_date(html, original_date=True, url=page_url) or (fetched[:10] if fetched else None)
    key = canonical_url(page_url) if page_url else text
    doc_id = "web-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    # Today's cleaning rules still run on the extracted text.
    raw = RawDocument(doc_id=doc_id, text=text, path=name, title=title, published=published, source=site,
                      url=page_url, site=site, author=doc.get("author"), lang=doc.get("language"))
    return Cleaner().run(raw)
