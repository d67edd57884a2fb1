"""Structure-aware mutation of answer sheets and grading folders for tools/fuzz.py (`--surface sheets`,
`--surface folders`).

Sheet seeds: the hostile sheets (tests/hostile/sheets), the sheets of tests/hostile/folders and blank
`archcalc template` sheets of lenet5 (CSV, TSV, markdown, several columns). A sheet mutant changes one to
four things by the sheet's own structure — a cell (numbers of every spelling, formulas, markup,
payloads, paths to the canary secret), the student line, the `archcalc sheet:` line's fields, rows and
columns added, repeated or dropped, the delimiter, the encoding (byte-order marks, CRLF, NUL, Latin-1,
UTF-16) — or, for a JSON sheet, its tree.

A folder mutant is a JSON manifest (so that it is stored, replayed and minimised as any input is): one
to four mutated sheets under odd names (long, hidden, control characters, names of the outputs) and up
to three odd entries — links to the canary secret (relative and absolute), to /etc/passwd, to nothing,
to themselves and to a sheet inside; subfolders; named pipes — and whether the feedback is written into
the folder itself. `materialise` makes the folder.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

from fuzz_hostile import PAYLOADS, text
from fuzz_keras import mutate_tree

ROOT = Path(__file__).resolve().parent.parent
ARCH = "lenet5"
TEMPLATES = [("output,params", "csv"), ("params", "tsv"), ("output,params", "markdown"), ("params,ops", "csv"),
             ("params,memory", "markdown")]
CELLS = ["156", "-156", "0", "1e400", "9" * 5000, "1,234", "1 234", "156.0", "0x9c", "1.5e2", "156k", "2.4M",
         "6x28x28", "(6, 28, 28)", "28×28×6", "∞", "NaN", "-0", "", "=2*78", "+156", "@SUM(A1)", "-2+3",
         "=HYPERLINK(\"http://x\")", "DDE(\"cmd\";\"/c calc\";\"x\")", "<script>alert(1)</script>", "[x](javascript:1)",
         "\\x1b[2J", "\x1b[2J", "\x07", "\u202e951", "１５６", "156 params", "TOTAL"]
HEADERS = ["layer", "params", "output", "output shape", "MACs", "FLOPs", "memory (bytes)", "params (without biases)",
           "zz", ""]
LINE_FIELDS = {"architecture": ["lenet5", "alexnet", "../secret.txt", "x" * 300, ""],
               "exercise": ["lenet-like", "x", "../secret.txt"], "seed": ["1", "²", "9" * 5000, "-1", "1e9"],
               "input": ["1x32x32", "0x0x0", "1x99999999x99999999", "3x224", "x"],
               "columns": ["output,params", "params", "zz", ",,,", "params," * 50],
               "total": ["yes", "no", "maybe"], "bias": ["yes", "no", "x"], "ops": ["macs", "flops", "x"],
               "memory": ["elements", "bytes", "x"], "units": ["si", "iec", "x"], "shapes": ["auto", "chw", "x"],
               "batch": ["1", "0", "-1", "10**9"], "dtype": ["float32", "int4", "x"]}
NAMES = ["ada.csv", "bob.md", "key.md", "grades.csv", "feedback", "x" * 251 + ".csv", "-rf.csv", "=cmd.csv",
         ".hidden.csv", "Ünï.md", "a b.tsv", "sheet.json", "notes.txt", "Bob.md", "c.CSV", "..csv", "\x1b[31m.csv",
         "a\nb.csv", "secret.txt", "roster.csv", "key.md.md", "-"]
ODD = ["secret-link", "absolute-secret-link", "passwd-link", "dangling-link", "self-link", "inner-link", "folder",
       "folder-with-sheet", "fifo", "folder-link"]


def seeds() -> list[bytes]:
    import archcalc

    out = [p.read_bytes() for p in sorted((ROOT / "tests" / "hostile" / "sheets").iterdir())
           if p.is_file() and p.name not in ("README.md", "manifest.json")]
    out += [p.read_bytes() for p in sorted((ROOT / "tests" / "hostile" / "folders").rglob("*"))
            if p.is_file() and not p.is_symlink() and p.suffix in (".csv", ".md")]
    out += [archcalc.template(ARCH, columns, format=fmt).encode() for columns, fmt in TEMPLATES]
    return out


def vocabulary(seed_list: list[bytes]):
    return (["student", "rows", "layer", "params", "output", "macs", "flops", "memory", "zz"],
            ["C1", "S2", "C3", "S4", "C5", "F6", "F7", "TOTAL", "input"], [])


def _delimiter(line: str) -> str:
    for delimiter in ("|", "\t", ";", ","):
        if delimiter in line:
            return delimiter
    return ","


def _cell(rng: random.Random) -> str:
    return rng.choice(CELLS) if rng.random() < 0.7 else text(rng).replace("\n", " ")


def _sheet_line(rng: random.Random) -> str:
    keys = rng.sample(sorted(LINE_FIELDS), rng.randint(1, 5))
    return "# archcalc sheet: " + " ".join(f"{k}={rng.choice(LINE_FIELDS[k])}" for k in keys)


def _mutate_lines(lines: list[str], rng: random.Random) -> None:
    index = rng.randrange(len(lines)) if lines else 0
    action = rng.randrange(9)
    if action <= 2 and lines:                                     # a cell
        line = lines[index]
        delimiter = _delimiter(line)
        cells = line.split(delimiter)
        cells[rng.randrange(len(cells))] = (" " if delimiter == "|" else "") + _cell(rng)
        lines[index] = delimiter.join(cells)
    elif action == 3:                                             # the student line
        lines.insert(0, rng.choice(["# student: ", "student: ", "# Student:"]) + text(rng).replace("\n", " "))
    elif action == 4:
        lines.insert(rng.randint(0, len(lines)), _sheet_line(rng))
    elif action == 5 and lines:                                   # a column more on every row
        delimiter = _delimiter(lines[index])
        extra = rng.choice(HEADERS) if rng.random() < 0.5 else _cell(rng)
        for n, line in enumerate(lines):
            if delimiter in line:
                lines[n] = line + delimiter + (extra if n == index else _cell(rng))
    elif action == 6 and lines:
        lines[index:index] = [lines[index]] * rng.choice([1, 2, 40])
    elif action == 7 and lines:
        del lines[index]
    elif lines:
        delimiter = _delimiter(lines[index])
        other = rng.choice([",", "\t", ";", "|", " "])
        lines[:] = [line.replace(delimiter, other) for line in lines]


def _encode(text_: str, rng: random.Random) -> bytes:
    roll = rng.random()
    if roll < 0.85:
        return text_.encode("utf-8", "surrogatepass")
    if roll < 0.9:
        return "\ufeff".encode() + text_.replace("\n", "\r\n").encode("utf-8", "surrogatepass")
    if roll < 0.94:
        return text_.encode("latin-1", "replace")
    if roll < 0.97:
        return text_.encode("utf-16", "surrogatepass")
    data = text_.encode("utf-8", "surrogatepass")
    cut = rng.randrange(len(data) + 1)
    return data[:cut] + b"\x00" + data[cut:]


def mutate(data: bytes, rng: random.Random, vocabulary) -> bytes:
    """A mutant of the answer sheet `data`."""
    text_ = data.decode("utf-8", "surrogateescape")
    if text_.lstrip()[:1] in ("{", "[") and rng.random() < 0.8:
        try:
            tree = json.loads(text_)
        except (ValueError, RecursionError):
            tree = None
        if isinstance(tree, dict | list):
            mutate_tree(tree, rng, vocabulary)
            return json.dumps(tree, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")
    lines = text_.split("\n")
    for _ in range(rng.randint(1, 4)):
        _mutate_lines(lines, rng)
    return _encode("\n".join(lines), rng)


def suffix(data: bytes) -> str:
    """The sheet's file suffix, from its content: JSON, markdown, TSV, CSV or text."""
    head = data.lstrip()[:1]
    if head in (b"{", b"["):
        return ".json"
    lines = data.split(b"\n")
    if any(line.lstrip().startswith(b"|") for line in lines):
        return ".md"
    if any(b"\t" in line for line in lines):
        return ".tsv"
    return ".csv" if any(b"," in line or b";" in line for line in lines) else ".txt"


