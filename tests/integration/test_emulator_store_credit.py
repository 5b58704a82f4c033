"""The emulator's store credit: storeCreditAccountCredit with Shopify's userErrors, the customer's accounts
and their transactions, and the control endpoint that simulates a purchase paid with store credit."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from integrations.shopify import documents, store_credit
from integrations.shopify.errors import ShopifyUserErrors
from tests.integration.test_emulator import BASE, SHOP, TOKEN, client, clock, session  # noqa: F401 - fixtures
from tools.shopify_emulator import Emulator

START = datetime.fromtimestamp(1_750_000_000, timezone.utc)


@pytest.fixture
def emulator(clock):
    """The demo shop selling in euros, with customer 7 (test_emulator's client and session use it)."""
    emulator = Emulator(clock=clock)
    emulator.add_shop(SHOP, TOKEN, currency="EUR")
    emulator.add_customer(SHOP, 7, "ada@example.com")
    return emulator


def terms(amount="10", currency="EUR", customer=7, days=30):
    return store_credit.CreditTerms(customer, Decimal(amount), currency, START + timedelta(days=days))


def refusal(client, **kwargs):
    with pytest.raises(ShopifyUserErrors) as caught:
        store_credit.credit(client, terms(**kwargs))
    return [(e.code, e.field) for e in caught.value.user_errors]


def test_credit_makes_the_account_and_lists_with_remaining_amount(client, emulator):
    """The first credit makes the customer's account in the shop's currency; the credits read back."""
    made = store_credit.credit(client, terms("10"))
    assert made.startswith("gid://shopify/StoreCreditAccountCreditTransaction/")
    [seen] = store_credit.credits(client, 7)
    assert (seen.id, seen.amount, seen.remaining, seen.currency) == (made, Decimal("10"), Decimal("10"), "EUR")
    assert seen.expires_at == START + timedelta(days=30)
    assert store_credit.shop_currency(client) == "EUR"


def test_credit_refusals_are_user_errors_like_shopify(client, emulator):
    """Currency mismatch, non-positive amount, unknown customer, expiry in the past: nothing credited."""
    assert refusal(client, currency="USD") == [("MISMATCHING_CURRENCY", ("creditInput", "creditAmount",
                                                                         "currencyCode"))]
    assert refusal(client, amount="0") == [("NEGATIVE_OR_ZERO_AMOUNT", ("creditInput", "creditAmount", "amount"))]
    assert refusal(client, amount="-5") == [("NEGATIVE_OR_ZERO_AMOUNT", ("creditInput", "creditAmount", "amount"))]
    assert refusal(client, customer=999) == [("OWNER_NOT_FOUND", ("id",))]
    assert refusal(client, days=-1) == [("EXPIRES_AT_IN_PAST", ("creditInput", "expiresAt"))]
    assert emulator.store_credit(SHOP) == []


def test_credit_by_account_id_checks_its_currency(client, emulator):
    store_credit.credit(client, terms())
    account = emulator.store_credit(SHOP, 7)[0]["id"]
    data = client.execute(documents.STORE_CREDIT_ACCOUNT_CREDIT, {"id": account, "creditInput": {
        "creditAmount": {"amount": "5", "currencyCode": "USD"}}})
    assert data["storeCreditAccountCredit"]["userErrors"][0]["code"] == "MISMATCHING_CURRENCY"
    data = client.execute(documents.STORE_CREDIT_ACCOUNT_CREDIT, {"id": "gid://shopify/StoreCreditAccount/1",
                                                                 "creditInput": {"creditAmount": {
                                                                     "amount": "5", "currencyCode": "EUR"}}})
    assert data["storeCreditAccountCredit"]["userErrors"][0]["code"] == "ACCOUNT_NOT_FOUND"


def test_debit_endpoint_spends_the_soonest_expiring_credit_first(client, emulator, session):
    """A purchase paid with 12 of store credit: the credit expiring first is spent first."""
    late, soon = store_credit.credit(client, terms("10", days=60)), store_credit.credit(client, terms("5", days=10))
    answer = session.post(f"{BASE}/_emulator/{SHOP}/store-credit/debit", json={"customer_id": 7, "amount": "12"})
    assert answer.status_code == 201 and "StoreCreditAccountDebitTransaction" in answer.json()["id"]
    remaining = {c.id: c.remaining for c in store_credit.credits(client, 7)}
    assert remaining == {soon: Decimal("0"), late: Decimal("3")}
    refused = session.post(f"{BASE}/_emulator/{SHOP}/store-credit/debit", json={"customer_id": 7, "amount": "4"})
    assert (refused.status_code, refused.json()["code"]) == (422, "INSUFFICIENT_FUNDS")


def test_expired_credit_leaves_the_balance_and_keeps_its_remaining_amount(client, emulator, clock):
    store_credit.credit(client, terms("10", days=1))
    clock.now += 2 * 86400
    [account] = emulator.store_credit(SHOP, 7)
    assert Decimal(account["balance"]) == 0
    assert [t["type"] for t in account["transactions"]] == ["credit", "expiration"]
    [seen] = store_credit.credits(client, 7)
    assert seen.remaining == Decimal("10")


def test_transactions_page_newest_first_and_filter_by_type(client, emulator, session):
    """100 a page; `reverse` gives the newest first; `type:credit` leaves the debits out."""
    made = [store_credit.credit(client, terms("1", days=30 + n)) for n in range(3)]
    session.post(f"{BASE}/_emulator/{SHOP}/store-credit/debit", json={"customer_id": 7, "amount": "1"})
    assert [c.id for c in store_credit.credits(client, 7, newest_first=True)] == made[::-1]
