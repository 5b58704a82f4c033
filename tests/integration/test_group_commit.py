"""Group commit of inbox rows (webhooks.group_commit): concurrent webhooks share a transaction, and each
request still hears exactly whether its own row was committed, was a duplicate, or failed."""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from db.engine import make_engine
from db.inbox import insert_webhooks
from db.tables import webhook_bodies, webhook_inbox
from webhooks.group_commit import GroupCommitter

NOW = datetime(2025, 1, 1, tzinfo=timezone.utc)


def row(webhook_id, **overrides):
    values = dict(webhook_id=webhook_id, shop_domain="store-a.myshopify.com", topic="orders/paid",
                  body=b"{}", received_at=NOW)
    values.update(overrides)
    return values


@pytest.fixture
def engine(database_url):
    """An engine with a patient lock timeout, so a test can hold the inbox locked while requests queue."""
    eng = make_engine(database_url, timeout_seconds=5.0)
    yield eng
    eng.dispose()


@contextmanager
def inbox_locked(engine):
    """Hold the inbox against writers (another transaction's lock) until the block ends."""
    conn = engine.connect()
    conn.begin()  # on SQLite the engine begins with BEGIN IMMEDIATE: the write lock is held from here
    if engine.dialect.name == "postgresql":
        conn.execute(text("LOCK TABLE webhook_inbox IN SHARE ROW EXCLUSIVE MODE"))
    try:
        yield
    finally:
        conn.rollback()
        conn.close()


def record_in_threads(committer, rows):
    """Call committer.record for each row from its own thread; returns the outcome of each (bool or error)."""
    outcomes = [None] * len(rows)

    def run(i):
        try:
            outcomes[i] = committer.record(rows[i]) is not None  # a commit time, or None for a duplicate
        except Exception as exc:  # noqa: BLE001 - the outcome under test
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(rows))]
    for t in threads:
        t.start()
    return threads, outcomes


def queue_first_then_release(committer, engine, first, followers):
    """Start `first` (it leads and waits on the lock), queue `followers` behind it, then release the lock:
    the followers are then written together as one batch."""
    with inbox_locked(engine):
        lead_threads, lead_outcome = record_in_threads(committer, [first])
        _wait_until(lambda: committer._writing and not committer._queue)  # the leader took its batch
        threads, outcomes = record_in_threads(committer, followers)
        _wait_until(lambda: len(committer._queue) == len(followers))
    for t in lead_threads + threads:
        t.join(timeout=30)
    return lead_outcome[0], outcomes


def _wait_until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition never came true"
        time.sleep(0.005)


def stored_ids(engine):
    with engine.connect() as conn:
        return sorted(conn.execute(select(webhook_inbox.c.webhook_id)).scalars())


def test_requests_that_arrive_together_share_one_transaction(engine):
    """Ten webhooks queued while the first is written are committed in one more transaction, all recorded."""
    committer = GroupCommitter(engine)
    first, outcomes = queue_first_then_release(committer, engine, row("w0"), [row(f"w{i}") for i in range(1, 11)])
    assert first is True and outcomes == [True] * 10
    assert committer.transactions == 2
    assert stored_ids(engine) == sorted(f"w{i}" for i in range(11))


def test_duplicates_inside_one_batch_are_recorded_once(engine):
    """The same webhook id three times in one batch: one request hears 'recorded', the others 'duplicate'."""
    committer = GroupCommitter(engine)
    first, outcomes = queue_first_then_release(
        committer, engine, row("lead"), [row("dup"), row("dup"), row("other"), row("dup")])
    assert first is True
    dup_outcomes = [outcomes[0], outcomes[1], outcomes[3]]
    assert sorted(dup_outcomes) == [False, False, True]
    assert outcomes[2] is True
    assert committer.transactions == 2
    assert stored_ids(engine) == ["dup", "lead", "other"]


def stored_bodies(engine):
    """Every stored body by its row's webhook id (a row without a body would show as None)."""
    with engine.connect() as conn:
        return {webhook_id: body and bytes(body) for webhook_id, body in conn.execute(
            select(webhook_inbox.c.webhook_id, webhook_bodies.c.body).outerjoin_from(webhook_inbox, webhook_bodies))}


