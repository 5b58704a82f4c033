"""App Bridge session tokens: only an HS256 token signed with the app secret, for this app, in its lifetime,
issued by and for the same *.myshopify.com shop is accepted."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import jwt
import pytest

from integrations.shopify.session_token import InvalidSessionToken, verify_session_token

API_KEY = "test-key"
SECRET = "shpss_" + "a1" * 16  # as long as a real app secret, so PyJWT has nothing to warn about
SHOP = "store-a.myshopify.com"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)


def token(secret: str = SECRET, algorithm: str = "HS256", **overrides) -> str:
    """A session token as Shopify issues it, one minute of life around NOW; `None` removes a claim."""
    at = int(NOW.timestamp())
    claims = {"iss": f"https://{SHOP}/admin", "dest": f"https://{SHOP}", "aud": API_KEY, "sub": "42",
              "exp": at + 60, "nbf": at - 1, "iat": at - 1, "jti": "00000000-0000-0000-0000-000000000000",
              "sid": "session-1"}
    claims.update(overrides)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, secret, algorithm=algorithm)


def verify(raw: str, secrets=(SECRET,), now: datetime = NOW):
    """Verify with the test app's key at NOW."""
    return verify_session_token(raw, API_KEY, secrets, now=now)


def test_valid_token_names_the_shop_and_the_user():
    """A genuine token gives the shop domain, the staff member (`sub`) and the admin session (`sid`)."""
    verified = verify(token())
    assert (verified.shop, verified.sub, verified.sid) == (SHOP, "42", "session-1")


def test_wrong_secret_is_refused():
    """A token signed with another secret is not Shopify's for this app."""
    with pytest.raises(InvalidSessionToken, match="signature"):
        verify(token(secret="shpss_" + "b2" * 16))


def test_previous_secret_is_accepted_during_rotation():
    """While SHOPIFY_API_SECRET_PREVIOUS is set, tokens signed with either secret verify."""
    new = "shpss_" + "c3" * 16
    assert verify(token(secret=SECRET), secrets=(new, SECRET)).shop == SHOP
    assert verify(token(secret=new), secrets=(new, SECRET)).shop == SHOP


def test_wrong_audience_is_refused():
    """A token for another app (another API key) is refused even if the signature matched."""
    with pytest.raises(InvalidSessionToken, match="aud"):
        verify(token(aud="another-app"))


def test_expired_token_is_refused():
    """A token past `exp` (beyond the 5 s leeway) is refused."""
    with pytest.raises(InvalidSessionToken, match="expired"):
        verify(token(), now=NOW + timedelta(seconds=66))


def test_leeway_absorbs_small_clock_skew():
    """A few seconds past `exp` or before `nbf` pass: clocks differ slightly between Shopify and us."""
    assert verify(token(), now=NOW + timedelta(seconds=63)).shop == SHOP
    assert verify(token(nbf=int(NOW.timestamp()) + 3)).shop == SHOP


def test_token_not_valid_yet_is_refused():
    """`nbf` in the future (beyond the leeway) is refused."""
    with pytest.raises(InvalidSessionToken, match="nbf"):
        verify(token(nbf=int(NOW.timestamp()) + 30))


def test_dest_that_differs_from_iss_is_refused():
    """`iss` and `dest` must name the same shop."""
    with pytest.raises(InvalidSessionToken, match="dest"):
        verify(token(dest="https://store-b.myshopify.com"))


@pytest.mark.parametrize("claim, value", [
    ("iss", "https://evil.com/admin"), ("dest", "https://store-a.myshopify.com.evil.com"),
    ("iss", f"http://{SHOP}/admin"), ("iss", f"https://{SHOP}"), ("dest", f"https://{SHOP}/other"),
])
def test_iss_and_dest_must_be_shop_urls(claim, value):
    """Only https://<name>.myshopify.com(/admin) is a shop; anything else is refused."""
    with pytest.raises(InvalidSessionToken, match=claim):
        verify(token(**{claim: value}))


@pytest.mark.parametrize("claim", ["exp", "nbf", "aud", "iss", "dest", "sub"])
def test_a_missing_claim_is_refused(claim):
    """Every claim the checks rely on must be present."""
    with pytest.raises(InvalidSessionToken, match=claim):
        verify(token(**{claim: None}))


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # HS512 wants a longer key
def test_only_hs256_is_accepted():
    """Another algorithm (even another HMAC with the right secret, or none) is refused: the algorithm is
    not the token's choice."""
    with pytest.raises(InvalidSessionToken, match="HS256"):
        verify(token(algorithm="HS512"))
    unsigned = jwt.encode(jwt.decode(token(), options={"verify_signature": False}), None, algorithm="none")
    with pytest.raises(InvalidSessionToken, match="HS256"):
        verify(unsigned)


def test_empty_token_is_refused():
    """No token at all gets a clear reason."""
    with pytest.raises(InvalidSessionToken, match="no session token"):
        verify("")
