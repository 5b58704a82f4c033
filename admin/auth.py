"""Install and auth: the OAuth authorization code flow (`/auth/install` -> Shopify -> `/auth/callback`) and
`/auth/session`, where the embedded admin trades an App Bridge session token for an offline token
(token exchange, for managed installation). Views translate and delegate; nothing is stored on bad input."""
from __future__ import annotations

import logging
import os
import secrets
from datetime import datetime, timedelta, timezone

from flask import Blueprint, current_app, jsonify, redirect, request
from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection

from db.tables import oauth_states
from integrations.shopify import oauth
from integrations.shopify.session_token import InvalidSessionToken, verify_session_token
from loyalty.shops import valid_shop_domain
from loyalty.tokens import install_by_token_exchange, install_with_grant

log = logging.getLogger(__name__)
bp = Blueprint("auth", __name__)

DEFAULT_SCOPES = "read_orders,read_all_orders,read_customers,write_customers,write_discounts,write_gift_cards"
"""What the app asks for when SHOPIFY_SCOPES is not set (the same list as shopify.app.toml)."""

STATE_LIFETIME = timedelta(minutes=10)
"""An OAuth `state` nonce older than this is refused: the install has to start again."""


def _ctx():
    """The runtime.context.Context the app was built with."""
    return current_app.extensions["loyalty"]


def _now() -> datetime:
    """The wall clock: views are the edge where time enters."""
    return datetime.now(timezone.utc)


def _refuse(status: int, message: str, **headers):
    """A clear JSON error, logged with the shop it was about."""
    log.warning("auth %s %s for %r: %s", request.path, status, request.args.get("shop", "-"), message)
    return jsonify(error=message), status, headers


def _redirect_uri() -> str:
    """SHOPIFY_APP_URL + /auth/callback; without it (local runs) the URL this request came in on."""
    base = os.environ.get("SHOPIFY_APP_URL") or request.url_root
    return base.rstrip("/") + "/auth/callback"


@bp.get("/auth/install")
def install():
    """Start the authorization code flow: remember a single-use state, send the merchant to Shopify."""
    shop = request.args.get("shop", "")
    if not valid_shop_domain(shop):
        return _refuse(400, "shop must be a name.myshopify.com domain")
    ctx = _ctx()
    with ctx.engine.begin() as conn:
        state = issue_oauth_state(conn, shop, _now())
    scopes = os.environ.get("SHOPIFY_SCOPES") or DEFAULT_SCOPES
    return redirect(oauth.authorize_url(shop, ctx.config.api_key, scopes, _redirect_uri(), state))


@bp.get("/auth/callback")
def callback():
    """Shopify sends the merchant back here: check shop, hmac and state, trade the code for a token,
    install the shop, and open the app inside the shop's admin."""
    ctx = _ctx()
    if any(len(values) > 1 for values in request.args.listvalues()):
        return _refuse(400, "a query parameter is repeated")  # the hmac would cover only one of them
    params = request.args.to_dict()
    shop = params.get("shop", "")
    if not valid_shop_domain(shop):
        return _refuse(400, "shop must be a name.myshopify.com domain")
    if not oauth.verify_query_hmac(params, ctx.config.api_secrets):
        return _refuse(403, "hmac does not match: this request did not come from Shopify")
    now = _now()
    with ctx.engine.begin() as conn:
        state_ok = consume_oauth_state(conn, params.get("state", ""), shop, now)
    if not state_ok:
        return _refuse(403, "state is unknown, expired, already used or for another shop: install again")
    if not params.get("code"):
        return _refuse(400, "code is missing")
    try:
        grant = oauth.exchange_code(shop, params["code"], ctx.config.api_key, ctx.config.api_secrets[0],
                                    admin_url_template=ctx.config.admin_url_template)
    except oauth.OAuthError as exc:
        log.error("code exchange for %s failed: %s", shop, exc)
        return _refuse(502, "Shopify refused the authorization code: install again")
    install_with_grant(ctx, shop, grant, now=now)
    log.info("installed %s (scopes %s)", shop, grant.scope)
    _learn_shop_id(ctx, shop)
    _queue_history_import(ctx, shop)
    return redirect(f"https://{shop}/admin/apps/{ctx.config.api_key}")


@bp.post("/auth/session")
def session():
    """Verify the App Bridge session token; when the shop has no usable offline token, get one by token
    exchange and store it (this installs the shop under managed installation). Answers {shop}."""
    ctx = _ctx()
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return _refuse(401, "Authorization: Bearer <session token> is required")
    try:
        verified = verify_session_token(token, ctx.config.api_key, ctx.config.api_secrets)
    except InvalidSessionToken as exc:
        # This header tells App Bridge to fetch a fresh session token and retry once.
        return _refuse(401, f"invalid session token: {exc}",
                       **{"X-Shopify-Retry-Invalid-Session-Request": "1"})
    try:
        if install_by_token_exchange(ctx, verified.shop, token, now=_now()):
            log.info("token exchange stored a token for %s", verified.shop)
            _learn_shop_id(ctx, verified.shop)
            _queue_history_import(ctx, verified.shop)
    except oauth.OAuthError as exc:
        log.error("token exchange for %s failed: %s", verified.shop, exc)
        return _refuse(502, "Shopify refused the token exchange")
    return jsonify(shop=verified.shop)


def _learn_shop_id(ctx, domain: str) -> None:
    """Read and store Shopify's id of the shop just installed (best effort: see jobs.shop_identity)."""
    from jobs.shop_identity import learn_shop_id

    learn_shop_id(ctx, domain)


def _queue_history_import(ctx, domain: str) -> None:
    """Queue the import of the shop's past orders (imported here, so the web process boots without the jobs)."""
    from jobs.history import queue_history_import

    queue_history_import(ctx, domain)


def issue_oauth_state(conn: Connection, domain: str, now: datetime) -> str:
    """A new single-use `state` nonce for an install of `domain`."""
    nonce = secrets.token_urlsafe(32)
    conn.execute(insert(oauth_states).values(nonce=nonce, shop_domain=domain, created_at=now))
    # Abandoned installs leave their nonce behind; sweep the stale ones while we are here.
    conn.execute(delete(oauth_states).where(oauth_states.c.created_at < now - STATE_LIFETIME))
    return nonce


def consume_oauth_state(conn: Connection, nonce: str, domain: str, now: datetime) -> bool:
    """True once for a nonce issued for `domain` less than STATE_LIFETIME ago; used up either way. The
    DELETE's row count decides, so two callbacks racing with one nonce cannot both succeed."""
    if not nonce:
        return False
    row = conn.execute(select(oauth_states.c.shop_domain, oauth_states.c.created_at)
                       .where(oauth_states.c.nonce == nonce)).first()
    used = conn.execute(delete(oauth_states).where(oauth_states.c.nonce == nonce)).rowcount
    if used != 1 or row is None or row.shop_domain != domain:
        return False
    created = row.created_at
    if created.tzinfo is None:  # SQLite hands back naive datetimes; they are UTC
        created = created.replace(tzinfo=timezone.utc)
    return now - created <= STATE_LIFETIME
