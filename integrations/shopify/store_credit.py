"""Store credit over the Admin API: credit a customer (storeCreditAccountCredit), read an account's credits
back (what is left of each), and the shop's currency.

No business rules: the caller decides when a credit may be sent and recognises its own among those read
back (loyalty.domain.store_credit). The credit mutation is sent once (`resend_unknown=False`): Shopify
cannot deduplicate it, so a failure after it may have run is raised as ShopifyOutcomeUnknown.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Iterator

from integrations.shopify import documents
from integrations.shopify.errors import raise_for_user_errors
from loyalty.domain.store_credit import CreditSeen


@dataclass(frozen=True)
class CreditTerms:
    customer_id: int
    amount: Decimal
    currency: str
    expires_at: datetime


def customer_gid(customer_id: int) -> str:
    return f"gid://shopify/Customer/{customer_id}"


def shop_currency(client) -> str:
    """The shop's currency code (`EUR`)."""
    return client.execute(documents.SHOP_CURRENCY)["shop"]["currencyCode"]


def credit(client, terms: CreditTerms) -> str:
    """Credit the customer's account in `terms.currency`; returns the credit transaction's id. userErrors
    (currency mismatch, amount not positive, unknown customer) raise ShopifyUserErrors; a failure after the
    request may have run raises ShopifyOutcomeUnknown."""
    data = client.execute(documents.STORE_CREDIT_ACCOUNT_CREDIT, {
        "id": customer_gid(terms.customer_id),
        "creditInput": {"creditAmount": {"amount": str(terms.amount), "currencyCode": terms.currency},
                        "expiresAt": _iso(terms.expires_at)},
    }, resend_unknown=False)
    result = raise_for_user_errors(data["storeCreditAccountCredit"], client.shop, "StoreCreditAccountCredit")
    return result["storeCreditAccountTransaction"]["id"]


def credits(client, customer_id: int, *, newest_first: bool = False,
            until: datetime | None = None) -> Iterator[CreditSeen]:
    """Every credit on the customer's store credit accounts (each currency's), oldest first, or newest first
    stopping at the first made before `until`."""
    data = client.execute(documents.STORE_CREDIT_ACCOUNTS, {"customerId": customer_gid(customer_id)})
    customer = data.get("customer")
    for account in ((customer or {}).get("storeCreditAccounts") or {}).get("nodes") or ():
        after = None
        while True:
            page = client.execute(documents.STORE_CREDIT_CREDITS,
                                  {"id": account["id"], "after": after, "reverse": newest_first})
            transactions = (page.get("storeCreditAccount") or {}).get("transactions") or {}
            for node in transactions.get("nodes") or ():
                if not node.get("id"):
                    continue  # not a credit (the filter asks for credits only)
                seen = _credit(node)
                if until is not None and newest_first and seen.created_at < until:
                    break
                yield seen
            else:
                info = transactions.get("pageInfo") or {}
                if info.get("hasNextPage"):
                    after = info["endCursor"]
                    continue
            break


def _credit(node: dict) -> CreditSeen:
    return CreditSeen(id=node["id"], amount=Decimal(node["amount"]["amount"]),
                      currency=node["amount"]["currencyCode"], created_at=_moment(node["createdAt"]),
                      expires_at=_moment(node["expiresAt"]) if node.get("expiresAt") else None,
                      remaining=Decimal(node["remainingAmount"]["amount"]))


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
