"""The hosted 3-D Secure page (``/authenticate/{id}?client_secret=...``).

Over plain HTTP: what the page shows, its 403 / 404 pages, the form posts (``action=succeed``
or ``fail``), one-time form tokens, the redirect from the payment page, the dashboard. In a
real headless Chromium (tests marked ``browser``): the whole customer journey from the hosted
payment page through the bank's page back to the shop's ``return_url``, and the dashboard's
timeline.
"""

from __future__ import annotations

import html
import re
import socket
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from page_support import Pages, Shop, create_payment
from playwright.sync_api import Page, expect

from pytest_paysim.server import PaysimServer

HTML = "text/html; charset=utf-8"
CARD_3184 = "4000002760003184"
CARD_3155 = "4000002500003155"
CARD_3178 = "4000008260003178"
TIMEOUT = 5

A11y = Callable[[Page], None]


# -- helpers ---------------------------------------------------------------------------------


def hidden_fields(page: str) -> dict[str, str]:
    """The hidden inputs of the page's form."""
    return {
        name: html.unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page)
    }


def waiting(site: PaysimServer, *, card: str = CARD_3184, **params: Any) -> dict[str, Any]:
    """A payment paid through the API with a 3-D Secure card: in ``requires_action``."""
    payment = create_payment(site, **params)
    paid = site.client.post(f"/v1/payments/{payment['id']}/pay", json={"card_number": card})
    assert paid.status_code == 200, paid.text
    result: dict[str, Any] = paid.json()
    assert result["status"] == "requires_action", result
    return result


def auth_url(payment: dict[str, Any]) -> str:
    url: str = payment["next_action"]["redirect_to_url"]["url"]
    return url


def open_form(http: requests.Session, payment: dict[str, Any]) -> dict[str, str]:
    response = http.get(auth_url(payment), timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    fields = hidden_fields(response.text)
    assert set(fields) == {"client_secret", "token"}
    return fields


def submit(
    http: requests.Session, site: PaysimServer, payment_id: str, fields: dict[str, str], **form: str
) -> requests.Response:
    return http.post(
        site.url_for(f"/authenticate/{payment_id}"),
        data={**fields, **form},
        allow_redirects=False,
        timeout=TIMEOUT,
    )


def get_payment(site: PaysimServer, payment_id: str) -> dict[str, Any]:
    response = site.client.get(f"/v1/payments/{payment_id}")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def event_types(site: PaysimServer, payment_id: str) -> list[str]:
    response = site.client.get("/v1/events", params={"payment_id": payment_id, "limit": 100})
    assert response.status_code == 200, response.text
    return [event["type"] for event in reversed(response.json()["data"])]


# -- the page over HTTP ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        pytest.param(1999, "usd", "19.99 USD", id="usd"),
        pytest.param(500, "jpy", "500 JPY", id="zero-decimal-jpy"),
        pytest.param(1234, "kwd", "1.234 KWD", id="three-decimal-kwd"),
    ],
)
def test_the_page_shows_amount_currency_and_both_buttons(
    site: PaysimServer, http: requests.Session, amount: int, currency: str, shown: str
) -> None:
    payment = waiting(site, amount=amount, currency=currency, description="Two mugs")
    response = http.get(auth_url(payment), timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == HTML
    assert response.headers["Referrer-Policy"] == "no-referrer"  # the URL holds the secret
    assert response.headers["Cache-Control"] == "no-store"
    page = response.text
    assert page.startswith('<!doctype html>\n<html lang="en">')
    assert f'<p class="amount" data-testid="amount">{shown}</p>' in page
    assert "Two mugs" in page
    assert 'data-testid="status">requires_action<' in page
    assert f'<form class="pay-form" method="post" action="/authenticate/{payment["id"]}">' in page
    for value, label in [("succeed", "Complete"), ("fail", "Fail")]:
        button = rf'<button type="submit" name="action" value="{value}"[^>]*>{label} authentication'
        assert re.search(button + "</button>", page), value
    assert page.count("<button") == 2
    assert hidden_fields(page)["client_secret"] == payment["client_secret"]


def test_markup_in_the_description_stays_text(site: PaysimServer, http: requests.Session) -> None:
    payment = waiting(site, description="<script>alert(1)</script>")
    page = http.get(auth_url(payment), timeout=TIMEOUT).text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_each_form_load_gets_a_new_token(site: PaysimServer, http: requests.Session) -> None:
    payment = waiting(site)
    assert open_form(http, payment)["token"] != open_form(http, payment)["token"]


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param("pay_x_secret_wrong", id="wrong"),
        pytest.param("other", id="another-payments-secret"),
    ],
)
def test_a_bad_client_secret_is_a_403_page_and_authenticates_nothing(
    site: PaysimServer, http: requests.Session, secret: str | None
) -> None:
    payment = waiting(site)
    if secret == "other":
        secret = waiting(site)["client_secret"]
    params = {} if secret is None else {"client_secret": secret}
    page = http.get(site.url_for(f"/authenticate/{payment['id']}"), params=params, timeout=TIMEOUT)
    assert page.status_code == 403
    assert page.headers["Content-Type"] == HTML
    assert "This link is not valid" in page.text
    assert "<button" not in page.text
    assert payment["client_secret"] not in page.text

    token = open_form(http, payment)["token"]
    fields = {"client_secret": secret or "", "token": token}
    for action in ("succeed", "fail"):
        posted = submit(http, site, payment["id"], fields, action=action)
        assert posted.status_code == 403
        assert posted.headers["Content-Type"] == HTML
        assert payment["client_secret"] not in posted.text
    assert get_payment(site, payment["id"])["status"] == "requires_action"
    assert event_types(site, payment["id"])[-1] == "payment.requires_action"


