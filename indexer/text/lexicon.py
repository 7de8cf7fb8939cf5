"""English → Arabic domain lexicon, so English questions can reach Arabic passages through BM25.

The bundled `indexer/text/data/lexicon_en_ar.tsv` documents its format in its header. `Lexicon.matches` scans a
question left to right and at each word takes the longest English phrase in the lexicon (greedy).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

__all__ = ["DEFAULT_PATH", "Lexicon", "LexiconEntry", "english_key", "english_words"]

# Shipped inside the package (a wheel has no repo beside it); a plain folder on disk, so a Path.
DEFAULT_PATH = Path(str(resources.files(__package__) / "data" / "lexicon_en_ar.tsv"))

_ACRONYM_DOTS = re.compile(r"(?<![A-Za-z])((?:[A-Za-z]\.){2,})")  # U.S. → US, U.N. → UN
_POSSESSIVE = re.compile(r"(?<=\w)['’](?:s\b)?")  # Russia's, rebels'
_WORD = re.compile(r"[^\W_]+")


def _singular(word: str) -> str:
    """Light plural folding, applied to keys and questions alike (both sides only need to agree)."""
    low = word.lower()
    if len(word) <= 3 or low.endswith(("ss", "us", "is")):
        return word
    if low.endswith("ies") and len(word) > 4:
        return word[:-3] + ("Y" if word[-3:].isupper() else "y")
    if low.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    return word[:-1] if low.endswith("s") else word


def english_words(text: str) -> list[str]:
    """The words of English text as the lexicon keys them: acronym dots and possessives dropped, plurals folded,
    case kept (an entry written with capitals must match them)."""
    text = _ACRONYM_DOTS.sub(lambda m: m.group(1).replace(".", ""), text)
    text = _POSSESSIVE.sub("", text)
    return [_singular(w) for w in _WORD.findall(text)]


def english_key(word: str) -> str:
    """One English word as a lexicon key: lower-cased, plural folded."""
    words = english_words(word)
    return words[0].lower() if words else word


@dataclass(frozen=True)
class LexiconEntry:
    """One English phrase: its Arabic variants and, when written with capitals, the exact casing required."""

    english: str
    arabic: tuple[str, ...]
    cased: tuple[str, ...] | None


@dataclass(frozen=True)
class Lexicon:
    entries: dict[tuple[str, ...], LexiconEntry]
    max_len: int

    @classmethod
    def load(cls, path: Path | str) -> Lexicon:
        entries: dict[tuple[str, ...], LexiconEntry] = {}
        for lineno, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            english, sep, arabic = raw.strip("\r\n").partition("\t")
            variants = tuple(v.strip() for v in arabic.split("|") if v.strip())
            if not sep or not english.strip() or not variants:
                raise ValueError(f"{path}:{lineno}: expected 'english<TAB>arabic|arabic...', got {raw!r}")
            for phrase in (p.strip() for p in english.split("|")):
                words = english_words(phrase)
                if not words:
                    raise ValueError(f"{path}:{lineno}: English phrase {phrase!r} has no words")
                key = tuple(w.lower() for w in words)
                cased = tuple(words) if any(c.isupper() for c in phrase) else None
                old = entries.get(key)
                if old is not None:
                    merged = old.arabic + tuple(v for v in variants if v not in old.arabic)
                    entries[key] = LexiconEntry(old.english, merged, old.cased if cased is None else cased)
                else:
                    entries[key] = LexiconEntry(phrase, variants, cased)
        return cls(entries, max((len(k) for k in entries), default=0))

    @classmethod
    def default(cls) -> Lexicon:
        return _default()

    def __len__(self) -> int:
        return len(self.entries)

    def matches(self, question: str) -> list[LexiconEntry]:
        """Entries found in `question`, longest phrase first at each position, in order of appearance."""
        words = english_words(question)
        lower = [w.lower() for w in words]
        found: list[LexiconEntry] = []
        i = 0
        while i < len(words):
            for n in range(min(self.max_len, len(words) - i), 0, -1):
                entry = self.entries.get(tuple(lower[i : i + n]))
                if entry is not None and (entry.cased is None or entry.cased == tuple(words[i : i + n])):
                    found.append(entry)
                    i += n
                    break
            else:
                i += 1
        return found


_DEFAULT: Lexicon | None = None


def _default() -> Lexicon:
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Lexicon.load(DEFAULT_PATH)
    return _DEFAULT
