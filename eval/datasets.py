"""Benchmark loaders: the seed QA set, BEIR folders (xquad_en2ar) and SQuAD JSON files, as one `Benchmark`."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from isnad.indexer.types import RawDocument

Level = Literal["passage", "document"]
ALL_LANGS = "all"


@dataclass(frozen=True)
class Query:
    """One question. `relevant_docs` is empty exactly when the corpus does not answer it."""

    id: str
    text: str
    lang: str
    relevant_docs: frozenset[str]
    answers: tuple[str, ...] = ()
    unanswerable: bool = False


@dataclass(frozen=True)
class Benchmark:
    """Documents to index plus judged queries.

    `level` says how a retrieved passage is judged: "document" = it comes from a relevant doc;
    "passage" = it comes from a relevant doc and contains a gold answer (see `eval.metrics.passage_relevant`).
    """

    name: str
    documents: tuple[RawDocument, ...]
    queries: tuple[Query, ...]
    level: Level

    def __post_init__(self) -> None:
        ids = [q.id for q in self.queries]
        if len(set(ids)) != len(ids):
            raise ValueError(f"{self.name}: duplicate query ids")
        doc_ids = {d.doc_id for d in self.documents}
        if len(doc_ids) != len(self.documents):
            raise ValueError(f"{self.name}: duplicate doc ids")
        for q in self.queries:
            missing = q.relevant_docs - doc_ids
            if missing:
                raise ValueError(f"{self.name}: query {q.id} judges unknown docs {sorted(missing)}")

    @property
    def langs(self) -> tuple[str, ...]:
        return tuple(sorted({q.lang for q in self.queries}))

    @property
    def answerable(self) -> tuple[Query, ...]:
        return tuple(q for q in self.queries if not q.unanswerable)


def _read_jsonl(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as e:
                    raise ValueError(f"{path}:{n}: {e}") from e


def load_seed(path: str | Path, corpus_dir: str | Path, name: str | None = None) -> Benchmark:
    """Seed JSONL (id, lang, question, answers, docs, unanswerable?) over the .txt articles of corpus_dir."""
    path, corpus_dir = Path(path), Path(corpus_dir)
    # doc_id = file stem, as indexer.read.FolderReader assigns it, so retrieved doc ids line up.
    documents = tuple(
        RawDocument(doc_id=p.stem, text=p.read_text(encoding="utf-8"), path=str(p))
        for p in sorted(corpus_dir.glob("*.txt"))
    )
    queries = []
    for rec in _read_jsonl(path):
        unanswerable = bool(rec.get("unanswerable", False))
        docs = frozenset(rec.get("docs", ()))
        answers = tuple(rec.get("answers", ()))
        if unanswerable != (not docs or not answers):
            raise ValueError(
                f"{path}: query {rec['id']}: answerable queries need docs and answers, others neither"
            )
        queries.append(Query(rec["id"], rec["question"], rec["lang"], docs, answers, unanswerable))
    return Benchmark(name or path.stem, documents, tuple(queries), "passage")


@lru_cache(maxsize=8)
def _beir_corpus(folder: Path) -> tuple[RawDocument, ...]:
    # Cached so the en and ar query sets of one folder share the same documents tuple (index once).
    path = folder / "corpus.jsonl"
    return tuple(
        RawDocument(
            doc_id=str(r["_id"]), text=r["text"], path=f"{path}#{r['_id']}", title=r.get("title") or None
        )
        for r in _read_jsonl(path)
    )


def _beir_qrels(folder: Path) -> dict[str, set[str]]:
    qrels: dict[str, set[str]] = {}
    with (folder / "qrels.tsv").open(encoding="utf-8", newline="") as f:
        rows = csv.reader(f, delimiter="\t")
        for row in rows:
            if not row or row[0] == "query-id":
                continue
            qid, did, score = row[0], row[1], row[2] if len(row) > 2 else "1"
            if float(score) > 0:
                qrels.setdefault(qid, set()).add(did)
    return qrels


def _question_langs(record: dict) -> list[str]:
    return sorted(k.removeprefix("question_") for k in record if k.startswith("question_"))


def beir_langs(folder: str | Path) -> tuple[str, ...]:
    """Query languages a BEIR folder offers (`question_xx` fields); empty for a plain `text` field."""
    first = next(_read_jsonl(Path(folder) / "queries.jsonl"), {})
    return tuple(_question_langs(first))


def load_beir(folder: str | Path, lang: str = "ar", name: str | None = None) -> Benchmark:
    """BEIR folder (corpus.jsonl, queries.jsonl, qrels.tsv); document-level relevance.

    Query text is `question_{lang}` when present (xquad_en2ar), else `text`. `lang="all"` loads every
    `question_xx` field as its own query (id suffixed `#xx`), so one run yields an `xx/` breakdown.
    Answers come from `answers`, else `answers_ar`: the passages are Arabic, so for an English question the
    extractive answer is still the Arabic span. Queries without qrels are dropped, as BEIR does.
    """
    folder = Path(folder).resolve()
    documents = _beir_corpus(folder)
    qrels = _beir_qrels(folder)
    queries = []
    for rec in _read_jsonl(folder / "queries.jsonl"):
        qid = str(rec["_id"])
        if qid not in qrels:
            continue
        answers = tuple(rec.get("answers") or rec.get("answers_ar") or ())
        available = _question_langs(rec)
        if lang == ALL_LANGS:
            if not available:
                raise ValueError(f"{folder}: lang='all' needs question_xx fields")
            for lg in available:
                queries.append(
                    Query(f"{qid}#{lg}", rec[f"question_{lg}"], lg, frozenset(qrels[qid]), answers)
                )
        else:
            field = f"question_{lang}" if f"question_{lang}" in rec else "text"
            if field not in rec:
                raise ValueError(f"{folder}: query {qid} has neither question_{lang} nor text")
            queries.append(Query(qid, rec[field], lang, frozenset(qrels[qid]), answers))
    return Benchmark(name or f"{folder.name}-{lang}", documents, tuple(queries), "document")


def load_squad(path: str | Path, lang: str = "ar", name: str | None = None) -> Benchmark:
    """SQuAD JSON: each paragraph is a document `{article_idx}_{para_idx}`, the gold doc of its questions.

    Paragraphs with identical context (TyDi QA repeats some) are merged into the first one's id: otherwise
    retrieving the twin would count as a miss for a text-identical passage. SQuAD 2 `is_impossible`
    questions become unanswerable.
    """
    path = Path(path)
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    documents: list[RawDocument] = []
    id_by_context: dict[str, str] = {}
    queries: list[Query] = []
    for a_idx, article in enumerate(data):
        title = article.get("title") or None
        for p_idx, para in enumerate(article["paragraphs"]):
            context = para["context"]
            doc_id = id_by_context.get(context)
            if doc_id is None:
                doc_id = id_by_context[context] = f"{a_idx}_{p_idx}"
                documents.append(
                    RawDocument(doc_id=doc_id, text=context, path=f"{path}#{doc_id}", title=title)
                )
            for qa in para["qas"]:
                answers = tuple(dict.fromkeys(a["text"] for a in qa.get("answers", ()) if a["text"].strip()))
                impossible = bool(qa.get("is_impossible", False)) or not answers
                relevant = frozenset() if impossible else frozenset({doc_id})
                queries.append(Query(str(qa["id"]), qa["question"], lang, relevant, answers, impossible))
    return Benchmark(name or path.stem, tuple(documents), tuple(queries), "document")


DEFAULT_SEED_CORPUS = Path(__file__).resolve().parent.parent / "data" / "astana"


def load_benchmark(spec: str, corpus_dir: str | Path | None = None) -> Benchmark:
    """Load by path: `*.jsonl` seed file, a BEIR folder, or `*.json` SQuAD file.

    A BEIR folder may carry a language suffix, `path:en`; without one it loads every question language it
    offers (`all`), or `ar` for a plain `text` field. The seed corpus defaults to the repo's data/astana.
    """
    path, lang = Path(spec), None
    if not path.exists() and ":" in spec:
        head, _, tail = spec.rpartition(":")
        path, lang = Path(head), tail
    if path.is_dir():
        if not (path / "corpus.jsonl").exists():
            raise ValueError(f"{path}: folder without corpus.jsonl")
        lang = lang or (ALL_LANGS if beir_langs(path) else "ar")
        return load_beir(path, lang)
    if lang is not None:
        raise ValueError(f"{spec}: a language suffix applies to BEIR folders only")
    if path.suffix == ".jsonl":
        return load_seed(path, corpus_dir or DEFAULT_SEED_CORPUS)
    if path.suffix == ".json":
        return load_squad(path)
    raise ValueError(f"{spec}: expected a .jsonl seed file, a BEIR folder or a .json SQuAD file")