@pytest.mark.parametrize("method", [pytest.param("GET", id="get"), pytest.param("POST", id="post")])
def test_an_unknown_payment_is_a_404_page(
    site: PaysimServer, http: requests.Session, method: str
) -> None:
    response = http.request(
        method,
        site.url_for("/authenticate/pay_doesnotexist000000000000"),
        params={"client_secret": "x"},
        data={"client_secret": "x", "token": "A" * 24, "action": "succeed"}
        if method == "POST"
        else None,
        timeout=TIMEOUT,
    )
    assert response.status_code == 404
    assert response.headers["Content-Type"] == HTML
    assert "Payment not found" in response.text


def _leave_requires_action(site: PaysimServer, how: str) -> dict[str, Any]:
    if how == "never-paid":
        return create_payment(site)
    payment = waiting(site)
    if how == "canceled":
        response = site.client.post(f"/v1/payments/{payment['id']}/cancel", json={})
    else:
        response = site.client.post(
            f"/v1/payments/{payment['id']}/authenticate", json={"outcome": how}
        )
    assert response.status_code == 200, response.text
    return payment


@pytest.mark.parametrize(
    ("how", "status"),
    [
        pytest.param("succeed", "succeeded", id="authenticated"),
        pytest.param("fail", "failed", id="authentication-failed"),
        pytest.param("canceled", "canceled", id="canceled"),
        pytest.param("never-paid", "requires_payment_method", id="never-paid"),
    ],
)
def test_no_buttons_once_there_is_nothing_to_authenticate(
    site: PaysimServer, http: requests.Session, how: str, status: str
) -> None:
    payment = _leave_requires_action(site, how)
    url = site.url_for(f"/authenticate/{payment['id']}")
    response = http.get(url, params={"client_secret": payment["client_secret"]}, timeout=TIMEOUT)
    assert response.status_code == 200
    assert "Nothing to confirm" in response.text
    assert f'data-testid="status">{status}<' in response.text
    assert "<button" not in response.text
    assert "<form" not in response.text


RESULTS = [
    pytest.param(CARD_3184, "automatic", "succeed", "succeeded", "payment.succeeded", id="3184"),
    pytest.param(CARD_3155, "manual", "succeed", "authorized", "payment.authorized", id="manual"),
    pytest.param(CARD_3178, "automatic", "succeed", "failed", "payment.failed", id="3178"),
    pytest.param(CARD_3184, "automatic", "fail", "failed", "payment.failed", id="fail"),
]


@pytest.mark.parametrize(("card", "capture_method", "action", "status", "event"), RESULTS)
def test_the_form_post_redirects_to_return_url_with_id_and_status(
    site: PaysimServer,
    http: requests.Session,
    shop: Shop,
    card: str,
    capture_method: str,
    action: str,
    status: str,
    event: str,
) -> None:
    payment = waiting(
        site, card=card, capture_method=capture_method, return_url=f"{shop.url}/done?order=5"
    )
    response = submit(http, site, payment["id"], open_form(http, payment), action=action)
    assert response.status_code == 303
    assert response.headers["Location"] == (
        f"{shop.url}/done?order=5&payment_id={payment['id']}&status={status}"
    )
    paid = get_payment(site, payment["id"])
    assert paid["status"] == status
    assert paid["next_action"] is None
    if action == "fail":
        assert (paid["failure_code"], paid["decline_code"]) == ("authentication_failed", None)
    assert event_types(site, payment["id"]) == [
        "payment.created",
        "payment.requires_action",
        event,
    ]


