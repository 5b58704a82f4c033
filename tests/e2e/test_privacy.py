"""Privacy compliance webhooks and app/uninstalled."""
from __future__ import annotations

import json

from sqlalchemy import func, select

from db.tables import customers, data_exports, ledger_entries, orders, shops, webhook_bodies, webhook_inbox
from runtime.web import create_app
from tests.conftest import Sender
from tests.factories import order
from tests.samples import sample


def count(ctx, table):
    with ctx.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def personalise(body, shop_domain, customer_id, email):
    body["shop_domain"] = shop_domain
    body["customer"]["id"], body["customer"]["email"] = customer_id, email
    return body


def test_compliance_topics_refuse_a_bad_signature(send, ctx):
    """Each compliance topic answers 401 to a forged HMAC and stores nothing."""
    for topic, name in (("customers/data_request", "webhook_customers_data_request_docs_sample.json"),
                        ("customers/redact", "webhook_customers_redact_docs_sample.json"),
                        ("shop/redact", "webhook_shop_redact_docs_sample.json")):
        assert send(topic, sample(name), secret="forged").status_code == 401
    assert count(ctx, webhook_inbox) == 0


def test_data_request_stores_an_export_of_everything_we_know(send, process, ctx, shop):
    """customers/data_request (Shopify's documented body) produces a JSON export with ledger and profile."""
    send("orders/paid", order(lines=((70, 1),), email="john@example.com", customer_id=191167))
    body = personalise(sample("webhook_customers_data_request_docs_sample.json"), shop.domain, 191167,
                       "john@example.com")
    assert send("customers/data_request", body).status_code == 200
    assert process() == 2
    with ctx.engine.connect() as conn:
        stored = conn.execute(select(data_exports)).one()
    export = json.loads(stored.body)
    assert stored.data_request_id == 9999
    assert export["records"][0]["customer"] == {"shopify_customer_id": 191167, "email": "john@example.com"}
    assert export["records"][0]["pending"] == 70
    assert [e["kind"] for e in export["records"][0]["entries"]] == ["earn"]


def test_customer_redact_erases_the_person_and_keeps_anonymous_totals(send, process, ctx, shop):
    """customers/redact: no email or id left anywhere (customers, raw webhook bodies); the shop's
    ledger still adds up to the same points, attached to no one."""
    send("orders/paid", order(lines=((70, 1),), email="john@example.com", customer_id=191167))
    send("orders/paid", order(lines=((30, 1),), email="john@example.com"))
    send("orders/paid", order(lines=((10, 1),), email="other@example.com"))
    process()
    body = personalise(sample("webhook_customers_redact_docs_sample.json"), shop.domain, 191167,
                       "john@example.com")
    send("customers/redact", body)
    process()
    with ctx.engine.connect() as conn:
        assert conn.execute(select(customers.c.email)).scalars().all() == ["other@example.com"]
        bodies = [bytes(b) for b in conn.execute(select(webhook_bodies.c.body).join_from(webhook_inbox, webhook_bodies)
                                                 .where(webhook_inbox.c.topic == "orders/paid")).scalars()]
        assert not any(b"john@example.com" in b for b in bodies)
        assert conn.execute(select(func.sum(ledger_entries.c.pending))).scalar() == 110
        assert conn.execute(select(func.count()).select_from(ledger_entries)
                            .where(ledger_entries.c.customer_id.is_(None))).scalar() == 2


