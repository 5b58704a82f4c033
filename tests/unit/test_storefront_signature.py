"""App proxy signatures (Shopify's published test vectors), the replay window, and the page's form tokens."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl

import pytest

from loyalty.domain import form_tokens as forms
from integrations.shopify.app_proxy import ProxyRefused, sign, verify

# Shopify's documented example: secret "hush", a repeated `extra` parameter (joined with a comma).
BASIS = "extra=1&extra=2&shop=shop-name.myshopify.com&path_prefix=%2Fapps%2Fawesome_reviews&timestamp=1317327555"
SIGNED_AT = datetime.fromtimestamp(1317327555, timezone.utc)
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)


def params(query: str) -> list[tuple[str, str]]:
    return parse_qsl(query, keep_blank_values=True)


@pytest.mark.parametrize("query, expected", [
    (BASIS, "a9718877bea71c2484f91608a7eaea1532bdf71f5c56825065fa4ccabe549ef3"),
    (BASIS + "&logged_in_customer_id=1", "4c68c8624d737112c91818c11017d24d334b524cb5c2b8ba08daa056f7395ddb"),
    (BASIS + "&logged_in_customer_id=", "e072b6d7e6622d85912a5214b860d3100dc1e73d9bc29f43796ac8c9ff8093cb"),
])
def test_signature_matches_shopifys_published_vectors(query, expected):
    """Sorted `key=value` pairs, repeated keys comma-joined, no separator, hex HMAC-SHA256."""
    assert sign("hush", params(query)) == expected
    request = verify(("hush",), params(f"{query}&signature={expected}"), SIGNED_AT)
    assert request.shop == "shop-name.myshopify.com" and request.path_prefix == "/apps/awesome_reviews"
    assert request.customer_id == (1 if "logged_in_customer_id=1" in query else None)


def signed(query: str, secret: str = "s3cret") -> list[tuple[str, str]]:
    pairs = params(query)
    return pairs + [("signature", sign(secret, pairs))]


def query(customer="301", at=NOW):
    return (f"shop=store-a.myshopify.com&logged_in_customer_id={customer}&path_prefix=%2Fapps%2Floyalty"
            f"&timestamp={int(at.timestamp())}")


def test_a_forged_or_missing_signature_is_refused():
    """One changed character, a signature made with another secret, or none at all: refused."""
    good = signed(query())
    forged = good[:-1] + [("signature", good[-1][1][:-1] + ("0" if good[-1][1][-1] != "0" else "1"))]
    for pairs, reason in ((forged, "does not match"), (signed(query(), "other"), "does not match"),
                          (params(query()), "missing signature")):
        with pytest.raises(ProxyRefused, match=reason):
            verify(("s3cret",), pairs, NOW)


def test_the_previous_secret_is_accepted_during_rotation():
    """A request signed with SHOPIFY_API_SECRET_PREVIOUS still verifies."""
    assert verify(("new", "s3cret"), signed(query()), NOW).customer_id == 301


def test_another_customers_id_under_the_original_signature_is_refused():
    """Changing logged_in_customer_id (or the shop) after signing breaks the signature."""
    for tampered in (query("302"), query().replace("store-a", "store-b")):
        pairs = params(tampered) + [("signature", signed(query())[-1][1])]
        with pytest.raises(ProxyRefused, match="does not match"):
            verify(("s3cret",), pairs, NOW)


def test_a_stale_or_future_timestamp_is_refused_even_when_signed():
    """A signed URL replayed after the 5-minute window (or dated ahead of it) is refused."""
    assert verify(("s3cret",), signed(query(at=NOW - timedelta(seconds=299))), NOW)
    for at in (NOW - timedelta(seconds=301), NOW + timedelta(seconds=301)):
        with pytest.raises(ProxyRefused, match="stale"):
            verify(("s3cret",), signed(query(at=at)), NOW)


def test_a_repeated_shop_parameter_is_refused():
    """`shop` given twice cannot be read two ways, even under a valid signature."""
    with pytest.raises(ProxyRefused, match="shop given twice"):
        verify(("s3cret",), signed(query() + "&shop=store-b.myshopify.com"), NOW)


def test_form_tokens_are_bound_to_shop_customer_and_a_day():
    """The nonce comes back only for the customer and shop it was issued to, within a day."""
    token = forms.issue("s3cret", "store-a.myshopify.com", 301, NOW)
    nonce = forms.check(("s3cret",), token, "store-a.myshopify.com", 301, NOW + timedelta(hours=23))
    assert nonce == token.split(".")[0]
    for shop, customer, at, reason in (("store-a.myshopify.com", 302, NOW, "not issued"),
                                       ("store-b.myshopify.com", 301, NOW, "not issued"),
                                       ("store-a.myshopify.com", 301, NOW + timedelta(hours=25), "expired")):
        with pytest.raises(forms.BadToken, match=reason):
            forms.check(("s3cret",), token, shop, customer, at)
    with pytest.raises(forms.BadToken, match="malformed"):
        forms.check(("s3cret",), "", "store-a.myshopify.com", 301, NOW)
