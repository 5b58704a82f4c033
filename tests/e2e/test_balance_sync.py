"""Balances are written back to Shopify as customer metafields, coalesced, 25 metafields per call."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from db.tables import customer_sync
from jobs.sync import sync_balances
from loyalty.defaults import SYNC_SLICE_SECONDS
from tests.factories import order, refund
from tests.wakeups import settle_wakeups


@pytest.fixture
def emulator(emulator, shop):
    for i in range(1, 31):
        emulator.add_customer(shop.domain, i, f"c{i}@example.com")
    return emulator


def waiting(ctx):
    with ctx.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(customer_sync)).scalar()


def test_a_burst_of_changes_costs_one_write_per_customer(send, process, ctx, shop, emulator, factory, calls):
    """Five changes to one customer coalesce: one sync writes the five loyalty metafields once."""
    body = order(lines=((10, 5),), email="c1@example.com", customer_id=1)
    send("orders/paid", body)
    for i in range(4):
        send("refunds/create", refund(body, lines={0: (1, 10)}, created_at=f"2025-03-0{5 + i}T00:00:00+00:00"))
    process()
    assert waiting(ctx) == 1
    assert sync_balances(ctx, client_factory=factory) == 1
    assert len(calls) == 1
    fields = emulator.metafields(shop.domain, 1)
    assert {k: v["value"] for k, v in fields.items()} == {
        "loyalty.available": "0", "loyalty.pending": "10", "loyalty.lifetime": "10",
        "loyalty.tier": "0", "loyalty.next_threshold": "0"}
    assert fields["loyalty.pending"]["type"] == "number_integer"
    assert waiting(ctx) == 0


def test_metafields_go_25_per_call(send, process, ctx, shop, emulator, factory, calls):
    """30 customers x 5 metafields = 150 metafields: 6 calls of at most 25."""
    for i in range(1, 31):
        send("orders/paid", order(lines=((i, 1),), email=f"c{i}@example.com", customer_id=i))
    process()
    assert sync_balances(ctx, client_factory=factory) == 30
    assert len(calls) == 6
    assert emulator.metafields(shop.domain, 30)["loyalty.lifetime"]["value"] == "30"


def test_a_change_during_the_sync_is_written_next_time(send, process, ctx, shop, factory):
    """A row changed after it was read is not dropped: the next sync writes it."""
    from datetime import datetime, timedelta, timezone

    from loyalty.services.ledger import mark_for_sync

    send("orders/paid", order(lines=((7, 1),), email="c2@example.com", customer_id=2))
    process()

    raced = []

    def factory_that_races(ctx_, shop_, conn_):
        if raced:
            return factory(ctx_, shop_, conn_)
        raced.append(True)
        with ctx.engine.begin() as other:
            customer_id = other.execute(select(customer_sync.c.customer_id)).scalar()
            mark_for_sync(other, shop.id, customer_id, datetime.now(timezone.utc) + timedelta(seconds=1))
        return factory(ctx_, shop_, conn_)
    from jobs import sync
    original, sync.MAX_PASSES = sync.MAX_PASSES, 1
    try:
        sync_balances(ctx, client_factory=factory_that_races)
    finally:
        sync.MAX_PASSES = original
    assert waiting(ctx) == 1
    sync_balances(ctx, client_factory=factory)
    assert waiting(ctx) == 0


def test_guest_email_without_an_account_is_not_written(send, process, ctx, factory, calls):
    """An email-only customer has no Shopify customer to write to: nothing is sent."""
    send("orders/paid", order(lines=((9, 1),), email="guest@example.com"))
    process()
    assert sync_balances(ctx, client_factory=factory) == 1
    assert calls == [] and waiting(ctx) == 0


def test_perks_become_tags_and_the_ladder_becomes_metafields(send, process, ctx, shop, emulator, factory):
    """Store A: 160 confirmed points unlock the two 150 perks (tags), tier 150, next threshold 300;
    pending points do not count; a refund back under 150 revokes them and removes the tags."""
    from datetime import datetime, timezone

    from jobs.scheduled import mature_points
    from loyalty.domain.programme import template
    from loyalty.services.shops import get_shop, save_programme

    with ctx.engine.begin() as conn:
        save_programme(conn, shop, template("store-a"), datetime(2025, 1, 1, tzinfo=timezone.utc))
    body = order(lines=((80, 2),), email="c3@example.com", customer_id=3, processed_at="2025-03-01T10:00:00Z")
    send("orders/paid", body)
    process()
    sync_balances(ctx, client_factory=factory)
    assert set(emulator.tags(shop.domain, 3)) == set()  # 160 pending points: no perk yet
    assert emulator.metafields(shop.domain, 3)["loyalty.next_threshold"]["value"] == "150"

    mature_points(datetime(2025, 3, 16, tzinfo=timezone.utc), ctx)
    sync_balances(ctx, client_factory=factory)
    assert set(emulator.tags(shop.domain, 3)) == {"fidelite-anniversaire", "fidelite-avant-premiere"}
    fields = emulator.metafields(shop.domain, 3)
    assert (fields["loyalty.tier"]["value"], fields["loyalty.next_threshold"]["value"]) == ("150", "300")

    send("refunds/create", refund(body, lines={0: (1, 80)}, created_at="2025-03-20T00:00:00+00:00"))
    process()
    sync_balances(ctx, client_factory=factory)
    assert set(emulator.tags(shop.domain, 3)) == set()
    assert emulator.metafields(shop.domain, 3)["loyalty.tier"]["value"] == "0"
    with ctx.engine.connect() as conn:
        from loyalty.services.customers import find_customer
        from loyalty.services.perks import grants_of
        grants = grants_of(conn, find_customer(conn, get_shop(conn, shop.domain).id, "3").id)
    assert sorted((g.reward_key, g.revoked_at is not None, g.tag_synced) for g in grants) == [
        ("anniversaire", True, True), ("avant-premiere", True, True)]


def test_a_tag_write_that_fails_is_written_by_the_next_sync(send, process, ctx, shop, emulator, factory):
    """The perk is granted once; Shopify failing on tagsAdd leaves the tag waiting, not lost."""
    from datetime import datetime, timezone

    from integrations.shopify.errors import ShopifyUnavailable
    from jobs.scheduled import mature_points
    from loyalty.domain.programme import template
    from loyalty.services.shops import save_programme

    with ctx.engine.begin() as conn:
        save_programme(conn, shop, template("store-a"), datetime(2025, 1, 1, tzinfo=timezone.utc))
    send("orders/paid", order(lines=((1000, 1),), email="c4@example.com", customer_id=4,
                              processed_at="2025-03-01T10:00:00Z"))
    process()
    mature_points(datetime(2025, 3, 16, tzinfo=timezone.utc), ctx)

    def failing(ctx_, shop_, conn_):
        client = factory(ctx_, shop_, conn_)

        def execute(document, variables=None):
            raise ShopifyUnavailable("down", shop=shop_.domain, operation="TagsAdd", attempts=1)
        client.execute = execute
        return client
    with pytest.raises(ShopifyUnavailable):
        sync_balances(ctx, client_factory=failing)
    assert set(emulator.tags(shop.domain, 4)) == set() and waiting(ctx) == 1
    sync_balances(ctx, client_factory=factory)
    assert set(emulator.tags(shop.domain, 4)) == {"fidelite-anniversaire", "fidelite-avant-premiere",
                                             "fidelite-ambassadrice"}
    assert emulator.metafields(shop.domain, 4)["loyalty.tier"]["value"] == "1000"
    assert emulator.metafields(shop.domain, 4)["loyalty.next_threshold"]["value"] == "0"


def test_a_queued_sync_works_in_slices_and_one_continuation_waits_at_a_time(send, process, ctx, shop, emulator,
                                                                           factory, monkeypatch):
    """A sync job queued by a wake-up stops after its slice (webhooks queued meanwhile go first) and queues
    one continuation; wake-ups while it waits queue nothing more."""
    from jobs import sync

    for i in range(1, 31):
        send("orders/paid", order(lines=((i, 1),), email=f"c{i}@example.com", customer_id=i))
    process()
    settle_wakeups()  # the sends' deferred wake-ups have run: nothing is queued after the emptying
    ctx.queue.empty()
    monkeypatch.setattr(sync, "BATCH", 10)
    assert sync_balances(ctx, client_factory=factory, slice_seconds=1e-6) == 10  # one pass, then the slice is over
    assert waiting(ctx) == 20
    assert [job.func_name for job in ctx.queue.jobs] == ["jobs.sync.sync_balances"]
    assert ctx.queue.jobs[0].kwargs == {"slice_seconds": SYNC_SLICE_SECONDS}
    sync.wake_sync(ctx)
    sync.wake_sync(ctx)
    assert len(ctx.queue.jobs) == 1
    assert sync_balances(ctx, client_factory=factory, slice_seconds=60) == 20
    assert waiting(ctx) == 0


def set_aside_rows(ctx):
    from db.tables import sync_failures

    with ctx.engine.connect() as conn:
        return conn.execute(select(sync_failures)).all()


def test_one_customer_unknown_to_shopify_is_set_aside_and_the_others_are_written(send, process, ctx, shop,
                                                                               emulator, factory, calls):
    """11 customers, one of them deleted in Shopify (not in the emulated shop): metafieldsSet is atomic, so
    before, every call holding the ghost failed and the whole sync failed for good. Now one pass writes the
    10, sets the ghost aside with Shopify's reason, leaves it alone during its backoff, and writes it once
    it exists in Shopify and is due again."""
    from datetime import datetime, timedelta, timezone

    ghost = 777
    for i in range(1, 12):
        who = ghost if i == 6 else i  # in the middle: its call of 25 metafields holds four other customers
        send("orders/paid", order(lines=((i, 1),), email=f"c{who}@example.com", customer_id=who))
    process()
    now = datetime.now(timezone.utc)
    assert sync_balances(ctx, client_factory=factory, now=now) == 10
    written = [i for i in range(1, 12) if i != 6 and emulator.metafields(shop.domain, i).get("loyalty.lifetime")]
    assert len(written) == 10
    [aside] = set_aside_rows(ctx)
    assert aside.reason == "MetafieldsSet: Owner does not exist." and aside.attempts == 1
    assert aside.next_attempt_at.replace(tzinfo=timezone.utc) - now == timedelta(minutes=1)
    assert waiting(ctx) == 1, "the ghost's balance still waits to be written"

    before = len(calls)
    assert sync_balances(ctx, client_factory=factory, now=now + timedelta(seconds=30)) == 0
    assert len(calls) == before, "not due yet: no call is spent on it"
    assert sync_balances(ctx, client_factory=factory, now=now + timedelta(seconds=61)) == 0
    [aside] = set_aside_rows(ctx)
    assert aside.attempts == 2 and aside.next_attempt_at.replace(tzinfo=timezone.utc) - (
        now + timedelta(seconds=61)) == timedelta(minutes=2), "the backoff doubles"

    emulator.add_customer(shop.domain, ghost, f"c{ghost}@example.com")  # the merchant re-creates it
    assert sync_balances(ctx, client_factory=factory, now=now + timedelta(minutes=4)) == 1
    assert emulator.metafields(shop.domain, ghost)["loyalty.lifetime"]["value"] == "6"
    assert set_aside_rows(ctx) == [] and waiting(ctx) == 0


def test_a_balance_change_retries_a_set_aside_customer_before_its_backoff(send, process, ctx, shop, emulator,
                                                                        factory):
    """A set-aside customer whose balance changes again is tried at the next pass (the merchant may have
    fixed it in Shopify meanwhile), not after the backoff."""
    from datetime import datetime, timezone

    body = order(lines=((5, 1),), email="c555@example.com", customer_id=555)
    send("orders/paid", body)
    process()
    sync_balances(ctx, client_factory=factory)
    assert len(set_aside_rows(ctx)) == 1
    emulator.add_customer(shop.domain, 555, "c555@example.com")
    send("refunds/create", refund(body, lines={0: (1, 5)}, created_at=datetime.now(timezone.utc).isoformat()))
    process()
    assert sync_balances(ctx, client_factory=factory) == 1
    assert emulator.metafields(shop.domain, 555)["loyalty.lifetime"]["value"] == "0"
    assert set_aside_rows(ctx) == []


def test_a_tag_refused_for_a_missing_customer_sets_it_aside_and_others_get_their_tags(send, process, ctx, shop,
                                                                                   emulator, factory):
    """tagsAdd on a customer deleted in Shopify answers `Customer does not exist`: that customer is set
    aside, its perk stays unsynced, and another customer's tags and metafields are written."""
    from datetime import datetime, timezone

    from jobs.scheduled import mature_points
    from loyalty.domain.programme import template
    from loyalty.services.shops import save_programme

    with ctx.engine.begin() as conn:
        save_programme(conn, shop, template("store-a"), datetime(2025, 1, 1, tzinfo=timezone.utc))
    for who in (888, 5):
        send("orders/paid", order(lines=((200, 1),), email=f"c{who}@example.com", customer_id=who,
                                  processed_at="2025-03-01T10:00:00Z"))
    process()
    mature_points(datetime(2025, 3, 16, tzinfo=timezone.utc), ctx)
    assert sync_balances(ctx, client_factory=factory) == 1
    assert "fidelite-anniversaire" in emulator.tags(shop.domain, 5)
    assert emulator.metafields(shop.domain, 5)["loyalty.tier"]["value"] == "150"
    [aside] = set_aside_rows(ctx)
    assert aside.reason == "TagsAdd: Customer does not exist"


