"""The chat page on an archive that needs a read key: it asks once, keeps the key for the tab, then answers."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Dialog, Page

from isnad.service import keys
from tests.e2e.conftest import screenshot
from tests.live_server import live_server


def test_the_page_asks_for_a_read_key_once_and_then_answers(page: Page, sample_index: Path, tmp_path: Path) -> None:
    folder = tmp_path / "keys.json"
    _, read_key = keys.add(folder, "read")
    asked: list[str] = []

    def answer_prompt(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept(read_key)

    page.on("dialog", answer_prompt)
    with live_server(sample_index, env={"ISNAD_KEYS_FILE": str(folder)}) as server:
        page.goto(server.url + "/")
        for question in ("متى عقدت الجولة الثامنة؟", "When did the eighth round of the Astana talks take place?"):
            page.fill("#question", question)
            with page.expect_response(lambda r: r.url.endswith("/ask") and r.status == 200) as info:
                page.click("#ask-button")
            body = info.value.json()
            assert not body["abstained"] and body["citations"]
            page.wait_for_selector("#answer button.citation-marker")
        assert len(asked) == 1 and "read key" in asked[0]  # asked once, then kept for the tab
        assert page.evaluate("sessionStorage.getItem('isnad-read-key')") == read_key
        assert page.evaluate("localStorage.length") == 0  # never kept beyond the tab
        screenshot(page, "answer-with-read-key")
