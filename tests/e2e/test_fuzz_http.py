"""Every HTTP surface under fuzzing: no request, however malformed, makes the app answer 5xx (issue 11:
"bad input is a 4xx, never a 500"). Webhooks (headers and signed bodies), OAuth (/auth/install,
/auth/callback, /auth/session), the admin API (every route of admin/openapi.json with a valid session token:
arbitrary query strings, path parameters and JSON bodies; and invalid tokens), the app proxy (validly signed
requests with arbitrary parameters and form bodies, with real form tokens too) and the admin pages.

Each surface is bounded by `max_examples` so the file stays fast; it runs on SQLite and PostgreSQL (the
latter refuses what SQLite stores: NUL characters, integers beyond a column's type). The inputs that
failed before are kept as @example, and in tests/e2e/test_bad_input.py one test each."""
from __future__ import annotations

import json
import time
from urllib.parse import quote

import jwt
import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from integrations.shopify.oauth import query_signature
from loyalty.domain import form_tokens as forms
from integrations.shopify.app_proxy import sign
from tests.admin_client import OPENAPI, session_token
from tests.conftest import SECRET, SHOP, Sender
from tests.storefront_support import NOW, VERA, proxy  # noqa: F401 - fixture

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# -- inputs ------------------------------------------------------------------------------------------

NUMBERS = st.sampled_from(["0", "1", "-1", "²", "٣", " 7", "1_000", "1e3", "9" * 20, str(2**31), str(2**63),
                           "9" * 5000, "", "0x10", "NaN"])
"""Texts that look like numbers to someone: each was, or could be, taken by int() or isdigit() alone."""
TEXT = st.one_of(st.text(max_size=40), NUMBERS, st.sampled_from(["\x00", "a\nb", "%", "_", "\\", "'", "\ufeff"]))
SHOPS = st.one_of(st.sampled_from([SHOP, SHOP + "\n", SHOP.upper(), "demo.myshopify.com", "evil.com",
                                   "a.myshopify.com.evil.com", "", " " + SHOP]), st.text(max_size=30))
PARAMS = st.lists(st.tuples(st.one_of(st.sampled_from(["page", "q", "customer_id", "status", "from", "to",
                                                       "shop", "format", "host", "before", "action",
                                                       "actor"]), st.text(max_size=8)), TEXT),
                  max_size=5)
JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=12)
BODIES = st.one_of(
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=200),
    st.integers(1, 100_000).map(lambda depth: b"[" * depth + b"]" * depth),
    st.sampled_from([b"", b"{", b"null", b'{"a": 1e999999}', b'{"points": ' + b"9" * 5000 + b"}"]),
)
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=60)
"""What an HTTP server hands on in a header value (gunicorn refuses control characters itself)."""


def no_server_error(answer, what) -> None:
    assert answer.status_code < 500, (what, answer.status_code, answer.get_data()[:300])


# -- webhooks ----------------------------------------------------------------------------------------

@settings(FUZZ, max_examples=150)
@given(body=BODIES, topic=st.one_of(st.sampled_from(["orders/paid", "app/uninstalled", "shop/redact",
                                                    "customers/redact"]), HEADER_TEXT),
       shop=st.one_of(SHOPS.filter(lambda s: "\n" not in s and all(" " <= c <= "\xff" for c in s)), HEADER_TEXT),
       webhook_id=HEADER_TEXT, signed=st.booleans(), hmac=HEADER_TEXT)
def test_webhooks_never_answer_5xx(client, body, topic, shop, webhook_id, signed, hmac):
    headers = {} if signed else {"X-Shopify-Hmac-Sha256": hmac}
    answer = Sender(client)(topic, body, shop=shop, webhook_id=webhook_id or None, headers=headers)
    no_server_error(answer, (topic, shop, webhook_id))


# -- OAuth -------------------------------------------------------------------------------------------

