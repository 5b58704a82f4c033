"""The production set-up, started for one benchmark: embedded Redis, a migrated database, one installed
shop, and the Procfile's processes (gunicorn and `rq worker`, exactly as `make run` starts them); and the
Admin API emulator as its own process, for benchmarks whose worker asks Shopify."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import psutil
import requests
from sqlalchemy import create_engine, text

from tools.launcher import process_commands

BENCH_APP = "tools.bench.wsgi:app"
"""The production app plus the ingest benchmark's baselines (/bare, /bare/flask), which it does not serve."""
SHOP = "bench.myshopify.com"
SECRET = "bench-webhook-secret"
REPO = Path(__file__).resolve().parents[2]


class Stack:
    """`with Stack() as stack:` a throw-away installation; processes started on it stop with it."""

    def __init__(self, database_url: str | None = None, **extra_env: str):
        self.work = Path(tempfile.mkdtemp(prefix="loyalty-bench-"))
        self.database_url = database_url or os.environ.get("DATABASE_URL") or f"sqlite:///{self.work / 'bench.db'}"
        # Nothing may leave the machine: until a benchmark points it at the emulator, the Admin API is a
        # closed local port.
        self.extra_env = {"SHOPIFY_ADMIN_URL": "http://127.0.0.1:9/{shop}", **extra_env}
        self.processes: dict[str, list[subprocess.Popen]] = {}
        self.commands: dict[str, list[str]] = {}
        """The launcher's commands the web was started with (start_web)."""

    def __enter__(self) -> "Stack":
        from cryptography.fernet import Fernet

        from db.migrate import upgrade
        from loyalty.services.shops import install_shop
        from loyalty.config import Config
        from loyalty.services.context import build_context
        from integrations.crypto import encrypt_token
        from tools.embedded_redis import start_redis

        self.redis_process, self.redis_url = start_redis(self.work / "redis", persistent=False)
        upgrade(self.database_url)
        key = Fernet.generate_key().decode()
        self.env = {**os.environ, "DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url,
                    "SHOPIFY_API_KEY": "bench", "SHOPIFY_API_SECRET": SECRET, "LOYALTY_ENCRYPTION_KEYS": key,
                    "LOYALTY_VAR_DIR": str(self.work), "PYTHONPATH": str(REPO), **self.extra_env}
        self.env.pop("SHOPIFY_API_SECRET_PREVIOUS", None)
        config = Config(database_url=self.database_url, redis_url=self.redis_url, var_dir=self.work,
                        api_key="bench", api_secrets=(SECRET,), encryption_keys=(key,),
                        admin_url_template=self.extra_env.get("SHOPIFY_ADMIN_URL", "https://{shop}"))
        self.ctx = build_context(config)
        with self.ctx.engine.begin() as conn:
            self.shop = install_shop(conn, SHOP, encrypt_token((key,), "bench-token"), datetime.now(timezone.utc))
        return self

    def __exit__(self, *exc) -> None:
        for group in reversed(list(self.processes.values())):
            for process in group:
                stop(process)
        self.ctx.engine.dispose()
        stop(self.redis_process)
        if os.environ.get("BENCH_KEEP"):
            print(f"   (BENCH_KEEP: logs and database kept in {self.work})", flush=True)
        else:
            shutil.rmtree(self.work, ignore_errors=True)

    def _commands(self, port: int = 0) -> dict[str, list[str]]:
        return process_commands(Path(sys.executable).parent, self.env, self.redis_url, str(port), BENCH_APP)

    def start_web(self) -> int:
        """gunicorn with the Procfile's settings on a free port (and on SQLite the inbox writer beside it);
        returns the port once it answers."""
        port = free_port()
        log = open(self.work / "web.log", "ab")
        commands = self.commands = self._commands(port)
        self.processes["web"] = [subprocess.Popen(commands[name], env=self.env, cwd=REPO, stdout=log, stderr=log)
                                 for name in ("inbox", "web") if name in commands]
        wait_for_port(port, self.processes["web"][-1])
        return port

    def start_workers(self, count: int = 1) -> None:
        """`count` real `rq worker` processes on the inbox queue and one on the background queue (the
        write-back, emails), as the Procfile's worker and background lines run them; one log for all."""
        log = open(self.work / "worker.log", "ab")
        commands = self._commands()
        self.processes["worker"] = [subprocess.Popen(commands["worker"], env=self.env, cwd=REPO,
                                                     stdout=log, stderr=log) for _ in range(count)]
        self.processes["background"] = [subprocess.Popen(commands["background"], env=self.env, cwd=REPO,
                                                         stdout=log, stderr=log)]

    def root_pids(self, role: str) -> list[int]:
        """Pids of the processes started for `role` ('web', 'worker' or 'background')."""
        return [p.pid for p in self.processes.get(role, [])]


