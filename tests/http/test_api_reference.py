"""``docs/api.md``, the HTTP API reference, against the code: it lists exactly the JSON routes
of the routing map (with their auth and success status), exactly the error codes of
``pytest_paysim.errors``, every event type, and the transition table, the way
``/openapi.json`` is checked against the routing map."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pytest_paysim import errors
from pytest_paysim.core import transitions
from pytest_paysim.http.params import EVENT_TYPES
from pytest_paysim.http.routes import ROUTES, Route

API_MD = Path(__file__).resolve().parents[2] / "docs" / "api.md"
JSON_ROUTES = [route for route in ROUTES if not route.html]
HTML_ROUTES = [route for route in ROUTES if route.html]
AUTH_WORDS = {"none": "none", "key": "key", "key_or_secret": "key or client secret"}


def _between(name: str) -> str:
    text = API_MD.read_text()
    start, end = f"<!-- {name}:start -->\n", f"<!-- {name}:end -->"
    assert text.count(start) == 1, f"docs/api.md lost its {name} table"
    return text.split(start, 1)[1].split(end, 1)[0]


def _rows(name: str) -> list[list[str]]:
    """The body rows of the marked table, one list of stripped cells per row."""
    lines = _between(name).strip().splitlines()
    assert lines[1].startswith("|---"), f"the {name} table has no header row"
    return [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in lines[2:]]


def _doc_path(route: Route) -> str:
    return re.sub(r"<(\w+)>", r"{\1}", route.path)


def _documented_routes() -> dict[tuple[str, str], list[str]]:
    found: dict[tuple[str, str], list[str]] = {}
    for cells in _rows("routes"):
        method, path = cells[0].strip("`").split(" ", 1)
        assert (method, path) not in found, f"{method} {path} is listed twice"
        found[(method, path)] = cells[1:]
    return found


def test_lists_exactly_the_json_routes() -> None:
    routed = {(route.method, _doc_path(route)) for route in JSON_ROUTES}
    assert set(_documented_routes()) == routed


@pytest.mark.parametrize(
    "route", [pytest.param(route, id=f"{route.method} {route.path}") for route in JSON_ROUTES]
)
def test_each_route_shows_its_auth_and_success_status(route: Route) -> None:
    auth, status, _answer = _documented_routes()[(route.method, _doc_path(route))]
    assert auth == AUTH_WORDS[route.auth]
    assert status == str(route.status)


def test_the_html_pages_are_listed_apart() -> None:
    text = API_MD.read_text()
    pages = text.split("## HTML pages", 1)[1]
    for route in HTML_ROUTES:
        assert f"`{route.method} {_doc_path(route)}" in pages, route.path


def _error_classes() -> list[type[errors.ApiError]]:
    """Every concrete error of the native API (``pytest_paysim.errors``; the Stripe dialect's
    own errors are documented with the dialect); the base's ``api_error`` is never sent alone."""
    found: list[type[errors.ApiError]] = []
    todo = list(errors.ApiError.__subclasses__())
    while todo:
        cls = todo.pop()
        if cls.__module__ == errors.__name__:
            found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def _documented_errors() -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for status, type_, code, _when in _rows("errors"):
        code = code.strip("`")
        assert code not in found, f"{code} is listed twice"
        found[code] = (status, type_)
    return found


def test_lists_exactly_the_error_codes_of_errors_py() -> None:
    defined = {cls.code for cls in _error_classes()}
    assert len(defined) == len(_error_classes()), "two error classes share a code"
    assert set(_documented_errors()) == defined


@pytest.mark.parametrize("cls", [pytest.param(cls, id=cls.code) for cls in _error_classes()])
def test_each_error_shows_its_status_and_type(cls: type[errors.ApiError]) -> None:
    status, type_ = _documented_errors()[cls.code]
    assert f"`{cls.type}`" in type_
    if cls is errors.InjectedFault:  # its status is whatever the test asked for
        assert status == "400 to 599"
    else:
        assert status == str(cls.status)


def test_names_every_event_type() -> None:
    text = API_MD.read_text()
    assert [event for event in EVENT_TYPES if f"| `{event}` |" not in text] == []


def test_the_transition_table_is_the_one_in_the_code() -> None:
    assert _between("transitions").strip() == transitions.markdown_table().strip()


def test_names_every_payment_status() -> None:
    states = API_MD.read_text().split("### Payment states", 1)[1]
    assert [status for status in transitions.STATUSES if f"| `{status}` |" not in states] == []
