"""The extraction report: hits per page and per site, boilerplate lines, pages/s present (never judged here)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from isnad.eval.extraction import WEB_PAGES, boilerplate_lines, extraction_summary, measure_extraction

PAGES = WEB_PAGES if WEB_PAGES.is_dir() else Path("/work/shared/corpus/web/html")


@pytest.mark.skipif(not (PAGES / "expected.json").is_file(), reason="shared web corpus not present")
def test_measure_extraction_counts_hits_per_site(tmp_path: Path) -> None:
    expected = json.loads((PAGES / "expected.json").read_text(encoding="utf-8"))
    chosen = ["youm7-2020-08-24.html", "youm7-2024-05-13.html", "cnn-arabic-2013-08-03.html"]
    for name in chosen:
        shutil.copy(PAGES / name, tmp_path / name)
    wrong = dict(expected["cnn-arabic-2013-08-03.html"], title="عنوان آخر")  # a miss must count as one
    subset = {name: expected[name] for name in chosen} | {"cnn-arabic-2013-08-03.html": wrong}
    (tmp_path / "expected.json").write_text(json.dumps(subset, ensure_ascii=False), encoding="utf-8")
    figures = measure_extraction(tmp_path, timed_passes=1)
    assert (figures["pages"], figures["headline"], figures["date"], figures["first_sentence"]) == (3, 2, 3, 3)
    assert (figures["youm7.com.pages"], figures["youm7.com.headline"], figures["arabic.cnn.com.headline"]) == (2, 2, 0)
    assert figures["boilerplate_lines"] == 0 and figures["skipped"] == 0
    assert figures["pages_per_s_min"] <= figures["pages_per_s"] <= figures["pages_per_s_max"]
    summary = extraction_summary(figures)
    assert "headline 2/3" in summary and "arabic.cnn.com 0/1/1 of 1" in summary and "youm7.com 2/2/2 of 2" in summary


def test_boilerplate_lines_are_furniture_phrases() -> None:
    text = "قال الوزير إن الخطة ستبدأ العام المقبل.\nجميع الحقوق محفوظة © 2020\nFollow us on X"
    assert boilerplate_lines(text) == ["جميع الحقوق محفوظة © 2020", "Follow us on X"]
