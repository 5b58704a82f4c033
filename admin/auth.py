"""Install and auth: the OAuth authorization code flow (`/auth/install` -> Shopify -> `/auth/callback`) and
`/auth/session`, where the embedded admin trades an App Bridge session token for an offline token
(token exchange, for managed installation). Views translate and delegate; nothing is stored on bad input."""
from __future__ import annotations

import logging
import os
from datetime import datetime, timezone

from flask import Blueprint, current_app, jsonify, redirect, request
from admin import install_state
from admin.install_state import NONCE_COOKIE, STATE_LIFETIME
from integrations.shopify import oauth
from integrations.shopify.session_token import InvalidSessionToken, verify_session_token
from loyalty.domain.requests import UseInstallNonce
from loyalty.domain.shops import valid_shop_domain
from loyalty.services.shop_identity import learn_shop_id
from loyalty.services.tokens import install_by_token_exchange, install_with_grant
from loyalty.services.unit_of_work import UnitOfWork
from loyalty.services.use_cases.shops import use_install_nonce
from loyalty.services.wakeups import queue_history_import

log = logging.getLogger(__name__)
bp = Blueprint("auth", __name__)

DEFAULT_SCOPES = ("read_orders,read_all_orders,read_customers,write_customers,write_discounts,write_gift_cards,"
                  "read_locales")
"""What the app asks for when SHOPIFY_SCOPES is not set (the same list as shopify.app.toml); read_locales: the
shop's primary locale (`shopLocales`), the admin's language when the staff member's is not known."""

def _ctx():
    """The loyalty.services.context.Context the app was built with."""
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
    """Start the authorization code flow: send the merchant to Shopify with a signed state, its nonce in a
    cookie of this browser. Nothing is stored: a flood of installs costs no database write."""
    shop = request.args.get("shop", "")
    if not valid_shop_domain(shop):
        return _refuse(400, "shop must be a name.myshopify.com domain")
    ctx = _ctx()
    issued = install_state.issue(ctx.config.api_secrets[0], shop, _now())
    scopes = os.environ.get("SHOPIFY_SCOPES") or DEFAULT_SCOPES
    redirect_uri = _redirect_uri()
    response = redirect(oauth.authorize_url(shop, ctx.config.api_key, scopes, redirect_uri, issued.state))
    # Lax: the cookie comes back with Shopify's top-level redirect to the callback, not with a cross-site POST.
    response.set_cookie(NONCE_COOKIE, issued.nonce, max_age=int(STATE_LIFETIME.total_seconds()),
                        path="/auth/callback", httponly=True, samesite="Lax",
                        secure=redirect_uri.startswith("https://"))
    return response


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
    try:
        nonce, expires = install_state.verify(ctx.config.api_secrets, params.get("state"), shop,
                                              request.cookies.get(NONCE_COOKIE), now)
    except install_state.BadState as exc:
        return _refuse(403, f"state refused ({exc}): install again")
    # Shopify's HMAC has authenticated this request, so only Shopify's redirects reach this write.
    if not use_install_nonce(UseInstallNonce(nonce, shop, expires), UnitOfWork(ctx, clock=lambda: now)):
        return _refuse(403, "state already used: install again")
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
    learn_shop_id(ctx, shop)  # best effort: see loyalty.services.shop_identity
    queue_history_import(ctx, shop)
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
            learn_shop_id(ctx, verified.shop)
            queue_history_import(ctx, verified.shop)
    except oauth.OAuthError as exc:
        log.error("token exchange for %s failed: %s", verified.shop, exc)
        return _refuse(502, "Shopify refused the token exchange")
    return jsonify(shop=verified.shop)
