"""What the reader reads: `<s> query: question </s> passage: passage </s>`, each passage token carrying its
character offsets into the passage, so a predicted span maps back to the exact characters it was read from.

Training (`eval/reader_train/`) and serving (`indexer/reader/runtime.py`) both build their inputs here, so the
model never sees text prepared two ways.
"""

from __future__ import annotations

from dataclasses import dataclass

from isnad.indexer.encoder.tokenizer import E5Tokenizer

MAX_QUESTION_TOKENS = 48
MAX_TOKENS = 256  # a whole window: question, passage and the four markers


@dataclass(frozen=True)
class ReaderInput:
    ids: list[int]
    first: int  # index in `ids` of the first passage token
    offsets: list[tuple[int, int]]  # per passage token: (start, end) into the passage text

    @property
    def last(self) -> int:
        """Index in `ids` one past the last passage token."""
        return self.first + len(self.offsets)


class InputBuilder:
    """Tokenizes questions and passages once each and joins them into windows of at most `max_tokens`."""

    def __init__(self, tokenizer: E5Tokenizer, max_tokens: int = MAX_TOKENS) -> None:
        self.tokenizer = tokenizer
        self.max_tokens = max_tokens
        self._passage_prefix = tokenizer.content_ids("passage:")

    def question_ids(self, question: str) -> list[int]:
        return self.tokenizer.encode(question, "query")[:MAX_QUESTION_TOKENS]

    def passage_pieces(self, passage: str) -> list[tuple[int, int, int]]:
        return self.tokenizer.content_pieces(passage)

    def windows(self, question_ids: list[int], pieces: list[tuple[int, int, int]],
                stride: int = 128) -> list[ReaderInput]:
        """The passage in windows that fit beside the question; a long passage overlaps by `stride` tokens."""
        t = self.tokenizer
        head = [t.bos, *question_ids, t.eos, *self._passage_prefix]
        room = self.max_tokens - len(head) - 1
        if room < 1:
            raise ValueError(f"max_tokens {self.max_tokens} leaves no room for the passage beside the question")
        out = []
        start = 0
        while True:
            part = pieces[start : start + room]
            out.append(ReaderInput([*head, *(p[0] for p in part), t.eos], len(head), [(a, b) for _, a, b in part]))
            if start + room >= len(pieces):
                return out
            start += max(1, room - stride)
