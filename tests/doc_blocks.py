"""The fenced code blocks of a markdown page, and running them in order in one folder, as a reader would.

A block is run by its language: `bash`/`sh` blocks as shell commands (each must exit 0), `console` blocks
command by command (the lines after `$ `, each followed by exactly what it prints), `python` blocks in
one namespace per page. HTML comments on the lines right above a block say more:

    <!-- file: sheet.csv -->           the block is a file the later blocks use: it is written there
    <!-- then: archcalc validate x -->  a command run after the block (a file block's check)
    <!-- output of: archcalc list -->  the block is what this command prints (stdout and stderr): compared
    <!-- exit status: 1 -->            the block's commands may exit with this status instead of 0
    <!-- needs: torch, chromium -->    skipped where a module or program named is missing
    <!-- not run: why -->              not run, for the reason given

Any other block fails the test. Commands run in a fresh folder holding a copy of the repository's
`examples/`, with the test's Python first on PATH and a cache folder of their own.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[\w+-]*)[ \t]*$")
COMMENT = re.compile(r"^\s*<!--(.*)-->\s*$")
MARK = re.compile(r"^\s*(not run|file|then|output of|needs|exit status)\s*:\s*(.*?)\s*$")
PROGRAMS = {"chromium": ("chromium", "chromium-browser"), "soffice": ("soffice", "libreoffice")}


@dataclass
class Block:
    page: str
    line: int
    lang: str
    text: str
    marks: dict[str, str] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def blocks(path: Path) -> list[Block]:
    """Every fenced block of a markdown page, with the marks of the comment lines right above it."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found, index = [], 0
    while index < len(lines):
        match = FENCE.match(lines[index])
        if not match:
            index += 1
            continue
        end = index + 1
        while end < len(lines) and not re.fullmatch(r"\s*```\s*", lines[end]):
            end += 1
        indent = len(match["indent"])
        body = [line[indent:] if line[:indent].strip() == "" else line for line in lines[index + 1:end]]
        block = Block(path.name, index + 1, match["lang"], "\n".join(body) + "\n")
        above = index - 1
        while above >= 0 and (comment := COMMENT.match(lines[above])):
            mark = MARK.match(comment.group(1))
            if mark is None:
                raise AssertionError(f"{path.name}:{above + 1}: a comment right above a block that is no mark: "
                                     f"{lines[above].strip()}")
            block.marks[mark.group(1)] = mark.group(2)
            above -= 1
        found.append(block)
        index = end + 1
    return found


def missing(needs: str) -> list[str]:
    """The modules and programs of a `needs:` mark that this machine lacks."""
    absent = []
    for name in (n.strip() for n in needs.split(",") if n.strip()):
        if name in PROGRAMS:
            if not any(shutil.which(program) for program in PROGRAMS[name]):
                absent.append(name)
        elif importlib.util.find_spec(name) is None:
            absent.append(name)
    return absent


def _lines(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


class Page:
    """One page's blocks run in order in `folder`."""

    def __init__(self, folder: Path, cache: Path):
        self.folder = folder
        shutil.copytree(ROOT / "examples", folder / "examples")
        self.env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
                        XDG_CACHE_HOME=str(cache), COLUMNS="200", PYTHONHASHSEED="0")
        self.env.pop("FORCE_COLOR", None)
        self.namespace: dict = {"__name__": "__doc_block__"}
        self.skipped: list[str] = []

    def run(self, block: Block) -> None:
        marks = block.marks
        if "not run" in marks:
            assert marks["not run"], f"{block.where}: 'not run' needs a reason"
            return
        absent = missing(marks.get("needs", ""))
        if absent:
            self.skipped.append(f"{block.where} (needs {', '.join(absent)})")
            return
        if "file" in marks:
            path = self.folder / marks["file"]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(block.text, encoding="utf-8")
        elif "output of" in marks:
            self.compare(block, marks["output of"], block.text)
        elif block.lang in ("bash", "sh"):
            self.shell(block)
        elif block.lang == "console":
            self.console(block)
        elif block.lang == "python":
            self.python(block)
        else:
            raise AssertionError(f"{block.where}: a ```{block.lang} block that is neither run nor marked "
                                 "(<!-- not run: why -->, <!-- file: NAME -->, <!-- output of: COMMAND -->)")
        if "then" in marks:
            self.command(block, marks["then"])

    def command(self, block: Block, command: str) -> str:
        done = subprocess.run(["bash", "-c", command], cwd=self.folder, env=self.env, capture_output=True,
                              text=True, timeout=300)
        allowed = {0, int(block.marks.get("exit status", 0))}
        assert done.returncode in allowed and "Traceback (most recent call last)" not in done.stderr, \
            f"{block.where}: `{command}` exited {done.returncode}:\n{done.stdout[-1500:]}\n{done.stderr[-3000:]}"
        return done.stdout + done.stderr

    def compare(self, block: Block, command: str, expected: str) -> None:
        printed = self.command(block, command)
        assert _lines(printed) == _lines(expected), \
            f"{block.where}: `{command}` printed\n{printed}\nwhere the page shows\n{expected}"

    def shell(self, block: Block) -> None:
        script = re.sub(r"\\\n", " ", block.text)
        for line in script.splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                self.command(block, line)

    def console(self, block: Block) -> None:
        parts = re.split(r"^\$ (.*)\n?", block.text, flags=re.M)
        assert not parts[0].strip(), f"{block.where}: a console block starts with a `$ ` command"
        for command, output in zip(parts[1::2], parts[2::2]):
            self.compare(block, command, output)

    def python(self, block: Block) -> None:
        previous = Path.cwd()
        os.chdir(self.folder)
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(block.text, block.where, "exec"), self.namespace)
        finally:
            os.chdir(previous)
