"""Slow bodies cannot starve webhooks: the Procfile's real web command (gunicorn from the venv, on a free
loopback port, on a migrated database of each backend) holds more slow clients than it has threads,
each having sent its headers and `Content-Length: 1000000` and dribbling the body; a signed webhook is
still answered 200 well within Shopify's 5 s, and each slow client is answered 408 (or cut) once
LOYALTY_BODY_TIMEOUT has passed."""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from db.tables import webhook_inbox
from loyalty.services.context import build_context
from tests.conftest import KEY, SECRET, SHOP, make_config
from tests.factories import order
from tools.local_services import free_port, kill_tree
from integrations.shopify.webhook_signature import sign

ROOT = Path(__file__).resolve().parents[2]
SLOW_CLIENTS = 40
"""More than the Procfile's 16 threads of a gthread web process (WEB_CONCURRENCY=1 here)."""
BODY_TIMEOUT = 3
"""LOYALTY_BODY_TIMEOUT for this run: short, so the test sees the slow clients cut."""


def procfile_web(port: int) -> str:
    """The Procfile's `web:` command, bound to loopback instead of every interface."""
    line = next(l for l in (ROOT / "Procfile").read_text().splitlines() if l.startswith("web:"))
    return line.removeprefix("web:").strip().replace("0.0.0.0:$PORT", f"127.0.0.1:{port}")


def slow_client(port: int) -> socket.socket:
    """A connection that sent a webhook's headers announcing a 1,000,000-byte body, and one byte of it."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall((f"POST /webhooks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                  f"X-Shopify-Topic: orders/paid\r\nX-Shopify-Shop-Domain: {SHOP}\r\n"
                  f"X-Shopify-Webhook-Id: {uuid.uuid4()}\r\nX-Shopify-Hmac-Sha256: AAAA\r\n"
                  "Content-Length: 1000000\r\n\r\n[").encode())
    return sock


@pytest.fixture
def web(database_url, redis_url, redis_client, tmp_path):
    """The Procfile's web process on a migrated database with store A installed; yields its port."""
    from loyalty.services.shops import install_shop
    from integrations.crypto import encrypt_token

    context = build_context(make_config(database_url, redis_url, tmp_path))
    with context.engine.begin() as conn:
        install_shop(conn, SHOP, encrypt_token((KEY,), "t"), datetime(2024, 1, 1, tzinfo=timezone.utc))
    context.engine.dispose()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOYALTY_", "WEB_", "SHOPIFY_"))}
    env.update(PORT=str(port), DATABASE_URL=database_url, REDIS_URL=redis_url, SHOPIFY_API_SECRET=SECRET,
               LOYALTY_ENCRYPTION_KEYS=KEY, LOYALTY_VAR_DIR=str(tmp_path), WEB_CONCURRENCY="1",
               LOYALTY_BODY_TIMEOUT=str(BODY_TIMEOUT),
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    log = open(tmp_path / "web.log", "wb")
    process = subprocess.Popen(["bash", "-c", "exec " + procfile_web(port)], cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / "web.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the web never answered /healthz"
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)
        yield port
    finally:
        kill_tree(process)
        log.close()


def test_slow_bodies_do_not_hold_what_webhooks_need(web, ctx):
    """40 connections dribbling a 1 MB body one byte every 0.5 s: a valid signed webhook sent meanwhile
    is answered 200 and recorded, within Shopify's 5 s (requests gives up after 5 s; gevent answers in
    milliseconds, so the margin is wide). Every slow client then gets 408 (or its connection closed)
    within BODY_TIMEOUT plus 5 s of margin for a loaded machine. (With the former gthread default the 16
    threads were all held and the webhook waited for as long as the slow clients kept sending.)"""
    port = web
    clients = [slow_client(port) for _ in range(SLOW_CLIENTS)]
    opened = time.monotonic()
    stop = threading.Event()

    def dribble():
        while not stop.wait(0.5) and time.monotonic() - opened < BODY_TIMEOUT + 10:
            for sock in clients:
                try:
                    sock.send(b"1")
                except OSError:  # cut by the server: that is the point
                    pass
    dribbler = threading.Thread(target=dribble, daemon=True)
    dribbler.start()
    try:
        time.sleep(1)  # let the server take up every slow client before the webhook comes
        body = json.dumps(order(email="on-time@example.com")).encode()
        sent = time.monotonic()
        answer = requests.post(f"http://127.0.0.1:{port}/webhooks", data=body, timeout=5, headers={
            "X-Shopify-Topic": "orders/paid", "X-Shopify-Shop-Domain": SHOP,
            "X-Shopify-Webhook-Id": str(uuid.uuid4()), "X-Shopify-Hmac-Sha256": sign(SECRET, body),
            "Content-Type": "application/json"})
        waited = time.monotonic() - sent
        assert answer.status_code == 200 and answer.headers["X-Loyalty-Webhook"] == "recorded"
        assert waited < 5

        outcomes = []
        for sock in clients:
            sock.settimeout(max(0.1, opened + BODY_TIMEOUT + 5 - time.monotonic()))
            try:
                first = sock.recv(64)
                outcomes.append(re.match(rb"HTTP/1\.1 (\d+)", first).group(1).decode() if first else "closed")
            except ConnectionResetError:
                outcomes.append("closed")
            except TimeoutError:
                outcomes.append("still held")
        assert set(outcomes) <= {"408", "closed"} and "408" in outcomes, outcomes
    finally:
        stop.set()
        dribbler.join(5)
        for sock in clients:
            sock.close()
    with ctx.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(webhook_inbox)).scalar() == 1
