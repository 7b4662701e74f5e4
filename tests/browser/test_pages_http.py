"""The hosted payment page and the dashboard over plain HTTP (no browser).

Status codes, HTML error pages, escaping, the redirect to ``return_url``, and double submits.
"""

from __future__ import annotations

import html
import re
import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from pytest_paysim.core.cards import TEST_CARDS
from pytest_paysim.server import PaysimServer
from tests.support.pages import (
    Shop,
    create_payment,
    get_payment,
    hidden_fields,
    page_form,
    post_form,
    wait_for_deliveries,
)

HTML = "text/html; charset=utf-8"
XSS = "<script>alert(1)</script>"


def open_form(http: requests.Session, payment: dict[str, Any]) -> dict[str, str]:
    return page_form(http, payment["payment_url"])


def submit(
    http: requests.Session, site: PaysimServer, payment_id: str, fields: dict[str, str], **form: str
) -> requests.Response:
    return post_form(http, site.url_for(f"/pay/{payment_id}"), fields, **form)


def event_count(site: PaysimServer, payment_id: str, event_type: str) -> int:
    response = site.client.get(
        "/v1/events", params={"type": event_type, "payment_id": payment_id, "limit": 100}
    )
    assert response.status_code == 200, response.text
    return len(response.json()["data"])


# -- the hosted page -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        pytest.param(1999, "usd", "19.99 USD", id="two-decimal-usd"),
        pytest.param(500, "jpy", "500 JPY", id="zero-decimal-jpy"),
        pytest.param(1234, "kwd", "1.234 KWD", id="three-decimal-kwd"),
    ],
)
def test_page_shows_description_amount_form_and_test_cards(
    site: PaysimServer, http: requests.Session, amount: int, currency: str, shown: str
) -> None:
    payment = create_payment(site, amount=amount, currency=currency, description="Two mugs")
    response = http.get(payment["payment_url"], timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == HTML
    assert response.headers["Referrer-Policy"] == "no-referrer"
    page = response.text
    assert page.startswith('<!doctype html>\n<html lang="en">')
    assert "Two mugs" in page
    assert f'<p class="amount" data-testid="amount">{shown}</p>' in page
    assert f'<form class="pay-form" method="post" action="/pay/{payment["id"]}">' in page
    assert '<label for="card_number">Card number</label>' in page
    assert f">Pay {shown}</button>" in page
    assert ">Decline</button>" in page
    for number in TEST_CARDS:
        spaced = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
        assert f"<code>{spaced}</code>" in page
    assert hidden_fields(page)["client_secret"] == payment["client_secret"]


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param(None, id="missing"),
        pytest.param("pay_x_secret_wrong", id="wrong"),
        pytest.param("other", id="another-payments-secret"),
    ],
)
def test_bad_client_secret_is_a_403_page_and_pays_nothing(
    site: PaysimServer, http: requests.Session, secret: str | None
) -> None:
    payment = create_payment(site)
    if secret == "other":
        secret = create_payment(site)["client_secret"]
    params = {} if secret is None else {"client_secret": secret}
    page = http.get(site.url_for(f"/pay/{payment['id']}"), params=params, timeout=5)
    assert page.status_code == 403
    assert page.headers["Content-Type"] == HTML
    assert "This link is not valid" in page.text
    assert "<button" not in page.text
    assert payment["client_secret"] not in page.text

    token = open_form(http, payment)["token"]
    posted = submit(http, site, payment["id"], {"client_secret": secret or "", "token": token})
    assert posted.status_code == 403
    assert posted.headers["Content-Type"] == HTML
    assert get_payment(site, payment["id"])["status"] == "requires_payment_method"


@pytest.mark.parametrize("method", [pytest.param("GET", id="get"), pytest.param("POST", id="post")])
def test_unknown_payment_is_a_404_page(
    site: PaysimServer, http: requests.Session, method: str
) -> None:
    response = http.request(
        method,
        site.url_for("/pay/pay_doesnotexist000000000000"),
        params={"client_secret": "x"},
        timeout=5,
    )
    assert response.status_code == 404
    assert response.headers["Content-Type"] == HTML
    assert "Payment not found" in response.text


