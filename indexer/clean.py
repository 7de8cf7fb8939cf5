"""Turn scraped article text into a document's canonical text.

Every citation offset points into the text this stage produces, so it runs once at indexing time and its
output is stored; nothing later re-cleans.
"""

from __future__ import annotations

import re
import unicodedata

from isnad.indexer.types import Document, RawDocument, source_fields

PARAGRAPH_SEPARATOR = "\n\n"
_SPACE_CHARS = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_INVISIBLE = re.compile(r"[\u200b\ufeff\u00ad]")
_PUBLISHED = re.compile(r"^\s*First Published:\s*(\d{4}-\d{2}-\d{2})\s*$", re.IGNORECASE)
# Lines that start a block of links to other articles: everything from there on is page furniture.
_TRAILER_MARKERS = frozenset(
    {"شاهد أيضاً", "شاهد أيضا", "أخبار متعلقة", "اخبار متعلقة", "اقرأ أيضاً", "اقرأ أيضا", "مواضيع ذات صلة",
     "مقالات ذات صلة", "read also", "related", "related articles", "see also"}
)
_SENTENCE_END = tuple(".!?؟…:")
_ELLIPSIS = re.compile(r"(\.\.\.|…)$")
_TITLE_MAX_CHARS = 160
_HEADLINE_MAX_CHARS = 90
_HEADLINE_RUN = 4


class Cleaner:
    """Normalizes whitespace, lifts title and date, and drops furniture and repeats.

    `headline_run`: how many short unpunctuated paragraphs in a row count as a list of other headlines.
    """

    def __init__(self, headline_run: int = _HEADLINE_RUN, title_max_chars: int = _TITLE_MAX_CHARS) -> None:
        if headline_run < 2:
            raise ValueError("headline_run must be at least 2")
        if title_max_chars < 10:
            raise ValueError("title_max_chars must be at least 10")
        self.headline_run = headline_run
        self.title_max_chars = title_max_chars

    def run(self, raw: RawDocument) -> Document:
        published = raw.published
        paragraphs: list[str] = []
        for line in _lines(raw.text):
            match = _PUBLISHED.match(line)
            if match:
                published = published or match.group(1)
                continue
            if line.casefold() in _TRAILER_MARKERS:
                break
            if _is_furniture(line):
                continue
            paragraphs.append(line)

        paragraphs = self._drop_headline_runs(paragraphs)
        while paragraphs and len(paragraphs[-1].split()) <= 2 and not paragraphs[-1].endswith(_SENTENCE_END):
            paragraphs.pop()  # section labels left at the end ("أقسام", "أخبار")

        title = _clean_inline(raw.title) if raw.title else None
        if title is None and len(paragraphs) >= 3 and len(paragraphs[0]) <= self.title_max_chars:
            title = paragraphs.pop(0)

        body = _drop_repeats(paragraphs, title)
        body = _drop_teasers(body)
        text = PARAGRAPH_SEPARATOR.join(body)
        if not text and title:
            text = title  # a document that is only a headline is still searchable
        source = {k: _clean_inline(v) if isinstance(v, str) else v for k, v in source_fields(raw).items()}
        source = {k: v for k, v in source.items() if v}
        return Document(doc_id=raw.doc_id, text=text, title=title, published=published,
                        source=_clean_inline(raw.source) if raw.source else None, **source)

    def _drop_headline_runs(self, paragraphs: list[str]) -> list[str]:
        keep: list[str] = []
        run: list[str] = []
        for para in [*paragraphs, ""]:
            if para and len(para) <= _HEADLINE_MAX_CHARS and not para.endswith(_SENTENCE_END):
                run.append(para)
                continue
            if len(run) < self.headline_run:
                keep.extend(run)
            run = []
            if para:
                keep.append(para)
        return keep


def _clean_inline(text: str) -> str:
    text = unicodedata.normalize("NFC", text.replace("\r", " ").replace("\n", " "))
    return _SPACE_CHARS.sub(" ", _INVISIBLE.sub("", text)).strip()


def _lines(text: str) -> list[str]:
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = (_SPACE_CHARS.sub(" ", _INVISIBLE.sub("", line)).strip() for line in text.split("\n"))
    return [line for line in lines if line]


def _is_furniture(line: str) -> bool:
    # Lines with no letter or digit at all (">>", "***", "|") carry nothing a reader would cite.
    return not any(ch.isalnum() for ch in line)


def _drop_repeats(paragraphs: list[str], title: str | None) -> list[str]:
    seen: set[str] = {title} if title else set()
    out: list[str] = []
    for para in paragraphs:
        if para in seen:
            continue
        seen.add(para)
        out.append(para)
    return out


def _drop_teasers(paragraphs: list[str]) -> list[str]:
    """Drop truncated teasers ("... وأشارت...") whose text reappears in full later on."""
    out: list[str] = []
    for i, para in enumerate(paragraphs):
        if _ELLIPSIS.search(para):
            stem = _ELLIPSIS.sub("", para).rstrip()
            stem = stem.rsplit(" ", 1)[0] if " " in stem else stem  # the last word may be cut off
            rest = " ".join(paragraphs[i + 1 :])
            if len(stem) >= 40 and stem in rest:
                continue
        out.append(para)
    return out
