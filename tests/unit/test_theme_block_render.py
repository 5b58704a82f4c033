"""The theme app extension (extensions/loyalty-balance): a valid theme block that shows the balance from the
customer metafields, in French and English. Rendered with python-liquid. Split from
tests/e2e/test_storefront_theme_block.py, which checks that the block reads exactly the metafields
jobs/sync.py writes."""
from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
from liquid import Environment

EXTENSION = Path(__file__).resolve().parents[2] / "extensions" / "loyalty-balance"
BLOCK = (EXTENSION / "blocks" / "balance.liquid").read_text()
SCHEMA = re.compile(r"{%\s*schema\s*%}(.*?){%\s*endschema\s*%}", re.S)


def locale(name: str) -> dict:
    return json.loads((EXTENSION / "locales" / name).read_text())


def lookup(tree: dict, dotted: str):
    for part in dotted.split("."):
        tree = tree[part]
    return tree


MONEY_FORMATS = {"fr": "{{amount_with_comma_separator}} €", "en": "€{{amount}}"}
"""The shop's money format as Shopify's money filters apply it (a French and an English EUR shop)."""


def plural_form(language: str, count) -> str:
    """Shopify's pluralisation of a `t` key with `count` (CLDR: French `one` is 0 <= n < 2, English n == 1)."""
    return "one" if (0 <= count < 2 if language == "fr" else count == 1) else "other"


def money_filter(language: str, trailing_zeros: bool = True):
    """Shopify's `money` / `money_without_trailing_zeros`: an amount in cents in the shop's money format."""
    def money(cents) -> str:
        amount = f"{int(cents) // 100:,}.{int(cents) % 100:02d}"
        if not trailing_zeros and amount.endswith(".00"):
            amount = amount[:-3]
        with_comma = amount.replace(",", " ").replace(".", ",")
        return MONEY_FORMATS[language].replace("{{amount}}", amount).replace("{{amount_with_comma_separator}}",
                                                                          with_comma)
    return money


def translate(strings: dict, language: str):
    """Shopify's `t` filter on the storefront's locale file: `{{ name }}` interpolated, pluralised by count."""
    def t(key, **values):
        text = lookup(strings, key)
        if isinstance(text, dict):
            text = text[plural_form(language, values["count"])]
        return re.sub(r"{{\s*(\w+)\s*}}", lambda m: str(values[m.group(1)]), text)
    return t


def render(customer: dict | None, language: str = "fr", programme: dict | None = None, **settings) -> str:
    """The block as Shopify renders it: `t` reads the storefront's locale, money filters use the shop's
    format, settings come from the schema, `programme` is the shop's `loyalty.programme` metafield."""
    strings = locale("fr.json" if language == "fr" else "en.default.json")
    env = Environment()
    env.filters["t"] = translate(strings, language)
    env.filters["money"] = money_filter(language)
    env.filters["money_without_trailing_zeros"] = money_filter(language, trailing_zeros=False)
    schema = json.loads(SCHEMA.search(BLOCK).group(1))
    defaults = {s["id"]: s.get("default") for s in schema["settings"]}
    template = env.from_string(SCHEMA.sub("", BLOCK))
    shop = {"metafields": {"loyalty": {"programme": {"value": programme}} if programme is not None else {}}}
    return template.render(customer=customer, shop=shop, block={"settings": {**defaults, **settings}},
                           routes={"account_login_url": "/account/login", "account_url": "/account"})


def metafields(**values) -> dict:
    return {"metafields": {"loyalty": {k: {"value": v} for k, v in values.items()}}}


def test_the_extension_is_a_theme_extension_with_a_section_block():
    """shopify.extension.toml says `theme`; the block's schema targets sections; every label translates."""
    config = tomllib.loads((EXTENSION / "shopify.extension.toml").read_text())
    assert config["type"] == "theme" and config["name"]
    schema = json.loads(SCHEMA.search(BLOCK).group(1))
    assert schema["target"] == "section"
    labels = re.findall(r'"t:([\w.]+)"', SCHEMA.search(BLOCK).group(1))
    assert labels
    for name in ("en.default.schema.json", "fr.schema.json"):
        for key in labels:
            assert isinstance(lookup(locale(name), key), str), (name, key)
    used = set(re.findall(r"'([\w.]+)'\s*\|\s*t\b", BLOCK))
    for name in ("en.default.json", "fr.json"):
        for key in used:
            text = lookup(locale(name), key)
            assert isinstance(text, str) or set(text) == {"one", "other"}, (name, key)


