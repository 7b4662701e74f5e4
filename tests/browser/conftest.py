"""Fixtures of the page tests (hosted payment page and dashboard).

- ``site``: a real ``PaysimServer`` (one per session, reset before each test).
- ``shop``: a tiny werkzeug server standing in for the merchant: it answers the
  ``return_url`` redirect and receives webhooks (``/hooks/flaky`` fails each event's first
  attempt with a 500, so retries show up).
- ``browser`` (session) and ``pages`` / ``page`` (a new context per test) for the tests
  marked ``browser``: Debian's ``/usr/bin/chromium`` driven by Playwright. When a test fails,
  each of its pages is saved to ``artifacts/screenshots/<test name>.png``.
- ``check_accessibility``: a DOM walk for the basics (labels, ``lang``, real buttons, alt).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests

from pytest_paysim.server import PaysimServer
from tests.support.pages import Pages, Shop
from tests.support.receivers import serve_wsgi

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep each phase's report on the item, so fixtures can see whether the test failed."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    item.stash.setdefault(REPORTS, {})[report.when] = report


# -- the simulator and the merchant ---------------------------------------------------------


@pytest.fixture(scope="session")
def _site_server() -> Iterator[PaysimServer]:
    with PaysimServer(seed=1212, webhook_retries=(0.05, 0.05, 0.05)) as server:
        yield server


@pytest.fixture
def site(_site_server: PaysimServer) -> PaysimServer:
    """The running simulator, emptied for this test."""
    assert _site_server.simulator is not None
    _site_server.simulator.reset()
    return _site_server


@pytest.fixture(scope="session")
def _shop_server() -> Iterator[Shop]:
    shop = Shop(url="")
    server = serve_wsgi(shop.app)
    shop.url = server.url
    yield shop
    server.close()


@pytest.fixture
def shop(_shop_server: Shop) -> Shop:
    """The merchant, with no requests recorded yet."""
    with _shop_server.lock:
        _shop_server.requests.clear()
    return _shop_server


@pytest.fixture
def http() -> Iterator[requests.Session]:
    """A plain ``requests`` session with no credentials."""
    session = requests.Session()
    session.trust_env = False
    yield session
    session.close()


# -- the browser ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Debian Chromium for the session; a missing one fails, never skips."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing, so the browser tests cannot run: "
            "run scripts/install-chromium.sh (installs Debian's chromium with apt-get).",
            pytrace=False,
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(
            "playwright is not installed: pip install -e '.[test]' (the browser itself "
            "comes from scripts/install-chromium.sh).",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


def _screenshot_name(node_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", node_name).strip("_") or "test"


@pytest.fixture
def pages(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Pages]:
    """Opens pages in new contexts; screenshots them at teardown if the test failed."""
    opened = Pages(browser)
    yield opened
    report = request.node.stash.get(REPORTS, {}).get("call")
    if report is not None and report.failed:
        folder = request.config.rootpath / "artifacts" / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        name = _screenshot_name(request.node.name)
        for index, page in enumerate(opened.opened):
            suffix = "" if index == 0 else f"-{index + 1}"
            try:
                page.screenshot(path=str(folder / f"{name}{suffix}.png"), full_page=True)
            except Exception as error:  # a crashed page must not hide the test's failure
                print(f"screenshot of page {index + 1} failed: {error}")
    for page in opened.opened:
        page.context.close()


@pytest.fixture
def page(pages: Pages) -> Page:
    """A page in a fresh browser context."""
    return pages.new()


_A11Y_SCRIPT = """
() => {
  const problems = [];
  const describe = (el) => el.outerHTML.slice(0, 120);
  if (!(document.documentElement.getAttribute('lang') || '').trim()) {
    problems.push('<html> has no lang');
  }
  if (!document.title.trim()) problems.push('the page has no <title>');
  if (!document.querySelector('h1')) problems.push('the page has no <h1>');
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.type === 'hidden') continue;
    const byFor = el.id && document.querySelector(`label[for="${CSS.escape(el.id)}"]`);
    const named = byFor || el.closest('label') || (el.getAttribute('aria-label') || '').trim()
      || el.getAttribute('aria-labelledby');
    if (!named) problems.push('no label: ' + describe(el));
  }
  const fakeButtons = '[role=button], [onclick], input[type=button], input[type=image]';
  for (const el of document.querySelectorAll(fakeButtons)) {
    problems.push('not a real button: ' + describe(el));
  }
  for (const el of document.querySelectorAll('button, input[type=submit]')) {
    const name = (el.textContent || el.value || el.getAttribute('aria-label') || '').trim();
    if (!name) problems.push('button without a name: ' + describe(el));
  }
  for (const img of document.querySelectorAll('img')) {
    if (!img.hasAttribute('alt')) problems.push('image without alt: ' + describe(img));
  }
  for (const a of document.querySelectorAll('a')) {
    if (!a.getAttribute('href')) problems.push('link without href: ' + describe(a));
    if (!(a.textContent || a.getAttribute('aria-label') || '').trim()) {
      problems.push('link without text: ' + describe(a));
    }
  }
  return problems;
}
"""


@pytest.fixture
def check_accessibility() -> Callable[[Page], None]:
    """Assert that a page passes the accessibility smoke check."""

    def check(page: Page) -> None:
        __tracebackhide__ = True
        problems = page.evaluate(_A11Y_SCRIPT)
        assert problems == [], f"accessibility problems on {page.url}: {problems}"

    return check
