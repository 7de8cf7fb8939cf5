"""Sentence boundaries of `indexer.text.sentences`."""

from __future__ import annotations

from isnad.indexer.text.sentences import sentence_spans


def test_sentence_spans_handle_arabic_question_mark() -> None:
    text = "متى عقدت الجولة؟ في ديسمبر. وماذا بعد"
    assert [text[s:e] for s, e in sentence_spans(text)] == ["متى عقدت الجولة؟", "في ديسمبر.", "وماذا بعد"]


def test_sentence_spans_trim_quotes_newlines_and_bounds() -> None:
    text = "  قال: «انتهت الجولة.» ثم غادر\n\nالسطر الثاني  "
    assert [text[s:e] for s, e in sentence_spans(text)] == ["قال: «انتهت الجولة.»", "ثم غادر", "السطر الثاني"]
    # a window of the text: spans stay offsets into the whole text
    start = text.index("ثم")
    assert sentence_spans(text, start, start + len("ثم غادر")) == [(start, start + len("ثم غادر"))]
    assert sentence_spans("   \n ") == []