def test_the_block_shows_balance_pending_and_progress_in_french():
    """120 available, 40 pending, 180 earned (140 confirmed: the ladder does not count pending points),
    next level at 300."""
    html = render(metafields(available=120, pending=40, lifetime=180, tier=0, next_threshold=300))
    assert "120 points disponibles" in html and "40 points en attente" in html
    assert "Encore 160 points pour atteindre le prochain palier (300 points)" in html
    assert '<progress max="300" value="140"' in html
    top = render(metafields(available=1200, pending=0, lifetime=1200, tier=1000, next_threshold=0))
    assert "Palier des 1000 points atteint" in top and "prochain palier" not in top
    assert 'href="/apps/loyalty"' in html


def test_the_block_in_english_and_for_anonymous_visitors():
    """English wording; no customer: a sign-in link and no balance."""
    html = render(metafields(available=15, pending=0, lifetime=15, tier=0, next_threshold=0), "en",
                  show_pending=True)
    assert "15 points available" in html and "pending" not in html
    anonymous = render(None)
    assert 'href="/account/login"' in anonymous and "disponibles" not in anonymous


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_customer_with_no_metafields_yet_sees_zero(language):
    """Before the first sync the block shows 0 points, not an error or a blank."""
    assert ("0 points disponibles" if language == "fr" else "0 points available") in render({"metafields": {}},
                                                                                            language)


def summary(name: str) -> dict:
    """The `loyalty.programme` metafield of a shop running the template `name`, as JSON round-trips it."""
    from loyalty.domain.programme import template
    from loyalty.domain.theme_block import programme_summary

    return json.loads(json.dumps(programme_summary(template(name))))


