"""Running archcalc on a hostile input, in a fresh process, within the bounds every hostile input is held to.

A hostile input gets a one-line error or a correct result while the work on it takes under
`CPU_SECONDS` of CPU and grows the process's resident memory by under `GROWTH_MB`; nothing it holds is
executed (the canary file is never created) and nothing outside its folder is read (the canary secret,
kept outside that folder, never appears in any output).

The child first imports what the command needs (`preload`: torch, onnx, ...), so that the bounds measure
the work on the input rather than the libraries' import: it then takes its CPU time and resets its peak
resident memory (Linux's /proc/self/clear_refs), and reports both at exit. CPU time rather than wall time
is measured, because the wall time of a loaded machine says little.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

CPU_SECONDS = 2.0
GROWTH_MB = 200
KILL_AFTER = 60  # a hang still ends the test

_CHILD = """
import atexit, importlib, json, os, resource, runpy, sys

def status(key):
    try:
        with open("/proc/self/status") as lines:
            return int(next(line.split()[1] for line in lines if line.startswith(key + ":")))
    except (OSError, StopIteration):
        return None

for module in filter(None, os.environ["HOSTILE_PRELOAD"].split(",")):
    importlib.import_module(module)
usage = resource.getrusage(resource.RUSAGE_SELF)
start_cpu = usage.ru_utime + usage.ru_stime
try:
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
    start_kb = status("VmRSS")
except OSError:
    start_kb = None

def report():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak = status("VmHWM")
    growth = None if start_kb is None or peak is None else peak - start_kb
    with open(os.environ["HOSTILE_REPORT"], "w") as out:
        json.dump({"cpu": usage.ru_utime + usage.ru_stime - start_cpu, "growth_kb": growth}, out)

atexit.register(report)
sys.argv = ["archcalc", *sys.argv[1:]]
runpy.run_module("archcalc", run_name="__main__")
"""


@dataclass
class Run:
    """What one bounded run gave: exit status, output, error output, CPU seconds and memory growth."""

    status: int
    stdout: str
    stderr: str
    cpu: float
    growth_mb: float | None


def run_archcalc(cwd: Path, *args: str, preload: tuple[str, ...] = (), env: dict[str, str] | None = None,
                 cpu_seconds: float = CPU_SECONDS, growth_mb: float = GROWTH_MB) -> Run:
    """Run `python -m archcalc ARGS` in `cwd` after importing `preload`; assert the bounds; return the run."""
    out, err, report = cwd / ".hostile-stdout", cwd / ".hostile-stderr", cwd / ".hostile-report"
    for path in (out, err, report):
        path.unlink(missing_ok=True)
    environment = dict(os.environ, **(env or {}), HOSTILE_PRELOAD=",".join(preload), HOSTILE_REPORT=str(report))
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        proc = subprocess.Popen([sys.executable, "-c", _CHILD, *args], cwd=cwd, stdout=stdout, stderr=stderr,
                                env=environment)
        try:
            proc.wait(KILL_AFTER)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail(f"archcalc {' '.join(a[:40] for a in args)} ran longer than {KILL_AFTER} s")
    measured = json.loads(report.read_text()) if report.exists() else {"cpu": 0.0, "growth_kb": None}
    run = Run(proc.returncode, out.read_text(errors="replace"), err.read_text(errors="replace"), measured["cpu"],
              None if measured["growth_kb"] is None else measured["growth_kb"] / 1024)
    for path in (out, err, report):
        path.unlink()
    assert run.cpu < cpu_seconds, f"took {run.cpu:.1f} s of CPU: {run.stderr[-500:]}"
    if run.growth_mb is not None:
        assert run.growth_mb < growth_mb, f"grew memory by {run.growth_mb:.0f} MB"
    return run


def one_line_error(run: Run, name: str) -> str:
    """The one error line of a refused run, which names the input `name`; fails otherwise."""
    lines = run.stderr.splitlines()
    assert run.status == 2, run.stderr[-2000:]
    assert len(lines) == 1, run.stderr[-2000:]
    line = lines[0]
    assert line.isprintable(), line
    assert line.startswith("archcalc: error: ") and name[:40] in line, line
    return line


class Canaries:
    """A secret kept outside the input's folder and a file that only executed code would create.

    `folder` is where the hostile input goes; `secret_path` lies beside it (outside it), under the
    absolute path and the relative path `../secret.txt`; `trap` is the path that a hostile payload
    writes to. `assert_untouched(texts...)` checks that no text (and no file in `folder`) holds the
    secret and that `trap` does not exist.
    """

    def __init__(self, root: Path):
        self.folder = root / "inputs"
        self.folder.mkdir()
        self.secret = "CANARY-" + os.urandom(8).hex()
        self.secret_path = root / "secret.txt"
        self.secret_path.write_text(self.secret + "\n")
        self.trap = root / "executed.txt"

    @property
    def payload(self) -> str:
        """A Python expression that creates the trap file when evaluated."""
        return f"open({str(self.trap)!r}, 'w').write('ran')"

    def assert_untouched(self, *texts: str) -> None:
        assert not self.trap.exists(), "hostile input ran code: the canary file was created"
        for text in texts:
            assert self.secret not in text, "a file outside the input's folder was read into an output"
        for path in self.folder.rglob("*"):
            if path.is_file() and not path.is_symlink():
                assert self.secret.encode() not in path.read_bytes(), f"the canary secret was written to {path.name}"