def test_each_row_is_committed_with_its_body_and_a_duplicate_adds_none(engine):
    """Rows and bodies go in together: a duplicate in the batch or of a committed row stores no second
    body (the first delivery's body stays), every row recorded has its own body."""
    committer = GroupCommitter(engine)
    assert committer.record(row("seen", body=b'{"first": 1}')) is not None
    followers = [row("a", body=b'{"a": 1}'), row("seen", body=b'{"again": 1}'), row("b", body=b'{"b": 1}'),
                 row("a", body=b'{"a": 2}')]
    first, outcomes = queue_first_then_release(committer, engine, row("lead", body=b'{"lead": 1}'), followers)
    assert first is True and outcomes == [True, False, True, False]
    assert stored_bodies(engine) == {"seen": b'{"first": 1}', "lead": b'{"lead": 1}', "a": b'{"a": 1}',
                                     "b": b'{"b": 1}'}
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(webhook_bodies)).scalar() == 4


def test_a_row_whose_body_is_refused_is_not_recorded_without_it(engine):
    """A body the database refuses (NOT NULL in webhook_bodies) fails its own request, and its inbox row
    is not committed without it; its batch-mates are recorded with theirs."""
    committer = GroupCommitter(engine)
    first, outcomes = queue_first_then_release(committer, engine, row("lead"),
                                               [row("a"), row("no-body", body=None), row("b")])
    assert first is True and outcomes[0] is True and outcomes[2] is True
    assert isinstance(outcomes[1], IntegrityError)
    assert stored_bodies(engine) == {"lead": b"{}", "a": b"{}", "b": b"{}"}


def test_a_redelivery_of_an_already_committed_webhook_is_a_duplicate(engine):
    """A webhook id committed by an earlier batch is answered 'duplicate' inside a later batch."""
    committer = GroupCommitter(engine)
    assert committer.record(row("seen")) is not None
    first, outcomes = queue_first_then_release(committer, engine, row("lead"), [row("seen"), row("new")])
    assert outcomes == [False, True]
    assert stored_ids(engine) == ["lead", "new", "seen"]


def test_a_bad_row_fails_alone_and_the_rest_of_its_batch_is_committed(engine):
    """A row the database refuses (NOT NULL) makes only its own request fail; its batch-mates are
    committed one by one and answered 'recorded', a duplicate among them still 'duplicate'."""
    committer = GroupCommitter(engine)
    assert committer.record(row("old")) is not None
    followers = [row("a"), row("bad", topic=None), row("b"), row("old"), row("a")]
    first, outcomes = queue_first_then_release(committer, engine, row("lead"), followers)
    assert first is True
    assert isinstance(outcomes[1], IntegrityError)
    assert outcomes[0] is True and outcomes[2] is True
    assert outcomes[3] is False and outcomes[4] is False
    assert stored_ids(engine) == ["a", "b", "lead", "old"]


def test_database_down_fails_every_waiting_request_quickly(redis_url):
    """No database behind the engine: every concurrent request gets the connection error (the view turns
    it into 503), at once rather than row by row."""
    from tools.local_services import free_port

    dead = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/x", 0.8)
    committer = GroupCommitter(dead)
    started = time.monotonic()
    threads, outcomes = record_in_threads(committer, [row(f"d{i}") for i in range(20)])
    for t in threads:
        t.join(timeout=30)
    assert all(isinstance(o, OperationalError) for o in outcomes)
    assert time.monotonic() - started < 4.0  # row by row would be 20 x 0.8 s; margin for a loaded machine
    assert not committer._writing and not committer._queue  # nothing is left stuck for the next request
    dead.dispose()


