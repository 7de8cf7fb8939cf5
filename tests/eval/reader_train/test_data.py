"""The reader's training examples: no XQuAD test article, negatives without the answer, spans on the gold text,
a fixed split."""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest

from isnad.eval.metrics import contains_answer
from isnad.eval.reader_train.data import (
    READING_SETS,
    Example,
    Question,
    answer_removed_text,
    build_chunks,
    build_examples,
    dev_sample,
    examples_for,
    load_questions,
    load_unanswerable,
    split_of,
)
from isnad.eval.splits import xquad_split
from tests.conftest import SHARED_EVAL

READING = SHARED_EVAL / "reading"


@pytest.fixture(scope="module")
def built() -> tuple[list[Example], dict[str, int]]:
    return build_examples(READING)


@pytest.fixture(scope="module")
def questions() -> dict[str, Question]:
    loaded, _ = load_questions(READING)
    by_qid = {q.qid: q for q in loaded}
    assert len(by_qid) == len(loaded)  # qids are unique: examples map back to one question
    return by_qid


def test_no_xquad_test_article_is_read(built: tuple[list[Example], dict[str, int]]) -> None:
    """No example comes from an XQuAD test article: split is never "test", and neither the id nor the text of a
    question of a test article (titles split by `xquad_split`, read from the raw files) appears."""
    examples, counts = built
    test_ids: set[str] = set()
    test_texts: set[str] = set()
    for name, (source, lang) in READING_SETS.items():
        if source != "xquad":
            continue
        for article in json.loads((READING / name).read_text(encoding="utf-8"))["data"]:
            if xquad_split(article["title"]) != "test":
                continue
            for p in article["paragraphs"]:
                for qa in p["qas"]:
                    test_ids.add(f"xquad:{lang}:{qa['id']}")
                    test_texts.add(" ".join(qa["question"].split()))
    assert len(test_ids) > 1000  # about half of XQuAD's 2 x 1,190 questions
    assert {ex.split for ex in examples} == {"train", "dev"}
    assert not {ex.qid for ex in examples} & test_ids
    assert not {ex.question for ex in examples} & test_texts
    assert counts["xquad_test_questions_left_out"] == len(test_ids)


def test_negatives_hold_no_gold_answer(built: tuple[list[Example], dict[str, int]],
                                       questions: dict[str, Question]) -> None:
    """Every "removed" and "other" passage is free of all its question's gold answers (folded as the metrics
    fold); a "removed" passage comes from the paragraph without the answer's sentence."""
    examples, _ = built
    negatives = [ex for ex in examples if ex.kind in ("removed", "other")]
    assert len(negatives) > 3000
    for ex in negatives:
        q = questions[ex.qid]
        assert ex.answer is None
        assert ex.passage.strip()
        assert not contains_answer(ex.passage, q.answers), (ex.qid, ex.kind)
        if ex.kind == "removed":
            removed = answer_removed_text(q.paragraph, q.answer, q.answers)
            assert removed is not None and ex.passage in removed


def test_answer_spans_slice_the_gold_text(built: tuple[list[Example], dict[str, int]],
                                          questions: dict[str, Question]) -> None:
    """Every "answer" example's span slices its passage to the first gold answer's text (stripped), and its
    passage is a piece of the question's paragraph."""
    examples, _ = built
    answers = [ex for ex in examples if ex.kind == "answer"]
    assert len(answers) > 2000
    for ex in answers:
        q = questions[ex.qid]
        assert ex.answer is not None
        a, b = ex.answer
        assert ex.passage[a:b] == q.answers[0].strip() == q.paragraph[q.answer[0] : q.answer[1]]
        assert ex.passage in q.paragraph


def test_one_answer_example_per_question(built: tuple[list[Example], dict[str, int]],
                                         questions: dict[str, Question]) -> None:
    """Each kept question gives exactly one "answer" example and at most one of each negative kind; the
    unanswerable questions give one "unanswerable" example each and nothing else."""
    examples, _ = built
    per = Counter((ex.qid, ex.kind) for ex in examples)
    assert max(per.values()) == 1
    answered = {qid for qid, kind in per if kind == "answer"}
    unanswerable = {qid for qid, kind in per if kind == "unanswerable"}
    assert answered | unanswerable == {ex.qid for ex in examples} and not answered & unanswerable
    assert answered <= set(questions)


def test_split_is_deterministic_and_by_article(built: tuple[list[Example], dict[str, int]],
                                               questions: dict[str, Question]) -> None:
    """A second build gives the identical list and counts; all of an article's examples share one split, and
    about one article in seven is dev."""
    examples, counts = built
    again, counts_again = build_examples(READING)
    assert again == examples
    assert counts_again == counts
    by_article: dict[str, set[str]] = {}
    for ex in examples:
        if ex.kind != "unanswerable":
            by_article.setdefault(questions[ex.qid].article, set()).add(ex.split)
    assert all(len(splits) == 1 for splits in by_article.values())
    dev_share = sum(splits == {"dev"} for splits in by_article.values()) / len(by_article)
    assert 0.07 < dev_share < 0.25


def test_counts_cover_dev_and_train(built: tuple[list[Example], dict[str, int]]) -> None:
    """The counts hold every split/kind pair of train and dev, each matching the examples."""
    examples, counts = built
    tally = Counter(f"{ex.split}/{ex.kind}" for ex in examples)
    kinds = ("answer", "removed", "other", "foreign", "unanswerable")
    keys = {f"{split}/{kind}" for split in ("train", "dev") for kind in kinds}
    assert set(tally) == keys
    assert {k: counts[k] for k in keys} == dict(tally)
    # the README's two ARCD answers that are nowhere in their paragraph, and two of AQAD's
    assert counts["answer_not_found"] == 4
    assert counts["dev/answer"] >= 100 and counts["train/answer"] >= 1000


