"""Route commands to domain services, and fetch from Shopify what an event needs before the transaction."""
from __future__ import annotations

import logging
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.engine import Connection

from db.engine import reading
from db.tables import orders
from loyalty.services import (bonuses, customers, known_orders, new_orders, notifications, orders as order_service,
                              privacy, referrals)
from loyalty.domain import earning
from loyalty.domain.errors import UninstallNotConfirmed
from loyalty.domain.commands import (ExportCustomerData, LinkCustomer, RecordOrderCancelled, RecordOrderPaid, RecordRefund,
                              RedactCustomer, RedactShop, UninstallShop, UpdateShopFacts)
from loyalty.services.shops import ShopRef, UnknownShop, get_shop, programme, update_shop_facts
from loyalty.services.context import Context
from loyalty.services.errors import ShopGone
from integrations.shopify.payments import fetch_orders_transactions
from integrations.shopify.client import AdminClient
from integrations.shopify.throttle import RedisThrottle
from loyalty.services.tokens import TokenUnavailable, access_token_for, force_refresh_after_401
from integrations.shopify.errors import ShopifyUnauthorized

log = logging.getLogger(__name__)


class ShopCache:
    """Shops looked up once per batch."""

    def __init__(self, conn: Connection):
        self.conn, self.shops = conn, {}

    def get(self, domain: str, *, installed_only: bool = True) -> ShopRef:
        """The shop (installed, unless `installed_only` is False), or ShopGone."""
        key = (domain, installed_only)
        if key not in self.shops:
            try:
                self.shops[key] = get_shop(self.conn, domain, installed_only=installed_only)
            except UnknownShop:
                self.shops[key] = None
        if self.shops[key] is None:
            raise ShopGone(domain)
        return self.shops[key]


PRIVACY_COMMANDS = (ExportCustomerData, RedactCustomer, RedactShop, UninstallShop)
"""Commands that apply to uninstalled shops too (Shopify sends them after the uninstall)."""
DESTRUCTIVE_COMMANDS = (RedactCustomer, RedactShop, UninstallShop)
"""Commands that erase or disconnect: done only when their body names the row's shop."""
SHOP_BOUND_COMMANDS = DESTRUCTIVE_COMMANDS + (UpdateShopFacts,)
"""Commands whose body names its shop (the Shop resource, the compliance topics): checked against the row's."""


def batch_hints(shops: ShopCache, rows: list, commands: dict) -> order_service.BatchHints:
    """What the batch's order events can know in advance (see loyalty.services.orders.BatchHints)."""
    wanted = set()
    for row in rows:
        cmd = commands.get(row.id)
        order_id = getattr(getattr(cmd, "facts", None), "order_id", None) or getattr(cmd, "order_id", None)
        if order_id is None or not isinstance(cmd, (RecordOrderPaid, RecordOrderCancelled, RecordRefund)):
            continue
        try:
            wanted.add((shops.get(row.shop_domain).id, order_id))
        except ShopGone:
            continue
    return order_service.BatchHints.read(shops.conn, wanted)


def record_new_orders_paid(shops: ShopCache, rows: list, commands: dict, now) -> set:
    """Apply set-based (loyalty.services.new_orders) the batch's orders/paid of installed shops for orders
    the batch holds no other event of (a refund, a cancellation) and that turn out new to the app; returns
    the ids of the rows applied. Every other event, and a repeated payment of the same order, is left to
    handle_row, after these."""
    events_of: dict[tuple, list] = {}
    for row in rows:
        cmd = commands.get(row.id)
        order_id = getattr(getattr(cmd, "facts", None), "order_id", None) or getattr(cmd, "order_id", None)
        if order_id is not None and isinstance(cmd, (RecordOrderPaid, RecordOrderCancelled, RecordRefund)):
            events_of.setdefault((row.shop_domain, order_id), []).append(row)
    by_shop: dict[str, dict[int, object]] = {}
    buyers: dict[str, list[tuple]] = {}  # of the payments left to the per-event path
    for (domain, order_id), order_rows in events_of.items():
        paid = [commands[r.id] for r in order_rows if isinstance(commands[r.id], RecordOrderPaid)]
        if len(paid) == len(order_rows):
            by_shop.setdefault(domain, {})[order_id] = order_rows[0]
            paid = paid[1:]  # a repeat of the payment, after it
        buyers.setdefault(domain, []).extend((c.facts.customer_id, c.facts.email) for c in paid)
    applied = set()
    for domain in by_shop.keys() | buyers.keys():
        first_rows = by_shop.get(domain, {})
        try:
            shop = shops.get(domain)
        except ShopGone:
            continue
        written = new_orders.record_new_orders_paid(shops.conn, shop, [commands[r.id] for r in first_rows.values()],
                                                    now, buyers=buyers.get(domain, ()))
        applied.update(first_rows[order_id].id for order_id in written)
    return applied


