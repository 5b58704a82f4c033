"""Customer emails are recorded in the outbox with the event that causes them (points available, a perk
unlocked, a voucher created, points about to expire), once each, and only for customers who may receive
them."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from db.tables import notifications
from loyalty.services import notifications as outbox, schedule
from loyalty.services.customers import find_customer, resolve_customer
from loyalty.domain.programme import template
from loyalty.services.shops import programme, save_programme
from tests.factories import customer, order

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=timezone.utc)


def emails(ctx, **where):
    """The outbox rows, oldest first, optionally filtered by column values."""
    query = select(notifications).order_by(notifications.c.id)
    for column, value in where.items():
        query = query.where(notifications.c[column] == value)
    with ctx.engine.connect() as conn:
        return conn.execute(query).all()


def use(ctx, shop, name, **changes):
    """Run the shop on a template programme (with changes)."""
    with ctx.engine.begin() as conn:
        save_programme(conn, shop, template(name).with_changes(**changes), T0)


def mature(ctx, as_of):
    """The maturity job, at the business time `as_of` (its clock too)."""
    with ctx.engine.begin() as conn:
        return schedule.mature(conn, as_of, as_of)


def test_points_becoming_available_are_told_once_in_the_programme_language(send, process, ctx, shop):
    """Store A (French): 14 days after the order, one email with the points, the order and the balance."""
    use(ctx, shop, "store-a", shop_name="Maison A")
    body = order(lines=((120, 1),), email="alice@example.com", customer_id=11, processed_at=T0.isoformat())
    send("orders/paid", body)
    process()
    assert emails(ctx) == []
    mature(ctx, T0 + timedelta(days=14))
    mature(ctx, T0 + timedelta(days=15))
    [email] = emails(ctx)
    assert (email.kind, email.language, email.status, email.to_address) == (
        "points_available", "fr", "pending", "alice@example.com")
    assert email.subject == "120 points disponibles sur ton compte fidélité"
    assert f"ta commande {body['name']}" in email.body_text and "Maison A" in email.body_text


def test_one_email_per_customer_when_several_orders_mature_together(send, process, ctx, shop):
    """Two orders maturing in one run make one email naming both, with their total."""
    use(ctx, shop, "store-b")
    first, second = (order(lines=((p, 1),), email="bob@example.com", processed_at=T0.isoformat()) for p in (60, 40))
    send("orders/paid", first)
    send("orders/paid", second)
    process()
    mature(ctx, T0 + timedelta(days=14))
    [email] = emails(ctx)
    assert email.subject == "100 points now available in your loyalty account"
    assert first["name"] in email.body_text and second["name"] in email.body_text


def test_points_that_matured_long_ago_are_not_announced(send, process, ctx, shop):
    """An imported history (or a scheduler down for weeks) matures old points without a flood of email."""
    send("orders/paid", order(processed_at=T0.isoformat()))
    process()
    with ctx.engine.begin() as conn:
        assert schedule.mature(conn, T0 + timedelta(days=30), now=T0 + timedelta(days=30)) == 1
    assert emails(ctx) == []


def test_store_a_threshold_email_when_crossing_150_points(send, process, ctx, shop):
    """Crossing 150 confirmed lifetime points unlocks two perks: one email names both and says how to enjoy
    each ("Tu seras prévenu·e par mail. Nous te préciserons alors comment bénéficier de l'avantage.")."""
    from loyalty.domain.standing import confirmed_lifetime
    from loyalty.services import ledger, perks

    use(ctx, shop, "store-a")
    send("orders/paid", order(lines=((100, 1),), email="claire@example.com", processed_at=T0.isoformat()))
    send("orders/paid", order(lines=((50, 1),), email="claire@example.com", processed_at=T0.isoformat()))
    process()
    prog = template("store-a")

    def refresh(as_of):
        with ctx.engine.begin() as conn:
            claire = find_customer(conn, shop.id, "claire@example.com").id
            lifetime = confirmed_lifetime(ledger.balance(conn, claire))
            return perks.refresh_perks(conn, shop, prog, claire, lifetime, as_of).granted

    def granted():
        with ctx.engine.connect() as conn:
            return [g.reward_key for g in perks.grants_of(conn, find_customer(conn, shop.id, "claire@example.com").id)]
    assert refresh(T0) == [] and granted() == []  # pending points do not count yet
    mature(ctx, T0 + timedelta(days=14))  # the maturity crosses 150: it grants them, in its own transaction
    assert granted() == ["anniversaire", "avant-premiere"]
    assert refresh(T0 + timedelta(days=15)) == []  # granted once
    [email] = emails(ctx, kind="threshold_reached")
    assert email.subject == "2 nouveaux avantages fidélité"
    assert "tu as atteint 150 points" in email.body_text
    assert "Une surprise pour ton anniversaire : Dans ta boîte mail" in email.body_text
    assert "Accès en avant-première : Aux collections et retours en stock" in email.body_text
    assert "renseigner ta date d'anniversaire" in email.body_text


def test_expiry_notices_30_and_7_days_before_for_store_b(send, process, ctx, shop):
    """Store B: points valid one year after the last purchase; told 30 days before, then 7 days before,
    once each, in English; a new purchase pushes the expiry back and re-arms the notices."""
    use(ctx, shop, "store-b")
    send("orders/paid", order(lines=((450, 1),), email="dan@example.com", processed_at="2025-01-10T00:00:00+00:00"))
    process()
    mature(ctx, datetime(2025, 1, 24, tzinfo=timezone.utc))
    expires = datetime(2026, 1, 10, tzinfo=timezone.utc)

    def warn(at):
        with ctx.engine.begin() as conn:
            return schedule.points_expiring(conn, at, at)
    assert warn(expires - timedelta(days=31)) == 0
    assert warn(expires - timedelta(days=30)) == 1
    assert warn(expires - timedelta(days=29)) == 0
    assert warn(expires - timedelta(days=7)) == 1
    assert warn(expires - timedelta(days=2)) == 0
    assert warn(expires) == 0  # expired: nothing more to warn about
    first, second = emails(ctx, kind="points_expiring")
    assert first.subject == "Your 450 points expire in 30 days" and second.subject == "Your 450 points expire in 7 days"
    assert "valid until 9 January 2026" in first.body_text and "10 January 2025" in first.body_text
    assert "€45.00 voucher" in first.body_text  # store B converts points into vouchers
    send("orders/paid", order(lines=((10, 1),), email="dan@example.com", processed_at="2026-01-05T00:00:00+00:00"))
    process()
    assert warn(datetime(2026, 12, 6, tzinfo=timezone.utc)) == 1  # 30 days before 5 January 2027


def test_a_late_run_sends_only_the_most_urgent_notice(send, process, ctx, shop):
    """A job that did not run for a month tells the customer once (7 days), not twice."""
    use(ctx, shop, "store-b")
    send("orders/paid", order(email="eve@example.com", processed_at="2025-01-10T00:00:00+00:00"))
    process()
    mature(ctx, datetime(2025, 1, 24, tzinfo=timezone.utc))
    at = datetime(2026, 1, 5, tzinfo=timezone.utc)
    with ctx.engine.begin() as conn:
        assert schedule.points_expiring(conn, at, at) == 1
    [email] = emails(ctx, kind="points_expiring")
    assert email.subject == "Your 50 points expire in 5 days"


def test_who_may_not_receive_loyalty_emails_is_skipped_with_the_reason(send, process, ctx, shop):
    """No email address, an opted-out customer, a shop whose programme sends no email: recorded as skipped,
    never sent; the reason is kept for support."""
    prog = template("store-a")
    with ctx.engine.begin() as conn:
        no_address = resolve_customer(conn, shop.id, 77, None, T0)
        outbox.notify_perks_granted(conn, shop, prog, no_address, prog.perks[:1], T0)
    send("customers/update", {**customer(78, "opted.out@example.com"),
                              "email_marketing_consent": {"state": "unsubscribed"}})
    process()
    with ctx.engine.begin() as conn:
        opted_out = find_customer(conn, shop.id, "78").id
        outbox.notify_perks_granted(conn, shop, prog, opted_out, prog.perks[:1], T0)
        someone = resolve_customer(conn, shop.id, 79, "someone@example.com", T0)
        outbox.notify_perks_granted(conn, shop, prog.with_changes(emails=False), someone, prog.perks[:1], T0)
    assert [(e.status, e.last_error, e.subject) for e in emails(ctx)] == [
        ("skipped", "no email address", None),
        ("skipped", "the customer opted out of loyalty emails", None),
        ("skipped", "the shop's programme sends no emails", None),
    ]


def test_marketing_consent_given_again_resumes_loyalty_emails(send, process, ctx, shop):
    """`subscribed` turns loyalty emails back on; `not_subscribed` (never asked) leaves them as they are."""
    send("customers/update", {**customer(80, "f@example.com"), "email_marketing_consent": {"state": "unsubscribed"}})
    send("customers/update", {**customer(80, "f@example.com"), "email_marketing_consent": {"state": "not_subscribed"}})
    process()
    with ctx.engine.connect() as conn:
        assert find_customer(conn, shop.id, "80").accepts_loyalty_emails is False
    send("customers/update", {**customer(80, "f@example.com"), "email_marketing_consent": {"state": "subscribed"}})
    process()
    with ctx.engine.connect() as conn:
        assert find_customer(conn, shop.id, "80").accepts_loyalty_emails is True


def test_a_redacted_customer_never_receives_and_their_emails_are_erased(send, process, ctx, shop):
    """customers/redact deletes their recorded emails; an event after it records nothing."""
    send("orders/paid", order(lines=((120, 1),), email="gina@example.com", customer_id=81, processed_at=T0.isoformat()))
    process()
    mature(ctx, T0 + timedelta(days=14))
    with ctx.engine.connect() as conn:
        gina = find_customer(conn, shop.id, "81").id
    assert len(emails(ctx)) == 1
    send("customers/redact", {"shop_id": 1, "shop_domain": shop.domain,
                              "customer": {"id": 81, "email": "gina@example.com"}, "orders_to_redact": []})
    process()
    assert emails(ctx) == []
    prog = template("store-a")
    with ctx.engine.begin() as conn:
        assert outbox.notify_perks_granted(conn, shop, prog, gina, prog.perks[:1], T0) is None
    assert emails(ctx) == []


def test_an_email_rolls_back_with_its_event(send, process, ctx, shop):
    """Recorded in the event's transaction: if the event fails, no email is left behind."""
    send("orders/paid", order(lines=((120, 1),), email="hal@example.com", processed_at=T0.isoformat()))
    process()
    with pytest.raises(RuntimeError):
        with ctx.engine.begin() as conn:
            schedule.mature(conn, T0 + timedelta(days=14), T0 + timedelta(days=14))
            assert len(conn.execute(select(notifications)).all()) == 1
            raise RuntimeError("the maturity run failed after recording")
    assert emails(ctx) == []


