"""Sentence boundaries, for chunking, round tagging, titles and answer extraction alike."""

from __future__ import annotations

import re

__all__ = ["sentence_spans"]

# A sentence ends at . ! ? ؟ or an ellipsis, followed by whitespace; a newline always ends one.
_SENTENCE_BOUNDARY = re.compile(r"(?<=[.!?؟…])[\"'”»)]*\s+|\n+")


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Character spans of the sentences in text[start:end], whitespace trimmed."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    pos = start
    for match in _SENTENCE_BOUNDARY.finditer(text, start, end):
        _append_trimmed(text, pos, match.start() + len(match.group(0).rstrip()), spans)
        pos = match.end()
    _append_trimmed(text, pos, end, spans)
    return spans


def _append_trimmed(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))
