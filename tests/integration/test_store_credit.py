"""Store credit (loyalty.services.use_cases.store_credit) on SQLite and PostgreSQL: redeemed as a reward or
by conversion, credited once whatever fails between the app and Shopify (crashes and timeouts at each step,
with the emulator and with `responses` at the HTTP boundary), and what customers spend read back."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
import requests
import responses
from sqlalchemy import select

from db.tables import notifications, vouchers as voucher_rows
from integrations.shopify import store_credit as shopify_credit
from integrations.shopify.errors import ShopifyOutcomeUnknown
from jobs.scheduled import mature_points
from jobs.store_credit import check_store_credit
from loyalty.services import store_credit
from loyalty.services.customers import find_customer
from loyalty.services.shops import get_shop, programme, save_programme
from loyalty.services.vouchers import reserve
from loyalty.domain.offers import reward_offer
from tests import redemptions
from tests.factories import order

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
LATER = NOW + store_credit.LEASE
URL = "https://store-a.myshopify.com/admin/api/2025-10/graphql.json"


class Clock:
    """The emulator's clock, moved by the tests."""

    def __init__(self):
        self.now = NOW

    def __call__(self):
        return self.now.timestamp()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def emulator(shop, clock):
    """Store A in euros, holding Vera (301); its clock is the tests'."""
    from tools.shopify_emulator import Emulator

    em = Emulator(clock=clock)
    em.add_shop(shop.domain, "shpat_store_a", currency="EUR")
    em.add_customer(shop.domain, 301, "vera@example.com")
    return em


@pytest.fixture
def vera(send, process, ctx, shop):
    """200 available points; a 50-point reward worth 5 EUR of store credit, 90 days."""
    with ctx.engine.begin() as conn:
        save_programme(conn, shop, programme(conn, shop.id, shop.settings_version).with_paths({
            "rewards.credit-5": {"kind": "store_credit", "points": 50, "title": "5 EUR of store credit",
                                 "amount": "5"},
            "store_credit.expiry_days": "90"}), NOW)
    send("orders/paid", order(lines=((200, 1),), email="vera@example.com", customer_id=301,
                              processed_at="2025-05-01T00:00:00+00:00"))
    process()
    mature_points(NOW, ctx)
    return "vera@example.com"


def redeem(ctx, key, *, now=NOW, factory=None, reward="credit-5"):
    extra = {"client_factory": factory} if factory else {}
    return redemptions.redeem_reward(ctx, "store-a.myshopify.com", "vera@example.com", reward, key, now=now, **extra)


def reserved(ctx, shop, key):
    """A store-credit redemption reserved (points spent) and its attempt marked, as a crashed run leaves it."""
    with ctx.engine.begin() as conn:
        shop = get_shop(conn, shop.domain)  # the programme in force now
        offer = reward_offer(programme(conn, shop.id, shop.settings_version), "credit-5")
        row = reserve(conn, shop, find_customer(conn, shop.id, "vera@example.com").id, offer, key, NOW)
        assert store_credit.claim_attempt(conn, row.id, NOW) == "send"
        return conn.execute(select(voucher_rows).where(voucher_rows.c.id == row.id)).one()


def credits_of(emulator):
    [account] = emulator.store_credit("store-a.myshopify.com", 301) or [None]
    return [t for t in account["transactions"] if t["type"] == "credit"] if account else []


def test_store_credit_reward_credits_the_customer_once_with_its_expiry(ctx, shop, vera, factory, emulator,
                                                                       summary):
    """50 points -> 5 EUR on Vera's store credit account, expiring 90 days later; points spent in the same
    transaction as the voucher row; the "store credit issued" email recorded; a repeat changes nothing."""
    for _ in range(2):
        voucher = redeem(ctx, "sc-1", factory=factory)
    assert voucher.status == "active" and voucher.kind == "store_credit"
    assert voucher.remaining_amount == Decimal("5") and voucher.shopify_discount_id.startswith(
        "gid://shopify/StoreCreditAccountCreditTransaction/")
    [account] = emulator.store_credit(shop.domain, 301)
    assert (account["currency"], Decimal(account["balance"])) == ("EUR", Decimal("5"))
    assert account["transactions"][0]["expires_at"] == "2025-08-30T12:00:00Z"
    assert summary(vera)["available"] == 150
    with ctx.engine.connect() as conn:
        assert conn.execute(select(notifications.c.kind).where(
            notifications.c.customer_id == voucher.customer_id)).scalars().all() == ["store_credit_issued"]