def test_a_refusal_that_names_no_entry_is_narrowed_owner_by_owner(ctx, shop):
    """If Shopify's userErrors do not say which entry they concern (field null), the owners of the call are
    written one by one: only the refused one is set aside (Shopify answered here by `responses`)."""
    import json

    import responses

    from integrations.shopify.client import AdminClient
    from integrations.shopify.metafields import integer_metafield, set_metafields_by_owner

    def shopify(request):
        owners = {m["ownerId"] for m in json.loads(request.body)["variables"]["metafields"]}
        refused = "gid://shopify/Customer/3" in owners
        return 200, {}, json.dumps({"data": {"metafieldsSet": {
            "metafields": None if refused else [], "userErrors": [
                {"field": None, "message": "Something is wrong", "code": "INVALID"}] if refused else []}}})
    client = AdminClient(shop.domain, "shpat_store_a", admin_url_template="https://{shop}", sleep=lambda s: None)
    by_owner = {n: [integer_metafield(n, "loyalty", "available", n)] for n in (1, 2, 3, 4)}
    with responses.RequestsMock() as mock:
        mock.add_callback(responses.POST, f"https://{shop.domain}/admin/api/2025-10/graphql.json", callback=shopify)
        assert set_metafields_by_owner(client, by_owner) == {3: "MetafieldsSet: Something is wrong"}
        written = [json.loads(c.request.body)["variables"]["metafields"] for c in mock.calls]
    assert [[m["ownerId"][-1] for m in call] for call in written] == [["1", "2", "3", "4"], ["1"], ["2"], ["3"],
                                                                      ["4"]]


