"""Calling Isnad from Python: one interface, two ways to reach an archive.

    Client("http://127.0.0.1:8000", key="…")   # a running `isnad serve`, over HTTP (keys, timeouts)
    Local("index")                              # an index folder, in this process
    Local.build("data/astana", "index")         # index a folder first (only changed articles are embedded)

Both have `search`, `ask` and `document`, return the same typed results and raise `IsnadError` (with the
HTTP status the API gives and a message saying what to fix). Every passage, citation and answer span carries
`start`/`end`: character offsets into its document's `text`, so `document(doc_id).text[start:end]` is the
quoted text exactly.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import quote

T = TypeVar("T")

DEFAULT_URL = "http://127.0.0.1:8000"


class IsnadError(Exception):
    """A call Isnad refused or could not answer. `status`: the HTTP status (0 when the server was not reached)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.message, self.status = message, status


def _typed(cls: type[T], data: Mapping[str, Any], **nested: Any) -> T:
    """`cls` from an API JSON object, keeping only its fields (a newer server may send more)."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in data.items() if k in names and k not in nested}, **nested)


@dataclass(frozen=True)
class Passage:
    """A search result: `text` is `document(doc_id).text[start:end]`."""

    doc_id: str
    chunk_id: str
    text: str
    start: int
    end: int
    score: float
    rank: int
    title: str | None = None
    published: str | None = None
    url: str | None = None
    site: str | None = None
    author: str | None = None
    lang: str | None = None
    summary_only: bool = False
    also_reported_by: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Citation:
    """Citation `[n]` of an answer: `text` is `document(doc_id).text[start:end]`."""

    n: int
    doc_id: str
    chunk_id: str
    text: str
    start: int
    end: int
    title: str | None = None
    published: str | None = None
    url: str | None = None
    site: str | None = None
    author: str | None = None
    lang: str | None = None
    summary_only: bool = False


@dataclass(frozen=True)
class Span:
    """The shortest part of citation `n` that answers: `document(doc_id).text[start:end] == text`."""

    n: int
    doc_id: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Answer:
    """`found` is False when the archive does not hold the fact ("not found"); `closest` then lists the nearest
    passages, which do not answer. `answer` joins the cited sentences, each followed by ` [n]`."""

    question: str
    answer: str
    found: bool
    confidence: float | None
    span: Span | None
    citations: tuple[Citation, ...]
    closest: tuple[Citation, ...] = ()

    def citation(self, n: int) -> Citation:
        return next(c for c in self.citations if c.n == n)


@dataclass(frozen=True)
class Document:
    doc_id: str
    text: str = field(repr=False)
    title: str | None = None
    published: str | None = None
    source: str | None = None
    url: str | None = None
    site: str | None = None
    author: str | None = None
    lang: str | None = None
    summary_only: bool = False


def passages_from_json(body: Mapping[str, Any]) -> list[Passage]:
    return [_typed(Passage, r, also_reported_by=tuple(r.get("also_reported_by") or ())) for r in body["results"]]


def answer_from_json(body: Mapping[str, Any]) -> Answer:
    citations = tuple(_typed(Citation, c) for c in body["citations"])
    span = body.get("answer_span")
    cited = {c.n: c.doc_id for c in citations}
    return Answer(question=body["question"], answer=body["answer"], found=not body["abstained"],
                  confidence=body.get("confidence"),
                  span=_typed(Span, span, doc_id=cited[span["n"]]) if span else None,
                  citations=citations, closest=tuple(_typed(Citation, c) for c in body.get("closest") or ()))


def document_from_json(body: Mapping[str, Any]) -> Document:
    return _typed(Document, body)


class Archive(Protocol):
    """What both `Client` and `Local` offer (the MCP server and the LangChain retriever take either)."""

    def search(self, query: str, k: int = 5, filters: Mapping[str, Any] | None = None) -> list[Passage]: ...

    def ask(self, question: str, k: int = 5, filters: Mapping[str, Any] | None = None,
            min_confidence: float | None = None) -> Answer: ...

    def document(self, doc_id: str) -> Document: ...


class Client:
    """A running Isnad server over HTTP. `key`: a read (or write) key, sent as `Authorization: Bearer`; needed
    once the server has read keys. `timeout`: seconds per request (connect, read) before `IsnadError`."""

    def __init__(self, url: str = DEFAULT_URL, key: str | None = None, timeout: float = 30.0) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        import httpx

        # JSON with ASCII escapes: a lone surrogate ("\ud800") reaches the server, which names it, instead of
        # failing to encode here
        content = json.dumps(body).encode() if body is not None else None
        try:
            response = self._http.request(method, path, content=content,
                                          headers={"Content-Type": "application/json"} if content else None)
        except httpx.TimeoutException as exc:
            raise IsnadError(f"Isnad at {self.url} did not answer within the timeout ({exc})") from None
        except httpx.HTTPError as exc:
            raise IsnadError(f"cannot reach Isnad at {self.url}: {exc}") from None
        if response.status_code >= 400:
            try:
                message = response.json().get("message") or response.text
            except ValueError:
                message = response.text[:300]
            raise IsnadError(message, response.status_code)
        return response.json()

    def search(self, query: str, k: int = 5, filters: Mapping[str, Any] | None = None) -> list[Passage]:
        body = {"query": query, "k": k, **({"filters": dict(filters)} if filters else {})}
        return passages_from_json(self._call("POST", "/search", body))

    def ask(self, question: str, k: int = 5, filters: Mapping[str, Any] | None = None,
            min_confidence: float | None = None) -> Answer:
        body: dict[str, Any] = {"question": question, "k": k}
        if filters:
            body["filters"] = dict(filters)
        if min_confidence is not None:
            body["min_confidence"] = min_confidence
        return answer_from_json(self._call("POST", "/ask", body))

    def document(self, doc_id: str) -> Document:
        if not isinstance(doc_id, str) or not doc_id or not doc_id.isprintable() or doc_id != doc_id.strip():
            raise IsnadError(f"doc_id {str(doc_id)[:80]!r} is not valid: use the doc_id of a search or ask result "
                             "(letters, digits, _ . -)", 422)
        try:
            doc_id.encode()
        except UnicodeEncodeError:
            raise IsnadError("doc_id contains a lone UTF-16 surrogate: use the doc_id of a search or ask result",
                             422) from None
        return document_from_json(self._call("GET", "/documents/" + quote(doc_id, safe="")))

    def health(self) -> dict[str, Any]:
        return dict(self._call("GET", "/health"))


class Local:
    """An index folder in this process, with the server's own search, answers and checks (no HTTP)."""

    def __init__(self, index: str | Path, archive: Any = None) -> None:
        from isnad.service.archive import Archive as ServiceArchive
        from isnad.service.settings import Settings
        from isnad.service.state import ServiceState

        self.index = Path(index)
        self._archive = archive or ServiceArchive.of(ServiceState.open(self.index, settings=Settings()))

    @classmethod
    def over(cls, archive: Any, index: str | Path = "") -> Local:
        """Over a `service.archive.Archive` already open (the MCP server inside `isnad serve`)."""
        return cls(index, archive)

    @classmethod
    def build(cls, corpus: str | Path, index: str | Path) -> Local:
        """Index the folder `corpus` into `index` (as `isnad index` does: only new or changed articles are
        embedded) and open it."""
        from isnad.indexer.embed import make_embedder
        from isnad.indexer.pipeline import make_builder

        make_builder(make_embedder(), progress=False).run(Path(corpus), Path(index))
        return cls(index)

    def _call(self, method: str, *args: Any) -> Any:
        from isnad.service.archive import ArchiveError

        try:
            return getattr(self._archive, method)(*args).model_dump(mode="json")
        except ArchiveError as exc:
            raise IsnadError(exc.message, exc.status) from None

    def search(self, query: str, k: int = 5, filters: Mapping[str, Any] | None = None) -> list[Passage]:
        return passages_from_json(self._call("search", query, k, filters))

    def ask(self, question: str, k: int = 5, filters: Mapping[str, Any] | None = None,
            min_confidence: float | None = None) -> Answer:
        return answer_from_json(self._call("ask", question, k, filters, min_confidence))

    def document(self, doc_id: str) -> Document:
        return document_from_json(self._call("document", doc_id))