def test_conversion_into_store_credit_when_the_programme_says_so(ctx, shop, vera, factory, emulator, summary):
    """store_credit.conversion_target=store_credit: converting 120 points makes 12 EUR of credit, no code."""
    with ctx.engine.begin() as conn:
        save_programme(conn, shop, programme(conn, shop.id, 2).with_paths(
            {"store_credit.conversion_target": "store_credit"}), NOW)
    voucher = redemptions.redeem(ctx, shop.domain, vera, 120, "conv-1", now=NOW, client_factory=factory)
    assert (voucher.kind, voucher.status, voucher.amount) == ("store_credit", "active", Decimal("12.00"))
    assert emulator.discount_codes(shop.domain) == []
    assert Decimal(emulator.store_credit(shop.domain, 301)[0]["balance"]) == Decimal("12")
    assert summary(vera)["available"] == 80


def test_crash_after_shopify_credited_retry_finds_the_credit_instead_of_crediting_again(ctx, shop, vera,
                                                                                      factory, emulator, summary):
    """The run died after Shopify's answer, before recording it: a retry within the lease waits; after it,
    the retry finds the credit among the account's credits and records it. One credit in Shopify."""
    row = reserved(ctx, shop, "sc-2")
    with ctx.engine.connect() as conn:
        client = factory(ctx, shop, conn)
    made = shopify_credit.credit(client, shopify_credit.CreditTerms(301, row.amount, "EUR", row.ends_at))
    assert redeem(ctx, "sc-2", now=NOW + timedelta(minutes=1), factory=factory).status == "creating"
    voucher = redeem(ctx, "sc-2", now=LATER, factory=factory)
    assert voucher.status == "active" and voucher.shopify_discount_id == made
    assert len(credits_of(emulator)) == 1
    assert summary(vera)["available"] == 150


def test_crash_before_the_request_reached_shopify_retry_credits_once(ctx, shop, vera, factory, emulator):
    """The run died after marking its attempt, before Shopify was asked: the retry looks, finds nothing
    and credits (once), even with a merchant's own credit of the same amount on the account."""
    row = reserved(ctx, shop, "sc-3")
    with ctx.engine.connect() as conn:
        client = factory(ctx, shop, conn)
    shopify_credit.credit(client, shopify_credit.CreditTerms(301, row.amount, "EUR", row.ends_at + timedelta(days=1)))
    voucher = redeem(ctx, "sc-3", now=LATER, factory=factory)
    assert voucher.status == "active"
    assert len(credits_of(emulator)) == 2


def test_two_credits_of_the_same_amount_and_expiry_are_told_apart(ctx, shop, vera, factory, emulator):
    """Two redemptions whose answers were both lost, credited in the same second: each adopts its own."""
    first, second = reserved(ctx, shop, "sc-4a"), reserved(ctx, shop, "sc-4b")
    assert first.ends_at == second.ends_at
    with ctx.engine.connect() as conn:
        client = factory(ctx, shop, conn)
    for row in (first, second):
        shopify_credit.credit(client, shopify_credit.CreditTerms(301, row.amount, "EUR", row.ends_at))
    adopted = {redeem(ctx, key, now=LATER, factory=factory).shopify_discount_id for key in ("sc-4a", "sc-4b")}
    assert len(adopted) == 2 and len(credits_of(emulator)) == 2


