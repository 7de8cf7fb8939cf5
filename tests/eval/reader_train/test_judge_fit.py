"""The judge's fit on synthetic askings: evidence weights stay non-negative, the bar is the lowest at which the
answers shown are right at the asked share (intact : removed = 1 : 1) per language, and the cross-validation
reports the same figures."""

from __future__ import annotations

import numpy as np
import pytest

from isnad.eval.reader_train.judge_fit import (
    ANSWER_PRECISION,
    EARLY_EXIT_GRID,
    Asked,
    cross_validated,
    decisions,
    fit_judge,
    precision_mixed,
    reader_alone,
    trust_bars,
)
from isnad.service.ask.judge import FEATURES


def _askings(seed: int = 3, n: int = 600) -> list[Asked]:
    """Intact askings whose first passage answers when the reader and the sentence's terms say so; removed
    ones never answer. The span score is pure noise and anti-correlated on purpose."""
    rng = np.random.default_rng(seed)
    reader, terms = FEATURES.index("reader_logit"), FEATURES.index("sentence_terms")
    noise = FEATURES.index("span_score")
    out = []
    for g in range(n):
        removed = g % 3 == 0
        lang = "en" if g % 4 == 0 else "ar"
        x = rng.normal(size=(3, len(FEATURES)))
        x[:, FEATURES.index("lang_en")] = float(lang == "en")
        if not removed:
            x[0, reader] += 2.0
            x[0, terms] += 1.5
        x[:, noise] = -x[:, reader] + rng.normal(size=3)  # would take a negative weight: must be dropped
        labels = np.array([float(not removed and rng.random() < 0.9), 0.0, 0.0])
        out.append(Asked(f"article{g % 40}", lang, removed, g % 50 == 1, x, labels))
    return out


def test_evidence_weights_are_non_negative_and_the_signal_is_learned() -> None:
    judge, report = fit_judge(_askings())
    coef = dict(zip(FEATURES, judge.coef, strict=True))
    assert coef["reader_logit"] > 0 and coef["sentence_terms"] > 0
    assert coef["span_score"] == 0.0  # negative when fitted freely: dropped
    assert report["auc_intact_correct_vs_removed"] > 0.8


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_the_bar_is_the_lowest_at_which_shown_answers_are_right_often_enough(lang: str) -> None:
    judge, report = fit_judge(_askings())
    assert lang in judge.thresholds
    assert report[lang]["right_of_shown_1to1"] >= ANSWER_PRECISION
    assert 0.0 < report[lang]["intact_answered"] < 1.0 and report[lang]["removed_answered"] < 0.5


def test_precision_weighs_intact_and_removed_askings_one_to_one() -> None:
    """4 intact (3 answered right, 1 wrong) and 2 removed (1 answered): right 3/4 of intact, wrong 1/4 + 1/2."""
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.9, 0.1])
    labels = np.array([1.0, 1.0, 1.0, 0.0, 0.0, 0.0])
    removed = np.array([False, False, False, False, True, True])
    share, answered = precision_mixed(p, labels, removed, 0.5)
    assert answered == 5
    assert share == pytest.approx(0.75 / (0.75 + 0.25 + 0.5))


def test_no_bar_reaching_the_share_means_never_answering() -> None:
    rows = [Asked("a", "ar", g % 2 == 1, False, np.zeros((1, len(FEATURES))), np.array([0.0])) for g in range(40)]
    p = np.linspace(0.1, 0.9, 40)
    assert trust_bars(rows, p, np.zeros(40), 0.85) == {"ar": 1.0}


def test_cross_validation_and_the_readers_own_figures_have_the_same_shape() -> None:
    rows = _askings()
    cv, alone = cross_validated(rows), reader_alone(rows)
    for report in (cv, alone):
        assert set(report) >= {"ar", "en", "ece", "auc_intact_correct_vs_removed"}
        assert report["ar"]["intact"] + report["ar"]["removed"] == sum(a.lang == "ar" for a in rows)
    assert cv["auc_intact_correct_vs_removed"] > 0.75


def test_the_early_exit_bar_changes_no_dev_decision() -> None:
    """Stopping after the top-ranked passage at the chosen bar answers the same askings with the same sentences;
    one grid step lower (if any) would change some."""
    rows = _askings()
    judge, _ = fit_judge(rows)
    assert judge.early_exit in (None, *EARLY_EXIT_GRID)
    if judge.early_exit is not None:
        assert decisions(rows, judge, judge.early_exit) == decisions(rows, judge, None)
        lower = [g for g in EARLY_EXIT_GRID if g < judge.early_exit]
        if lower:
            assert decisions(rows, judge, lower[0]) != decisions(rows, judge, None)
