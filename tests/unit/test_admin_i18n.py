"""The admin speaks English and French: every page's catalogue (admin/i18n/<page>.json, beside common.json)
has the same keys in both languages, no text is empty, and every key a template (`t('...')`) or a page's
script (`t("...")`) asks for is in common's or that page's catalogue."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from admin.i18n import LANGUAGES, catalogue, language_of, translate

ADMIN = Path(__file__).parents[2] / "admin"
CATALOGUES = sorted((ADMIN / "i18n").glob("*.json"))
KEY = re.compile(r"""\bt\(\s*["']([a-z0-9_.]*[a-z0-9_])["']\s*[,)]""")


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: p.name)
def test_each_catalogue_has_the_same_keys_in_english_and_french(path):
    data = json.loads(path.read_text())
    assert set(data) == set(LANGUAGES)
    assert set(data["en"]) == set(data["fr"]), set(data["en"]) ^ set(data["fr"])
    assert all(isinstance(v, str) and v.strip() for language in LANGUAGES for v in data[language].values())


def _pages_and_sources():
    for template in sorted((ADMIN / "templates" / "admin").glob("*.html")):
        yield template.stem, template
    for script in sorted((ADMIN / "static").glob("*.js")):
        yield ("common" if script.stem == "admin" else script.stem), script


@pytest.mark.parametrize("page,source", list(_pages_and_sources()), ids=lambda v: getattr(v, "name", v))
def test_every_key_a_page_asks_for_is_in_its_catalogue(page, source):
    wanted = set(KEY.findall(source.read_text()))
    for language in LANGUAGES:
        missing = wanted - set(catalogue(page, language))
        assert not missing, f"{source.name} asks for {sorted(missing)} not in {page}.json or common.json ({language})"


def test_the_language_is_shopifys_locale_parameter():
    assert [language_of(x) for x in ("fr", "fr-FR", "FR_ca", "en-GB", "de", "", None)] == \
        ["fr", "fr", "fr", "en", "en", "en", "en"]
    assert translate({"a": "{n} points de {who}"}, "a", n=3, who="Ana") == "3 points de Ana"
    assert translate({}, "missing.key") == "missing.key"
