"""HTML pages: the hosted payment page and the dashboard (being built)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_paysim.errors import RouteMissing

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

    from pytest_paysim.http.app import PaysimApp, Response
    from pytest_paysim.http.routes import Route

__all__ = ["render"]


def render(
    app: PaysimApp, route: Route, environ: WSGIEnvironment, args: dict[str, str]
) -> Response:
    """The page for ``route``."""
    raise RouteMissing("The HTML pages are not built yet.")
