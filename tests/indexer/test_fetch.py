"""The polite fetcher against a real loopback HTTP server (http.server in a thread, 127.0.0.1, port 0)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from isnad.indexer.fetch import Fetcher, FetchError, ValidatorStore
from tests.indexer.feed_server import RecordingHandler, serve

FEED = b"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title></channel></rss>"
ETAG = '"v1"'
MODIFIED = "Wed, 02 Dec 2026 10:00:00 GMT"


class _Handler(RecordingHandler):
    def do_GET(self) -> None:
        if self.path == "/robots.txt":
            self._send(200, b"User-agent: *\nDisallow: /private/\n")
        elif self.path == "/feed.xml":
            if self.headers.get("If-None-Match") == ETAG or self.headers.get("If-Modified-Since") == MODIFIED:
                self._send(304)
            else:
                self._send(200, FEED, {"ETag": ETAG, "Last-Modified": MODIFIED,
                                       "Content-Type": "application/rss+xml; charset=utf-8"})
        elif self.path == "/big":
            self._send(200, b"x" * 5000)
        elif self.path == "/big-chunked":  # no Content-Length: the cap must stop the stream itself
            self.server.hits.append((self.path, 200))  # type: ignore[attr-defined]
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"y" * 5000)
            self.close_connection = True
        elif self.path == "/cut":  # promises 1000 bytes, sends 10 and closes
            self.server.hits.append((self.path, 200))  # type: ignore[attr-defined]
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"0123456789")
            self.close_connection = True
        elif self.path == "/to-ftp":
            self._send(302, b"", {"Location": "ftp://example.org/x"})
        else:
            self._send(404)


@pytest.fixture()
def server() -> Iterator[ThreadingHTTPServer]:
    with serve(_Handler) as httpd:
        yield httpd


def _base(httpd: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{httpd.server_address[1]}"


def _fetcher(tmp_path: Path, **kw: object) -> Fetcher:
    return Fetcher(validators=ValidatorStore(tmp_path / "fetch-state.json"), min_delay=0, **kw)  # type: ignore[arg-type]


def test_conditional_get_costs_one_304_on_an_unchanged_feed(server: ThreadingHTTPServer, tmp_path: Path) -> None:
    first = _fetcher(tmp_path).get(_base(server) + "/feed.xml")
    assert first.status == 200 and first.body == FEED and first.charset == "utf-8"
    state = json.loads((tmp_path / "fetch-state.json").read_text("utf-8"))
    assert state[_base(server) + "/feed.xml"] == {"etag": ETAG, "last_modified": MODIFIED}

    server.hits.clear()  # type: ignore[attr-defined]
    again = _fetcher(tmp_path)  # a new run: validators come from the state file, robots.txt is fetched anew
    second = again.get(_base(server) + "/feed.xml")
    assert second.not_modified and second.body == b""
    assert server.hits == [("/robots.txt", 200), ("/feed.xml", 304)]  # type: ignore[attr-defined]
    assert again.get(_base(server) + "/feed.xml").not_modified
    assert [h for h in server.hits if h[0] == "/robots.txt"] == [("/robots.txt", 200)]  # cached per host


def test_robots_disallow_is_honoured_without_a_request(server: ThreadingHTTPServer, tmp_path: Path) -> None:
    fetcher = _fetcher(tmp_path)
    with pytest.raises(FetchError, match=r"robots\.txt .* disallows .*/private/page"):
        fetcher.get(_base(server) + "/private/page")
    assert [p for p, _ in server.hits] == ["/robots.txt"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("path", ["/big", "/big-chunked"])
def test_size_cap_is_named(server: ThreadingHTTPServer, tmp_path: Path, path: str) -> None:
    with pytest.raises(FetchError, match=r"size cap of 1000 bytes \(max_bytes\)"):
        _fetcher(tmp_path, max_bytes=1000).get(_base(server) + path)


def test_a_closed_connection_is_named(server: ThreadingHTTPServer, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="connection broke"):
        _fetcher(tmp_path).get(_base(server) + "/cut")


def test_only_http_and_https(server: ThreadingHTTPServer, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="only http"):
        _fetcher(tmp_path).get("file:///etc/passwd")
    with pytest.raises(FetchError, match="non-http"):
        _fetcher(tmp_path).get(_base(server) + "/to-ftp")


def test_one_host_waits_min_delay_between_requests(server: ThreadingHTTPServer, tmp_path: Path) -> None:
    now = [100.0]
    slept: list[float] = []
    fetcher = Fetcher(min_delay=5.0, clock=lambda: now[0], sleep=slept.append)
    fetcher.get(_base(server) + "/feed.xml")  # robots.txt, then the feed: the second waits the whole delay
    assert slept == [5.0]
    now[0] += 2.0
    fetcher.get(_base(server) + "/feed.xml", conditional=False)
    assert slept == [5.0, 3.0]
