"""The command line: one click group; each feature's commands live in `archcalc/commands/`."""

from __future__ import annotations

import os
from importlib import import_module

import click

from .errors import ArchcalcError

COMMAND_MODULES = ["core", "report", "check", "execute", "exercise", "pictures", "export", "importing", "sweep"]


class _Group(click.Group):
    """Turns every ArchcalcError into one line on stderr and exit status 2 (`--debug`: traceback), and
    a bad command line into click's one `Error: …` line, without the usage block."""

    def main(self, *args, **kwargs):
        # archcalc's own records need no pydantic plugin: the command skips the search for them through
        # every installed package's metadata (pydantic's documented PYDANTIC_DISABLE_PLUGINS), unless set
        os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
        return super().main(*args, **kwargs)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            exc.ctx = None
            raise
        except ArchcalcError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"archcalc: error: {exc}", err=True)
            ctx.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show the Python traceback of an error.")
@click.version_option(package_name="archcalc")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Shapes, parameters, MACs, FLOPs, memory and receptive fields of CNN architectures."""
    ctx.ensure_object(dict)["debug"] = debug


for _module in COMMAND_MODULES:
    import_module(f"{__package__}.commands.{_module}").register(main)
