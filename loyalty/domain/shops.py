"""Which names are shops."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SHOP_DOMAIN = re.compile(r"[a-z0-9][a-z0-9-]*\.myshopify\.com")
"""Matched whole (fullmatch): `$` would also match before a trailing newline, which then reached a header."""


def valid_shop_domain(domain: str) -> bool:
    """Only `*.myshopify.com` names are shops: never a request to an arbitrary host."""
    return isinstance(domain, str) and SHOP_DOMAIN.fullmatch(domain) is not None


@dataclass(frozen=True)
class ShopFacts:
    """What Shopify says of the shop that the admin, reports and schedules follow: its name, time zone,
    currency and primary locale (shops.name, iana_timezone, currency_code, primary_locale). Unknown ones
    (a shop not yet read) fall back to the domain's name, UTC, the currency of its orders, and English."""

    domain: str
    name: str = ""
    timezone: str = "UTC"
    currency: str = ""
    locale: str = "en"

    @property
    def zone(self) -> ZoneInfo:
        """The shop's time zone (UTC when Shopify's name is unknown to this machine's tz database)."""
        try:
            return ZoneInfo(self.timezone or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")

    @property
    def language(self) -> str:
        """The admin's language for this shop when the staff member's own is not known: `fr` or `en`."""
        return "fr" if (self.locale or "").lower().startswith("fr") else "en"

    def local_day(self, moment: datetime) -> date:
        """The shop's calendar day of an aware instant."""
        return moment.astimezone(self.zone).date()

    def start_of_day(self, day: date) -> datetime:
        """The instant (UTC) the shop's calendar day `day` begins."""
        return datetime.combine(day, time.min, tzinfo=self.zone).astimezone(timezone.utc)

    def to_dict(self) -> dict:
        """JSON-ready, as /admin/api/shop answers."""
        return {"domain": self.domain, "name": self.name or self.domain.split(".")[0], "timezone": self.timezone,
                "currency": self.currency, "locale": self.locale, "language": self.language}
