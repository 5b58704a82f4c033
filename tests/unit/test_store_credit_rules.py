"""Store credit rules (loyalty.domain.store_credit, offers, the programme's `store_credit` part), each test
named after its rule."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from loyalty.domain import offers, store_credit
from loyalty.domain.errors import ProgrammeError
from loyalty.domain.programme import Programme, template
from loyalty.domain.store_credit import LOOK, SEND, WAIT, CreditSeen

NOW = datetime(2026, 3, 1, 12, 0, 30, 123456, tzinfo=timezone.utc)
LEASE = timedelta(minutes=10)
EXPIRES = datetime(2027, 3, 1, 12, 0, 30, tzinfo=timezone.utc)


def credit(id, amount="10", created=NOW, expires=EXPIRES, currency="EUR", remaining=None):
    return CreditSeen(id=id, amount=Decimal(amount), currency=currency, created_at=created, expires_at=expires,
                      remaining=Decimal(remaining if remaining is not None else amount))


def test_store_credit_settings_default_to_todays_voucher_conversion():
    assert Programme().store_credit.conversion_target == "voucher"
    for name in ("store-a", "store-b"):
        assert template(name).store_credit.conversion_target == "voucher"
    assert offers.conversion_offer(template("store-b"), 150).kind == "discount"


def test_conversion_target_store_credit_converts_into_store_credit_of_the_same_value():
    prog = template("store-b").with_paths({"store_credit.conversion_target": "store_credit",
                                           "store_credit.expiry_days": "90"})
    offer = offers.conversion_offer(prog, 150)
    assert (offer.kind, offer.amount, offer.points, offer.validity_days) == ("store_credit", Decimal("15.0"), 150, 90)
    assert offer.minimum_subtotal is None and offer.collection_id is None  # store credit has no basket rules


def test_conversion_to_store_credit_keeps_the_minimum_points():
    prog = template("store-b").with_paths({"store_credit.conversion_target": "store_credit"})
    with pytest.raises(Exception, match="at least 100 points"):
        offers.conversion_offer(prog, 99)


def test_unknown_conversion_target_or_expiry_out_of_range_is_refused_naming_the_path():
    with pytest.raises(ProgrammeError, match="store_credit.conversion_target"):
        Programme().with_paths({"store_credit.conversion_target": "cash"})
    with pytest.raises(ProgrammeError, match="store_credit.expiry_days"):
        Programme().with_paths({"store_credit.expiry_days": "0"})


def test_store_credit_reward_needs_an_amount_and_is_redeemed_as_store_credit():
    with pytest.raises(ProgrammeError, match=r"rewards\[0\].amount"):
        Programme().with_paths({"rewards.credit-5": {"kind": "store_credit", "points": 50, "title": "5"}})
    prog = Programme().with_paths({"rewards.credit-5": {"kind": "store_credit", "points": 50, "title": "5 EUR",
                                                        "amount": "5"}})
    offer = offers.reward_offer(prog, "credit-5")
    assert (offer.kind, offer.amount, offer.points, offer.reward_key) == ("store_credit", Decimal("5"), 50, "credit-5")


def test_programme_with_store_credit_shows_and_pastes_back():
    prog = Programme().with_paths({"store_credit.conversion_target": "store_credit"})
    assert Programme.from_dict(prog.to_dict()) == prog
    assert prog.to_dict()["store_credit"] == {"conversion_target": "store_credit", "expiry_days": 365}


def test_credit_expiry_is_to_the_second():
    assert store_credit.credit_expires_at(NOW, 365) == datetime(2027, 3, 1, 12, 0, 30, tzinfo=timezone.utc)
    offer = offers.reward_offer(Programme().with_paths({"rewards.c": {"kind": "store_credit", "points": 1,
                                                                      "title": "c", "amount": "1"}}), "c")
    assert offers.voucher_ends_at(offer, NOW).microsecond == 0


def test_first_attempt_sends_the_credit():
    assert store_credit.attempt(None, NOW, LEASE) == SEND


def test_attempt_within_the_lease_of_an_earlier_one_waits():
    assert store_credit.attempt(NOW - timedelta(minutes=9), NOW, LEASE) == WAIT


def test_attempt_after_an_earlier_one_of_unknown_outcome_looks_before_crediting():
    assert store_credit.attempt(NOW - timedelta(minutes=10), NOW, LEASE) == LOOK


def test_earlier_credit_is_recognised_by_amount_currency_and_expiry_to_the_second():
    found = [credit("a", "10", expires=EXPIRES + timedelta(seconds=1)), credit("b", "9.99"),
             credit("c", "10", currency="USD"), credit("d", "10")]
    assert store_credit.matching_credit(found, amount=Decimal("10.00"), currency="EUR", expires_at=EXPIRES,
                                        sent_at=NOW, claimed=set()) == "d"


def test_credit_already_recorded_for_another_voucher_is_not_taken_again():
    found = [credit("d", created=NOW), credit("e", created=NOW + timedelta(seconds=1))]
    assert store_credit.matching_credit(found, amount=Decimal("10"), currency="EUR", expires_at=EXPIRES,
                                        sent_at=NOW, claimed={"d"}) == "e"
    assert store_credit.matching_credit(found, amount=Decimal("10"), currency="EUR", expires_at=EXPIRES,
                                        sent_at=NOW, claimed={"d", "e"}) is None


def test_credit_made_before_the_attempt_is_not_ours():
    old = credit("old", created=NOW - store_credit.CLOCK_SKEW - timedelta(seconds=1))
    skewed = credit("skewed", created=NOW - store_credit.CLOCK_SKEW)
    assert store_credit.matching_credit([old], amount=Decimal("10"), currency="EUR", expires_at=EXPIRES,
                                        sent_at=NOW, claimed=set()) is None
    assert store_credit.matching_credit([old, skewed], amount=Decimal("10"), currency="EUR",
                                        expires_at=EXPIRES, sent_at=NOW, claimed=set()) == "skewed"


def test_credit_spent_in_full_is_used_past_its_expiry_expired_else_active():
    assert store_credit.settled_status(Decimal("0"), EXPIRES, NOW) == "used"
    assert store_credit.settled_status(Decimal("3"), EXPIRES, EXPIRES) == "expired"
    assert store_credit.settled_status(Decimal("3"), EXPIRES, NOW) == "active"


def test_outstanding_store_credit_is_what_is_left_while_active():
    assert store_credit.outstanding(Decimal("10"), None, "creating") == Decimal("10")
    assert store_credit.outstanding(Decimal("10"), Decimal("4"), "active") == Decimal("4")
    for status in ("used", "expired", "refused", "cancelled"):
        assert store_credit.outstanding(Decimal("10"), Decimal("4"), status) == 0


def test_store_credit_cannot_be_cancelled_once_credited_or_sent():
    assert offers.cancel_refusal("LOY-1", "store_credit", "active") is not None
    assert offers.cancel_refusal("LOY-1", "store_credit", "creating", credit_sent=True) is not None
    assert offers.cancel_refusal("LOY-1", "store_credit", "creating", credit_sent=False) is None
