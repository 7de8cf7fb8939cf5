"""Detect which numbered Astana round(s) a text talks about, in Arabic or English.

Recognized (on `arabic.normalize_str` text, so hamza/ة/diacritic/quote variants need no extra cases):
- Arabic: جولة + ordinal or number: الجولة الرابعة, جولة سادسة, الجولة الحادية عشرة, الجولة الـ6,
  الجولة رقم 6, "هذه الجولة من المفاوضات وهي السادسة".
- a conference name + number: أستانا 4, أستانا-7, “أستانا “3, (أستانا-7 ), Astana-9, Astana IV, Nur-Sultan 12.
- English: round four, round 4, fourth round, 4th round, round-4.

Deliberately not recognized: an ordinal without the word "round" (منطقة خفض التصعيد الرابعة is the fourth
de-escalation zone), counts (سبع جولات, جولاتها الـ6 السابقة, two rounds), and dates (4 مايو, أستانا 4 مايو).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from isnad.indexer.text.arabic import normalize_str
from isnad.indexer.text.sentences import sentence_spans
from isnad.indexer.types import Chunk

__all__ = ["ROUNDS_VERSION", "chunk_contexts", "detect_query_round", "detect_rounds", "tag_rounds"]

# Recorded in an index's manifest (through the pipeline's ENRICH_VERSION): bump when `tag_rounds` tags
# differently, so indexes tagged the old way are rebuilt.
ROUNDS_VERSION = "rounds-2"

MAX_ROUND = 40  # anything larger is a year, a count or a casualty figure, not a round

_AR_UNITS = {
    "اول": 1, "اولي": 1, "حادي": 1, "ثاني": 2, "ثالث": 3, "رابع": 4, "خامس": 5,
    "سادس": 6, "سابع": 7, "ثامن": 8, "تاسع": 9,
}  # fmt: skip
_EN_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
}  # fmt: skip
_EN_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
    "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19, "twentieth": 20,
}  # fmt: skip
_ROMAN = {"ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9, "x": 10, "xi": 11,
          "xii": 12, "xiii": 13, "xiv": 14, "xv": 15}  # fmt: skip
_MONTHS = normalize_str(
    "يناير فبراير فيفري مارس أبريل إبريل أفريل مايو ماي يونيو يونيه جوان يوليو يوليه جويلية أغسطس أوت سبتمبر "
    "أكتوبر نوفمبر ديسمبر كانون شباط آذار نيسان أيار حزيران تموز آب أيلول تشرين "
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
).split()

_UNIT = "|".join(sorted(_AR_UNITS, key=len, reverse=True))
# ordinal phrase after جولة: unit (+ عشر) (+ و العشرين) | العاشر | العشرين
_AR_ORDINAL = (
    rf"(?:ال)?(?:(?P<unit>{_UNIT})ه?(?:\s+(?:ال)?(?P<teen>عشر)ه?)?(?:\s+و\s?(?:ال)?(?P<tw>عشر(?:ون|ين)))?"
    r"|(?P<ten>عاشر)ه?|(?P<twenty>عشر(?:ون|ين)))"
)
_NAME = r"(?:استانا|استانه|astana|nur[\s-]?sultan|نور\s?سلطان)"
# جولة [محادثات|مفاوضات] [أستانا] ORDINAL, or "هذه الجولة من المفاوضات وهي السادسة"
_AR_ROUND = re.compile(
    rf"(?<![\w])[وفبلك]?(?:ال|لل)?جوله\s+(?:(?:محادثات|مفاوضات|مباحثات)\s+)?(?:[بل]?{_NAME}\s+)?"
    rf"(?:(?:\S+\s+){{0,3}}?وهي\s+)?(?:(?:ال\s?|رقم\s+)?(?P<num>\d{{1,2}})(?![\d/])|{_AR_ORDINAL})(?!\w)"
)
_NAME_NUM = re.compile(
    rf"(?<![\w])[وفبلك]?(?:ال)?{_NAME}[\s\"'\-–—()]*(?:(?P<num>\d{{1,2}})(?![\d/.:\-]\d)|(?P<roman>[ivx]{{1,5}}))"
    r"(?!\w)(?P<after>\s*\S*)"
)
_EN_NUM = "|".join(_EN_NUMBERS)
_EN_ORD = "|".join(_EN_ORDINALS)
_EN_ROUND = re.compile(
    rf"\bround[\s\-]+(?:(?:no\.?|number)\s*)?(?:(?P<num>\d{{1,2}})(?!\d)|(?P<word>{_EN_NUM}))\b"
    rf"|\b(?:(?P<ord>{_EN_ORD})|(?P<nth>\d{{1,2}})(?:st|nd|rd|th))[\s\-]+(?:astana\s+)?round\b"
)


def _arabic_ordinal(m: re.Match[str]) -> int | None:
    if m.group("num"):
        return int(m.group("num"))
    if m.group("ten"):
        return 10
    if m.group("twenty"):
        return 20
    unit = _AR_UNITS[m.group("unit")]
    if m.group("tw"):
        return 20 + unit
    if m.group("teen"):
        return 10 + unit
    return None if m.group("unit") == "حادي" else unit


def _is_date(after: str) -> bool:
    word = after.strip().strip("\"'()،,.")
    return any(word.startswith(month) for month in _MONTHS) if word else False


def _rounds(norm: str) -> set[int]:
    found: set[int] = set()
    for m in _AR_ROUND.finditer(norm):
        n = _arabic_ordinal(m)
        if n is not None:
            found.add(n)
    for m in _NAME_NUM.finditer(norm):
        if _is_date(m.group("after")):
            continue
        if m.group("num"):
            found.add(int(m.group("num")))
        elif m.group("roman") in _ROMAN:
            found.add(_ROMAN[m.group("roman")])
    for m in _EN_ROUND.finditer(norm):
        if m.group("num") or m.group("nth"):
            found.add(int(m.group("num") or m.group("nth")))
        else:
            found.add(_EN_NUMBERS.get(m.group("word") or "", 0) or _EN_ORDINALS.get(m.group("ord") or "", 0))
    return {n for n in found if 1 <= n <= MAX_ROUND}


def detect_rounds(text: str) -> tuple[int, ...]:
    """Sorted unique round numbers that `text` mentions."""
    return tuple(sorted(_rounds(normalize_str(text))))


def detect_query_round(text: str, normalized: str | None = None) -> int | None:
    """The one round a question asks about, or None when it names no round or several (`normalized`: the
    text's `normalize_str`, when the caller has it)."""
    found = _rounds(normalize_str(text) if normalized is None else normalized)
    return found.pop() if len(found) == 1 else None


def chunk_contexts(chunks: Sequence[Chunk]) -> list[str]:
    """Each chunk's text after its headline and the last sentence of its predecessor in the same document.

    Used to tag rounds ("ووقع الوثيقة…" names no round; the sentence before it does), not for ranking: a
    chunk that carried its neighbour's sentence would outrank the neighbour for what that sentence says.
    """
    texts = []
    for i, chunk in enumerate(chunks):
        before = chunks[i - 1] if i else None
        context = ""
        if before is not None and before.doc_id == chunk.doc_id:
            spans = sentence_spans(before.text)
            context = before.text[spans[-1][0] : spans[-1][1]] if spans else ""
        texts.append("\n".join(part for part in (chunk.title, context, chunk.text) if part))
    return texts


def tag_rounds(chunks: Sequence[Chunk]) -> list[Chunk]:
    """`chunks` (in document order) with the rounds their contexts name: headline + previous sentence + text
    name the round a paragraph often leaves implicit."""
    return [replace(c, rounds=detect_rounds(text)) for c, text in zip(chunks, chunk_contexts(chunks), strict=True)]
