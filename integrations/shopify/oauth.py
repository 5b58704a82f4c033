"""Shopify OAuth over HTTP: the authorize URL, the callback's query HMAC, and the three ways of getting an
offline token from the token endpoint (authorization code, token exchange, refresh). No business rules."""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import urlencode

import requests

from loyalty.domain.shops import valid_shop_domain
from integrations.shopify.errors import InvalidShopDomain, OAuthError
from loyalty.defaults import OAUTH_TIMEOUT as TIMEOUT

TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"
OFFLINE_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:offline-access-token"


@dataclass(frozen=True)
class TokenGrant:
    """What the token endpoint gave: `expires_in` is None for a token that does not expire."""

    access_token: str
    scope: str | None = None
    expires_in: int | None = None
    refresh_token: str | None = None
    refresh_token_expires_in: int | None = None


def _checked(shop: str) -> str:
    """The shop domain, or InvalidShopDomain before any URL is built from it."""
    if not valid_shop_domain(shop):
        raise InvalidShopDomain(f"{shop!r} is not a shop domain (expected name.myshopify.com)")
    return shop


def authorize_url(shop: str, api_key: str, scopes: str, redirect_uri: str, state: str) -> str:
    """Where the merchant approves the app; always Shopify's real admin (the browser goes there)."""
    query = urlencode({"client_id": api_key, "scope": scopes, "redirect_uri": redirect_uri, "state": state})
    return f"https://{_checked(shop)}/admin/oauth/authorize?{query}"


def _escaped(value: str) -> str:
    """Shopify's escaping for the signed string, so a value cannot smuggle in a `&` or `=` pair."""
    return value.replace("%", "%25").replace("&", "%26")


def query_signature(params: dict, secret: str) -> str:
    """Hex HMAC-SHA256 of the query parameters as Shopify signs them: every pair but `hmac`, as `k=v`,
    sorted and joined with `&`."""
    pairs = sorted(
        f"{_escaped(str(k)).replace('=', '%3D')}={_escaped(str(v))}"
        for k, v in params.items() if k != "hmac"
    )
    return hmac.new(secret.encode(), "&".join(pairs).encode(), hashlib.sha256).hexdigest()


def verify_query_hmac(params: dict, secret: str | tuple[str, ...]) -> bool:
    """True when `params["hmac"]` signs the other parameters with the secret (or one of the secrets,
    during a rotation). Hand-written rather than `shopify.Session.validate_hmac`, which reads the secret
    from class-level state shared by every thread and knows one secret only."""
    given = params.get("hmac")
    if not isinstance(given, str) or not given:
        return False
    secrets = (secret,) if isinstance(secret, str) else secret
    # compare_digest on every secret, without stopping early, keeps the timing independent of the match
    matches = [hmac.compare_digest(query_signature(params, s).encode(), given.encode()) for s in secrets]
    return any(matches)


def token_url(shop: str, admin_url_template: str = "https://{shop}") -> str:
    """The token endpoint; the template lets the local emulator stand in for the shop's admin."""
    return admin_url_template.format(shop=_checked(shop)) + "/admin/oauth/access_token"


def _request_token(shop: str, body: dict, admin_url_template: str, session) -> TokenGrant:
    """POST to the token endpoint and read the grant; OAuthError on anything else."""
    url = token_url(shop, admin_url_template)
    try:
        response = (session or requests).post(url, json=body, headers={"Accept": "application/json"},
                                              timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise OAuthError(f"token endpoint of {shop} unreachable: {type(exc).__name__}") from exc
    try:
        data = response.json()
    except ValueError:
        data = {}
    if response.status_code != 200 or not isinstance(data, dict) or not data.get("access_token"):
        error = data.get("error") if isinstance(data, dict) else None
        detail = (data.get("error_description") if isinstance(data, dict) else None) or response.text[:200]
        raise OAuthError(
            f"token endpoint of {shop} answered HTTP {response.status_code}: {error or ''} {detail}".strip(),
            status=response.status_code, error=error)
    return TokenGrant(
        access_token=data["access_token"], scope=data.get("scope"),
        expires_in=_seconds(data.get("expires_in")), refresh_token=data.get("refresh_token") or None,
        refresh_token_expires_in=_seconds(data.get("refresh_token_expires_in")),
    )


def _seconds(value) -> int | None:
    """A lifetime in seconds; absent (a token that does not expire) stays None."""
    return None if value in (None, "") else int(value)


def exchange_code(shop: str, code: str, api_key: str, secret: str, *, expiring: bool = True,
                  admin_url_template: str = "https://{shop}", session=None) -> TokenGrant:
    """The authorization code grant: the callback's `code` for an offline token."""
    body = {"client_id": api_key, "client_secret": secret, "code": code}
    if expiring:
        body["expiring"] = "1"
    return _request_token(shop, body, admin_url_template, session)


def token_exchange(shop: str, session_token: str, api_key: str, secret: str, expiring: bool = True, *,
                   admin_url_template: str = "https://{shop}", session=None) -> TokenGrant:
    """Token exchange: an App Bridge session token (already verified) for an offline token."""
    body = {
        "client_id": api_key, "client_secret": secret, "grant_type": TOKEN_EXCHANGE_GRANT,
        "subject_token": session_token, "subject_token_type": ID_TOKEN_TYPE,
        "requested_token_type": OFFLINE_TOKEN_TYPE,
    }
    if expiring:
        body["expiring"] = "1"
    return _request_token(shop, body, admin_url_template, session)


def refresh(shop: str, refresh_token: str, api_key: str, secret: str, *,
            admin_url_template: str = "https://{shop}", session=None) -> TokenGrant:
    """A new access token (and a new refresh token: the one sent is used up) for an expiring token."""
    body = {"client_id": api_key, "client_secret": secret, "grant_type": "refresh_token",
            "refresh_token": refresh_token}
    return _request_token(shop, body, admin_url_template, session)
