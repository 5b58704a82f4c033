"""The Flask application factory."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from sqlalchemy import text
from werkzeug.routing import IntegerConverter

from admin import (
    api, audit_api, dev_mail, emails_api, home_api, pages, resources_api, session, shop_api, support_api,
)
from admin.auth import bp as auth_bp
from db.engine import reading
from db.migrate import check_at_head
from extensions_api.views import bp as extensions_bp
from loyalty import demo
from loyalty.domain.numbers import MAX_ROW_ID
from loyalty.services.context import Context, get_context
from loyalty.services.failures import count_failures
from runtime.body_deadline import BodyDeadline
from runtime.rate_limits import install_rate_limits
from storefront.dev_proxy import DevProxy
from storefront.proxy import bp as storefront_bp
from storefront.unsubscribe import bp as unsubscribe_bp
from webhooks.flow_actions import bp as flow_actions_bp
from webhooks.views import WRITER_KEY, FastPath, bp as webhooks_bp


def create_app(context: Context | None = None, *, check_migrations: bool = True) -> Flask:
    """Build the web app; refuses to start on a database that is not migrated, and in demo mode beside a
    real configuration (loyalty.demo.check)."""
    ctx = context or get_context("web")
    if not ctx.config.api_secrets:
        raise RuntimeError("SHOPIFY_API_SECRET is not set: webhooks cannot be verified")
    demo.check(ctx.config)
    if check_migrations:
        check_at_head(ctx.engine)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app = Flask(__name__)
    app.extensions["loyalty"] = ctx
    # Every body is at most the webhook limit: BodyDeadline reads no more (the webhook view answers its own
    # 413 by the declared length, before Flask would).
    app.config["MAX_CONTENT_LENGTH"] = ctx.config.webhook_max_bytes
    app.url_map.converters["int"] = RowId  # before any route is added
    app.before_request(refuse_nul)

    app.register_blueprint(webhooks_bp)
    app.register_blueprint(flow_actions_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(storefront_bp)
    app.register_blueprint(extensions_bp)
    app.register_blueprint(unsubscribe_bp)
    for blueprint in (api.bp, emails_api.bp, shop_api.bp, home_api.bp, support_api.bp, audit_api.bp,
                      resources_api.bp, pages.bp):
        app.register_blueprint(blueprint)
    if ctx.config.demo:  # never inferred: LOYALTY_DEMO=1, checked above (loyalty.demo)
        app.register_blueprint(session.dev_bp)
        if dev_mail.enabled(ctx.config):
            app.register_blueprint(dev_mail.bp)

    @app.get("/healthz")
    def health():
        """Liveness and readiness: the database and Redis answer (503 when either does not: only then may a
        load balancer take the web out). Background failures (loyalty.services.failures) make it `degraded`, still
        200, with a count per kind: no shop, customer or reason, since this is unauthenticated."""
        checks, failures = {}, {}
        try:
            with reading(ctx.engine) as conn:
                conn.execute(text("SELECT 1"))
                checks["database"] = "ok"
                failures = count_failures(conn)
        except Exception as exc:  # noqa: BLE001
            checks.setdefault("database", f"error: {type(exc).__name__}")
            if checks["database"] == "ok":  # the database answers, the counting failed: say so, stay up
                failures = {"unknown": 1}
        try:
            ctx.redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["redis"] = f"error: {type(exc).__name__}"
        if not all(v == "ok" for v in checks.values()):
            return jsonify(status="unavailable", **checks), 503
        if failures:
            return jsonify(status="degraded", **checks, failures=failures), 200
        return jsonify(status="ok", **checks), 200

    install_rate_limits(app, ctx)

    if ctx.config.inbox_socket:  # optional: without a writer, no process of the web loads its code
        from webhooks.writer.client import deliverer
        app.extensions[WRITER_KEY] = deliverer(ctx.config.inbox_socket)
    app.wsgi_app = FastPath(app, app.wsgi_app)  # POST /webhooks without Flask's per-request machinery
    if ctx.config.demo:  # the shop's /apps/loyalty/* on this host, signed as Shopify's proxy would (demo only)
        app.wsgi_app = DevProxy(app.wsgi_app, ctx.config.api_secrets[0])
    # Outermost: no layer reads a body except within the deadline.
    app.wsgi_app = BodyDeadline(app.wsgi_app, ctx.config.body_timeout_seconds, ctx.config.webhook_max_bytes)
    return app


class RowId(IntegerConverter):
    """Every `<int:...>` of the app's routes is one of its row ids: ASCII digits up to MAX_ROW_ID, else the
    route does not match (404). Werkzeug's own takes any Unicode digit and any size, which the database
    then refused (a 500)."""

    regex = r"[0-9]+"

    def __init__(self, map, **options):
        options.setdefault("max", MAX_ROW_ID)
        super().__init__(map, **options)


def refuse_nul():
    """400 for a NUL character in the path, the query or a form (the webhook endpoint reads its raw body
    itself): PostgreSQL text cannot hold one, and deep in a query it was a 500."""
    form = request.form.items(multi=True) if request.path != "/webhooks" else ()
    pairs = [("", request.path), *request.args.items(multi=True), *form]
    if any("\x00" in key or "\x00" in value for key, value in pairs):
        return jsonify(error="a NUL character is not allowed in the path, the query or a form"), 400
    return None
