"""`archcalc exercise`: homework drawn from a seed, one sheet per student, and the key."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import click

from ..errors import ArchcalcError

_EXTENSIONS = {"markdown": "md", "csv": "csv", "latex": "tex"}


def register(main: click.Group) -> None:
    main.add_command(exercise)


def read_roster(path: str) -> list[tuple[str, int | None]]:
    """(student, seed or None) per row of a roster CSV: its `student` or `name` column (else the first) and an
    optional `seed` column."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as stream:
            rows = [row for row in csv.reader(stream) if any(cell.strip() for cell in row)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ArchcalcError(f"cannot read the roster: {getattr(exc, 'strerror', None) or exc}", file=path) from None
    header = [cell.strip().lower() for cell in rows[0]] if rows else []
    name = next((header.index(k) for k in ("student", "name") if k in header), 0)
    seed = header.index("seed") if "seed" in header else None
    students = []
    for number, row in enumerate(rows[1:], 2):
        if name >= len(row) or not row[name].strip():
            continue
        text = row[seed].strip() if seed is not None and seed < len(row) else ""
        if text and not text.isdigit():
            raise ArchcalcError(f"line {number}: the seed {text!r} is not a non-negative integer", file=path)
        students.append((row[name].strip(), int(text) if text else None))
    if not students:
        raise ArchcalcError("the roster names no student (a header row, then one student a row)", file=path)
    return students


@click.command()
@click.argument("kind")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="The exercise's seed; with --students, the class seed each student's own seed comes from.")
@click.option("--students", "roster", type=click.Path(dir_okay=False),
              help="Roster CSV (a student or name column, optional seed column): one sheet per student.")
@click.option("--format", "fmt", type=click.Choice(list(_EXTENSIONS)), default="markdown", show_default=True,
              help="markdown and csv sheets are graded back by `archcalc check`; latex is for printing.")
@click.option("--key", is_flag=True, help="Write the key (answers and their arithmetic) instead of the sheet.")
@click.option("-o", "--output", "output_path", type=click.Path(),
              help="A file (one exercise) or, with --students, the folder for the sheets and key.")
def exercise(kind: str, seed: int, roster: str | None, fmt: str, key: bool, output_path: str | None):
    """Generate the homework KIND (lenet-like): a network drawn from --seed and questions on it, or its key.

    `archcalc exercise lenet-like --students roster.csv -o hw/` writes a sheet per student, each with its own
    numbers, and hw/key.md with every student's answers; `archcalc check lenet-like hw/sheets…` grades them.
    """
    from ..grading.exercise import exercise as make
    from ..grading.exercise import student_seed
    from ..grading.exercise_render import render_key

    if roster is None:
        ex = make(kind, seed)
        text = ex.key(fmt) if key else ex.sheet(fmt)
        if output_path:
            _write(Path(output_path), text)
        else:
            click.echo(text, nl=False)
        return
    if not output_path:
        raise click.UsageError("--students writes one file per student: give the folder with -o")
    folder = Path(output_path)
    exercises = [make(kind, own if own is not None else student_seed(seed, name), student=name)
                 for name, own in read_roster(roster)]
    extension, used = _EXTENSIONS[fmt], set()
    for ex in exercises:
        stem = re.sub(r"[^\w.-]+", "_", ex.student or "").strip("._") or "student"
        while stem in used or stem == "key":
            stem += "_"
        used.add(stem)
        _write(folder / f"{stem}.{extension}", ex.sheet(fmt))
    _write(folder / f"key.{extension}", render_key(exercises, fmt))
    click.echo(f"{len(exercises)} sheets and key.{extension} written to {folder}")


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ArchcalcError(f"cannot write: {exc.strerror or exc}", file=str(path)) from None
