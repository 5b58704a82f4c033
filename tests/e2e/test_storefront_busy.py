"""A customer replaying a redeem form while Shopify is slow holds one request, not forty: at most one
in-request Shopify call per customer (and so per form token) at a time; the other posts are answered at
once (409, "a redemption is already in progress", the form to submit again), and the points are spent
once. Shopify is slowed at the HTTP boundary: the emulator's transport waits on an event."""
from __future__ import annotations

import threading
import time

import pytest

from loyalty.services.context import make_redis
from integrations.single_flight import one_at_a_time
from tools.local_services import free_port
from tests.storefront_support import BEN, NOW, apply_template, earn, proxy  # noqa: F401
from tests.e2e.test_storefront_redeem import available, token_of

SAME_FORM, OTHER_FORMS = 40, 5


@pytest.fixture
def ben(send, process, ctx, shop):
    """Store B (conversion into vouchers): Ben has 250 points available."""
    apply_template(ctx, shop, "store-b")
    earn(send, process, ctx, BEN, "ben@example.com", 250, "2025-05-01T10:00:00+00:00")
    return BEN


class SlowShopify:
    """The emulator behind a gate: every Admin API call waits until `release()`; counts the calls in
    flight at once."""

    def __init__(self, emulator):
        from integrations.shopify.client import AdminClient
        from tools.wsgi_adapter import wsgi_session

        self.gate, self.entered, self.lock = threading.Event(), threading.Event(), threading.Lock()
        self.in_flight = self.most_in_flight = self.calls = 0
        session = wsgi_session(emulator.app)
        forward = session.send

        def send(request, **kw):
            with self.lock:
                self.calls += 1
                self.in_flight += 1
                self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self.entered.set()
            try:
                self.gate.wait(60)  # bounded: the test releases it in any case
                return forward(request, **kw)
            finally:
                with self.lock:
                    self.in_flight -= 1
        session.send = send
        self.factory = lambda ctx, shop, conn: AdminClient(
            shop.domain, "shpat_store_a", session=session, admin_url_template="http://shopify.test/{shop}",
            sleep=lambda s: None)


def test_forty_replays_and_other_forms_hold_one_shopify_call(proxy, ben, emulator):
    """40 posts of one form and 5 posts of other fresh forms of the same customer, all at once, while
    Shopify does not answer: one Shopify call in flight, ever; the 44 others are answered 409
    `error.in_progress` (with the form to submit again) before the slow one finishes; then the slow one
    gives the code, 150 points are spent once, one code exists in Shopify, and submitting the same form
    again spends nothing more."""
    slow = SlowShopify(emulator)
    proxy.client.application.config["LOYALTY_CLIENT_FACTORY"] = slow.factory
    same = token_of(proxy.get(BEN).get_data(as_text=True))
    others = [token_of(proxy.get(BEN).get_data(as_text=True)) for _ in range(OTHER_FORMS)]
    url = proxy.url("/redeem", customer=BEN, extra=(("format", "json"),))
    start, answers = threading.Barrier(SAME_FORM + OTHER_FORMS), []

    def post(token):
        client = proxy.client.application.test_client()
        start.wait(30)
        answer = client.post(url, data={"token": token, "points": "150"})
        answers.append((answer.status_code, answer.get_json()["result"]))

    threads = [threading.Thread(target=post, args=(t,)) for t in [same] * SAME_FORM + others]
    [t.start() for t in threads]
    try:
        assert slow.entered.wait(30), "no redemption reached Shopify"
        deadline = time.monotonic() + 30  # the others need no Shopify answer: they are back at once
        while len(answers) < len(threads) - 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        early = list(answers)
        assert not slow.gate.is_set() and slow.in_flight == 1
    finally:
        slow.gate.set()
        [t.join(60) for t in threads]
    assert len(early) == len(threads) - 1, f"{len(early)} answered while Shopify was slow"
    assert all(status == 409 and result["error"] == "error.in_progress" and result["retry"]["token"]
               for status, result in early), early
    assert "already in progress" in early[0][1]["message"]
    assert slow.most_in_flight == 1 and slow.calls == 1
    [(status, result)] = [a for a in answers if a not in early]
    assert status == 200
    code = result["voucher"]["code"]
    assert [c["code"] for c in emulator.discount_codes(proxy.shop)] == [code]
    assert available(proxy, BEN) == 100
    # The replayed form again, now that Shopify answered: the same code if it was the winner, else a new
    # redemption that 100 points cannot pay for. Never a second spend either way.
    replay = proxy.client.post(url, data={"token": same, "points": "150"})
    if replay.status_code == 200:
        assert replay.get_json()["result"]["voucher"]["code"] == code
    else:
        assert replay.status_code == 422 and replay.get_json()["result"]["error"] == "error.not_enough"
    assert len(emulator.discount_codes(proxy.shop)) == 1 and available(proxy, BEN) == 100


def test_with_redis_down_each_process_still_lets_one_through(redis_url):
    """Redis unreachable: the lock of this process stands in (one holder per key), and is freed after."""
    dead = make_redis(f"redis://127.0.0.1:{free_port()}/0", 0.3)
    with one_at_a_time(dead, "k", 5) as first:
        with one_at_a_time(dead, "k", 5) as second, one_at_a_time(dead, "other", 5) as other:
            assert (first, second, other) == (True, False, True)
    with one_at_a_time(dead, "k", 5) as again:
        assert again
    live = make_redis(redis_url, 2)
    with one_at_a_time(live, "k", 5) as first, one_at_a_time(live, "k", 5) as second:
        assert (first, second) == (True, False)
    with one_at_a_time(live, "k", 5) as again:
        assert again
