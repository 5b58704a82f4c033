"""The programme templates as stored data (loyalty.domain.programme), split from tests/e2e/test_rewards.py,
which redeems the rewards through the app."""
from __future__ import annotations

import pytest

from loyalty.domain.programme import Programme, ProgrammeError, template


def test_templates_survive_storage_and_name_bad_fields():
    """Templates round-trip through JSON; a bad reward is refused naming its place and field."""
    for name in ("store-a", "store-b"):
        assert Programme.from_dict(template(name).to_dict()) == template(name)
    rewards = template("store-a").to_dict()["rewards"]
    rewards[2]["amount"] = "0"
    with pytest.raises(ProgrammeError, match=r"rewards\[2\]\.amount"):
        Programme.from_dict({**template("store-a").to_dict(), "rewards": rewards})
    duplicate = template("store-a").to_dict()["rewards"][:1] * 2
    with pytest.raises(ProgrammeError, match=r"rewards\[1\]\.key: 'anniversaire' is used twice"):
        Programme.from_dict({"rewards": duplicate})
    with pytest.raises(ProgrammeError, match=r"rewards\[0\]\.cause"):
        Programme.from_dict({"rewards": [{"key": "don", "kind": "donation", "points": 5, "title": "Don",
                                          "amount": "1"}]})
    with pytest.raises(ProgrammeError, match="template: 'store-c'"):
        template("store-c")
