"""`make run`: migrate, then run the Procfile's processes (web, worker, background, scheduler) in the foreground.

With no REDIS_URL a real redis-server is started under var/ first; with no DATABASE_URL the database is
SQLite under var/. With nothing but the generated var/local.env (or LOYALTY_DEMO=1) it starts the demo: the
Shopify emulator, its shop, and LOYALTY_DEMO=1 for the processes it starts (loyalty.demo). Ctrl-C stops
everything.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from db.migrate import upgrade
from loyalty.config import DEMO_SWITCH, load_config
from loyalty.demo import DEMO_SHOP, DemoRefused, launcher_wants_demo
from loyalty.services.context import INBOX_QUEUE_NAME, QUEUE_NAME
from tools.embedded_redis import start_redis

DEMO_TOKEN = "demo-token"


def main() -> int:
    """Start every process and wait; exit when one dies or on Ctrl-C."""
    config = load_config()
    env = dict(os.environ)
    emulator_url = f"http://127.0.0.1:{int(env.get('EMULATOR_PORT', '9000'))}/{{shop}}"
    try:
        demo = launcher_wants_demo(config, env, emulator_url)
    except DemoRefused as exc:
        print(f"make run: {exc}", file=sys.stderr, flush=True)
        return 2
    children: list[subprocess.Popen] = []
    if config.embedded_redis:
        redis_process, url = start_redis(config.var_dir / "redis")
        children.append(redis_process)
        env["REDIS_URL"] = url
        print(f"embedded Redis at {url}", flush=True)
    upgrade(config.database_url)
    print(f"database {config.database_url.split('@')[-1]} migrated", flush=True)
    bin_dir = Path(sys.executable).parent
    if demo:
        children.append(start_demo(config, env))
    port = env.get("PORT", "8000")
    commands = process_commands(bin_dir, env, env.get("REDIS_URL", config.effective_redis_url), port)
    for name, command in commands.items():
        children.append(subprocess.Popen(command, env=env))
        print(f"started {name}: pid {children[-1].pid}", flush=True)
    print(f"serving on http://127.0.0.1:{port} (POST /webhooks, GET /healthz); Ctrl-C stops", flush=True)
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        while not stopping and all(c.poll() is None for c in children):
            time.sleep(0.2)
    finally:
        # Last started, first stopped, each waited for: the worker finishes its job before Redis goes.
        for child in reversed(children):
            if child.poll() is None:
                child.terminate()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
    return 0 if stopping else 1


def process_commands(bin_dir: Path, env: dict, redis_url: str, port: str,
                     wsgi_app: str = "wsgi:app") -> dict[str, list[str]]:
    """The Procfile's web, worker, background and scheduler commands for this machine (the benchmarks run these too,
    serving their own `wsgi_app`), and on SQLite the inbox writer.

    On SQLite (one writer) a single gevent web process hands webhooks to the inbox writer, a process of
    its own that checks them and commits every webhook arriving together in one transaction on the other
    core (webhooks.writer; its socket is set in `env` as LOYALTY_INBOX_SOCKET unless given). On
    PostgreSQL two gevent web processes add capacity, each checking and committing its own webhooks
    together (webhooks.group_commit; psycopg 3 waits cooperatively once gevent has patched `select`).
    LOYALTY_INBOX_WRITER=on starts the writer on PostgreSQL too, =off leaves it out on SQLite (the web
    command is the same either way). WEB_CONCURRENCY / WEB_THREADS override either.
    """
    sqlite = not env.get("DATABASE_URL", "").startswith("postgres")
    # gevent on both: a slow client holds a greenlet, not one of a few threads (runtime.body_deadline).
    workers, worker_class = ("1", "gevent") if sqlite else ("2", "gevent")
    commands = {}
    wanted = env.get("LOYALTY_INBOX_WRITER") or None  # unset: on SQLite only; any value but "off": on
    if (sqlite if wanted is None else wanted != "off"):
        env.setdefault("LOYALTY_INBOX_SOCKET", str(Path(env.get("LOYALTY_VAR_DIR", "var")).resolve() / "inbox.sock"))
        commands["inbox"] = [str(bin_dir / "python"), "-m", "webhooks.writer"]
    return commands | {
        "web": [str(bin_dir / "gunicorn"), wsgi_app, "--bind", f"127.0.0.1:{port}", "--workers",
                env.get("WEB_CONCURRENCY", workers), "--worker-class", env.get("WEB_WORKER_CLASS", worker_class),
                "--threads", env.get("WEB_THREADS", "16"), "--timeout", "30"],
        "worker": [str(bin_dir / "rq"), "worker", INBOX_QUEUE_NAME, "--url", redis_url,
                   "--worker-class", "runtime.worker.PreloadedWorker"],
        "background": [str(bin_dir / "rq"), "worker", QUEUE_NAME, "--url", redis_url, "--with-scheduler",
                       "--worker-class", "runtime.worker.PreloadedWorker"],
        "scheduler": [str(bin_dir / "rq"), "cron", "jobs/cron.py", "--url", redis_url],
    }


def start_demo(config, env: dict) -> subprocess.Popen:
    """Start the local Admin API emulator and install its demo shop; the app's processes talk to it, in
    demo mode (LOYALTY_DEMO=1 in their environment: never in a file, so nothing else inherits it)."""
    import socket
    from datetime import datetime, timezone

    from db.engine import make_engine
    from loyalty.services.shops import install_shop
    from integrations.crypto import encrypt_token

    port = int(env.get("EMULATOR_PORT", "9000"))
    process = subprocess.Popen([sys.executable, "-m", "tools.shopify_emulator", "--port", str(port),
                                "--shop", DEMO_SHOP, "--token", DEMO_TOKEN], env=env)
    deadline = time.monotonic() + 30
    while True:  # the emulator loads Shopify's schema (~2 s) before it listens
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("the Shopify emulator did not start") from None
            time.sleep(0.2)
    env["SHOPIFY_ADMIN_URL"] = f"http://127.0.0.1:{port}/{{shop}}"
    env[DEMO_SWITCH] = "1"
    # The CLI, run beside `make run`, reads this too and so talks to the emulator.
    (config.var_dir / "demo.env").write_text(f"SHOPIFY_ADMIN_URL={env['SHOPIFY_ADMIN_URL']}\n")
    engine = make_engine(config.database_url)
    with engine.begin() as conn:
        install_shop(conn, DEMO_SHOP, encrypt_token(config.encryption_keys, DEMO_TOKEN), datetime.now(timezone.utc))
    engine.dispose()
    print(f"demo mode: Shopify emulator on http://127.0.0.1:{port}, shop {DEMO_SHOP} installed; "
          "send traffic with `.venv/bin/loyalty demo traffic`", flush=True)
    return process


if __name__ == "__main__":
    sys.exit(main())
