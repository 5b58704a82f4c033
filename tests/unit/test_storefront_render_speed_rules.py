"""The loyalty page's faster rendering prints exactly what Jinja's defaults print: a dict's field read as
an item first, dict methods kept, integers printed as they are, and braces still made inert for Liquid."""
from __future__ import annotations

import pytest
from jinja2 import Environment, select_autoescape
from markupsafe import Markup, escape

from storefront.render import ENV, _inert

TEMPLATE = ("{{ v.code }}|{{ v.points }}|{{ v.missing }}|{{ states.get('get').state }}|"
            "{% for k, x in v.items() %}{{ k }}={{ x }};{% endfor %}|{{ v.keys is callable }}|{{ n }}")
VALUES = {"v": {"code": "A{{b}}<c>", "points": -5, "keys": [1, 2]}, "states": {"get": {"state": "earned"}},
          "n": 12}


def _default() -> Environment:
    """Jinja's stock environment with the page's finalizer as it was (escape, then braces to entities)."""
    def finalize(value):
        if isinstance(value, Markup):
            return value
        return Markup(str(escape("" if value is None else value)).replace("{", "&#123;").replace("}", "&#125;"))
    return Environment(autoescape=select_autoescape(default=True, default_for_string=True), finalize=finalize)


def test_page_environment_prints_what_jinjas_default_prints():
    """Items first for dict fields (no AttributeError raised per field), dict methods (`get`, `items`,
    `keys`) still the methods when the template calls them, a missing key still undefined (empty)."""
    assert ENV.from_string(TEMPLATE).render(**VALUES) == _default().from_string(TEMPLATE).render(**VALUES)


def test_a_dict_key_named_like_a_dict_method_keeps_the_method():
    """`states.get(key)` stays the method even when a reward is keyed `get`, as with Jinja's default."""
    assert ENV.from_string("{{ states.get('get').state }}").render(states={"get": {"state": "ahead"}}) == "ahead"


@pytest.mark.parametrize("value, printed", [(7, "7"), (-12, "-12"), (None, ""), ("{{ x }}", "&#123;&#123; x &#125;&#125;"),
                                            ("<b>", "&lt;b&gt;"), (True, "True"), ("plain", "plain")])
def test_inert_escapes_html_and_liquid_braces(value, printed):
    """Integers pass unchanged; text is HTML-escaped and its braces become entities (Liquid leaves them)."""
    assert str(_inert(value)) == printed
