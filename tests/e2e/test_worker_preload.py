"""The Procfile's workers import the job modules once, before forking its work horses: a plain `rq worker`
imported the whole app again in every work horse (about a second before each job on this machine)."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from loyalty.services.context import INBOX_QUEUE_NAME, QUEUE_NAME
from runtime.worker import JOB_MODULES
from tools.launcher import process_commands

ROOT = Path(__file__).resolve().parents[2]


def test_the_procfile_and_make_run_start_the_preloading_workers_on_their_queues():
    """`worker` serves the inbox queue alone, `background` every other job (and rq's scheduler)."""
    procfile = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if ": " in line)
    commands = process_commands(Path(sys.executable).parent, {}, "redis://127.0.0.1:9", "0", "wsgi:app")
    for role, queue in (("worker", INBOX_QUEUE_NAME), ("background", QUEUE_NAME)):
        assert procfile[role].split()[:3] == ["rq", "worker", queue]
        assert "--worker-class runtime.worker.PreloadedWorker" in procfile[role]
        command = commands[role]
        assert command[1:3] == ["worker", queue]
        assert command[command.index("--worker-class") + 1] == "runtime.worker.PreloadedWorker"
    assert "--with-scheduler" in procfile["background"] and "--with-scheduler" in commands["background"]


def test_every_queued_job_module_is_imported_before_the_first_fork(redis_url):
    """In a fresh interpreter: importing the class imports no job module; making the worker imports every
    module whose jobs the app queues by name (wake-ups, the scheduler's sweep) or the cron file names."""
    queued = set()
    for source in (ROOT / "loyalty/services/wakeups.py", ROOT / "jobs/scheduled.py", ROOT / "jobs/cron.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("jobs."):
                queued.add(node.value.rsplit(".", 1)[0])
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("jobs."):
                queued.add(node.module)
    assert {"jobs.inbox", "jobs.sync", "jobs.history", "jobs.scheduled"} <= queued
    assert queued <= set(JOB_MODULES)
    script = (
        "import sys\n"
        "from redis import Redis\n"
        "from runtime.worker import PreloadedWorker, JOB_MODULES\n"
        "before = [m for m in JOB_MODULES if m in sys.modules]\n"
        f"PreloadedWorker(['loyalty'], connection=Redis.from_url({redis_url!r}))\n"
        "after = [m for m in JOB_MODULES if m in sys.modules]\n"
        "print(len(before), len(after), len(JOB_MODULES))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    before, after, total = map(int, out.stdout.split())
    assert (before, after) == (0, total)