@responses.activate
def test_timeout_is_never_resent_and_the_retry_adopts_the_credit(ctx, shop, vera, summary):
    """A read timeout on storeCreditAccountCredit: sent once (no client retry), the voucher waits with the
    reason; the retry after the lease reads the credits, finds the one that landed, and sends no credit."""
    responses.post(URL, json={"data": {"shop": {"currencyCode": "EUR"}}})
    responses.post(URL, body=requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(ShopifyOutcomeUnknown):
        redeem(ctx, "sc-5")
    assert [b"storeCreditAccountCredit" in c.request.body for c in responses.calls] == [False, True]
    with ctx.engine.connect() as conn:
        waiting = conn.execute(select(voucher_rows).where(voucher_rows.c.kind == "store_credit")).one()
    assert waiting.status == "creating" and "ShopifyOutcomeUnknown" in waiting.reason
    responses.calls.reset()
    landed = {"id": "gid://shopify/StoreCreditAccountCreditTransaction/77", "createdAt": "2025-06-01T12:00:01Z",
              "expiresAt": "2025-08-30T12:00:00Z", "amount": {"amount": "5.0", "currencyCode": "EUR"},
              "remainingAmount": {"amount": "5.0", "currencyCode": "EUR"}}
    responses.replace(responses.POST, URL, json={"data": {"shop": {"currencyCode": "EUR"}}})
    responses.post(URL, json={"data": {"customer": {"storeCreditAccounts": {"nodes": [
        {"id": "gid://shopify/StoreCreditAccount/9", "balance": {"amount": "5.0", "currencyCode": "EUR"}}]}}}})
    responses.post(URL, json={"data": {"storeCreditAccount": {"transactions": {
        "nodes": [landed], "pageInfo": {"hasNextPage": False, "endCursor": None}}}}})
    voucher = redeem(ctx, "sc-5", now=LATER)
    assert voucher.status == "active" and voucher.shopify_discount_id == landed["id"]
    assert not any(b"storeCreditAccountCredit(" in c.request.body for c in responses.calls)
    assert summary(vera)["available"] == 150


@responses.activate
def test_server_error_after_sending_is_not_resent(ctx, shop, vera):
    """A 502 may come after Shopify ran the credit: not retried by the client either."""
    responses.post(URL, json={"data": {"shop": {"currencyCode": "EUR"}}})
    responses.post(URL, status=502)
    with pytest.raises(ShopifyOutcomeUnknown):
        redeem(ctx, "sc-6")
    assert sum(b"storeCreditAccountCredit" in c.request.body for c in responses.calls) == 1


def test_credit_shopify_refuses_gives_the_points_back(ctx, shop, vera, factory, emulator, summary):
    """A customer Shopify does not know (OWNER_NOT_FOUND): refused, its reason kept, points credited back."""
    emulator.shop(shop.domain).customers.pop(301)
    voucher = redeem(ctx, "sc-7", factory=factory)
    assert voucher.status == "refused" and "Owner does not exist" in voucher.reason
    assert summary(vera)["available"] == 200


def test_scheduled_job_reads_back_what_was_spent_online_or_at_pos(ctx, shop, vera, factory, emulator, clock):
    """Debits (a purchase paid with store credit) lower what is left; spent in full the voucher is used;
    a credit past its expiry is expired with what was left of it."""
    spent, kept = redeem(ctx, "sc-8", factory=factory), redeem(ctx, "sc-9", factory=factory)
    emulator.debit_store_credit(shop.domain, 301, "7")
    counts = check_store_credit(ctx, now=NOW + timedelta(hours=1), client_factory=factory)
    assert counts["checked"] == 1 and counts["changed"] == 2
    with ctx.engine.connect() as conn:
        rows = {r.code: r for r in conn.execute(select(voucher_rows)).all()}
    assert (rows[spent.code].status, rows[spent.code].remaining_amount) == ("used", Decimal("0"))
    assert (rows[kept.code].status, rows[kept.code].remaining_amount) == ("active", Decimal("3"))
    clock.now = NOW + timedelta(days=91)
    check_store_credit(ctx, now=clock.now, client_factory=factory)
    with ctx.engine.connect() as conn:
        row = conn.execute(select(voucher_rows).where(voucher_rows.c.code == kept.code)).one()
    assert (row.status, row.remaining_amount) == ("expired", Decimal("3"))
    assert Decimal(emulator.store_credit(shop.domain, 301)[0]["balance"]) == 0


def test_scheduled_job_finishes_a_credit_whose_attempt_died(ctx, shop, vera, factory, emulator):
    """A redemption left creating (its run died before asking Shopify) is credited by the job, once."""
    row = reserved(ctx, shop, "sc-10")
    assert check_store_credit(ctx, now=NOW + timedelta(minutes=1), client_factory=factory)["finished"] == 0
    assert check_store_credit(ctx, now=LATER, client_factory=factory)["finished"] == 1
    check_store_credit(ctx, now=LATER + store_credit.LEASE, client_factory=factory)
    with ctx.engine.connect() as conn:
        assert conn.execute(select(voucher_rows.c.status).where(voucher_rows.c.id == row.id)).scalar() == "active"
    assert len(credits_of(emulator)) == 1