class Emulator:
    """`with Emulator() as base:` the Admin API emulator (`python -m tools.shopify_emulator`) serving SHOP on
    a free port, with Shopify's leaky bucket (its own defaults unless `restore_rate`/`maximum` are given);
    `base` is its URL (the Admin URL template is f"{base}/{{shop}}")."""

    def __init__(self, restore_rate: float | None = None, maximum: float | None = None):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.command = [sys.executable, "-m", "tools.shopify_emulator", "--port", str(self.port), "--shop", SHOP,
                        "--token", "bench-token"]
        if restore_rate is not None:
            self.command += ["--restore-rate", str(restore_rate)]
        if maximum is not None:
            self.command += ["--maximum-available", str(maximum)]

    def __enter__(self) -> str:
        self.process = subprocess.Popen(self.command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_port(self.port, self.process, timeout=60)
        except BaseException:
            stop(self.process)
            raise
        return self.base

    def __exit__(self, *exc) -> None:
        stop(self.process)


def seed(base: str, kind: str, bodies: list[dict], threads: int = 8) -> None:
    """POST each body to the emulator's control endpoint /_emulator/SHOP/`kind` ('customers', 'orders'),
    over `threads` keep-alive connections."""
    def post(first: int) -> None:
        with requests.Session() as session:
            for body in bodies[first::threads]:
                session.post(f"{base}/_emulator/{SHOP}/{kind}", json=body, timeout=30).raise_for_status()

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(post, range(threads)))


def stop(process: subprocess.Popen) -> None:
    """Terminate one process we started (and wait); kill it if it does not go."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30.0) -> None:
    """Block until something accepts connections on `port`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on port {port}") from None
            time.sleep(0.1)


class PeakRss:
    """Samples the resident memory of process trees (a role's processes and their children, e.g.
    gunicorn's workers or rq's work horses) and keeps the peak of their sum per role."""

    def __init__(self, roles: dict[str, list[int]], interval: float = 0.2):
        self.roles, self.interval = roles, interval
        self.peak = {role: 0 for role in roles}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            for role, pids in self.roles.items():
                total = 0
                for pid in pids:
                    try:
                        root = psutil.Process(pid)
                        tree = [root, *root.children(recursive=True)]
                    except psutil.Error:
                        continue
                    for proc in tree:
                        try:
                            total += proc.memory_info().rss
                        except psutil.Error:  # a work horse that just exited
                            continue
                self.peak[role] = max(self.peak[role], total)
            self._stop.wait(self.interval)

    def mib(self, role: str) -> float:
        """The peak for `role`, in MiB."""
        return self.peak[role] / 2**20


@contextmanager
def postgres_databases():
    """`with postgres_databases() as (new_database, log_path):` new_database() gives the URL of a new, empty
    database; on DATABASE_URL's server if it is PostgreSQL, else on a durable cluster started here (whose
    log is read for deadlocks; None otherwise)."""
    given = os.environ.get("DATABASE_URL", "")
    cluster = None
    if given.startswith("postgres"):
        server = given.replace("postgresql://", "postgresql+psycopg://", 1)
    else:
        from tools.local_services import PostgresCluster
        cluster = PostgresCluster(durable=True).start()  # fsync and synchronous commits, as in production
        server = cluster.url()
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    made: list[str] = []

    def new_database() -> str:
        name = f"bench_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
        made.append(name)
        return str(admin.url.set(database=name).render_as_string(hide_password=False))
    try:
        yield new_database, (cluster.root / "pg.log" if cluster else None)
    finally:
        if cluster:
            cluster.stop()
        else:
            with admin.connect() as conn:
                for name in made:
                    conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()


class CpuSplit:
    """CPU seconds spent by process trees per role between enter and exit: each root's own time, the time
    of the children it reaped (rq's work horses, PostgreSQL's backends) and that of its live descendants;
    this process's own; and the whole machine's, so the rest (other benchmarks) shows too."""

    def __init__(self, roles: dict[str, list[int]]):
        self.roles = roles

    def __enter__(self) -> "CpuSplit":
        self.start = self._sample()
        return self

    def __exit__(self, *exc) -> None:
        self.end = self._sample()

    def _sample(self) -> dict[str, float]:
        machine = psutil.cpu_times()
        sample = {"machine": machine.user + machine.system + getattr(machine, "nice", 0.0)}
        for role, pids in self.roles.items():
            sample[role] = cpu_seconds(pids)
        own = psutil.Process().cpu_times()  # the bench's feeder and pollers (its children are counted above)
        sample["bench"] = own.user + own.system
        return sample

    def cores_busy(self, seconds: float) -> dict[str, float]:
        """Role -> CPU seconds per wall second (1.0 = one core busy), with "other" for the rest."""
        busy = {role: (self.end[role] - self.start[role]) / seconds for role in self.start}
        busy["other"] = busy.pop("machine") - sum(busy.values())
        return busy


def cpu_seconds(pids: list[int]) -> float:
    """CPU seconds used so far by these process trees: each root's own, its reaped children's (rq's work
    horses, PostgreSQL's backends) and its live descendants'."""
    return sum(_tree_seconds(pid) for pid in pids)


def _tree_seconds(pid: int) -> float:
    try:
        root = psutil.Process(pid)
        times = root.cpu_times()
        total = times.user + times.system + times.children_user + times.children_system
        for child in root.children(recursive=True):
            try:
                t = child.cpu_times()
                total += t.user + t.system
            except psutil.Error:  # exited meanwhile: counted in its parent's children times
                continue
        return total
    except psutil.Error:
        return 0.0
