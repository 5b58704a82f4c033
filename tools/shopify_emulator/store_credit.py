"""Store credit as Shopify keeps it: one account per customer and currency, credits that expire, debits
that spend the soonest-expiring credit first (each credit's `remainingAmount` goes down), and expirations
that take what is left of a credit off the balance (its `remainingAmount` stays as it was at expiry).

Root resolvers (storeCreditAccountCredit, storeCreditAccount), the customer's `storeCreditAccounts`, and
`debit`, which the emulator's control API uses to simulate a purchase paid with store credit (online or at
the point of sale): Shopify's own debits come from checkouts, not from the app.
"""
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from tools.shopify_emulator.discounts import parse_datetime, user_error
from tools.shopify_emulator.store import gid, iso, parse_id
from tools.shopify_emulator.views import connection, customer_view, money

CREDIT_LIMIT = Decimal("1000000")
"""Shopify caps an account's balance; above it a credit is refused with CREDIT_LIMIT_EXCEEDED."""


@dataclass
class Movement:
    """One transaction of an account: credit, debit or expiration (an expiration has no id of its own in
    Shopify's schema; `number` only orders it here)."""

    number: int
    type: str
    amount: Decimal
    balance_after: Decimal
    created_at: datetime
    expires_at: datetime | None = None
    remaining: Decimal = Decimal("0")
    credit: "Movement | None" = None
    """An expiration's credit."""
    expired: bool = False


@dataclass
class Account:
    """A customer's store credit account in one currency."""

    id: int
    customer_id: int
    currency: str
    movements: list = field(default_factory=list)

    @property
    def balance(self):
        return self.movements[-1].balance_after if self.movements else Decimal("0")


class Refused(ValueError):
    """A debit Shopify would refuse: `code` is its StoreCreditAccountDebitUserErrorCode."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def expire_due(shop, now):
    """Credits past their expiry lose what is left of them (an expiration transaction each)."""
    for account in shop.store_credit_accounts.values():
        for credit in [m for m in account.movements if m.type == "credit" and not m.expired]:
            if credit.expires_at is not None and credit.expires_at <= now:
                credit.expired = True
                if credit.remaining > 0:
                    account.movements.append(Movement(shop.next_id(), "expiration", credit.remaining,
                                                      account.balance - credit.remaining, credit.expires_at,
                                                      credit=credit))


def store_credit_account_credit(info, id, creditInput):
    """storeCreditAccountCredit: by the owner's id (the account in that currency is made if needed) or by
    an account's id; refused, changing nothing, like Shopify."""
    shop, now = info.context.shop, info.context.now
    expire_due(shop, now)
    raw = (creditInput.get("creditAmount") or {})
    currency = raw.get("currencyCode")
    errors = []
    try:
        amount = Decimal(str(raw.get("amount")))
    except (InvalidOperation, ValueError):
        amount = Decimal("0")
    if not amount.is_finite() or amount <= 0:
        errors.append(user_error(["creditInput", "creditAmount", "amount"],
                                 "A positive amount must be used to credit a store credit account.",
                                 "NEGATIVE_OR_ZERO_AMOUNT"))
    expires_at = parse_datetime(creditInput.get("expiresAt"))
    if expires_at is not None and expires_at <= now:
        errors.append(user_error(["creditInput", "expiresAt"], "The expiry date must be in the future.",
                                 "EXPIRES_AT_IN_PAST"))
    account = _target(shop, id, currency, errors)
    if account is not None and account.balance + amount > CREDIT_LIMIT:
        errors.append(user_error(["creditInput", "creditAmount", "amount"],
                                 "The operation would cause the account's credit limit to be exceeded.",
                                 "CREDIT_LIMIT_EXCEEDED"))
    if errors:
        return {"storeCreditAccountTransaction": None, "userErrors": errors}
    if account.id not in shop.store_credit_accounts:
        shop.store_credit_accounts[account.id] = account
    credit = Movement(shop.next_id(), "credit", amount, account.balance + amount, now, expires_at=expires_at,
                      remaining=amount)
    account.movements.append(credit)
    return {"storeCreditAccountTransaction": _view(shop, account, credit), "userErrors": []}


def _target(shop, id, currency, errors):
    """The account credited (a new one, not yet stored, for an owner without one in `currency`)."""
    if str(id).startswith("gid://shopify/StoreCreditAccount/"):
        account = shop.store_credit_accounts.get(parse_id(id, "StoreCreditAccount"))
        if account is None:
            errors.append(user_error(["id"], "Store credit account does not exist.", "ACCOUNT_NOT_FOUND"))
        elif currency != account.currency:
            errors.append(user_error(["creditInput", "creditAmount", "currencyCode"],
                                     "The currency provided does not match the currency of the store credit "
                                     "account.", "MISMATCHING_CURRENCY"))
        return account
    customer_id = parse_id(id, "Customer")
    if customer_id is None or customer_id not in shop.customers:
        errors.append(user_error(["id"], "Owner does not exist.", "OWNER_NOT_FOUND"))
        return None
    if currency != shop.currency:  # the emulated shop sells in one currency
        errors.append(user_error(["creditInput", "creditAmount", "currencyCode"],
                                 "The currency provided does not match the currency of the store credit account.",
                                 "MISMATCHING_CURRENCY"))
        return None
    found = next((a for a in shop.store_credit_accounts.values()
                  if a.customer_id == customer_id and a.currency == currency), None)
    return found or Account(shop.next_id(), customer_id, currency)


