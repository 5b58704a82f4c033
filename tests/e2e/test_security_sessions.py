"""App Bridge session tokens at the door (/auth/session, over HTTP): a token that is not Shopify's, for
this app, now, for the shop it names is refused with 401 before anything is stored or any call is made to
Shopify; a genuine token only ever speaks for its own shop."""
from __future__ import annotations

import time

import jwt
import pytest
import responses
from sqlalchemy import select

from db.tables import shops
from integrations.crypto import decrypt_token
from tests.conftest import SECRET, SHOP
from tests.fixtures import _new_database

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")

OTHER = "store-b.myshopify.com"


@pytest.fixture
def database_url(request, sqlite_template):
    """SQLite only: nothing here depends on the database engine."""
    return _new_database("sqlite", request, sqlite_template)


def token(shop: str = SHOP, secret: str = SECRET, algorithm: str = "HS256", **overrides) -> str:
    """A session token as Shopify issues it for `shop`, valid for a minute from now."""
    now = int(time.time())
    claims = {"iss": f"https://{shop}/admin", "dest": f"https://{shop}", "aud": "test-key", "sub": "42",
              "exp": now + 60, "nbf": now - 1, "iat": now - 1, "jti": "j", "sid": "s"}
    claims.update(overrides)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, secret, algorithm=algorithm)


def shop_rows(ctx) -> dict:
    with ctx.engine.connect() as conn:
        return {r.domain: r.access_token for r in conn.execute(select(shops.c.domain, shops.c.access_token))}


def refused_cases() -> dict:
    """Each defect alone: (token made now, what the refusal names)."""
    now = int(time.time())
    unsigned = jwt.encode({"iss": f"https://{SHOP}/admin", "dest": f"https://{SHOP}", "aud": "test-key",
                           "sub": "1", "exp": now + 60, "nbf": now - 1}, None, algorithm="none")
    return {
        "wrong signature": (token(secret="shpss_" + "f" * 32), "signature"),
        "wrong aud": (token(aud="another-apps-key"), "aud"),
        "expired": (token(exp=now - 3600, nbf=now - 3700, iat=now - 3700), "expired"),
        "nbf in the future": (token(nbf=now + 3600, exp=now + 3700), "nbf"),
        "dest of another shop": (token(dest=f"https://{OTHER}"), "dest"),
        "iss of another shop": (token(iss=f"https://{OTHER}/admin"), "dest"),
        "dest not a shop": (token(dest="https://evil.example"), "dest"),
        "alg none": (unsigned, "HS256"),
        "HS512 with the right secret": (token(algorithm="HS512"), "HS256"),
        "no exp": (token(exp=None), "exp"),
        "empty sub": (token(sub=""), "sub"),
    }


@pytest.mark.parametrize("case", sorted(refused_cases()))
def test_a_bad_session_token_is_401_and_changes_nothing(client, ctx, shop, case):
    """Each defect alone: 401, App Bridge told to fetch a new token, no call to Shopify, no shop touched."""
    raw, reason = refused_cases()[case]  # made now: a token made at import would expire in a long run
    before = shop_rows(ctx)
    with responses.RequestsMock() as rsps:  # any call to Shopify would fail the test
        answer = client.post("/auth/session", headers={"Authorization": f"Bearer {raw}"})
        assert len(rsps.calls) == 0
    assert answer.status_code == 401, answer.json
    assert reason in answer.json["error"]
    assert answer.headers["X-Shopify-Retry-Invalid-Session-Request"] == "1"
    assert shop_rows(ctx) == before


def test_a_genuine_token_speaks_only_for_its_own_shop(client, ctx, shop):
    """Store B's genuine token installs store B (token exchange) and answers store B; store A's stored
    token is untouched; store A's token answers store A and exchanges nothing."""
    grant = {"access_token": "shpat_b", "scope": "read_orders", "expires_in": 3600,
             "refresh_token": "shprt_b", "refresh_token_expires_in": 7776000}
    with responses.RequestsMock() as rsps:
        rsps.post(f"https://{OTHER}/admin/oauth/access_token", json=grant)
        identity = f"https://{OTHER}/admin/api/2025-10/graphql.json"  # the install reads B's shop id and facts,
        rsps.post(identity, json={"data": {"shop": {"id": "gid://shopify/Shop/4242"},  # then its locales
                                           "shopLocales": [{"locale": "en", "primary": True}]}})
        answer_b = client.post("/auth/session", headers={"Authorization": f"Bearer {token(OTHER)}"})
        answer_a = client.post("/auth/session", headers={"Authorization": f"Bearer {token(SHOP)}"})
        assert [c.request.url for c in rsps.calls] == [f"https://{OTHER}/admin/oauth/access_token", identity, identity]
        assert {c.request.headers["X-Shopify-Access-Token"] for c in rsps.calls[1:]} == {"shpat_b"}  # B's own token
    assert answer_b.json == {"shop": OTHER} and answer_a.json == {"shop": SHOP}
    keys = ctx.config.encryption_keys
    rows = shop_rows(ctx)
    assert decrypt_token(keys, rows[SHOP]) == "shpat_store_a"
    assert decrypt_token(keys, rows[OTHER]) == "shpat_b"
