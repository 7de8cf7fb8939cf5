"""A polite HTTP fetcher for live feeds: conditional GET, one request at a time per host, robots.txt, caps.

Validators (ETag, Last-Modified) persist per URL in a small JSON file written atomically, so an unchanged
feed costs one request answered 304 on the next run. Stdlib only (urllib): no new runtime dependency.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import urllib.robotparser
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["USER_AGENT", "FetchError", "FetchResult", "Fetcher", "ValidatorStore"]

log = logging.getLogger(__name__)
USER_AGENT = "Isnad/0.1 (+https://github.com/isnad; feed watcher)"
_SCHEMES = ("http", "https")


class FetchError(Exception):
    """A fetch that failed or was refused (robots, size cap, scheme, timeout); the message says which."""


@dataclass(frozen=True)
class FetchResult:
    url: str  # after redirects
    status: int  # 200, or 304 when the validators still hold
    body: bytes = b""
    charset: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class ValidatorStore:
    """ETag / Last-Modified per URL, in one JSON file, replaced atomically on every change."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            self._data: dict[str, dict[str, str]] = json.loads(path.read_text("utf-8"))
        except (FileNotFoundError, ValueError):
            self._data = {}

    def get(self, url: str) -> dict[str, str]:
        return dict(self._data.get(url, {}))

    def put(self, url: str, validators: dict[str, str]) -> None:
        with self._lock:
            if not validators or self._data.get(url) == validators:
                return
            self._data[url] = validators
            self._save()

    def forget(self, url: str) -> None:
        """The next GET of `url` is unconditional (what it returned could not be used: fetch it whole again)."""
        with self._lock:
            if self._data.pop(url, None) is not None:
                self._save()

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        tmp.write_text(json.dumps(self._data, ensure_ascii=False, indent=1), "utf-8")
        os.replace(tmp, self.path)  # a crash never leaves a half-written state file


class _LimitedRedirects(urllib.request.HTTPRedirectHandler):
    def __init__(self, max_redirects: int) -> None:
        self.max_redirections = max_redirects

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        if urllib.parse.urlsplit(newurl).scheme not in _SCHEMES:
            raise FetchError(f"redirect to a non-http(s) URL refused: {newurl!r}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


@dataclass
class Fetcher:
    """One request at a time per host, at least `min_delay` seconds apart (clock and sleep are injectable)."""

    validators: ValidatorStore | None = None
    timeout: float = 20.0
    max_bytes: int = 10_000_000
    min_delay: float = 1.0
    max_redirects: int = 5
    user_agent: str = USER_AGENT
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    requests: int = 0  # every request sent, robots.txt included (what politeness tests count)
    _host_locks: dict[str, threading.Lock] = field(default_factory=dict)
    _last: dict[str, float] = field(default_factory=dict)
    _robots: dict[str, urllib.robotparser.RobotFileParser | None] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._opener = urllib.request.build_opener(_LimitedRedirects(self.max_redirects))

    def get(self, url: str, conditional: bool = True) -> FetchResult:
        """Fetch `url`; raises FetchError naming why (disallowed by robots.txt, over the size cap, timeout...).

        `conditional=False` (an article page, fetched once) neither sends nor stores validators."""
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in _SCHEMES or not parts.netloc:
            raise FetchError(f"only http(s) URLs are fetched, not {url!r}")
        if not self.allowed(url):
            raise FetchError(f"robots.txt of {parts.netloc} disallows {url}")
        headers = {"User-Agent": self.user_agent}
        known = self.validators.get(url) if self.validators and conditional else {}
        if "etag" in known:
            headers["If-None-Match"] = known["etag"]
        if "last_modified" in known:
            headers["If-Modified-Since"] = known["last_modified"]
        result, validators = self._request(url, headers)
        if self.validators is not None and conditional and result.status == 200:  # kept for what is re-polled
            self.validators.put(url, validators)
        return result

    def allowed(self, url: str) -> bool:
        """robots.txt, fetched once per host per Fetcher and cached; an unreadable one allows (RFC 9309 §2.3.1.3)."""
        parts = urllib.parse.urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._guard:
            known = origin in self._robots
        if not known:
            parser: urllib.robotparser.RobotFileParser | None = urllib.robotparser.RobotFileParser()
            try:
                result, _ = self._request(origin + "/robots.txt", {"User-Agent": self.user_agent})
                parser.parse(result.body.decode("utf-8", "replace").splitlines())  # type: ignore[union-attr]
            except FetchError as exc:
                log.warning("robots.txt of %s unreadable (%s): fetching as allowed", parts.netloc, exc)
                parser = None
            with self._guard:
                self._robots[origin] = parser
        robots = self._robots[origin]
        return robots is None or robots.can_fetch(self.user_agent, url)

    def _host_lock(self, host: str) -> threading.Lock:
        with self._guard:
            return self._host_locks.setdefault(host, threading.Lock())

    def _request(self, url: str, headers: dict[str, str]) -> tuple[FetchResult, dict[str, str]]:
        host = urllib.parse.urlsplit(url).netloc
        with self._host_lock(host):  # one request at a time per host
            wait = self._last.get(host, -1e18) + self.min_delay - self.clock()
            if wait > 0:
                self.sleep(wait)
            try:
                return self._send(url, headers)
            finally:
                self._last[host] = self.clock()

    def _send(self, url: str, headers: dict[str, str]) -> tuple[FetchResult, dict[str, str]]:
        self.requests += 1
        request = urllib.request.Request(url, headers=headers)
        try:
            response = self._opener.open(request, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            if exc.code == 304:
                return FetchResult(url=url, status=304), {}
            raise FetchError(f"{url}: HTTP {exc.code}") from exc
        except TimeoutError as exc:
            raise FetchError(f"{url}: no answer within the {self.timeout:g} s timeout") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise FetchError(f"{url}: {getattr(exc, 'reason', exc)}") from exc
        with response:
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > self.max_bytes:
                raise FetchError(f"{url}: {length} bytes is over the size cap of {self.max_bytes} bytes (max_bytes)")
            chunks, size = [], 0
            try:
                while block := response.read(65536):  # stream, and stop as soon as the cap is passed
                    size += len(block)
                    if size > self.max_bytes:
                        raise FetchError(f"{url}: over the size cap of {self.max_bytes} bytes (max_bytes)")
                    chunks.append(block)
            except TimeoutError as exc:
                raise FetchError(f"{url}: no answer within the {self.timeout:g} s timeout") from exc
            except (OSError, http.client.HTTPException) as exc:  # IncompleteRead: the server closed early
                raise FetchError(f"{url}: connection broke after {size} bytes ({exc})") from exc
            if length and length.isdigit() and size < int(length):  # read(n) returns short, never raises
                raise FetchError(f"{url}: connection broke after {size} of {length} bytes")
            validators = {k: v for k, v in (("etag", response.headers.get("ETag")),
                                            ("last_modified", response.headers.get("Last-Modified"))) if v}
            return FetchResult(url=response.geturl(), status=response.status, body=b"".join(chunks),
                               charset=response.headers.get_content_charset()), validators