def test_a_guest_merging_into_an_account_keeps_its_emails(send, process, ctx, shop):
    """Orders placed as a guest, then the account: the emails follow the points to the account record."""
    send("orders/paid", order(lines=((120, 1),), email="ivy@example.com", processed_at=T0.isoformat()))
    process()
    mature(ctx, T0 + timedelta(days=14))
    send("customers/create", customer(82, "ivy@example.com"))
    process()
    with ctx.engine.connect() as conn:
        ivy = find_customer(conn, shop.id, "82")
    assert [e.customer_id for e in emails(ctx)] == [ivy.id]


def test_programme_setting_emails_can_be_turned_off(ctx, shop):
    """`emails` and `shop_name` are programme settings, validated like the others."""
    from loyalty.domain.programme import ProgrammeError

    with ctx.engine.begin() as conn:
        prog = programme(conn, shop.id, 1)
    assert prog.emails is True and prog.with_changes(emails="false").emails is False
    with pytest.raises(ProgrammeError, match="shop_name"):
        prog.with_changes(shop_name="x" * 121)


def test_a_voucher_becoming_usable_sends_its_code_and_terms(send, process, ctx, shop, emulator, factory):
    """Store B: converting 1000 points makes a 100 EUR code; the email gives the code, the amount, the
    100 EUR minimum basket and the last day, once (a retried redemption sends nothing more)."""
    from tests import redemptions as voucher_jobs

    use(ctx, shop, "store-b")
    emulator.add_customer(shop.domain, 301, "vera@example.com")
    send("orders/paid", order(lines=((1200, 1),), email="vera@example.com", customer_id=301,
                              processed_at=T0.isoformat()))
    process()
    redeemed_at = T0 + timedelta(days=20)
    mature(ctx, redeemed_at)
    for _ in range(2):
        voucher = voucher_jobs.redeem(ctx, shop.domain, "vera@example.com", 1000, "req-1", now=redeemed_at,
                                      client_factory=factory)
    [email] = emails(ctx, kind="voucher_created")
    assert email.subject == "Your €100.00 voucher" and email.to_address == "vera@example.com"
    assert f"** {voucher.code} **" in email.body_text
    assert "basket of €100.00 or more, until 20 April 2026 included" in email.body_text
    assert "You converted 1,000 points" in email.body_text


def test_the_customers_data_export_lists_their_emails(send, process, ctx, shop):
    """customers/data_request: the export names each email recorded for the customer and its status."""
    import json

    from db.tables import data_exports
    from tests.samples import sample
    from tests.e2e.test_privacy import personalise

    send("orders/paid", order(lines=((120, 1),), email="john@example.com", customer_id=191167,
                              processed_at=T0.isoformat()))
    process()
    mature(ctx, T0 + timedelta(days=14))
    body = personalise(sample("webhook_customers_data_request_docs_sample.json"), shop.domain, 191167,
                       "john@example.com")
    send("customers/data_request", body)
    process()
    with ctx.engine.connect() as conn:
        export = json.loads(conn.execute(select(data_exports.c.body)).scalar_one())
    [record] = export["records"]
    assert record["accepts_loyalty_emails"] is True
    assert [(e["kind"], e["to"], e["status"]) for e in record["emails"]] == [
        ("points_available", "john@example.com", "pending")]
