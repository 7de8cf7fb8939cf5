"""End to end on the real model, index and sample corpus: the issue's seed questions in both languages."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from isnad.eval.metrics import normalize_for_match
from isnad.indexer.embed import Embedder
from isnad.indexer.pipeline import make_builder
from isnad.service.ask.answerer import DIFFERING_FIGURES, NOT_FOUND
from isnad.service.state import ServiceState
from tests.conftest import CORPUS, ROOT

SEED = {q["id"]: q for q in map(json.loads, (ROOT / "data/eval/seed_qa.dev.jsonl").read_text("utf-8").splitlines())}


def _relevant(question: dict, doc_id: str, text: str) -> bool:
    return doc_id in question["docs"] and any(normalize_for_match(a) in normalize_for_match(text)
                                              for a in question["answers"])


# The trust bar of issue 28 (answers shown right >= 85% of the time on the reading data's dev split, intact :
# answer removed = 1:1; never chosen on these) leaves English d01 under it with the retrained reader: it comes
# back "not found" with its gold passage first among the closest. Strict: a reader sure of it again says so.
UNDER_THE_BAR = pytest.mark.xfail(strict=True, reason="confidence under the trust bar: abstains (issue 28)")


@pytest.mark.parametrize("qid", [pytest.param("d01", marks=UNDER_THE_BAR), "d02", "d04", "d06", "d12", "d14", "d16",
                                 "d20", "d21", "d22"])
def test_seed_question_retrieves_and_answers_with_a_gold_citation(client: TestClient, qid: str) -> None:
    q = SEED[qid]
    results = client.post("/search", json={"query": q["question"], "k": 5}).json()["results"]
    assert any(_relevant(q, r["doc_id"], r["text"]) for r in results), f"{qid}: no gold passage in the top 5"
    body = client.post("/ask", json={"question": q["question"]}).json()
    assert not body["abstained"]
    assert any(normalize_for_match(a) in normalize_for_match(body["answer"]) for a in q["answers"]), body["answer"]
    assert {c["doc_id"] for c in body["citations"]} & set(q["docs"])


def test_round_four_passage_ranks_first_for_english_question(client: TestClient) -> None:
    results = client.get("/search", params={"q": "What did round four of the Astana talks agree?"}).json()["results"]
    assert _relevant(SEED["d01"], results[0]["doc_id"], results[0]["text"])


@pytest.mark.parametrize("qid", ["d25", "d26"])
def test_unanswerable_questions_abstain(client: TestClient, qid: str) -> None:
    body = client.post("/ask", json={"question": SEED[qid]["question"]}).json()
    assert body["abstained"] and body["answer"] == NOT_FOUND


# Issue 28 left it under the English bar; with each window embedded alone (issue 29) it is answered again, "sure",
# with the archive's differing figures side by side
def test_differing_death_tolls_are_shown_side_by_side(client: TestClient) -> None:
    body = client.post("/ask", json={"question": "How many people have died in the Syrian conflict?"}).json()
    assert body["answer"].startswith(DIFFERING_FIGURES)
    cited = " ".join(c["text"] for c in body["citations"])
    assert "300 ألف" in cited and "330 الف" in cited
    assert all(f"[{c['n']}]" in body["answer"] for c in body["citations"])


def test_filters_restrict_results(client: TestClient) -> None:
    by_round = client.post("/search", json={"query": "محادثات أستانا", "k": 10, "filters": {"round": 6}}).json()
    assert by_round["results"] and all("00" in r["doc_id"] for r in by_round["results"])
    assert all(r["doc_id"] in ("001_07a94baf12808b94", "002_3e452db34f5d0aa1") for r in by_round["results"])
    dated = client.post("/search", json={"query": "محادثات أستانا", "k": 10,
                                         "filters": {"published_from": "2017-09-01", "published_to": "2017-09-30"}})
    assert {r["published"] for r in dated.json()["results"]} == {"2017-09-13"}
    one_doc = client.post("/ask", json={"question": "ما هو هدف جولة أستانا 7؟",
                                        "filters": {"doc_id": "002_3e452db34f5d0aa1"}}).json()
    assert {c["doc_id"] for c in one_doc["citations"]} == {"002_3e452db34f5d0aa1"}
    nothing = client.post("/search", json={"query": "أستانا", "filters": {"round": 40}}).json()
    assert nothing["results"] == []


def test_duplicate_documents_do_not_fill_the_top_k(tmp_path: Path, embedder: Embedder) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    shutil.copy(corpus / "000_00b00902cae748a1.txt", corpus / "copy_of_000.txt")
    make_builder(embedder, progress=False).run(corpus, tmp_path / "index")
    searcher = ServiceState.open(tmp_path / "index", embedder).searcher
    results = searcher.search("متى عقدت الجولة الثامنة من محادثات أستانة؟", k=5).results
    texts = [r.chunk.text for r in results]
    assert len(texts) == len(set(texts)) == 5
    assert {r.chunk.doc_id for r in results} & {"000_00b00902cae748a1", "copy_of_000"}