def test_user_supplied_text_is_escaped_everywhere(
    site: PaysimServer, http: requests.Session
) -> None:
    payment = create_payment(
        site,
        description=XSS,
        metadata={"note": '<img src=x onerror="alert(2)">'},
        return_url='http://shop.test/back?q="><b>bold</b>',
    )
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    hosted = http.get(payment["payment_url"], timeout=5).text
    auth = (site.api_key, "")
    dashboard = http.get(site.url_for("/dashboard"), auth=auth, timeout=5).text
    detail = http.get(
        site.url_for(f"/dashboard/payments/{payment['id']}"), auth=auth, timeout=5
    ).text
    for page in (hosted, dashboard, detail):
        assert escaped in page
        assert XSS not in page
    assert "&lt;img src=x onerror=&#34;alert(2)&#34;&gt;" in detail
    assert "<img" not in detail
    assert "&#34;&gt;&lt;b&gt;bold&lt;/b&gt;" in detail
    assert "<b>bold" not in detail


@pytest.mark.parametrize(
    ("query", "kept"),
    [
        pytest.param("order=42&note=a%20b", "order=42&note=a%20b", id="query-kept-as-is"),
        pytest.param("", "", id="no-query"),
        pytest.param("status=old&order=7", "order=7", id="old-status-replaced"),
    ],
)
def test_pay_redirects_to_return_url_with_id_and_status(
    site: PaysimServer, http: requests.Session, shop: Shop, query: str, kept: str
) -> None:
    return_url = f"{shop.url}/done" + (f"?{query}" if query else "")
    payment = create_payment(site, return_url=return_url)
    response = submit(http, site, payment["id"], open_form(http, payment), action="pay")
    assert response.status_code == 303
    assert response.headers["Content-Type"] == HTML
    location = response.headers["Location"]
    added = f"payment_id={payment['id']}&status=succeeded"
    assert location == f"{shop.url}/done?" + (f"{kept}&{added}" if kept else added)
    assert parse_qs(urlsplit(location).query)["status"] == ["succeeded"]
    assert get_payment(site, payment["id"])["status"] == "succeeded"


def test_pay_without_return_url_shows_the_result(
    site: PaysimServer, http: requests.Session
) -> None:
    payment = create_payment(site)
    response = submit(
        http, site, payment["id"], open_form(http, payment), card_number="5555-5555-5555-4444"
    )
    assert response.status_code == 200
    assert "Payment succeeded" in response.text
    assert 'data-testid="status">succeeded<' in response.text
    assert "<button" not in response.text
    assert get_payment(site, payment["id"])["status"] == "succeeded"


@pytest.mark.parametrize(
    ("form", "decline_code"),
    [
        pytest.param({"action": "decline"}, "generic_decline", id="decline-button"),
        pytest.param(
            {"action": "pay", "card_number": "4000 0000 0000 9995"},
            "insufficient_funds",
            id="insufficient-funds-card",
        ),
    ],
)
def test_decline_shows_the_reason_and_offers_a_retry(
    site: PaysimServer, http: requests.Session, form: dict[str, str], decline_code: str
) -> None:
    payment = create_payment(site)
    response = submit(http, site, payment["id"], open_form(http, payment), **form)
    assert response.status_code == 200
    paid = get_payment(site, payment["id"])
    assert (paid["status"], paid["decline_code"]) == ("failed", decline_code)
    assert html.escape(paid["failure_message"]) in response.text
    assert ">Decline</button>" in response.text  # a failed payment can be paid again


def test_forced_outcome_applies_to_the_page(site: PaysimServer, http: requests.Session) -> None:
    payment = create_payment(site)
    forced = site.client.post(
        "/_paysim/outcomes", json={"outcome": "fail", "decline_code": "lost_card"}
    )
    assert forced.status_code == 200, forced.text
    response = submit(
        http, site, payment["id"], open_form(http, payment), card_number="4242424242424242"
    )
    assert response.status_code == 200
    assert get_payment(site, payment["id"])["decline_code"] == "lost_card"


