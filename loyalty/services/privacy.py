"""Privacy compliance (mandatory for every Shopify app) and uninstalling.

- customers/data_request: everything we store about the customer, as a JSON export for the merchant.
- customers/redact: erase the person (email, Shopify id, raw webhook bodies naming them); the ledger keeps
  its entries, no longer attached to anyone, so the shop's points totals stay true.
- shop/redact: erase the shop entirely.
- app/uninstalled: stop at once and drop the tokens; the data stays until shop/redact (48 h later).
"""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from db.tables import (audit_events, customer_sync, customers, perk_grants, data_exports, ledger_entries, oauth_states, orders,
                       programme_settings, referrals, refunds, shops, vouchers, webhook_bodies, webhook_inbox)
from loyalty.services.customers import normalise_email
from loyalty.services.notifications import emails_of
from loyalty.services.perks import grants_of
from loyalty.services.read.views import customer_summary
from loyalty.domain.errors import ShopMismatch
from loyalty.services.ledger_rollup import forget_customer


def check_claim(conn: Connection, domain: str, claim) -> None:
    """ShopMismatch unless `claim` (a loyalty.domain.commands.ShopClaim from the body) names the shop `domain`: the
    same domain, and the same Shopify id as the one stored for it when both are known."""
    if claim.domain is None or claim.domain.lower() != domain.lower():
        raise ShopMismatch(f"the body names shop {claim.domain!r}, not {domain}: nothing done")
    if claim.shopify_id is not None:
        stored = conn.execute(select(shops.c.shopify_shop_id).where(shops.c.domain == domain)).scalar()
        if stored is not None and stored != claim.shopify_id:
            raise ShopMismatch(f"the body names shop id {claim.shopify_id}, not {domain}'s {stored}: nothing done")


def _matching_customers(conn: Connection, shop_id: int, shopify_id: int | None, email: str | None) -> list:
    """Every record of the person: by Shopify id and by email (a guest record may exist beside the account)."""
    found = []
    if shopify_id is not None:
        found += conn.execute(select(customers).where(customers.c.shop_id == shop_id,
                                                      customers.c.shopify_customer_id == shopify_id)).all()
    email = normalise_email(email)
    if email:
        found += conn.execute(select(customers).where(customers.c.shop_id == shop_id,
                                                      customers.c.email == email)).all()
    return list({row.id: row for row in found}.values())


def export_customer_data(conn: Connection, shop, shopify_id: int | None, email: str | None,
                         data_request_id: int | None, now: datetime) -> dict:
    """Store (once per data request) and return the customer's data: profile (names and tags included),
    balances, every entry, perks, the emails we recorded for them."""
    records = [{**customer_summary(conn, shop, row), "first_name": row.first_name, "last_name": row.last_name,
                "tags": row.tags, "birthday": row.birthday.isoformat() if row.birthday else None,
                "perks": [{"reward": g.reward_key, "period": g.period, "granted_at": g.granted_at.isoformat(),
                           "revoked_at": g.revoked_at.isoformat() if g.revoked_at else None}
                          for g in grants_of(conn, row.id)],
                "accepts_loyalty_emails": row.accepts_loyalty_emails, "emails": emails_of(conn, row.id)}
               for row in _matching_customers(conn, shop.id, shopify_id, email)]
    body = {"shop": shop.domain, "data_request_id": data_request_id, "generated_at": now.isoformat(),
            "customer": {"shopify_customer_id": shopify_id, "email": email}, "records": records}
    exists = data_request_id is not None and conn.execute(select(data_exports.c.id).where(
        data_exports.c.shop_id == shop.id, data_exports.c.data_request_id == data_request_id)).scalar()
    if not exists:
        conn.execute(insert(data_exports).values(shop_id=shop.id, data_request_id=data_request_id,
                                                 shopify_customer_id=shopify_id, body=json.dumps(body),
                                                 created_at=now))
    return body


