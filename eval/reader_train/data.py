"""The reader's training examples, SQuAD 2.0 style, from `../shared/eval/reading/` and a fixed split.

The sets: XQuAD (ar and en questions), MLQA, ARCD, ArDQA, AQAD and ASER (news). ASER's paragraphs are one or
two sentences, so an ASER article's paragraphs in order are read as one document, the way the service reads a
news article (`ARTICLE_LEVEL`). AQAD's unanswerable questions (SQuAD 2.0's adversarial ones) are negatives of
their own kind, *unanswerable*: the chunk of their paragraph where the plausible answer stands.

Each question gives passages the size the service reads (the indexer's chunks of its paragraph):
- *answer*: the chunk holding the gold span;
- *removed*: the gold paragraph with the sentence(s) holding the answer taken out, chunked again; the chunk
  where the answer stood (same topic and names, the fact gone);
- *other*: another chunk of the same article without the answer;
- *foreign* (one question in THIN["foreign"]): a chunk of another article, of any set: the question asked of an
  archive that does not cover its topic at all (v1 of the reader, without these, answered "what is the
  capital of France?" from an article about Syria).
A negative is kept only when no gold answer string occurs in it (folded as the metrics fold).

Split, fixed by hashes of article titles: XQuAD's test articles (`eval/splits.py`) are never read here;
of the rest, one article in seven is "dev" (chooses the epoch, the calibration and the threshold), the
remainder "train". `../shared/eval/heldout/` is never read.
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from isnad.eval.metrics import contains_answer
from isnad.eval.splits import xquad_split
from isnad.indexer.chunk import Chunker
from isnad.indexer.text.sentences import sentence_spans
from isnad.indexer.types import Document

READING_SETS = {  # file -> (source name, question language)
    "xquad.ar.json": ("xquad", "ar"),
    "xquad.en-question.ar-context.json": ("xquad", "en"),
    "mlqa-dev.ar-ar.json": ("mlqa", "ar"),
    "arcd-train.json": ("arcd", "ar"),
    "ardqa-msa.json": ("ardqa", "ar"),
    "aaqad.json": ("aqad", "ar"),
    "aser.json": ("aser", "ar"),
}
ARTICLE_LEVEL = frozenset({"aser"})  # sources whose articles are read whole (short paragraphs)
# The mix, set before training (not tuned: one run fits a session): one in THIN[x] kept, by a hash of the
# question id. AQAD's answerable questions are Wikipedia like XQuAD's and noisy, so a quarter; the *other* and
# *foreign* negatives are the easy ones; every *removed* and *unanswerable* negative is kept (refusing those is
# what the reader lacked).
THIN = {"aqad_answerable": 4, "other": 3, "foreign": 4}
CHUNKER = Chunker()  # the service's chunks: the reader learns on passages like the ones it will read


@dataclass(frozen=True)
class Question:
    qid: str
    question: str
    lang: str
    paragraph: str
    answer: tuple[int, int]  # character span in `paragraph`
    answers: tuple[str, ...]
    article: str  # source + title: the unit of the split
    siblings: tuple[str, ...]  # the article's other paragraphs


@dataclass(frozen=True)
class Example:
    qid: str
    question: str
    lang: str
    passage: str
    answer: tuple[int, int] | None  # span in `passage`; None: the passage does not answer
    kind: str  # "answer", "removed", "other", "foreign" or "unanswerable"
    split: str


@dataclass(frozen=True)
class Unanswerable:
    """A question its paragraph does not answer (AQAD's), with the span its writer aimed at, if found."""

    qid: str
    question: str
    lang: str
    paragraph: str
    plausible: tuple[int, int] | None
    article: str


def split_of(article: str, source: str, title: str) -> str:
    """'test' (XQuAD test articles: never read), 'dev' or 'train'; fixed by hashes of the titles."""
    if source == "xquad" and xquad_split(title) == "test":
        return "test"
    return "dev" if hashlib.sha256(("reader-dev:" + article).encode("utf-8")).digest()[0] % 7 == 0 else "train"


def load_questions(folder: Path, sources: frozenset[str] | None = None) -> tuple[list[Question], dict[str, int]]:
    """Every answerable question of the reading sets (of `sources`, default all) whose answer is found at (or
    near) its `answer_start`; the counts of those skipped."""
    questions, _, skipped = _load(folder, sources)
    return questions, skipped


def load_unanswerable(folder: Path, sources: frozenset[str] | None = None) -> list[Unanswerable]:
    return _load(folder, sources)[1]


def _load(folder: Path, sources: frozenset[str] | None) -> tuple[list[Question], list[Unanswerable], dict[str, int]]:
    out: list[Question] = []
    unanswerable: list[Unanswerable] = []
    skipped = {"answer_not_found": 0}
    seen: dict[str, int] = {}
    for name, (source, lang) in READING_SETS.items():
        if sources is not None and source not in sources:
            continue
        data = json.loads((folder / name).read_text(encoding="utf-8"))["data"]
        for article in data:
            title = article.get("title") or ""
            paragraphs = [p["context"] for p in article["paragraphs"]]
            whole = "\n\n".join(paragraphs) if source in ARTICLE_LEVEL else None
            at = 0
            for p in article["paragraphs"]:
                context, offset = p["context"], at
                at += len(context) + 2
                for qa in p["qas"]:
                    qid, question = f"{source}:{lang}:{qa['id']}", " ".join(qa["question"].split())
                    seen[qid] = seen.get(qid, 0) + 1
                    if seen[qid] > 1:  # ArDQA's dev and test parts reuse ids
                        qid = f"{qid}#{seen[qid]}"
                    if qa.get("is_impossible"):
                        aimed = qa.get("plausible_answers") or []
                        unanswerable.append(Unanswerable(qid, question, lang, context,
                                                         _locate(context, aimed[0]) if aimed else None,
                                                         f"{source}:{title}"))
                        continue
                    answers = tuple(a["text"] for a in qa["answers"] if a["text"].strip())
                    span = _locate(context, qa["answers"][0]) if qa["answers"] else None
                    if span is None:
                        skipped["answer_not_found"] += 1
                        continue
                    if whole is not None:  # the article as one document, the span moved into it
                        out.append(Question(qid, question, lang, whole, (span[0] + offset, span[1] + offset),
                                            answers, f"{source}:{title}", ()))
                    else:
                        out.append(Question(qid, question, lang, context, span, answers, f"{source}:{title}",
                                            tuple(x for x in paragraphs if x != context)))
    return out, unanswerable, skipped


def _locate(context: str, answer: dict) -> tuple[int, int] | None:
    """The answer's span: at `answer_start`, else its nearest occurrence (two ARCD offsets are off)."""
    text, start = answer["text"].strip(), int(answer["answer_start"])
    if not text:
        return None
    if context[start : start + len(text)] == text:
        return start, start + len(text)
    found = [i for i in _occurrences(context, text)]
    if not found:
        return None
    best = min(found, key=lambda i: abs(i - start))
    return best, best + len(text)


def _occurrences(text: str, needle: str) -> Iterator[int]:
    i = text.find(needle)
    while i >= 0:
        yield i
        i = text.find(needle, i + 1)


@functools.lru_cache(maxsize=4096)
def _chunk_spans(text: str) -> tuple[tuple[int, int], ...]:
    return tuple((c.start, c.end) for c in CHUNKER.run(Document("p", text)))


def build_chunks(text: str) -> list[tuple[int, int]]:
    """The service's chunk spans of one paragraph (an article's questions share its chunks: cached)."""
    return list(_chunk_spans(text))


def examples_for(q: Question, split: str, rng: random.Random, foreign: str | None = None) -> list[Example]:
    out = []
    a, b = q.answer
    chunks = build_chunks(q.paragraph)
    holding = [(s, e) for s, e in chunks if s <= a and b <= e]
    if holding:
        s, e = holding[0]
    else:  # the answer straddles chunks: the run of chunks that covers it
        s = max(x for x, _ in chunks if x <= a)
        e = min(y for _, y in chunks if y >= b)
    out.append(Example(q.qid, q.question, q.lang, q.paragraph[s:e], (a - s, b - s), "answer", split))
    removed = _answer_removed(q)
    if removed is not None:
        out.append(Example(q.qid, q.question, q.lang, removed, None, "removed", split))
    others = [q.paragraph[s:e] for s, e in chunks if not (s < b and a < e)]
    others = [t for t in others if not contains_answer(t, q.answers)]
    if not others:
        sibling_chunks = [p[s:e] for p in q.siblings for s, e in build_chunks(p)]
        others = [t for t in sibling_chunks if not contains_answer(t, q.answers)]
    if others:
        out.append(Example(q.qid, q.question, q.lang, rng.choice(others), None, "other", split))
    if foreign is not None and not contains_answer(foreign, q.answers):
        out.append(Example(q.qid, q.question, q.lang, foreign, None, "foreign", split))
    return out


def answer_removed_text(paragraph: str, answer: tuple[int, int], answers: tuple[str, ...]) -> str | None:
    """The paragraph without the sentence(s) overlapping `answer`; None when nothing is left or a gold answer
    string still occurs in what is left."""
    a, b = answer
    spans = [(s, e) for s, e in sentence_spans(paragraph) if s < b and a < e]
    if not spans:
        return None
    cut_start, cut_end = spans[0][0], spans[-1][1]
    text = (paragraph[:cut_start].rstrip() + " " + paragraph[cut_end:].lstrip()).strip()
    if not text or contains_answer(text, answers):
        return None
    return text


def _answer_removed(q: Question) -> str | None:
    """The chunk where the answer stood, in the paragraph without the sentence(s) holding it."""
    text = answer_removed_text(q.paragraph, q.answer, q.answers)
    if text is None:
        return None
    cut_start = next(s for s, e in sentence_spans(q.paragraph) if s < q.answer[1] and q.answer[0] < e)
    at = min(len(q.paragraph[:cut_start].rstrip()), len(text) - 1)
    chunks = build_chunks(text)
    for s, e in chunks:
        if s <= at < e or at < s:
            return text[s:e]
    return text[chunks[-1][0] : chunks[-1][1]] if chunks else None


def build_examples(folder: Path, seed: int = 0) -> tuple[list[Example], dict[str, int]]:
    """Train and dev examples (test articles dropped), in a fixed order; counts by split and kind."""
    examples, counts = _built(folder.resolve(), seed)
    return list(examples), dict(counts)


@functools.lru_cache(maxsize=2)
def _built(folder: Path, seed: int) -> tuple[tuple[Example, ...], dict[str, int]]:
    """Built once per process (about a minute): the examples are frozen, callers get copies of the containers."""
    questions, unanswerable, counts = _load(folder, None)
    rng = random.Random(seed)
    splits = {q.article: split_of(q.article, *q.article.partition(":")[::2]) for q in [*questions, *unanswerable]}
    # foreign passages come from articles of the same split (dev never sees train text, test is never read)
    pools: dict[str, list[tuple[str, str]]] = {}
    for q in questions:
        pools.setdefault(splits[q.article], []).append((q.article, q.paragraph))
    out: list[Example] = []

    def keep(ex: Example) -> None:
        out.append(ex)
        key = f"{ex.split}/{ex.kind}"
        counts[key] = counts.get(key, 0) + 1

    for q in questions:
        split = splits[q.article]
        if split == "test":
            counts["xquad_test_questions_left_out"] = counts.get("xquad_test_questions_left_out", 0) + 1
            continue
        if q.qid.startswith("aqad:") and not _one_in(q.qid, THIN["aqad_answerable"]):
            continue
        foreign = None
        if _one_in(q.qid + "#foreign", THIN["foreign"]):
            article, paragraph = rng.choice(pools[split])
            if article != q.article:
                chunks = build_chunks(paragraph)
                s, e = rng.choice(chunks)
                foreign = paragraph[s:e]
        for ex in examples_for(q, split, rng, foreign):
            if ex.kind != "other" or _one_in(q.qid + "#other", THIN["other"]):
                keep(ex)
    for u in unanswerable:
        keep(Example(u.qid, u.question, u.lang, _aimed_chunk(u, rng), None, "unanswerable", splits[u.article]))
    return tuple(out), counts


def dev_sample(questions: list, per_source: int) -> list:
    """Dev-split questions (answerable or not), at most `per_source` per source and language, chosen by a hash of
    their ids (the calibration and the judge's fit read dev questions through the service: bounded in time)."""
    dev = [q for q in questions if split_of(q.article, *q.article.partition(":")[::2]) == "dev"]
    dev.sort(key=lambda q: hashlib.sha256(q.qid.encode("utf-8")).digest())
    taken: dict[tuple[str, str], int] = {}
    out = []
    for q in dev:
        group = (q.qid.split(":", 1)[0], q.lang)
        if taken.get(group, 0) < per_source:
            taken[group] = taken.get(group, 0) + 1
            out.append(q)
    return sorted(out, key=lambda q: q.qid)


def _one_in(key: str, k: int) -> bool:
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:4], "big") % k == 0


def _aimed_chunk(u: Unanswerable, rng: random.Random) -> str:
    """The chunk of the paragraph where the plausible answer stands (the hardest place to refuse), else any."""
    chunks = build_chunks(u.paragraph)
    if u.plausible is not None:
        a = u.plausible[0]
        s, e = next(((s, e) for s, e in chunks if s <= a < e), chunks[0])
    else:
        s, e = rng.choice(chunks)
    return u.paragraph[s:e]
