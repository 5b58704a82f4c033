"""The token endpoint's three grants (authorization code, token exchange, refresh), and token checks.

A shop accepts the token it was added with until the app is uninstalled (every token revoked; a
later grant mints a new one). Grants asking for `expiring` tokens mint a new access token that lasts
ACCESS_TOKEN_SECONDS and a refresh token; refreshing uses the refresh token up and mints a new pair, as
Shopify does.
Codes and session tokens are not verified: any non-empty value is accepted.
"""
import hmac
import secrets

ACCESS_TOKEN_SECONDS = 3600
"""Expiring offline access tokens last one hour."""

REFRESH_TOKEN_SECONDS = 90 * 86400
"""How long a refresh token stays usable (the emulator's choice; Shopify's is long-lived too)."""

TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"

_REQUIRED = {
    None: ("client_id", "client_secret", "code"),
    TOKEN_EXCHANGE_GRANT: ("client_id", "client_secret", "subject_token"),
    "refresh_token": ("client_id", "client_secret", "refresh_token"),
}


class GrantRefused(Exception):
    """The token endpoint says no: `error` is the OAuth error code, `status` the HTTP status."""

    def __init__(self, error, description, status=400):
        """Keep the parts the response is built from."""
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


def accepts(shop, token, now):
    """Whether `token` is the shop's own token or a granted one that has not expired (epoch seconds)."""
    if shop.token is not None and hmac.compare_digest(token.encode(), shop.token.encode()):
        return True
    expires_at = shop.granted_tokens.get(token)
    return expires_at is not None and now < expires_at


def grant(shop, params, now, scopes, client_credentials=None):
    """The token response for `params` (the request's fields); GrantRefused when it is refused."""
    grant_type = params.get("grant_type") or None
    if grant_type not in _REQUIRED:
        raise GrantRefused("unsupported_grant_type", f"grant_type {grant_type!r} is not supported")
    missing = [name for name in _REQUIRED[grant_type] if not params.get(name)]
    if missing:
        raise GrantRefused("invalid_request", f"missing {', '.join(missing)}")
    if client_credentials is not None and (params["client_id"], params["client_secret"]) != tuple(client_credentials):
        raise GrantRefused("invalid_client", "client_id or client_secret is wrong", status=401)
    if grant_type == "refresh_token":
        expires_at = shop.refresh_tokens.pop(params["refresh_token"], None)
        if expires_at is None or now >= expires_at:
            raise GrantRefused("invalid_grant", "refresh token is invalid, expired or already used")
        return _expiring(shop, now, scopes)
    if str(params.get("expiring", "0")) == "1":
        return _expiring(shop, now, scopes)
    if shop.token is None:  # revoked by an uninstall: the reinstall gets a new one
        shop.token = "shpat_" + secrets.token_hex(16)
    return {"access_token": shop.token, "scope": scopes}


def _expiring(shop, now, scopes):
    """Mint an access token that expires, with a refresh token to renew it."""
    access = "shpat_" + secrets.token_hex(16)
    refresh = "shprt_" + secrets.token_hex(16)
    shop.granted_tokens[access] = now + ACCESS_TOKEN_SECONDS
    shop.refresh_tokens[refresh] = now + REFRESH_TOKEN_SECONDS
    return {
        "access_token": access,
        "scope": scopes,
        "expires_in": ACCESS_TOKEN_SECONDS,
        "refresh_token": refresh,
        "refresh_token_expires_in": REFRESH_TOKEN_SECONDS,
    }