@pytest.mark.parametrize(
    "card_number",
    [pytest.param("1234", id="too-short"), pytest.param("4242424242424241", id="luhn")],
)
def test_invalid_card_shows_the_form_again_with_the_error(
    site: PaysimServer, http: requests.Session, card_number: str
) -> None:
    payment = create_payment(site)
    fields = open_form(http, payment)
    response = submit(http, site, payment["id"], fields, card_number=card_number)
    assert response.status_code == 400
    assert 'role="alert"' in response.text
    assert "card_number" in response.text
    assert f'value="{card_number}" aria-describedby="card-help" aria-invalid="true">' in (
        response.text
    )
    assert hidden_fields(response.text)["token"] != fields["token"]
    assert get_payment(site, payment["id"])["status"] == "requires_payment_method"
    # The token was not used up: the fixed form goes through.
    again = submit(http, site, payment["id"], fields, card_number="4242424242424242")
    assert again.status_code == 200
    assert get_payment(site, payment["id"])["status"] == "succeeded"


@pytest.mark.parametrize(
    "token", [pytest.param("", id="missing"), pytest.param("<bad>", id="malformed")]
)
def test_a_form_without_a_valid_token_does_not_pay(
    site: PaysimServer, http: requests.Session, token: str
) -> None:
    payment = create_payment(site)
    fields = {"client_secret": payment["client_secret"], "token": token}
    response = submit(http, site, payment["id"], fields)
    assert response.status_code == 400
    assert "submit it again" in response.text
    assert get_payment(site, payment["id"])["status"] == "requires_payment_method"


def test_double_submit_with_the_same_token_pays_once(
    site: PaysimServer, http: requests.Session, shop: Shop
) -> None:
    payment = create_payment(site, return_url=f"{shop.url}/done?order=1")
    fields = open_form(http, payment)
    first = submit(http, site, payment["id"], fields)
    second = submit(http, site, payment["id"], fields)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert event_count(site, payment["id"], "payment.succeeded") == 1


def test_concurrent_submits_with_the_same_token_pay_once(
    site: PaysimServer, http: requests.Session
) -> None:
    payment = create_payment(site)
    fields = open_form(http, payment)
    statuses: list[int] = []
    barrier = threading.Barrier(6)

    def post() -> None:
        with requests.Session() as session:
            barrier.wait(timeout=5)
            statuses.append(submit(session, site, payment["id"], fields).status_code)

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert statuses == [200] * 6
    assert event_count(site, payment["id"], "payment.succeeded") == 1


def test_repeating_a_decline_does_not_decline_again(
    site: PaysimServer, http: requests.Session
) -> None:
    payment = create_payment(site)
    fields = open_form(http, payment)
    for _ in range(2):
        response = submit(http, site, payment["id"], fields, action="decline")
        assert response.status_code == 200
    assert event_count(site, payment["id"], "payment.failed") == 1


@pytest.mark.parametrize(
    ("capture_method", "status"),
    [
        pytest.param("automatic", "succeeded", id="succeeded"),
        pytest.param("manual", "authorized", id="authorized"),
    ],
)
def test_a_paid_payment_shows_its_status_and_no_buttons(
    site: PaysimServer, http: requests.Session, capture_method: str, status: str
) -> None:
    payment = create_payment(site, capture_method=capture_method)
    fields = open_form(http, payment)
    paid = site.client.post(f"/v1/payments/{payment['id']}/pay", json={"outcome": "succeed"})
    assert paid.json()["status"] == status
    page = http.get(payment["payment_url"], timeout=5)
    assert page.status_code == 200
    assert f'data-testid="status">{status}<' in page.text
    assert "<button" not in page.text
    assert "<form" not in page.text
    # An old form posted now does not pay again.
    late = submit(http, site, payment["id"], fields)
    assert late.status_code == 409
    assert "<button" not in late.text
    event = "payment.succeeded" if status == "succeeded" else "payment.authorized"
    assert event_count(site, payment["id"], event) == 1


