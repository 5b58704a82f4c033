"""What a Shopify Flow action does to the ledger: award points (a manual adjustment booked once per action
run, by "Shopify Flow"), put a customer in a tier (when the programme has tiers)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Connection

from loyalty.domain.errors import ActionRefused, AdjustmentRefused, FlowActionRefused
from loyalty.domain.flow import ACTOR, FlowAction
from loyalty.domain.requests import Adjustment
from loyalty.services import bonuses, ledger, tiers
from loyalty.services.adjustments import adjust
from loyalty.services.shops import ShopRef, programme


def award_points(conn: Connection, shop: ShopRef, customer_id: int, action: FlowAction, now: datetime) -> dict:
    """Book the points once per action run (Flow sends a run again, with the same id, when it did not hear
    a 200: the second booking finds the first), or, when the action names a programme action, award that
    action's points once per reference within its cap. Returns what was booked and the balance after it."""
    if action.action_key:
        try:
            row, _ = bonuses.award_action(conn, shop, programme(conn, shop.id, shop.settings_version), customer_id,
                                          action.action_key, action.reference, ACTOR, action.reason, now)
        except ActionRefused as exc:
            raise FlowActionRefused(str(exc), 422, exc.field) from None
        return {"award_id": row.id, "points": row.points, "asked": row.asked, "reason": row.reason,
                "available": ledger.balance(conn, customer_id).available}
    try:
        entry = adjust(conn, shop, Adjustment(customer_id, action.points, action.reason, ACTOR,
                                              action.client_token), now)
    except AdjustmentRefused as exc:
        raise FlowActionRefused(str(exc), 422, exc.field) from None
    return {"entry_id": entry.id, "points": entry.available,
            "available": ledger.balance(conn, customer_id).available}


def change_tier(conn: Connection, shop: ShopRef, customer_id: int, action: FlowAction, now: datetime) -> dict:
    """Put the customer in the tier the action names (loyalty.services.tiers.assign: kept like a tier
    qualified for now). A programme without tiers, or a tier it does not have, is refused (422) saying so:
    the merchant's workflow shows the step failed with that reason. A run sent again finds the customer in
    the tier already and changes nothing."""
    prog = programme(conn, shop.id, shop.settings_version)
    if not prog.tiers.enabled or not prog.tiers.levels:
        raise FlowActionRefused(f"this programme has no tiers: {shop.domain} cannot put a customer in tier "
                                f"{action.tier!r} (set tiers in the programme first)", 422, "tier")
    tier = prog.tiers.tier(action.tier)
    if tier is None:
        known = ", ".join(t.key for t in prog.tiers.ladder)
        raise FlowActionRefused(f"no tier {action.tier!r} in this programme (its tiers: {known})", 422, "tier")
    reason = f"Shopify Flow: {action.reason}" if action.reason else "Shopify Flow: tier set by a workflow"
    changed = tiers.assign(conn, shop, prog, customer_id, tier.key, reason, now)
    return {"tier": tier.key, "changed": changed}
