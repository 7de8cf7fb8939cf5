import json
from pathlib import Path

import pytest

from isnad.eval.datasets import Benchmark, Query, load_beir, load_benchmark, load_seed, load_squad
from isnad.eval.metrics import contains_answer

# Paths relative to this checkout, never absolute: the dev and XQuAD sets ship in data/eval; the held-out
# sets are not in the repository (report-only) and live in ../shared beside it, as eval/run.py reads them.
ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data" / "eval"
SEED = DATA / "seed_qa.dev.jsonl"
XQUAD = DATA / "xquad_en2ar"
HELDOUT = ROOT.parent / "shared" / "eval" / "heldout"
ARCD = HELDOUT / "arcd-test.json"
TYDIQA = HELDOUT / "tydiqa-goldp-dev-arabic.json"
CORPUS = ROOT / "data" / "astana"


@pytest.fixture()
def heldout() -> Path:
    # Fail, not skip: a test that silently disappears on another checkout protects nothing.
    if not HELDOUT.is_dir():
        pytest.fail(f"held-out eval sets missing: expected {HELDOUT} (the shared folder beside this checkout)")
    return HELDOUT


def test_eval_data_is_found_relative_to_this_checkout():
    for path in (SEED, XQUAD, ARCD, TYDIQA):
        assert path.is_relative_to(ROOT) or path.is_relative_to(ROOT.parent / "shared"), path
    assert SEED.is_file() and (XQUAD / "corpus.jsonl").is_file()


def test_seed_counts_and_matching_rule_holds_on_real_articles():
    bench = load_seed(SEED, CORPUS)
    assert bench.level == "passage"
    assert len(bench.queries) == 26 and len(bench.answerable) == 24
    assert {q.id for q in bench.queries if q.unanswerable} == {"d25", "d26"}
    assert bench.langs == ("ar", "en")
    assert [d.doc_id for d in bench.documents] == sorted(p.stem for p in CORPUS.glob("*.txt"))
    docs = {d.doc_id: d.text for d in bench.documents}
    # README: every listed doc contains an answer after normalization.
    for q in bench.answerable:
        for doc_id in q.relevant_docs:
            assert contains_answer(docs[doc_id], q.answers), (q.id, doc_id)


def test_xquad_both_languages_share_documents():
    en, ar = load_beir(XQUAD, "en"), load_beir(XQUAD, "ar")
    assert len(en.documents) == 240 and len(en.queries) == 1190 == len(ar.queries)
    assert en.documents is ar.documents
    assert en.level == "document" and en.langs == ("en",) and ar.langs == ("ar",)
    q_en, q_ar = en.queries[0], ar.queries[0]
    assert q_en.id == q_ar.id and q_en.text != q_ar.text and q_en.relevant_docs == q_ar.relevant_docs
    assert q_en.answers == q_ar.answers == ("308",)  # Arabic-side answers for both: passages are Arabic

    both = load_benchmark(f"{XQUAD}")
    assert len(both.queries) == 2380 and both.langs == ("ar", "en")
    assert both.queries[0].id.endswith("#ar")
    assert load_benchmark(f"{XQUAD}:en").queries == en.queries


def test_arcd_counts(heldout: Path):
    bench = load_benchmark(str(ARCD))
    assert (len(bench.queries), len(bench.documents)) == (702, 234)
    assert bench.level == "document" and bench.langs == ("ar",)
    docs = {d.doc_id: d.text for d in bench.documents}
    q = bench.queries[0]
    assert q.relevant_docs == {"0_0"} and contains_answer(docs["0_0"], q.answers)
    assert bench.documents[0].title


def test_tydiqa_merges_repeated_paragraphs(heldout: Path):
    bench = load_benchmark(str(TYDIQA))
    assert len(bench.queries) == 921 and len(bench.documents) == 842  # 921 paragraphs, 79 exact repeats


def _write(path: Path, obj) -> Path:
    path.write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")
    return path


def test_squad_merges_duplicate_paragraphs_and_reads_impossible(tmp_path):
    para = {"context": "نص الفقرة", "qas": [{"id": "q1", "question": "س؟", "answers": [{"text": "نص"}]}]}
    twin = {"context": "نص الفقرة", "qas": [{"id": "q2", "question": "س2؟", "answers": [{"text": "الفقرة"}]}]}
    other = {
        "context": "أخرى",
        "qas": [{"id": "q3", "question": "س3؟", "answers": [], "is_impossible": True}],
    }
    path = _write(
        tmp_path / "s.json",
        {"data": [{"title": "t", "paragraphs": [para, twin]}, {"title": "u", "paragraphs": [other]}]},
    )
    bench = load_squad(path)
    assert [d.doc_id for d in bench.documents] == ["0_0", "1_0"]
    by_id = {q.id: q for q in bench.queries}
    assert by_id["q2"].relevant_docs == {"0_0"}
    assert by_id["q3"].unanswerable and not by_id["q3"].relevant_docs


def test_generic_beir_text_field(tmp_path):
    (tmp_path / "corpus.jsonl").write_text('{"_id": "a", "text": "x"}\n{"_id": "b", "text": "y"}\n')
    (tmp_path / "queries.jsonl").write_text('{"_id": "1", "text": "q"}\n{"_id": "2", "text": "no qrels"}\n')
    (tmp_path / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\n1\tb\t1\n1\ta\t0\n")
    bench = load_benchmark(str(tmp_path))
    assert [(q.id, q.text, q.relevant_docs) for q in bench.queries] == [("1", "q", frozenset({"b"}))]


def test_validation_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown docs"):
        Benchmark("b", (), (Query("1", "q", "ar", frozenset({"x"})),), "document")
    with pytest.raises(ValueError, match="expected"):
        load_benchmark(str(tmp_path / "nope.txt"))
