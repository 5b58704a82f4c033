"""Bad input is a 4xx, never a 500 (issue 11): each input below answered 500 before, on SQLite, PostgreSQL or
both. Found by hand, then by tests/e2e/test_fuzz_http.py. The admin API's answers are checked against
admin/openapi.json by the `admin` fixture (so each 400 is documented, with its JSON error)."""
from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from loyalty.domain.shops import valid_shop_domain
from tests.admin_client import session_token
from tests.conftest import SECRET, SHOP
from tests.storefront_support import proxy  # noqa: F401 - fixture

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
HUGE = "9" * 20  # beyond 2**63: SQLite's driver raised OverflowError, PostgreSQL "out of range"
SUPERSCRIPT_TWO = quote("²")  # str.isdigit() is True, int() raises ValueError


def authorised(admin, method: str, path: str, **kw):
    """An admin API call of store A's staff on a path no OpenAPI template matches (an id out of range)."""
    return admin.client.open("/admin/api" + path, method=method, **kw,
                             headers={"Authorization": f"Bearer {session_token(SHOP, secret=SECRET)}"})


def test_a_shop_domain_with_a_trailing_newline_is_no_shop_domain(client):
    """`re.match` with `$` accepted `name.myshopify.com\\n`, which then reached a Location or
    Content-Security-Policy header: /auth/install and /admin answered 500."""
    assert not valid_shop_domain(SHOP + "\n")
    assert client.get("/auth/install", query_string={"shop": SHOP + "\n"}).status_code == 400
    page = client.get("/admin", query_string={"shop": SHOP + "\n"})
    assert page.status_code == 200
    assert page.headers["Content-Security-Policy"] == "frame-ancestors https://admin.shopify.com;"


@pytest.mark.parametrize("path", ["/customers", "/adjustments", "/vouchers"])
@pytest.mark.parametrize("page", [SUPERSCRIPT_TWO, "0", "-1", "%202", "1_0", HUGE])
def test_a_page_that_is_not_a_whole_number_in_range_is_400(admin, path, page):
    """`page=²` passed isdigit() and failed int(); a huge page overflowed the OFFSET."""
    answer = admin.get(f"{path}?page={page}")
    assert answer.status_code == 400 and answer.get_json()["field"] == "page"


@pytest.mark.parametrize("customer", [SUPERSCRIPT_TWO, HUGE, str(2**31)])
def test_a_voucher_filter_that_is_no_customer_id_is_400(admin, customer):
    answer = admin.get(f"/vouchers?customer_id={customer}")
    assert answer.status_code == 400 and answer.get_json()["field"] == "customer_id"


@pytest.mark.parametrize("query", [SUPERSCRIPT_TWO, HUGE, "gid://shopify/Customer/" + HUGE])
def test_a_search_for_digits_that_are_no_shopify_id_finds_no_one(admin, query):
    answer = admin.get(f"/customers?q={query}")
    assert answer.status_code == 200 and answer.get_json()["customers"] == []


@pytest.mark.parametrize("path", ["/customers/{}", "/failed-jobs/{}/retry"])
@pytest.mark.parametrize("row_id", [str(2**31), HUGE, SUPERSCRIPT_TWO])
def test_a_row_id_beyond_the_column_is_404(admin, path, row_id):
    """PostgreSQL casts the parameter to the `integer` column: 2**31 was an error there, 10**20 on SQLite."""
    method = "POST" if path.endswith("retry") else "GET"
    assert authorised(admin, method, path.format(row_id)).status_code == 404


@pytest.mark.parametrize("method, path", [("PUT", "/programme"), ("POST", "/programme/template"),
                                          ("POST", "/customers/1/adjustments"), ("POST", "/vouchers/LOY-X/cancel")])
def test_a_json_body_nested_too_deeply_is_400(admin, method, path):
    """Flask's get_json(silent=True) catches ValueError only: the parser's RecursionError was a 500."""
    answer = authorised(admin, method, path, data="[" * 100_000 + "]" * 100_000, content_type="application/json")
    assert answer.status_code == 400 and "nested too deeply" in answer.get_json()["error"]


def test_a_nul_character_is_400_before_it_reaches_postgresql(admin, send, process, ctx):
    """PostgreSQL text cannot hold NUL: in a query, a path or a JSON string it was a 500 there."""
    from tests.factories import order

    send("orders/paid", order(lines=((10, 1),), email="nul@example.com", customer_id=77))
    process()
    [customer] = admin.get("/customers?q=77").get_json()["customers"]
    answer = admin.post(f"/customers/{customer['id']}/adjustments",
                        {"points": 5, "reason": "bad\u0000", "client_token": "nul-token-1"})
    assert answer.status_code == 400 and "NUL" in answer.get_json()["error"]
    assert admin.get("/vouchers?status=active%00").status_code == 400
    assert admin.get("/customers?q=a%00").status_code == 400
    assert admin.post("/vouchers/LOY%00X/cancel").status_code == 400


def test_a_form_token_with_digits_int_refuses_is_a_refused_token(proxy):  # noqa: F811
    """The form's token is not signed by Shopify (the customer sends it): `n.².mac` passed isdigit() and
    failed int()."""
    answer = proxy.post("/redeem", {"token": "nonce.².mac", "points": "10"}, customer=302, json=True)
    assert answer.status_code == 400 and answer.get_json()["result"]["error"] == "error.token"


def test_a_huge_birthday_month_is_refused_not_a_500(proxy, ctx, shop):  # noqa: F811
    """date(2000, 10**20, 1) raises OverflowError, which `except ValueError` did not catch."""
    from loyalty.domain import form_tokens as forms
    from tests.storefront_support import NOW

    # The token the page gives its forms (the rebuilt page shows no form to a customer with nothing to redeem).
    token = forms.issue(SECRET, shop.domain, 301, NOW)
    answer = proxy.post("/birthday", {"token": token, "day": "1", "month": HUGE}, customer=301, json=True)
    assert answer.status_code == 422 and answer.get_json()["result"]["error"] == "error.birthday"


def test_json_answers_of_the_app_proxy_are_never_cached(proxy):  # noqa: F811
    """The JSON page holds a customer's balance, like the HTML one: `Cache-Control: private, no-store`."""
    assert proxy.get(customer=301, json=True).headers["Cache-Control"] == "private, no-store"
    refused = proxy.post("/redeem", {"token": "x", "points": "1"}, customer=301, json=True)
    assert refused.status_code == 400 and refused.headers["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("path", ["/bare", "/bare/flask"])
def test_the_benchmark_endpoints_are_not_served_by_the_production_app(client, method, path):
    """They answered 200 to anyone; tools/bench/wsgi.py adds them for the ingest benchmark only."""
    assert client.open(path, method=method).status_code == 404


def test_the_benchmark_app_serves_them_beside_the_app(app):
    """tools/bench/wsgi.py's baselines on the test app: /bare and /bare/flask answer 200, the rest is unchanged."""
    from tools.bench.baselines import with_baselines

    client = with_baselines(app).test_client()
    answer = client.post("/bare")
    assert answer.status_code == 200 and answer.headers["X-Loyalty-Webhook"] == "bare"
    assert client.post("/bare/flask").status_code == 200 and client.get("/healthz").status_code == 200
