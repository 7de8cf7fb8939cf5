from __future__ import annotations

import pytest

from isnad.indexer.chunk import Chunker
from isnad.indexer.clean import Cleaner
from isnad.indexer.read import FolderReader
from isnad.indexer.types import Document
from tests.conftest import CORPUS


def test_offsets_round_trip_on_every_real_chunk() -> None:
    chunker = Chunker()
    total = 0
    for raw in FolderReader(CORPUS).run().documents:
        doc = Cleaner().run(raw)
        chunks = chunker.run(doc)
        assert chunks, doc.doc_id
        for chunk in chunks:
            assert doc.text[chunk.start : chunk.end] == chunk.text
            assert chunk.text == chunk.text.strip() and len(chunk.text) <= chunker.hard_max_chars
        total += len(chunks)
        assert len({c.chunk_id for c in chunks}) == len(chunks)
    assert total > 40


def test_long_paragraph_splits_at_sentence_boundaries() -> None:
    sentence = "هذه جملة عربية طويلة نسبيا عن محادثات أستانا. "
    doc = Document("d", (sentence * 40).strip())
    chunks = Chunker(max_chars=300, min_chars=0).run(doc)
    assert len(chunks) > 1
    for chunk in chunks:
        assert chunk.text.endswith(".") and doc.text[chunk.start : chunk.end] == chunk.text


def test_short_caption_joins_a_paragraph_and_oversized_sentence_is_cut() -> None:
    doc = Document("d", "تعليق صورة\n\n" + "كلمة " * 200)
    chunks = Chunker(max_chars=200, min_chars=50).run(doc)
    assert chunks[0].start == 0 and "تعليق صورة" in chunks[0].text
    assert len(chunks) > 2 and all(len(c.text) <= 400 for c in chunks)
    assert all(doc.text[c.start : c.end] == c.text for c in chunks)


def test_sentence_up_to_hard_max_stays_whole() -> None:
    sentence = "جملة طويلة " * 30  # ~330 chars, one sentence
    doc = Document("d", f"{sentence.strip()}. قصيرة أخرى هنا وهناك تكفي لتكون جملة ثانية طويلة بما يكفي للبقاء.")
    chunks = Chunker(max_chars=300, min_chars=20).run(doc)
    assert chunks[0].text.startswith("جملة") and chunks[0].text.endswith(".") and len(chunks) == 2


@pytest.mark.parametrize(
    "kwargs", [{"max_chars": 10}, {"max_chars": 100, "min_chars": 100}, {"max_chars": 100, "hard_max_chars": 50}]
)
def test_invalid_parameters_rejected(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        Chunker(**kwargs)
