"""What the benchmarks say about the machine they ran on, and how they time a fresh process."""

from __future__ import annotations

import platform
import subprocess
import time
from pathlib import Path


def cpu_name() -> str:
    """The processor's model name (from /proc/cpuinfo where there is one)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def process_wall_times(command: list[str], runs: int, env: dict[str, str] | None = None) -> list[float]:
    """Wall seconds of `runs` fresh runs of `command` (output discarded)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        times.append(time.perf_counter() - start)
    return times
