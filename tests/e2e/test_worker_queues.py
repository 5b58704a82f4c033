"""Webhooks never wait behind the background: `make run` and the Procfile run a `worker` on the inbox queue
and a `background` worker for everything else. While the background worker is busy with a long job (here a
30 s one; in production a write-back slice, an import, a reconciliation), webhooks still reach the ledger.
With one worker for every job they waited for it to end."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from rq.registry import StartedJobRegistry
from sqlalchemy import func, select

from db.tables import webhook_inbox as inbox

from tests.e2e.test_worker_crash import ROOT, send_orders, worker_env
from tools.launcher import process_commands
from tools.local_services import kill_tree

BUSY_SECONDS = 30


def wait_for(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
    return value


def applied(ctx) -> int:
    with ctx.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(inbox).where(inbox.c.processed_at.isnot(None))).scalar()


def test_webhooks_reach_the_ledger_while_the_background_worker_is_busy(ctx, shop, send, summary, tmp_path):
    env = worker_env(ctx, tmp_path)
    commands = process_commands(Path(sys.executable).parent, env, ctx.config.effective_redis_url, "0")
    started = []
    try:
        for role in ("worker", "background"):
            with open(tmp_path / f"{role}.log", "wb") as log:
                started.append(subprocess.Popen(commands[role], cwd=ROOT, env=env, stdout=log,
                                                stderr=subprocess.STDOUT, start_new_session=True))
        busy = ctx.queue.enqueue("time.sleep", BUSY_SECONDS, job_timeout=BUSY_SECONDS * 2)
        wait_for(lambda: busy.id in StartedJobRegistry(queue=ctx.queue).get_job_ids(), 60,
                 "the background worker to start its long job")
        expected = send_orders(send, 6)
        wait_for(lambda: applied(ctx) == 6, BUSY_SECONDS / 2, "the webhooks applied while the background is busy")
        assert busy.id in StartedJobRegistry(queue=ctx.queue).get_job_ids(), "the long job is still running"
        for email, points in expected.items():
            assert summary(email)["pending"] == points
    finally:
        for proc in started:
            kill_tree(proc)