@pytest.mark.parametrize(
    ("card", "action", "heading", "reason"),
    [
        pytest.param(CARD_3184, "succeed", "Payment succeeded", None, id="succeeded"),
        pytest.param(CARD_3178, "succeed", "Payment failed", "insufficient funds", id="3178"),
        pytest.param(CARD_3184, "fail", "Payment failed", "did not complete 3-D Secure", id="fail"),
    ],
)
def test_the_form_post_without_return_url_shows_the_result(
    site: PaysimServer,
    http: requests.Session,
    card: str,
    action: str,
    heading: str,
    reason: str | None,
) -> None:
    payment = waiting(site, card=card)
    response = submit(http, site, payment["id"], open_form(http, payment), action=action)
    assert response.status_code == 200
    assert heading in response.text
    if reason is not None:
        assert reason in response.text
    assert f'data-testid="status">{get_payment(site, payment["id"])["status"]}<' in response.text


@pytest.mark.parametrize(
    ("form", "error"),
    [
        pytest.param({"action": "maybe"}, "Choose Complete or Fail", id="unknown-action"),
        pytest.param({}, "Choose Complete or Fail", id="no-action"),
        pytest.param({"action": "succeed", "token": ""}, "submit it again", id="no-token"),
        pytest.param({"action": "succeed", "token": "<bad>"}, "submit it again", id="bad-token"),
    ],
)
def test_a_bad_form_is_400_and_authenticates_nothing(
    site: PaysimServer, http: requests.Session, form: dict[str, str], error: str
) -> None:
    payment = waiting(site)
    fields = open_form(http, payment)
    response = submit(http, site, payment["id"], fields, **form)
    assert response.status_code == 400
    assert error in response.text
    assert 'role="alert"' in response.text
    assert get_payment(site, payment["id"])["status"] == "requires_action"
    # The buttons are still there, with a fresh token.
    assert ">Complete authentication</button>" in response.text
    assert hidden_fields(response.text)["token"] != fields["token"]


@pytest.mark.parametrize(
    ("action", "event"),
    [
        pytest.param("succeed", "payment.succeeded", id="succeed"),
        pytest.param("fail", "payment.failed", id="fail"),
    ],
)
def test_a_double_submit_of_the_same_token_authenticates_once(
    site: PaysimServer, http: requests.Session, shop: Shop, action: str, event: str
) -> None:
    payment = waiting(site, return_url=f"{shop.url}/done")
    fields = open_form(http, payment)
    first = submit(http, site, payment["id"], fields, action=action)
    second = submit(http, site, payment["id"], fields, action=action)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert event_types(site, payment["id"]) == [
        "payment.created",
        "payment.requires_action",
        event,
    ]


def test_a_resubmit_with_the_other_button_changes_nothing(
    site: PaysimServer, http: requests.Session
) -> None:
    payment = waiting(site)
    fields = open_form(http, payment)
    assert submit(http, site, payment["id"], fields, action="succeed").status_code == 200
    again = submit(http, site, payment["id"], fields, action="fail")
    assert again.status_code == 200
    assert get_payment(site, payment["id"])["status"] == "succeeded"
    assert event_types(site, payment["id"]).count("payment.failed") == 0


def test_concurrent_submits_of_the_same_token_authenticate_once(
    site: PaysimServer, http: requests.Session
) -> None:
    payment = waiting(site)
    fields = open_form(http, payment)
    statuses: list[int] = []
    barrier = threading.Barrier(6)

    def post() -> None:
        with requests.Session() as session:
            session.trust_env = False
            barrier.wait(timeout=TIMEOUT)
            response = submit(session, site, payment["id"], fields, action="succeed")
            statuses.append(response.status_code)

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert statuses == [200] * 6
    assert event_types(site, payment["id"]).count("payment.succeeded") == 1


def test_a_second_form_after_authentication_is_a_409_page(
    site: PaysimServer, http: requests.Session
) -> None:
    payment = waiting(site)
    first, second = open_form(http, payment), open_form(http, payment)
    assert submit(http, site, payment["id"], first, action="fail").status_code == 200
    late = submit(http, site, payment["id"], second, action="succeed")
    assert late.status_code == 409
    assert "<button" not in late.text
    assert get_payment(site, payment["id"])["status"] == "failed"


def test_the_api_and_the_page_cannot_both_authenticate(
    site: PaysimServer, http: requests.Session
) -> None:
    payment = waiting(site)
    fields = open_form(http, payment)
    api = site.client.post(
        f"/v1/payments/{payment['id']}/authenticate", json={"outcome": "succeed"}
    )
    assert api.status_code == 200
    late = submit(http, site, payment["id"], fields, action="fail")
    assert late.status_code == 409
    assert event_types(site, payment["id"]).count("payment.failed") == 0


