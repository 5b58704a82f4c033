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
