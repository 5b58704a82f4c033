"""Shopify session tokens: the HS256 JWTs that Shopify's surfaces send as `Authorization: Bearer ...`.

One verifier, two kinds of token (the claims differ, the checks are shared):

    ADMIN    App Bridge in the embedded admin, and POS UI extensions: `iss` https://{shop}/admin,
             `dest` https://{shop}, `sub` the staff member (required)
    SHOPPER  customer-account and checkout UI extensions: `dest` the shop ({shop}, or https://{shop}),
             no `iss` needed (one that is present must name the same shop), `sub`
             gid://shopify/Customer/{id} only when the customer is logged in (absent otherwise)

Both: signed with the app secret (the previous one too, while Shopify rotates), `aud` = the API key, `exp`
and `nbf` checked against the injected clock with a few seconds' leeway.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlsplit

import jwt

from loyalty.domain.shops import valid_shop_domain
from integrations.shopify.errors import InvalidSessionToken

ADMIN, SHOPPER = "admin", "shopper"
REQUIRED_CLAIMS = {ADMIN: ("iss", "dest", "aud", "exp", "nbf", "sub"), SHOPPER: ("dest", "aud", "exp", "nbf")}
CUSTOMER_GID = re.compile(r"gid://shopify/Customer/([0-9]{1,19})")


@dataclass(frozen=True)
class SessionToken:
    """A verified session token: which shop, whose (`sub`: a staff member, or a customer's gid), which admin
    session (`sid`); `customer_id` is the logged-in customer's id for a shopper's token (None: anonymous)."""

    shop: str
    sub: str | None
    sid: str | None
    claims: dict
    customer_id: int | None = None


def _shop_of(url, claim: str, path: str) -> str:
    """The shop domain in an `https://{shop}{path}` claim, or InvalidSessionToken."""
    parts = urlsplit(url if isinstance(url, str) else "")
    if parts.scheme != "https" or parts.path.rstrip("/") != path or not valid_shop_domain(parts.netloc):
        raise InvalidSessionToken(f"{claim} {url!r} is not https://<shop>.myshopify.com{path}")
    return parts.netloc


def _dest_shop(dest) -> str:
    """A shopper token's `dest`: Shopify documents the bare domain; the admin's https:// form is taken too."""
    if isinstance(dest, str) and valid_shop_domain(dest):
        return dest
    return _shop_of(dest, "dest", "")


def _decode(token: str, api_key: str, secrets: tuple[str, ...], required: tuple[str, ...]) -> dict:
    """The claims once the signature matches one of the secrets and `aud` is this app."""
    options = {
        "require": list(required),
        # Times are checked below against the injected clock; PyJWT would read the wall clock.
        "verify_exp": False, "verify_nbf": False, "verify_iat": False,
    }
    for secret in secrets:  # the previous secret keeps working while Shopify rotates to the new one
        try:
            return jwt.decode(token, secret, algorithms=["HS256"], audience=api_key, options=options)
        except jwt.InvalidSignatureError:
            continue
        except jwt.InvalidAudienceError:
            raise InvalidSessionToken("aud is not this app's API key") from None
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidSessionToken(f"claim {exc.claim!r} is missing") from None
        except jwt.InvalidAlgorithmError:
            raise InvalidSessionToken("algorithm is not HS256") from None
        except jwt.InvalidTokenError as exc:
            raise InvalidSessionToken(f"not a valid session token: {exc}") from None
    raise InvalidSessionToken("signature does not match the app secret")


def _check_times(claims: dict, now: datetime | None, leeway: float) -> None:
    """`exp` and `nbf` against the injected clock, `leeway` seconds either way."""
    instant = (now or datetime.now(timezone.utc)).timestamp()
    try:
        expires, not_before = float(claims["exp"]), float(claims["nbf"])
    except (TypeError, ValueError):
        raise InvalidSessionToken("exp and nbf must be numbers") from None
    if instant > expires + leeway:
        raise InvalidSessionToken("expired")
    if instant + leeway < not_before:
        raise InvalidSessionToken("not valid yet (nbf is in the future)")


def _admin(claims: dict) -> SessionToken:
    """An admin (or POS) token: issued by and for the same shop, for a staff member."""
    issuer_shop = _shop_of(claims["iss"], "iss", "/admin")
    shop = _shop_of(claims["dest"], "dest", "")
    if issuer_shop != shop:
        raise InvalidSessionToken(f"iss names {issuer_shop} but dest names {shop}")
    if not isinstance(claims["sub"], str) or not claims["sub"]:
        raise InvalidSessionToken("sub is empty")
    return SessionToken(shop=shop, sub=claims["sub"], sid=claims.get("sid"), claims=claims)


def _shopper(claims: dict) -> SessionToken:
    """A customer-account or checkout token: for one shop, and for a customer when `sub` is there."""
    shop = _dest_shop(claims["dest"])
    if "iss" in claims and _shop_of(claims["iss"], "iss", "/admin") != shop:
        raise InvalidSessionToken(f"iss names another shop than dest ({shop})")
    sub = claims.get("sub")
    customer_id = None
    if sub is not None:
        match = CUSTOMER_GID.fullmatch(sub) if isinstance(sub, str) else None
        if match is None:
            raise InvalidSessionToken(f"sub {sub!r} is not gid://shopify/Customer/<id>")
        customer_id = int(match.group(1))
    return SessionToken(shop=shop, sub=sub, sid=claims.get("sid"), claims=claims, customer_id=customer_id)


def verify_session_token(token: str, api_key: str, secrets: tuple[str, ...] | str,
                         now: datetime | None = None, leeway: float = 5, kind: str = ADMIN) -> SessionToken:
    """Check a session token of `kind` (signature, audience, lifetime, then the kind's claims: the shop,
    whose it is) and say whose it is.

    `leeway` seconds absorb clock skew between Shopify and this server in both directions."""
    if not token:
        raise InvalidSessionToken("no session token")
    if not api_key:
        raise InvalidSessionToken("SHOPIFY_API_KEY is not set: no token can be for this app")
    secrets = (secrets,) if isinstance(secrets, str) else tuple(secrets)
    if not secrets:
        raise InvalidSessionToken("SHOPIFY_API_SECRET is not set: no token can be verified")
    claims = _decode(token, api_key, secrets, REQUIRED_CLAIMS[kind])
    _check_times(claims, now, leeway)
    return _admin(claims) if kind == ADMIN else _shopper(claims)
