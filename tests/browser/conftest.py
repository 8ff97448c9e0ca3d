"""Browser tests: Playwright driving Debian's Chromium against Django's live server.

Every page a test visits is checked with axe-core; any violation fails the test.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Every test here is marked ``browser``, so that ``-m 'not browser'`` (CI's PostgreSQL pass)
    # leaves out each of them, a module that forgot its ``pytestmark`` too.
    here = [item for item in items if "tests/browser" in str(item.fspath)]
    for item in here:
        item.add_marker(pytest.mark.browser)
    # On a developer machine without Chromium the browser tests are skipped and say why; in CI
    # (CI=true) they run regardless, so a missing browser fails the build.
    missing = [str(p) for p in (Path(CHROMIUM), AXE) if not p.exists()]
    if not missing or os.environ.get("CI"):
        return
    reason = f"browser tests need {', '.join(missing)} (see .ci/run for how to install them)"
    for item in here:
        item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django's ORM then needs this.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


class Axe:
    """Runs axe-core on the page's current document and fails on any violation."""

    def __init__(self) -> None:
        self.source = AXE.read_text()
        self.checked: list[str] = []

    def check(self, page) -> None:
        page.wait_for_load_state("load")
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            page.evaluate(self.source)
        result = page.evaluate(
            "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
            AXE_TAGS,
        )
        violations = [
            {"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"]
        ]
        self.checked.append(page.url)
        assert not violations, f"axe-core found on {page.url}:\n{json.dumps(violations, indent=2)}"


@pytest.fixture
def axe() -> Axe:
    return Axe()


@pytest.fixture
def make_page(browser, live_server, axe: Axe, request) -> Iterator[Callable[..., object]]:
    """Open pages in fresh browser contexts (CSP bypassed only so that axe-core can be injected).

    Every page load must be audited with axe.check before the test ends.
    """
    opened: list[tuple[object, object, list[str]]] = []

    def _make(width: int = 1280) -> object:
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": width, "height": 900}, bypass_csp=True
        )
        page = context.new_page()
        visited: list[str] = []
        page.on("load", lambda p: visited.append(p.url))
        opened.append((context, page, visited))
        return page

    yield _make
    shots = os.environ.get("SCREENSHOT_DIR")
    unchecked: list[str] = []
    for number, (context, page, visited) in enumerate(opened):
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            name = f"{request.node.name}-{number}.png"
            page.screenshot(path=str(Path(shots) / name), full_page=True)  # type: ignore[attr-defined]
        unchecked += [url for url in visited if url not in axe.checked]
        context.close()  # type: ignore[attr-defined]
    assert not unchecked, f"pages visited without an axe-core check: {unchecked}"


@pytest.fixture
def page(make_page, request) -> object:
    return make_page(getattr(request, "param", 1280))


@pytest.fixture
def browser_files(tmp_path: Path) -> Path:
    folder = tmp_path / "desktop"
    folder.mkdir()
    return folder
