"""What changed between two programme documents (loyalty.domain.programme_diff): dotted paths, list items by
key, a first version against nothing."""
from __future__ import annotations

from loyalty.domain.programme import template
from loyalty.domain.programme_diff import programme_diff, summarise


def test_a_first_version_diffs_every_setting_as_new_and_nothing_at_the_root():
    after = {"earn_rate": "1", "branding": {"accent_color": "#000"}, "rewards": []}
    assert programme_diff(None, after) == [
        {"path": "branding.accent_color", "before": None, "after": "#000"},
        {"path": "earn_rate", "before": None, "after": "1"},
        {"path": "rewards", "before": None, "after": []}]


def test_list_items_with_a_key_are_matched_by_key_not_place():
    before = template("store-a").to_dict()
    after = template("store-a").with_paths({"rewards.carte-cadeau-10.points": 350}).to_dict()
    assert programme_diff(before, after) == [
        {"path": "rewards[carte-cadeau-10].points", "before": 300, "after": 350}]


def test_the_summary_names_the_first_changes_and_counts_the_rest():
    diff = [{"path": f"p{n}", "before": n, "after": n + 1} for n in range(5)]
    assert summarise(diff) == "p0: 0 -> 1; p1: 1 -> 2; p2: 2 -> 3 (and 2 more)"
    assert summarise([]) == "no change"
