"""The inbox writer (webhooks.writer): one process checks and commits the webhooks of every web
thread and process; each request still hears exactly the answer it would have had from the web itself
(recorded, duplicate, refused and why), and the web decides and writes the row itself whenever the
writer cannot be reached."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from db.engine import make_engine
from db.tables import shops, webhook_bodies, webhook_inbox
from loyalty.services.context import build_context
from tests.conftest import SECRET, SHOP, Sender, make_config
from tests.factories import order
from webhooks import intake
from webhooks.writer import client as writer_client
from webhooks.writer.client import WriterClient
from webhooks.writer.protocol import HEADER
from webhooks.writer.server import InboxWriter
from webhooks.intake import Delivery
from integrations.shopify.webhook_signature import sign

NOW = datetime(2025, 1, 1, tzinfo=timezone.utc)
REPO = Path(__file__).resolve().parents[2]


def delivery(webhook_id, body=b'{"id": 1, "line_items": []}', topic="orders/paid", shop=SHOP, secret=SECRET, hmac=None):
    """A delivery signed as Shopify signs it (or with the given signature header)."""
    return Delivery(hmac if hmac is not None else sign(secret, body), topic, shop, webhook_id, body, NOW)


@pytest.fixture
def socket_path():
    """A short path for the Unix socket (they are limited to about 100 bytes)."""
    directory = tempfile.mkdtemp(prefix="iw-")
    yield Path(directory) / "inbox.sock"
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def writer_ctx(ctx, shop, socket_path):
    """The writer's context: the web's (short lock timeout; PostgreSQL's statement_timeout within the
    client's 3 s), on the test database with store A installed."""
    context = build_context(make_config(ctx.config.database_url, ctx.config.redis_url, ctx.config.var_dir,
                                        inbox_socket=str(socket_path), db_timeout_seconds=0.2))
    yield context
    context.engine.dispose()


@contextmanager
def running_writer(path: Path, context):
    """An InboxWriter serving `path` from a thread until the block ends."""
    writer = InboxWriter(path, context)
    thread = threading.Thread(target=writer.serve_forever, daemon=True)
    thread.start()
    try:
        yield writer
    finally:
        writer.stop()
        thread.join(timeout=10)
        assert not thread.is_alive()


def stored(engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(webhook_inbox.c.webhook_id)).scalars())