def redact_customer(conn: Connection, shop, shopify_id: int | None, email: str | None) -> int:
    """Erase the person's data; their entries stay in the ledger, anonymous. Returns records erased."""
    rows = _matching_customers(conn, shop.id, shopify_id, email)
    needles = [str(n).encode() for n in (shopify_id, normalise_email(email)) if n]
    for row in rows:
        needles += [str(n).encode() for n in (row.shopify_customer_id, row.email) if n]
        conn.execute(update(ledger_entries).where(ledger_entries.c.customer_id == row.id).values(customer_id=None))
        forget_customer(conn, shop.id, row.id)  # the ledger's totals follow (ledger_rollup)
        conn.execute(update(orders).where(orders.c.customer_id == row.id).values(customer_id=None))
        conn.execute(update(vouchers).where(vouchers.c.customer_id == row.id).values(customer_id=None))
        # The audit log keeps that something was done (who, when, what kind), not what it said about the
        # person: a reason a staff member typed, a birthday before and after.
        conn.execute(update(audit_events).where(audit_events.c.customer_id == row.id).values(
            customer_id=None, summary="(about a customer since redacted)", details=None))
        conn.execute(delete(data_exports).where(data_exports.c.shop_id == shop.id,
                                                data_exports.c.shopify_customer_id == row.shopify_customer_id))
        conn.execute(delete(customer_sync).where(customer_sync.c.customer_id == row.id))
        conn.execute(delete(perk_grants).where(perk_grants.c.customer_id == row.id))
        if row.email:  # a referred friend's email (their referrals as a referrer go with them: ON DELETE CASCADE)
            conn.execute(delete(referrals).where(referrals.c.shop_id == shop.id, referrals.c.friend_email == row.email))
        conn.execute(delete(customers).where(customers.c.id == row.id))
    if needles:
        # Raw webhook bodies name the customer: blank the processed ones that do.
        for inbox_id, body in conn.execute(
                select(webhook_inbox.c.id, webhook_bodies.c.body).join_from(webhook_inbox, webhook_bodies).where(
                    webhook_inbox.c.shop_domain == shop.domain, webhook_inbox.c.processed_at.is_not(None))):
            lowered = bytes(body).lower()
            if any(n.lower() in lowered for n in needles):
                conn.execute(update(webhook_bodies).where(webhook_bodies.c.inbox_id == inbox_id).values(body=b"{}"))
    return len(rows)


def redact_shop(conn: Connection, domain: str) -> bool:
    """Erase everything about the shop. Returns False when there was nothing to erase."""
    shop_id = conn.execute(select(shops.c.id).where(shops.c.domain == domain)).scalar()
    conn.execute(delete(oauth_states).where(oauth_states.c.shop_domain == domain))
    # Deleting inbox rows deletes their bodies (webhook_bodies: ON DELETE CASCADE; SQLite's foreign keys
    # are on in every connection, db.engine).
    if shop_id is None:
        conn.execute(delete(webhook_inbox).where(webhook_inbox.c.shop_domain == domain,
                                                 webhook_inbox.c.topic != "shop/redact"))
        return False
    for table in (customer_sync, perk_grants, ledger_entries, vouchers, refunds, orders, customers, data_exports,
                  programme_settings):
        conn.execute(delete(table).where(table.c.shop_id == shop_id))
    conn.execute(delete(shops).where(shops.c.id == shop_id))
    conn.execute(delete(webhook_inbox).where(webhook_inbox.c.shop_domain == domain,
                                             webhook_inbox.c.topic != "shop/redact"))
    return True


def uninstall_shop(conn: Connection, domain: str, now: datetime) -> bool:
    """app/uninstalled: no more work for the shop, tokens dropped; data kept until shop/redact."""
    return bool(conn.execute(update(shops).where(shops.c.domain == domain, shops.c.uninstalled_at.is_(None)).values(
        uninstalled_at=now, access_token=None, refresh_token=None, access_token_expires_at=None,
        refresh_token_expires_at=None)).rowcount)