def test_a_form_post_left_behind_by_a_test_never_reaches_the_next(site: PaysimServer) -> None:
    """SPEC 10: a request still in flight when its test ends belongs to that test.

    Test A's customer clicks "Complete authentication" and the form body is still arriving
    when test B starts. Ids and secrets repeat after a reset, so B's first payment has A's id
    and client secret; A's late post must not authenticate it.
    """
    sim = site.simulator
    assert sim is not None
    sim.reset(seed=31)
    in_a = waiting(site)
    body = urlencode(
        {"client_secret": in_a["client_secret"], "token": "A" * 24, "action": "succeed"}
    ).encode()
    head = (
        f"POST /authenticate/{in_a['id']} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", site.port), timeout=TIMEOUT) as sock:
        sock.sendall(head + body[:10])  # the server has the request; the body trickles in
        time.sleep(0.3)
        sim.reset(seed=31)  # test B starts
        in_b = waiting(site)
        assert (in_b["id"], in_b["client_secret"]) == (in_a["id"], in_a["client_secret"])
        sock.sendall(body[10:])
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 "), answer[:100]
    assert get_payment(site, in_b["id"])["status"] == "requires_action"
    assert event_types(site, in_b["id"]) == ["payment.created", "payment.requires_action"]


# -- the payment page leads to the bank ----------------------------------------------------


