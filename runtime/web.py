"""The Flask application factory."""
from __future__ import annotations

import logging

from flask import Flask, jsonify
from sqlalchemy import text

from db.engine import reading
from db.migrate import check_at_head
from runtime.context import Context, get_context


def create_app(context: Context | None = None, *, check_migrations: bool = True) -> Flask:
    """Build the web app; refuses to start on a database that is not migrated."""
    ctx = context or get_context("web")
    if not ctx.config.api_secrets:
        raise RuntimeError("SHOPIFY_API_SECRET is not set: webhooks cannot be verified")
    if check_migrations:
        check_at_head(ctx.engine)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app = Flask(__name__)
    app.extensions["loyalty"] = ctx
    # Every body is at most the webhook limit: BodyDeadline reads no more (the webhook view answers its own
    # 413 by the declared length, before Flask would).
    app.config["MAX_CONTENT_LENGTH"] = ctx.config.webhook_max_bytes

    from webhooks.views import FastPath, bp as webhooks_bp
    app.register_blueprint(webhooks_bp)
    from admin.auth import bp as auth_bp; app.register_blueprint(auth_bp)
    from storefront.proxy import bp as storefront_bp
    app.register_blueprint(storefront_bp)
    from admin import dev_mail
    if dev_mail.enabled(ctx.config):
        app.register_blueprint(dev_mail.bp)
    from admin import api, pages, session
    for blueprint in (api.bp, pages.bp, session.dev_bp):
        app.register_blueprint(blueprint)

    @app.get("/healthz")
    def health():
        """Liveness and readiness: the database and Redis answer."""
        checks = {}
        try:
            with reading(ctx.engine) as conn:
                conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["database"] = f"error: {type(exc).__name__}"
        try:
            ctx.redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["redis"] = f"error: {type(exc).__name__}"
        ok = all(v == "ok" for v in checks.values())
        return jsonify(status="ok" if ok else "degraded", **checks), 200 if ok else 503

    from runtime.rate_limits import install_rate_limits
    install_rate_limits(app, ctx)

    @app.route("/bare/flask", methods=["GET", "POST"])
    def bare():
        """An empty Flask route: context for the ingest benchmark (what any routed request costs)."""
        return "", 200

    app.wsgi_app = FastPath(app, app.wsgi_app)  # POST /webhooks without Flask's per-request machinery
    from runtime.body_deadline import BodyDeadline
    # Outermost: no layer reads a body except within the deadline.
    app.wsgi_app = BodyDeadline(app.wsgi_app, ctx.config.body_timeout_seconds, ctx.config.webhook_max_bytes)
    return app
