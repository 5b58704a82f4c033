"""Forged and replayed webhooks. The HMAC covers the body only, so: a body altered by even one byte is
refused; a captured body replayed with its valid HMAC is recorded once per webhook id and, whatever id an
attacker puts on it, credits once (business idempotency keys)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json

from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select

from db.tables import ledger_entries, webhook_inbox
from tests.conftest import SECRET, SHOP
from tests.factories import order

BODY = json.dumps(order(order_id=424242, lines=((80, 1),), email="victim@example.com")).encode()


def post(client, body: bytes, signature: str, webhook_id: str = "w-1", topic: str = "orders/paid"):
    return client.post("/webhooks", data=body, headers={
        "X-Shopify-Topic": topic, "X-Shopify-Shop-Domain": SHOP, "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Hmac-Sha256": signature, "Content-Type": "application/json"})


def hmac_b64(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def stored(ctx) -> int:
    with ctx.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(webhook_inbox)).scalar()


def earns(ctx) -> int:
    with ctx.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(ledger_entries)
                            .where(ledger_entries.c.kind == "earn")).scalar()


def test_a_replayed_webhook_with_its_valid_hmac_credits_once(client, ctx, process, summary):
    """The same signed body and webhook id sent six times: recorded once, the rest answered `duplicate`;
    80 points, once."""
    answers = [post(client, BODY, hmac_b64(BODY)).headers["X-Loyalty-Webhook"] for _ in range(6)]
    assert answers == ["recorded"] + ["duplicate"] * 5
    process()
    assert stored(ctx) == 1 and earns(ctx) == 1
    assert summary("victim@example.com")["pending"] == 80


def test_a_replay_under_new_webhook_ids_still_credits_once(client, ctx, process, summary):
    """The webhook id header is not signed: an attacker replaying a captured body can give it new ids.
    Each is recorded, and the order's business key lets it earn once."""
    for i in range(5):
        assert post(client, BODY, hmac_b64(BODY), webhook_id=f"forged-{i}").headers["X-Loyalty-Webhook"] == "recorded"
    process()
    assert stored(ctx) == 5 and earns(ctx) == 1
    assert summary("victim@example.com")["pending"] == 80


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.integers(0, len(BODY) - 1), flip=st.integers(1, 255))
def test_a_body_altered_by_one_byte_is_refused(client, ctx, position, flip):
    """Any byte of a signed body changed (here by XOR with 1..255): 401, nothing stored."""
    signature = hmac_b64(BODY)
    altered = bytearray(BODY)
    altered[position] ^= flip
    answer = post(client, bytes(altered), signature, webhook_id=f"alt-{position}-{flip}")
    assert answer.status_code == 401 and answer.headers["X-Loyalty-Webhook"] == "invalid signature"
    assert stored(ctx) == 0


def test_forged_signatures_are_refused(client, ctx):
    """Other secrets, other encodings, truncations, padding games, another body's HMAC, none at all: 401."""
    good = hmac_b64(BODY)
    digest = hmac.new(SECRET.encode(), BODY, hashlib.sha256)
    forged = [
        hmac_b64(BODY, "not-the-secret"), hmac_b64(BODY, SECRET + " "), hmac_b64(BODY, ""),
        digest.hexdigest(), good[:-1], good[:-2], good + "=", good.rstrip("="), good.lower(), good.upper(),
        base64.urlsafe_b64encode(digest.digest()).decode() if "+" in good or "/" in good else good[::-1],
        hmac_b64(BODY + b" "), hmac_b64(b""), base64.b64encode(hashlib.sha256(BODY).digest()).decode(),
        base64.b64encode(hmac.new(SECRET.encode(), BODY, hashlib.sha1).digest()).decode(), "", " ", "null",
    ]
    for i, signature in enumerate(forged):
        answer = post(client, BODY, signature, webhook_id=f"forged-{i}")
        assert answer.status_code == 401, (i, signature)
    no_header = client.post("/webhooks", data=BODY, headers={
        "X-Shopify-Topic": "orders/paid", "X-Shopify-Shop-Domain": SHOP, "X-Shopify-Webhook-Id": "none"})
    assert no_header.status_code == 401
    assert stored(ctx) == 0
    assert post(client, BODY, good).status_code == 200, "the genuine signature still works"


def test_the_signature_check_runs_before_anything_is_parsed_or_looked_up(client, ctx):
    """An unsigned request learns nothing: unknown shop, unknown topic, broken JSON all answer the same 401
    (no 404 that would reveal which shops are installed)."""
    for headers in ({"X-Shopify-Shop-Domain": "other-shop.myshopify.com"}, {"X-Shopify-Topic": "nope/nope"}, {}):
        answer = client.post("/webhooks", data=b"{not json", headers={
            "X-Shopify-Topic": "orders/paid", "X-Shopify-Shop-Domain": SHOP, "X-Shopify-Webhook-Id": "x",
            "X-Shopify-Hmac-Sha256": "AAAA", **headers})
        assert (answer.status_code, answer.headers["X-Loyalty-Webhook"]) == (401, "invalid signature")
