"""Web archive fixtures made from the shared Arabic news pages (../shared/corpus/web/html): Windows-1256
copies, a WARC.gz written with warcio, an RSS feed linking to the pages, and bad inputs."""

from __future__ import annotations

import gzip
import io
import json
import re
import unicodedata
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

PAGES = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "web" / "html"
if not PAGES.is_dir():
    PAGES = Path("/work/shared/corpus/web/html")
needs_pages = pytest.mark.skipif(not (PAGES / "expected.json").is_file(), reason="shared web corpus not present")

FULL_ITEM_TEXT = ("افتتحت بلدية حمص اليوم حديقة عامة جديدة على ضفاف نهر العاصي بمساحة تبلغ عشرين ألف متر مربع. "
                  "وقال رئيس البلدية إن الحديقة تضم ملاعب للأطفال وممرات للمشاة ومكتبة صغيرة مفتوحة للجميع. "
                  "وأضاف أن أعمال الزراعة استمرت ستة أشهر بمشاركة متطوعين من أبناء المدينة.")
SUMMARY_ITEM_TEXT = "أعلنت وزارة الزراعة السورية عن موسم قمح وفير هذا العام في محافظة الحسكة."


def fold(text: str | None) -> str:
    return " ".join(unicodedata.normalize("NFKC", text or "").split())


def expected() -> dict[str, dict[str, str]]:
    path = PAGES / "expected.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def page_bytes(name: str) -> bytes:
    return (PAGES / name).read_bytes()


def cp1256_copy(data: bytes, declare: str = "windows-1256") -> bytes:
    """The page re-encoded as Windows-1256, its <meta> charset saying `declare` (a lie when it says utf-8)."""
    text = re.sub(r"charset=([\"']?)utf-8", lambda m: f"charset={m.group(1)}{declare}", data.decode("utf-8"),
                  flags=re.I)
    return text.encode("cp1256", errors="xmlcharrefreplace")


def write_warc(path: Path, records: list[tuple[str, bytes, str]], date: str = "2024-01-02T03:04:05Z",
               not_found: bool = True) -> Path:
    """A gzipped WARC of HTTP responses: (target URI, body, content type) each, after a request record, and
    (`not_found`) a 404 last: none of those carry an article."""
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=path.name.endswith(".gz"))
        for uri, body, content_type in records:
            writer.write_record(writer.create_warc_record(uri, "request", payload=io.BytesIO(b"GET / HTTP/1.1\r\n\r\n"),
                                                          warc_headers_dict={"WARC-Date": date}))
            headers = StatusAndHeaders("200 OK", [("Content-Type", content_type)], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(uri, "response", payload=io.BytesIO(body),
                                                          http_headers=headers,
                                                          warc_headers_dict={"WARC-Date": date}))
        if not not_found:
            return path
        missing = StatusAndHeaders("404 Not Found", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record("https://example.org/gone", "response",
                                                      payload=io.BytesIO(b"<html>not found</html>"),
                                                      http_headers=missing))
    return path


def rss(items: list[dict[str, str]]) -> bytes:
    """An RSS 2.0 feed; an item's `content` goes in content:encoded (full text), `summary` in description."""
    out = ['<?xml version="1.0" encoding="utf-8"?>',
           '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>',
           "<title>أخبار</title><link>https://news.example.org/</link><description>d</description>"]
    for item in items:
        out.append("<item>")
        out.append(f"<title>{escape(item['title'])}</title><link>{escape(item['link'])}</link>")
        if "date" in item:
            out.append(f"<pubDate>{item['date']}</pubDate>")
        if "summary" in item:
            out.append(f"<description>{escape(item['summary'])}</description>")
        if "content" in item:
            out.append(f"<content:encoded><![CDATA[{item['content']}]]></content:encoded>")
        out.append("</item>")
    out.append("</channel></rss>")
    return "\n".join(out).encode("utf-8")


def feed_with_links(names: list[str]) -> bytes:
    """Items linking to these pages (with tracking parameters), one full-content item, one summary-only item
    whose page is not in the archive."""
    items = [{"title": f"رابط {i}", "link": expected()[name]["url"] + "?utm_source=rss&utm_medium=feed",
              "summary": "ملخص قصير"} for i, name in enumerate(names)]
    items.append({"title": "حديقة جديدة في حمص", "link": "https://news.example.org/homs-park",
                  "date": "Tue, 02 Jan 2024 10:00:00 GMT",
                  "content": "".join(f"<p>{s.strip()}.</p>" for s in FULL_ITEM_TEXT.split(".") if s.strip())})
    items.append({"title": "موسم قمح وفير في الحسكة", "link": "https://news.example.org/wheat?ref=home",
                  "date": "Wed, 03 Jan 2024 08:00:00 GMT", "summary": SUMMARY_ITEM_TEXT})
    return rss(items)


def gzip_bytes(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)
