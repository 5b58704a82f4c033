"""POST /webhooks: one endpoint for every topic (Shopify names it in X-Shopify-Topic)."""
from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy.exc import SQLAlchemyError

from webhooks import inbox, signature

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__)

PRIVACY_TOPICS = frozenset({"customers/data_request", "customers/redact", "shop/redact"})
"""Mandatory compliance topics: recorded even for an uninstalled shop (shop/redact comes 48 h after)."""
HANDLED_TOPICS = frozenset({
    "orders/paid", "orders/cancelled", "refunds/create", "customers/create", "customers/update",
    "app/uninstalled",
}) | PRIVACY_TOPICS


def _answer(status: int, message: str, **fields):
    log.log(logging.INFO if status < 400 else logging.WARNING, "webhook %s: %s %s",
            request.headers.get("X-Shopify-Webhook-Id", "-"), status, message)
    return jsonify(status=message, **fields), status


@bp.post("/webhooks")
def receive():
    """Verify the HMAC on the raw body, then record the delivery and answer; the work happens later."""
    ctx = current_app.extensions["loyalty"]
    limit = ctx.config.webhook_max_bytes
    if (request.content_length or 0) > limit:
        return _answer(413, "body too large")
    body = request.stream.read(limit + 1)
    if len(body) > limit:
        return _answer(413, "body too large")
    if not signature.verify(ctx.config.api_secrets, body, request.headers.get("X-Shopify-Hmac-Sha256")):
        return _answer(401, "invalid signature")
    topic = request.headers.get("X-Shopify-Topic", "")
    shop_domain = request.headers.get("X-Shopify-Shop-Domain", "")
    webhook_id = request.headers.get("X-Shopify-Webhook-Id", "")
    if not webhook_id or not shop_domain or not topic:
        return _answer(400, "missing X-Shopify-Topic, X-Shopify-Shop-Domain or X-Shopify-Webhook-Id")
    if topic not in HANDLED_TOPICS:
        return _answer(200, "ignored: topic not handled", topic=topic)
    try:
        json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser's stack
        return _answer(400, "body is not JSON")
    try:
        directory = current_app.extensions.setdefault("loyalty_shops", inbox.ShopDirectory())
        status = directory.status(ctx, shop_domain)
        if status == "uninstalled" and topic not in PRIVACY_TOPICS:
            return _answer(200, "ignored: shop uninstalled")
        if status == "unknown":
            if topic in PRIVACY_TOPICS or topic == "app/uninstalled":
                return _answer(200, "ignored: nothing stored for this shop")
            return _answer(404, "unknown shop")
        now = datetime.now(timezone.utc)
        recorded = inbox.record(ctx, webhook_id=webhook_id[:255], shop_domain=shop_domain, topic=topic,
                                body=body, now=now)
        if topic == "app/uninstalled":
            inbox.stop_shop(ctx, directory, shop_domain, now)  # at once, not when a worker gets to it
    except SQLAlchemyError as exc:
        log.error("database unavailable at ingest: %s", exc.__class__.__name__)
        response = _answer(503, "database unavailable, retry later")
        response[0].headers["Retry-After"] = "5"
        return response
    if recorded is None:
        return _answer(200, "duplicate")
    inbox.wake_worker(ctx, committed_by=recorded)
    return _answer(200, "recorded")
