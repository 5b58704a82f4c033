"""A shop's programme settings: every number of the points rules, validated and versioned.

Each saved change is a new version; an award remembers the version it used so a later refund claws back
with the rule of the original award.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from decimal import Decimal, InvalidOperation

EXPIRY_POLICIES = ("never", "after_last_purchase")
NEGATIVE_BALANCE_POLICIES = ("allow", "floor")


class ProgrammeError(ValueError):
    """A setting is invalid; the message names the field."""


@dataclass(frozen=True)
class Programme:
    """The rules that turn orders into points for one shop."""

    earn_rate: Decimal = Decimal("1")
    pending_days: int = 14
    non_earning_gateways: tuple[str, ...] = ("gift_card", "shopify_store_credit")
    excluded_customer_tags: tuple[str, ...] = ()
    exclude_b2b: bool = False
    excluded_source_names: tuple[str, ...] = ()
    expiry: str = "never"
    expiry_months: int = 12
    negative_balance: str = "allow"
    voucher_value_per_point: Decimal = Decimal("0.1")
    voucher_minimum_subtotal: Decimal = Decimal("0")
    voucher_validity_days: int = 30
    voucher_collection_id: int = 0
    """Vouchers apply only to this collection (e.g. full-price items); 0: to every product."""
    voucher_expiry_returns_points: bool = False
    """An unused voucher that expires gives its points back (True) or they are lost (False)."""

    def __post_init__(self) -> None:
        if self.earn_rate < 0:
            raise ProgrammeError("earn_rate: must be 0 or more points per currency unit")
        if not 0 <= self.pending_days <= 3650:
            raise ProgrammeError("pending_days: must be between 0 and 3650")
        if self.expiry not in EXPIRY_POLICIES:
            raise ProgrammeError(f"expiry: must be one of {', '.join(EXPIRY_POLICIES)}")
        if not 1 <= self.expiry_months <= 120:
            raise ProgrammeError("expiry_months: must be between 1 and 120")
        if self.voucher_value_per_point <= 0:
            raise ProgrammeError("voucher_value_per_point: must be more than 0")
        if self.voucher_minimum_subtotal < 0:
            raise ProgrammeError("voucher_minimum_subtotal: must be 0 or more")
        if not 1 <= self.voucher_validity_days <= 3650:
            raise ProgrammeError("voucher_validity_days: must be between 1 and 3650")
        if self.negative_balance not in NEGATIVE_BALANCE_POLICIES:
            raise ProgrammeError(f"negative_balance: must be one of {', '.join(NEGATIVE_BALANCE_POLICIES)}")

    @classmethod
    def from_dict(cls, data: dict) -> "Programme":
        """Build from JSON-like data, refusing unknown fields and wrong types with the field's name."""
        known = {f.name: f for f in fields(cls)}
        unknown = set(data) - set(known)
        if unknown:
            raise ProgrammeError(f"{sorted(unknown)[0]}: unknown setting")
        values = {}
        for name, value in data.items():
            values[name] = _coerce(name, known[name].type, value)
        return cls(**values)

    def to_dict(self) -> dict:
        """JSON-ready data (Decimal as string, tuples as lists)."""
        out = asdict(self)
        for name, value in out.items():
            if isinstance(value, Decimal):
                out[name] = str(value)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}

    def to_json(self) -> str:
        """Canonical JSON for storage."""
        return json.dumps(self.to_dict(), sort_keys=True)

    def with_changes(self, **changes) -> "Programme":
        """A new programme with some fields changed (validated like from_dict)."""
        return Programme.from_dict({**self.to_dict(), **changes})


def _coerce(name: str, type_name: str, value):
    try:
        if type_name == "Decimal":
            return Decimal(str(value))
        if type_name == "int":
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(value)
        if type_name == "bool":
            if isinstance(value, str):
                if value.lower() in ("true", "1", "yes"):
                    return True
                if value.lower() in ("false", "0", "no"):
                    return False
                raise ValueError
            return bool(value)
        if type_name.startswith("tuple"):
            items = value.split(",") if isinstance(value, str) else list(value)
            return tuple(str(v).strip() for v in items if str(v).strip())
        if not isinstance(value, str):
            raise ValueError
        return value
    except (ValueError, TypeError, InvalidOperation):
        raise ProgrammeError(f"{name}: {value!r} is not a valid {type_name}") from None
