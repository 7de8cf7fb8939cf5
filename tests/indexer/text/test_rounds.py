"""Round detection on real corpus sentences, English phrasings and false-positive traps."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.text.rounds import detect_query_round, detect_rounds

CORPUS = Path(__file__).resolve().parents[3] / "data" / "astana"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # real corpus sentences (fragments)
        ("أن الجولة التاسعة من محادثات أستانة ستعقد يومي الاثنين والثلاثاء", (9,)),
        ("وكان الجولة الثامنة من محادثات أستانة قد عقدت يومي 21 و22 ديسمبر/ كانون الأول الماضي", (8,)),
        ("وكانت الجولة الرابعة من المفاوضات في 4 مايو/أيار من العام الماضي قد أسفرت عن اتفاق", (4,)),
        ("جولة سادسة باستانا تمهد لمحادثات مباشرة بين دمشق والمعارضة", (6,)),
        ("وتتناول هذه الجولة من المفاوضات وهي السادسة في العاصمة الكازاخية", (6,)),
        ("وأوضح أن هدف (أستانا-7 ) يتمثل في “الحفاظ على ما تم إنجازه", (7,)),
        ("وفي 4 مايو 2017 أقيمت مفاوضات “أستانا 4” حيث وقع ممثلو الدول الضامنة", (4,)),
        ("وفي 15 مارس 2017 قامت مفاوضات “أستانا “3 على إنشاء مجموعة عمل خاصة", (3,)),
        ("وزارة خارجية كازاخستان تعلن انطلاق ” محادثات أستانا-9″ الاثنين القادم", (9,)),
        ("أكد نائب وزير الخارجية الروسي، ميخائيل بوغدانوف، أن “أستانا – 9” ستبحث مجموعة مسائل", (9,)),
        ("ويشار الى أن الجولة السادسة من محادثات آستانة، والتي عقدت في سبتمبر الماضي", (6,)),
        ("وفي 23 فيفري 2017 انتهت الجولة الثانية من المفاوضات بشأن التسوية السورية", (2,)),
        # other Arabic forms
        ("الجولة الـ6", (6,)),
        ("الجولة 6", (6,)),
        ("الجولة رقم 10", (10,)),
        ("الجولة الحادية عشرة من محادثات أستانة", (11,)),
        ("الجولة الثانية عشرة", (12,)),
        ("الجولة الأولى", (1,)),
        ("الجولة العاشرة", (10,)),
        ("الجولة الحادية والعشرين", (21,)),
        ("جولة مفاوضات أستانا السابعة", (7,)),
        ("أستانة 4", (4,)),
        ("الجولتين الرابعة والسادسة: أستانا 4 والجولة السادسة", (4, 6)),
        # English
        ("What did round four of the Astana talks agree?", (4,)),
        ("the fourth round", (4,)),
        ("the 4th round", (4,)),
        ("round 4", (4,)),
        ("Astana 4", (4,)),
        ("Astana-4", (4,)),
        ("Astana IV", (4,)),
        ("the fourth Astana round", (4,)),
        ("On which days is Astana-9 held?", (9,)),
        ("the twelfth round of the Astana talks", (12,)),
        # negatives
        ("ولم تصمد بشكل فعلي إلا منطقة خفض التصعيد الرابعة في شمال غربي سورية", ()),
        ("على إنشاء منطقة رابعة لخفض التصعيد في محافظة إدلب", ()),
        ("وفي 4 مايو 2017", ()),
        ("عقد الاجتماع في أستانا 4 مايو", ()),
        ("وانعقدت سبع جولات من المفاوضات حتى الآن", ()),
        ("والتى أسفرت جولاتها الـ6 السابقةعن إقامة 4 مناطق لخفض التوتر", ()),
        ("جولة محادثات جديدة في 21 و22 كانون الأول", ()),
        ("أستانا 2017", ()),
        ("two rounds of talks in 4 May", ()),
        ("", ()),
    ],
)
def test_detect_rounds(text: str, expected: tuple[int, ...]) -> None:
    assert detect_rounds(text) == expected


def test_corpus_files() -> None:
    found = {p.name[:3]: detect_rounds(p.read_text(encoding="utf-8")) for p in sorted(CORPUS.glob("*.txt"))}
    assert found["000"] == (4, 8, 9)
    assert found["001"] == (6,)
    assert found["002"] == (2, 3, 4, 6, 7)
    assert found["004"] == (9,)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What did round four of the Astana talks agree?", 4),
        ("متى عقدت الجولة الثامنة من محادثات أستانة؟", 8),
        ("ماذا أنشأت مفاوضات أستانا 3 في 15 مارس 2017؟", 3),
        ("Which countries were invited as observers to the ninth round?", 9),
        ("ما هو هدف جولة أستانا 7؟", 7),
        ("من هي الدول الضامنة لمحادثات أستانا؟", None),
        ("Compare round 4 and round 6", None),
        ("What was agreed on 4 May?", None),
    ],
)
def test_detect_query_round(question: str, expected: int | None) -> None:
    assert detect_query_round(question) == expected