@settings(FUZZ, max_examples=100)
@given(params=PARAMS, shop=SHOPS, sign=st.booleans())
@example(params=[], shop=SHOP + "\n", sign=False)
def test_oauth_never_answers_5xx(client, params, shop, sign):
    """/auth/install and /auth/callback with any query (the callback's hmac computed over it, or not)."""
    no_server_error(client.get("/auth/install", query_string=[("shop", shop), *params]), "install")
    query = dict([("shop", shop), *params])
    if sign:
        query["hmac"] = query_signature(query, SECRET)
    no_server_error(client.get("/auth/callback", query_string=query), "callback")


CLAIMS = st.fixed_dictionaries({}, optional={
    "iss": st.one_of(st.just(f"https://{SHOP}/admin"), TEXT), "dest": st.one_of(st.just(f"https://{SHOP}"), TEXT),
    "aud": st.one_of(st.just("test-key"), TEXT), "sub": st.one_of(st.just("42"), JSON_VALUES),
    "exp": st.one_of(st.just(int(time.time()) + 60), JSON_VALUES), "nbf": st.one_of(st.just(0), JSON_VALUES),
    "sid": JSON_VALUES})


def authorizations(claims: dict, garbage: str, kind: int) -> str:
    """A token signed with the app secret over fuzzed claims, one with a wrong secret, or garbage."""
    if kind == 0:
        return "Bearer " + jwt.encode(claims, SECRET, algorithm="HS256")
    if kind == 1:
        return "Bearer " + jwt.encode(claims, "not-the-secret", algorithm="HS256")
    return garbage


PATH_VALUES = st.one_of(st.integers(0, 2**70).map(str), NUMBERS, TEXT.filter(lambda t: "/" not in t))
SHOPPER_CLAIMS = st.fixed_dictionaries({}, optional={
    "dest": st.one_of(st.just(SHOP), st.just(f"https://{SHOP}"), TEXT), "aud": st.one_of(st.just("test-key"), TEXT),
    "sub": st.one_of(st.just("gid://shopify/Customer/42"), TEXT, JSON_VALUES),
    "exp": st.one_of(st.just(int(time.time()) + 60), JSON_VALUES), "nbf": st.one_of(st.just(0), JSON_VALUES)})


@settings(FUZZ, max_examples=100)
@given(claims=SHOPPER_CLAIMS, garbage=HEADER_TEXT, kind=st.integers(0, 2), body=BODIES,
       order=st.one_of(PATH_VALUES, st.just("gid%3A%2F%2Fshopify%2FOrder%2F1")))
def test_the_extensions_api_never_answers_5xx(client, claims, garbage, kind, body, order):
    """The UI extensions' API with fuzzed customer-account claims signed by the secret, or a bad token, and
    fuzzed bodies and ids: a clear 4xx, never a 5xx."""
    headers = {"Authorization": authorizations(claims, garbage, kind), "Content-Type": "application/json"}
    no_server_error(client.get("/extensions/customer", headers=headers), "customer")
    no_server_error(client.post("/extensions/customer/redeem", headers=headers, data=body), ("redeem", body))
    no_server_error(client.post("/extensions/checkout/redeem", headers=headers, data=body), ("checkout", body))
    no_server_error(client.get("/extensions/orders/" + quote(order, safe=""), headers=headers), ("order", order))
    no_server_error(client.get("/extensions/pos/customers/" + quote(order, safe=""), headers=headers), "pos")


@settings(FUZZ, max_examples=100)
@given(claims=CLAIMS, garbage=HEADER_TEXT, kind=st.integers(0, 2))
def test_session_tokens_never_make_a_5xx(client, claims, garbage, kind):
    """/auth/session and an admin API route, with fuzzed claims signed by the secret, or a bad token."""
    headers = {"Authorization": authorizations(claims, garbage, kind)}
    no_server_error(client.post("/auth/session", headers=headers), "session")
    no_server_error(client.get("/admin/api/programme", headers=headers), "api")


