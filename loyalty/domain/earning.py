"""What an order earns on, and which orders earn nothing: the rules both payload translators (webhooks,
GraphQL history) and the order services apply, so an order earns the same whichever way it arrives.

- The merchandise: each line's price x quantity less its discount allocations, summed over the lines.
- Payments that do not earn: what non-earning gateways (gift cards, store credit) captured is taken off.
- Orders that earn nothing: test orders, orders without a customer, excluded sales channels (a partner
  reseller, the POS when the shop says so), excluded customer tags, B2B orders when the shop says so.
- What an order earns: `order_earning`, the one function every path fixing an award calls (webhooks one by
  one and set-based, the history import), with the campaigns in force at its paid time
  (loyalty.domain.campaigns) and the customer's multiplier.
"""
from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from loyalty.domain import points
from loyalty.domain.campaigns import NO_AWARD, Award, multiplied
from loyalty.domain.commands import OrderFacts
from loyalty.domain.errors import ImplausibleAmount
from loyalty.domain.order_outcome import exclusion, exclusion_text
from loyalty.domain.programme import Programme

TEST_ORDER = "test order"
"""The exclusion reason of a test order (queries tell test orders apart by it: they are no purchase)."""


def line_amount(price: Decimal, quantity: int, discounts: Decimal) -> Decimal:
    """What one line item contributes to the earning base: price x quantity - its discount allocations."""
    return price * quantity - discounts


def merchandise(lines: Iterable[tuple[Decimal, int, Decimal]], ceiling: Decimal | None = None) -> Decimal:
    """An order's merchandise: the sum of its lines' (price, quantity, discounts) amounts. With `ceiling`,
    ImplausibleAmount as soon as the running total passes it (lines are consumed one by one, so a lazy
    iterable may check each line just before it is added)."""
    total = Decimal(0)
    for price, quantity, discounts in lines:
        total += line_amount(price, quantity, discounts)
        if ceiling is not None and abs(total) > ceiling:
            raise ImplausibleAmount("the order's total is not a plausible amount")
    return total


def needs_payment_lookup(facts: OrderFacts, prog: Programme) -> bool:
    """True when part of the order may have been paid by a non-earning gateway (gift card, store credit).

    Order webhooks carry no transactions; only then is it worth a call to Shopify.
    """
    return any(g in prog.non_earning_gateways for g in facts.gateways)


def non_earning_total(transactions, prog: Programme) -> Decimal:
    """Amount captured by non-earning gateways: successful sales and captures only."""
    return sum((t.amount for t in transactions if t.gateway in prog.non_earning_gateways
                and t.kind in ("sale", "capture") and t.status == "success"), Decimal(0))


def exclusion_reason(facts: OrderFacts, prog: Programme, customer_id: int | None) -> str | None:
    """Why this order earns nothing, as the text stored in `orders.excluded_reason`, or None when it earns
    (the rule and its code: loyalty.domain.order_outcome.exclusion)."""
    found = exclusion(facts, prog, customer_id)
    return None if found is None else exclusion_text(found)


def order_earning(facts: OrderFacts, non_earning_paid: Decimal, prog: Programme, customer_id: int | None,
                  members: frozenset = frozenset(), customer_multiplier=1) -> tuple[str | None, Award]:
    """(why the order earns nothing or None, its Award): what a paid order earns before refunds, fixed once
    when its payment is recorded. `members`: the (collection id, product id) pairs of the campaigns'
    collections among its products; `customer_multiplier`: the customer's own (a VIP tier's, 1 when none),
    which multiplies the order before campaigns (loyalty.domain.campaigns says how they stack)."""
    reason = exclusion_reason(facts, prog, customer_id)
    if reason:
        return reason, NO_AWARD
    return None, award(facts, non_earning_paid, prog, members, customer_multiplier)


def award(facts: OrderFacts, non_earning_paid: Decimal, prog: Programme, members: frozenset = frozenset(),
          customer_multiplier=1) -> Award:
    """The award of an order that earns (shipping and taxes as the programme says), with campaigns."""
    base = points.earning_base(facts.merchandise, facts.shipping, facts.tax, facts.taxes_included,
                               prog.earn_on_shipping, prog.earn_on_taxes)
    if not prog.campaigns and customer_multiplier == 1:  # the common case, exactly as before campaigns
        return Award(points.award(base, non_earning_paid, prog.earn_rate, prog.rounding))
    return multiplied(points.exact_award(base, non_earning_paid, prog.earn_rate), facts, prog.campaigns,
                      prog.rounding, members, customer_multiplier)


def order_award(facts: OrderFacts, non_earning_paid: Decimal, prog: Programme) -> int:
    """Points a paid order that earns is awarded before refunds, with no collection campaign (`award`'s
    points)."""
    return award(facts, non_earning_paid, prog).points
