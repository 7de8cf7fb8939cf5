"""Read a folder of articles into raw documents: `.txt` (one article per file), `.jsonl` (one per line), and
web archives read by `read_web.py`: saved pages (`.html .htm .xhtml`, gzipped or not), WARC and ARC files
(`.warc .warc.gz .arc .arc.gz`) and RSS/Atom feeds (`.rss .atom .xml`). Extensions match in any case
(`.TXT`, `.Html`).

Bad files, and files of any other type, are skipped with a warning naming the file; they never stop the run.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from isnad.indexer.skipped import Duplicate, Skipped
from isnad.indexer.text.script import arabic_share
from isnad.indexer.types import RawDocument

log = logging.getLogger(__name__)

# A doc_id ends up in URLs and file names: keep it to a safe, readable alphabet. The pattern is a coarse
# first filter (the API's schema shows it); `doc_id_problem` is the rule both the API and this reader apply.
DOC_ID_PATTERN = re.compile(r"^[\w][\w.\-]{0,199}$")
DOC_ID_MAX_CHARS = 200
_ID_LETTERS = {"Lu", "Ll", "Lt", "Lo"}  # not Lm: modifier letters (tatweel, ˈ) are look-alikes or stretchers
_ID_PUNCTUATION = "_.-"
_ENCODINGS = ("utf-8-sig", "utf-16", "cp1256")
_MAX_CONTROL_RATIO = 0.01


HTML_SUFFIXES = (".html", ".htm", ".xhtml")
WARC_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")
FEED_SUFFIXES = (".rss", ".atom", ".xml")


TEXT_SUFFIXES = (".txt", ".jsonl")
READ_SUFFIXES = " ".join((*TEXT_SUFFIXES, *HTML_SUFFIXES, *WARC_SUFFIXES, *FEED_SUFFIXES))


def file_kind(path: Path) -> str | None:
    """".txt", ".jsonl", "html", "warc" or "feed" by the file name, in any case; None for a type not read."""
    suffix = path.suffix.lower()
    return suffix if suffix in TEXT_SUFFIXES else web_kind(path)


def web_kind(path: Path) -> str | None:
    """"html", "warc" or "feed" by the file name (a trailing .gz counts for pages and WARCs), else None."""
    name = path.name.lower()
    if name.endswith(WARC_SUFFIXES):
        return "warc"
    if name.endswith(HTML_SUFFIXES) or name.endswith(tuple(s + ".gz" for s in HTML_SUFFIXES)):
        return "html"
    if name.endswith(FEED_SUFFIXES):
        return "feed"
    return None


class ReadError(ValueError):
    """The input folder itself is unusable (missing, empty)."""


@dataclass(frozen=True)
class ReadResult:
    documents: tuple[RawDocument, ...]
    skipped: tuple[Skipped, ...]
    duplicates: int = 0  # web articles read again (same URL, or same text on one site), logged at INFO


def doc_id_problem(doc_id: str) -> str | None:
    """Why `doc_id` is not a valid document id (one sentence), or None when it is.

    Valid: 1-200 letters, decimal digits and _ . -, starting with a letter, digit or _, no "..", and
    NFKC-stable, so that no two ids that look the same differ (no fullwidth forms, ligatures, invisible
    format characters such as the zero-width joiner, combining marks or tatweel).
    """
    if not doc_id:
        return "doc_id must not be empty"
    if len(doc_id) > DOC_ID_MAX_CHARS:
        return f"doc_id must be at most {DOC_ID_MAX_CHARS} characters, not {len(doc_id)}"
    for ch in doc_id:
        category = unicodedata.category(ch)
        if category[0] in "CZ":
            return f"doc_id contains an invisible, control or space character ({_describe(ch)})"
        if category[0] == "M":
            return f"doc_id contains a combining mark ({_describe(ch)}); use plain letters"
    normal = unicodedata.normalize("NFKC", doc_id)
    if normal != doc_id:
        odd = next(ch for ch in doc_id if unicodedata.normalize("NFKC", ch) != ch)
        return f"doc_id is not in NFKC form ({_describe(odd)}); write it as {normal!r}"
    for ch in doc_id:
        if unicodedata.category(ch) not in _ID_LETTERS | {"Nd"} and ch not in _ID_PUNCTUATION:
            return f"doc_id may contain only letters, digits, _ . - (not {_describe(ch)})"
    if doc_id[0] in ".-":
        return "doc_id must start with a letter, a digit or _"
    if ".." in doc_id:
        return "doc_id must not contain '..'"
    return None


def _describe(ch: str) -> str:
    return f"U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed')}"


def is_valid_doc_id(doc_id: str) -> bool:
    return doc_id_problem(doc_id) is None


def _read_text(path: Path) -> str | Skipped:
    """A file's decoded text, or why it is skipped (unreadable, empty, binary, unknown encoding)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return Skipped(str(path), f"unreadable: {exc.strerror}")
    text, info = decode_text(data)
    return Skipped(str(path), info) if text is None else text


