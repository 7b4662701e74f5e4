"""The hosted payment page and the dashboard in a real headless Chromium.

Each test drives Debian's ``/usr/bin/chromium`` through Playwright against a real
``PaysimServer``, and runs the accessibility smoke check on every page it lands on.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Locator, Page, expect

from pytest_paysim.server import PaysimServer
from tests.support.pages import Pages, Shop, create_payment, wait_for_deliveries

pytestmark = pytest.mark.browser

A11y = Callable[[Page], None]
XSS = "<script>alert(1)</script>"


def test_pay_with_a_test_card_lands_on_return_url(
    site: PaysimServer, shop: Shop, page: Page, check_accessibility: A11y
) -> None:
    payment = create_payment(
        site, description="Two mugs", return_url=f"{shop.url}/done?order=42&note=a%20b"
    )
    page.goto(payment["payment_url"])
    expect(page.get_by_role("heading", name="Complete your payment")).to_be_visible()
    expect(page.get_by_test_id("description")).to_have_text("Two mugs")
    check_accessibility(page)

    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url(f"{shop.url}/done?**")

    query = parse_qs(urlsplit(page.url).query)
    assert query == {
        "order": ["42"],
        "note": ["a b"],
        "payment_id": [payment["id"]],
        "status": ["succeeded"],
    }
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    assert len(shop.visits("/done")) == 1
    status = site.client.get(f"/v1/payments/{payment['id']}").json()["status"]
    assert status == "succeeded"


@pytest.mark.parametrize(
    ("card_number", "button", "reason"),
    [
        pytest.param("4000000000009995", "Pay", "insufficient funds", id="insufficient-funds-card"),
        pytest.param("", "Decline", "The card was declined.", id="decline-button"),
    ],
)
def test_a_decline_shows_the_reason(
    site: PaysimServer,
    page: Page,
    check_accessibility: A11y,
    card_number: str,
    button: str,
    reason: str,
) -> None:
    payment = create_payment(site)
    page.goto(payment["payment_url"])
    if card_number:
        page.get_by_label("Card number").fill(card_number)
    page.get_by_role("button", name=button).click()

    expect(page.get_by_role("heading", name="Payment failed")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text(reason)
    expect(page.get_by_test_id("status")).to_have_text("failed")
    expect(page.get_by_role("button", name="Pay")).to_be_visible()  # it can be retried
    check_accessibility(page)


def test_an_invalid_card_number_is_shown_on_the_form(
    site: PaysimServer, page: Page, check_accessibility: A11y
) -> None:
    payment = create_payment(site)
    page.goto(payment["payment_url"])
    page.get_by_label("Card number").fill("4242 4242 4242 4241")
    page.get_by_role("button", name="Pay").click()

    expect(page.get_by_role("alert")).to_contain_text("Luhn")
    expect(page.get_by_label("Card number")).to_have_value("4242 4242 4242 4241")
    expect(page.get_by_test_id("status")).to_have_text("requires_payment_method")
    check_accessibility(page)


def test_a_wrong_client_secret_is_a_403_page(
    site: PaysimServer, page: Page, check_accessibility: A11y
) -> None:
    payment = create_payment(site)
    response = page.goto(site.url_for(f"/pay/{payment['id']}?client_secret=nope"))
    assert response is not None
    assert response.status == 403
    expect(page.get_by_role("heading", name="This link is not valid")).to_be_visible()
    expect(page.get_by_role("button")).to_have_count(0)
    check_accessibility(page)


def test_a_paid_payment_shows_its_status_and_no_buttons(
    site: PaysimServer, page: Page, check_accessibility: A11y
) -> None:
    payment = create_payment(site)
    paid = site.client.post(f"/v1/payments/{payment['id']}/pay", json={"outcome": "succeed"})
    assert paid.status_code == 200
    page.goto(payment["payment_url"])
    expect(page.get_by_role("heading", name="Payment succeeded")).to_be_visible()
    expect(page.get_by_test_id("status")).to_have_text("succeeded")
    expect(page.get_by_role("button")).to_have_count(0)
    expect(page.get_by_label("Card number")).to_have_count(0)
    check_accessibility(page)


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        pytest.param(1999, "usd", "19.99 USD", id="usd"),
        pytest.param(500, "jpy", "500 JPY", id="jpy"),
        pytest.param(1234, "kwd", "1.234 KWD", id="kwd"),
    ],
)
def test_amounts_are_formatted_for_their_currency(
    site: PaysimServer, page: Page, amount: int, currency: str, shown: str
) -> None:
    payment = create_payment(site, amount=amount, currency=currency)
    page.goto(payment["payment_url"])
    expect(page.get_by_test_id("amount")).to_have_text(shown)
    expect(page.get_by_role("button", name=f"Pay {shown}")).to_be_visible()


def test_markup_in_user_text_stays_text(
    site: PaysimServer, pages: Pages, page: Page, check_accessibility: A11y
) -> None:
    payment = create_payment(
        site, description=XSS, metadata={"note": '<img src=x onerror="alert(2)">'}
    )
    page.goto(payment["payment_url"])
    expect(page.get_by_test_id("description")).to_have_text(XSS)
    expect(page.get_by_text(XSS)).to_be_visible()
    assert page.locator("main script, main img").count() == 0
    check_accessibility(page)

    dashboard = pages.new(http_credentials={"username": site.api_key, "password": ""})
    dashboard.goto(site.url_for(f"/dashboard/payments/{payment['id']}"))
    expect(dashboard.get_by_text(XSS)).to_be_visible()
    expect(dashboard.get_by_text('<img src=x onerror="alert(2)">')).to_be_visible()
    assert dashboard.locator("main script, main img").count() == 0
    assert pages.dialogs == []


def test_dashboard_shows_the_flow_and_the_timeline(
    site: PaysimServer, shop: Shop, pages: Pages, page: Page, check_accessibility: A11y
) -> None:
    payment = create_payment(
        site, description="Dashboard mug", metadata={"webhook_url": f"{shop.url}/hooks/flaky"}
    )
    payment_id = payment["id"]
    page.goto(payment["payment_url"])
    page.get_by_role("button", name="Pay").click()
    expect(page.get_by_role("heading", name="Payment succeeded")).to_be_visible()
    wait_for_deliveries(
        site, payment_id, lambda items: sum(item["status_code"] == 200 for item in items) == 2
    )

    dashboard = pages.new(http_credentials={"username": site.api_key, "password": ""})
    response = dashboard.goto(site.url_for("/dashboard"))
    assert response is not None
    assert response.status == 200
    check_accessibility(dashboard)
    row = dashboard.get_by_test_id("payments").get_by_role("row").filter(has_text=payment_id)
    expect(row).to_contain_text("Dashboard mug")
    expect(row).to_contain_text("19.99 USD")
    expect(row).to_contain_text("succeeded")

    def cell(text: str) -> Locator:
        return dashboard.get_by_role("cell", name=text, exact=True)

    deliveries = dashboard.get_by_test_id("deliveries").get_by_role("row")
    of_success = deliveries.filter(has=cell("payment.succeeded"))
    expect(of_success.filter(has=cell("500"))).to_have_count(1)
    expect(of_success.filter(has=cell("500")).get_by_role("cell").nth(4)).to_have_text("1")
    expect(of_success.filter(has=cell("200")).get_by_role("cell").nth(4)).to_have_text("2")

    dashboard.get_by_role("link", name=payment_id).first.click()
    dashboard.wait_for_url(f"**/dashboard/payments/{payment_id}")
    check_accessibility(dashboard)
    expect(dashboard.get_by_role("heading", name=f"Payment {payment_id}")).to_be_visible()
    timeline = dashboard.get_by_test_id("timeline").get_by_role("row")
    expect(timeline.filter(has_text="payment.created (evt_")).to_have_count(1)
    expect(timeline.filter(has_text="payment.succeeded (evt_")).to_have_count(1)
    expect(timeline.filter(has=cell("failed: HTTP 500")).filter(has=cell("500"))).to_have_count(2)
    expect(timeline.filter(has=cell("succeeded")).filter(has=cell("200"))).to_have_count(2)
    assert pages.dialogs == []
