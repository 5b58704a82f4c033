"""The ingest benchmark's two baselines, which the production app (wsgi.py) does not serve; tools/bench/wsgi.py
adds them to it for `gunicorn tools.bench.wsgi:app` (tools.bench.stack):

- `/bare`: answered 200 with nothing done, at the very layer that answers POST /webhooks (in front of
  webhooks.views.FastPath, before Flask): what the same requests cost in HTTP and gunicorn alone;
- `/bare/flask`: an empty Flask route: what any routed request costs.
"""
from __future__ import annotations

from flask import Flask

from webhooks.intake import OUTCOME_HEADER

BARE_HEADERS = [("Content-Length", "0"), (OUTCOME_HEADER, "bare")]


class Bare:
    """WSGI middleware answering /bare at once; everything else goes to the app's own WSGI stack."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == "/bare":
            start_response("200 OK", BARE_HEADERS)
            return [b""]
        return self.wsgi_app(environ, start_response)


def with_baselines(app: Flask) -> Flask:
    """The app serving /bare and /bare/flask too."""
    app.add_url_rule("/bare/flask", "bare_flask", lambda: ("", 200), methods=["GET", "POST"])
    app.wsgi_app = Bare(app.wsgi_app)
    return app