def decode_text(data: bytes) -> tuple[str | None, str]:
    """Decode article bytes; returns (text, encoding) or (None, reason)."""
    if not data.strip():
        return None, "empty file"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates: tuple[str, ...] = ("utf-16",)
    elif (lane := _bomless_utf16(data)) is not None:
        candidates = (lane,)
    elif b"\x00" in data and _looks_utf16(data):
        candidates = ("utf-16-le",) if data[1::2].count(0) > data[::2].count(0) else ("utf-16-be",)
    else:
        candidates = ("utf-8-sig", "cp1256")
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "cp1256" and arabic_share(text) <= 0.5:
            # cp1256 decodes almost any byte string; only trust it for Arabic-looking text.
            continue
        text = text.replace("\x00", "")
        if _control_ratio(text) > _MAX_CONTROL_RATIO:
            return None, "binary content"
        if not text.strip():
            return None, "empty file"
        return text, encoding
    return None, "not UTF-8, UTF-16 or Windows-1256 text"


def _bomless_utf16(data: bytes) -> str | None:
    """UTF-16 without a BOM: Arabic code units are 0x06xx and ASCII 0x00xx, so one byte lane is almost all
    0x00/0x06 while the other is not. (Arabic UTF-16 has few NUL bytes, so counting zeros alone misses it.)"""
    if len(data) % 2 or len(data) < 4:
        return None
    even, odd = data[::2], data[1::2]
    high_even = (even.count(0) + even.count(6)) / len(even)
    high_odd = (odd.count(0) + odd.count(6)) / len(odd)
    if high_odd > 0.9 and high_even < 0.5:
        return "utf-16-le"
    if high_even > 0.9 and high_odd < 0.5:
        return "utf-16-be"
    return None


def _looks_utf16(data: bytes) -> bool:
    zeros = data.count(0)
    return zeros > len(data) // 4


def _control_ratio(text: str) -> float:
    if not text:
        return 0.0
    bad = sum(1 for c in text if ord(c) < 32 and c not in "\n\r\t\f")
    return bad / len(text)


