"""`certainty` on `/ask`: "sure" at or above the judge's sure bar, "possible" between the answer bar and it (or
always, when the judge file has no sure bar), "not_found" below the answer bar. Through the real app and API
schemas; the reader is scripted and the judge is one with known bars whose probability is the reader's own
(coefficient 1 on the reader's logit, Platt (1, 0)), so each asking's confidence is what the script says."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from fastapi.testclient import TestClient

from isnad.indexer.types import RawDocument
from isnad.service.api.main import create_app
from isnad.service.ask.answerer import Answerer
from isnad.service.ask.judge import FEATURES, Judge
from isnad.service.search import Searcher
from isnad.service.state import LoadedReader, ServiceState
from tests.service.ask.scripted_reader import ScriptedReader
from tests.service.tiny_index import tiny_searcher

DOCUMENTS = (
    RawDocument("talks", "عقدت الجولة الرابعة من المحادثات في أستانا. واتفق المشاركون على إنشاء أربع مناطق "
                "لخفض التصعيد في سوريا.", "talks.txt", title="الجولة الرابعة"),
    RawDocument("weather", "كان الطقس باردا في أستانا خلال المحادثات. وتساقطت الثلوج طوال الأسبوع.",
                "weather.txt", title="الطقس"),
)
QUESTION = "على ماذا اتفق المشاركون في الجولة الرابعة؟"
ANSWER_BAR, SURE_BAR = {"ar": 0.5, "en": 0.6}, {"ar": 0.8, "en": 0.9}
IDENTITY = Judge(np.zeros(len(FEATURES)), np.ones(len(FEATURES)),
                 np.array([1.0 if f == "reader_logit" else 0.0 for f in FEATURES]), 0.0, (1.0, 0.0), ANSWER_BAR,
                 sure_thresholds=SURE_BAR)


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory) -> Searcher:
    return tiny_searcher(tmp_path_factory.mktemp("certainty") / "index", DOCUMENTS)


def _ask(searcher: Searcher, probability: float, judge: Judge = IDENTITY, **body: object) -> dict:
    reader = ScriptedReader({"مناطق": (probability, "أربع مناطق")})
    answerer = Answerer(searcher, reader=reader, model=False, judge=judge)
    state = ServiceState(searcher.index, searcher.embedder, searcher, answerer,  # type: ignore[arg-type]
                         LoadedReader(reader, "scripted", judge))
    with TestClient(create_app(state)) as client:
        response = client.post("/ask", json={"question": QUESTION, **body})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(("probability", "certainty"),
                         [(0.95, "sure"), (0.8, "sure"), (0.79, "possible"), (0.5, "possible"), (0.3, "not_found")])
def test_certainty_follows_the_confidence_and_the_two_bars(searcher: Searcher, probability: float,
                                                           certainty: str) -> None:
    body = _ask(searcher, probability)
    assert body["confidence"] == pytest.approx(probability, abs=1e-4)
    assert body["certainty"] == certainty
    assert body["abstained"] == (certainty == "not_found")
    if certainty == "not_found":
        assert body["closest"] and not body["citations"] and body["answer_span"] is None
    else:  # "possible" is still an answer: cited, its span inside the citation
        assert body["citations"] and body["answer_span"]["text"] == "أربع مناطق"
        assert body["confidence"] >= ANSWER_BAR["ar"]
        assert (body["confidence"] >= SURE_BAR["ar"]) == (certainty == "sure")


def test_a_judge_without_a_sure_bar_says_possible_for_every_answer(searcher: Searcher) -> None:
    """An older judge file (no `sure_thresholds`): never "sure", however high the confidence."""
    meta = replace(IDENTITY, sure_thresholds=None).to_meta()
    del meta["sure_thresholds"]
    older = Judge.from_meta(meta)
    assert older.sure_threshold("ar") is None
    assert _ask(searcher, 0.99, older)["certainty"] == "possible"
    assert _ask(searcher, 0.3, older)["certainty"] == "not_found"


def test_the_callers_min_confidence_turns_a_sure_answer_into_not_found(searcher: Searcher) -> None:
    body = _ask(searcher, 0.9, min_confidence=0.95)
    assert body["abstained"] and body["certainty"] == "not_found" and body["closest"]


def test_without_a_reader_the_fallback_is_never_sure(searcher: Searcher) -> None:
    for model in (True, False):
        answer = Answerer(searcher, model=model).ask(QUESTION)
        assert answer.certainty == ("not_found" if answer.abstained else "possible")


def test_the_sure_bar_round_trips_and_a_language_without_one_gets_the_strictest() -> None:
    again = Judge.from_meta(IDENTITY.to_meta())
    assert again.sure_thresholds == SURE_BAR
    assert again.sure_threshold("fr") == 0.9 and again.sure_threshold("ar") == 0.8
