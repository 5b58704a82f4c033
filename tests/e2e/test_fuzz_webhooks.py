"""POST /webhooks and the inbox worker under fuzzing: whatever a signed body holds (malformed JSON, wrong
types, huge numbers, missing fields, unknown currencies, negative amounts, deep nesting, non-UTF-8, huge
bodies), the endpoint never answers 500; the worker parks every event it cannot use as failed at once,
with its reason, and applies the other events of the same batch."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st
from sqlalchemy import func, select

from db.tables import webhook_inbox as inbox
from jobs.inbox import MAX_ATTEMPTS, process_inbox
from tests.conftest import KEY, SECRET
from tests.factories import order
from tests.faults import refuse_order
from tests.integration.test_fuzz_translate import JSON, mutated

FIXTURES_OK = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                             HealthCheck.too_slow])
TOPICS = st.sampled_from(["orders/paid", "orders/cancelled", "refunds/create", "customers/create",
                          "customers/update", "customers/redact", "customers/data_request"])


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


BODIES = st.one_of(
    st.binary(max_size=300),                                           # anything, non-UTF-8 included
    JSON.map(lambda v: json.dumps(v).encode()),                        # any JSON value (NaN too)
    mutated().map(lambda case: json.dumps(case[1]).encode()),          # a real body with a bad field
    st.integers(1, 200_000).map(nested),                               # deep nesting
    st.sampled_from([b"", b"{", b"\xff\xfe{}", b'{"id": 1e999999}', b'{"id": ' + b"9" * 5000 + b"}",
                     "{\"name\": \"\ud800\"}".encode("utf-8", "surrogatepass"), b"\x00" * 64]),
)


@settings(FIXTURES_OK, max_examples=100)
@given(topic=TOPICS, body=BODIES)
@example(topic="orders/paid", body=nested(100_000))
@example(topic="orders/paid", body=b"{" + b'"a":' * 50_000 + b"1" + b"}" * 50_000)
def test_a_signed_body_of_anything_is_never_a_500(send, topic, body):
    """Signed (so it reaches the parsing) junk: 200 (recorded for the worker to judge), 400 (not JSON at
    all, or not of its topic's shape), 403 (naming another shop) or 413; never a server error."""
    answer = send(topic, body)
    assert answer.status_code in (200, 400, 403, 413), (answer.status_code, answer.data[:200])
    assert answer.headers["X-Loyalty-Webhook"] in ("recorded", "body is not JSON", "body too large") \
        or answer.headers["X-Loyalty-Webhook"].startswith(("ignored", f"body is not of the shape of {topic}: ",
                                                           "body names another shop")), answer.headers


def test_a_body_over_the_limit_is_413_whatever_it_claims(send, client):
    """A huge body is refused by size, before the signature is even computed over it."""
    assert send("orders/paid", b"[" + b"1," * 600_000 + b"1]").status_code == 413
    big = b" " * (1024 * 1024 + 1)
    answer = client.post("/webhooks", data=big, headers={"X-Shopify-Hmac-Sha256": "x", "Content-Length": "1"})
    assert answer.status_code in (401, 413)


@settings(FIXTURES_OK, max_examples=30)
@given(cases=st.lists(mutated().filter(lambda c: c[0] not in ("shop/redact", "app/uninstalled")),
                      min_size=1, max_size=6))
def test_bad_events_fail_at_once_and_the_rest_of_the_batch_is_applied(ctx, shop, send, summary, cases):
    """A batch of fuzzed events around one good order: the good order earns its points; every event is
    refused at the door (not of its topic's shape: 400; naming another shop: 403; recording nothing), or recorded and then either
    applied or failed for good (failed_at, a reason) - none waits to be retried."""
    good_email = f"good-{uuid.uuid4().hex[:8]}@example.com"
    with ctx.engine.connect() as conn:  # the database is shared by the examples: rows of earlier ones
        recorded = 2 + conn.execute(select(func.count()).select_from(inbox)).scalar()
    send("orders/paid", order(lines=((40, 1),), email=good_email, customer_id=None))
    for topic, body in cases:
        answer = send(topic, json.dumps(body).encode())
        assert answer.status_code in (200, 400, 403), answer.headers
        recorded += answer.status_code == 200
    send("orders/paid", order(lines=((2, 1),), email=good_email))
    process_inbox(ctx=ctx)
    assert summary(good_email)["pending"] >= 42  # fuzzed refunds may name it; they cannot be for it
    with ctx.engine.connect() as conn:
        rows = conn.execute(select(inbox.c.topic, inbox.c.processed_at, inbox.c.failed_at, inbox.c.attempts,
                                   inbox.c.last_error)).all()
    assert len(rows) == recorded
    for row in rows:
        assert row.processed_at is not None or (row.failed_at is not None and row.last_error), row
        if row.failed_at is not None:
            assert row.last_error.startswith("bad payload: ") and row.attempts == 1, row


def test_an_event_failing_every_time_is_parked_after_max_attempts(ctx, shop, send, process, summary):
    """An event whose handler keeps failing (here: its order row cannot be written, by a trigger) is
    retried with backoff, then parked after MAX_ATTEMPTS with its reason; a good event beside it is applied
    on the first pass."""
    from datetime import datetime, timedelta, timezone

    from sqlalchemy import update

    refuse_order(ctx, 7)
    send("orders/paid", order(order_id=7, email="stuck@example.com"))
    send("orders/paid", order(order_id=8, lines=((30, 1),), email="fine@example.com"))
    for attempt in range(1, MAX_ATTEMPTS + 3):
        process()
        with ctx.engine.begin() as conn:
            row = conn.execute(select(inbox).where(inbox.c.webhook_id.is_not(None))
                               .order_by(inbox.c.id)).first()
            assert "order 7 refused" in row.last_error
            assert row.attempts == min(attempt, MAX_ATTEMPTS)
            assert (row.failed_at is not None) == (attempt >= MAX_ATTEMPTS), attempt
            # time passes: the backoff is over
            conn.execute(update(inbox).where(inbox.c.failed_at.is_(None), inbox.c.processed_at.is_(None))
                         .values(lease_until=datetime.now(timezone.utc) - timedelta(seconds=1)))
    assert summary("fine@example.com")["pending"] == 30


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_poison_pill_no_longer_blocks_the_inbox(ctx, shop, send, summary, tmp_path):
    """Found by the fuzzing: `payment_gateway_names` that is not a list (or a line item, a discount
    allocation that is not an object) made the parser raise TypeError/AttributeError, which left the batch -
    the oldest events, this one always among them - rolled back and claimed again forever. Now it is failed
    at once with its reason, listed by `loyalty inbox failed`, and the good order beside it earns."""
    send("orders/paid", order(lines=((40, 1),), email="good@example.com"))
    send("orders/paid", {"id": 5, "line_items": [], "payment_gateway_names": 5,
                         "processed_at": "2025-01-01T00:00:00Z"}, webhook_id="pill")
    assert process_inbox(ctx=ctx) == 1
    assert summary("good@example.com")["pending"] == 40
    env = dict(os.environ, DATABASE_URL=ctx.engine.url.render_as_string(hide_password=False),
               REDIS_URL=ctx.config.effective_redis_url, LOYALTY_ENCRYPTION_KEYS=KEY, SHOPIFY_API_SECRET=SECRET,
               LOYALTY_VAR_DIR=str(tmp_path))
    listed = subprocess.run([sys.executable, "-m", "cli", "inbox", "failed"], capture_output=True, text=True,
                            env=env, timeout=60)
    [failed] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert failed["webhook_id"] == "pill" and failed["attempts"] == 1
    assert failed["last_error"] == "bad payload: payment_gateway_names: expected a list"


def test_an_order_whose_points_do_not_fit_fails_at_once(ctx, shop, send, summary):
    """Found by the fuzzing: an amount under the 10^12 limit whose award does not fit the ledger's integer
    columns was refused by PostgreSQL (integer out of range) and retried eight times, while SQLite stored
    nine billion points. Now it is refused on both, at once, with the reason; the order beside it earns."""
    send("orders/paid", order(lines=((999_999_999, 9),), email="huge@example.com"), webhook_id="huge")
    send("orders/paid", order(lines=((12, 1),), email="small@example.com"))
    assert process_inbox(ctx=ctx) == 1
    assert summary("small@example.com")["pending"] == 12
    with ctx.engine.connect() as conn:
        row = conn.execute(select(inbox).where(inbox.c.webhook_id == "huge")).one()
    assert row.failed_at is not None and row.attempts == 1 and row.processed_at is None, row.last_error
    assert row.last_error.startswith("refused: TooManyPoints: 8999999991 points do not fit the ledger")
