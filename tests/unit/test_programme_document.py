"""The programme document: every part read and written the same way (loyalty.domain.settings.section), so
`show --json` pastes back, and settings changed by dotted path (Programme.with_paths)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from loyalty.domain.errors import ProgrammeError
from loyalty.domain.programme import TEMPLATES, Programme, template


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_every_template_round_trips_through_its_json(name):
    """to_dict then from_dict gives the same programme: what `show --json` prints can be saved back."""
    prog = template(name)
    assert Programme.from_dict(prog.to_dict()) == prog


def test_a_dotted_path_changes_one_reward_by_its_key():
    prog = template("store-a").with_paths({"rewards.carte-cadeau-10.points": "350"})
    assert prog.reward("carte-cadeau-10").points == 350
    assert prog.reward("don-association").points == 300


def test_a_dotted_path_to_a_new_key_adds_the_item_and_null_removes_one():
    prog = template("store-a").with_paths({
        "rewards.bon-5": '{"kind": "voucher", "points": 60, "title": "5 EUR", "amount": "5"}',
        "rewards.ambassadrice": "null"})
    assert prog.reward("bon-5").amount == Decimal("5") and prog.reward("ambassadrice") is None


def test_a_value_replacing_text_stays_text():
    """`shop_name=2024` is a name, not the number 2024; a number setting reads the JSON number exactly."""
    prog = template("store-a").with_paths({"shop_name": "2024", "earn_rate": "1.123456789012345678901"})
    assert prog.shop_name == "2024" and prog.earn_rate == Decimal("1.123456789012345678901")


@pytest.mark.parametrize("changes, named", [
    ({"nope": "1"}, "nope: unknown setting"),
    ({"rewards.nope.points": "1"}, "rewards.nope: no item with that key"),
    ({"language.x": "1"}, "language: is a value"),
    ({"rewards.carte-cadeau-10.amount": "-1"}, "rewards[2].amount"),
    ({"rewards.carte-cadeau-10.colour": "red"}, "rewards[2].colour: unknown setting"),
    ({"rewards.ambassadrice.points": "[1]"}, "rewards[6].points"),
    ({"a..b": "1"}, "expected a setting name or a dotted path"),
])
def test_a_bad_change_names_its_path_and_changes_nothing(changes, named):
    prog = template("store-a")
    with pytest.raises(ProgrammeError, match=named.replace("[", r"\[").replace("]", r"\]")):
        prog.with_paths(changes)
    assert prog == template("store-a")


@pytest.mark.parametrize("value", ["NaN", "Infinity", "true"])
def test_a_decimal_setting_refuses_what_is_not_a_finite_number(value):
    with pytest.raises(ProgrammeError, match="earn_rate"):
        Programme.from_dict({"earn_rate": value if value != "true" else True})


def test_every_setting_of_the_document_is_described_in_the_openapi_document():
    """The admin API's Programme and Reward schemas name every field of the document (a part added to the
    programme without its description would make the OpenAPI document lie by omission)."""
    import json
    from dataclasses import fields
    from pathlib import Path

    from loyalty.domain.programme import REWARD_KINDS, Reward

    schemas = json.loads((Path(__file__).parents[2] / "admin" / "openapi.json").read_text())["components"]["schemas"]
    assert {f.name for f in fields(Programme)} <= set(schemas["Programme"]["properties"])
    assert {f.name for f in fields(Reward)} <= set(schemas["Reward"]["properties"])
    assert set(schemas["Reward"]["properties"]["kind"]["enum"]) == set(REWARD_KINDS)