def test_a_token_shopify_refuses_keeps_every_write_back_and_says_why(send, process, ctx, shop, emulator):
    """A custom app's token revoked in Shopify: no balance of the shop can be written. What waits is kept (it
    was dropped as if the shop had uninstalled, so those balances were never written), the reason is listed
    as a failure with what to do, and once a working token is registered the balances go and it is gone."""
    from datetime import datetime, timezone

    from integrations.shopify.client import AdminClient
    from loyalty.services.events import RefreshOn401
    from loyalty.services.failures import count_failures, list_failures
    from loyalty.services.shops import install_shop
    from loyalty.services.tokens import access_token_for
    from integrations.crypto import encrypt_token
    from tools.wsgi_adapter import wsgi_session

    session = wsgi_session(emulator.app)

    def factory(ctx, shop, conn):
        """The worker's client (stored token, one refresh on 401), talking to the emulator."""
        return RefreshOn401(ctx, AdminClient(shop.domain, access_token_for(ctx, shop.domain), session=session,
                                             admin_url_template="http://shopify.test/{shop}", sleep=lambda s: None))

    send("orders/paid", order(lines=((12, 1),), email="c1@example.com", customer_id=1))
    process()
    emulator.add_shop(shop.domain, "shpat_new")  # the merchant revoked the old token
    assert sync_balances(ctx, client_factory=factory) == 0
    assert waiting(ctx) == 1
    with ctx.engine.connect() as conn:
        blocked = [f for f in list_failures(conn, shop.domain) if f.kind == "write_back_blocked"]
        assert len(blocked) == 1 and "loyalty shops add" in blocked[0].reason
        assert count_failures(conn)["write_back_blocked"] == 1
    with ctx.engine.begin() as conn:
        install_shop(conn, shop.domain, encrypt_token(ctx.config.encryption_keys, "shpat_new"),
                     datetime.now(timezone.utc))
    assert sync_balances(ctx, client_factory=factory) == 1
    assert emulator.metafields(shop.domain, 1)["loyalty.lifetime"]["value"] == "12"
    with ctx.engine.connect() as conn:
        assert "write_back_blocked" not in count_failures(conn)
