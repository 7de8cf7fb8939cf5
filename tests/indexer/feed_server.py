"""A loopback HTTP server (127.0.0.1, port 0) serving an RSS feed whose items link to the web fixtures.

`httpd.items` is the feed's (page name, title) list, changed by the test; `httpd.hits` every (path, status).
The feed's ETag is a hash of its body, so an unchanged list answers 304 to a conditional GET."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PAGES = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "web" / "html"
if not PAGES.is_dir():
    PAGES = Path("/work/shared/corpus/web/html")
SUMMARY = "ملخص الخبر كما ورد في الخلاصة: أعلنت الوزارة عن خطة جديدة للنقل العام في العاصمة."


class RecordingHandler(BaseHTTPRequestHandler):
    """Quiet, and every answer is recorded in `server.hits` as (path, status), counted on the server side."""

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.server.hits.append((self.path, status))  # type: ignore[attr-defined]
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Handler(RecordingHandler):
    def do_GET(self) -> None:
        server = self.server
        if self.path == "/robots.txt":
            return self._send(200, b"User-agent: *\nAllow: /\n")
        if self.path == "/feed.xml":
            body = _rss(server.items, f"http://127.0.0.1:{server.server_address[1]}")  # type: ignore[attr-defined]
            etag = '"' + hashlib.sha256(body).hexdigest()[:12] + '"'
            if self.headers.get("If-None-Match") == etag:
                return self._send(304)
            return self._send(200, body, {"ETag": etag, "Content-Type": "application/rss+xml; charset=utf-8"})
        name = self.path.removeprefix("/news/")
        if (PAGES / name).is_file() and name.endswith(".html"):
            return self._send(200, (PAGES / name).read_bytes(), {"Content-Type": "text/html; charset=utf-8"})
        return self._send(404, b"not found")


def _rss(items: list[tuple[str, ...]], base: str) -> bytes:
    """Items are (page name, title) or (page name, title, full article HTML for content:encoded)."""
    entries = "".join(
        f"<item><title>{item[1]}</title><link>{base}/news/{item[0]}</link><description>{SUMMARY}</description>"
        + (f"<content:encoded><![CDATA[{item[2]}]]></content:encoded>" if len(item) > 2 else "") + "</item>"
        for item in items)
    return ("<?xml version='1.0' encoding='utf-8'?><rss version='2.0' "
            "xmlns:content='http://purl.org/rss/1.0/modules/content/'><channel><title>t</title>"
            f"{entries}</channel></rss>").encode()


@contextmanager
def serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[ThreadingHTTPServer]:
    """`handler` on 127.0.0.1 (a free port) in a thread; `httpd.hits` starts empty."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.hits = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


@contextmanager
def feed_server() -> Iterator[ThreadingHTTPServer]:
    with serve(_Handler) as httpd:
        httpd.items = []  # type: ignore[attr-defined]
        yield httpd


def feed_url(httpd: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{httpd.server_address[1]}/feed.xml"
