"""The kept corpus of hostile files (tests/corpus/): each is analysed or refused in one line naming
the file, within 2 s and 200 MB; never a traceback, a hang or a memory blow-up.

Each file is a regression of an input that once crashed, hung or blew up (found by tools/fuzz.py or
by hand) and starts with a comment saying what it holds (JSON files cannot; their names do). A
file named `*-refused.*` must be refused (it was once silently accepted); any other may also be
analysed. Every file runs through load + analysis +
JSON in a forked child (so that a hang or a blow-up fails its test instead of stopping the suite);
a fixed sample also runs through the CLI. Time is CPU time (so that a busy machine does not fail
the test) and the bounds are generous: a refusal takes milliseconds in process, a few tenths of a
second through the CLI.
"""

from __future__ import annotations

import gc
import multiprocessing
import re
import resource
import subprocess
import sys
import time
import traceback
from pathlib import Path

import pytest

import archcalc
from archcalc.errors import ArchcalcError
from archcalc.report import render, to_table
from archcalc.report.formats.json_ import analysis as analysis_json

CORPUS = sorted((Path(__file__).parent / "corpus").iterdir())
LIMIT_S = 2.0
CLI_LIMIT_S = 4.0  # LIMIT_S plus the start of a Python process
KILL_S = 10
LIMIT_MB = 200
TABLE_LAYERS = 10_000  # a full table of a bigger (valid) network is legitimate work, not checked here
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))


def _reset_peak() -> int | None:
    """Reset the peak resident size; the resident size now (kB), or None where Linux cannot."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return _status_kb("VmRSS")
    except OSError:
        return None


def _analyse(path: Path, connection) -> None:
    """In the child: load + analysis + JSON, under a cap on address space; report how it went."""
    gc.freeze()  # the collector leaves the test process's inherited heap alone: only this file's work is timed
    rss = _reset_peak()
    if rss is not None:  # contain a blow-up well past the bound, so it fails here and not the machine
        cap = (_status_kb("VmSize") + 4 * LIMIT_MB * 1024) * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, resource.getrlimit(resource.RLIMIT_AS)[1]))
    start = time.process_time()
    try:
        report = archcalc.analyze(archcalc.load(str(path)))
        for _chunk in analysis_json(report):  # what `archcalc table FILE --format json` prints
            pass
        if len(report.layers) <= TABLE_LAYERS:
            render(to_table(report, "full"), "json")
        outcome = ("analysed", "")
    except ArchcalcError as error:
        outcome = ("refused", str(error))
    except BaseException:  # noqa: BLE001 - reported to the parent, which fails the test
        outcome = ("crashed", traceback.format_exc(limit=-8))
    seconds = time.process_time() - start
    grown = (_status_kb("VmHWM") - rss) / 1024 if rss is not None else 0.0
    connection.send((*outcome, seconds, grown))


def _message_problems(message: str, name: str) -> list[str]:
    problems = []
    if name not in message:
        problems.append("the message does not name the file")
    if CONTROL.search(message):
        problems.append("the message is not one clean line")
    return problems


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_in_process(path):
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_analyse, args=(path, sender))
    child.start()
    ready = receiver.poll(KILL_S)
    if not ready:
        child.kill()
    child.join()
    assert ready, f"still running after {KILL_S} s"
    try:
        outcome, text, seconds, grown = receiver.recv()
    except EOFError:
        pytest.fail(f"the child died (exit code {child.exitcode})")
    assert outcome != "crashed", text
    problems = _message_problems(text, path.name) if outcome == "refused" else []
    if outcome == "analysed" and "-refused." in path.name:
        problems.append("it must be refused")
    if seconds > LIMIT_S:
        problems.append(f"took {seconds:.1f} s")
    if grown > LIMIT_MB:
        problems.append(f"grew by {grown:.0f} MB")
    assert not problems, f"{outcome} ({text!r}): {'; '.join(problems)}"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@pytest.mark.parametrize("path", CORPUS[::3], ids=[p.name for p in CORPUS[::3]])
def test_cli(path):
    start = _children_cpu()
    try:
        result = subprocess.run([sys.executable, "-m", "archcalc", "table", str(path), "--format", "json"],
                                capture_output=True, timeout=KILL_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running after {KILL_S} s")
    seconds = _children_cpu() - start
    stderr = result.stderr.decode("utf-8", errors="replace").strip()
    assert result.returncode in (0, 2), stderr[-3000:]
    problems = _message_problems(stderr, path.name) if result.returncode == 2 else []
    if result.returncode == 0 and "-refused." in path.name:
        problems.append("it must be refused")
    if seconds > CLI_LIMIT_S:
        problems.append(f"took {seconds:.1f} s")
    assert not problems, f"{stderr!r}: {'; '.join(problems)}"
