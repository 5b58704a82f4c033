"""`Section`: a frozen dataclass that is one part of the programme document, read from JSON-like data and
written back, so that every part validates the same way and `show --json` can be pasted back.

A field's type decides how a value is read (`coerce`): Decimal, int, bool, str, tuple of str, another
Section (an object), or a tuple of Sections (a list of objects). `NESTED` names the Section classes of the
fields that hold parts (`{"rules": TierRule}`), since annotations are strings here. A Section checks itself
in `check(where)` (called by `from_dict` and by the programme for defaults), naming the bad field.
"""
from __future__ import annotations

import json
from dataclasses import fields
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import ClassVar

from loyalty.domain.errors import ProgrammeError


class Section:
    """Mixin for a frozen dataclass that is one part of the programme document."""

    NESTED: ClassVar[dict[str, type]] = {}
    """field name -> Section class, for fields holding one part (an object) or a tuple of parts (a list)."""
    REQUIRED: ClassVar[tuple[str, ...]] = ()
    """Fields that must be given (the others have defaults)."""

    def check(self, where: str) -> None:
        """Refuse an inconsistent part with ProgrammeError naming the field (`where.field: ...`)."""

    @classmethod
    def from_dict(cls, data, where: str):
        """Read the part from JSON-like data (an object), validated; `where` is its path in the document."""
        if isinstance(data, cls):
            data.check(where)
            return data
        if isinstance(data, str):
            data = parse_json(data, where)
        if not isinstance(data, dict):
            raise ProgrammeError(f"{where}: expected an object")
        known = {f.name: f for f in fields(cls)}
        unknown = set(data) - set(known)
        if unknown:
            raise ProgrammeError(f"{join(where, sorted(unknown)[0])}: unknown setting")
        missing = [n for n in cls.REQUIRED if n not in data]
        if missing:
            raise ProgrammeError(f"{join(where, missing[0])}: required")
        values = {name: read_field(cls, known[name].type, join(where, name), name, value)
                  for name, value in data.items()}
        part = cls(**values)
        part.check(where)
        return part

    def to_dict(self) -> dict:
        """JSON-ready data: Decimal as string, dates ISO, tuples as lists, parts as objects."""
        return {f.name: to_json_value(getattr(self, f.name)) for f in fields(self)}


def check_parts(parts, cls, where: str, what: str) -> set:
    """Check each part of a list (`where[i]`: an instance of `cls`, consistent, its `key` used once);
    returns the keys. `what` names a part in the refusal (`expected a reward`)."""
    seen = set()
    for index, part in enumerate(parts):
        if not isinstance(part, cls):
            raise ProgrammeError(f"{where}[{index}]: expected {what}")
        part.check(f"{where}[{index}]")
        if part.key in seen:
            raise ProgrammeError(f"{where}[{index}].key: {part.key!r} is used twice")
        seen.add(part.key)
    return seen


def read_field(cls, type_name: str, path: str, name: str, value):
    """One field's value read by its declared type (a part, a list of parts, or a scalar)."""
    nested = cls.NESTED.get(name)
    if nested is None:
        return coerce(path, type_name, value)
    if type_name.startswith("tuple"):
        if isinstance(value, str):
            value = parse_json(value, path)
        if not isinstance(value, (list, tuple)):
            raise ProgrammeError(f"{path}: expected a list")
        return tuple(nested.from_dict(item, f"{path}[{index}]") for index, item in enumerate(value))
    if value is None and "None" in type_name:
        return None
    return nested.from_dict(value, path)


def to_json_value(value):
    """A field's value as JSON-ready data."""
    if isinstance(value, Section):
        return value.to_dict()
    if isinstance(value, (tuple, list)):
        return [to_json_value(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def parse_json(text: str, where: str):
    try:
        return json.loads(text)
    except ValueError:
        raise ProgrammeError(f"{where}: expected JSON") from None


def coerce(name: str, type_name: str, value):
    """A scalar setting read by its declared type name (`Decimal`, `int`, `bool`, `str`, `tuple[str, ...]`,
    `date`, each possibly `| None`), or ProgrammeError naming the setting."""
    if value is None and "None" in type_name:
        return None
    type_name = type_name.replace(" | None", "")
    try:
        if type_name == "Decimal":
            if isinstance(value, bool):
                raise ValueError
            number = Decimal(str(value))
            if not number.is_finite():
                raise ValueError
            return number
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
            if not isinstance(value, (bool, int)):
                raise ValueError
            return bool(value)
        if type_name == "date":
            return value if isinstance(value, date) else date.fromisoformat(str(value))
        if type_name.startswith("tuple"):
            if isinstance(value, str) and value.strip().startswith("["):
                value = parse_json(value, name)
            items = value.split(",") if isinstance(value, str) else list(value)
            return tuple(str(v).strip() for v in items if str(v).strip())
        if not isinstance(value, str):
            raise ValueError
        return value
    except (ValueError, TypeError, InvalidOperation):
        raise ProgrammeError(f"{name}: {value!r} is not a valid {type_name}") from None
