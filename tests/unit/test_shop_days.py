"""Shop calendar days (loyalty.domain.shop_days): the zone's offset spans the SQL day expressions are built
from, and the home page's buckets of days."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from loyalty.domain.shop_days import bucket_of, buckets, offset_spans

UTC = timezone.utc


def test_offset_spans_split_at_each_daylight_saving_change():
    spans = offset_spans(ZoneInfo("Europe/Paris"), datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))
    assert [(s.start, s.offset) for s in spans] == [
        (datetime(2025, 1, 1, tzinfo=UTC), 3600), (datetime(2025, 3, 30, 1, tzinfo=UTC), 7200),
        (datetime(2025, 10, 26, 1, tzinfo=UTC), 3600)]
    assert spans[-1].end == datetime(2026, 1, 1, tzinfo=UTC)


def test_offset_spans_give_every_instant_its_zoneinfo_day_in_quarter_hour_zones():
    for name in ("Asia/Kathmandu", "America/St_Johns", "Australia/Lord_Howe", "UTC"):
        zone = ZoneInfo(name)
        start = datetime(2024, 1, 1, tzinfo=UTC)
        spans = offset_spans(zone, start, start + timedelta(days=730))
        moment = start
        while moment < start + timedelta(days=730):
            [span] = [s for s in spans if s.start <= moment < s.end]
            assert (moment + timedelta(seconds=span.offset)).date() == moment.astimezone(zone).date(), (name, moment)
            moment += timedelta(minutes=397)


def test_a_zone_without_changes_is_one_span():
    spans = offset_spans(ZoneInfo("Asia/Kolkata"), datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 6, 1, tzinfo=UTC))
    assert len(spans) == 1 and spans[0].offset == 19800


def test_weeks_start_on_monday_and_months_on_the_first():
    assert bucket_of(date(2025, 3, 16), "week") == date(2025, 3, 10)
    assert bucket_of(date(2025, 3, 16), "month") == date(2025, 3, 1)
    assert bucket_of(date(2025, 3, 16), "day") == date(2025, 3, 16)


def test_buckets_cover_the_range_in_order():
    assert buckets(date(2025, 1, 30), date(2025, 3, 2), "month") == [date(2025, 1, 1), date(2025, 2, 1),
                                                                   date(2025, 3, 1)]
    assert buckets(date(2025, 3, 1), date(2025, 3, 3), "day") == [date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 3)]