class FolderReader:
    """Reads a folder (recursively, sorted for determinism): `.txt` and `.jsonl` articles, and web archives
    (`indexer/read_web.py`): HTML pages (`.html .htm .xhtml`, gzipped or not), WARC files and RSS/Atom feeds.

    Pages and WARCs are read first, so that a feed item linking to a page read in the same run is matched to
    it; the same web article (canonical URL, or text on one site) is indexed once.
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        if not self.folder.exists():
            raise ReadError(f"corpus folder not found: {self.folder}")
        if not self.folder.is_dir():
            raise ReadError(f"corpus path is not a folder: {self.folder}")

    def run(self) -> ReadResult:
        documents: list[RawDocument] = []
        skipped: list[Skipped] = []
        paths = sorted(p for p in self.folder.rglob("*") if p.is_file())
        by_kind: dict[str | None, list[Path]] = {}
        for path in paths:
            by_kind.setdefault(file_kind(path), []).append(path)

        duplicates = 0  # counted, not kept: a crawl may revisit a page thousands of times

        def note(item: Skipped) -> None:
            nonlocal duplicates
            if isinstance(item, Duplicate):
                log.info("skipped %s: %s", item.path, item.reason)
                duplicates += 1
            else:
                log.warning("skipped %s: %s", item.path, item.reason)
                skipped.append(item)

        for path in by_kind.get(None, []):  # named, so a misnamed article is not silently missing
            note(Skipped(str(path), f"not an article file type (read: {READ_SUFFIXES})"))
        for path in by_kind.get(".txt", []) + by_kind.get(".jsonl", []):
            reader = self._read_txt if file_kind(path) == ".txt" else self._read_jsonl
            for item in reader(path):
                note(item) if isinstance(item, Skipped) else documents.append(item)

        if any(by_kind.get(kind) for kind in ("html", "warc", "feed")):
            # Imported here: the web libraries cost ~0.2 s, which a service or a text corpus never needs
            from isnad.indexer.read_web import read_web_archive

            documents.extend(read_web_archive(by_kind.get("html", []), by_kind.get("warc", []),
                                              by_kind.get("feed", []), note))

        unique: list[RawDocument] = []
        seen: set[str] = set()
        for item in documents:
            if item.doc_id in seen:
                note(Skipped(item.path, f"duplicate doc_id {item.doc_id!r}"))
            else:
                seen.add(item.doc_id)
                unique.append(item)
        if not unique:
            detail = f" ({len(skipped)} files skipped)" if skipped else ""
            raise ReadError(f"no readable articles (.txt, .jsonl, .html, WARC, RSS/Atom) in {self.folder}{detail}")
        return ReadResult(tuple(unique), tuple(skipped), duplicates)

    def _read_txt(self, path: Path) -> list[RawDocument | Skipped]:
        doc_id = path.stem
        problem = doc_id_problem(doc_id)
        if problem is not None:
            return [Skipped(str(path), f"file name {doc_id!r} is not a valid doc_id: {problem}")]
        text = _read_text(path)
        if isinstance(text, Skipped):
            return [text]
        return [RawDocument(doc_id=doc_id, text=text, path=str(path))]

    def _read_jsonl(self, path: Path) -> list[RawDocument | Skipped]:
        text = _read_text(path)
        if isinstance(text, Skipped):
            return [text]
        out: list[RawDocument | Skipped] = []
        for lineno, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                out.append(Skipped(where, f"invalid JSON: {exc.msg}"))
                continue
            out.append(_record_to_document(record, where))
        return out


def _record_to_document(record: object, where: str) -> RawDocument | Skipped:
    if not isinstance(record, dict):
        return Skipped(where, "line is not a JSON object")
    doc_id, text = record.get("id"), record.get("text")
    if not isinstance(doc_id, str | int):
        return Skipped(where, "missing or invalid 'id' (letters, digits, _ . -)")
    problem = doc_id_problem(str(doc_id))
    if problem is not None:
        return Skipped(where, f"invalid 'id' {str(doc_id)!r}: {problem}")
    if not isinstance(text, str) or not text.strip():
        return Skipped(where, "missing or empty 'text'")
    meta = {key: record.get(key) for key in ("title", "published", "source", "url", "site", "author", "lang")}
    meta = {key: value.strip() if isinstance(value, str) and value.strip() else None for key, value in meta.items()}
    if meta["url"] and urlsplit(meta["url"]).scheme.lower() not in ("http", "https"):
        log.warning("%s: 'url' %r dropped: only http/https URLs are kept as a source", where, meta["url"][:80])
        meta["url"] = None
    return RawDocument(doc_id=str(doc_id), text=text, path=where, **meta)
