"""Titles to show for articles that have no headline: a short lead, marked as derived.

Only what clients see changes: the index keeps `title=None` (it is embedded with the passages, and a lead
repeated as a headline would weigh the first sentence twice).
"""

from __future__ import annotations

from collections.abc import Mapping

from isnad.indexer.text.sentences import sentence_spans
from isnad.indexer.types import Document

LEAD_CHARS = 80  # about one line of the chat page's citation list
_TRAILING = " \t،,؛;:-–—\"'“”«»("


def lead_title(text: str, max_chars: int = LEAD_CHARS) -> str | None:
    """The first sentence of `text` (its first line at most), cut at a word boundary to `max_chars` + "…"."""
    head = text.lstrip()[: max_chars * 4]  # a lead never needs more; articles can be megabytes
    spans = sentence_spans(head)
    if not spans:
        return None
    start, end = spans[0]
    sentence = head[start:end].split("\n", 1)[0].strip()
    if len(sentence) <= max_chars:
        return sentence or None
    window = sentence[: max_chars + 1]
    cut = window.rsplit(maxsplit=1)[0] if " " in window.strip() else sentence[:max_chars]
    return cut.rstrip(_TRAILING) + "…"


def shown_title(title: str | None, documents: Mapping[str, Document], doc_id: str) -> tuple[str | None, bool]:
    """(title, derived): the article's own headline, else its lead with derived=True (text read only then)."""
    if title:
        return title, False
    document = documents.get(doc_id)
    lead = lead_title(document.text) if document is not None else None
    return lead, lead is not None
