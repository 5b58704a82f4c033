"""Shopify Flow, as data: the app's trigger and action handles, the payload of each trigger, and the
reading of an action request (pure; the outbox is loyalty.services.flow, the endpoint webhooks.flow_actions).

Triggers are declared in extensions/<handle>/shopify.extension.toml (type `flow_trigger`): a payload holds
`customer_id` (the `customer_reference` field: Shopify's numeric customer id) and the fields the extension
declares, under the same keys. Shopify refuses a payload over MAX_TRIGGER_PAYLOAD_BYTES; every text field
is cut to MAX_TEXT characters, so none of ours comes near it.

Actions (type `flow_action`) are POSTed by Flow to /flow/actions/<handle>, signed like webhooks, with
`shop_id`, `shopify_domain`, `action_run_id` (the same on each of Flow's retries), `handle` and `properties`
(the extension's fields, `customer_id` for its customer reference).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from loyalty.domain.errors import FlowActionRefused
from loyalty.domain.requests import MAX_ADJUSTMENT, MAX_REASON
from loyalty.domain.shops import valid_shop_domain

POINTS_EARNED = "loyalty-points-earned"
POINTS_AVAILABLE = "loyalty-points-available"
TIER_CHANGED = "loyalty-tier-changed"
PERK_UNLOCKED = "loyalty-perk-unlocked"
REWARD_REDEEMED = "loyalty-reward-redeemed"
POINTS_EXPIRING = "loyalty-points-expiring"
TRIGGERS = (POINTS_EARNED, POINTS_AVAILABLE, TIER_CHANGED, PERK_UNLOCKED, REWARD_REDEEMED, POINTS_EXPIRING)
"""The handles of the app's Flow triggers (each an extension directory of the same name)."""

AWARD_POINTS = "loyalty-award-points"
CHANGE_TIER = "loyalty-change-tier"
ACTIONS = (AWARD_POINTS, CHANGE_TIER)
"""The handles of the app's Flow actions."""

ACTOR = "Shopify Flow"
"""Who the ledger says made an adjustment a Flow action asked for."""

MAX_TRIGGER_PAYLOAD_BYTES = 50_000
"""flowTriggerReceive refuses a payload larger than this (Shopify's limit, 50 KB)."""
MAX_TEXT = 255
"""Text fields of a trigger payload are cut to this many characters."""
MAX_RUN_ID = 92
"""The longest action_run_id kept whole in an adjustment's client token (`flow:` + id, at most 100)."""

EARNING_KINDS = {"earn": "pending", "bonus": "available", "adjust": "available"}
"""Ledger entry kinds announced as `points earned` (positive ones only), and the state of their points."""


def _text(value) -> str:
    return str(value if value is not None else "")[:MAX_TEXT]


def trigger_payload(shopify_customer_id: int, **fields) -> dict:
    """A trigger's payload: the customer reference and the extension's fields (texts cut to MAX_TEXT)."""
    payload = {"customer_id": int(shopify_customer_id)}
    for key, value in fields.items():
        payload[key] = value if isinstance(value, (int, Decimal)) and not isinstance(value, bool) else _text(value)
    return payload


def payload_size(payload: dict) -> int:
    """The payload's size as Shopify counts it: its JSON, in bytes."""
    return len(json.dumps(payload, separators=(",", ":"), default=str).encode())


def earned_payload(shopify_customer_id: int, kind: str, points: int, reason: str) -> dict | None:
    """`points earned` for a ledger entry: an order's award (pending points), a bonus or a positive
    adjustment (available at once); None for any other entry (nothing earned)."""
    if kind not in EARNING_KINDS or points <= 0:
        return None
    return trigger_payload(shopify_customer_id, points=points, status=EARNING_KINDS[kind], reason=reason)


def available_payload(shopify_customer_id: int, points: int, available_balance: int, reason: str) -> dict:
    """`points available`: an order's pending points matured; with the customer's available balance after."""
    return trigger_payload(shopify_customer_id, points=points, available_balance=available_balance, reason=reason)


def perk_payload(shopify_customer_id: int, perk_key: str, perk_title: str, lifetime_points: int) -> dict:
    """`perk unlocked`: one status perk the customer's lifetime points just reached."""
    return trigger_payload(shopify_customer_id, perk_key=perk_key, perk_title=perk_title,
                           lifetime_points=lifetime_points)


def redeemed_payload(shopify_customer_id: int, *, reward_key: str | None, reward_title: str | None, kind: str,
                     points: int, code: str) -> dict:
    """`reward redeemed`: points spent on a reward (or a conversion, reward key `conversion`), its code."""
    return trigger_payload(shopify_customer_id, reward_key=reward_key or "conversion",
                           reward_title=reward_title or "", reward_kind=kind, points=points, code=code)


def expiring_payload(shopify_customer_id: int, points: int, expires_on: str, days_left: int) -> dict:
    """`points expiring`: the customer's available points expire on that day (ISO date)."""
    return trigger_payload(shopify_customer_id, points=points, expires_on=expires_on, days_left=days_left)


