"""``intercept`` routes httpx calls (sync and async clients) besides ``requests``, leaving a
test's own respx routes working; ``route_webhooks`` takes ASGI apps as well as WSGI ones."""

from __future__ import annotations

from tests.support.plugin import Runner


def test_intercept_routes_httpx_sync_and_async(run: Runner) -> None:
    run.pytester.copy_example("paysim_helpers.py")
    run.pytester.copy_example("inprocess_httpx")
    result = run("--paysim")
    result.assert_outcomes(passed=8)


def test_route_webhooks_takes_asgi_apps(run: Runner) -> None:
    run.pytester.copy_example("inprocess_asgi")
    result = run("--paysim")
    result.assert_outcomes(passed=3)
