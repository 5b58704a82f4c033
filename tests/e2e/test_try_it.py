"""The README's first example ("Try it"), its commands in order, beside `make run`'s demo.

Found: following the README, `loyalty shops add demo.myshopify.com --token shpat_anything` replaced the
demo's token, the emulator answered 401, the gift-card order waited with no reason shown anywhere, and the
sample it posted (`../shared/...`) does not exist in a fresh clone.

Lighter than tests/e2e/test_make_run_demo.py, with the same pieces: the demo's emulator and shop are set up by
the launcher's own `start_demo` (a real emulator process, the demo token, `var/demo.env`), the web app
answers on a real port, every step is the real `loyalty` command in a subprocess, and `loyalty inbox
process` stands for the worker (the same job).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import replace

import pytest
import requests
from werkzeug.serving import make_server

from loyalty.services.context import build_context
from tools.launcher import DEMO_SHOP, DEMO_TOKEN, start_demo
from tests.conftest import SECRET
from tools.local_services import free_port, kill_tree


@pytest.fixture
def demo(ctx, tmp_path):
    """`make run` in demo mode: the emulator with the demo shop, the shop installed, the web on a port."""
    emulator_port = free_port()
    env = dict(os.environ, DATABASE_URL=ctx.engine.url.render_as_string(hide_password=False),
               REDIS_URL=ctx.config.effective_redis_url, LOYALTY_ENCRYPTION_KEYS=ctx.config.encryption_keys[0],
               SHOPIFY_API_SECRET=SECRET,
               LOYALTY_VAR_DIR=str(tmp_path), EMULATOR_PORT=str(emulator_port))
    env.pop("SHOPIFY_ADMIN_URL", None)
    emulator = start_demo(replace(ctx.config, var_dir=tmp_path), env)
    from runtime.web import create_app

    server = make_server("127.0.0.1", free_port(), create_app(ctx), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield env, f"http://127.0.0.1:{server.server_port}", f"http://127.0.0.1:{emulator_port}"
    finally:
        server.shutdown()
        kill_tree(emulator)


def test_the_first_example_credits_the_points_and_leaves_the_demo_working(ctx, demo, tmp_path):
    env, web, emulator = demo

    def loyalty(*args, ok=True):
        done = subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=120)
        assert (done.returncode == 0) == ok, done.stdout + done.stderr
        return done

    # The old first step: it would have replaced the demo's working token. Refused now, nothing changed.
    refused = loyalty("shops", "add", DEMO_SHOP, "--token", "shpat_anything", ok=False)
    assert "installed already" in refused.stderr and "--replace" in refused.stderr

    # The new example: a sample order the project makes itself (no ../shared path), posted, applied.
    order = loyalty("demo", "order").stdout
    (tmp_path / "order.json").write_text(order)
    assert json.loads(order)["email"] == "shopper1@example.com"
    loyalty("webhook", "send", DEMO_SHOP, "orders/paid", "order.json", "--url", f"{web}/webhooks")
    assert "1 webhooks applied" in loyalty("inbox", "process").stdout
    customer = json.loads(loyalty("customer", DEMO_SHOP, "shopper1@example.com", "--json").stdout)
    assert customer["pending"] == 250, "300.00 of goods, 50.00 paid by gift card (read from the emulator)"
    loyalty("mature", "--as-of", "2030-01-01T00:00:00Z")
    customer = json.loads(loyalty("customer", DEMO_SHOP, "shopper1@example.com", "--json").stdout)
    assert (customer["available"], customer["pending"]) == (250, 0)
    status = json.loads(loyalty("inbox", "status").stdout)
    assert (status["waiting"], status["failed"], status["retrying"]) == (0, 0, 0)

    # The demo's token still works: the balance goes back to the emulated shop as metafields.
    from jobs.sync import sync_balances

    with open(tmp_path / "demo.env") as demo_env:
        admin_url = demo_env.read().strip().split("=", 1)[1]
    worker = build_context(replace(ctx.config, admin_url_template=admin_url))
    try:
        assert sync_balances(worker) == 1
    finally:
        worker.engine.dispose()
    state = requests.get(f"{emulator}/_emulator/{DEMO_SHOP}/state", timeout=10).json()
    [shopper] = [c for c in state["customers"] if c["email"] == "shopper1@example.com"]
    assert shopper["metafields"]["loyalty.available"]["value"] == "250"
    assert "nothing failed" in loyalty("failures").stdout
    answer = requests.post(f"{emulator}/{DEMO_SHOP}/admin/api/2025-10/graphql.json", timeout=10,
                           headers={"X-Shopify-Access-Token": DEMO_TOKEN},
                           json={"query": "{ customer(id: \"gid://shopify/Customer/900001\") { id } }"})
    assert answer.status_code == 200 and answer.json()["data"]["customer"]["id"].endswith("/900001")
