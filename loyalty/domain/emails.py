"""Customer emails, rendered from the Jinja2 templates in `loyalty/domain/email_templates/LANGUAGE/KIND.txt`.

Each template has a `subject` and a `body` block written as plain text (paragraphs separated by blank
lines, `- ` lists, `** CODE **` for the one thing to copy); the HTML version is the same text in
`layout.html`, escaped (addresses made links), so the two versions never say different things. A merchant
may replace a kind's subject and body for a language (loyalty.domain.email_texts): that text is rendered in a
sandbox, and if it fails at render time the built-in text is sent instead, never nothing.

Every email ends with a footer linking the shop, its loyalty page and the customer's unsubscribe link. That
link is signed per customer when the email is sent (integrations.mail), so the stored text holds
UNSUBSCRIBE_MARK in its place.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from jinja2 import Environment, PackageLoader, StrictUndefined, Template, pass_context
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from loyalty.domain import money
from loyalty.domain.email_texts import EmailText, EmailTextError

_LOADER = PackageLoader("loyalty.domain", "email_templates")
# Templates are compiled once per process and never re-checked on disk (auto_reload off): rendering inside
# the event's transaction costs a fraction of a millisecond.
_TEXT = Environment(loader=_LOADER, autoescape=False, undefined=StrictUndefined, trim_blocks=True,
                    lstrip_blocks=True, auto_reload=False)
_HTML = Environment(loader=_LOADER, autoescape=True, undefined=StrictUndefined, trim_blocks=True,
                    lstrip_blocks=True, auto_reload=False)
# A merchant's text (loyalty.domain.email_texts): no attribute or method beyond plain data is reachable.
_MERCHANT = SandboxedEnvironment(autoescape=False, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)

LOYALTY_PATH = "/apps/loyalty"
"""The loyalty page in the shop (the app proxy's prefix and subpath, shopify.app.toml)."""
UNSUBSCRIBE_MARK = "%%unsubscribe_url%%"
"""Stands for the customer's signed unsubscribe link in a stored email until it is sent."""
_LINK = re.compile(r"(https?://[^\s<>\"']+[^\s<>\"'.,;:!?)]|%%unsubscribe_url%%)")

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


def render(kind: str, language: str, facts: dict, text: EmailText | None = None, strict: bool = False) -> Email:
    """The email of `kind` in `language` ("fr" or "en") with the event's facts (shop_name, to_address,
    shop_url, currency and the kind's own facts); a missing fact is an error, never a blank in a
    customer's inbox. `text`: the merchant's own subject and body, used unless it fails to render (`strict`,
    for a preview: EmailTextError saying why)."""
    shop_url = facts.get("shop_url")  # the outbox always gives it; without it the footer has no shop links
    values = {"currency": "EUR", **facts, "language": language, "shop_url": shop_url,
              "loyalty_url": shop_url and shop_url.rstrip("/") + LOYALTY_PATH, "unsubscribe_url": UNSUBSCRIBE_MARK}
    subject, body = _merchant(text, values, strict) if text else (None, None)
    if subject is None:
        template = _TEXT.get_template(f"{language}/{kind}.txt")
        context = template.new_context(values)
        subject = _one_line("".join(template.blocks["subject"](context)))
        body = _tidy("".join(template.blocks["body"](context)))
    footer = _TEXT.get_template(f"{language}/footer.txt").render(**values).strip().splitlines()
    html = _HTML.get_template("layout.html").render(
        language=language, subject=subject, shop_name=facts["shop_name"], blocks=_blocks(body), footer=footer)
    return Email(subject=subject, text=f"{body}\n\n-- \n" + "\n".join(footer) + "\n", html=html)


_BLOCK = re.compile(r"\{% block (subject|body) %\}\n?(.*?)\{% endblock %\}", re.S)


def builtin_text(kind: str, language: str) -> EmailText:
    """The built-in subject and body of a kind, as Jinja source: where a merchant's own text starts from."""
    source, _, _ = _LOADER.get_source(_TEXT, f"{language}/{kind}.txt")
    blocks = dict(_BLOCK.findall(source))
    return EmailText(subject=blocks["subject"].strip(), body=blocks["body"].strip())


def with_unsubscribe(stored: str, url: str) -> str:
    """A stored email's text or HTML with the customer's unsubscribe link in place of UNSUBSCRIBE_MARK."""
    return stored.replace(UNSUBSCRIBE_MARK, url)


_COMPILED: dict[str, Template] = {}


def _compiled(source: str) -> Template:
    """A merchant's template, compiled once per process (a few distinct texts per shop)."""
    if source not in _COMPILED:
        if len(_COMPILED) > 1000:
            _COMPILED.clear()
        _COMPILED[source] = _MERCHANT.from_string(source)
    return _COMPILED[source]


def _merchant(text: EmailText, values: dict, strict: bool) -> tuple[str | None, str | None]:
    """The merchant's subject and body, or (None, None) when they fail to render: the customer then gets
    the built-in text (the event's transaction must not fail over a merchant's wording)."""
    rendered = []
    for field, source, clean in (("subject", text.subject, _one_line), ("body", text.body, _tidy)):
        try:
            rendered.append(clean(_compiled(source).render(values)))
        except Exception as exc:  # noqa: BLE001 - any error of a merchant's template falls back to the built-in one
            if strict:
                raise EmailTextError(field, f"cannot be rendered with this email's facts: {exc}") from None
            return None, None
        if not rendered[-1]:
            if strict:
                raise EmailTextError(field, "renders empty with this email's facts")
            return None, None
    return rendered[0], rendered[1]


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
_MERCHANT.filters.update({name: _TEXT.filters[name] for name in ("points", "money", "day")})


def _linkify(text: str) -> Markup:
    """Escaped text whose web addresses (and the unsubscribe mark) are links."""
    out = []
    for index, part in enumerate(_LINK.split(text)):
        out.append(Markup('<a href="{0}" style="color:#555">{0}</a>').format(part) if index % 2 else escape(part))
    return Markup("").join(out)


_HTML.filters["linkify"] = _linkify


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
