"""What a merchant may write in an email: the kinds, the variables each kind's text may use, sample facts
for a preview or a test send, and the check of a merchant's subject and body (pure).

A merchant's text is a Jinja template like the built-in ones (`loyalty/domain/email_templates/`): plain text,
paragraphs separated by blank lines, `- ` lists, `** CODE **` for the one thing to copy, and the filters
`points`, `money` and `day`. It is rendered in a sandbox (loyalty.domain.emails), and only the variables of
its kind are accepted: a typo is refused when the text is saved, naming the variable, never discovered in a
customer's inbox.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from jinja2 import TemplateSyntaxError, meta
from jinja2.sandbox import SandboxedEnvironment

COMMON = ("shop_name", "shop_url", "loyalty_url", "to_address", "currency", "language")
"""The variables every email may use: the shop's name and address, the loyalty page, the recipient."""

KINDS: dict[str, tuple[str, ...]] = {
    "points_available": ("points", "orders", "available", "redeemable", "conversion"),
    "threshold_reached": ("perks", "lifetime"),
    "voucher_created": ("kind", "code", "points", "amount", "minimum_subtotal", "title", "percentage",
                        "tier_gift", "ends_on"),
    "voucher_cancelled": ("kind", "code", "title", "points", "available"),
    "points_expiring": ("available", "days_left", "expires_on", "months", "last_purchase_on", "conversion"),
    "birthday": ("perk",),
    "points_awarded": ("title", "points", "available"),
    "birthday_gift": ("kind", "code", "amount", "points", "ends_on"),
    "tier_changed": ("tier", "previous", "up", "multiplier", "reason", "exclusive", "free_shipping"),
    "referral_friend": ("code", "amount", "percentage", "minimum_subtotal", "ends_on"),
    "referral_reward": ("points", "available"),
    "store_credit_issued": ("points", "amount", "title", "ends_on"),
}
"""Each email kind and the facts its event gives (beside COMMON)."""

LANGUAGES = ("fr", "en")
SUBJECT_MAX = 1_000
"""Source characters (a subject may hold conditions); the rendered subject is one line."""
BODY_MAX = 10_000

_PERKS = [{"key": "birthday", "title": "Une surprise pour ton anniversaire", "description": "Dans ta boîte mail",
           "points": 150, "birthday": True},
          {"key": "early", "title": "Accès en avant-première", "description": "Aux collections et retours en stock",
           "points": 150, "birthday": False}]
SAMPLES: dict[str, dict] = {
    "points_available": {"points": 120, "orders": ["#1001"], "available": 320, "conversion": None,
                         "redeemable": [{"key": "gift", "title": "10 € en carte cadeau", "description": "",
                                         "points": 300, "birthday": False},
                                        {"key": "ship", "title": "Livraison offerte", "description": "",
                                         "points": 200, "birthday": False}]},
    "threshold_reached": {"lifetime": 150, "perks": _PERKS},
    "voucher_created": {"kind": "discount", "code": "LOY-1A2B3C", "points": 1000, "amount": Decimal("100"),
                        "title": None, "minimum_subtotal": Decimal("100"), "percentage": None, "tier_gift": None,
                        "ends_on": date(2026, 12, 24)},
    "voucher_cancelled": {"kind": "discount", "code": "LOY-1A2B3C", "title": "10 € de réduction", "points": 500,
                          "available": 820},
    "points_expiring": {"available": 450, "days_left": 30, "expires_on": date(2026, 1, 9), "months": 12,
                        "last_purchase_on": date(2025, 1, 10),
                        "conversion": {"value": Decimal("45.00"), "minimum_points": 100}},
    "birthday": {"perk": {"key": "birthday", "title": "Une surprise pour ton anniversaire",
                          "description": "Dans ta boîte mail"}},
    "points_awarded": {"title": "Bienvenue", "points": 50, "available": 50},
    "birthday_gift": {"kind": "discount", "code": "BDAY-7K2M", "amount": Decimal("10"), "points": 100,
                      "ends_on": date(2026, 6, 30)},
    "tier_changed": {"tier": "Or", "previous": "Argent", "up": True, "multiplier": Decimal("1.5"),
                     "reason": "threshold", "exclusive": ["Coffret VIP", "Atelier privé"], "free_shipping": "month"},
    "referral_friend": {"code": "FRIEND-9X8Y", "amount": Decimal("10"), "percentage": None,
                        "minimum_subtotal": Decimal("50"), "ends_on": date(2026, 3, 31)},
    "referral_reward": {"points": 200, "available": 520},
    "store_credit_issued": {"points": 150, "amount": Decimal("15"), "title": None, "ends_on": date(2027, 3, 1)},
}
"""Facts of a made-up event of each kind: the admin's preview and test send, and the tests."""


class EmailTextError(ValueError):
    """A merchant's subject or body that cannot be used; `field` is `subject` or `body`."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class EmailText:
    """A merchant's own subject and body for one kind and language (Jinja, checked by `check`)."""

    subject: str
    body: str


FILTERS = ("points", "money", "day")
"""The filters an email's text may use beside Jinja's own (loyalty.domain.emails defines them)."""
_PARSER = SandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
for _name in FILTERS:
    _PARSER.filters[_name] = str


def check(kind: str, text: EmailText) -> EmailText:
    """The text, trimmed, when it parses and uses only its kind's variables and known filters; else
    EmailTextError naming the field and the first unknown variable (`body: unknown variable {{ pionts }}`)."""
    if kind not in KINDS:
        raise EmailTextError("kind", f"unknown email kind {kind!r}")
    allowed = set(COMMON) | set(KINDS[kind])
    cleaned = EmailText(subject=" ".join(str(text.subject).split()), body=str(text.body).strip())
    for field, source, limit in (("subject", cleaned.subject, SUBJECT_MAX), ("body", cleaned.body, BODY_MAX)):
        if not source:
            raise EmailTextError(field, "must not be empty")
        if len(source) > limit:
            raise EmailTextError(field, f"at most {limit} characters")
        try:
            parsed = _PARSER.parse(source)
            _PARSER.compile(parsed)  # unknown filters and tests are refused here
        except TemplateSyntaxError as exc:
            raise EmailTextError(field, f"line {exc.lineno}: {exc.message}") from None
        unknown = sorted(meta.find_undeclared_variables(parsed) - allowed)
        if unknown:
            raise EmailTextError(field, f"unknown variable {{{{ {unknown[0]} }}}}; this email may use: "
                                        f"{', '.join(sorted(allowed))}")
    return cleaned


_ADDRESS = re.compile(r"^[^@\s<>,;\"]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,}$")


def check_address(to: str) -> str:
    """A test email's recipient as given (trimmed) when it is one plain address; else EmailTextError (`to`).
    No spaces, line breaks, commas or brackets: one recipient, nothing added to the headers."""
    address = str(to or "").strip()
    if not _ADDRESS.match(address):
        raise EmailTextError("to", "expected one email address (name@example.com)")
    return address
