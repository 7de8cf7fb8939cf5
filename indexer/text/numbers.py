"""Numbers and dates across scripts and calendars: "May 4" reaches "4 مايو" and "4 أيار", "four" reaches "4".

Arabic news writes Gregorian months two ways (Egyptian/Gulf مايو, Levantine أيار; Maghreb ماي) and numbers
as digits or words; digits are already shared by both scripts after normalization, month and number words
are not. This table is language knowledge, not domain knowledge, so it lives in code, not in the lexicon.
"""

from __future__ import annotations

import re

from isnad.indexer.text.arabic import tokenize
from isnad.indexer.text.induced import Expansion

__all__ = ["date_number_terms"]

_MONTHS: dict[str, tuple[str, ...]] = {
    "january": ("يناير", "كانون الثاني", "جانفي"),
    "february": ("فبراير", "شباط", "فيفري"),
    "march": ("مارس", "آذار"),
    "april": ("أبريل", "إبريل", "نيسان", "أفريل"),
    "may": ("مايو", "أيار", "ماي"),
    "june": ("يونيو", "حزيران", "جوان"),
    "july": ("يوليو", "تموز", "جويلية"),
    "august": ("أغسطس", "آب", "أوت"),
    "september": ("سبتمبر", "أيلول"),
    "october": ("أكتوبر", "تشرين الأول"),
    "november": ("نوفمبر", "تشرين الثاني"),
    "december": ("ديسمبر", "كانون الأول"),
}
_NUMBER_WORDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "two": ("2", ("اثنان", "اثنين", "اثنتين")), "three": ("3", ("ثلاث", "ثلاثة")),
    "four": ("4", ("أربع", "أربعة")), "five": ("5", ("خمس", "خمسة")), "six": ("6", ("ست", "ستة")),
    "seven": ("7", ("سبع", "سبعة")), "eight": ("8", ("ثماني", "ثمانية")), "nine": ("9", ("تسع", "تسعة")),
    "ten": ("10", ("عشر", "عشرة")), "eleven": ("11", ()), "twelve": ("12", ()), "twenty": ("20", ("عشرين",)),
    "thirty": ("30", ("ثلاثين",)), "hundred": ("100", ("مئة", "مائة")), "thousand": ("1000", ("ألف", "آلاف")),
    "million": ("", ("مليون", "ملايين")), "billion": ("", ("مليار", "مليارات")),
}
_WORD = re.compile(r"[A-Za-z]+")
_WEIGHT = 1.0  # an exact translation, as sure as the question's own terms


def date_number_terms(question: str) -> list[Expansion]:
    """Arabic BM25 terms for the month names and number words of an English question."""
    out: list[Expansion] = []
    for m in _WORD.finditer(question):
        low = m.group().lower()
        # "May" only as a month when capitalized mid-sentence or next to a number ("may" is also a verb)
        if low in _MONTHS and (low != "may" or _looks_like_date(question, m)):
            phrases = _MONTHS[low]
        elif low in _NUMBER_WORDS:
            digits, words = _NUMBER_WORDS[low]
            phrases = ((digits,) if digits else ()) + words
        else:
            continue
        for phrase in phrases:
            out.extend(Expansion(low, t, _WEIGHT) for t in tokenize(phrase))
    return out


def _looks_like_date(question: str, m: re.Match[str]) -> bool:
    before, after = question[: m.start()].rstrip(), question[m.end() :].lstrip()
    return bool(re.search(r"\d$", before) or re.match(r"\d", after)
                or (m.group()[0].isupper() and m.start() > 0 and before[-1:] not in ".?!"))