# -- admin API ---------------------------------------------------------------------------------------

OPERATIONS = [(method.upper(), template) for template, item in OPENAPI["paths"].items()
              for method in item if method != "parameters"]


@settings(FUZZ, max_examples=200)
@given(operation=st.sampled_from(OPERATIONS), values=st.fixed_dictionaries(
    {"customer_id": PATH_VALUES, "code": PATH_VALUES, "job_id": PATH_VALUES,
     "kind": st.one_of(st.just("voucher_created"), PATH_VALUES),
     "language": st.one_of(st.sampled_from(["fr", "en"]), PATH_VALUES), "version": PATH_VALUES}),
       params=PARAMS, body=BODIES)
@example(operation=("GET", "/admin/api/customers"), values={}, params=[("page", "9" * 20)], body=b"")
@example(operation=("GET", "/admin/api/vouchers"), values={}, params=[("customer_id", "²")], body=b"")
@example(operation=("PUT", "/admin/api/programme"), values={}, params=[], body=b"[" * 100_000 + b"]" * 100_000)
def test_the_admin_api_never_answers_5xx(admin, operation, values, params, body):
    """Every route of the OpenAPI document, with store A's valid session token."""
    method, template = operation
    path = template.format(**{k: quote(str(v), safe="") for k, v in values.items()}) if values else template
    if "{" in path:
        return
    answer = admin.client.open(path, method=method, query_string=params, data=body,
                               content_type="application/json",
                               headers={"Authorization": f"Bearer {session_token(SHOP, secret=SECRET)}"})
    no_server_error(answer, (method, path, params))


# -- app proxy ---------------------------------------------------------------------------------------

FORMS = st.dictionaries(st.sampled_from(["token", "reward", "points", "day", "month"]), TEXT, max_size=5)


@settings(FUZZ, max_examples=150)
@given(path=st.sampled_from(["", "/", "/redeem", "/birthday"]), params=PARAMS, form=FORMS,
       customer=st.one_of(st.none(), st.just(VERA), NUMBERS), real_token=st.booleans(),
       shop=st.one_of(st.just(SHOP), SHOPS))
def test_the_app_proxy_never_answers_5xx(proxy, path, params, form, customer, real_token, shop):  # noqa: F811
    """Validly signed (Shopify signs whatever the shopper adds to the URL), with any form; sometimes the
    form carries a token the page really issued, so the redemption and the birthday go all the way."""
    if real_token and isinstance(customer, int):
        form = {**form, "token": forms.issue(SECRET, shop, customer, NOW)}
    pairs = [("shop", shop), ("logged_in_customer_id", "" if customer is None else str(customer)),
             ("path_prefix", "/apps/loyalty"), ("timestamp", str(int(NOW.timestamp()))), *params]
    query = pairs + [("signature", sign(SECRET, pairs))]
    method = "GET" if path in ("", "/") else "POST"
    answer = proxy.client.open("/proxy" + path, method=method, query_string=query, data=form)
    no_server_error(answer, (path, params, form))
    if answer.status_code == 200 or (answer.is_json and "customer" in (answer.get_json() or {})):
        assert answer.headers.get("Cache-Control") == "private, no-store"  # a page, HTML or JSON


# -- admin pages -------------------------------------------------------------------------------------

@settings(FUZZ, max_examples=100)
@given(page=st.one_of(st.sampled_from(["", "/", "/settings", "/customers", "/vouchers", "/report", "/jobs"]),
                      PATH_VALUES.map(lambda v: "/customers/" + quote(v, safe="")),
                      TEXT.map(lambda v: "/" + quote(v, safe=""))), params=PARAMS, shop=SHOPS)
@example(page="", params=[], shop=SHOP + "\n")
def test_the_admin_pages_never_answer_5xx(client, page, params, shop):
    no_server_error(client.get("/admin" + page, query_string=[("shop", shop), *params]), page)