def tier_payload(shopify_customer_id: int, previous_tier: str | None, new_tier: str | None, reason: str) -> dict:
    """`tier changed`: from one tier to another (an empty name: no tier)."""
    return trigger_payload(shopify_customer_id, previous_tier=previous_tier or "", new_tier=new_tier or "",
                           reason=reason)


# -- actions ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FlowAction:
    """What an action request asks, checked: for which shop and customer, under which run."""

    handle: str
    shop_domain: str
    shopify_shop_id: int
    action_run_id: str
    shopify_customer_id: int
    points: int = 0
    """award points: how many (1 to MAX_ADJUSTMENT)."""
    reason: str = ""
    """award points: why (kept in the customer's history); change tier: optional note."""
    tier: str = ""
    """change tier: the tier's key."""
    action_key: str = ""
    """award points: a programme action (`earning.actions`) to award by key instead of `points`: its points,
    within its cap, once per `reference`."""
    reference: str = ""
    """award points by action: what it is for (a review's id); the action run's id when Flow gives none."""

    @property
    def client_token(self) -> str:
        """The adjustment's token: one per action run, so a run Flow sends again books nothing more."""
        return f"flow:{self.action_run_id}"


def parse_action(url_handle: str, body: bytes) -> FlowAction:
    """The action request `body` (raw JSON) sent to /flow/actions/<url_handle>, checked, or
    FlowActionRefused with the HTTP status to answer and the property at fault."""
    if url_handle not in ACTIONS:
        raise FlowActionRefused(f"no Flow action {url_handle!r}: the app has {', '.join(ACTIONS)}", 404, "handle")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise FlowActionRefused("the body is not JSON", 400) from None
    if not isinstance(data, dict):
        raise FlowActionRefused("the body must be a JSON object", 400)
    if data.get("handle") != url_handle:
        raise FlowActionRefused(f"the body is for action {data.get('handle')!r}, sent to {url_handle!r}", 400,
                                "handle")
    domain = data.get("shopify_domain")
    if not isinstance(domain, str) or not valid_shop_domain(domain):
        raise FlowActionRefused("shopify_domain must be the shop's myshopify.com domain", 400, "shopify_domain")
    shop_id = _whole(data.get("shop_id"))
    if shop_id is None or shop_id <= 0:
        raise FlowActionRefused("shop_id must be the shop's numeric id", 400, "shop_id")
    run_id = data.get("action_run_id")
    if not isinstance(run_id, str) or not 3 <= len(run_id.strip()) <= MAX_RUN_ID:
        raise FlowActionRefused(f"action_run_id must be 3-{MAX_RUN_ID} characters", 400, "action_run_id")
    properties = data.get("properties")
    if not isinstance(properties, dict):
        raise FlowActionRefused("properties must be an object", 400, "properties")
    customer = _customer_id(properties.get("customer_id"))
    action = dict(handle=url_handle, shop_domain=domain, shopify_shop_id=shop_id, action_run_id=run_id.strip(),
                  shopify_customer_id=customer)
    if url_handle == AWARD_POINTS and _stripped(properties.get("action")):
        return FlowAction(**action, action_key=_action_key(properties.get("action")),
                          reference=_stripped(properties.get("reference"))[:MAX_RUN_ID] or run_id.strip(),
                          reason=_reason(properties.get("reason"), required=False))
    if url_handle == AWARD_POINTS:
        return FlowAction(**action, points=_points(properties.get("points")),
                          reason=_reason(properties.get("reason"), required=True))
    return FlowAction(**action, tier=_tier(properties.get("tier")),
                      reason=_reason(properties.get("reason"), required=False))


def _whole(value) -> int | None:
    """An integer given as a JSON number or a string of digits (Flow sends ids either way); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    return None


def _customer_id(value) -> int:
    """The customer reference: a numeric id, its digits, or its gid://shopify/Customer/ID."""
    if isinstance(value, str) and value.startswith("gid://shopify/Customer/"):
        value = value.rsplit("/", 1)[1]
    number = _whole(value)
    if number is None or number <= 0:
        raise FlowActionRefused("customer_id must be the customer's Shopify id", 422, "customer_id")
    return number


def _points(value) -> int:
    """A number_decimal field holding a whole number of points, 1 to MAX_ADJUSTMENT."""
    try:
        number = Decimal(str(value)) if not isinstance(value, bool) and value is not None else None
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or number != number.to_integral_value():
        raise FlowActionRefused(f"points must be a whole number, not {value!r}", 422, "points")
    if not 1 <= number <= MAX_ADJUSTMENT:
        raise FlowActionRefused(f"points must be between 1 and {MAX_ADJUSTMENT}", 422, "points")
    return int(number)


def _reason(value, required: bool) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if required and not text:
        raise FlowActionRefused("a reason is required: it is kept in the customer's history", 422, "reason")
    if len(text) > MAX_REASON:
        raise FlowActionRefused(f"the reason is longer than {MAX_REASON} characters", 422, "reason")
    return text


def _stripped(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def _action_key(value) -> str:
    text = _stripped(value)
    if not 1 <= len(text) <= 40:
        raise FlowActionRefused("action must name one of the programme's actions (earning.actions)", 422, "action")
    return text


def _tier(value) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not 1 <= len(text) <= 100:
        raise FlowActionRefused("tier must name one of the programme's tiers", 422, "tier")
    return text
