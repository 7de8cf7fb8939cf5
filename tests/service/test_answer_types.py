"""Question types, sentence cues and answer spans: generic cues only, offsets exact in the original text."""

from __future__ import annotations

import pytest

from isnad.service.ask.answer_types import find_span, question_type, sentence_has


@pytest.mark.parametrize(("question", "lang", "kind"), [
    ("How many people attended the meeting?", "en", "number"),
    ("What percentage of voters stayed home?", "en", "number"),
    ("When was the treaty signed?", "en", "date"),
    ("In what year did the war end?", "en", "date"),
    ("Who founded the company?", "en", "person"),
    ("Where is the headquarters?", "en", "place"),
    ("Which city hosted the games?", "en", "place"),
    ("What is the main export?", "en", "other"),
    ("In which year did the war end?", "en", "date"),
    ("From where did the delegates travel?", "en", "place"),
    # conjunctions and relatives, not interrogatives
    ("What did the ministers discuss when drafting the accord?", "en", "other"),
    ("What is the name of the hall where the talks were held?", "en", "other"),
    ("What is the title of the man who chaired the meeting?", "en", "other"),
    ("كم عدد سكان المدينة؟", "ar", "number"),
    ("متى افتتح المطار؟", "ar", "date"),
    ("في أي عام تأسست الجامعة؟", "ar", "date"),
    ("من هو مؤسس الشركة؟", "ar", "person"),
    ("أين يقع المقر الرئيسي؟", "ar", "place"),
    ("ما هو الهدف من الاتفاق؟", "ar", "other"),
])
def test_question_type(question: str, lang: str, kind: str) -> None:
    assert question_type(question, lang) == kind


def test_sentence_cues() -> None:
    assert sentence_has("number", "وصل عدد الزوار إلى 50 ألف زائر")
    assert sentence_has("number", "شارك فيه خمسة آلاف شخص")
    assert sentence_has("date", "افتتح في 12 مارس 2019")
    assert sentence_has("date", "تأسست عام 1908")
    assert not sentence_has("date", "افتتح المطار بحضور الوزير")
    assert not sentence_has("number", "افتتح المطار بحضور الوزير")
    assert sentence_has("place", "يقع في مدينة حلب")


@pytest.mark.parametrize(("kind", "sentence", "question", "expected"), [
    ("number", "وقتل أكثر من 300 ألف شخص منذ 2011.", "كم عدد القتلى؟", "300 ألف"),
    ("date", "وقد افتُتح المطار في 12 مارس 2019 بحضور الوزير.", "متى افتتح المطار؟", "12 مارس 2019"),
    ("date", "تأسّست الجامعة عام ١٩٠٨ في القاهرة.", "في أي عام تأسست الجامعة؟", "١٩٠٨"),
    # the figure the question states is what it asks about, not the answer
    ("number", "في الجولة 4 وقّع 3 وفود على المذكرة.", "How many delegations signed in round 4?", "3"),
])
def test_span_is_exact_and_shortest(kind: str, sentence: str, question: str, expected: str) -> None:
    span = find_span(kind, sentence, question)
    assert span is not None
    assert sentence[span[0] : span[1]] == expected


def test_span_keeps_diacritics_of_the_original() -> None:
    sentence = "بَلَغَ عَدَدُهُم ٢٥٠ أَلْف شخص"
    span = find_span("number", sentence, "كم عددهم؟")
    assert span is not None and sentence[span[0] : span[1]] == "٢٥٠ أَلْف"


def test_no_span_for_other_kinds_or_without_a_figure() -> None:
    assert find_span("person", "قال الرئيس إن المحادثات ناجحة", "من قال ذلك؟") is None
    assert find_span("number", "لم يذكر أي رقم هنا", "كم عددهم؟") is None
