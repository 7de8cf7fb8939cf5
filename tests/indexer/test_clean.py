from __future__ import annotations

from isnad.indexer.clean import Cleaner
from isnad.indexer.read import FolderReader
from isnad.indexer.types import RawDocument
from tests.conftest import CORPUS


def _cleaned(doc_id: str):
    raws = {r.doc_id: r for r in FolderReader(CORPUS).run().documents}
    return Cleaner().run(raws[doc_id])


def test_repeated_block_is_dropped_once() -> None:
    raw = (CORPUS / "000_00b00902cae748a1.txt").read_text(encoding="utf-8")
    sentence = "ولم تصمد بشكل فعلي إلا منطقة خفض التصعيد الرابعة"
    assert raw.count(sentence) == 2
    assert _cleaned("000_00b00902cae748a1").text.count(sentence) == 1


def test_headline_list_furniture_and_published_are_lifted() -> None:
    doc = _cleaned("001_07a94baf12808b94")
    assert doc.published == "2017-09-13"
    assert doc.title == "جولة سادسة باستانا تمهد لمحادثات مباشرة بين دمشق والمعارضة"
    for furniture in ("First Published", "ورطة قطر تلقي بظلال ثقيلة", "اعتقال سبعة رفعوا علم", ">>", "\xa0"):
        assert furniture not in doc.text
    assert "ويؤكد محللون أن نظام الرئيس بشار الأسد" in doc.text  # the last real paragraph stays


def test_trailers_after_markers_are_dropped() -> None:
    doc = _cleaned("004_1133cbd99b86392b")
    assert "شاهد أيضاً" not in doc.text and "كفريا والفوعة" not in doc.text
    assert "\xa0" not in doc.text and "روسياوتركيا" in doc.text  # glued words are matched later, not rewritten
    related = _cleaned("003_4f86f5c4807d352f")
    assert "أخبار متعلقة" not in related.text and not related.text.endswith("أخبار")


def test_truncated_teaser_dropped_when_full_text_follows() -> None:
    doc = _cleaned("003_4f86f5c4807d352f")
    assert "وأشارت..." not in doc.text
    assert doc.text.count("أعلنت وزارة الخارجية الكازاخستانية عن عقد جولة محادثات جديدة") == 1


def test_whitespace_unified_and_title_not_repeated() -> None:
    raw = RawDocument("t", "عنوان قصير\n\nعنوان قصير\n\nفقرة\u00a0أولى  طويلة.\r\nفقرة ثانية.\n", "t.txt")
    doc = Cleaner().run(raw)
    assert doc.title == "عنوان قصير"
    assert doc.text == "فقرة أولى طويلة.\n\nفقرة ثانية."
