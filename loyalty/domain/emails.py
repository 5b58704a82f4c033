"""Customer emails, rendered from the Jinja2 templates in `loyalty/domain/email_templates/LANGUAGE/KIND.txt`.

Each template has a `subject` and a `body` block written as plain text (paragraphs separated by blank
lines, `- ` lists, `** CODE **` for the one thing to copy); the HTML version is the same text in
`layout.html`, escaped, so the two versions never say different things.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context

from loyalty.domain import money

_LOADER = PackageLoader("loyalty.domain", "email_templates")
# Templates are compiled once per process and never re-checked on disk (auto_reload off): rendering inside
# the event's transaction costs a fraction of a millisecond.
_TEXT = Environment(loader=_LOADER, autoescape=False, undefined=StrictUndefined, trim_blocks=True,
                    lstrip_blocks=True, auto_reload=False)
_HTML = Environment(loader=_LOADER, autoescape=True, undefined=StrictUndefined, trim_blocks=True,
                    lstrip_blocks=True, auto_reload=False)

MONTHS = {
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
}
SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "CAD": "$", "CHF": "CHF"}


@dataclass(frozen=True)
class Email:
    """A rendered email: what the outbox stores and the sender sends."""

    subject: str
    text: str
    html: str


def render(kind: str, language: str, facts: dict) -> Email:
    """The email of `kind` in `language` ("fr" or "en") with the event's facts (shop_name, to_address,
    currency and the kind's own facts); a missing fact is an error, never a blank in a customer's inbox."""
    template = _TEXT.get_template(f"{language}/{kind}.txt")
    context = template.new_context({"currency": "EUR", **facts, "language": language})
    subject = _one_line("".join(template.blocks["subject"](context)))
    body = _tidy("".join(template.blocks["body"](context)))
    footer = _one_line(_TEXT.get_template(f"{language}/footer.txt").render(**facts))
    html = _HTML.get_template("layout.html").render(
        language=language, subject=subject, shop_name=facts["shop_name"], blocks=_blocks(body), footer=footer)
    return Email(subject=subject, text=f"{body}\n\n-- \n{footer}\n", html=html)


def format_points(number: int, language: str) -> str:
    """`1 250 points` (fr, narrow no-break space) or `1,250 points` (en); `1 point`."""
    digits = f"{number:,}".replace(",", "\u202f" if language == "fr" else ",")
    return f"{digits} point" if abs(number) == 1 else f"{digits} points"


def format_money(amount: Decimal, currency: str = "EUR", language: str = "fr") -> str:
    """`10,00 €` (fr) or `€10.00` (en); an unknown currency is written after the amount by its code."""
    value = money.shown(amount)
    symbol = SYMBOLS.get(currency, currency)
    if language == "fr":
        whole, cents = f"{value:,.2f}".split(".")
        whole = whole.replace(",", "\u202f")
        return f"{whole},{cents}\u00a0{symbol}"
    return f"{symbol}{value:,.2f}" if len(symbol) == 1 else f"{value:,.2f} {symbol}"


def format_day(day: date, language: str) -> str:
    """`1er mars 2026` / `23 décembre 2026` (fr) or `23 December 2026` (en)."""
    number = "1er" if language == "fr" and day.day == 1 else str(day.day)
    return f"{number} {MONTHS[language][day.month - 1]} {day.year}"


# Filters read the language (and currency) of the email being rendered from the template's context.
_TEXT.filters["points"] = pass_context(lambda ctx, n: format_points(n, ctx["language"]))
_TEXT.filters["money"] = pass_context(lambda ctx, a: format_money(a, ctx["currency"], ctx["language"]))
_TEXT.filters["day"] = pass_context(lambda ctx, d: format_day(d, ctx["language"]))


def _one_line(text: str) -> str:
    """Layout whitespace folded to single spaces; no-break spaces (in amounts) kept."""
    return re.sub(r"[ \t\r\n]+", " ", text).strip()


def _tidy(text: str) -> str:
    """Trim the template's layout whitespace: no trailing spaces, at most one blank line in a row."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def _blocks(body: str) -> list[dict]:
    """Paragraphs of the text body as HTML blocks: lines, a list, or the highlighted code."""
    blocks = []
    for paragraph in body.split("\n\n"):
        lines = paragraph.splitlines()
        if all(line.startswith("- ") for line in lines):
            blocks.append({"bullets": [line[2:] for line in lines], "code": None, "lines": ()})
        elif len(lines) == 1 and lines[0].startswith("** ") and lines[0].endswith(" **"):
            blocks.append({"bullets": (), "code": lines[0][3:-3], "lines": ()})
        else:
            blocks.append({"bullets": (), "code": None, "lines": lines})
    return blocks
