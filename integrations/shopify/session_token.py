"""App Bridge session tokens: the HS256 JWT the embedded admin sends as `Authorization: Bearer ...`."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlsplit

import jwt

from loyalty.domain.shops import valid_shop_domain
from integrations.shopify.errors import InvalidSessionToken

REQUIRED_CLAIMS = ("iss", "dest", "aud", "exp", "nbf", "sub")


@dataclass(frozen=True)
class SessionToken:
    """A verified session token: which shop, which staff member (`sub`), which admin session (`sid`)."""

    shop: str
    sub: str
    sid: str | None
    claims: dict


def _shop_of(url, claim: str, path: str) -> str:
    """The shop domain in an `https://{shop}{path}` claim, or InvalidSessionToken."""
    parts = urlsplit(url if isinstance(url, str) else "")
    if parts.scheme != "https" or parts.path.rstrip("/") != path or not valid_shop_domain(parts.netloc):
        raise InvalidSessionToken(f"{claim} {url!r} is not https://<shop>.myshopify.com{path}")
    return parts.netloc


def _decode(token: str, api_key: str, secrets: tuple[str, ...]) -> dict:
    """The claims once the signature matches one of the secrets and `aud` is this app."""
    options = {
        "require": list(REQUIRED_CLAIMS),
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


def verify_session_token(token: str, api_key: str, secrets: tuple[str, ...] | str,
                         now: datetime | None = None, leeway: float = 5) -> SessionToken:
    """Check a session token (signature, audience, lifetime, issuer and destination) and say whose it is.

    `leeway` seconds absorb clock skew between Shopify and this server in both directions."""
    if not token:
        raise InvalidSessionToken("no session token")
    if not api_key:
        raise InvalidSessionToken("SHOPIFY_API_KEY is not set: no token can be for this app")
    secrets = (secrets,) if isinstance(secrets, str) else tuple(secrets)
    if not secrets:
        raise InvalidSessionToken("SHOPIFY_API_SECRET is not set: no token can be verified")
    claims = _decode(token, api_key, secrets)
    instant = (now or datetime.now(timezone.utc)).timestamp()
    try:
        expires, not_before = float(claims["exp"]), float(claims["nbf"])
    except (TypeError, ValueError):
        raise InvalidSessionToken("exp and nbf must be numbers") from None
    if instant > expires + leeway:
        raise InvalidSessionToken("expired")
    if instant + leeway < not_before:
        raise InvalidSessionToken("not valid yet (nbf is in the future)")
    issuer_shop = _shop_of(claims["iss"], "iss", "/admin")
    shop = _shop_of(claims["dest"], "dest", "")
    if issuer_shop != shop:
        raise InvalidSessionToken(f"iss names {issuer_shop} but dest names {shop}")
    if not isinstance(claims["sub"], str) or not claims["sub"]:
        raise InvalidSessionToken("sub is empty")
    return SessionToken(shop=shop, sub=claims["sub"], sid=claims.get("sid"), claims=claims)
