"""What changed between two programme documents (Programme.to_dict()), as dotted paths: the audit log shows
it for every version, and a stale save is refused with it (what another person saved meanwhile)."""
from __future__ import annotations

from typing import Any


def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> None:
    if not prefix and value == {}:  # no document at all (the first version's "before"): no leaf
        return
    if isinstance(value, dict) and value:
        for key in value:
            _flatten(value[key], f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(value, list) and value and all(isinstance(v, dict) and "key" in v for v in value):
        for item in value:  # rewards, tiers...: matched by their key, not their place in the list
            _flatten(item, f"{prefix}[{item['key']}]", out)
    else:
        out[prefix] = value


def programme_diff(before: dict | None, after: dict) -> list[dict]:
    """[{"path", "before", "after"}] for every leaf that differs, sorted by path; a leaf only on one side has
    None on the other (a reward added or removed shows each of its fields). `before` None: everything new."""
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    _flatten(before or {}, "", old)
    _flatten(after, "", new)
    return [{"path": path, "before": old.get(path), "after": new.get(path)}
            for path in sorted(old.keys() | new.keys()) if old.get(path) != new.get(path)]


def summarise(diff: list[dict], limit: int = 3) -> str:
    """One line: the first changed paths and how many more (`earn_rate 1 -> 2, rewards[gift].points ...`)."""
    if not diff:
        return "no change"
    shown = [f"{d['path']}: {d['before']!r} -> {d['after']!r}" for d in diff[:limit]]
    more = len(diff) - limit
    return "; ".join(shown) + (f" (and {more} more)" if more > 0 else "")
