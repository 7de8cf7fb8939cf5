"""Which script a text is written in, and making Arabic readable where nothing shapes it (terminals, plots).

The one definition of "Arabic" for the project: `is_arabic_char` (the Unicode blocks of the Arabic script).
`stems_as_arabic` is the tokenizer's narrower rule, kept here so the two are read side by side.
"""

from __future__ import annotations

import re
from typing import Literal

__all__ = ["arabic_share", "has_arabic", "is_arabic_char", "query_language", "shape", "stems_as_arabic"]

# Arabic, Arabic Supplement, Arabic Extended-A, Arabic Presentation Forms-A and -B.
_ARABIC_CHAR = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
# The base alphabet ء..ي (U+0621-U+064A) that the Snowball Arabic stemmer knows. Narrower than the blocks on
# purpose: a normalized word starting with an extended letter (پ گ ڤ) has always been stemmed as non-Arabic,
# and changing that would change the terms of indexes already built (TOKENIZER_VERSION).
_STEMMED_ARABIC = re.compile("[\u0621-\u064a]")


def is_arabic_char(ch: str) -> bool:
    return _ARABIC_CHAR.match(ch) is not None


def has_arabic(text: str) -> bool:
    return _ARABIC_CHAR.search(text) is not None


def arabic_share(text: str) -> float:
    """Share of the letters of `text` (str.isalpha) that are Arabic; 0.0 when it has no letters."""
    letters = [ch for ch in text if ch.isalpha()]
    return sum(1 for ch in letters if is_arabic_char(ch)) / len(letters) if letters else 0.0


def query_language(text: str) -> Literal["ar", "en"]:
    """A question's language, which decides its ranking weights: Arabic when at least half its letters are."""
    return "ar" if arabic_share(text) >= 0.5 else "en"


def stems_as_arabic(word: str) -> bool:
    """Whether the tokenizer stems `word` (normalized) as Arabic: it starts with a letter of the base alphabet."""
    return _STEMMED_ARABIC.match(word) is not None


def shape(text: str) -> str:
    """Join Arabic letters into their contextual forms and reorder each line for left-to-right display."""
    if not has_arabic(text):
        return text
    import arabic_reshaper  # ~0.1 s to import: only where something is shaped

    try:  # python-bidi >= 0.5 exports it at top level; older versions only from bidi.algorithm
        from bidi import get_display
    except ImportError:  # pragma: no cover
        from bidi.algorithm import get_display
    return "\n".join(get_display(arabic_reshaper.reshape(line)) for line in text.split("\n"))
