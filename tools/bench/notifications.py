"""`python -m tools.bench --only notifications`: what customer emails cost (in one process, not through the
production set-up: the work is a scheduled job's, not a request's).

- maturing: orders made available per second, each telling its customer (an outbox row rendered in the
  maturity transaction), against the same run with the programme's emails off (a `skipped` row only) and
  with no email considered at all (points that matured weeks ago);
- sending: emails per second drained from the outbox into var/mail/ (capture) and over SMTP to a local
  aiosmtpd server (one connection per batch of 10).

SQLite (default) or DATABASE_URL; N with BENCH_EMAILS (default 2000).
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert

N = int(os.environ.get("BENCH_EMAILS", "2000"))
T0 = datetime.now(timezone.utc) - timedelta(days=14, hours=1)


def _installation(work: Path, name: str, fresh: bool = True):
    """A migrated database with one shop (store A's programme) and N customers, each with one pending order
    whose pending period just ended (`fresh`) or ended weeks ago (matured without an email)."""
    from cryptography.fernet import Fernet

    from db.migrate import upgrade
    from db.tables import customers, ledger_entries, orders
    from loyalty.domain.programme import template
    from loyalty.services.shops import install_shop, save_programme
    from loyalty.config import Config
    from loyalty.services.context import build_context
    from integrations.crypto import encrypt_token

    url = os.environ.get("DATABASE_URL") or f"sqlite:///{work / f'{name}.db'}"
    upgrade(url)
    key = Fernet.generate_key().decode()
    ctx = build_context(Config(database_url=url, redis_url=None, var_dir=work / name, api_key="bench",
                               api_secrets=("s",), encryption_keys=(key,)))
    with ctx.engine.begin() as conn:
        shop = install_shop(conn, "bench.myshopify.com", encrypt_token((key,), "t"), T0)
        save_programme(conn, shop, template("store-a").with_changes(emails=name != "no-emails"), T0)
        for i in range(N):
            customer_id = conn.execute(insert(customers).values(
                shop_id=shop.id, email=f"c{i}@example.com", created_at=T0)).inserted_primary_key[0]
            order_id = conn.execute(insert(orders).values(
                shop_id=shop.id, shopify_order_id=i + 1, name=f"#{i + 1}", customer_id=customer_id, currency="EUR",
                merchandise=Decimal(120), paid_at=T0, award=120, pending_until=T0 + timedelta(days=14 if fresh else 0), settings_version=2,
            )).inserted_primary_key[0]
            conn.execute(insert(ledger_entries).values(
                shop_id=shop.id, customer_id=customer_id, order_id=order_id, kind="earn", pending=120, available=0,
                reason="bench", idempotency_key=f"b:{i}", effective_at=T0, created_at=T0, settings_version=2))
    return ctx


def _mature(ctx) -> float:
    from loyalty.services import schedule

    now = datetime.now(timezone.utc)
    started = time.perf_counter()
    with ctx.engine.begin() as conn:
        assert schedule.mature(conn, now, now, limit=N) == N
    return N / (time.perf_counter() - started)


def _send(ctx) -> float:
    from jobs.notify import send_notifications

    started = time.perf_counter()
    assert send_notifications(ctx, max_batches=N) == N
    return N / (time.perf_counter() - started)


def run(options) -> list:
    """The four figures (bench/__main__.py prints them and appends them to tools/bench/results.md)."""
    from sqlalchemy import update

    from tools.bench.report import Figure
    from db.tables import notifications
    from tools.mail_server import MailServer

    work = Path(tempfile.mkdtemp(prefix="loyalty-bench-mail-"))
    try:
        matured_bare = _mature(_installation(work, "stale", fresh=False))
        matured_quiet = _mature(_installation(work, "no-emails"))
        ctx = _installation(work, "emails")
        matured = _mature(ctx)
        captured = _send(ctx)
        with ctx.engine.begin() as conn:  # the same emails again, this time over SMTP
            conn.execute(update(notifications).values(status="pending", sent_at=None, transport=None))
        server = MailServer().start()
        try:
            over_smtp = _send(replace(ctx, config=replace(ctx.config, smtp_url=server.url)))
            assert len(server.received) == N
        finally:
            server.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    per_email = "each email marked sent in its own commit (a crash repeats at most one)"
    return [
        Figure("orders matured/s, each with its email rendered and recorded", f"{matured:,.0f}",
               note=f"{N} customers, one process"),
        Figure("orders matured/s, programme emails off (a skipped row each)", f"{matured_quiet:,.0f}"),
        Figure("orders matured/s, no email considered (matured weeks ago)", f"{matured_bare:,.0f}"),
        Figure("emails sent/s, captured to var/mail/", f"{captured:,.0f}", note=per_email),
        Figure("emails sent/s over SMTP to a local aiosmtpd", f"{over_smtp:,.0f}", note="one connection per 10"),
    ]
