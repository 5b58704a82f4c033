"""The Flask application factory."""
from __future__ import annotations

import logging

from flask import Flask, jsonify
from sqlalchemy import text

from db.engine import reading
from db.migrate import check_at_head
from loyalty.failures import count_failures
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
    app.config["MAX_CONTENT_LENGTH"] = None  # the webhook view enforces its own limit with a clear 413

    from webhooks.views import FastPath, bp as webhooks_bp
    app.register_blueprint(webhooks_bp)
    app.wsgi_app = FastPath(app, app.wsgi_app)  # POST /webhooks without Flask's per-request machinery
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
        """Liveness and readiness: the database and Redis answer (503 when either does not: only then may a
        load balancer take the web out). Background failures (loyalty.failures) make it `degraded`, still
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

    @app.route("/bare/flask", methods=["GET", "POST"])
    def bare():
        """An empty Flask route: context for the ingest benchmark (what any routed request costs)."""
        return "", 200

    return app
