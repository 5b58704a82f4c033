"""Who is calling the admin API: the App Bridge session token in `Authorization: Bearer ...`.

The shop is the token's `dest` host and nothing else (never a parameter), so a merchant can only ever
reach their own shop's data; `sub` (the staff member) is recorded on what they change. In demo mode
(LOYALTY_DEMO=1, loyalty.demo) the app mints tokens for the demo shop, so the admin works with no Shopify
account.
"""
from __future__ import annotations

import functools
import logging
import uuid
from datetime import datetime, timezone

import jwt
from flask import Blueprint, current_app, g, jsonify, request

from integrations.shopify.session_token import InvalidSessionToken, verify_session_token
from loyalty.services.errors import UnknownShop
from loyalty.services.read.shops import installed_shop
from loyalty.services.unit_of_work import ReadOnlyUnitOfWork, UnitOfWork
from loyalty.demo import DEMO_SHOP
from loyalty.defaults import DEV_TOKEN_LIFETIME

log = logging.getLogger(__name__)


def ctx():
    """The loyalty.services.context.Context the app was built with."""
    return current_app.extensions["loyalty"]


def now() -> datetime:
    """The wall clock: requests are the edge where time enters."""
    return datetime.now(timezone.utc)


def unit_of_work() -> UnitOfWork:
    """A unit of work for the request's one use case, on the request's clock."""
    return UnitOfWork(ctx(), clock=now)


def reads() -> ReadOnlyUnitOfWork:
    """A read-only unit of work for the request's query."""
    return ReadOnlyUnitOfWork(ctx(), clock=now)


def error(status: int, message: str, field: str | None = None, **headers):
    """A JSON error body `{"error": ..., "field": ...}` with the status."""
    body = {"error": message}
    if field:
        body["field"] = field
    return jsonify(body), status, headers


def require_session(view):
    """Run the view only for a verified session token of an installed shop; sets g.shop and g.staff."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return error(401, "Authorization: Bearer <session token> is required")
        config = ctx().config
        try:
            verified = verify_session_token(token.strip(), config.api_key, config.api_secrets, now=now())
        except InvalidSessionToken as exc:
            log.warning("admin %s refused: %s", request.path, exc)
            # App Bridge fetches a fresh token and retries once when it sees this header.
            return error(401, f"invalid session token: {exc}", **{"X-Shopify-Retry-Invalid-Session-Request": "1"})
        try:
            g.shop = installed_shop(verified.shop, reads())
        except UnknownShop:
            return error(403, f"the app is not installed on {verified.shop}: open it from the shop's admin")
        g.staff = verified.sub
        return view(*args, **kwargs)
    return wrapped


dev_bp = Blueprint("admin_dev", __name__)
"""Registered in demo mode only (runtime.web)."""


def dev_tokens_enabled() -> bool:
    """Only demo mode (LOYALTY_DEMO=1 on the generated local set-up) mints its own session tokens."""
    return ctx().config.demo


def mint_dev_token(api_key: str, secret: str, shop: str, at: datetime, staff: str = "demo-staff") -> str:
    """A session token shaped like Shopify's, for `shop`, signed with the local secret."""
    stamp = int(at.timestamp())
    return jwt.encode({
        "iss": f"https://{shop}/admin", "dest": f"https://{shop}", "aud": api_key, "sub": staff,
        "exp": stamp + int(DEV_TOKEN_LIFETIME.total_seconds()), "nbf": stamp - 1, "iat": stamp - 1,
        "jti": str(uuid.uuid4()), "sid": "local-dev-session",
    }, secret, algorithm="HS256")


@dev_bp.get("/admin/dev/session-token")
def dev_session_token():
    """Demo mode's stand-in for App Bridge's `shopify.idToken()`: a token for the demo shop, and only for it
    (whatever is asked); 404 outside demo mode."""
    if not dev_tokens_enabled():  # the blueprint is registered in demo mode only; this is the second lock
        return error(404, "not found")
    config = ctx().config
    return jsonify(token=mint_dev_token(config.api_key, config.api_secrets[0], DEMO_SHOP, now()), shop=DEMO_SHOP)


def api_blueprint(name: str, import_name: str, url_prefix: str = "/admin/api") -> Blueprint:
    """A blueprint of the admin JSON API: its routes use @require_session; bad input (admin.params.BadInput)
    answers 400 naming the field. runtime/web.py registers it and rate-limits its refusals."""
    from admin.params import BadInput

    bp = Blueprint(name, import_name, url_prefix=url_prefix)

    @bp.errorhandler(BadInput)
    def bad_input(exc: BadInput):
        return error(400, str(exc), field=exc.field)

    return bp
