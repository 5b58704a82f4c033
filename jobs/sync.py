"""After balance changes: the balances and standing written back to Shopify as customer metafields (namespace
`loyalty`) and the perk tags the ledger's changes granted or revoked (loyalty.services.perks decides them in
the ledger's own transaction; this only writes), so themes, customer account extensions and Flow can read
them. Drains `customer_sync`, coalesced, 25 metafields per call. A customer Shopify refuses (deleted there)
is set aside with the reason and retried later (loyalty.services.sync_failures); the others' writes go
through in the same pass."""
from __future__ import annotations

import logging
import time
from datetime import datetime, timezone

from sqlalchemy import delete, select, update

from db.engine import reading
from db.tables import customer_sync, customers, shops
from integrations.shopify.errors import ShopifyUnauthorized
from integrations.shopify.metafields import set_metafields_by_owner
from jobs import bulk_sync
from jobs.write_back import DELETE_UNCHANGED, customer_metafields, write_tags
from loyalty.services.events import ShopGone, shopify_client
from loyalty.services import perks, sync_failures
from loyalty.services.shops import UnknownShop, get_shop
from loyalty.services.tokens import TokenUnavailable
from loyalty.services.context import Context, get_context
from loyalty.services.wakeups import SYNC_WAKE_KEY as WAKE_KEY, wake_sync
from loyalty.defaults import SYNC_BATCH as BATCH, SYNC_MAX_PASSES as MAX_PASSES

log = logging.getLogger(__name__)


def sync_balances(ctx: Context | None = None, client_factory=shopify_client,
                  slice_seconds: float | None = None, now: datetime | None = None) -> int:
    """RQ job (also on the scheduler): write every waiting customer's balance; returns customers written.
    With `slice_seconds` (the queued jobs), it stops after that long and queues its own continuation.
    `now` (default: the clock) decides which set-aside customers are due again (loyalty.services.sync_failures)."""
    ctx = ctx or get_context()
    deadline = time.monotonic() + slice_seconds if slice_seconds else None
    if deadline:
        try:
            ctx.redis.delete(WAKE_KEY)  # changes from now on queue the next job; this one takes what is there
        except Exception:  # noqa: BLE001 - at worst a change waits for the scheduler's sync
            log.warning("could not clear the sync wake flag", exc_info=True)
    written = 0
    with reading(ctx.engine) as conn:
        shop_ids = conn.execute(select(customer_sync.c.shop_id).distinct()).scalars().all()
    for shop_id in shop_ids:
        written += _sync_shop(ctx, shop_id, client_factory, deadline, now)
        if deadline and time.monotonic() > deadline:
            wake_sync(ctx)  # the rest (if any) after whatever was queued meanwhile
            break
    return written


def _sync_shop(ctx: Context, shop_id: int, client_factory, deadline: float | None = None,
               now: datetime | None = None) -> int:
    written, in_bulk = bulk_sync.write_in_bulk(ctx, shop_id, client_factory, deadline)
    if in_bulk:
        return written  # a bulk mutation writes the shop's waiting balances: calls would race it
    for passes in range(MAX_PASSES):
        if passes and deadline and time.monotonic() > deadline:
            return written  # more may wait: sync_balances queues the next slice
        moment = now or datetime.now(timezone.utc)
        with reading(ctx.engine) as conn:
            rows = conn.execute(sync_failures.join_set_asides(
                select(customer_sync.c.customer_id, customer_sync.c.changed_at, customers.c.shopify_customer_id)
                .join(customers, customers.c.id == customer_sync.c.customer_id))
                .where(customer_sync.c.shop_id == shop_id, sync_failures.due(moment))
                .order_by(customer_sync.c.changed_at).limit(BATCH)).all()
            if not rows:
                return written
            domain, blocked = conn.execute(select(shops.c.domain, shops.c.write_back_error)
                                           .where(shops.c.id == shop_id)).one()
            try:
                shop = get_shop(conn, domain)
            except UnknownShop:
                break
            try:
                client = client_factory(ctx, shop, conn)
            except ShopGone as exc:  # installed, but its token is not usable: keep what waits, say why
                _block(ctx, shop_id, exc.__cause__ or exc, moment)
                return written
        with ctx.engine.begin() as conn:
            metafields = {row.customer_id: fields for row, fields in customer_metafields(conn, shop, rows)
                          if fields is not None}  # None: a guest email, nothing to write until it is an account
            shopify_ids = {r.customer_id: r.shopify_customer_id for r in rows if r.shopify_customer_id}
            tag_changes = perks.unsynced_tags(conn, list(shopify_ids))
        # One customer Shopify refuses (deleted there) is set aside; everyone else is written all the same.
        try:
            refused, tags_written = write_tags(client, shopify_ids, tag_changes)
            refused.update(set_metafields_by_owner(client, {c: m for c, m in metafields.items() if c not in refused}))
        except (TokenUnavailable, ShopifyUnauthorized) as exc:  # Shopify refuses the token: nobody can be written
            _block(ctx, shop_id, exc, moment)
            return written
        with ctx.engine.begin() as conn:
            if blocked is not None:  # the token works again
                conn.execute(update(shops).where(shops.c.id == shop_id).values(
                    write_back_error=None, write_back_error_at=None))
            perks.mark_tags_synced(conn, tags_written)
            # Only rows unchanged since they were read: a change made meanwhile is written next pass.
            done = [row for row in rows if row.customer_id not in refused]
            if done:
                conn.execute(DELETE_UNCHANGED, [{"cid": row.customer_id, "seen": row.changed_at}  # in customer order,
                                                for row in sorted(done, key=lambda r: r.customer_id)])  # as batches lock
            sync_failures.clear(conn, [row.customer_id for row in done])
            sync_failures.set_aside(conn, shop_id, refused, moment)
        for customer_id, reason in refused.items():
            log.warning("balance write-back of customer %s of %s set aside: %s", customer_id, domain, reason)
        written += len(done)
    else:
        return written  # more is waiting: the next job (scheduler, or the next wake-up) goes on
    with ctx.engine.begin() as conn:  # uninstalled or unknown shop: nothing can be written
        conn.execute(delete(customer_sync).where(customer_sync.c.shop_id == shop_id))
        sync_failures.forget_shop(conn, shop_id)
    return written


def _block(ctx: Context, shop_id: int, reason: BaseException, now: datetime) -> None:
    """No balance of this installed shop can be written (its token is not usable): what waits is kept, and
    the reason recorded (listed by loyalty.services.failures) until a write-back goes through again."""
    log.error("balance write-back of shop %s blocked: %s", shop_id, reason)
    with ctx.engine.begin() as conn:
        conn.execute(update(shops).where(shops.c.id == shop_id).values(
            write_back_error=str(reason)[:2000] or type(reason).__name__, write_back_error_at=now))