def test_split_of() -> None:
    """XQuAD articles follow `xquad_split` (both halves occur); other sources are never "test"."""
    titles = [a["title"] for a in json.loads((READING / "xquad.ar.json").read_text(encoding="utf-8"))["data"]]
    splits = {split_of(f"xquad:{title}", "xquad", title) for title in titles}
    assert "test" in splits and splits & {"train", "dev"}
    for title in titles:
        assert (split_of(f"xquad:{title}", "xquad", title) == "test") == (xquad_split(title) == "test")
        assert split_of(f"arcd:{title}", "arcd", title) in ("train", "dev")


def test_answer_removed_text() -> None:
    """The answer's sentence is cut out; nothing comes back when the answer survives elsewhere or nothing is
    left."""
    p = "انعقد المؤتمر في القاهرة. وحضره ثلاثمائة مندوب من عشرين دولة. واختتم أعماله بعد يومين."
    a = p.index("ثلاثمائة")
    span = (a, a + len("ثلاثمائة"))
    assert answer_removed_text(p, span, ("ثلاثمائة",)) == "انعقد المؤتمر في القاهرة. واختتم أعماله بعد يومين."
    assert answer_removed_text(p, span, ("ثلاثمائة", "القاهرة")) is None
    assert answer_removed_text("وحضره ثلاثمائة مندوب.", (6, 14), ("ثلاثمائة",)) is None


def test_examples_for_a_single_question(questions: dict[str, Question]) -> None:
    """For one real question, examples_for gives the answer first, then negatives, all with the given split."""
    q = next(q for q in questions.values() if q.article.startswith("arcd:"))
    examples = examples_for(q, "dev", random.Random(0))
    assert examples[0].kind == "answer" and examples[0].split == "dev"
    assert [ex.kind for ex in examples[1:]] == [k for k in ("removed", "other") if k in {e.kind for e in examples}]
    assert all(ex.split == "dev" and ex.qid == q.qid for ex in examples)


def test_foreign_negatives_come_from_other_articles_of_the_same_split(
        built: tuple[list[Example], dict[str, int]], questions: dict[str, Question]) -> None:
    """A foreign passage is no chunk of the question's own article, and dev's are never train text."""
    examples, _ = built
    paragraphs_by_split: dict[str, set[str]] = {}
    for q in questions.values():  # every question's document, those thinned out of the mix included
        paragraphs_by_split.setdefault(split_of(q.article, *q.article.partition(":")[::2]), set()).add(q.paragraph)
    foreign = [ex for ex in examples if ex.kind == "foreign"]
    assert len(foreign) > 500
    for ex in foreign:
        q = questions[ex.qid]
        assert ex.passage not in q.paragraph and all(ex.passage not in p for p in q.siblings)
        assert any(ex.passage in p for p in paragraphs_by_split[ex.split])


def test_aser_articles_are_read_whole(questions: dict[str, Question],
                                      built: tuple[list[Example], dict[str, int]]) -> None:
    """An ASER question's document is its article's paragraphs in order (a news-length document): its answer
    passage is a chunk of it, and its "removed" passage comes from the whole article without the answer's
    sentence, so the article's topic and names stay."""
    examples, _ = built
    raw = json.loads((READING / "aser.json").read_text(encoding="utf-8"))["data"][0]
    whole = "\n\n".join(p["context"] for p in raw["paragraphs"])
    qa = raw["paragraphs"][1]["qas"][0]
    q = questions[f"aser:ar:{qa['id']}"]
    assert q.paragraph == whole and q.siblings == ()
    assert whole[q.answer[0] : q.answer[1]] == qa["answers"][0]["text"].strip()
    mine = {ex.kind: ex for ex in examples if ex.qid == q.qid}
    assert mine["answer"].passage in whole
    if "removed" in mine:
        assert mine["removed"].passage in answer_removed_text(q.paragraph, q.answer, q.answers)
        assert not contains_answer(mine["removed"].passage, q.answers)


def test_unanswerable_questions_are_negatives_at_their_plausible_answer(
        built: tuple[list[Example], dict[str, int]]) -> None:
    """AQAD's unanswerable questions are never among the answerable ones; each is an "unanswerable" negative
    whose passage is the chunk of its paragraph holding the span its writer aimed at."""
    examples, _ = built
    unanswerable = {u.qid: u for u in load_unanswerable(READING)}
    assert len(unanswerable) > 5000
    assert not set(unanswerable) & {q.qid for q in load_questions(READING)[0]}
    negatives = [ex for ex in examples if ex.kind == "unanswerable"]
    assert len(negatives) == len(unanswerable)
    for ex in negatives[:500]:
        u = unanswerable[ex.qid]
        assert ex.answer is None and ex.passage in u.paragraph
        if u.plausible is not None:
            s, e = next((s, e) for s, e in build_chunks(u.paragraph) if s <= u.plausible[0] < e)
            assert ex.passage == u.paragraph[s:e]


def test_dev_sample_is_bounded_per_source_and_dev_only(questions: dict[str, Question]) -> None:
    sample = dev_sample(list(questions.values()), 50)
    per = Counter((q.qid.split(":", 1)[0], q.lang) for q in sample)
    assert max(per.values()) == 50 and ("aser", "ar") in per and ("xquad", "en") in per
    assert all(split_of(q.article, *q.article.partition(":")[::2]) == "dev" for q in sample)
    assert dev_sample(list(questions.values()), 50) == sample
