"""Latin-script names → the Arabic names of this archive, through a shared consonant skeleton.

"Lavrentiev" and "لافرنتييف" share little as strings but the same consonants: both sides are reduced to a
skeleton of consonant classes (vowels and the letters that write them dropped, sounds that the other script
writes with one letter merged: v/f, p/b, c/k/q, s/z/ث/ص, ...), then compared with difflib's ratio. Only
capitalized words of the question are tried, and only against Arabic words of the archive, so a common
English word does not turn into noise. No PyPI transliteration package fit: the maintained ones romanize
Arabic for display (one direction, with vowels), which is the wrong tool for fuzzy name lookup.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from isnad.indexer.text.induced import Expansion

__all__ = ["NameMatcher", "arabic_skeleton", "latin_skeleton"]

_AR_MAP = {
    "ب": "b", "پ": "b", "ت": "t", "ط": "t", "ث": "s", "ج": "j", "چ": "j", "خ": "k", "ق": "k", "ك": "k",
    "د": "d", "ض": "d", "ذ": "z", "ر": "r", "ز": "s", "س": "s", "ص": "s", "ش": "s", "ظ": "z", "غ": "g",
    "گ": "g", "ف": "f", "ڤ": "f", "ل": "l", "م": "m", "ن": "n", "ح": "h", "ه": "h",
}  # ا و ي ى ة ع ء and hamza seats write vowels or sounds Latin names rarely spell: dropped
_LATIN_DIGRAPHS = (("sch", "s"), ("tch", "j"), ("ch", "s"), ("sh", "s"), ("zh", "s"), ("kh", "k"), ("gh", "g"),
                   ("ph", "f"), ("th", "t"), ("ck", "k"), ("dj", "j"), ("ts", "s"), ("tz", "s"), ("x", "ks"))
_LATIN_MAP = {
    "b": "b", "p": "b", "t": "t", "d": "d", "j": "j", "k": "k", "c": "k", "q": "k", "g": "g", "s": "s",
    "z": "s", "f": "f", "v": "f", "l": "l", "m": "m", "n": "n", "r": "r", "h": "h",
}  # a e i o u y w: vowels or glides, dropped
_NAME = re.compile(r"\b[A-Z][a-zA-Z]+(?:[-'][A-Za-z]+)*")
_AR_ARTICLE = re.compile("^(?:[وفبلك]?ال|[وف]?لل)")


def latin_skeleton(word: str) -> str:
    w = re.sub(r"^(?:al|el|ad|as|ash|an|ar|az)-", "", word.lower())  # al-Assad, el-Sisi
    w = re.sub(r"([a-z])\1", r"\1", re.sub(r"[^a-z]", "", w))  # double letters write one sound
    for digraph, sound in _LATIN_DIGRAPHS:
        w = w.replace(digraph, sound)
    w = re.sub(r"c(?=[eiy])", "s", w)
    return "".join(_LATIN_MAP.get(c, "") for c in w)


def arabic_skeleton(word: str) -> str:
    w = _AR_ARTICLE.sub("", word) if len(word) > 4 else word
    w = w[:-1] if w.endswith("ه") else w  # a final ه is ة spelled loosely or a pronoun, not a name's h
    return "".join(_AR_MAP.get(c, "") for c in w)  # shadda is gone with the diacritics: no doubles here


@dataclass(frozen=True)
class NameConfig:
    min_ratio: float = 0.8  # difflib ratio of the two skeletons
    min_skeleton: int = 3  # shorter skeletons match too much by chance
    max_terms: int = 3
    margin: float = 0.05  # keep only skeletons this close to the best one


class NameMatcher:
    """Capitalized Latin words of a question → Arabic terms of the archive with a matching skeleton."""

    def __init__(self, vocabulary: Sequence[tuple[str, str]], config: NameConfig | None = None) -> None:
        self.config = config or NameConfig()
        self._by_skeleton: dict[str, set[str]] = defaultdict(set)  # skeleton -> BM25 terms
        for term, word in vocabulary:
            sk = arabic_skeleton(word)
            if len(sk) >= self.config.min_skeleton:
                self._by_skeleton[sk].add(term)
        self._by_first: dict[str, list[str]] = defaultdict(list)
        for sk in self._by_skeleton:
            self._by_first[sk[0]].append(sk)

    @staticmethod
    def candidates(question: str) -> list[str]:
        """Capitalized words, the question's first word excepted (every question starts with a capital)."""
        found = []
        for m in _NAME.finditer(question):
            if m.start() == 0 or question[: m.start()].rstrip().endswith((".", "?", "!")):
                continue
            found.append(m.group())
        return list(dict.fromkeys(found))

    def expand(self, names: Iterable[str], config: NameConfig | None = None) -> list[Expansion]:
        cfg = config or self.config
        out: list[Expansion] = []
        for name in names:
            sk = latin_skeleton(name)
            if len(sk) < cfg.min_skeleton:
                continue
            scored: list[tuple[float, str]] = []
            matcher = SequenceMatcher(None, "", sk, autojunk=False)  # seq2 is the one difflib indexes
            for other in self._by_first.get(sk[0], ()):  # names rarely change their first consonant
                if abs(len(other) - len(sk)) > max(2, len(sk) // 2):
                    continue
                matcher.set_seq1(other)
                if matcher.real_quick_ratio() < cfg.min_ratio or matcher.quick_ratio() < cfg.min_ratio:
                    continue
                r = matcher.ratio()
                if r >= cfg.min_ratio:
                    scored.append((r, other))
            scored.sort(key=lambda p: (-p[0], p[1]))
            terms: dict[str, float] = {}
            for r, other in scored:
                if r < scored[0][0] - cfg.margin:
                    break  # a clearly better spelling exists: the others are other names
                for term in sorted(self._by_skeleton[other]):
                    terms.setdefault(term, r)
                if len(terms) >= cfg.max_terms:
                    break
            out.extend(Expansion(name.lower(), t, round(w, 4)) for t, w in list(terms.items())[: cfg.max_terms])
        return out
