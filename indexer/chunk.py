"""Split a document's canonical text into sentence-aware chunks with exact character offsets."""

from __future__ import annotations

import re
from collections.abc import Iterator

from isnad.indexer.text.sentences import sentence_spans
from isnad.indexer.types import Chunk, Document

_ENDINGS = tuple(".!?؟…:\"'”»)")
_PARAGRAPH = re.compile(r"[^\n]+(?:\n(?!\n)[^\n]+)*")


class Chunker:
    """Packs whole sentences into chunks of about `max_chars`, never across paragraphs.

    Small chunks (two or three sentences) rank better than whole paragraphs: on xquad_en2ar, Arabic
    questions reach nDCG@10 0.971 with 300 characters against 0.953 with 800. Paragraphs shorter than
    `min_chars` (sub-headings, captions) join a neighbour so they are not retrieved on their own. A sentence
    stays whole up to `hard_max_chars` (default twice `max_chars`); only longer ones are cut at a space.
    """

    def __init__(self, max_chars: int = 300, min_chars: int = 80, hard_max_chars: int | None = None) -> None:
        if max_chars < 50:
            raise ValueError("max_chars must be at least 50")
        if not 0 <= min_chars < max_chars:
            raise ValueError("min_chars must be between 0 and max_chars")
        hard_max_chars = 2 * max_chars if hard_max_chars is None else hard_max_chars
        if hard_max_chars < max_chars:
            raise ValueError("hard_max_chars must be at least max_chars")
        self.max_chars = max_chars
        self.min_chars = min_chars
        self.hard_max_chars = hard_max_chars

    @property
    def params(self) -> dict[str, int | str]:
        return {"strategy": "paragraph-sentences", "max_chars": self.max_chars, "min_chars": self.min_chars,
                "hard_max_chars": self.hard_max_chars}

    def run(self, document: Document) -> tuple[Chunk, ...]:
        spans = list(self._chunk_spans(document.text))
        return tuple(
            Chunk(
                doc_id=document.doc_id,
                chunk_id=f"{document.doc_id}#{i}",
                start=start,
                end=end,
                text=document.text[start:end],
                title=document.title,
                published=document.published,
            )
            for i, (start, end) in enumerate(spans)
        )

    def _chunk_spans(self, text: str) -> Iterator[tuple[int, int]]:
        for start, end in self._merged_paragraphs(text):
            yield from self._pack(text, start, end)

    def _merged_paragraphs(self, text: str) -> list[tuple[int, int]]:
        merged: list[tuple[int, int]] = []
        pending: int | None = None  # start of short paragraphs waiting for the next one
        for para in _PARAGRAPH.finditer(text):
            start, end = para.start(), para.end()
            if end - start < self.min_chars and merged and not text[: merged[-1][1]].endswith(_ENDINGS):
                merged[-1] = (merged[-1][0], end)  # a broken-off tail of the previous sentence
                continue
            if pending is not None:
                start, pending = pending, None
            if end - start < self.min_chars:
                pending = start
                continue
            merged.append((start, end))
        if pending is not None:
            merged.append((pending, len(text.rstrip())))
        return merged

    def _pack(self, text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
        if end - start <= self.max_chars:
            yield start, end
            return
        packed: list[tuple[int, int]] = []
        for s, e in self._bounded(text, sentence_spans(text, start, end)):
            if packed and e - packed[-1][0] <= self.max_chars:
                packed[-1] = (packed[-1][0], e)
            else:
                packed.append((s, e))
        # A short last sentence joins the chunk before it rather than standing alone.
        if len(packed) > 1 and packed[-1][1] - packed[-1][0] < self.min_chars \
                and packed[-1][1] - packed[-2][0] <= self.hard_max_chars:
            packed[-2:] = [(packed[-2][0], packed[-1][1])]
        yield from packed

    def _bounded(self, text: str, spans: list[tuple[int, int]]) -> Iterator[tuple[int, int]]:
        for s, e in spans:
            while e - s > self.hard_max_chars:
                cut = text.rfind(" ", s, s + self.max_chars)
                cut = cut if cut > s else s + self.max_chars
                yield s, cut
                s = cut
                while s < e and text[s].isspace():
                    s += 1
            if e > s:
                yield s, e