def record_known_orders(shops: ShopCache, rows: list, commands: dict, applied: set, now) -> set:
    """Apply set-based (loyalty.services.known_orders) the batch's other order events (payments, refunds,
    cancellations) of installed shops, after `record_new_orders_paid` applied the rows in `applied`; returns
    the ids of the rows applied. A shop the batch holds a privacy command of keeps all its events on the
    per-event path, in the batch's order; an unknown or uninstalled shop's events are left to it too."""
    unusual = {row.shop_domain for row in rows if isinstance(commands.get(row.id), PRIVACY_COMMANDS)}
    by_shop: dict[str, list] = {}
    for row in rows:
        if (row.id not in applied and row.shop_domain not in unusual
                and isinstance(commands.get(row.id), known_orders.ORDER_EVENTS)):
            by_shop.setdefault(row.shop_domain, []).append(row)
    done = set()
    for domain in sorted(by_shop):
        try:
            shop = shops.get(domain)
        except ShopGone:
            continue
        known_orders.record_order_events(shops.conn, shop, [commands[row.id] for row in by_shop[domain]], now)
        done.update(row.id for row in by_shop[domain])
    return done


def record_referral_orders(shops: ShopCache, rows: list, commands: dict, now) -> None:
    """After the batch's events are applied: its payments as the referral rules see them, per shop
    (loyalty.services.referrals.record_paid_orders; nothing for a shop whose referrals are off)."""
    paid: dict[str, list] = {}
    for row in rows:
        cmd = commands.get(row.id)
        if isinstance(cmd, RecordOrderPaid):
            paid.setdefault(row.shop_domain, []).append(cmd.facts)
    for domain, facts in paid.items():
        try:
            shop = shops.get(domain)
        except ShopGone:
            continue
        referrals.record_paid_orders(shops.conn, shop, facts, now)


def handle_row(conn: Connection, shops: ShopCache, domain: str, cmd, now,
               hints: order_service.BatchHints | None = None) -> None:
    """Apply one recorded webhook's command for its shop. Destructive commands and shop/update first check
    that their body names that shop (privacy.ShopMismatch, a refusal, when it does not); an uninstall is done only once
    Shopify confirmed it (UninstallNotConfirmed, a refusal, otherwise)."""
    if isinstance(cmd, SHOP_BOUND_COMMANDS):
        privacy.check_claim(conn, domain, cmd.shop)
    if isinstance(cmd, UpdateShopFacts):
        shops.get(domain)  # an uninstalled shop's facts are not updated (ShopGone)
        update_shop_facts(conn, domain, cmd, now)
        return
    if isinstance(cmd, RedactShop):
        privacy.redact_shop(conn, domain)
        return
    if isinstance(cmd, UninstallShop):
        if not cmd.confirmed:  # asked of Shopify before the batch (loyalty.services.uninstalls)
            raise UninstallNotConfirmed(f"app/uninstalled for {domain} was not confirmed by Shopify: nothing done")
        privacy.uninstall_shop(conn, domain, now)
        return
    shop = shops.get(domain, installed_only=not isinstance(cmd, PRIVACY_COMMANDS))
    if isinstance(cmd, ExportCustomerData):
        privacy.export_customer_data(conn, shop, cmd.customer_id, cmd.email, cmd.data_request_id, now)
    elif isinstance(cmd, RedactCustomer):
        privacy.redact_customer(conn, shop, cmd.customer_id, cmd.email)
    else:
        handle(conn, shop, cmd, now, hints)


def handle(conn: Connection, shop: ShopRef, cmd, now, hints: order_service.BatchHints | None = None) -> None:
    """Hand one ledger command to its service."""
    if isinstance(cmd, RecordOrderPaid):
        order_service.record_order_paid(conn, shop, cmd, now, hints)
    elif isinstance(cmd, RecordRefund):
        order_service.record_refund(conn, shop, cmd, now, hints)
    elif isinstance(cmd, RecordOrderCancelled):
        order_service.record_order_cancelled(conn, shop, cmd, now, hints)
    elif isinstance(cmd, LinkCustomer):
        if customers.is_stale_profile(conn, shop.id, cmd.customer_id, cmd.updated_at):
            if cmd.signed_up:  # a late customers/create: its profile is old news, the sign-up is not
                row = customers.find_customer(conn, shop.id, str(cmd.customer_id))
                bonuses.signup(conn, shop, programme(conn, shop.id, shop.settings_version), row.id,
                               cmd.customer_id, now)
            return  # a newer update of this customer was applied already: this one would undo it
        customer_id = customers.resolve_customer(conn, shop.id, cmd.customer_id, cmd.email, now)
        if cmd.signed_up:
            bonuses.signup(conn, shop, programme(conn, shop.id, shop.settings_version), customer_id,
                           cmd.customer_id, now)
        customers.mark_profile_updated(conn, customer_id, cmd.updated_at)
        customers.set_profile(conn, customer_id, cmd.profile)
        if cmd.birthday is not None:
            try:
                customers.set_birthday(conn, shop.id, customer_id, cmd.birthday)
            except customers.BirthdayRefused:
                pass  # recorded once (usually this very date, sent again with every customer update)
        if cmd.accepts_loyalty_emails is not None:
            notifications.set_accepts_emails(conn, shop.id, customer_id, cmd.accepts_loyalty_emails)
    else:
        raise TypeError(f"no handler for {type(cmd).__name__}")


