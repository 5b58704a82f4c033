"""What `make run` starts (python -m tools.launcher), end to end: embedded Redis and SQLite under var/,
gunicorn, an RQ worker and the scheduler; a signed webhook becomes points; SIGTERM stops everything."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil
import requests

from tests.conftest import KEY, SECRET
from tests.factories import order
from tools.local_services import free_port, kill_tree
from integrations.shopify.webhook_signature import sign

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = "demo.myshopify.com"


def accepts(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_launcher_serves_and_stops(tmp_path):
    """The launcher answers /healthz, turns a signed orders/paid webhook into pending points (web ->
    inbox -> Redis -> worker -> ledger, read back with the CLI), and on SIGTERM exits within 15 s leaving
    no gunicorn, rq or redis-server behind and the port closed."""
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("REDIS_URL", "DATABASE_URL", "LOYALTY_TEST_PAUSE_IN_BATCH", "LOYALTY_BATCH_SIZE")}
    env.update(LOYALTY_VAR_DIR=str(tmp_path), PORT=str(port), SHOPIFY_API_SECRET=SECRET,
               LOYALTY_ENCRYPTION_KEYS=KEY, WEB_CONCURRENCY="1")
    log = tmp_path / "launcher.log"
    out = open(log, "wb")
    launcher = subprocess.Popen([sys.executable, "-m", "tools.launcher"], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    family: list[psutil.Process] = []

    def output() -> str:
        return log.read_text(errors="replace")[-4000:]

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "cli", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=60)

    try:
        deadline = time.monotonic() + 90  # liveness, not speed: a loaded CI machine starts slowly
        while True:
            assert launcher.poll() is None, f"launcher exited:\n{output()}"
            assert time.monotonic() < deadline, f"/healthz never answered 200:\n{output()}"
            try:
                health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                if health.status_code == 200:
                    break
            except requests.RequestException:  # not listening yet, or too busy to answer in time
                pass
            time.sleep(0.3)
        assert health.json() == {"status": "ok", "database": "ok", "redis": "ok"}
        assert (tmp_path / "loyalty.db").exists(), "SQLite under var/"
        assert (tmp_path / "redis").is_dir(), "embedded Redis under var/"

        added = cli("shops", "add", DOMAIN, "--token", "t")
        assert added.returncode == 0, added.stderr
        body = json.dumps(order(lines=((30, 2),), email="make-run@example.com")).encode()
        posted = requests.post(f"http://127.0.0.1:{port}/webhooks", data=body, timeout=5, headers={
            "X-Shopify-Topic": "orders/paid", "X-Shopify-Shop-Domain": DOMAIN,
            "X-Shopify-Webhook-Id": str(uuid.uuid4()), "X-Shopify-Hmac-Sha256": sign(SECRET, body),
            "Content-Type": "application/json"})
        assert posted.status_code == 200, posted.text

        # Liveness, not speed: each CLI call starts a Python process, and on a loaded machine (CI, or other
        # suites beside it) 20 s was once not enough for the worker's first job.
        deadline, last = time.monotonic() + 90, None
        while True:
            shown = cli("customer", DOMAIN, "make-run@example.com", "--json")
            if shown.returncode == 0:
                last = json.loads(shown.stdout)
                if last["pending"] == 60:
                    break
            else:
                last = shown.stderr
            assert time.monotonic() < deadline, f"points never arrived: {last}\n{output()}"
            time.sleep(0.5)
        assert (last["available"], last["lifetime"]) == (0, 60)

        family = psutil.Process(launcher.pid).children(recursive=True)
        names = " ".join(" ".join(p.cmdline()) for p in family)
        assert "gunicorn" in names and "redis-server" in names and "rq worker" in names and "rq cron" in names
        assert "webhooks.writer" in names and (tmp_path / "inbox.sock").is_socket(), "the inbox writer"

        os.killpg(launcher.pid, signal.SIGTERM)
        assert launcher.wait(timeout=15) == 0, output()
        psutil.wait_procs(family, timeout=5)
        left = [" ".join(p.cmdline()) for p in family if alive(p)]
        assert left == [], f"children still running after the launcher exited: {left}"
        assert not accepts(port), "the web port still accepts connections"
        assert not (tmp_path / "inbox.sock").exists(), "the inbox writer removes its socket when stopped"
    finally:
        for p in family:  # children seen earlier, even if the launcher already exited
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
        kill_tree(launcher)
        out.close()