def test_the_payment_page_redirects_a_3ds_card_to_the_authentication_page(
    site: PaysimServer, http: requests.Session, shop: Shop
) -> None:
    payment = create_payment(site, return_url=f"{shop.url}/done")
    page = http.get(payment["payment_url"], timeout=TIMEOUT)
    fields = hidden_fields(page.text)
    posted = http.post(
        site.url_for(f"/pay/{payment['id']}"),
        data={**fields, "action": "pay", "card_number": "4000 0027 6000 3184"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert posted.status_code == 303
    waiting_payment = get_payment(site, payment["id"])
    assert waiting_payment["status"] == "requires_action"
    assert posted.headers["Location"] == auth_url(waiting_payment)
    # The same form posted again leads to the bank again, and pays nothing more.
    again = http.post(
        site.url_for(f"/pay/{payment['id']}"),
        data={**fields, "action": "pay", "card_number": "4000 0027 6000 3184"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert (again.status_code, again.headers["Location"]) == (303, auth_url(waiting_payment))
    assert event_types(site, payment["id"]).count("payment.requires_action") == 1


def test_the_payment_page_lists_the_3ds_test_cards(
    site: PaysimServer, http: requests.Session
) -> None:
    payment = create_payment(site)
    page = http.get(payment["payment_url"], timeout=TIMEOUT).text
    for spaced, result in [
        ("4000 0027 6000 3184", "3-D Secure, then succeeds"),
        ("4000 0025 0000 3155", "3-D Secure, then succeeds"),
        ("4000 0082 6000 3178", "3-D Secure, then declines: insufficient_funds"),
    ]:
        assert f"<td><code>{spaced}</code></td><td>{result}</td>" in page, spaced


def test_the_payment_page_of_a_waiting_payment_links_to_the_bank(
    site: PaysimServer, http: requests.Session
) -> None:
    payment = waiting(site)
    page = http.get(payment["payment_url"], timeout=TIMEOUT).text
    assert "3-D Secure" in page
    assert f'href="{html.escape(auth_url(payment))}"' in page
    assert "<button" not in page
    assert 'name="card_number"' not in page


def test_the_dashboard_timeline_shows_requires_action(
    site: PaysimServer, http: requests.Session
) -> None:
    payment = waiting(site)
    site.client.post(f"/v1/payments/{payment['id']}/authenticate", json={"outcome": "succeed"})
    response = http.get(
        site.url_for(f"/dashboard/payments/{payment['id']}"), auth=(site.api_key, ""), timeout=5
    )
    assert response.status_code == 200
    timeline = response.text.split('data-testid="timeline"', 1)[1]
    types = re.findall(r"<td>(payment\.\w+) \(evt_", timeline)
    assert types == ["payment.created", "payment.requires_action", "payment.succeeded"]
    listed = http.get(site.url_for("/dashboard"), auth=(site.api_key, ""), timeout=5)
    assert "payment.requires_action" in listed.text


def test_the_dashboard_shows_a_failed_authentication_without_a_null_decline_code(
    site: PaysimServer, http: requests.Session
) -> None:
    payment = waiting(site)
    site.client.post(f"/v1/payments/{payment['id']}/authenticate", json={"outcome": "fail"})
    response = http.get(
        site.url_for(f"/dashboard/payments/{payment['id']}"), auth=(site.api_key, ""), timeout=5
    )
    assert response.status_code == 200
    failure = re.search(r"<dt>Failure</dt><dd>(.*?)</dd>", response.text)
    assert failure is not None
    assert "authentication_failed" in failure.group(1)
    assert "None" not in failure.group(1), failure.group(1)


# -- in Chromium ---------------------------------------------------------------------------

JOURNEYS = [
    pytest.param(CARD_3184, "Complete authentication", "succeeded", id="3184-complete"),
    pytest.param(CARD_3155, "Complete authentication", "succeeded", id="3155-complete"),
    pytest.param(CARD_3184, "Fail authentication", "failed", id="3184-fail"),
    pytest.param(CARD_3178, "Complete authentication", "failed", id="3178-declined-after"),
]


@pytest.mark.browser
@pytest.mark.parametrize(("card", "button", "status"), JOURNEYS)
def test_pay_with_a_3ds_card_then_the_bank_page_then_back_to_the_shop(
    site: PaysimServer,
    shop: Shop,
    page: Page,
    check_accessibility: A11y,
    card: str,
    button: str,
    status: str,
) -> None:
    payment = create_payment(site, description="Three mugs", return_url=f"{shop.url}/done?order=77")
    page.goto(payment["payment_url"])
    page.get_by_label("Card number").fill(" ".join(card[i : i + 4] for i in range(0, 16, 4)))
    page.get_by_role("button", name="Pay").click()

    page.wait_for_url(f"**/authenticate/{payment['id']}?client_secret=*")
    expect(page.get_by_role("heading", name="Confirm this payment")).to_be_visible()
    expect(page.get_by_test_id("amount")).to_have_text("19.99 USD")
    expect(page.get_by_test_id("status")).to_have_text("requires_action")
    expect(page.get_by_role("button", name="Complete authentication")).to_be_visible()
    expect(page.get_by_role("button", name="Fail authentication")).to_be_visible()
    check_accessibility(page)

    page.get_by_role("button", name=button).click()
    page.wait_for_url(f"{shop.url}/done?**")
    query = parse_qs(urlsplit(page.url).query)
    assert query == {"order": ["77"], "payment_id": [payment["id"]], "status": [status]}
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    assert len(shop.visits("/done")) == 1
    done = get_payment(site, payment["id"])
    assert done["status"] == status
    if button == "Fail authentication":
        assert done["failure_code"] == "authentication_failed"
    elif status == "failed":
        assert done["decline_code"] == "insufficient_funds"


@pytest.mark.browser
def test_the_bank_page_in_the_browser_shows_the_result_without_return_url(
    site: PaysimServer, page: Page, check_accessibility: A11y
) -> None:
    payment = waiting(site, card=CARD_3178)
    page.goto(auth_url(payment))
    page.get_by_role("button", name="Complete authentication").click()
    expect(page.get_by_role("heading", name="Payment failed")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("insufficient funds")
    expect(page.get_by_test_id("status")).to_have_text("failed")
    check_accessibility(page)
    # The customer may try another card at once.
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_role("button", name="Pay").click()
    expect(page.get_by_role("heading", name="Payment succeeded")).to_be_visible()


@pytest.mark.browser
def test_the_dashboard_timeline_shows_the_requires_action_event(
    site: PaysimServer, pages: Pages, page: Page, check_accessibility: A11y
) -> None:
    payment = create_payment(site, description="Dashboard 3DS")
    payment_id = payment["id"]
    page.goto(payment["payment_url"])
    page.get_by_label("Card number").fill(CARD_3184)
    page.get_by_role("button", name="Pay").click()
    page.get_by_role("button", name="Complete authentication").click()
    expect(page.get_by_role("heading", name="Payment succeeded")).to_be_visible()

    dashboard = pages.new(http_credentials={"username": site.api_key, "password": ""})
    dashboard.goto(site.url_for(f"/dashboard/payments/{payment_id}"))
    expect(dashboard.get_by_role("heading", name=f"Payment {payment_id}")).to_be_visible()
    check_accessibility(dashboard)
    timeline = dashboard.get_by_test_id("timeline").get_by_role("row")
    expect(timeline.filter(has_text="payment.created (evt_")).to_have_count(1)
    expect(timeline.filter(has_text="payment.requires_action (evt_")).to_have_count(1)
    expect(timeline.filter(has_text="payment.succeeded (evt_")).to_have_count(1)
    assert pages.dialogs == []
