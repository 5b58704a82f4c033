"""POST /webhooks: one endpoint for every topic (Shopify names it in X-Shopify-Topic).

The endpoint is the busiest of the app, so it is served by `FastPath`, a thin WSGI layer in front of Flask
(no routing, request object or response object per webhook); the Flask route below runs the very same
checks for anything that reaches Flask without it. Either way: the size limit here, then the decision of
webhooks.intake (HMAC on the raw body, the headers, the topic, JSON validity, the body's shape for its
topic, the shop directory, the shop the body names), the inbox commit and the worker's wake-up: by the
inbox writer when one is configured (webhooks.writer, wired in by runtime.web under WRITER_KEY; this module
never imports it), else in this process.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

from flask import Blueprint, current_app, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wsgi import get_input_stream

from loyalty.services.wakeups import wake_worker
from webhooks import inbox, intake
from webhooks.intake import Answer, Delivery

bp = Blueprint("webhooks", __name__)

DIRECTORY_KEY = "loyalty_shops"
"""Where the app keeps its ShopDirectory (app.extensions)."""
WRITER_KEY = "loyalty_inbox_writer"
"""Where the app keeps the inbox writer's `deliver(delivery) -> Answer | None` (app.extensions), when
LOYALTY_INBOX_SOCKET names one (runtime.web); absent otherwise."""
RETRY_AFTER = (("Retry-After", "5"),)
"""Sent with a 503: when Shopify should try again."""


def receive_webhook(ctx, directory: inbox.ShopDirectory, header: Callable[[str], str | None],
                    content_length: int | None, read: Callable[[int], bytes],
                    writer: Callable[[Delivery], Answer | None] | None = None) -> Answer:
    """Read the delivery (within the size limit), then have it checked and recorded: by the inbox `writer`
    when there is one and it answers, else here (`receive_here`); the work happens later. `header(name)`
    reads a request header."""
    limit = ctx.config.webhook_max_bytes
    if (content_length or 0) > limit:
        return intake.answer(413, "body too large", header("X-Shopify-Webhook-Id"))
    body = read(limit + 1)
    if len(body) > limit:
        return intake.answer(413, "body too large", header("X-Shopify-Webhook-Id"))
    delivery = Delivery(header("X-Shopify-Hmac-Sha256"), header("X-Shopify-Topic") or "",
                        header("X-Shopify-Shop-Domain") or "", header("X-Shopify-Webhook-Id") or "", body,
                        datetime.now(timezone.utc))
    if writer is not None:
        answered = writer(delivery)
        if answered is not None:
            return answered
    return receive_here(ctx, directory, delivery)


def receive_here(ctx, directory: inbox.ShopDirectory, delivery: Delivery) -> Answer:
    """Screen the delivery, record it by this process's group commit, settle it, wake a worker."""
    try:
        refused = intake.screen(ctx, directory, delivery)
        if refused is not None:
            return refused
        committed_at = inbox.record(ctx, delivery.row())
        answered = intake.settle(committed_at is not None)
    except SQLAlchemyError as exc:
        return intake.unavailable(delivery.webhook_id, exc)
    if committed_at is not None:
        wake_worker(ctx, committed_by=committed_at)
    return answered


@bp.post("/webhooks")
def receive():
    """The Flask route: the same handling as FastPath."""
    extensions = current_app.extensions
    directory = extensions.setdefault(DIRECTORY_KEY, inbox.ShopDirectory())
    answered = receive_webhook(extensions["loyalty"], directory, request.headers.get, request.content_length,
                               request.stream.read, extensions.get(WRITER_KEY))
    return current_app.response_class(b"", status=answered.status, headers=_headers(answered))


class FastPath:
    """WSGI middleware answering POST /webhooks without Flask's per-request machinery; every other request
    goes to the Flask app unchanged."""

    def __init__(self, app, wsgi_app):
        self.app, self.wsgi_app = app, wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != "/webhooks" or environ.get("REQUEST_METHOD") != "POST":
            return self.wsgi_app(environ, start_response)
        extensions = self.app.extensions
        ctx = extensions["loyalty"]
        directory = extensions.get(DIRECTORY_KEY) or extensions.setdefault(DIRECTORY_KEY, inbox.ShopDirectory())
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0) or None
        except ValueError:
            length = None

        def header(name: str) -> str | None:
            return environ.get(_ENVIRON_KEYS.get(name) or "HTTP_" + name.upper().replace("-", "_"))

        answered = receive_webhook(ctx, directory, header, length, get_input_stream(environ).read,
                                   extensions.get(WRITER_KEY))
        if answered is intake.RECORDED:  # the common case, answered with headers made once
            start_response("200 OK", _RECORDED_HEADERS)
        else:
            start_response(f"{answered.status} {HTTP_STATUS_CODES[answered.status].upper()}", _headers(answered))
        return [b""]


_ENVIRON_KEYS = {name: "HTTP_" + name.upper().replace("-", "_") for name in (
    "X-Shopify-Hmac-Sha256", "X-Shopify-Topic", "X-Shopify-Shop-Domain", "X-Shopify-Webhook-Id")}
"""The WSGI environ's keys of the headers a webhook is read by."""


def _headers(answered: Answer) -> list[tuple[str, str]]:
    return [("Content-Length", "0"), (intake.OUTCOME_HEADER, answered.message),
            *(RETRY_AFTER if answered.status == 503 else ())]


_RECORDED_HEADERS = _headers(intake.RECORDED)
