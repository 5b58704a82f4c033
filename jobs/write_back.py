"""What the two balance write-backs share (jobs.sync by calls, jobs.bulk_sync by bulk mutation): each
waiting customer's loyalty.* metafields, made from the ledger and the ladder; perk tags written from the
grants' unsynced changes; a written customer no longer waiting unless it changed meanwhile. Perks are not
decided here: the ledger decides them when it changes (loyalty.services.ledger); this only writes."""
from __future__ import annotations

from sqlalchemy import and_, bindparam, delete

from db.tables import customer_sync
from integrations.shopify.errors import ShopifyUserErrors, user_errors_reason
from integrations.shopify.metafields import integer_metafield
from integrations.shopify.tags import add_customer_tags, remove_customer_tags
from loyalty.domain.standing import Balance, Standing, standing
from loyalty.services import ledger, perks
from loyalty.services.shops import programme

NAMESPACE = "loyalty"

DELETE_UNCHANGED = delete(customer_sync).where(and_(customer_sync.c.customer_id == bindparam("cid"),
                                                   customer_sync.c.changed_at == bindparam("seen")))
"""A written customer waits no more, unless it changed since it was read (params: cid, seen)."""


def customer_metafields(conn, shop, rows):
    """For each waiting customer (rows with customer_id and shopify_customer_id): (row, its loyalty.*
    metafields), None for a guest email. One query for all the rows; a generator, so a caller may stop
    early (bulk_sync: a full file)."""
    prog = programme(conn, shop.id, shop.settings_version)
    balances = ledger.balances(conn, [row.customer_id for row in rows])
    for row in rows:
        bal = balances[row.customer_id]
        fields = None if row.shopify_customer_id is None else balance_metafields(
            row.shopify_customer_id, bal, standing(prog, bal))
        yield row, fields


def balance_metafields(shopify_customer_id: int, bal: Balance, place: Standing) -> list[dict]:
    """The customer's loyalty.* metafields: available, pending, lifetime, tier, next_threshold (0: none)."""
    values = (("available", bal.available), ("pending", bal.pending), ("lifetime", bal.lifetime),
              ("tier", place.tier), ("next_threshold", place.next_threshold or 0))
    return [integer_metafield(shopify_customer_id, NAMESPACE, name, value) for name, value in values]


def write_tags(client, shopify_ids: dict[int, int],
               changes: list[perks.TagChange]) -> tuple[dict[int, str], list[perks.TagChange]]:
    """One tagsAdd and at most one tagsRemove per customer with perk tags to change. Returns the customers
    Shopify refused (id -> reason; their other writes are skipped) and the changes written."""
    by_customer: dict[tuple[int, bool], list[perks.TagChange]] = {}
    for change in changes:
        by_customer.setdefault((change.customer_id, change.add), []).append(change)
    refused, written = {}, []
    for (customer_id, add), group in sorted(by_customer.items(), key=lambda item: item[0]):
        if customer_id in refused:
            continue
        try:
            (add_customer_tags if add else remove_customer_tags)(client, shopify_ids[customer_id],
                                                                 sorted(c.tag for c in group))
        except ShopifyUserErrors as exc:
            refused[customer_id] = user_errors_reason(exc)
            continue
        written += group
    return refused, written
