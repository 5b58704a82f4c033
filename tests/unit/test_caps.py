"""Earning caps (loyalty.domain.caps) and the programme's `earning` part (loyalty.domain.settings.earning):
each rule named."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from loyalty.domain.caps import Capped, earning_cap, period_bounds, rule_cap, with_note
from loyalty.domain.errors import ProgrammeError
from loyalty.domain.programme import Programme, template
from loyalty.domain.settings.earning import Cap

UTC = timezone.utc
WED = datetime(2026, 3, 18, 15, 30, tzinfo=UTC)


def test_day_period_is_the_utc_calendar_day():
    assert period_bounds("day", WED) == (datetime(2026, 3, 18, tzinfo=UTC), datetime(2026, 3, 19, tzinfo=UTC))


def test_week_period_runs_monday_to_sunday():
    assert period_bounds("week", WED) == (datetime(2026, 3, 16, tzinfo=UTC), datetime(2026, 3, 23, tzinfo=UTC))


def test_month_period_is_the_calendar_month_and_december_ends_in_january():
    assert period_bounds("month", WED) == (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
    assert period_bounds("month", datetime(2026, 12, 31, 23, tzinfo=UTC))[1] == datetime(2027, 1, 1, tzinfo=UTC)


def test_year_period_is_the_calendar_year():
    assert period_bounds("year", WED) == (datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))


def test_lifetime_period_is_unbounded():
    assert period_bounds("lifetime", WED) == (None, None)


def test_a_count_cap_refuses_the_award_whole_once_reached():
    capped = rule_cap(Cap(period="month", count=2), 50, count_so_far=2, points_so_far=100)
    assert (capped.given, capped.taken) == (0, 50)
    assert capped.note == "cap reached: 2 award(s) per month"
    assert rule_cap(Cap(period="month", count=2), 50, 1, 50).given == 50


def test_a_points_cap_gives_what_is_left_of_the_award():
    capped = rule_cap(Cap(period="week", points=120), 50, count_so_far=2, points_so_far=100)
    assert (capped.given, capped.taken) == (20, 30)
    assert capped.note == "cap: 120 points per week, 30 points over"


def test_no_cap_gives_the_whole_award():
    assert rule_cap(None, 50, 99, 9999) == Capped(50, 50)


def test_the_earning_cap_limits_all_points_earned_in_its_period():
    capped = earning_cap(Cap(period="year", points=1000), Capped(300, 300), earned_so_far=900)
    assert (capped.given, capped.taken) == (100, 200)
    assert capped.note == "earning cap: 1000 points per calendar year, 200 points over"
    assert earning_cap(Cap(period="year", points=1000), Capped(300, 300), 1200).given == 0


def test_the_earning_cap_adds_its_note_to_the_rule_cap_note():
    rule = rule_cap(Cap(period="day", points=40), 50, 0, 0)
    both = earning_cap(Cap(period="lifetime", points=30), rule, 0)
    assert both.given == 30 and both.note.startswith("cap: 40 points per day") and "earning cap: 30" in both.note


def test_a_capped_award_states_what_the_cap_took_in_its_reason():
    assert with_note("Review: 50 points", Capped(50, 20, "cap: x")) == "Review: 50 points (cap: x)"
    assert with_note("Review: 50 points", Capped(50, 50)) == "Review: 50 points"


def test_earning_is_off_by_default_and_the_seed_templates_keep_it_off():
    for name in ("store-a", "store-b"):
        earning = template(name).earning
        assert earning.signup_points == 0 and not earning.birthday.active
        assert earning.actions == () and earning.earning_cap is None


def test_actions_and_caps_are_set_by_dotted_path_and_round_trip():
    prog = template("store-b").with_paths({
        "earning.actions.review": '{"points": 50, "title": "A review", "cap": {"period": "month", "count": 2}}',
        "earning.earning_cap.points": "500", "earning.earning_cap.period": "month", "earning.signup_points": "100"})
    assert prog.earning.action("review").cap == Cap(period="month", count=2)
    assert Programme.from_dict(prog.to_dict()) == prog


@pytest.mark.parametrize("path,value,message", [
    ("earning.earning_cap", '{"period": "fortnight", "points": 5}', "earning.earning_cap.period"),
    ("earning.earning_cap", '{"period": "month", "count": 5}', "earning.earning_cap.points"),
    ("earning.actions.review", '{"points": 0, "title": "x"}', "earning.actions[0].points"),
    ("earning.actions.review", '{"points": 5, "title": "x", "cap": {"period": "day"}}', "earning.actions[0].cap"),
    ("earning.birthday.gift", "voucher", "earning.birthday.amount"),
    ("earning.birthday.gift", "pony", "earning.birthday.gift"),
])
def test_inconsistent_earning_settings_are_refused_naming_the_field(path, value, message):
    with pytest.raises(ProgrammeError, match=message.replace("[", r"\[").replace("]", r"\]")):
        template("store-a").with_paths({path: value})