def prefetch(ctx: Context, rows: list, commands: dict) -> tuple[dict, dict]:
    """Fetch the transactions of paid orders that used a gift card or store credit, outside any transaction:
    one client per shop and a few orders per request (payments.fetch_orders_transactions).

    Returns the commands with `non_earning_paid` filled in, and failures (row id -> (reason, permanent)).
    """
    failures = {}
    wanted = [row for row in rows if isinstance(commands.get(row.id), RecordOrderPaid)]
    if not wanted:
        return commands, failures
    per_shop: dict[str, list] = {}
    with reading(ctx.engine) as conn:
        shops = ShopCache(conn)  # one lookup per shop and batch, not per order
        for row in wanted:
            cmd = commands[row.id]
            try:
                shop = shops.get(row.shop_domain)
            except ShopGone:
                continue
            prog = programme(conn, shop.id, shop.settings_version)
            if earning.needs_payment_lookup(cmd.facts, prog):
                per_shop.setdefault(row.shop_domain, []).append((row, prog))
        for domain, found in per_shop.items():
            paid = _already_paid(conn, shops.get(domain), [commands[row.id].facts.order_id for row, _ in found])
            found = [(row, prog) for row, prog in found if commands[row.id].facts.order_id not in paid]
            if not found:
                continue
            order_ids = [commands[row.id].facts.order_id for row, _ in found]
            try:
                transactions = fetch_orders_transactions(shopify_client(ctx, shops.get(domain), conn), order_ids)
            except Exception as exc:  # noqa: BLE001 - the events wait and are retried with their reason
                log.warning("transactions of %d orders of %s: %s", len(order_ids), domain, exc)
                for row, _ in found:
                    failures[row.id] = (f"fetching transactions: {type(exc).__name__}: {exc}", False)
                    del commands[row.id]
                continue
            for row, prog in found:
                cmd = commands[row.id]
                paid = earning.non_earning_total(transactions[int(cmd.facts.order_id)], prog)
                commands[row.id] = replace(cmd, non_earning_paid=paid)
    return commands, failures


def shopify_client(ctx: Context, shop: ShopRef, conn: Connection, *, timeout=(2, 10), max_attempts: int = 5):
    """An Admin API client for the shop: a token that will not lapse mid-job (refreshed if expiring,
    one refresh at a time per shop) and the GraphQL budget shared by every worker through Redis.
    A web request a person waits on (the storefront) passes a shorter timeout and fewer attempts."""

    try:
        token = access_token_for(ctx, shop.domain)
    except TokenUnavailable as exc:
        raise ShopGone(shop.domain) from exc  # the cause says what to do (loyalty.services.tokens.what_to_do)
    client = AdminClient(shop.domain, token, admin_url_template=ctx.config.admin_url_template,
                         api_version=ctx.config.api_version, throttle=RedisThrottle(ctx.redis),
                         timeout=timeout, max_attempts=max_attempts)
    return RefreshOn401(ctx, client)


class RefreshOn401:
    """An AdminClient that, when Shopify refuses its token (expired or rotated early), refreshes it once,
    one refresh per shop at a time, and repeats the call."""

    def __init__(self, ctx: Context, client):
        self.ctx, self.client, self.shop = ctx, client, client.shop

    @property
    def session(self):
        """The client's HTTP session (bulk operations upload and download files with it)."""
        return self.client.session

    def execute(self, document, variables=None, **options):
        """As AdminClient.execute, with one token refresh on 401 (a refused request ran nothing, so it is
        sent again even when `resend_unknown` is False)."""

        try:
            return self.client.execute(document, variables, **options)
        except ShopifyUnauthorized:
            # TokenUnavailable from here means only the merchant can fix it: the caller's job fails with that
            self.client.access_token = force_refresh_after_401(self.ctx, self.shop, self.client.access_token)
            return self.client.execute(document, variables, **options)


def _already_paid(conn: Connection, shop: ShopRef, order_ids: list[int]) -> set[int]:
    """Those of these orders whose payment is recorded already (a repeated orders/paid needs no look-up)."""
    return set(conn.execute(select(orders.c.shopify_order_id).where(  # a batch's orders: a few hundred at most
        orders.c.shop_id == shop.id, orders.c.shopify_order_id.in_(order_ids), orders.c.paid_at.isnot(None))).scalars())
