"""Reading the admin API's input: integer query parameters within bounds, and JSON bodies.

Bad input raises BadInput, which admin.api answers with a 400 naming the field: a parameter `int()` refuses
(`page=²`), one past what the database holds (a huge `page`), a body nested deeper than the parser's stack
or holding a NUL character (PostgreSQL text cannot store one) were each a 500.
"""
from __future__ import annotations

from flask import request

from loyalty.domain.numbers import MAX_ROW_ID, parse_int

MAX_PAGE = 1_000_000
"""The last page a list may be asked for (25 million rows in)."""


class BadInput(ValueError):
    """The request's input is unusable; `field` names the parameter at fault (or None)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def int_arg(name: str, default: int | None = None, *, low: int = 1, high: int = MAX_ROW_ID) -> int | None:
    """The query parameter `name` as a whole number from `low` to `high`; `default` when absent or empty."""
    raw = request.args.get(name, "")
    if raw == "":
        return default
    value = parse_int(raw, low, high)
    if value is None:
        raise BadInput(f"{name} must be a whole number from {low} to {high}", name)
    return value


def page_arg() -> int:
    """The 1-based `page` of a list (1 when absent)."""
    return int_arg("page", 1, high=MAX_PAGE)


def json_object(what: str, *, optional: bool = False) -> dict:
    """The request's body as a JSON object; BadInput saying to send `what` when it is not JSON (or nested
    too deep to parse), not an object, or holds a NUL character. An empty body is {} when `optional`."""
    if optional and not request.get_data(cache=True).strip():
        return {}
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # nesting deeper than the parser's stack; silent= catches only ValueError
        raise BadInput(f"send {what} as a JSON object (this one is nested too deeply)") from None
    if not isinstance(data, dict):
        raise BadInput(f"send {what} as a JSON object")
    if _holds_nul(data):
        raise BadInput(f"send {what} without NUL characters (\\u0000)")
    return data


def _holds_nul(data) -> bool:
    """Whether any key or string in the parsed JSON holds a NUL (walked without recursion: the parser
    accepted it, so it is shallower than the stack, but this walk would start deeper)."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False
