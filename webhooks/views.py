"""POST /webhooks: one endpoint for every topic (Shopify names it in X-Shopify-Topic).

The endpoint is the busiest of the app, so it is served by `FastPath`, a thin WSGI layer in front of Flask
(no routing, request object or response object per webhook); the Flask route below runs the very same
checks for anything that reaches Flask without it. Either way: size limit, HMAC on the raw body, the
headers, the topic, JSON validity, the shop directory, then the inbox commit and the worker's wake-up.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from typing import Callable

from flask import Blueprint, current_app, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wsgi import get_input_stream

from webhooks import inbox, signature

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__)

PRIVACY_TOPICS = frozenset({"customers/data_request", "customers/redact", "shop/redact"})
"""Mandatory compliance topics: recorded even for an uninstalled shop (shop/redact comes 48 h after)."""
HANDLED_TOPICS = frozenset({
    "orders/paid", "orders/cancelled", "refunds/create", "customers/create", "customers/update",
    "app/uninstalled",
}) | PRIVACY_TOPICS
DIRECTORY_KEY = "loyalty_shops"
"""Where the app keeps its ShopDirectory (app.extensions)."""


def receive_webhook(ctx, directory: inbox.ShopDirectory, header: Callable[[str], str | None],
                    content_length: int | None, read: Callable[[int], bytes]) -> tuple[int, dict, dict]:
    """Verify the HMAC on the raw body, then record the delivery; the work happens later.
    Returns (status, JSON answer, extra headers). `header(name)` reads a request header."""
    limit = ctx.config.webhook_max_bytes
    if (content_length or 0) > limit:
        return _answer(header, 413, "body too large")
    body = read(limit + 1)
    if len(body) > limit:
        return _answer(header, 413, "body too large")
    if not signature.verify(ctx.config.api_secrets, body, header("X-Shopify-Hmac-Sha256")):
        return _answer(header, 401, "invalid signature")
    topic = header("X-Shopify-Topic") or ""
    shop_domain = header("X-Shopify-Shop-Domain") or ""
    webhook_id = header("X-Shopify-Webhook-Id") or ""
    if not webhook_id or not shop_domain or not topic:
        return _answer(header, 400, "missing X-Shopify-Topic, X-Shopify-Shop-Domain or X-Shopify-Webhook-Id")
    if topic not in HANDLED_TOPICS:
        return _answer(header, 200, "ignored: topic not handled", topic=topic)
    try:
        json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser's stack
        return _answer(header, 400, "body is not JSON")
    try:
        status = directory.status(ctx, shop_domain)
        if status == "uninstalled" and topic not in PRIVACY_TOPICS:
            return _answer(header, 200, "ignored: shop uninstalled")
        if status == "unknown":
            if topic in PRIVACY_TOPICS or topic == "app/uninstalled":
                return _answer(header, 200, "ignored: nothing stored for this shop")
            return _answer(header, 404, "unknown shop")
        now = datetime.now(timezone.utc)
        recorded = inbox.record(ctx, webhook_id=webhook_id[:255], shop_domain=shop_domain, topic=topic,
                                body=body, now=now)
        if topic == "app/uninstalled":
            inbox.stop_shop(ctx, directory, shop_domain, now)  # at once, not when a worker gets to it
    except SQLAlchemyError as exc:
        log.error("database unavailable at ingest: %s", exc.__class__.__name__)
        status_, answer, _ = _answer(header, 503, "database unavailable, retry later")
        return status_, answer, {"Retry-After": "5"}
    if recorded is None:
        return _answer(header, 200, "duplicate")
    inbox.wake_worker(ctx, committed_by=recorded)
    return _answer(header, 200, "recorded")


def _answer(header, status: int, message: str, **fields) -> tuple[int, dict, dict]:
    # A webhook answered 200 is the normal case and is logged at DEBUG only (a line per webhook costs
    # as much CPU as recording it); every refusal is logged.
    level = logging.DEBUG if status == 200 else logging.INFO if status < 400 else logging.WARNING
    if log.isEnabledFor(level):
        log.log(level, "webhook %s: %s %s", header("X-Shopify-Webhook-Id") or "-", status, message)
    return status, {"status": message, **fields}, {}


@bp.post("/webhooks")
def receive():
    """The Flask route: the same handling as FastPath."""
    ctx = current_app.extensions["loyalty"]
    directory = current_app.extensions.setdefault(DIRECTORY_KEY, inbox.ShopDirectory())
    status, answer, headers = receive_webhook(ctx, directory, request.headers.get, request.content_length,
                                              request.stream.read)
    return current_app.response_class(json.dumps(answer) + "\n", status=status, headers=headers,
                                      mimetype="application/json")


_REASONS = {200: "OK", 400: "BAD REQUEST", 401: "UNAUTHORIZED", 404: "NOT FOUND", 413: "REQUEST ENTITY TOO LARGE",
            503: "SERVICE UNAVAILABLE"}


class FastPath:
    """WSGI middleware answering POST /webhooks without Flask's per-request machinery; every other request
    goes to the Flask app unchanged, but /bare: an endpoint that answers 200 and does nothing, at the very
    same layer, which the ingest benchmark compares webhooks against."""

    def __init__(self, app, wsgi_app):
        self.app, self.wsgi_app = app, wsgi_app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO")
        if path == "/bare":  # the ingest benchmark's baseline: the same requests, answered with nothing done
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "0")])
            return [b""]
        if path != "/webhooks" or environ.get("REQUEST_METHOD") != "POST":
            return self.wsgi_app(environ, start_response)
        ctx = self.app.extensions["loyalty"]
        directory = self.app.extensions.setdefault(DIRECTORY_KEY, inbox.ShopDirectory())
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0) or None
        except ValueError:
            length = None

        def header(name: str) -> str | None:
            return environ.get("HTTP_" + name.upper().replace("-", "_"))

        status, answer, headers = receive_webhook(ctx, directory, header, length, get_input_stream(environ).read)
        if status == 200 and answer == _RECORDED:  # the common case, answered with bytes made once
            start_response("200 OK", _RECORDED_HEADERS)
            return [_RECORDED_BODY]
        body = (json.dumps(answer) + "\n").encode()
        start_response(f"{status} {_REASONS.get(status, '')}".rstrip(),
                       [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                        *headers.items()])
        return [body]


_RECORDED = {"status": "recorded"}
_RECORDED_BODY = (json.dumps(_RECORDED) + "\n").encode()
_RECORDED_HEADERS = [("Content-Type", "application/json"), ("Content-Length", str(len(_RECORDED_BODY)))]