def keys_of(tree: dict, prefix: str = "") -> set:
    return {path for key, value in tree.items()
            for path in (keys_of(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}"})}


def test_french_and_english_locales_hold_the_same_texts():
    """Every storefront text and every theme-editor label exists in both languages (fr is complete)."""
    assert keys_of(locale("fr.json")) == keys_of(locale("en.default.json"))
    assert keys_of(locale("fr.schema.json")) == keys_of(locale("en.default.schema.json"))


def test_ladder_programme_shows_the_points_to_the_next_level_and_no_money():
    """Store A (a ladder, no conversion): the next level as today, no worth line, the link to the programme."""
    html = render(metafields(available=120, pending=40, lifetime=180, tier=0, next_threshold=300), "fr",
                  summary("store-a"))
    assert "Encore 160 points pour atteindre le prochain palier (300 points)" in html
    assert "loyalty-balance__worth" not in html and "€" not in html
    assert "Voir mon programme de fidélité" in html


def test_conversion_programme_shows_what_the_points_are_worth_in_money():
    """Store B (conversion at 0.10 EUR a point, from 100 points): 250 points are worth 25.00 EUR, formatted by
    the money filter in the storefront's language; no ladder wording."""
    english = render(metafields(available=250, pending=0, lifetime=250, tier=0, next_threshold=0), "en",
                     summary("store-b"))
    assert "Your points are worth €25.00: convert them into a voucher in your account." in english
    assert "next level" not in english and "Convert your points into a voucher" in english
    french = render(metafields(available=250, pending=0, lifetime=250, tier=0, next_threshold=0), "fr",
                    summary("store-b"))
    assert "Tes points valent 25,00 € : convertis-les en bon d'achat depuis ton compte." in french
    assert "Convertir mes points en bon d'achat" in french


def test_conversion_below_the_minimum_says_how_many_points_are_missing():
    """Store B converts from 100 points: with 40, the block says 60 more (and 1 more, in the singular)."""
    html = render(metafields(available=40, pending=0, lifetime=40), "en", summary("store-b"))
    assert "60 more points and you can convert your points into a voucher (from 100 points)." in html
    assert "are worth" not in html
    one = render(metafields(available=99, pending=0, lifetime=99), "fr", summary("store-b"))
    assert "Encore 1 point et tu pourras convertir" in one


@pytest.mark.parametrize("available", [1, 7, 99, 100, 101, 333, 12_345, 9_999_999])
@pytest.mark.parametrize("value_per_point", ["0.1", "0.05", "0.003", "0.0125", "1.99"])
def test_the_worth_shown_is_what_converting_pays(available, value_per_point):
    """The block's integer arithmetic (available x cents / per_points, floored) shows exactly
    money.voucher_amount, the amount a conversion pays, for rates that are not whole cents too."""
    from decimal import Decimal

    from loyalty.domain import money
    from loyalty.domain.programme import template
    from loyalty.domain.theme_block import programme_summary

    prog = template("store-b").with_changes(voucher_value_per_point=value_per_point, conversion_minimum_points=1)
    html = render(metafields(available=available), "en", json.loads(json.dumps(programme_summary(prog))))
    paid = money.voucher_amount(available, Decimal(value_per_point))
    shown = re.search(r"worth €([\d,]+\.\d\d)", html)
    assert Decimal(shown.group(1).replace(",", "")) == paid, html


@pytest.mark.parametrize("language, earn, ladder", [
    ("fr", "Gagne 1 point pour chaque 1 € dépensé.", "Débloque des avantages dès 150 points."),
    ("en", "Earn 1 point for every €1 spent.", "Unlock rewards from 150 points."),
])
def test_a_visitor_not_signed_in_sees_the_ladder_pitch_and_a_sign_in_link(language, earn, ladder):
    """Store A's pitch to a logged-out visitor: what an order earns and the first threshold; no balance."""
    html = render(None, language, summary("store-a"))
    assert earn in html and ladder in html
    assert 'href="/account/login"' in html and "loyalty-balance__available" not in html
    assert "vouchers" not in html and "bons d'achat" not in html


@pytest.mark.parametrize("language, conversion", [
    ("fr", "Convertis tes points en bons d'achat : 100 points = 10,00 €."),
    ("en", "Convert your points into vouchers: 100 points = €10.00."),
])
def test_a_visitor_not_signed_in_sees_the_conversion_pitch(language, conversion):
    """Store B's pitch: the conversion rate at its minimum, in the shop's money format; no ladder."""
    html = render(None, language, summary("store-b"))
    assert conversion in html and 'href="/account/login"' in html
    assert "Unlock" not in html and "Débloque" not in html


def test_a_visitor_of_a_shop_whose_summary_is_not_written_yet_sees_a_generic_pitch():
    """Before jobs/theme.py first writes `loyalty.programme`: a generic pitch, nothing broken."""
    assert "Earn points with every order and enjoy rewards." in render(None, "en")
    assert "Gagne des points à chaque commande" in render(None, "fr")


def test_the_heading_is_in_the_shop_language_unless_the_merchant_wrote_one():
    """An empty heading setting shows "Fidélité" / "Loyalty"; the merchant's own text wins; it can be hidden."""
    assert "<strong>Fidélité</strong>" in render(None, "fr")
    assert "<strong>Loyalty</strong>" in render(None, "en")
    assert "<strong>Our club &amp; you</strong>" in render(None, "en", heading="Our club & you")
    assert "loyalty-balance__heading" not in render(None, "en", show_heading=False)


@pytest.mark.parametrize("link, href", [("page", "/apps/loyalty"), ("account", "/account"), ("none", None)])
def test_the_link_goes_to_the_loyalty_page_the_account_or_nowhere(link, href):
    """The `link` setting: the loyalty page (default, today's), the customer's account, or no link."""
    html = render(metafields(available=250), "en", summary("store-b"), link=link)
    links = re.findall(r'class="loyalty-balance__link" href="([^"]*)"', html)
    assert links == ([href] if href else [])


def test_the_block_costs_no_request_to_the_app():
    """No script, fetch, XMLHttpRequest, app-proxy call or app URL: the block renders from Shopify's own
    metafields (the only app path is the loyalty page's link, a setting the merchant may change)."""
    rendered = BLOCK.lower()
    for forbidden in ("<script", "fetch(", "xmlhttprequest", "sendbeacon", "eventsource", "websocket",
                      "http://", "https://", "{{ 'loyalty-", "asset_url", "app.metafields"):
        assert forbidden not in rendered, forbidden
    assert not (EXTENSION / "assets").exists() or not any((EXTENSION / "assets").iterdir())
    html = render(metafields(available=250), "en", summary("store-b"), link="account")
    assert "/apps/" not in html and "<script" not in html
