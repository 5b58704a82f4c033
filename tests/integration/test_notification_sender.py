"""The sender drains the outbox over real SMTP (an aiosmtpd server started by the test): each email sent
exactly once even with two senders at once, retried after a temporary failure, given up after a permanent
one (and retried by hand); without SMTP_URL emails are captured under var/mail/ and shown at /dev/mail."""
from __future__ import annotations

import email
import email.policy
import threading
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from click.testing import CliRunner
from sqlalchemy import select

from db.tables import notifications
from jobs import notify as sender
from loyalty.services import notifications as outbox
from loyalty.services.customers import resolve_customer
from loyalty.domain.programme import template

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=timezone.utc)


def with_smtp(ctx, url):
    """The same context with SMTP_URL set."""
    return replace(ctx, config=replace(ctx.config, smtp_url=url, smtp_from="Loyalty <loyalty@shop.example>"))


def record(ctx, shop, count, prog=None):
    """`count` threshold emails to distinct customers; returns their addresses."""
    prog = prog or template("store-a")
    addresses = [f"c{i}@example.com" for i in range(count)]
    with ctx.engine.begin() as conn:
        for i, address in enumerate(addresses):
            customer_id = resolve_customer(conn, shop.id, 1000 + i, address, T0)
            outbox.notify_perks_granted(conn, shop, prog, customer_id, prog.perks[:1], T0)
    return addresses


def rows(ctx):
    with ctx.engine.connect() as conn:
        return conn.execute(select(notifications).order_by(notifications.c.id)).all()


def test_emails_are_sent_over_smtp_with_text_and_html(ctx, shop, mail_server):
    """One message per row, multipart text + HTML, from SMTP_FROM, marked sent once."""
    [address] = record(ctx, shop, 1)
    assert sender.send_notifications(with_smtp(ctx, mail_server.url), now=T0) == 1
    assert sender.send_notifications(with_smtp(ctx, mail_server.url), now=T0) == 0
    [message] = mail_server.received
    assert message["To"] == address and message["From"] == "Loyalty <loyalty@shop.example>"
    assert message["Subject"] == "Nouvel avantage fidélité : Une surprise pour ton anniversaire"
    assert [part.get_content_type() for part in message.walk()][1:] == ["text/plain", "text/html"]
    [row] = rows(ctx)
    assert (row.status, row.transport, row.attempts) == ("sent", "smtp", 1) and row.sent_at is not None


def test_two_senders_at_once_send_each_email_exactly_once(ctx, shop, mail_server):
    """Two workers draining the same outbox concurrently: every email arrives once, none twice."""
    addresses = record(ctx, shop, 30)
    smtp_ctx = with_smtp(ctx, mail_server.url)
    results, start = [], threading.Barrier(2)

    def worker():
        start.wait()
        results.append(sender.send_notifications(smtp_ctx, now=T0))
    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sum(results) == 30
    assert sorted(m["To"] for m in mail_server.received) == sorted(addresses)
    assert len({m["Message-ID"] for m in mail_server.received}) == 30
    assert {r.status for r in rows(ctx)} == {"sent"}


def test_a_temporary_smtp_failure_is_retried_after_a_backoff(ctx, shop, mail_server):
    """451: the row waits with the error, is not retried before its time, then is sent."""
    record(ctx, shop, 1)
    mail_server.refuse(1)
    smtp_ctx = with_smtp(ctx, mail_server.url)
    assert sender.send_notifications(smtp_ctx, now=T0) == 0
    [row] = rows(ctx)
    assert (row.status, row.attempts) == ("pending", 1) and "451" in row.last_error
    assert row.next_attempt_at.replace(tzinfo=timezone.utc) == T0 + timedelta(minutes=1)
    assert sender.send_notifications(smtp_ctx, now=T0 + timedelta(seconds=30)) == 0
    assert sender.send_notifications(smtp_ctx, now=T0 + timedelta(minutes=1)) == 1
    assert len(mail_server.received) == 1 and rows(ctx)[0].status == "sent"


def test_an_unreachable_server_keeps_every_email_waiting(ctx, shop):
    """No server listening: nothing is lost, each row records the error and waits for its next attempt."""
    from tools.local_services import free_port

    record(ctx, shop, 3)
    assert sender.send_notifications(with_smtp(ctx, f"smtp://127.0.0.1:{free_port()}"), now=T0) == 0
    assert [(r.status, r.attempts) for r in rows(ctx)] == [("pending", 1)] * 3
    assert all("Connection" in r.last_error or "refused" in r.last_error for r in rows(ctx))


