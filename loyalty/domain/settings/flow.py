"""The programme's Shopify Flow part: whether the shop's events are announced to Flow as triggers.

Off by default (the seed templates keep it off): a shop that turns it on gets one `flowTriggerReceive` per
event (points earned, points available, perk unlocked, reward redeemed, points expiring, tier changed), and
a row of the Flow outbox per event until it is sent. The Flow actions (award points, change tier) need no
setting: Shopify sends them only when the merchant has put them in a workflow.

    loyalty programme set SHOP flow.triggers=true
"""
from __future__ import annotations

from dataclasses import dataclass

from loyalty.domain.settings.section import Section


@dataclass(frozen=True)
class FlowSettings(Section):
    """`flow` in the programme document."""

    triggers: bool = False
    """Announce the shop's loyalty events to Shopify Flow (the app's trigger extensions)."""
