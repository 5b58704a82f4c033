"""Install and auth over HTTP: /auth/install, /auth/callback (authorization code grant) and /auth/session
(token exchange). Shopify's token endpoint is the only thing mocked."""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import responses
from sqlalchemy import select

from admin import install_state
from db.tables import oauth_states, programme_settings, shops
from integrations.crypto import decrypt_token
from tests.conftest import SECRET, SHOP

# The suite's secret is shorter than the 32 bytes PyJWT recommends; Shopify's app secrets are not.
pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")

NEW_SHOP = "new-shop.myshopify.com"
TOKEN_URL = f"https://{NEW_SHOP}/admin/oauth/access_token"
GRANT = {"access_token": "shpat_new_secret", "scope": "read_orders,write_customers", "expires_in": 3600,
         "refresh_token": "shprt_first", "refresh_token_expires_in": 7776000}


def signed(params: dict, secret: str = SECRET) -> dict:
    """The query Shopify sends back: the parameters plus their HMAC, computed independently of the app."""
    message = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    return {**params, "hmac": hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()}


def start_install(client, shop: str = NEW_SHOP) -> str:
    """Begin an install and return the state the app put in Shopify's authorize URL."""
    response = client.get("/auth/install", query_string={"shop": shop})
    assert response.status_code == 302
    return parse_qs(urlsplit(response.headers["Location"]).query)["state"][0]


def callback_params(state: str, shop: str = NEW_SHOP, **extra) -> dict:
    """A signed callback query as Shopify builds it."""
    params = {"code": "auth-code-1", "host": "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvbmV3LXNob3A=", "shop": shop,
              "state": state, "timestamp": str(int(time.time()))}
    params.update(extra)
    return signed(params)


def shop_row(ctx, domain: str = NEW_SHOP):
    """The shops row for a domain, or None."""
    with ctx.engine.connect() as conn:
        return conn.execute(select(shops).where(shops.c.domain == domain)).first()


def state_count(ctx) -> int:
    """How many state nonces are stored (used ones, kept until their state expires)."""
    with ctx.engine.connect() as conn:
        return len(conn.execute(select(oauth_states.c.nonce)).all())


def test_install_redirects_to_shopify_with_a_signed_state(client, ctx, monkeypatch):
    """/auth/install sends the merchant to the shop's authorize page with the app's key, scopes, callback
    URL and a fresh state signed for that shop, its nonce in an HttpOnly cookie of this browser (Secure on
    an https app URL, sent back only to the callback); nothing is written to the database."""
    monkeypatch.setenv("SHOPIFY_APP_URL", "https://loyalty.example.com/")
    response = client.get("/auth/install", query_string={"shop": NEW_SHOP})
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert (location.scheme, location.netloc, location.path) == ("https", NEW_SHOP, "/admin/oauth/authorize")
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["client_id"] == "test-key"
    assert query["scope"] == ("read_orders,read_all_orders,read_customers,write_customers,"
                              "write_discounts,write_gift_cards,read_locales")
    assert query["redirect_uri"] == "https://loyalty.example.com/auth/callback"
    [cookie] = response.headers.getlist("Set-Cookie")
    nonce = cookie.split(";")[0].removeprefix(f"{install_state.NONCE_COOKIE}=")
    assert all(part in cookie for part in ("HttpOnly", "SameSite=Lax", "Path=/auth/callback", "Secure",
                                           "Max-Age=600"))
    now = datetime.now(timezone.utc)
    assert install_state.verify((SECRET,), query["state"], NEW_SHOP, nonce, now)[0] == nonce
    with pytest.raises(install_state.BadState):
        install_state.verify((SECRET,), query["state"], "other-shop.myshopify.com", nonce, now)
    assert state_count(ctx) == 0


def test_install_uses_the_configured_scopes(client, monkeypatch):
    """SHOPIFY_SCOPES replaces the default scope list."""
    monkeypatch.setenv("SHOPIFY_SCOPES", "read_orders")
    response = client.get("/auth/install", query_string={"shop": NEW_SHOP})
    assert parse_qs(urlsplit(response.headers["Location"]).query)["scope"] == ["read_orders"]


