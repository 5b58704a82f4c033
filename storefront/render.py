"""Rendering the loyalty page: a fragment Shopify places inside the shop's theme (`application/liquid`), or a
standalone HTML page. Everything printed is HTML-escaped, and `{` `}` become entities too, because the
fragment goes through Shopify's Liquid: a reward title or order name holding `{{ ... }}` must stay text."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from loyalty.domain import money
from loyalty.domain.settings.branding import Branding
from storefront import texts


def parse_iso(value: str | None) -> datetime | None:
    """The page's ISO dates back to datetimes (for the HTML's localised dates)."""
    return datetime.fromisoformat(value) if value else None


def _inert(value):
    """Escape a printed value for HTML and for Liquid (our own markup, already Markup, passes)."""
    if isinstance(value, Markup):
        return value
    if type(value) is int:  # digits and a sign: nothing to escape (the page prints many points)
        return Markup(value)
    escaped = escape("" if value is None else value)
    if "{" in escaped or "}" in escaped:
        return Markup(str(escaped).replace("{", "&#123;").replace("}", "&#125;"))
    return escaped


_DICT_ATTRIBUTES = frozenset(dir(dict))


class _PageEnvironment(Environment):
    """Jinja's environment, reading `x.name` of the page's plain dicts as `x["name"]` first: the default
    asks getattr first and, for a dict, pays a raised AttributeError on every field printed (a third of the
    page's rendering with 100 vouchers and 50 history rows). Same answers: a dict has no attribute of that
    name, so the default falls back to the item too; dict methods (`.get`, `.items`) keep the default."""

    def getattr(self, obj, attribute):
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


ENV = _PageEnvironment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                       autoescape=select_autoescape(default=True, default_for_string=True), finalize=_inert,
                       trim_blocks=True, lstrip_blocks=True)


def render(page: dict, *, standalone: bool, path_prefix: str, token: str | None, notice: dict | None = None,
           faq: list[tuple[str, str]] = (), branding: Branding = Branding()) -> str:
    """The page's HTML; `notice` is the outcome of a form (a voucher, or an error text or key). Forms of
    the standalone page say so in their action (`?format=html`), so the page they redirect to is standalone
    too. Each ladder entry shows the customer's own state of it (contract A: a perk `earned` or `ahead`, a
    reward `redeemable`, `short` or `tier_locked`)."""
    language = page["programme"]["language"]
    currency = page["currency"]
    customer = page["customer"]
    states = {r["key"]: r for r in (customer["perks"] + customer["rewards"])} if customer else {}
    conversion = page["programme"]["conversion"]
    convert_max = (money.voucher_amount(customer["available"], Decimal(conversion["value_per_point"]))
                   if customer and conversion else None)

    def t(key: str, **values) -> str:
        return texts.text(language, key, **values)

    return ENV.get_template("page.html" if standalone else "fragment.html").render(
        page=page, customer=customer, programme=page["programme"], t=t, notice=notice or {},
        token=token, prefix=path_prefix, faq=faq, language=language, states=states, convert_max=convert_max,
        suffix="?format=html" if standalone else "", branding=page["branding"], b_texts=branding.texts,
        money=lambda amount: texts.money(language, amount, currency),
        number=lambda value: texts.number(language, value),
        date=lambda value: texts.date(language, parse_iso(value)) if value else "",
        month_name=lambda month: texts.MONTHS[language][month - 1],
        known=lambda key: key in texts.TEXTS[language],
    )


def render_referral(language: str, shop: str, code: str, *, standalone: bool, path_prefix: str,
                    notice: dict | None = None) -> str:
    """The referred friend's page: the form for their email, or the outcome of sending it."""
    def t(key: str, **values) -> str:
        return texts.text(language, key, **values)

    body = ENV.get_template("referral.html").render(
        language=language, shop=shop, code=code, prefix=path_prefix, notice=notice or {}, t=t,
        suffix="?format=html" if standalone else "",
        known=lambda key: key in texts.TEXTS[language])
    if not standalone:
        return body
    return (f'<!doctype html><html lang="{language}"><head><meta charset="utf-8"><meta name="robots" '
            f'content="noindex"><title>{escape(t("referral_friend"))}</title></head><body>{body}</body></html>')
