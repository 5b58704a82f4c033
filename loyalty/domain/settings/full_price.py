"""The `full_price` part of the programme: vouchers limited to the shop's full-price products, through a
smart collection the app creates and maintains itself (store B's vouchers exclude discounted products)."""
from __future__ import annotations

from dataclasses import dataclass

from loyalty.domain.errors import ProgrammeError
from loyalty.domain.settings.section import Section

DEFAULT_TITLE = "Full price (loyalty vouchers)"


@dataclass(frozen=True)
class FullPrice(Section):
    """`automatic`: the app keeps a smart collection of the products with a variant at full price (no
    compare-at price) and limits vouchers to it, in place of `voucher_collection_id`; off by default
    (vouchers follow `voucher_collection_id`, the merchant's own collection or none)."""

    automatic: bool = False
    title: str = DEFAULT_TITLE
    """The collection's title in Shopify admin (the merchant sees it among their collections)."""

    def check(self, where: str) -> None:
        if not self.title.strip() or len(self.title) > 255:
            raise ProgrammeError(f"{where}.title: must be 1-255 characters")
