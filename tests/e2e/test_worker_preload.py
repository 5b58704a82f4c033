"""The Procfile's worker imports the job modules once, before forking its work horses: a plain `rq worker`
imported the whole app again in every work horse (about a second before each job on this machine)."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from runtime.worker import JOB_MODULES
from tools.launcher import process_commands

ROOT = Path(__file__).resolve().parents[2]


def test_the_procfile_and_make_run_start_the_preloading_worker():
    worker_line = next(l for l in (ROOT / "Procfile").read_text().splitlines() if l.startswith("worker:"))
    assert "--worker-class runtime.worker.PreloadedWorker" in worker_line
    command = process_commands(Path(sys.executable).parent, {}, "redis://127.0.0.1:9", "0", "wsgi:app")["worker"]
    assert command[command.index("--worker-class") + 1] == "runtime.worker.PreloadedWorker"


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
