"""A real headless chromium (Debian's, not a downloaded one) driving the real server."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


# Package scope: sync Playwright runs an event loop on the main thread until it exits, which would break
# asyncio.run in tests collected after these.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make system-deps` (apt-get install chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"])
        yield browser
        browser.close()


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)  # answers embed the question on 2 shared cores
    yield page
    context.close()


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 1000
    return path


def copy_tree(src: Path, dst: Path) -> Path:
    return Path(shutil.copytree(src, dst))


def ask(page: Page, url: str, question: str) -> dict[str, Any]:
    """Type the question, press Ask, return the /ask JSON the page rendered."""
    page.goto(url)
    page.wait_for_selector("#status[data-state='ok']")
    page.fill("#question", question)
    with page.expect_response(lambda r: r.url.endswith("/ask")) as info:
        page.click("#ask-button")
    body: dict[str, Any] = info.value.json()
    page.wait_for_selector("#answer")
    return body
