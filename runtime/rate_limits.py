"""Per-client rate limits on what anyone can call without credentials, so no cheap request can be sent
fast enough to starve the webhooks (Flask-Limiter, counting in Redis).

    /auth/install, /auth/callback   every request counts        LOYALTY_RATE_LIMIT_AUTH
    /admin pages (and static), /healthz  every request counts   LOYALTY_RATE_LIMIT_PAGES
    /admin/api, /proxy, /extensions, /auth/session, /flow/actions, /emails/unsubscribe
                                    only requests refused 401       LOYALTY_RATE_LIMIT_REFUSED
                                    (no or bad session token, bad app-proxy, Flow or unsubscribe signature);
                                    past the limit the client gets 429 there until the window has passed

POST /webhooks is never limited: Shopify sends from many addresses, and the HMAC is the gate (the FastPath
answers it before Flask, so these limits never see it). Past a limit the answer is 429 with Retry-After.

The client is the socket's peer address, unless LOYALTY_TRUSTED_PROXIES says how many proxies in front of
the app append to X-Forwarded-For (werkzeug's ProxyFix takes the address that many hops back): trusting
the header without a proxy that sets it would let any client pick its own address.

Counts live in Redis, shared by every web process, through the app's fail-fast client. When Redis is
down the limits are kept in each process's memory instead (Flask-Limiter's fallback), and any error of
the limiter itself lets the request through (logged): a broken limiter never refuses the app's users.
"""
from __future__ import annotations

from flask import Flask, jsonify, request
from flask_limiter import Limiter, RateLimitExceeded
from werkzeug.middleware.proxy_fix import ProxyFix

from loyalty.services.context import Context

REFUSED = (401,)
"""The statuses counted by LOYALTY_RATE_LIMIT_REFUSED: a request that did not authenticate."""


def client_address() -> str:
    """The limits' key: the client's address (after ProxyFix, when proxies are trusted)."""
    return request.remote_addr or "unknown"


def _refused(response) -> bool:
    return response.status_code in REFUSED


ADMIN_API_BLUEPRINTS = ("admin_api", "admin_emails", "admin_shop", "admin_home", "admin_support", "admin_audit",
                        "admin_resources")
"""The admin JSON API's blueprints (runtime/web.py registers them): refusals rate-limited like the rest."""


def install_rate_limits(app: Flask, ctx: Context) -> Limiter:
    """Limit the unauthenticated endpoints of `app` (call once its blueprints are registered)."""
    config = ctx.config
    if config.trusted_proxies:
        # Inside the FastPath (added later, outermost): webhooks do not pay for it.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=config.trusted_proxies)
    limiter = Limiter(
        client_address, app=app, key_prefix="loyalty:limits",
        storage_uri="redis://", storage_options={"connection_pool": ctx.redis.connection_pool},
        strategy="moving-window", headers_enabled=True, retry_after="delta-seconds",
        in_memory_fallback_enabled=True, swallow_errors=True,
    )
    every = limiter.limit(lambda: config.rate_limit_auth)
    for endpoint in ("auth.install", "auth.callback"):
        app.view_functions[endpoint] = every(app.view_functions[endpoint])
    limiter.limit(lambda: config.rate_limit_pages)(app.blueprints["admin_pages"])
    app.view_functions["health"] = limiter.limit(lambda: config.rate_limit_pages)(app.view_functions["health"])
    refused = limiter.limit(lambda: config.rate_limit_refused, deduct_when=_refused)
    for blueprint in ADMIN_API_BLUEPRINTS + ("storefront", "extensions", "flow_actions", "unsubscribe"):
        refused(app.blueprints[blueprint])
    app.view_functions["auth.session"] = refused(app.view_functions["auth.session"])

    @app.errorhandler(RateLimitExceeded)
    def too_many(exc: RateLimitExceeded):
        """A clear JSON 429; Flask-Limiter adds Retry-After (seconds) and the X-RateLimit headers."""
        return jsonify(error=f"too many requests from this address ({exc.description}): retry later"), 429

    return limiter
