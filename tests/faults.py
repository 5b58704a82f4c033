"""A whole installation under fault injection: real `rq worker` processes and the `rq cron` scheduler
against a Redis server and a database of the test's own, so they can be killed, restarted and cut off.

    plant = Plant(tmp_path, database_url, admin_url).start(workers=2)
    plant.kill_a_worker(rng)        # SIGKILL a worker and its work-horse (process tree), start a new one
    plant.restart_redis(down=2)     # queued jobs are lost: the sweeper finds their rows again
    plant.database_outage(4)        # SQLite: another connection holds the write lock; PostgreSQL: stopped
    plant.supervise()               # start again whatever died (as a process manager would)
"""
from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from loyalty.services.context import INBOX_QUEUE_NAME, QUEUE_NAME
from tools.embedded_redis import start_redis
from tests.conftest import KEY, SECRET
from tools.local_services import kill_tree

ROOT = Path(__file__).resolve().parent.parent
RQ = Path(sys.executable).parent / "rq"


class Plant:
    """Workers, scheduler and Redis of one installation; the database is passed in (and its cluster, for
    PostgreSQL outages)."""

    def __init__(self, tmp: Path, database_url: str, admin_url: str, cluster=None):
        self.tmp, self.database_url, self.admin_url, self.cluster = tmp, database_url, admin_url, cluster
        self.redis_dir = tmp / "redis"
        self.redis = None
        self.redis_url = ""
        self.workers: list[subprocess.Popen] = []
        self.scheduler: subprocess.Popen | None = None
        self.counts = {"workers killed": 0, "processes restarted": 0, "redis restarts": 0, "database outages": 0}
        self._logs = 0

    # -- processes ------------------------------------------------------------------------------------------

    def env(self) -> dict:
        env = dict(os.environ, DATABASE_URL=self.database_url, REDIS_URL=self.redis_url,
                   LOYALTY_ENCRYPTION_KEYS=KEY, SHOPIFY_API_SECRET=SECRET, LOYALTY_VAR_DIR=str(self.tmp),
                   SHOPIFY_ADMIN_URL=self.admin_url)
        for name in ("LOYALTY_TEST_PAUSE_IN_BATCH", "LOYALTY_BATCH_SIZE"):
            env.pop(name, None)
        return env

    def _spawn(self, *args: str) -> subprocess.Popen:
        self._logs += 1
        with open(self.tmp / f"process-{self._logs}.log", "wb") as out:
            return subprocess.Popen([str(RQ), *args, "--url", self.redis_url], cwd=ROOT, env=self.env(),
                                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def start(self, workers: int = 2) -> "Plant":
        """Redis, `workers` workers (each on both queues, the inbox first) and the scheduler."""
        self.redis, self.redis_url = start_redis(self.redis_dir, persistent=False)
        self.workers = [self._spawn("worker", INBOX_QUEUE_NAME, QUEUE_NAME) for _ in range(workers)]
        self.scheduler = self._spawn("cron", "jobs/cron.py")
        return self

    def supervise(self) -> None:
        """Start again any worker or scheduler that exited (a lost Redis makes them exit)."""
        for i, proc in enumerate(self.workers):
            if proc.poll() is not None:
                self.workers[i] = self._spawn("worker", INBOX_QUEUE_NAME, QUEUE_NAME)
                self.counts["processes restarted"] += 1
        if self.scheduler is not None and self.scheduler.poll() is not None:
            self.scheduler = self._spawn("cron", "jobs/cron.py")
            self.counts["processes restarted"] += 1

    def kill_a_worker(self, rng: random.Random) -> None:
        """SIGKILL one worker and its work-horse, wherever they are in their work; start a replacement."""
        i = rng.randrange(len(self.workers))
        kill_tree(self.workers[i])
        self.counts["workers killed"] += 1
        self.workers[i] = self._spawn("worker", INBOX_QUEUE_NAME, QUEUE_NAME)

    def stop(self) -> None:
        """Kill every process this plant started."""
        for proc in self.workers + [self.scheduler]:
            if proc is not None and proc.poll() is None:
                kill_tree(proc)
        if self.redis is not None and self.redis.poll() is None:
            self.redis.terminate()
            self.redis.wait(10)

    # -- faults ---------------------------------------------------------------------------------------------

    def restart_redis(self, down: float = 2.0) -> None:
        """Stop Redis (not persistent: every queued job and wake flag is lost), wait, start it again."""
        self.redis.terminate()
        self.redis.wait(10)
        time.sleep(down)
        self.redis, url = start_redis(self.redis_dir, persistent=False)
        assert url == self.redis_url
        self.counts["redis restarts"] += 1

    def database_outage(self, seconds: float) -> threading.Thread:
        """Make the database unavailable for `seconds`, in the background; returns the thread."""
        self.counts["database outages"] += 1
        if self.database_url.startswith("sqlite"):
            target = self._hold_sqlite_lock
        else:
            target = self._stop_postgres
        thread = threading.Thread(target=target, args=(seconds,), daemon=True)
        thread.start()
        return thread

    def _hold_sqlite_lock(self, seconds: float) -> None:
        raw = sqlite3.connect(self.database_url.split("///", 1)[1], timeout=30, isolation_level=None)
        try:
            raw.execute("BEGIN EXCLUSIVE")  # every writer (web and workers) now times out
            time.sleep(seconds)
            raw.execute("ROLLBACK")
        finally:
            raw.close()

    def _stop_postgres(self, seconds: float) -> None:
        self.cluster.halt()
        time.sleep(seconds)
        self.cluster.resume()


def refuse_order(ctx, order_id: int) -> None:
    """From now on the database refuses to write the order row of Shopify order `order_id` (a trigger
    raising "order N refused"): an event that fails every time, on SQLite and on PostgreSQL."""
    from sqlalchemy import text

    if ctx.engine.dialect.name == "sqlite":
        with ctx.engine.begin() as conn:
            conn.exec_driver_sql(f"CREATE TRIGGER refuse_order_{order_id} BEFORE INSERT ON orders WHEN "
                                 f"NEW.shopify_order_id = {order_id} "
                                 f"BEGIN SELECT RAISE(ABORT, 'order {order_id} refused'); END")
        return
    with ctx.engine.begin() as conn:
        conn.execute(text(f"CREATE FUNCTION refuse_order_{order_id}() RETURNS trigger AS $$ BEGIN "
                          f"IF NEW.shopify_order_id = {order_id} THEN RAISE EXCEPTION 'order {order_id} refused'; "
                          f"END IF; RETURN NEW; END $$ LANGUAGE plpgsql; "
                          f"CREATE TRIGGER refuse_order_{order_id} BEFORE INSERT ON orders FOR EACH ROW "
                          f"EXECUTE FUNCTION refuse_order_{order_id}()"))
