"""What becomes of a webhook delivery: refused, ignored, or recorded (then answered recorded or duplicate).

One decision, made in two places: in the web process when it writes its own webhooks, and in the inbox
writer (webhooks.writer.server) when the web hands deliveries over to it. Both call `screen` before the
INSERT and `settle` after it, so a delivery gets the same answer whichever process records it.

An answer is the HTTP status and the outcome (sent in the OUTCOME_HEADER); the common ones are constants.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from integrations.shopify import json_body, webhook_bodies
from loyalty.services.context import Context
from integrations.shopify import webhook_signature as signature
from loyalty.defaults import WEBHOOK_OUTCOME_HEADER

log = logging.getLogger("webhooks.views")

PRIVACY_TOPICS = frozenset({"customers/data_request", "customers/redact", "shop/redact"})
"""Mandatory compliance topics: recorded even for an uninstalled shop (shop/redact comes 48 h after)."""
HANDLED_TOPICS = frozenset({
    "orders/paid", "orders/cancelled", "refunds/create", "customers/create", "customers/update",
    "app/uninstalled", "shop/update",
}) | PRIVACY_TOPICS


@dataclass(slots=True)
class Delivery:
    """One webhook as received: the raw body and the headers that matter, unchecked."""

    hmac: str | None
    topic: str
    shop_domain: str
    webhook_id: str
    body: bytes
    received_at: datetime

    def row(self) -> dict:
        """The inbox row recording it, its body included (stored beside the row, in webhook_bodies)."""
        return dict(webhook_id=self.webhook_id[:255], shop_domain=self.shop_domain, topic=self.topic,
                    body=self.body, received_at=self.received_at)


OUTCOME_HEADER = WEBHOOK_OUTCOME_HEADER
"""The answer's header saying what became of the delivery ("recorded", "duplicate", "invalid signature"...).
The answer has no body: Shopify reads only the status, and a body would cost the web a second write to
the socket for every webhook."""


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP status and what became of the delivery (OUTCOME_HEADER)."""

    status: int
    message: str


def answer(status: int, message: str, webhook_id: str | None = None, detail: str = "") -> Answer:
    """The answer, logged: a 200 at DEBUG only (a line per webhook costs as much CPU as recording it),
    every refusal at INFO or WARNING. `detail` goes to the log only, not to the sender."""
    level = logging.DEBUG if status == 200 else logging.INFO if status < 400 else logging.WARNING
    if log.isEnabledFor(level):
        log.log(level, "webhook %s: %s %s%s", webhook_id or "-", status, message, detail and f" ({detail})")
    return Answer(status, message)


RECORDED = Answer(200, "recorded")
DUPLICATE = Answer(200, "duplicate")


def unavailable(webhook_id: str | None, reason: BaseException) -> Answer:
    """503 (the database could not take the row): Shopify retries; the caller adds Retry-After."""
    log.error("database unavailable at ingest: %s", reason.__class__.__name__)
    return answer(503, "database unavailable, retry later", webhook_id)


def screen(ctx: Context, directory, delivery: Delivery) -> Answer | None:
    """The answer for a delivery that is not to be recorded (bad signature, missing headers, a topic the
    app does not handle, a body that is not JSON or not of its topic's shape, a shop not installed, a body
    naming another shop than the header); None when it is to be recorded. The signature is checked first,
    on the raw body, before anything is parsed or looked up. Raises SQLAlchemyError when the shops cannot
    be read.

    The signature covers the body only, with one secret for every shop: the topic and shop headers could
    come from anyone holding a body Shopify once sent, so the body must be of the topic's shape and name
    no other shop (integrations.shopify.webhook_bodies)."""
    if not signature.verify(ctx.config.api_secrets, delivery.body, delivery.hmac):
        return answer(401, "invalid signature", delivery.webhook_id)
    topic = delivery.topic
    if not delivery.webhook_id or not delivery.shop_domain or not topic:
        return answer(400, "missing X-Shopify-Topic, X-Shopify-Shop-Domain or X-Shopify-Webhook-Id",
                      delivery.webhook_id)
    if topic not in HANDLED_TOPICS:
        return answer(200, "ignored: topic not handled", delivery.webhook_id)
    try:
        body = json_body.loads(delivery.body)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser's stack
        return answer(400, "body is not JSON", delivery.webhook_id)
    problem = webhook_bodies.shape_problem(topic, body)
    if problem is not None:
        return answer(400, f"body is not of the shape of {topic}: {problem}", delivery.webhook_id,
                      f"shop {delivery.shop_domain}")
    status, shop_id = directory.lookup(ctx, delivery.shop_domain)
    if status == "uninstalled" and topic not in PRIVACY_TOPICS:
        return answer(200, "ignored: shop uninstalled", delivery.webhook_id)
    if status == "unknown":
        if topic in PRIVACY_TOPICS or topic == "app/uninstalled":
            return answer(200, "ignored: nothing stored for this shop", delivery.webhook_id)
        return answer(404, "unknown shop", delivery.webhook_id)
    other = webhook_bodies.foreign_shop(topic, body, delivery.shop_domain, shop_id)
    if other is not None:
        return answer(403, f"body names another shop than X-Shopify-Shop-Domain ({other.field})",
                      delivery.webhook_id, f"{topic} for {delivery.shop_domain} (id {shop_id}) names "
                                           f"{other.field}: domain {other.domain}, id {other.shop_id}")
    return None


def settle(recorded: bool) -> Answer:
    """After the row's commit (or its duplicate's): the answer. Nothing is acted on here, app/uninstalled
    included: its topic header is not signed, so the worker first asks Shopify whether the app is really
    uninstalled (loyalty.services.uninstalls), which a request must not wait for."""
    return RECORDED if recorded else DUPLICATE
