"""Why an order earned what it earned, as a code and its parameters the admin translates.

Two halves:
- `exclusion(facts, prog, customer_id)`: the rule that makes an order earn nothing when its payment is
  recorded (test order, no customer, excluded sales channel, excluded customer tag, B2B). `earning` stores
  `exclusion_text` of it in `orders.excluded_reason`, the English text it always stored;
  `exclusion_of_text` reads such a stored text back into its code (rows recorded before this module too).
- `outcome(order)`: what support reads of a recorded order: the points it earned, or why none
  (excluded, cancelled, refunded, paid by gift card / store credit, capped, before the programme, not paid
  yet), or that its points are still pending (until when).

Pure: no database; the services hand in the order's recorded columns and its ledger total.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from loyalty.domain.commands import OrderFacts
from loyalty.domain.programme import Programme

TEST_ORDER = "test_order"
NO_CUSTOMER = "no_customer"
EXCLUDED_CHANNEL = "excluded_channel"
EXCLUDED_TAG = "excluded_tag"
B2B = "b2b"
EXCLUDED_OTHER = "excluded"
"""A stored reason this module does not recognise (kept as text in `reason`)."""

EARNED = "earned"
PENDING = "pending"
CANCELLED = "cancelled"
REFUNDED = "refunded"
GIFT_CARD = "gift_card"
CAPPED = "capped"
BEFORE_PROGRAMME = "before_programme"
NOT_PAID = "not_paid"
NOTHING_TO_EARN = "nothing_to_earn"

CODES = (EARNED, PENDING, TEST_ORDER, NO_CUSTOMER, EXCLUDED_CHANNEL, EXCLUDED_TAG, B2B, EXCLUDED_OTHER,
         CANCELLED, REFUNDED, GIFT_CARD, CAPPED, BEFORE_PROGRAMME, NOT_PAID, NOTHING_TO_EARN)
"""Every outcome code (admin/i18n/customer.json has a text for each: `outcome.<code>`)."""


@dataclass(frozen=True)
class Exclusion:
    """The rule that made an order earn nothing, and what it was about (`channel`, `tag`)."""

    code: str
    params: dict = field(default_factory=dict)


def exclusion(facts: OrderFacts, prog: Programme, customer_id: int | None) -> Exclusion | None:
    """Why this order earns nothing (the first rule that applies, in this order), or None when it earns."""
    if facts.test:
        return Exclusion(TEST_ORDER)
    if customer_id is None:
        return Exclusion(NO_CUSTOMER)
    if facts.source_name and facts.source_name in prog.excluded_source_names:
        return Exclusion(EXCLUDED_CHANNEL, {"channel": facts.source_name})
    tags = {t.lower() for t in facts.customer_tags} & {t.lower() for t in prog.excluded_customer_tags}
    if tags:
        return Exclusion(EXCLUDED_TAG, {"tag": sorted(tags)[0]})
    if prog.exclude_b2b and facts.is_b2b:
        return Exclusion(B2B)
    return None


_TEXTS = {TEST_ORDER: "test order", NO_CUSTOMER: "no customer and no email", B2B: "B2B orders are excluded"}
_CHANNEL = ("sales channel ", " is excluded")
_TAG = ("customer tag ", " is excluded")


def exclusion_text(found: Exclusion) -> str:
    """The English text stored in `orders.excluded_reason` (unchanged since the app's first version: queries
    and the simulation compare it)."""
    if found.code == EXCLUDED_CHANNEL:
        return f"{_CHANNEL[0]}{found.params['channel']}{_CHANNEL[1]}"
    if found.code == EXCLUDED_TAG:
        return f"{_TAG[0]}{found.params['tag']}{_TAG[1]}"
    if found.code == EXCLUDED_OTHER:
        return found.params["reason"]
    return _TEXTS[found.code]


def exclusion_of_text(text: str) -> Exclusion:
    """A stored `excluded_reason` read back into its code; an unknown text is EXCLUDED_OTHER with it."""
    for code, known in _TEXTS.items():
        if text == known:
            return Exclusion(code)
    for code, (head, tail), name in ((EXCLUDED_CHANNEL, _CHANNEL, "channel"), (EXCLUDED_TAG, _TAG, "tag")):
        if text.startswith(head) and text.endswith(tail) and len(text) > len(head) + len(tail):
            return Exclusion(code, {name: text[len(head):-len(tail)]})
    return Exclusion(EXCLUDED_OTHER, {"reason": text})


@dataclass(frozen=True)
class RecordedOrder:
    """What the app recorded of an order, and its ledger: the inputs of `outcome`."""

    paid_at: datetime | None
    cancelled_at: datetime | None
    excluded_reason: str | None
    award: int | None
    """Points fixed at payment, after the earning cap (None: no payment recorded)."""
    capped: int | None
    """Points the earning cap took."""
    merchandise: Decimal | None
    non_earning_paid: Decimal | None
    pending_until: datetime | None
    refunded: Decimal
    """Merchandise refunded so far."""
    points: int
    """Net points its entries hold (earned less clawed back or voided)."""
    pending: int
    """Of which still pending."""


@dataclass(frozen=True)
class Outcome:
    """What an order earned (`points`) and why, as a code and its parameters."""

    code: str
    points: int
    params: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"code": self.code, "points": self.points, "params": self.params}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def outcome(order: RecordedOrder) -> Outcome:
    """The first rule that explains the order, in this order: no payment recorded (refunded or not:
    paid before the programme, cancelled, not paid yet); excluded when paid; cancelled or refunded down to
    nothing; paid wholly by gift card / store credit; taken by the earning cap;
    points still pending (until their date and the maturity run); points earned (`capped`, `refunded` in
    params when they took part); nothing to earn (a zero basket)."""
    if order.paid_at is None:
        if order.refunded > 0:  # money was refunded, so it was paid: before the app saw its payment
            return Outcome(BEFORE_PROGRAMME, 0, {"refunded": str(order.refunded)})
        if order.cancelled_at is not None:
            return Outcome(CANCELLED, 0, {"at": _iso(order.cancelled_at)})
        return Outcome(NOT_PAID, 0)
    if order.excluded_reason:
        found = exclusion_of_text(order.excluded_reason)
        return Outcome(found.code, 0, dict(found.params))
    if order.points <= 0 and (order.award or 0) > 0:
        if order.cancelled_at is not None:
            return Outcome(CANCELLED, 0, {"at": _iso(order.cancelled_at), "award": order.award})
        if order.refunded > 0:
            return Outcome(REFUNDED, 0, {"refunded": str(order.refunded), "award": order.award})
    if not order.award:
        paid = order.merchandise or Decimal(0)
        if order.non_earning_paid and order.non_earning_paid > 0 and order.non_earning_paid >= paid:
            return Outcome(GIFT_CARD, 0, {"amount": str(order.non_earning_paid)})
        if order.capped:
            return Outcome(CAPPED, 0, {"capped": order.capped})
        if order.cancelled_at is not None:
            return Outcome(CANCELLED, 0, {"at": _iso(order.cancelled_at)})
        return Outcome(NOTHING_TO_EARN, 0)
    params = {"capped": order.capped} if order.capped else {}
    if order.refunded > 0:
        params["refunded"] = str(order.refunded)
    if order.pending > 0:  # until the maturity run moves them, whatever the date says
        return Outcome(PENDING, order.points, {**params, "until": _iso(order.pending_until)})
    return Outcome(EARNED, max(order.points, 0), params)
