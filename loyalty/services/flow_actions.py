"""What a Shopify Flow action does to the ledger: award points (a manual adjustment booked once per action
run, by "Shopify Flow"), change a tier (once the programme has tiers)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Connection

from loyalty.domain.errors import AdjustmentRefused, FlowActionRefused
from loyalty.domain.flow import ACTOR, FlowAction
from loyalty.domain.requests import Adjustment
from loyalty.services import ledger
from loyalty.services.adjustments import adjust
from loyalty.services.shops import ShopRef, programme


def award_points(conn: Connection, shop: ShopRef, customer_id: int, action: FlowAction, now: datetime) -> dict:
    """Book the points once per action run (Flow sends a run again, with the same id, when it did not hear
    a 200: the second booking finds the first). Returns what was booked and the balance after it."""
    try:
        entry = adjust(conn, shop, Adjustment(customer_id, action.points, action.reason, ACTOR,
                                              action.client_token), now)
    except AdjustmentRefused as exc:
        raise FlowActionRefused(str(exc), 422, exc.field) from None
    return {"entry_id": entry.id, "points": entry.available,
            "available": ledger.balance(conn, customer_id).available}


def change_tier(conn: Connection, shop: ShopRef, customer_id: int, action: FlowAction, now: datetime) -> dict:
    """Put the customer in the tier the action names. A programme without tiers refuses it (422), saying so:
    the merchant's workflow shows the step failed with that reason."""
    if not _has_tiers(programme(conn, shop.id, shop.settings_version).to_dict().get("tiers")):
        raise FlowActionRefused(f"this programme has no tiers: {shop.domain} cannot put a customer in tier "
                                f"{action.tier!r} (set tiers in the programme first)", 422, "tier")
    raise FlowActionRefused("changing a customer's tier from Flow is not available in this version of the app",
                            422, "tier")


def _has_tiers(part) -> bool:
    """Whether the programme document's `tiers` part defines any tier (a list of them, or an object holding
    one); absent, empty or off: none."""
    if isinstance(part, list):
        return bool(part)
    if isinstance(part, dict):
        return part.get("enabled", True) is not False and any(isinstance(v, list) and v for v in part.values())
    return False
