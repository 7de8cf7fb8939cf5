"""What kind of answer a question wants, whether a sentence has one, and the shortest span that gives it.

Only generic cues: interrogatives (who / when / where / how many, من / متى / أين / كم), digits, number words,
month names, years. Nothing here comes from the evaluation questions.
"""

from __future__ import annotations

import re
from typing import Literal

from isnad.indexer.text.arabic import normalize, normalize_str

AnswerType = Literal["number", "date", "person", "place", "other"]
ANSWER_TYPES: tuple[AnswerType, ...] = ("number", "date", "person", "place", "other")

# "when", "where" and "who" ask only where the question starts with them (after a preposition at most):
# elsewhere they are conjunctions or relatives ("... when drawing the borders", "the city where ...").
_EN_LEAD = r"^\W*(?:(?:in|at|from|by|to|for|of|on|with|since|until)\s+)?"
_EN_TYPES: tuple[tuple[AnswerType, re.Pattern[str]], ...] = (
    ("number", re.compile(r"\b(how (many|much|long|old|far|large|big|tall|high)|what (percentage|percent|"
                          r"number|amount|proportion)|population of)\b", re.I)),
    ("date", re.compile(_EN_LEAD + r"when\b|\b(what (year|date|day|month|century|decade|time)|"
                        r"which (year|century|decade)|in what year)\b", re.I)),
    ("person", re.compile(_EN_LEAD + r"(who|whom|whose)\b|\b(which (person|company|organization|group|team|"
                          r"king|president)|what (person|company|organization|group|team))\b", re.I)),
    ("place", re.compile(_EN_LEAD + r"where\b|\b(what (city|country|state|region|place|town|continent|river)|"
                         r"which (city|country|state|region|place|town|continent|river))\b", re.I)),
)
# Matched on normalized Arabic (hamza seats folded, ة → ه, ى → ي).
_AR_TYPES: tuple[tuple[AnswerType, re.Pattern[str]], ...] = (
    ("date", re.compile(r"(^|\s)(متي|في اي (عام|سنه|قرن|تاريخ|يوم|شهر)|ما (هو )?تاريخ|اي عام|اي سنه)(\s|$|\W)")),
    ("number", re.compile(r"(^|\s)(كم|ما (هو |هي )?(عدد|نسبه|مقدار|حجم|طول|مساحه)|ما عدد)(\s|$|\W)")),
    ("place", re.compile(r"(^|\s)(اين|في اي (مدينه|بلد|دوله|منطقه|مكان|ولايه)|ما (هي )?(المدينه|الدوله|"
                         r"البلد|المنطقه|العاصمه))(\s|$|\W)")),
    ("person", re.compile(r"^\W*(من|لمن|بمن)\s|(^|\s)(من (هو|هي|هم|الذي|التي|الذين|كان|كانت))(\s|$)")),
)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_AR_MONTHS = _words("يناير فبراير مارس ابريل مايو يونيو يوليو اغسطس سبتمبر اكتوبر نوفمبر ديسمبر "
              "كانون شباط اذار نيسان ايار حزيران تموز اب ايلول تشرين")
_EN_MONTHS = _words("january february march april may june july august september october november december")
_MONTH = "|".join(_AR_MONTHS + _EN_MONTHS)
_SCALE = r"(?:الف|الاف|مليون|ملايين|مليار|مليارات|بالمايه|بالمئه|في المايه|في المئه|%|million|billion|thousand)"
_NUMBER_WORDS = _words("واحد اثنان اثنين ثلاث ثلاثه اربع اربعه خمس خمسه ست سته سبع سبعه ثماني ثمانيه تسع تسعه عشر "
                 "عشره عشرين عشرون ثلاثين ثلاثون مايه مئه مائه مايتين الف الفين مليون مليار نصف ربع")
# Spans are found on normalized text and mapped back to the original through its offset map.
_DATE_SPAN = re.compile(rf"(?:\d{{1,2}}\s+)?(?:{_MONTH})(?:\s+(?:عام\s+|سنه\s+)?\d{{3,4}})?|\b[12]\d{{3}}\b")
_NUMBER_SPAN = re.compile(rf"\d[\d,.]*(?:\s*{_SCALE})?|(?<!\S)(?:{'|'.join(_NUMBER_WORDS)})(?:\s+{_SCALE})?(?!\S)")
_PLACE_CUES = re.compile(r"(^|\s)(في|الي|من)?\s?(مدينه|عاصمه|دوله|ولايه|منطقه|جزيره|نهر|شمال|جنوب|شرق|غرب|"
                         r"قريه|محافظه|اقليم|قاره)")
_PERSON_CUES = re.compile(r"(^|\s)(ال|و)?(رئيس|السيد|وزير|ملك|امير|الامير|شركه|منظمه|جامعه|حزب|فريق|الكاتب|"
                          r"العالم|المهندس|الدكتور|مؤسس|مؤسسه|قائد|مدرب|بن|ابن)(\s|$)")


# What a sentence (normalized) holds when it has something of the kind (a weak, generic cue for person and place).
KIND_CUES: dict[AnswerType, re.Pattern[str]] = {"number": _NUMBER_SPAN, "date": _DATE_SPAN, "place": _PLACE_CUES,
                                               "person": _PERSON_CUES}
DIGITS = re.compile(r"\d+")


def question_type(text: str, lang: str) -> AnswerType:
    return question_type_of_normalized(text, normalize_str(text) if lang != "en" else text, lang)


def question_type_of_normalized(text: str, norm: str, lang: str) -> AnswerType:
    """`question_type` given the text's `normalize_str` too (Arabic cues match on it, English ones on the text)."""
    if lang == "en":
        for kind, pattern in _EN_TYPES:
            if pattern.search(text):
                return kind
        return "other"
    for kind, pattern in _AR_TYPES:
        if pattern.search(norm):
            return kind
    return "other"


def sentence_has(kind: AnswerType, sentence: str) -> bool:
    """Whether a sentence holds something of the wanted kind (a weak, generic cue for person and place)."""
    return has_kind(kind, normalize_str(sentence))


def has_kind(kind: AnswerType, norm: str) -> bool:
    """`sentence_has` on text already normalized (`normalize_str`)."""
    cue = KIND_CUES.get(kind)
    return cue is not None and cue.search(norm) is not None


def question_numbers(text: str) -> set[str]:
    return set(numbers_in(normalize_str(text)))


def numbers_in(norm: str) -> frozenset[str]:
    """The digit runs of text already normalized (`normalize_str`)."""
    return frozenset(DIGITS.findall(norm))


def find_span(kind: AnswerType, sentence: str, question: str, asked: set[str] | frozenset[str] | None = None
              ) -> tuple[int, int] | None:
    """Offsets (into `sentence`) of the shortest part that answers a number or date question, else None.

    Figures the question itself states (`asked`, else read from `question`) are skipped: they are what it asks
    about, not the answer.
    """
    if kind not in ("number", "date"):
        return None
    normalized = normalize(sentence)
    norm = normalized.text
    asked = question_numbers(question) if asked is None else asked
    patterns = (_DATE_SPAN, _NUMBER_SPAN) if kind == "date" else (_NUMBER_SPAN,)
    for pattern in patterns:
        for m in pattern.finditer(norm):
            if kind == "number" and _DATE_SPAN.fullmatch(m.group(0).strip()) and m.group(0).isdigit():
                continue  # a bare year is not a count
            if set(re.findall(r"\d+", m.group(0))) & asked:
                continue
            start, end = m.start(), m.end()
            while end > start and norm[end - 1] in " ,.":
                end -= 1
            if end > start:
                return normalized.to_original(start, end)
    return None
