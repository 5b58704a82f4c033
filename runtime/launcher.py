"""`make run`: migrate, then run the Procfile's processes (web, worker, scheduler) in the foreground.

With no REDIS_URL a real redis-server is started under var/ first; with no DATABASE_URL the database is
SQLite under var/. Ctrl-C stops everything.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from db.migrate import upgrade
from runtime.config import load_config
from runtime.embedded_redis import start_redis


def main() -> int:
    """Start every process and wait; exit when one dies or on Ctrl-C."""
    config = load_config()
    children: list[subprocess.Popen] = []
    env = dict(os.environ)
    if config.embedded_redis:
        redis_process, url = start_redis(config.var_dir / "redis")
        children.append(redis_process)
        env["REDIS_URL"] = url
        print(f"embedded Redis at {url}", flush=True)
    upgrade(config.database_url)
    print(f"database {config.database_url.split('@')[-1]} migrated", flush=True)
    bin_dir = Path(sys.executable).parent
    port = env.get("PORT", "8000")
    commands = {
        "web": [str(bin_dir / "gunicorn"), "wsgi:app", "--bind", f"127.0.0.1:{port}", "--workers",
                env.get("WEB_CONCURRENCY", "2"), "--worker-class", "gthread", "--threads", "4"],
        "worker": [str(bin_dir / "rq"), "worker", "loyalty", "--url", env["REDIS_URL"] if "REDIS_URL" in env
                   else config.effective_redis_url, "--with-scheduler"],
        "scheduler": [str(bin_dir / "rq"), "cron", "jobs/cron.py", "--url",
                      env.get("REDIS_URL", config.effective_redis_url)],
    }
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
        for child in reversed(children):
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
    return 0 if stopping else 1


if __name__ == "__main__":
    sys.exit(main())