@pytest.mark.parametrize("domain", ["evil.com", "x.myshopify.com.evil.com", "", "a.myshopify.com/evil"])
def test_install_refuses_a_domain_that_is_not_a_shop(client, ctx, domain):
    """Only name.myshopify.com may be sent to: anything else is 400 and no state is stored."""
    response = client.get("/auth/install", query_string={"shop": domain})
    assert response.status_code == 400
    assert "myshopify.com" in response.json["error"]
    assert state_count(ctx) == 0


def test_callback_installs_the_shop_and_opens_the_embedded_app(client, ctx):
    """A signed callback with a fresh state: the code is exchanged (asking for an expiring token), the shop
    is installed with the grant, and the merchant lands in the app inside the admin."""
    state = start_install(client)
    with responses.RequestsMock() as rsps:
        rsps.post(TOKEN_URL, json=GRANT)
        response = client.get("/auth/callback", query_string=callback_params(state))
        sent = json.loads(rsps.calls[0].request.body)
    assert response.status_code == 302
    assert response.headers["Location"] == f"https://{NEW_SHOP}/admin/apps/test-key"
    assert sent == {"client_id": "test-key", "client_secret": SECRET, "code": "auth-code-1", "expiring": "1"}
    row = shop_row(ctx)
    assert row.uninstalled_at is None and row.scopes == GRANT["scope"]
    assert row.access_token_expires_at is not None and row.refresh_token_expires_at is not None
    with ctx.engine.connect() as conn:
        assert conn.execute(select(programme_settings.c.version).where(
            programme_settings.c.shop_id == row.id)).scalar() == 1
    assert [(j.func_name, j.args) for j in ctx.queue.jobs] == [("jobs.history.import_history", (NEW_SHOP,))]


def test_tokens_are_stored_encrypted(client, ctx):
    """The raw columns hold ciphertext, not the tokens; the configured key decrypts them."""
    state = start_install(client)
    with responses.RequestsMock() as rsps:
        rsps.post(TOKEN_URL, json=GRANT)
        client.get("/auth/callback", query_string=callback_params(state))
    row = shop_row(ctx)
    for column, token in (("access_token", "shpat_new_secret"), ("refresh_token", "shprt_first")):
        raw = bytes(getattr(row, column))
        assert token.encode() not in raw
        assert decrypt_token(ctx.config.encryption_keys, raw) == token


@pytest.mark.parametrize("tamper", ["wrong secret", "changed code", "no hmac"])
def test_callback_with_a_forged_hmac_is_403_and_stores_nothing(client, ctx, tamper):
    """A query not signed by Shopify with the app secret is refused before any token request."""
    state = start_install(client)
    params = callback_params(state)
    if tamper == "wrong secret":
        params = signed({k: v for k, v in params.items() if k != "hmac"}, secret="not-the-secret")
    elif tamper == "changed code":
        params["code"] = "attacker-code"
    else:
        del params["hmac"]
    with responses.RequestsMock() as rsps:
        response = client.get("/auth/callback", query_string=params)
        assert len(rsps.calls) == 0
    assert response.status_code == 403
    assert "hmac" in response.json["error"]
    assert shop_row(ctx) is None


def test_callback_with_an_unknown_state_is_403(client, ctx):
    """A state the app never issued is refused (a login CSRF would carry one)."""
    start_install(client)
    with responses.RequestsMock() as rsps:
        response = client.get("/auth/callback", query_string=callback_params("never-issued"))
        assert len(rsps.calls) == 0
    assert response.status_code == 403
    assert "state" in response.json["error"]
    assert shop_row(ctx) is None


def test_callback_with_an_expired_state_is_403(client, ctx, monkeypatch):
    """A state issued more than ten minutes ago is refused: the install has to start again."""
    import admin.auth

    monkeypatch.setattr(admin.auth, "_now", lambda: datetime.now(timezone.utc) - timedelta(minutes=11))
    state = start_install(client)
    monkeypatch.undo()
    with responses.RequestsMock() as rsps:
        response = client.get("/auth/callback", query_string=callback_params(state))
        assert len(rsps.calls) == 0
    assert response.status_code == 403 and "expired" in response.json["error"]
    assert shop_row(ctx) is None