def test_failures_give_up_after_the_last_attempt_and_can_be_retried_by_hand(ctx, shop, mail_server, monkeypatch):
    """A permanent refusal (550) fails at once; repeated temporary ones fail after MAX_ATTEMPTS; both are
    listed by `loyalty notifications failed` and sent again after `retry --all`."""
    from cli.main import main

    record(ctx, shop, 2)
    smtp_ctx = with_smtp(ctx, mail_server.url)
    mail_server.refuse(1, "550 5.1.1 no such mailbox")
    mail_server.refuse(sender.MAX_ATTEMPTS, "451 4.3.0 busy")
    at = T0
    for _ in range(sender.MAX_ATTEMPTS):
        sender.send_notifications(smtp_ctx, now=at)
        at += timedelta(hours=1)
    first, second = rows(ctx)
    assert (first.status, first.attempts) == ("failed", 1) and "550" in first.last_error
    assert (second.status, second.attempts) == ("failed", sender.MAX_ATTEMPTS) and "451" in second.last_error
    monkeypatch.setattr("cli.notifications.context", lambda: smtp_ctx)
    runner = CliRunner()
    listed = runner.invoke(main, ["notifications", "failed"])
    assert listed.exit_code == 0 and len(listed.output.strip().splitlines()) == 2
    assert '"status": "failed"' in listed.output and "550" in listed.output
    assert runner.invoke(main, ["notifications", "status"]).output.strip() == (
        '{"pending": 0, "sent": 0, "failed": 2, "skipped": 0}')
    assert runner.invoke(main, ["notifications", "retry", "--all"]).exit_code == 0
    assert runner.invoke(main, ["notifications", "send"]).output.strip() == "2 emails sent"
    assert len(mail_server.received) == 2


def test_without_smtp_url_emails_are_captured_and_viewable(ctx, shop, tmp_path, monkeypatch):
    """Demo and local runs: each email becomes an .eml file under var/mail/SHOP/ and is marked sent as
    captured; `loyalty notifications list SHOP` and `show ID` print it."""
    from cli.main import main

    record(ctx, shop, 1)
    assert ctx.config.smtp_url is None
    assert sender.send_notifications(ctx, now=T0) == 1
    [row] = rows(ctx)
    assert (row.status, row.transport) == ("sent", "capture")
    [eml] = (tmp_path / "mail" / shop.domain).glob("*.eml")
    assert eml.name == f"{row.id}-threshold_reached.eml"
    captured = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert captured["Subject"] == "Nouvel avantage fidélité : Une surprise pour ton anniversaire"
    assert captured["To"] == "c0@example.com"
    monkeypatch.setattr("cli.notifications.context", lambda: ctx)
    listed = CliRunner().invoke(main, ["notifications", "list", shop.domain])
    assert '"subject": "Nouvel avantage fidélité : Une surprise pour ton anniversaire"' in listed.output
    shown = CliRunner().invoke(main, ["notifications", "show", str(row.id)])
    assert "To: c0@example.com" in shown.output and "Comment en bénéficier" in shown.output


def test_the_demo_mailbox_page_exists_only_in_demo_mode_without_smtp(ctx, tmp_path):
    """GET /dev/mail lists the demo shop's captured emails in demo mode; with SMTP_URL, or outside demo mode,
    it does not exist."""
    from loyalty.services.shops import install_shop
    from loyalty.services.context import build_context
    from loyalty.demo import DEMO_SHOP
    from runtime.web import create_app
    from tests.conftest import demo_config

    demo = build_context(demo_config(ctx.config.database_url, ctx.config.redis_url, tmp_path))
    with demo.engine.begin() as conn:
        demo_shop = install_shop(conn, DEMO_SHOP, b"t", T0)
    record(demo, demo_shop, 1)
    page = create_app(demo).test_client().get("/dev/mail")
    assert page.status_code == 200 and "Nouvel avantage fidélité" in page.get_data(as_text=True)
    [row] = rows(ctx)
    one = create_app(demo).test_client().get(f"/dev/mail/{row.id}")
    assert one.status_code == 200 and "Comment en bénéficier" in one.get_data(as_text=True)
    assert create_app(with_smtp(demo, "smtp://mail.example:587")).test_client().get("/dev/mail").status_code == 404
    assert create_app(ctx).test_client().get("/dev/mail").status_code == 404
    demo.engine.dispose()


def test_an_email_is_not_sent_to_a_customer_who_opted_out_since(ctx, shop, mail_server):
    """Recorded while the customer accepted emails, then they opted out: the sender skips it, with why."""
    from loyalty.services.customers import find_customer
    from loyalty.services.notifications import set_accepts_emails

    record(ctx, shop, 2)
    with ctx.engine.begin() as conn:
        set_accepts_emails(conn, shop.id, find_customer(conn, shop.id, "c1@example.com").id, False)
    assert sender.send_notifications(with_smtp(ctx, mail_server.url), now=T0) == 1
    assert [m["To"] for m in mail_server.received] == ["c0@example.com"]
    assert [(r.status, r.last_error) for r in rows(ctx)] == [
        ("sent", None), ("skipped", "the customer opted out of loyalty emails")]