# -- the dashboard ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", [pytest.param("/dashboard", id="dashboard"), pytest.param("payment", id="payment")]
)
@pytest.mark.parametrize(
    "auth",
    [
        pytest.param(None, id="no-credentials"),
        pytest.param(("sk_test_wrongwrongwrongwrongwron", ""), id="wrong-key"),
        pytest.param(("", "the-key-as-password"), id="key-as-password"),
    ],
)
def test_dashboard_needs_the_api_key_as_basic_user(
    site: PaysimServer, http: requests.Session, path: str, auth: tuple[str, str] | None
) -> None:
    payment = create_payment(site, description="secret shopping")
    if path == "payment":
        path = f"/dashboard/payments/{payment['id']}"
    if auth is not None and auth[1] == "the-key-as-password":
        auth = ("", site.api_key)
    response = http.get(site.url_for(path), auth=auth, timeout=5)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="paysim"'
    assert response.headers["Content-Type"] == HTML
    assert "secret shopping" not in response.text


def test_dashboard_lists_payments_events_and_deliveries(
    site: PaysimServer, http: requests.Session, shop: Shop
) -> None:
    older = create_payment(site, amount=500, currency="jpy", description="older")
    newer = create_payment(
        site, description="newer", metadata={"webhook_url": f"{shop.url}/hooks/flaky"}
    )
    paid = site.client.post(f"/v1/payments/{newer['id']}/pay", json={"outcome": "succeed"})
    assert paid.status_code == 200
    wait_for_deliveries(
        site, newer["id"], lambda items: sum(item["status_code"] == 200 for item in items) == 2
    )
    response = http.get(site.url_for("/dashboard"), auth=(site.api_key, ""), timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == HTML
    page = response.text
    assert page.index(newer["id"]) < page.index(older["id"])  # newest first
    assert "500 JPY" in page
    assert "19.99 USD" in page
    assert 'status-succeeded">succeeded<' in page
    assert f'href="/dashboard/payments/{newer["id"]}"' in page
    assert "payment.succeeded" in page
    deliveries = page.split('data-testid="deliveries"', 1)[1]
    flaky = html.escape(f"{shop.url}/hooks/flaky")
    assert f'<td class="url">{flaky}</td><td class="num">1</td><td class="num">500</td>' in (
        deliveries
    )
    assert f'<td class="url">{flaky}</td><td class="num">2</td><td class="num">200</td>' in (
        deliveries
    )


def test_dashboard_accepts_a_bearer_key(site: PaysimServer, http: requests.Session) -> None:
    response = http.get(
        site.url_for("/dashboard"), headers={"Authorization": f"Bearer {site.api_key}"}, timeout=5
    )
    assert response.status_code == 200
    assert "No payments yet." in response.text


def test_payment_page_shows_the_timeline(
    site: PaysimServer, http: requests.Session, shop: Shop
) -> None:
    payment = create_payment(site, metadata={"webhook_url": f"{shop.url}/hooks/flaky"})
    payment_id = payment["id"]
    assert site.client.post(f"/v1/payments/{payment_id}/pay", json={"outcome": "succeed"}).ok
    refund = site.client.post(f"/v1/payments/{payment_id}/refund", json={"amount": 500}).json()
    wait_for_deliveries(
        site, payment_id, lambda items: sum(item["status_code"] == 200 for item in items) == 3
    )
    response = http.get(
        site.url_for(f"/dashboard/payments/{payment_id}"), auth=(site.api_key, ""), timeout=5
    )
    assert response.status_code == 200
    timeline = response.text.split('data-testid="timeline"', 1)[1]
    kinds = re.findall(r'<tr class="kind-(\w+)', timeline)
    assert kinds.count("event") == 3
    assert kinds.count("refund") == 1
    assert kinds.count("delivery") == 6
    types = re.findall(r"<td>(payment\.\w+) \(evt_", timeline)
    assert types == ["payment.created", "payment.succeeded", "payment.refunded"]
    assert f"Refund {refund['id']} of 5.00 USD" in timeline
    assert timeline.count('<td class="num">500</td><td>failed: HTTP 500</td>') == 3
    assert timeline.count('<td class="num">200</td><td>succeeded</td>') == 3
    assert "webhook_url" in response.text  # the metadata table


def test_unknown_payment_on_the_dashboard_is_a_404_page(
    site: PaysimServer, http: requests.Session
) -> None:
    response = http.get(
        site.url_for("/dashboard/payments/pay_nope"), auth=(site.api_key, ""), timeout=5
    )
    assert response.status_code == 404
    assert response.headers["Content-Type"] == HTML
    assert "<h1" in response.text
