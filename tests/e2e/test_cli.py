"""The `loyalty` console script, run as a real subprocess against a real database."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import select

from db.tables import shops
from tests.conftest import KEY, SECRET, SHOP


@pytest.fixture
def cli_env(ctx, tmp_path) -> dict:
    """The environment of a `loyalty` process on the test database and Redis."""
    return dict(os.environ, DATABASE_URL=ctx.engine.url.render_as_string(hide_password=False),
                REDIS_URL=ctx.config.effective_redis_url, LOYALTY_ENCRYPTION_KEYS=KEY,
                SHOPIFY_API_SECRET=SECRET, LOYALTY_VAR_DIR=str(tmp_path))


@pytest.fixture
def run(cli_env):
    """Run `loyalty ...` with the test database in its environment."""

    def loyalty(*args, ok=True):
        result = subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True, text=True, env=cli_env,
                                timeout=60)
        if ok:
            assert result.returncode == 0, result.stderr
        return result
    return loyalty


def test_shops_add_stores_the_token_encrypted(run, ctx):
    """`loyalty shops add` registers a shop; the token is not stored in clear."""
    out = run("shops", "add", "new-shop.myshopify.com", "--token", "shpat_secret123")
    assert "installed" in out.stdout
    with ctx.engine.connect() as conn:
        stored = conn.execute(select(shops.c.access_token).where(shops.c.domain == "new-shop.myshopify.com")).scalar()
    assert b"shpat_secret123" not in bytes(stored)
    from integrations.crypto import decrypt_token
    assert decrypt_token((KEY,), stored) == "shpat_secret123"


def test_shops_add_refuses_a_host_that_is_not_a_shop(run):
    """Only *.myshopify.com domains are accepted."""
    result = run("shops", "add", "evil.example.com", "--token", "x", ok=False)
    assert result.returncode != 0
    assert "myshopify.com" in result.stderr


def test_customer_json_after_mature_as_of(run, send, process, shop):
    """`loyalty customer SHOP EMAIL --json` prints integer balances and entries; `mature --as-of` runs the job."""
    from tests.factories import order

    send("orders/paid", order(lines=((25, 2),), email="cli@example.com", processed_at="2025-05-01T00:00:00+00:00"))
    process()
    before = json.loads(run("customer", shop.domain, "cli@example.com", "--json").stdout)
    assert (before["available"], before["pending"], before["lifetime"]) == (0, 50, 50)
    assert before["entries"][0]["kind"] == "earn" and before["entries"][0]["points"] == 50
    assert "matured" in run("mature", "--as-of", "2025-05-15T00:00:00Z").stdout
    after = json.loads(run("customer", shop.domain, "cli@example.com", "--json").stdout)
    assert (after["available"], after["pending"], after["lifetime"]) == (50, 0, 50)
    assert [e["kind"] for e in after["entries"]] == ["earn", "mature"]
    assert isinstance(after["available"], int)


def test_unknown_customer_and_bad_time_are_clear_errors(run, shop):
    """Errors say what is wrong and exit non-zero."""
    missing = run("customer", shop.domain, "nobody@example.com", ok=False)
    assert missing.returncode == 1 and "no customer" in missing.stderr
    bad = run("expire", "--as-of", "yesterday", ok=False)
    assert bad.returncode == 2 and "ISO 8601" in bad.stderr


def test_programme_set_validates_and_versions(run, shop):
    """Invalid settings are refused naming the field; valid ones make a new version."""
    bad = run("programme", "set", shop.domain, "pending_days=-1", ok=False)
    assert bad.returncode == 1 and "pending_days" in bad.stderr
    assert "version 2" in run("programme", "set", shop.domain, "expiry=after_last_purchase").stdout
    shown = json.loads(run("programme", "show", shop.domain, "--json").stdout)
    assert shown["version"] == 2 and shown["expiry"] == "after_last_purchase"


def test_programme_show_json_pastes_back_and_dotted_paths_change_rewards(run, shop, tmp_path):
    """`show --json` saved back unchanged is a new identical version; a dotted path changes one reward by its
    key; a file shown before that change is refused as stale (unless --force)."""
    run("programme", "apply", shop.domain, "store-a")
    shown = run("programme", "show", shop.domain, "--json").stdout
    (tmp_path / "p.json").write_text(shown)
    assert "version 3" in run("programme", "save", shop.domain, str(tmp_path / "p.json")).stdout
    again = json.loads(run("programme", "show", shop.domain, "--json").stdout)
    assert {**again, "version": 2} == json.loads(shown)
    assert "version 4" in run("programme", "set", shop.domain, "rewards.carte-cadeau-10.points=350").stdout
    rewards = {r["key"]: r for r in json.loads(run("programme", "show", shop.domain, "--json").stdout)["rewards"]}
    assert rewards["carte-cadeau-10"]["points"] == 350 and rewards["don-association"]["points"] == 300
    stale = run("programme", "save", shop.domain, str(tmp_path / "p.json"), ok=False)
    assert stale.returncode == 1 and "version 4 is in force" in stale.stderr
    assert "version 5" in run("programme", "save", shop.domain, str(tmp_path / "p.json"), "--force").stdout
    bad = run("programme", "set", shop.domain, "rewards.nope.points=1", ok=False)
    assert bad.returncode == 1 and "rewards.nope" in bad.stderr


def test_points_award_gives_an_action_once_per_reference_within_its_cap(run, shop):
    """`loyalty points award SHOP CUSTOMER ACTION --reference REF`: a reference awarded again gives nothing more
    (the first award is shown); past the monthly cap of two reviews the award says the cap took it; an unknown
    action or a reference already used for another customer is an error."""
    run("programme", "set", shop.domain,
        'earning.actions.review={"points": 40, "title": "Product review", "cap": {"period": "month", "count": 2}}')
    award = ("points", "award", shop.domain, "rev@example.com", "review", "--reference")
    first = run(*award, "r-1", "--reason", "5 stars").stdout
    assert first == "rev@example.com: 40 of 40 points for review (Product review: 40 points - 5 stars); 40 available\n"
    assert run(*award, "r-1").stdout == first
    assert run(*award, "r-2").stdout.endswith("; 80 available\n")
    capped = run(*award, "r-3").stdout
    assert capped.startswith("rev@example.com: 0 of 40 points for review (") and capped.endswith("; 80 available\n")
    assert "cap reached: 2 award(s) per month" in capped
    unknown = run("points", "award", shop.domain, "rev@example.com", "nope", "--reference", "x", ok=False)
    assert unknown.returncode == 1 and "no action 'nope' in this programme (actions: review)" in unknown.stderr
    other = run("points", "award", shop.domain, "other@example.com", "review", "--reference", "r-1", ok=False)
    assert other.returncode == 1 and "awarded to another customer" in other.stderr


def test_privacy_export_prints_the_stored_export(run, send, process, shop):
    """`loyalty privacy export SHOP` gives the merchant the customers/data_request export."""
    from tests.factories import order

    send("orders/paid", order(lines=((5, 1),), email="ex@example.com", customer_id=42))
    send("customers/data_request", {"shop_id": 1, "shop_domain": shop.domain,
                                    "customer": {"id": 42, "email": "ex@example.com"},
                                    "data_request": {"id": 77}, "orders_requested": []})
    process()
    out = json.loads(run("privacy", "export", shop.domain, "--request-id", "77").stdout)
    assert out["records"][0]["lifetime"] == 5
    assert run("privacy", "export", shop.domain, "--request-id", "78", ok=False).returncode == 1


def test_vouchers_create_refuses_without_enough_points(run, send, process, shop):
    """`loyalty vouchers create` says why it cannot redeem, and exits non-zero."""
    from tests.factories import order

    send("orders/paid", order(lines=((5, 1),), email="v@example.com", customer_id=43))
    process()
    result = run("vouchers", "create", shop.domain, "v@example.com", "--points", "100", "--json", ok=False)
    assert result.returncode == 1 and "not enough points: 0 available" in result.stderr


def test_import_history_dry_run_then_import_then_status(run, shop, tmp_path):
    """`loyalty import history SHOP --file F --dry-run --json` shows per-customer credits and writes nothing;
    without --dry-run it imports; `loyalty import status` shows the run."""
    from integrations.shopify.documents import BULK_OPERATION_RUN_QUERY, HISTORY_ORDERS_BULK_QUERY
    from tools.shopify_emulator import Emulator
    from tests.factories import order

    emulator = Emulator()
    emulator.add_shop(shop.domain, "t")
    emulator.add_rest_order(shop.domain, order(lines=((42, 1),), email="cli@example.com", customer_id=5))
    query = HISTORY_ORDERS_BULK_QUERY.replace("FILTER", "")
    answer = emulator.execute(shop.domain, {"query": BULK_OPERATION_RUN_QUERY, "variables": {"query": query}})
    operation = answer["data"]["bulkOperationRunQuery"]["bulkOperation"]["id"].rsplit("/", 1)[1]
    path = tmp_path / "orders.jsonl"
    path.write_bytes(emulator.bulk_data(shop.domain, operation))
    shown = json.loads(run("import", "history", shop.domain, "--file", str(path), "--dry-run", "--json").stdout)
    assert shown["customers"] == {"cli@example.com": {"points": 42, "pending": 0, "available": 42}}
    assert run("import", "status", shop.domain, ok=False).returncode == 1  # the dry run left no run behind
    assert "42 points credited" in run("import", "history", shop.domain, "--file", str(path)).stdout
    status = json.loads(run("import", "status", shop.domain, "--json").stdout)
    assert (status["status"], status["orders_done"], status["lines_done"]) == ("completed", 1, 3)


def test_shops_add_queues_the_history_import(run, ctx, redis_client):
    """Installing a shop queues its history import job."""
    from rq import Queue
    run("shops", "add", "queued.myshopify.com", "--token", "shpat_x")
    jobs = Queue("loyalty", connection=redis_client).jobs
    assert [(j.func_name, j.args) for j in jobs] == [("jobs.history.import_history", ("queued.myshopify.com",))]


# `loyalty inbox process` in a process whose worker time slice is over before the first batch: the command
# does not stop with the job's slice.
_PROCESS_WITH_NO_JOB_SLICE = """
import jobs.inbox
jobs.inbox.JOB_SECONDS = 0.0
from cli.main import main
main(["inbox", "process"])
"""


def test_inbox_process_applies_every_waiting_webhook_whatever_the_job_slice(run, cli_env, send, ctx, shop):
    """`loyalty inbox process` applies every waiting webhook (over several batches), not what fits in the
    RQ job's time slice (INBOX_JOB_SECONDS); it stops when only failed and retrying rows are left, and
    leaves those as they were."""
    from datetime import datetime, timedelta, timezone

    from sqlalchemy import func, update

    from db.tables import ledger_entries, webhook_inbox as inbox
    from tests.factories import order

    waiting = 180  # beyond the first batches (50, then sized by speed)
    for i in range(waiting):
        assert send("orders/paid", order(lines=((10, 1),), email=f"c{i}@example.com")).status_code == 200
    for email in ("failed@example.com", "later@example.com"):
        assert send("orders/paid", order(lines=((10, 1),), email=email)).status_code == 200
    now = datetime.now(timezone.utc)
    with ctx.engine.begin() as conn:  # the last two as failures leave them: for good, and waiting to retry
        failed, retrying = conn.execute(select(inbox.c.id).order_by(inbox.c.id.desc()).limit(2)).scalars().all()[::-1]
        conn.execute(update(inbox).where(inbox.c.id == failed).values(attempts=8, last_error="refused",
                                                                     failed_at=now))
        conn.execute(update(inbox).where(inbox.c.id == retrying).values(attempts=1, last_error="timeout",
                                                                       lease_until=now + timedelta(hours=1)))

    out = subprocess.run([sys.executable, "-c", _PROCESS_WITH_NO_JOB_SLICE], capture_output=True, text=True,
                         env=cli_env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"{waiting} webhooks applied"
    with ctx.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ledger_entries)).scalar() == waiting
        left = conn.execute(select(inbox.c.attempts, inbox.c.failed_at.is_not(None))
                            .where(inbox.c.processed_at.is_(None)).order_by(inbox.c.id)).all()
    assert [(attempts, failed) for attempts, failed in left] == [(8, True), (1, False)]
    status = json.loads(run("inbox", "status").stdout)
    assert (status["processed"], status["waiting"], status["failed"], status["retrying"]) == (waiting, 1, 1, 1)


@pytest.mark.parametrize("command", ["webhook send", "demo traffic", "storefront url"])
def test_the_local_commands_aim_at_make_runs_port(run, cli_env, tmp_path, command):
    """`loyalty webhook send`, `demo traffic` and `storefront url` aim at `make run`'s PORT; a refused
    connection is one clear line, no traceback."""
    from tools.local_services import free_port

    port = str(free_port())  # nothing listens there
    (tmp_path / "order.json").write_text('{"id": 1}')
    cli_env["PORT"] = port
    if command == "storefront url":
        assert run("storefront", "url", SHOP).stdout.startswith(f"http://127.0.0.1:{port}/")
        return
    args = (["webhook", "send", SHOP, "orders/paid", str(tmp_path / "order.json")] if command == "webhook send"
            else ["demo", "traffic", "--orders", "1", "--emulator", f"http://127.0.0.1:{port}"])
    result = run(*args, ok=False)
    assert result.returncode == 1
    assert f"could not reach the app at http://127.0.0.1:{port}/webhooks" in result.stderr
    assert "Traceback" not in result.stderr
