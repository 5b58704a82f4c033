"""Figures, the machine they were measured on, and tools/bench/results.md."""
from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.md"


@dataclass(frozen=True)
class Figure:
    """One measured figure; `target` and `passed` when the issue sets a target for it."""

    name: str
    value: str
    target: str = ""
    passed: bool | None = None
    note: str = ""

    def row(self) -> str:
        """The figure as a Markdown table row."""
        verdict = "" if self.passed is None else ("PASS" if self.passed else "FAIL")
        return f"| {self.name} | {self.value} | {self.target} | {verdict} | {self.note} |"


def machine() -> str:
    """Cores, CPU model, architecture and Python version of this machine."""
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", load average %.2f" % os.getloadavg()[0] if hasattr(os, "getloadavg") else ""
    return (f"{os.cpu_count()} cores, {model}, {platform.machine()}, Python {platform.python_version()}"
            f"{load} at start")


def write(figures: list[Figure], command: str, database: str, started: datetime, machine_line: str) -> str:
    """Append one run's section to tools/bench/results.md and return it."""
    minutes = (datetime.now(timezone.utc) - started).total_seconds() / 60
    lines = [
        f"## {started:%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {machine_line}. Database: {database}. Command: `{command}` ({minutes:.1f} min).",
        "",
        "| measure | figure | target | result | notes |",
        "|---|---|---|---|---|",
        *(f.row() for f in figures),
        "",
    ]
    text = "\n".join(lines)
    header = "# Benchmark results\n\nEach section is one run of `make bench` (or `python -m tools.bench`).\n\n"
    RESULTS.write_text((RESULTS.read_text() if RESULTS.exists() else header) + text + "\n")
    return text
