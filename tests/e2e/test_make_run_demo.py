"""`make run` with no Shopify credentials: demo mode, end to end, as the README walks a newcomer through it.

The launcher starts the Admin API emulator and installs demo.myshopify.com; `loyalty demo traffic` sends
signed orders (some paid partly by gift card), refunds and cancellations; points are pending, mature, are
written back as metafields, and a redemption makes a code that the emulator then holds.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from tools.local_services import free_port, kill_tree

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = "demo.myshopify.com"


def wait_for(check, what: str, output, timeout: float = 60):
    """Poll `check` until it returns something truthy; fail with the launcher's output otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = check()
        except requests.RequestException:  # not listening yet, or too busy to answer in time
            found = None
        if found:
            return found
        assert time.monotonic() < deadline, f"{what} never happened:\n{output()}"
        time.sleep(0.5)


def test_demo_mode_from_traffic_to_a_redeemed_code(tmp_path):
    port, emulator_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SHOPIFY_", "LOYALTY_", "SMTP_")) and k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(LOYALTY_VAR_DIR=str(tmp_path), PORT=str(port), EMULATOR_PORT=str(emulator_port),
               WEB_CONCURRENCY="1")
    subprocess.run([sys.executable, "-c", "from tools.local_env import write_local_env; write_local_env()"],
                   cwd=ROOT, env=env, check=True)  # what `make run` does first
    log = tmp_path / "launcher.log"
    out = open(log, "wb")
    launcher = subprocess.Popen([sys.executable, "-m", "tools.launcher"], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)

    def output() -> str:
        return log.read_text(errors="replace")[-4000:]

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "cli", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=120)

    def state() -> dict:
        return requests.get(f"http://127.0.0.1:{emulator_port}/_emulator/{DOMAIN}/state", timeout=15).json()

    try:
        wait_for(lambda: requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200,
                 "/healthz answering 200", output, timeout=90)
        assert "demo mode" in log.read_text(errors="replace")

        sent = cli("demo", "traffic", "--orders", "40", "--days-ago", "30", "--seed", "3",
                   "--url", f"http://127.0.0.1:{port}/webhooks", "--emulator", f"http://127.0.0.1:{emulator_port}")
        assert sent.returncode == 0, sent.stderr
        assert json.loads(sent.stdout)["orders/paid"] == 40

        def shopper(i: int) -> dict | None:
            shown = cli("customer", DOMAIN, f"shopper{i}@example.com", "--json")
            return json.loads(shown.stdout) if shown.returncode == 0 else None

        def all_recorded():
            inbox = cli("inbox", "status")
            return inbox.returncode == 0 and json.loads(inbox.stdout)["waiting"] == 0
        wait_for(all_recorded, "the worker draining the inbox", output)
        before = [shopper(i) for i in range(1, 6)]
        assert sum(c["pending"] for c in before if c) > 0, "recent orders are pending for 14 days"

        matured = cli("mature")
        assert matured.returncode == 0, matured.stderr
        after = {i: shopper(i) for i in range(1, 6)}
        richest = max(after, key=lambda i: after[i]["available"])
        assert after[richest]["available"] >= 50, after

        made = cli("vouchers", "create", DOMAIN, f"shopper{richest}@example.com", "--points", "50", "--json")
        assert made.returncode == 0, made.stderr + output()
        voucher = json.loads(made.stdout)
        assert voucher["status"] == "active"
        codes = {d["code"]: d for d in state()["discount_codes"]}
        assert voucher["code"] in codes and codes[voucher["code"]]["usage_limit"] == 1
        assert shopper(richest)["available"] == after[richest]["available"] - 50

        def written_back():
            by_email = {c["email"]: c for c in state()["customers"]}
            fields = by_email[f"shopper{richest}@example.com"]["metafields"]
            return fields.get("loyalty.available", {}).get("value") == str(after[richest]["available"] - 50)
        wait_for(written_back, "the balance written back as a metafield", output, timeout=90)

        os.killpg(launcher.pid, signal.SIGTERM)
        assert launcher.wait(timeout=20) == 0, output()
    finally:
        kill_tree(launcher)
        out.close()