def test_uninstall_stops_work_and_shop_redact_erases_the_shop(send, process, ctx, shop, shopify):
    """app/uninstalled (the app uninstalled in Shopify: its token refused) drops the tokens once the worker
    has had Shopify confirm it; later orders are ignored; shop/redact (48 h later, shop already uninstalled)
    erases everything about the shop."""
    send("orders/paid", order(lines=((20, 1),)))
    process()
    shopify.uninstall_app(shop.domain)
    assert send("app/uninstalled", {**sample("shop_single.json"), "myshopify_domain": shop.domain}).status_code == 200
    assert process() == 1
    with ctx.engine.connect() as conn:
        row = conn.execute(select(shops.c.uninstalled_at, shops.c.access_token)).one()
    assert row.uninstalled_at is not None and row.access_token is None
    later = Sender(create_app(ctx).test_client())  # a web process whose shop directory is read after that
    assert later("orders/paid", order(lines=((20, 1),))).headers["X-Loyalty-Webhook"] == "ignored: shop uninstalled"
    redact = sample("webhook_shop_redact_docs_sample.json")
    redact["shop_domain"] = shop.domain
    assert send("shop/redact", redact).headers["X-Loyalty-Webhook"] == "recorded"
    process()
    for table in (shops, customers, orders, ledger_entries):
        assert count(ctx, table) == 0
    with ctx.engine.connect() as conn:
        assert conn.execute(select(webhook_inbox.c.topic)).scalars().all() == ["shop/redact"]
        # the deleted webhooks' bodies went with them: only shop/redact's own is left
        assert conn.execute(select(webhook_inbox.c.topic).join_from(webhook_inbox, webhook_bodies)).scalars().all() \
            == ["shop/redact"]
    assert count(ctx, webhook_bodies) == 1


def _personal_data(ctx, shop, email: str):
    """A customer of `shop` holding personal data the app stores: email, names, tags, a birthday, and an
    audit event about them."""
    from datetime import date, datetime, timezone

    from sqlalchemy import update

    from db.tables import audit_events
    from loyalty.services.audit import record
    from loyalty.services.customers import find_customer, set_birthday

    with ctx.engine.begin() as conn:
        row = find_customer(conn, shop.id, email)
        conn.execute(update(customers).where(customers.c.id == row.id).values(
            first_name="Lena", last_name="Martin", tags="vip, newsletter"))
        set_birthday(conn, shop.id, row.id, date(1990, 5, 17))
        record(conn, shop.id, action="points_adjusted", at=datetime.now(timezone.utc), actor="staff-1",
               summary="+10 points", customer_id=row.id)
    with ctx.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(audit_events)).scalar() == 1
    return row.id


def test_shop_redact_removes_names_tags_birthdays_and_every_row_of_the_shop(send, process, ctx, shop, shopify):
    """shop/redact: no row of any table that has a shop_id is left for the shop (customers with their names,
    tags and birthdays, emails sent, audit events, referral digests): the cascade from `shops` reaches them."""
    from db import tables

    send("orders/paid", order(lines=((70, 1),), email="lena@example.com", customer_id=5501))
    process()
    _personal_data(ctx, shop, "lena@example.com")
    shopify.uninstall_app(shop.domain)
    send("app/uninstalled", {**sample("shop_single.json"), "myshopify_domain": shop.domain})
    redact = sample("webhook_shop_redact_docs_sample.json")
    redact["shop_domain"] = shop.domain
    send("shop/redact", redact)
    process()
    with ctx.engine.connect() as conn:
        left = {table.name: conn.execute(select(func.count()).select_from(table)).scalar()
                for table in tables.metadata.sorted_tables if "shop_id" in table.c}
        assert conn.execute(select(func.count()).select_from(shops)).scalar() == 0
    assert left == {name: 0 for name in left}


def test_customer_redact_removes_the_persons_names_tags_birthday_and_emails(send, process, ctx, shop):
    """customers/redact: the person's row goes (with names, tags, birthday), and an audit event about them
    stays for the shop's record (who, when, what kind), attached to no one, without what it said of them."""
    from db.tables import audit_events

    send("orders/paid", order(lines=((70, 1),), email="lena@example.com", customer_id=5501))
    process()
    _personal_data(ctx, shop, "lena@example.com")
    body = personalise(sample("webhook_customers_redact_docs_sample.json"), shop.domain, 5501, "lena@example.com")
    send("customers/redact", body)
    process()
    with ctx.engine.connect() as conn:
        assert conn.execute(select(customers.c.id).where(
            (customers.c.first_name == "Lena") | (customers.c.last_name == "Martin")
            | (customers.c.tags.is_not(None)) | (customers.c.birthday.is_not(None)))).all() == []
        assert conn.execute(select(audit_events.c.customer_id, audit_events.c.action, audit_events.c.actor,
                                   audit_events.c.summary, audit_events.c.details)).all() == [
            (None, "points_adjusted", "staff-1", "(about a customer since redacted)", None)]
