"""`Answerer` on a tiny index and a fake embedder: abstention (below the confidence bar, a round no article
names, the cosine rule without a model), cited spans, differing figures and the answer string."""

from __future__ import annotations

import pytest

from isnad.indexer.types import RawDocument
from isnad.service.ask.answerability import Evidence
from isnad.service.ask.answerer import DIFFERING_FIGURES, NOT_FOUND, Answerer, Segment, answer_string
from isnad.service.search import Searcher
from tests.service.tiny_index import tiny_searcher

DOCUMENTS = (
    RawDocument("toll-a", "قالت الأمم المتحدة إن عدد القتلى في الحرب بلغ 300 ألف شخص منذ بدايتها. "
                "وأضافت أن المحادثات في أستانا لم توقف القتال.", "toll-a.txt", title="حصيلة الحرب"),
    RawDocument("toll-b", "قدر المرصد عدد القتلى في الحرب بنحو 500 ألف شخص حتى الآن. "
                "وطالب المرصد بوقف القتال.", "toll-b.txt", title="تقدير المرصد"),
    RawDocument("r4", "اتفقت الدول الضامنة في الجولة الرابعة من محادثات أستانا على إنشاء أربع مناطق لخفض التصعيد. "
                "ووقعت روسيا وتركيا وإيران المذكرة [1] في ختام الجولة.", "r4.txt", title="الجولة الرابعة"),
)
OPEN = {"ar": -1.0, "en": -1.0}  # a cosine bar below any hash cosine: no question is refused for its cosine


class FixedModel:
    """An answerability model that always says the same thing, and remembers what it was shown."""

    def __init__(self, confidence: float, answerable: bool) -> None:
        self.result = (confidence, answerable)
        self.seen: list[Evidence] = []

    def score(self, evidence: Evidence) -> tuple[float, bool]:
        self.seen.append(evidence)
        return self.result


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory) -> Searcher:
    return tiny_searcher(tmp_path_factory.mktemp("answer-index") / "index", DOCUMENTS)


def test_below_the_confidence_bar_it_says_not_found_with_the_closest_passages(searcher: Searcher) -> None:
    model = FixedModel(0.123456, False)
    answer = Answerer(searcher, model=model).ask("كم عدد القتلى في الحرب؟", k=5)  # type: ignore[arg-type]
    assert answer.abstained and answer.text == NOT_FOUND and answer.segments == (Segment(NOT_FOUND),)
    assert answer.confidence == 0.1235 and answer.citations == () and answer.span is None
    response = searcher.search("كم عدد القتلى في الحرب؟", 5)
    assert [(c.n, c.chunk.chunk_id) for c in answer.closest] == [(r.rank, r.chunk.chunk_id)
                                                                 for r in response.results[:3]]
    assert all(c.text == c.chunk.text and (c.start, c.end) == (c.chunk.start, c.chunk.end) for c in answer.closest)
    assert len(model.seen) == 1 and model.seen[0].kind == "number"


def test_above_the_bar_it_answers_with_cited_exact_spans(searcher: Searcher) -> None:
    answer = Answerer(searcher, model=FixedModel(0.9, True), max_sentences=1).ask(  # type: ignore[arg-type]
        "متى اتفقت الدول الضامنة على مناطق خفض التصعيد في الجولة الرابعة؟")
    assert not answer.abstained and answer.confidence == 0.9 and answer.closest == ()
    assert len(answer.citations) == 1
    c = answer.citations[0]
    assert c.n == 1 and c.chunk.doc_id == "r4" and "مناطق لخفض التصعيد" in c.text
    assert searcher.index.documents["r4"].text[c.start : c.end] == c.text
    assert answer.segments == (Segment(c.text, 1),) and answer.text == f"{c.text} [1]"


def test_a_round_no_article_names_abstains_before_the_model(searcher: Searcher) -> None:
    model = FixedModel(0.99, True)
    answer = Answerer(searcher, model=model).ask("ماذا تقرر في الجولة التاسعة؟")  # type: ignore[arg-type]
    assert answer.abstained and answer.confidence == 0.0 and model.seen == []
    assert answer.closest  # the nearest passages are still shown, apart
    assert not Answerer(searcher, model=model).ask("ماذا تقرر في الجولة الرابعة؟").abstained  # type: ignore[arg-type]


def test_without_a_model_the_cosine_bar_is_per_language(searcher: Searcher) -> None:
    best = searcher.search("مناطق خفض التصعيد", 5).best_dense
    assert best is not None
    ar_only = Answerer(searcher, model=False, min_dense={"ar": best + 0.01, "en": -1.0})
    refused = ar_only.ask("مناطق خفض التصعيد")
    assert refused.abstained and refused.confidence is None and refused.closest
    en_only = Answerer(searcher, model=False, min_dense={"ar": -1.0, "en": 2.0})
    assert not en_only.ask("مناطق خفض التصعيد").abstained  # the English bar does not apply to Arabic


def test_differing_figures_are_shown_side_by_side(searcher: Searcher) -> None:
    answer = Answerer(searcher, model=False, min_dense=OPEN).ask("كم عدد القتلى في الحرب؟")
    assert not answer.abstained and answer.segments[0] == Segment(DIFFERING_FIGURES)
    cited = {c.chunk.doc_id for c in answer.citations}
    assert cited == {"toll-a", "toll-b"}
    assert any("300 ألف" in c.text for c in answer.citations) and any("500 ألف" in c.text for c in answer.citations)
    assert [s.n for s in answer.segments[1:]] == [c.n for c in answer.citations] == [1, 2]


def test_brackets_in_the_text_never_read_as_markers() -> None:
    text = answer_string((Segment("intro"), Segment("signed [1] it \\ here", 2)))
    assert text == "intro signed \\[1\\] it \\\\ here [2]"


@pytest.mark.parametrize("kwargs", [{"max_sentences": 0}, {"max_sentences": 4}, {"passages": 0}])
def test_bad_settings_are_refused(searcher: Searcher, kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        Answerer(searcher, model=False, **kwargs)