# ---- folders ---------------------------------------------------------------------------------

def mutate_folder(sheet_seeds: list[bytes], weights: list[float], rng: random.Random, vocabulary) -> bytes:
    """A grading folder as a manifest: sheets (mutated seeds) and odd entries."""
    entries = []
    for _ in range(rng.randint(1, 4)):
        sheet = rng.choices(sheet_seeds, weights)[0]
        sheet = mutate(sheet, rng, vocabulary) if rng.random() < 0.8 else sheet
        name = rng.choice(NAMES) if rng.random() < 0.4 else f"s{len(entries)}{suffix(sheet)}"
        entries.append(["file", name, sheet.decode("utf-8", "surrogateescape")])
    for _ in range(rng.choice([0, 1, 1, 2, 3])):
        entries.append([rng.choice(ODD), rng.choice(NAMES) if rng.random() < 0.3 else f"odd{len(entries)}.csv"])
    rng.shuffle(entries)
    return json.dumps({"entries": entries, "feedback_inside": rng.random() < 0.2}, indent=0).encode()


def materialise(data: bytes, folder: Path, secret: Path) -> tuple[dict, dict[Path, bytes]]:
    """Make the folder `data` describes (an unreadable manifest: an empty folder); return the manifest
    and the bytes of each sheet written (which grading must leave as they are)."""
    folder.mkdir()
    try:
        manifest = json.loads(data)
        entries = manifest["entries"]
    except (ValueError, KeyError, TypeError, RecursionError):
        return {}, {}
    sheets = {}
    targets = {"secret-link": Path("..") / ".." / secret.name, "absolute-secret-link": secret,
               "passwd-link": Path("/etc/passwd"), "dangling-link": Path("gone.csv"), "folder-link": Path(".."),
               "inner-link": Path("s0.csv")}
    for entry in entries if isinstance(entries, list) else ():
        try:
            kind, name = entry[0], entry[1]
            path = folder / name
            if os.path.lexists(path):
                continue                    # a name used twice: the first entry stays
            if kind == "file":
                data = entry[2].encode("utf-8", "surrogateescape")
                path.write_bytes(data)
                sheets[path] = data
            elif kind in targets:
                path.symlink_to(targets[kind])
            elif kind == "self-link":
                path.symlink_to(name)
            elif kind in ("folder", "folder-with-sheet"):
                path.mkdir()
                if kind == "folder-with-sheet":
                    (path / "inner.csv").write_text(f"# student: {PAYLOADS[0]}\nlayer,params\nC1,156\n")
            elif kind == "fifo":
                os.mkfifo(path)
        except (OSError, ValueError, TypeError, IndexError, UnicodeError):
            continue                        # a name the file system refuses, a name used twice
    return manifest, sheets