def test_deliveries_from_many_threads_are_committed_once_in_shared_transactions(socket_path, writer_ctx):
    """Eight threads send 40 webhooks each, every id twice: each id is stored once, exactly one of its two
    requests hears 'recorded', the stored row is the one sent, and fewer transactions than rows were used."""
    ids = [f"t{i}" for i in range(160)]
    results: list[tuple[str, object]] = []
    lock = threading.Lock()
    with running_writer(socket_path, writer_ctx) as writer:
        client = WriterClient(str(socket_path))

        def run(k):
            for j in range(40):
                webhook_id = ids[(k * 40 + j) % 160]
                try:
                    body = f'{{"id": 1, "name": "{webhook_id}", "line_items": []}}'.encode()
                    outcome = client.deliver(delivery(webhook_id, body=body))
                except Exception as exc:  # noqa: BLE001 - the outcome under test
                    outcome = exc
                with lock:
                    results.append((webhook_id, outcome))

        threads = [threading.Thread(target=run, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        batches = writer.batches
    assert len(results) == 320
    for webhook_id in ids:
        got = sorted((o.message for i, o in results if i == webhook_id), key=str)
        assert got == ["duplicate", "recorded"], (webhook_id, got)
    assert stored(writer_ctx.engine) == sorted(ids)
    with writer_ctx.engine.connect() as conn:
        got = conn.execute(select(webhook_bodies.c.body, webhook_inbox.c.received_at, webhook_inbox.c.topic)
                           .join_from(webhook_inbox, webhook_bodies).where(webhook_inbox.c.webhook_id == "t7")).one()
    assert bytes(got.body) == b'{"id": 1, "name": "t7", "line_items": []}' and got.topic == "orders/paid"
    assert got.received_at.replace(tzinfo=timezone.utc) == NOW
    assert batches < 320


OTHER = "store-b.myshopify.com"
OTHERS_ORDER = {"id": 3, "line_items": [], "order_status_url": f"https://{OTHER}/2/orders/abc/authenticate?key=k"}
"""An order of store B (Shopify id 2): its status URL names B's domain and id."""


def body(value: dict) -> bytes:
    return json.dumps(value).encode()


def test_the_writer_refuses_what_the_web_refuses_with_the_same_answers(socket_path, writer_ctx):
    """Each kind of bad delivery through the writer gets the answer the web gives when it decides itself
    (status and body), and nothing of them is stored; a good one sent beside them is recorded. Among them,
    bodies of another shop sent for store A (Shopify signs bodies with one secret for every shop, and not
    the shop header) and bodies of another topic's shape."""
    with writer_ctx.engine.begin() as conn:  # store A's Shopify id, as its install read it
        conn.execute(shops.update().where(shops.c.domain == SHOP).values(shopify_shop_id=1))
    cases = {
        "B's shop/redact": delivery("r1", topic="shop/redact", body=body({"shop_id": 2, "shop_domain": OTHER})),
        "B's customers/redact": delivery("r2", topic="customers/redact", body=body(
            {"shop_id": 2, "shop_domain": OTHER, "customer": {"id": 5}, "orders_to_redact": []})),
        "B's app/uninstalled": delivery("r3", topic="app/uninstalled", body=body({"id": 2, "myshopify_domain": OTHER})),
        "B's orders/paid": delivery("r4", body=body(OTHERS_ORDER)),
        "B's orders/cancelled": delivery("r5", topic="orders/cancelled", body=body(
            {**OTHERS_ORDER, "cancelled_at": "2025-01-01T00:00:00Z"})),
        "another shop's id": delivery("r6", topic="shop/redact", body=body({"shop_id": 2, "shop_domain": SHOP})),
        "customers/redact as shop/redact": delivery("s1", topic="shop/redact", body=body(
            {"shop_id": 1, "shop_domain": SHOP, "customer": {"id": 5}, "orders_to_redact": []})),
        "an order as app/uninstalled": delivery("s2", topic="app/uninstalled"),
        "forged": delivery("forged", hmac="bm9wZQ=="),
        "unsigned": delivery("unsigned", hmac=""),
        "other secret": delivery("other-secret", secret="not-the-app-secret"),
        "no id": delivery(""),
        "topic": delivery("topic", topic="products/update"),
        "not JSON": delivery("not-json", body=b"{oops"),
        "unknown shop": delivery("unknown-shop", shop="nobody.myshopify.com"),
        "privacy, unknown shop": delivery("redact-unknown", topic="shop/redact", shop="nobody.myshopify.com",
                                          body=b'{"shop_id": 9, "shop_domain": "nobody.myshopify.com"}'),
    }
    from webhooks.inbox import ShopDirectory
    from webhooks.views import receive_here

    with running_writer(socket_path, writer_ctx):
        client = WriterClient(str(socket_path))
        through_writer = {name: client.deliver(d) for name, d in cases.items()}
        good = client.deliver(delivery("good"))
    here = {name: receive_here(writer_ctx, ShopDirectory(), d) for name, d in cases.items()}
    assert through_writer == here
    assert {name: a.status for name, a in here.items()} == {
        "B's shop/redact": 403, "B's customers/redact": 403, "B's app/uninstalled": 403, "B's orders/paid": 403,
        "B's orders/cancelled": 403, "another shop's id": 403, "customers/redact as shop/redact": 400,
        "an order as app/uninstalled": 400,
        "forged": 401, "unsigned": 401, "other secret": 401, "no id": 400, "topic": 200, "not JSON": 400,
        "unknown shop": 404, "privacy, unknown shop": 200}
    assert through_writer["topic"].message == "ignored: topic not handled"
    assert good is intake.RECORDED
    assert stored(writer_ctx.engine) == ["good"]


def test_a_header_too_long_for_a_frame_is_decided_by_the_web_and_the_pipe_stays(socket_path, writer_ctx):
    """A signature header of 5,000 characters would make the writer close the connection every request
    shares: the client does not send it (the web decides: 401), and the connection stays up."""
    from runtime.web import create_app

    with running_writer(socket_path, writer_ctx) as writer:
        send = Sender(create_app(writer_ctx).test_client())
        first = send("orders/paid", order(email="a@example.com"), webhook_id="before")
        pipe = writer_client.client_for(str(socket_path))._pipe
        huge = send("orders/paid", order(email="b@example.com"), webhook_id="huge",
                    headers={"X-Shopify-Hmac-Sha256": "A" * 5000})
        after = send("orders/paid", order(email="c@example.com"), webhook_id="after")
        assert writer_client.client_for(str(socket_path))._pipe is pipe and not pipe.closed
        assert writer.batches == 2
    assert (first.headers["X-Loyalty-Webhook"], huge.status_code, after.headers["X-Loyalty-Webhook"]) == ("recorded", 401, "recorded")
    assert stored(writer_ctx.engine) == ["after", "before"]


def uninstalled_at(engine):
    with engine.connect() as conn:
        return conn.execute(select(shops.c.uninstalled_at).where(shops.c.domain == SHOP)).scalar()


def test_app_uninstalled_through_the_writer_stops_the_shop_once_shopify_confirms(socket_path, writer_ctx, shopify,
                                                                                 process):
    """app/uninstalled committed by the writer is recorded, not acted on in the request (its topic header
    is not signed); the worker has Shopify confirm it (the app's token refused) and marks the shop
    uninstalled; then the next order of that shop is ignored, a privacy webhook still recorded."""
    shopify.uninstall_app(SHOP)
    with running_writer(socket_path, writer_ctx) as writer:
        client = WriterClient(str(socket_path))
        bye = json.dumps({"id": 1, "myshopify_domain": SHOP}).encode()
        assert client.deliver(delivery("bye", topic="app/uninstalled", body=bye)) is intake.RECORDED
        assert uninstalled_at(writer_ctx.engine) is None
        assert process() == 1
        assert uninstalled_at(writer_ctx.engine) is not None
        writer.directory.forget()  # as its cache running out does, within SHOP_CACHE_SECONDS
        late = client.deliver(delivery("late-order"))
        redact = client.deliver(delivery("redact", topic="customers/redact", body=json.dumps(
            {"shop_id": 1, "shop_domain": SHOP, "customer": {"id": 2}, "orders_to_redact": []}).encode()))
        assert writer.directory.status(writer_ctx, SHOP) == "uninstalled"
    assert (late.status, late.message) == (200, "ignored: shop uninstalled")
    assert redact is intake.RECORDED
    assert stored(writer_ctx.engine) == ["bye", "redact"]


def test_a_locked_database_is_refused_with_a_503(socket_path, writer_ctx):
    """The writer's database is locked past its timeout: the request hears 503 (Shopify retries), and
    the row is not stored; once the lock goes, the same webhook is recorded."""
    with running_writer(socket_path, writer_ctx):
        client = WriterClient(str(socket_path))
        holder = make_engine(writer_ctx.config.database_url, timeout_seconds=5.0)
        conn = holder.connect()
        conn.begin()
        if holder.dialect.name == "postgresql":
            conn.execute(text("SET lock_timeout = '5s'"))
            conn.execute(text("LOCK TABLE webhook_inbox IN ACCESS EXCLUSIVE MODE"))
        try:
            refused = client.deliver(delivery("while-locked"))
        finally:
            conn.rollback()
            conn.close()
            holder.dispose()
        assert (refused.status, refused.message) == (503, "database unavailable, retry later")
        assert client.deliver(delivery("while-locked")) is intake.RECORDED
    assert stored(writer_ctx.engine) == ["while-locked"]


def test_no_writer_means_the_web_writes_the_row_itself(socket_path, writer_ctx):
    """LOYALTY_INBOX_SOCKET names a socket nobody serves: the webhook is still recorded (200) by the web
    process's own group commit, and nothing is lost."""
    from runtime.web import create_app

    response = Sender(create_app(writer_ctx).test_client())("orders/paid", order(email="alone@example.com"),
                                                           webhook_id="no-writer")
    assert response.status_code == 200 and response.headers["X-Loyalty-Webhook"] == "recorded"
    assert stored(writer_ctx.engine) == ["no-writer"]


def test_webhooks_through_the_app_are_committed_by_the_writer(socket_path, writer_ctx):
    """With a writer serving LOYALTY_INBOX_SOCKET, the app's webhooks are committed by it (its batch
    count moves), a redelivery is answered 'duplicate', a worker is woken, and it applies them."""
    from jobs.inbox import WAKE_KEY, process_inbox
    from runtime.web import create_app

    writer_ctx.redis.delete(WAKE_KEY)
    with running_writer(socket_path, writer_ctx) as writer:
        send = Sender(create_app(writer_ctx).test_client())
        payload = order(email="writer@example.com")
        first = send("orders/paid", payload, webhook_id="via-writer")
        again = send("orders/paid", payload, webhook_id="via-writer")
        assert writer.batches == 2
        deadline = time.monotonic() + 30  # liveness: the wake-up thread may be slow to run on a loaded machine
        while not writer_ctx.redis.exists(WAKE_KEY):  # the writer's wake-up thread asked Redis
            assert time.monotonic() < deadline, "no worker woken"
            time.sleep(0.01)
    assert (first.status_code, first.headers["X-Loyalty-Webhook"]) == (200, "recorded")
    assert (again.status_code, again.headers["X-Loyalty-Webhook"]) == (200, "duplicate")
    assert process_inbox(ctx=writer_ctx) == 1


def test_a_restarted_writer_is_redialled(socket_path, writer_ctx):
    """The writer stops and another starts on the same socket: the client's old connection is dead, it
    dials again and the row is recorded, once."""
    client = WriterClient(str(socket_path))
    with running_writer(socket_path, writer_ctx):
        assert client.deliver(delivery("before")) is intake.RECORDED
    with running_writer(socket_path, writer_ctx):
        assert client.deliver(delivery("after")) is intake.RECORDED
        assert client.deliver(delivery("after")) is intake.DUPLICATE
    assert stored(writer_ctx.engine) == ["after", "before"]


def test_a_frame_over_the_limits_closes_only_its_connection(socket_path, writer_ctx):
    """A frame announcing a body over the limit: that connection is closed, the writer goes on serving."""
    with running_writer(socket_path, writer_ctx):
        rogue = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        rogue.settimeout(5)
        rogue.connect(str(socket_path))
        rogue.sendall(HEADER.pack(writer_ctx.config.webhook_max_bytes + 1, 1, 1, 1, 1, 0.0))
        assert rogue.recv(1) == b""  # closed without an answer
        rogue.close()
        assert WriterClient(str(socket_path)).deliver(delivery("fine")) is intake.RECORDED
    assert stored(writer_ctx.engine) == ["fine"]


def test_a_second_writer_on_a_live_socket_refuses_to_start(socket_path, writer_ctx):
    """Two writers cannot share a socket: the second says so instead of stealing it."""
    with running_writer(socket_path, writer_ctx):
        with pytest.raises(RuntimeError, match="another inbox writer"):
            InboxWriter(socket_path, writer_ctx)
        assert WriterClient(str(socket_path)).deliver(delivery("still-served")) is intake.RECORDED


def writer_env(context, redis_url: str, socket_path: Path) -> dict:
    """The environment `python -m webhooks.writer` runs with, on the test's database and Redis."""
    return {**os.environ, "DATABASE_URL": context.config.database_url, "REDIS_URL": redis_url,
            "SHOPIFY_API_KEY": "k", "SHOPIFY_API_SECRET": SECRET, "LOYALTY_INBOX_SOCKET": str(socket_path),
            "LOYALTY_VAR_DIR": str(socket_path.parent), "LOYALTY_ENCRYPTION_KEYS": context.config.encryption_keys[0]}


def start_writer_process(env: dict, socket_path: Path) -> subprocess.Popen:
    """The writer as make run starts it, once it listens."""
    process = subprocess.Popen([sys.executable, "-m", "webhooks.writer"], cwd=REPO, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while not socket_path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"the writer never listened: {process.stderr.read().decode()[-2000:]}")
        time.sleep(0.05)
    return process


def test_the_writer_process_killed_mid_stream_loses_nothing(socket_path, ctx, shop, redis_url):
    """`python -m webhooks.writer` as make run starts it; SIGKILLed while webhooks stream in from
    four threads: every webhook answered 200 is stored (the web writes them itself once the writer is
    gone), each exactly once."""
    from runtime.web import create_app

    process = start_writer_process(writer_env(ctx, redis_url, socket_path), socket_path)
    context = build_context(make_config(ctx.config.database_url, ctx.config.redis_url, ctx.config.var_dir,
                                        inbox_socket=str(socket_path)))
    try:
        app = create_app(context)
        answered: list[str] = []
        lock = threading.Lock()

        def stream(k):
            send = Sender(app.test_client())
            for j in range(60):
                webhook_id = f"s{k}-{j}"
                if send("orders/paid", order(email=f"k{k}@example.com"), webhook_id=webhook_id).status_code == 200:
                    with lock:
                        answered.append(webhook_id)

        threads = [threading.Thread(target=stream, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        while len(answered) < 60:
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
        for t in threads:
            t.join(timeout=60)
        assert len(answered) == 240  # nothing refused: the web took over
        with context.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(webhook_inbox)).scalar() == 240
        assert sorted(stored(context.engine)) == sorted(answered)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        context.engine.dispose()


GEVENT_CLIENT = """
from gevent import monkey
monkey.patch_all()
import json, sys
from datetime import datetime, timezone
import gevent
from webhooks.writer.client import client_for
from webhooks.intake import Delivery
from integrations.shopify.webhook_signature import sign

path, secret, shop = sys.argv[1:4]
now = datetime(2025, 1, 1, tzinfo=timezone.utc)

def deliver(i):
    body = json.dumps({"id": i % 150, "line_items": []}).encode()
    signature = sign(secret, body) if i % 7 else "forged"
    answer = client_for(path).deliver(Delivery(signature, "orders/paid", shop, f"g{i % 150}", body, now))
    return None if answer is None else [answer.status, answer.message]

greenlets = [gevent.spawn(deliver, i) for i in range(600)]
gevent.joinall(greenlets, timeout=60)
print(json.dumps([g.value for g in greenlets]))
"""


def test_under_gevent_each_greenlet_hears_its_own_answer(socket_path, writer_ctx, redis_url):
    """The web's side as gunicorn's gevent worker runs it (sockets patched, bursts written from the hub):
    600 greenlets at once, forged signatures among them and every id sent four times. Each hears the
    answer to its own delivery, never its neighbour's: 401 for each forged one, and for each id exactly one
    'recorded', the rest 'duplicate'; the writer process answered them all."""
    env = writer_env(writer_ctx, redis_url, socket_path)
    writer = start_writer_process(env, socket_path)
    try:
        client = subprocess.run([sys.executable, "-c", GEVENT_CLIENT, str(socket_path), SECRET, SHOP], cwd=REPO,
                                env=env, capture_output=True, timeout=120)
        assert client.returncode == 0, client.stderr.decode()[-2000:]
        answers = json.loads(client.stdout)
    finally:
        writer.terminate()
        writer.wait(timeout=10)
    assert None not in answers  # all answered by the writer, none left to the web
    assert all(answers[i] == [401, "invalid signature"] for i in range(600) if i % 7 == 0)
    for webhook in range(150):
        heard = sorted(answers[i][1] for i in range(600) if i % 150 == webhook and i % 7)
        assert heard == ["duplicate"] * (len(heard) - 1) + ["recorded"], (webhook, heard)
    assert stored(writer_ctx.engine) == sorted(f"g{i}" for i in range(150))


def test_make_run_starts_the_writer_on_sqlite_only():
    """The launcher's process list: the inbox writer (and its socket under var/) on SQLite, not on
    PostgreSQL, and not when LOYALTY_INBOX_WRITER=off."""
    from tools.launcher import process_commands

    env = {"LOYALTY_VAR_DIR": "/srv/loyalty/var"}
    commands = process_commands(Path("/venv/bin"), env, "redis://x", "8000")
    assert commands["inbox"] == ["/venv/bin/python", "-m", "webhooks.writer"]
    assert list(commands)[:2] == ["inbox", "web"]  # listening before the web sends to it
    assert env["LOYALTY_INBOX_SOCKET"] == "/srv/loyalty/var/inbox.sock"
    pg_env = {"DATABASE_URL": "postgresql://db/x"}
    assert "inbox" not in process_commands(Path("/venv/bin"), pg_env, "redis://x", "8000")
    assert "LOYALTY_INBOX_SOCKET" not in pg_env
    off = {"LOYALTY_INBOX_WRITER": "off"}
    assert "inbox" not in process_commands(Path("/venv/bin"), off, "redis://x", "8000")


def test_the_writer_can_be_asked_for_on_postgresql_beside_the_same_web():
    """LOYALTY_INBOX_WRITER=on starts the writer on PostgreSQL too (the benchmark compares both ways), with
    the web command unchanged; =off on SQLite leaves the web command unchanged as well."""
    from tools.launcher import process_commands

    default = process_commands(Path("/venv/bin"), {"DATABASE_URL": "postgresql://db/x"}, "redis://x", "8000")
    pg_on = {"DATABASE_URL": "postgresql://db/x", "LOYALTY_INBOX_WRITER": "on", "LOYALTY_VAR_DIR": "/srv/var"}
    with_writer = process_commands(Path("/venv/bin"), pg_on, "redis://x", "8000")
    assert with_writer["inbox"] == ["/venv/bin/python", "-m", "webhooks.writer"]
    assert pg_on["LOYALTY_INBOX_SOCKET"] == "/srv/var/inbox.sock"
    assert with_writer["web"] == default["web"]
    sqlite_on = process_commands(Path("/venv/bin"), {}, "redis://x", "8000")
    sqlite_off = process_commands(Path("/venv/bin"), {"LOYALTY_INBOX_WRITER": "off"}, "redis://x", "8000")
    assert sqlite_off["web"] == sqlite_on["web"]
