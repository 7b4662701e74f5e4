"""The public surface: exports, typing marker, error tree, and the docs' copy of the table."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest

import pytest_paysim
from pytest_paysim import errors
from pytest_paysim.core import transitions

ROOT = Path(__file__).resolve().parents[1]


def _isort_key(name: str) -> tuple[int, str]:
    """The order ruff's RUF022 keeps: CONSTANTS, then Classes, then functions."""
    if name.isupper() or (name.upper() == name and "_" in name):
        return (0, name)
    if name[0].isupper():
        return (1, name)
    return (2, name)


@pytest.mark.parametrize(
    "module_name",
    [
        "pytest_paysim",
        "pytest_paysim.errors",
        "pytest_paysim.webhooks",
        "pytest_paysim.core.signing",
        "pytest_paysim.webhooks.log",
        "pytest_paysim.core.transitions",
        "pytest_paysim.core.cards",
        "pytest_paysim.core.calls",
        "pytest_paysim.core.event_types",
        "pytest_paysim.inprocess",
    ],
)
def test_all_is_sorted_and_resolves(module_name: str) -> None:
    module = importlib.import_module(module_name)
    names = list(module.__all__)
    assert names == sorted(names, key=_isort_key)
    for name in names:
        assert getattr(module, name) is not None


def test_package_exports_the_public_classes() -> None:
    for name in ("PaysimServer", "WebhookLog", "Delivery", "Paysim", "Call", "sign", "verify"):
        assert name in pytest_paysim.__all__
    assert pytest_paysim.WebhookLog.__name__ == "WebhookLog"


def test_py_typed_ships() -> None:
    assert (Path(pytest_paysim.__file__).parent / "py.typed").exists()


def test_every_api_error_has_one_code_and_one_base() -> None:
    classes = [
        cls
        for cls in vars(errors).values()
        if inspect.isclass(cls) and issubclass(cls, errors.ApiError) and cls is not errors.ApiError
    ]
    codes = [cls.code for cls in classes]
    assert len(codes) == len(set(codes))
    assert all(issubclass(cls, errors.PaysimError) for cls in classes)
    assert issubclass(errors.WebhookVerificationError, errors.PaysimError)
    error = errors.PaymentUnexpectedState("Payment is `captured`.", payment_id="pay_x")
    assert error.to_dict() == {
        "error": {
            "type": "invalid_request_error",
            "code": "payment_unexpected_state",
            "message": "Payment is `captured`.",
            "param": None,
            "payment_id": "pay_x",
        }
    }
    assert error.status_code == 409


def test_docs_show_the_transition_table_from_the_code() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    between = text.split("<!-- transitions:start -->\n", 1)[1].split("<!-- transitions:end -->")[0]
    assert between.strip() == transitions.markdown_table().strip()