@pytest.mark.parametrize("tamper", ["later expiry", "other nonce", "truncated mac"])
def test_callback_with_a_tampered_state_is_403(client, ctx, tamper):
    """The state's parts are covered by its MAC: a later expiry, another nonce (with the cookie to match)
    or a cut MAC is refused before any code exchange."""
    nonce, expires, mac = start_install(client).split(".")
    if tamper == "later expiry":
        state = f"{nonce}.{int(expires) + 3600}.{mac}"
    elif tamper == "other nonce":
        state = f"forged.{expires}.{mac}"
        client.set_cookie(install_state.NONCE_COOKIE, "forged", path="/auth/callback")
    else:
        state = f"{nonce}.{expires}.{mac[:-2]}"
    with responses.RequestsMock() as rsps:
        response = client.get("/auth/callback", query_string=callback_params(state))
        assert len(rsps.calls) == 0
    assert response.status_code == 403 and "state" in response.json["error"]
    assert shop_row(ctx) is None


def test_a_state_used_in_another_browser_is_403(app, client, ctx):
    """A state carried into a browser that did not start the install (no nonce cookie there, or another
    install's cookie) is refused: a login CSRF cannot hand a victim the attacker's install."""
    state = start_install(client)
    other_browser = app.test_client()
    start_install(other_browser)  # it holds a cookie, but for its own state
    with responses.RequestsMock() as rsps:
        for browser in (other_browser, app.test_client()):
            response = browser.get("/auth/callback", query_string=callback_params(state))
            assert response.status_code == 403 and "another browser" in response.json["error"]
        assert len(rsps.calls) == 0
    assert shop_row(ctx) is None


def test_a_state_works_once(client, ctx):
    """Replaying a successful callback (same browser, same signed query) is refused: the state's nonce is
    remembered as used, and there is no second code exchange."""
    params = callback_params(start_install(client))
    with responses.RequestsMock() as rsps:
        rsps.post(TOKEN_URL, json=GRANT)
        assert client.get("/auth/callback", query_string=params).status_code == 302
        replay = client.get("/auth/callback", query_string=params)
        assert [c.request.url for c in rsps.calls].count(TOKEN_URL) == 1
    assert replay.status_code == 403 and "already used" in replay.json["error"]
    assert state_count(ctx) == 1


def test_used_nonces_are_swept_once_their_state_has_expired(client, ctx, monkeypatch):
    """A used nonce is kept only while its state could still verify: a later callback sweeps it."""
    import admin.auth

    monkeypatch.setattr(admin.auth, "_now", lambda: datetime.now(timezone.utc) - timedelta(minutes=9))
    with responses.RequestsMock() as rsps:
        rsps.post(TOKEN_URL, json=GRANT)
        rsps.post("https://second-shop.myshopify.com/admin/oauth/access_token", json=GRANT)
        assert client.get("/auth/callback", query_string=callback_params(start_install(client))).status_code == 302
        monkeypatch.undo()
        assert state_count(ctx) == 1
        later = callback_params(start_install(client, "second-shop.myshopify.com"), shop="second-shop.myshopify.com")
        monkeypatch.setattr(admin.auth, "_now", lambda: datetime.now(timezone.utc) + timedelta(minutes=2))
        assert client.get("/auth/callback", query_string=later).status_code == 302
    with ctx.engine.connect() as conn:
        assert conn.execute(select(oauth_states.c.shop_domain)).scalars().all() == ["second-shop.myshopify.com"]


def test_a_state_issued_for_another_shop_is_403(client, ctx):
    """The state names the shop it was issued for; another shop cannot use it."""
    state = start_install(client, shop="other-shop.myshopify.com")
    with responses.RequestsMock() as rsps:
        response = client.get("/auth/callback", query_string=callback_params(state))
        assert len(rsps.calls) == 0
    assert response.status_code == 403
    assert shop_row(ctx) is None


