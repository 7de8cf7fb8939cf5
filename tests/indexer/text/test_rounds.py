"""Round detection on real corpus sentences, English phrasings and false-positive traps."""

from __future__ import annotations

from pathlib import Path

import pytest

from isnad.indexer.text.rounds import chunk_contexts, detect_query_round, detect_rounds, tag_rounds
from isnad.indexer.types import Chunk

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


def _chunk(doc_id: str, n: int, text: str, title: str | None = None) -> Chunk:
    return Chunk(doc_id, f"{doc_id}#{n}", 0, len(text), text, title)


CHUNKS = [
    _chunk("a", 0, "انطلقت اليوم الجولة الثامنة من محادثات أستانا. وشارك فيها الضامنون", "محادثات سلام"),
    _chunk("a", 1, "ووقع الوفد الوثيقة بعد ساعات.", "محادثات سلام"),
    _chunk("b", 0, "ووقع الوفد الوثيقة بعد ساعات.", "أستانا 4"),
    _chunk("b", 1, "وعاد الوفد."),
]


def test_chunk_contexts_add_headline_and_the_previous_sentence_of_the_same_document() -> None:
    assert chunk_contexts(CHUNKS) == [
        "محادثات سلام\n" + CHUNKS[0].text,
        "محادثات سلام\nوشارك فيها الضامنون\n" + CHUNKS[1].text,
        "أستانا 4\n" + CHUNKS[2].text,  # a new document: nothing carried over from "a"
        "ووقع الوفد الوثيقة بعد ساعات.\n" + CHUNKS[3].text,
    ]


def test_tag_rounds_reads_each_chunk_in_its_context() -> None:
    tagged = tag_rounds(CHUNKS)
    assert [c.rounds for c in tagged] == [(8,), (), (4,), ()]
    assert [c.text for c in tagged] == [c.text for c in CHUNKS]
    # the previous sentence names the round that a paragraph leaves implicit
    follow = _chunk("a", 1, "ووقع الوفد الوثيقة بعد ساعات.")
    assert tag_rounds([_chunk("a", 0, "ثم بدأت الجولة الثامنة."), follow])[1].rounds == (8,)