def debit(shop, customer_id, amount, now):
    """A purchase paid with store credit: spend `amount` from the customer's account in the shop's currency,
    the soonest-expiring credit first; returns the debit's gid. Raises Refused like storeCreditAccountDebit."""
    expire_due(shop, now)
    amount = Decimal(str(amount))
    if amount <= 0:
        raise Refused("NEGATIVE_OR_ZERO_AMOUNT", "A positive amount must be used to debit a store credit account.")
    account = next((a for a in shop.store_credit_accounts.values()
                    if a.customer_id == customer_id and a.currency == shop.currency), None)
    if account is None:
        raise Refused("ACCOUNT_NOT_FOUND", "The store credit account could not be found.")
    if account.balance < amount:
        raise Refused("INSUFFICIENT_FUNDS", "The store credit account does not have sufficient funds.")
    left = amount
    live = [m for m in account.movements if m.type == "credit" and not m.expired and m.remaining > 0]
    for credit in sorted(live, key=lambda m: (m.expires_at is None, m.expires_at or now, m.number)):
        spent = min(left, credit.remaining)
        credit.remaining -= spent
        left -= spent
        if left == 0:
            break
    movement = Movement(shop.next_id(), "debit", amount, account.balance - amount, now)
    account.movements.append(movement)
    return gid("StoreCreditAccountDebitTransaction", movement.number)


def store_credit_account(info, id):
    """storeCreditAccount(id:): null when unknown."""
    shop = info.context.shop
    expire_due(shop, info.context.now)
    account = shop.store_credit_accounts.get(parse_id(id, "StoreCreditAccount"))
    return account_view(shop, account) if account else None


def customer_accounts(shop, customer_id):
    """Customer.storeCreditAccounts(first:, after:, query:): the customer's accounts, oldest first."""
    def resolve(info, **arguments):
        expire_due(shop, info.context.now)
        mine = [account_view(shop, a) for a in shop.store_credit_accounts.values() if a.customer_id == customer_id]
        return connection(info, mine, **{k: v for k, v in arguments.items() if k in ("first", "after", "last")})
    return resolve


def account_view(shop, account):
    """A StoreCreditAccount."""
    def transactions(info, first=None, after=None, last=None, before=None, query=None, reverse=False,
                     sortKey="CREATED_AT"):
        wanted = _types(query)
        chosen = [m for m in account.movements if wanted is None or m.type in wanted]
        chosen.sort(key=lambda m: (m.created_at, m.number), reverse=bool(reverse))
        return connection(info, [_view(shop, account, m) for m in chosen], first=first, after=after, last=last)

    return {"__typename": "StoreCreditAccount", "id": gid("StoreCreditAccount", account.id),
            "balance": money(account.balance, account.currency), "transactions": transactions,
            "owner": lambda info: _owner(shop, account)}


def _owner(shop, account):
    return customer_view(shop, shop.customers[account.customer_id])


def _types(query):
    """The `type:` terms of a transactions query (`type:credit OR type:debit`), None for every type. Any
    other term is ignored, as Shopify ignores values it does not accept."""
    if not query:
        return None
    found = {term.split(":", 1)[1].strip().lower() for term in query.replace("(", " ").replace(")", " ").split()
             if term.lower().startswith("type:")}
    return found & {"credit", "debit", "debit_revert", "expiration"} or None


_TYPENAMES = {"credit": "StoreCreditAccountCreditTransaction", "debit": "StoreCreditAccountDebitTransaction",
              "expiration": "StoreCreditAccountExpirationTransaction"}


def _view(shop, account, movement):
    """One transaction, shaped as its object type (the interface resolves by `__typename`)."""
    view = {"__typename": _TYPENAMES[movement.type], "id": gid(_TYPENAMES[movement.type], movement.number),
            "amount": money(-movement.amount if movement.type != "credit" else movement.amount, account.currency),
            "balanceAfterTransaction": money(movement.balance_after, account.currency),
            "createdAt": iso(movement.created_at), "origin": None,
            "event": "ORDER_PAYMENT" if movement.type == "debit" else "ADJUSTMENT",
            "account": lambda info: account_view(shop, account)}
    if movement.type == "credit":
        view.update(expiresAt=iso(movement.expires_at), remainingAmount=money(movement.remaining, account.currency))
    if movement.type == "expiration":
        view["creditTransaction"] = _view(shop, account, movement.credit)
    return view


def snapshot(shop):
    """Every account as plain data, for the emulator's state endpoint and tests."""
    return [{"id": gid("StoreCreditAccount", a.id), "customer_id": a.customer_id, "currency": a.currency,
             "balance": str(a.balance),
             "transactions": [{"type": m.type, "amount": str(m.amount), "balance_after": str(m.balance_after),
                               "expires_at": iso(m.expires_at), "remaining": str(m.remaining)}
                              for m in a.movements]}
            for a in shop.store_credit_accounts.values()]
