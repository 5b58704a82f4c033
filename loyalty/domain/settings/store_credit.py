"""The programme's store credit part: what store B's conversion makes (a discount code, as today, or Shopify
store credit) and how long store credit lasts. Store credit works online and at the point of sale without a
code; Shopify spends the soonest-expiring credit first."""
from __future__ import annotations

from dataclasses import dataclass

from loyalty.domain.errors import ProgrammeError
from loyalty.domain.settings.section import Section

CONVERSION_TARGETS = ("voucher", "store_credit")
"""What converting points makes: `voucher` a single-use discount code (today's default), `store_credit` a
credit on the customer's Shopify store credit account."""


@dataclass(frozen=True)
class StoreCredit(Section):
    """`store_credit.conversion_target` and `store_credit.expiry_days` of the programme document."""

    conversion_target: str = "voucher"
    """What a conversion of points makes (see CONVERSION_TARGETS)."""
    expiry_days: int = 365
    """A credit expires this many days after it is issued (Shopify's `expiresAt`); what is left of it then
    is lost to the customer."""

    def check(self, where: str) -> None:
        """Refuse an unknown target or an expiry out of range, naming the field."""
        prefix = f"{where}." if where else ""
        if self.conversion_target not in CONVERSION_TARGETS:
            raise ProgrammeError(f"{prefix}conversion_target: must be one of {', '.join(CONVERSION_TARGETS)}")
        if not 1 <= self.expiry_days <= 3650:
            raise ProgrammeError(f"{prefix}expiry_days: must be between 1 and 3650")