def test_many_threads_record_every_row_exactly_once(engine):
    """Eight threads recording 40 webhooks each, every id sent twice: each id is stored once, exactly one
    of its two requests hears 'recorded', and fewer transactions than rows were needed."""
    committer = GroupCommitter(engine)
    ids = [f"t{i}" for i in range(160)]
    per_thread = [[row(ids[(k * 40 + j) % 160]) for j in range(40)] for k in range(8)]
    results: list[tuple[str, object]] = []
    lock = threading.Lock()

    def run(rows):
        for r in rows:
            try:
                outcome = committer.record(r) is not None
            except Exception as exc:  # noqa: BLE001
                outcome = exc
            with lock:
                results.append((r["webhook_id"], outcome))

    threads = [threading.Thread(target=run, args=(rows,)) for rows in per_thread]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == 320
    assert all(isinstance(o, bool) for _, o in results), [o for _, o in results if not isinstance(o, bool)][:3]
    for webhook_id in ids:
        assert sorted(o for i, o in results if i == webhook_id) == [False, True]
    assert stored_ids(engine) == sorted(ids)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(webhook_inbox)).scalar() == 160
    assert committer.transactions < 320


def test_concurrent_duplicate_deliveries_over_http_answer_one_recorded(app, ctx):
    """Through the app: the same signed webhook posted by six threads at once is recorded once."""
    from tests.conftest import Sender
    from tests.factories import order

    payload = order(email="concurrent@example.com")
    statuses = []

    def post():
        response = Sender(app.test_client())("orders/paid", payload, webhook_id="same-id")
        statuses.append((response.status_code, response.headers["X-Loyalty-Webhook"]))

    threads = [threading.Thread(target=post) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(statuses) == [(200, "duplicate")] * 5 + [(200, "recorded")]
    with ctx.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(webhook_inbox)).scalar() == 1


def test_a_batch_is_stored_value_for_value_in_its_order(engine):
    """What a batch stores is what was received: the body byte for byte (any bytes, a large one too),
    the received time to the microsecond, the rows in the batch's order (the worker takes them by id)."""
    committer = GroupCommitter(engine)
    bodies = {f"v{i}": bytes(range(256)) * (i + 1) for i in range(1, 6)}
    bodies["v6"] = b"\x00" + b"x" * 200_000
    times = {webhook_id: NOW.replace(microsecond=123_456 + n) for n, webhook_id in enumerate(bodies)}
    followers = [row(webhook_id, body=body, received_at=times[webhook_id]) for webhook_id, body in bodies.items()]
    first, outcomes = queue_first_then_release(committer, engine, row("v0"), followers)
    assert first is True and outcomes == [True] * 6
    assert committer.transactions == 2
    with engine.connect() as conn:
        stored = conn.execute(select(webhook_inbox.c.webhook_id, webhook_bodies.c.body, webhook_inbox.c.received_at)
                              .join_from(webhook_inbox, webhook_bodies).order_by(webhook_inbox.c.id)).all()
    assert [r.webhook_id for r in stored] == ["v0", *bodies]
    for r in stored[1:]:
        assert bytes(r.body) == bodies[r.webhook_id]
        assert r.received_at.replace(tzinfo=timezone.utc) == times[r.webhook_id]  # SQLite reads it naive (UTC)


def test_a_value_too_long_for_its_column_fails_alone(engine):
    """A shop domain longer than the column (a DataError on PostgreSQL) fails only its own request."""
    committer = GroupCommitter(engine)
    followers = [row("ok1"), row("long", shop_domain="x" * 300), row("ok2")]
    first, outcomes = queue_first_then_release(committer, engine, row("lead"), followers)
    if engine.dialect.name == "sqlite":  # SQLite does not enforce VARCHAR lengths: stored like the others
        assert outcomes == [True, True, True]
        return
    assert first is True and outcomes[0] is True and outcomes[2] is True
    assert isinstance(outcomes[1], DataError)
    assert stored_ids(engine) == ["lead", "ok1", "ok2"]


def test_the_pool_gets_its_connections_back_in_transactions(engine):
    """The inbox insert runs in autocommit on PostgreSQL; the connection it hands back to the pool opens
    transactions again, so another user's two statements still commit or roll back together."""
    committer = GroupCommitter(engine)
    assert committer.record(row("first")) is not None
    with engine.connect() as conn:
        insert_webhooks(conn, [row("rolled-back")])
        conn.rollback()
    assert stored_ids(engine) == ["first"]
