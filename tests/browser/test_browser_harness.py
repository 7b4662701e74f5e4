"""The browser test harness itself: screenshots on failure, and no silent skip without Chromium.

Each test runs this folder's ``conftest.py`` in a separate pytest process on a small test file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

HERE = Path(__file__).parent


def _copy_harness(pytester: pytest.Pytester, *, chromium: str | None = None) -> None:
    conftest = HERE.joinpath("conftest.py").read_text()
    if chromium is not None:
        original = 'CHROMIUM = Path("/usr/bin/chromium")'
        assert original in conftest
        conftest = conftest.replace(original, f"CHROMIUM = Path({chromium!r})")
    pytester.makeconftest(conftest)
    # The conftest imports ``tests.support``: the inner run finds it next to the conftest.
    shutil.copytree(
        HERE.parent / "support",
        pytester.path / "tests" / "support",
        ignore=shutil.ignore_patterns("__pycache__"),
    )


def test_a_failing_browser_test_leaves_a_screenshot(pytester: pytest.Pytester) -> None:
    _copy_harness(pytester)
    pytester.makepyfile(
        test_inner="""
        import pytest

        @pytest.mark.parametrize("n", [1])
        def test_fails_on_the_page(site, page, n):
            payment = site.client.post("/v1/payments", json={"amount": 1, "currency": "usd"})
            page.goto(payment.json()["payment_url"])
            assert False, "deliberately failing"

        def test_passes(site, page):
            page.goto(site.url_for("/health"))
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=60)
    result.assert_outcomes(passed=1, failed=1)
    folder = pytester.path / "artifacts" / "screenshots"
    assert sorted(path.name for path in folder.iterdir()) == ["test_fails_on_the_page_1.png"]
    assert folder.joinpath("test_fails_on_the_page_1.png").read_bytes().startswith(b"\x89PNG")


def test_without_chromium_browser_tests_fail_and_say_how_to_install(
    pytester: pytest.Pytester,
) -> None:
    _copy_harness(pytester, chromium="/nonexistent/chromium")
    pytester.makepyfile(
        test_inner="""
        def test_needs_the_browser(page):
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rA", timeout=60)
    result.assert_outcomes(errors=1)
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*/nonexistent/chromium is missing*scripts/install-chromium.sh*"])