@pytest.mark.parametrize("domain", ["evil.com", "x.myshopify.com.evil.com"])
def test_callback_for_a_domain_that_is_not_a_shop_makes_no_request(client, ctx, domain):
    """Even correctly signed, a shop outside *.myshopify.com is refused (400) with no HTTP request to it."""
    # a state signed for that exact domain, with its cookie, so only the domain check can refuse
    issued = install_state.issue(SECRET, domain, datetime.now(timezone.utc))
    client.set_cookie(install_state.NONCE_COOKIE, issued.nonce, path="/auth/callback")
    with responses.RequestsMock() as rsps:
        response = client.get("/auth/callback", query_string=callback_params(issued.state, shop=domain))
        assert len(rsps.calls) == 0
    assert response.status_code == 400
    assert shop_row(ctx, domain) is None


def test_callback_refused_by_shopify_is_502_and_stores_nothing(client, ctx):
    """When the token endpoint refuses the code the merchant gets a clear error and nothing is installed."""
    state = start_install(client)
    with responses.RequestsMock() as rsps:
        rsps.post(TOKEN_URL, status=400, json={"error": "invalid_request", "error_description": "code used"})
        response = client.get("/auth/callback", query_string=callback_params(state))
    assert response.status_code == 502
    assert shop_row(ctx) is None


def session_token(shop: str = NEW_SHOP, secret: str = SECRET, **overrides) -> str:
    """An App Bridge session token for the test app."""
    now = int(time.time())
    claims = {"iss": f"https://{shop}/admin", "dest": f"https://{shop}", "aud": "test-key", "sub": "42",
              "exp": now + 60, "nbf": now - 1, "iat": now - 1, "jti": "j", "sid": "s"}
    claims.update(overrides)
    return jwt.encode(claims, secret, algorithm="HS256")


def test_session_token_installs_a_new_shop_by_token_exchange(client, ctx):
    """Managed installation: the first session token from a shop without a token is exchanged for an
    expiring offline token, which is stored; the answer names the shop."""
    token = session_token()
    with responses.RequestsMock() as rsps:
        rsps.post(TOKEN_URL, json=GRANT)
        response = client.post("/auth/session", headers={"Authorization": f"Bearer {token}"})
        sent = json.loads(rsps.calls[0].request.body)
    assert response.status_code == 200 and response.json == {"shop": NEW_SHOP}
    assert sent["grant_type"] == "urn:ietf:params:oauth:grant-type:token-exchange"
    assert sent["subject_token"] == token
    assert sent["subject_token_type"] == "urn:ietf:params:oauth:token-type:id_token"
    assert sent["requested_token_type"] == "urn:shopify:params:oauth:token-type:offline-access-token"
    assert sent["expiring"] == "1" and sent["client_secret"] == SECRET
    assert decrypt_token(ctx.config.encryption_keys, shop_row(ctx).access_token) == "shpat_new_secret"


def test_session_token_for_a_shop_with_a_usable_token_exchanges_nothing(client, ctx):
    """A shop that already has a working token keeps it: no token exchange."""
    with responses.RequestsMock() as rsps:
        response = client.post("/auth/session", headers={"Authorization": f"Bearer {session_token(SHOP)}"})
        assert len(rsps.calls) == 0
    assert response.json == {"shop": SHOP}
    assert decrypt_token(ctx.config.encryption_keys, shop_row(ctx, SHOP).access_token) == "shpat_store_a"


@pytest.mark.parametrize("header", ["", "Bearer ", "Basic abc", "Bearer not-a-jwt"])
def test_session_without_a_valid_token_is_401(client, ctx, header):
    """No token, another scheme or a malformed token: 401 and App Bridge is told to retry with a new one."""
    with responses.RequestsMock() as rsps:
        response = client.post("/auth/session", headers={"Authorization": header} if header else {})
        assert len(rsps.calls) == 0
    assert response.status_code == 401
    if header.startswith("Bearer ") and header != "Bearer ":
        assert response.headers["X-Shopify-Retry-Invalid-Session-Request"] == "1"
    assert shop_row(ctx) is None


def test_session_token_signed_with_another_secret_is_401(client, ctx):
    """A token not signed with the app secret installs nothing."""
    with responses.RequestsMock() as rsps:
        response = client.post("/auth/session",
                               headers={"Authorization": f"Bearer {session_token(secret='x' * 40)}"})
        assert len(rsps.calls) == 0
    assert response.status_code == 401
    assert "signature" in response.json["error"]
    assert shop_row(ctx) is None
