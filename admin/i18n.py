"""The admin's languages, English and French: one catalogue per page in `admin/i18n/<page>.json`
(`{"en": {key: text}, "fr": {key: text}}`) beside `common.json` (navigation, buttons, shared words), so each
page's texts live beside nothing else's. Templates call `t(key)`; the page's scripts get the same catalogue
(`Loyalty.t(key, {name: value})`, admin.js). The staff member's language is Shopify's `locale` query
parameter (Shopify's admin adds the staff member's own language to the app's URL), English when it is
neither English nor French; `{name}` in a text is replaced by the value given."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

LANGUAGES = ("en", "fr")
FOLDER = Path(__file__).with_name("i18n")


@lru_cache(maxsize=None)
def _file(name: str) -> dict[str, dict[str, str]]:
    path = FOLDER / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else {language: {} for language in LANGUAGES}


def language_of(locale: str | None, fallback: str = "en") -> str:
    """`fr`, `fr-FR`, `fr_CA` -> fr; anything else in LANGUAGES by its first two letters; else `fallback`."""
    code = (locale or "").strip().lower()[:2]
    return code if code in LANGUAGES else fallback


def catalogue(page: str, language: str) -> dict[str, str]:
    """Every text a page may show in `language`: common's and the page's own."""
    return {**_file("common")[language], **_file(page)[language]}


def translate(texts: dict[str, str], key: str, **values) -> str:
    """The text of `key` (the key itself when missing: visible, and the i18n test fails), values put in."""
    text = texts.get(key, key)
    for name, value in values.items():
        text = text.replace("{" + name + "}", str(value))
    return text
