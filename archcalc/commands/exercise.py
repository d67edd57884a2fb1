"""`archcalc exercise`: homework drawn from a seed, one sheet per student, and the key."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import ArchcalcError

_EXTENSIONS = {"markdown": "md", "csv": "csv", "latex": "tex"}


def register(main: click.Group) -> None:
    main.add_command(exercise)


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
    """Generate the homework KIND (lenet-like; transfer: frozen layers and a training step; unet-like: the
    sizes of a small U-Net; yolo-output: a YOLO v1 head's output): a network drawn from --seed and questions
    on it, or its key.

    `archcalc exercise lenet-like --students roster.csv -o hw/` writes a sheet per student, each with its own
    numbers, and hw/key.md with every student's answers; `archcalc check lenet-like hw/sheets…` grades them.
    """
    from ..grading.exercise import exercise as make
    from ..grading.exercise import student_seed
    from ..grading.exercise_render import render_key
    from ..grading.gradebook import plural
    from ..grading.outputs import file_stem, identities, identity
    from ..grading.roster import read_roster

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
    exercises = [make(kind, s.seed if s.seed is not None else student_seed(seed, s.name), student=s.name)
                 for s in read_roster(roster)]
    extension, used, keep = _EXTENSIONS[fmt], {"key"}, identities([roster])
    if identity(folder / f"key.{extension}") in keep:
        raise ArchcalcError("the key would overwrite the roster: write the exercise to another folder",
                            file=str(folder / f"key.{extension}"))
    for ex in exercises:
        stem = file_stem(ex.student or "", "student")
        while stem.casefold() in used or identity(folder / f"{stem}.{extension}") in keep:
            stem += "_"
        used.add(stem.casefold())
        _write(folder / f"{stem}.{extension}", ex.sheet(fmt))
    _write(folder / f"key.{extension}", render_key(exercises, fmt))
    click.echo(f"{plural(len(exercises), 'sheet')} and key.{extension} written to {folder}")


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ArchcalcError(f"cannot write: {exc.strerror or exc}", file=str(path)) from None
