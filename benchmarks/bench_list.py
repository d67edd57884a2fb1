"""Wall time of `archcalc list` (fresh processes): the first run after a change, which analyses the
whole zoo and writes the index, and later runs, which read it. Budget: later runs ≤ 0.5 s.

    python benchmarks/bench_list.py [--repeat 7] [--out benchmarks/results/list.md]

The index lives in a temporary XDG_CACHE_HOME, so the user's own is left alone. No matrix
products run here, so OPENBLAS_* settings do not apply.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
from datetime import date
from pathlib import Path

from machine import cpu_name, process_wall_times

BUDGET_S = 0.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "list.md"))
    args = parser.parse_args()
    command = [sys.executable, "-m", "archcalc", "list"]
    bare = statistics.median(process_wall_times([sys.executable, "-c", "pass"], args.repeat))
    first, later = [], []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as folder:
            env = dict(os.environ, XDG_CACHE_HOME=folder)
            first += process_wall_times(command, 1, env)
            later += process_wall_times(command, 3, env)
    warm = statistics.median(later)
    lines = [
        "# `archcalc list`",
        "",
        f"Measured {date.today()} on {cpu_name()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"median of {len(first)} first and {len(later)} later fresh processes; load average at the end "
        f"{os.getloadavg()[0]:.2f}. Command: `python benchmarks/bench_list.py`.",
        "",
        f"- interpreter start-up alone (`python -c pass`): {bare:.3f} s",
        f"- first run (analyses the zoo, writes the index): {statistics.median(first):.3f} s",
        f"- later runs (read the index): {warm:.3f} s = {warm / bare:.1f}× start-up; "
        f"budget ≤ {BUDGET_S} s {'met' if warm <= BUDGET_S else 'missed'}",
        "",
    ]
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
