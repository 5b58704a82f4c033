"""Customer-account, checkout and POS UI extension session tokens: each refusal named, each claim rule of
its kind (integrations.shopify.session_token, kinds SHOPPER and ADMIN)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import jwt
import pytest

from integrations.shopify.session_token import ADMIN, SHOPPER, InvalidSessionToken, verify_session_token

API_KEY = "test-key"
SECRET = "shpss_" + "a1" * 16
PREVIOUS = "shpss_" + "c3" * 16
SHOP = "store-b.myshopify.com"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
CUSTOMER = "gid://shopify/Customer/7001"


def shopper_token(secret: str = SECRET, algorithm: str = "HS256", **overrides) -> str:
    """A checkout / customer-account token as Shopify issues it: bare `dest`, no `iss`, five minutes of life."""
    at = int(NOW.timestamp())
    claims = {"dest": SHOP, "aud": API_KEY, "sub": CUSTOMER, "exp": at + 300, "nbf": at - 1, "iat": at - 1,
              "jti": "00000000-0000-0000-0000-000000000001"}
    claims.update(overrides)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, secret, algorithm=algorithm)


def verify(raw: str, secrets=(SECRET,), now: datetime = NOW, kind: str = SHOPPER):
    return verify_session_token(raw, API_KEY, secrets, now=now, kind=kind)


def test_shopper_token_names_the_shop_and_the_customer():
    verified = verify(shopper_token())
    assert (verified.shop, verified.customer_id, verified.sub) == (SHOP, 7001, CUSTOMER)


def test_shopper_token_with_https_dest_is_accepted():
    assert verify(shopper_token(dest=f"https://{SHOP}")).shop == SHOP


def test_shopper_token_without_sub_is_anonymous():
    """No `sub`: the buyer is not logged in; the token is genuine, the customer unknown (the API says 401)."""
    verified = verify(shopper_token(sub=None))
    assert (verified.shop, verified.customer_id) == (SHOP, None)


def test_shopper_token_refused_for_a_sub_that_is_no_customer_gid():
    with pytest.raises(InvalidSessionToken, match="sub"):
        verify(shopper_token(sub="gid://shopify/StaffMember/1"))


def test_shopper_token_refused_for_wrong_signature():
    with pytest.raises(InvalidSessionToken, match="signature"):
        verify(shopper_token(secret="shpss_" + "b2" * 16))


def test_shopper_token_signed_with_the_previous_secret_is_accepted_during_rotation():
    assert verify(shopper_token(secret=PREVIOUS), secrets=(SECRET, PREVIOUS)).customer_id == 7001


def test_shopper_token_refused_for_another_apps_audience():
    with pytest.raises(InvalidSessionToken, match="aud"):
        verify(shopper_token(aud="another-app"))


def test_shopper_token_refused_when_expired_beyond_the_leeway():
    assert verify(shopper_token(), now=NOW + timedelta(seconds=304)).shop == SHOP  # within 5 s of leeway
    with pytest.raises(InvalidSessionToken, match="expired"):
        verify(shopper_token(), now=NOW + timedelta(seconds=306))


def test_shopper_token_refused_before_nbf():
    with pytest.raises(InvalidSessionToken, match="nbf"):
        verify(shopper_token(), now=NOW - timedelta(seconds=10))


def test_shopper_token_refused_without_dest():
    with pytest.raises(InvalidSessionToken, match="dest"):
        verify(shopper_token(dest=None))


def test_shopper_token_refused_for_a_dest_that_is_no_shop():
    with pytest.raises(InvalidSessionToken, match="dest"):
        verify(shopper_token(dest="evil.example"))


def test_shopper_token_refused_when_iss_names_another_shop():
    with pytest.raises(InvalidSessionToken, match="iss"):
        verify(shopper_token(iss="https://store-a.myshopify.com/admin"))


def test_shopper_token_refused_for_another_algorithm():
    with pytest.raises(InvalidSessionToken, match="HS256"):
        verify(shopper_token(algorithm="HS512"))


def test_pos_token_is_verified_as_an_admin_token():
    """POS UI extensions send the admin's token: `iss` https://{shop}/admin, `dest` https://{shop}, staff `sub`."""
    at = int(NOW.timestamp())
    raw = jwt.encode({"iss": f"https://{SHOP}/admin", "dest": f"https://{SHOP}", "aud": API_KEY, "sub": "99",
                      "exp": at + 60, "nbf": at - 1}, SECRET, algorithm="HS256")
    verified = verify(raw, kind=ADMIN)
    assert (verified.shop, verified.sub, verified.customer_id) == (SHOP, "99", None)


def test_shopper_token_is_no_admin_token():
    """A checkout token (no `iss`) never passes as a staff member's."""
    with pytest.raises(InvalidSessionToken, match="iss"):
        verify(shopper_token(), kind=ADMIN)
