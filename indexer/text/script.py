"""Make Arabic readable in a terminal that does no shaping or bidi of its own."""

from __future__ import annotations

import arabic_reshaper
from bidi import get_display

_ARABIC = range(0x0600, 0x0700)


def has_arabic(text: str) -> bool:
    return any(ord(ch) in _ARABIC for ch in text)


def shape(text: str) -> str:
    """Join Arabic letters into their contextual forms and reorder each line for left-to-right display."""
    if not has_arabic(text):
        return text
    return "\n".join(get_display(arabic_reshaper.reshape(line)) for line in text.split("\n"))
