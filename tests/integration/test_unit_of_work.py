"""The unit of work a use case runs in (loyalty.services.unit_of_work): one transaction, the injected
clock, and an outbox that runs only once the transaction has committed. On SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from db.tables import programme_settings, shops
from integrations.crypto import encrypt_token
from loyalty.domain.programme import template
from loyalty.domain.requests import RegisterShopToken, SaveProgramme
from loyalty.services.shops import install_shop
from loyalty.services.unit_of_work import ReadOnlyUnitOfWork, UnitOfWork
from loyalty.services.use_cases.programme import save_programme
from loyalty.services.use_cases.shops import register_shop_token

NOW = datetime(2025, 3, 4, 5, 6, 7, tzinfo=timezone.utc)
NEW_SHOP = "uow-test.myshopify.com"


def _shop_row(ctx, domain: str):
    with ctx.engine.connect() as conn:
        return conn.execute(select(shops.c.domain, shops.c.installed_at).where(shops.c.domain == domain)).first()


def _install(uow: UnitOfWork) -> None:
    install_shop(uow.conn, NEW_SHOP, encrypt_token(uow.config.encryption_keys, "shpat_x"), uow.now)


def test_a_commit_runs_the_outbox_after_the_row_is_committed(ctx):
    """The outbox rule: an after-commit action runs once the transaction committed, and sees its rows."""
    seen = []
    with UnitOfWork(ctx, clock=lambda: NOW) as uow:
        _install(uow)
        uow.after_commit(lambda: seen.append(_shop_row(ctx, NEW_SHOP)))
        assert seen == []  # not before the commit
    assert len(seen) == 1 and seen[0].domain == NEW_SHOP


def test_an_exception_rolls_back_and_runs_nothing(ctx):
    """The rollback rule: an exception inside the unit leaves no row and runs no after-commit action."""
    ran = []
    with pytest.raises(RuntimeError, match="use case failed"):
        with UnitOfWork(ctx, clock=lambda: NOW) as uow:
            _install(uow)
            uow.after_commit(ran.append, "woken")
            raise RuntimeError("use case failed")
    assert ran == []
    assert _shop_row(ctx, NEW_SHOP) is None


def test_the_clock_is_the_one_injected(ctx):
    """The clock rule: `uow.now` is the injected clock's time, and is what the use case writes."""
    uow = UnitOfWork(ctx, clock=lambda: NOW)
    assert uow.now == NOW
    register_shop_token(RegisterShopToken(NEW_SHOP, "shpat_y", import_history=False), uow)
    installed_at = _shop_row(ctx, NEW_SHOP).installed_at
    assert installed_at.replace(tzinfo=installed_at.tzinfo or timezone.utc) == NOW


def test_each_transaction_of_a_unit_has_its_own_outbox(ctx, shop):
    """A unit may open several transactions (a redemption does): an action queued in one that rolled back
    never runs, even when a later one commits; the committed one's actions run at its own end."""
    uow = UnitOfWork(ctx, clock=lambda: NOW)
    ran = []
    with pytest.raises(ValueError):
        with uow:
            uow.after_commit(ran.append, "first")
            raise ValueError("first transaction fails")
    with uow:
        uow.after_commit(ran.append, "second")
    assert ran == ["second"]


def test_a_use_case_commits_through_the_unit_of_work(ctx, shop):
    """save_programme(request, uow): the new version is stored at uow.now and becomes the one in force."""
    version, stored = save_programme(SaveProgramme(shop.domain, template("store-b")),
                                     UnitOfWork(ctx, clock=lambda: NOW))
    assert version == shop.settings_version + 1 and stored.to_dict() == template("store-b").to_dict()
    with ctx.engine.connect() as conn:
        created_at = conn.execute(select(programme_settings.c.created_at).where(
            programme_settings.c.shop_id == shop.id, programme_settings.c.version == version)).scalar_one()
        assert conn.execute(select(shops.c.settings_version).where(shops.c.id == shop.id)).scalar() == version
    assert created_at.replace(tzinfo=created_at.tzinfo or timezone.utc) == NOW


def test_an_install_queues_the_history_import_only_once_committed(ctx, redis_client):
    """register_shop_token's outbox: the history import is queued after the commit; a refused install
    (token kept, nothing written) queues nothing."""
    from loyalty.services.errors import ShopTokenKept

    register_shop_token(RegisterShopToken(NEW_SHOP, "shpat_z"), UnitOfWork(ctx, clock=lambda: NOW))
    assert [job.func_name for job in ctx.queue.jobs] == ["jobs.history.import_history"]
    with pytest.raises(ShopTokenKept):
        register_shop_token(RegisterShopToken(NEW_SHOP, "shpat_other"), UnitOfWork(ctx, clock=lambda: NOW))
    assert len(ctx.queue.jobs) == 1


def test_the_read_only_unit_reads_and_has_no_outbox(ctx, shop):
    """Queries run in a read-only unit: it sees committed rows and refuses after-commit actions."""
    with ReadOnlyUnitOfWork(ctx, clock=lambda: NOW) as uow:
        assert uow.conn.execute(select(shops.c.domain).where(shops.c.id == shop.id)).scalar() == shop.domain
        with pytest.raises(RuntimeError, match="no outbox"):
            uow.after_commit(print)


def test_the_connection_exists_only_inside_the_unit(ctx):
    """Outside `with uow:` there is no connection (a use case cannot write outside its transaction), and a
    second transaction cannot be opened inside the first."""
    uow = UnitOfWork(ctx, clock=lambda: NOW)
    with pytest.raises(RuntimeError, match="no open transaction"):
        uow.conn  # noqa: B018
    with uow:
        with pytest.raises(RuntimeError, match="already has an open transaction"):
            uow.__enter__()
