"""`archcalc import`: a PyTorch, ONNX or Keras model as an architecture file."""

from __future__ import annotations

import click

from .options import parse_shape


def register(main: click.Group) -> None:
    main.add_command(import_command)


@click.command("import")
@click.argument("source")
@click.argument("args", nargs=-1)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the YAML here (default: stdout).")
@click.option("--input", "input_shape", metavar="CxHxW",
              help="Input per sample: PyTorch (default 3x224x224), ONNX (default: the file's), "
                   "Ultralytics (default 3x640x640).")
@click.option("--name", help="The architecture's name (default: from the source).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None, metavar="SECONDS",
              help="PyTorch: stop loading, building and tracing the model after this long (default: 120).")
def import_command(source: str, args: tuple[str, ...], output: str | None, input_shape: str | None,
                   name: str | None, timeout: float | None) -> None:
    """Import SOURCE: an .onnx file, a Keras .keras archive or model.to_json() file, an Ultralytics
    YOLO configuration (.yaml: yolov8n.yaml is yolov8.yaml at scale n), or a PyTorch
    package.module:callable called with ARGS (`torchvision.models:resnet50`,
    `timm:create_model resnet26d`). A PyTorch source is Python code that runs: import only code you
    trust. The file written loads, validates and analyses as it is."""
    from ..interop import import_model
    from ..interop.yaml_writer import dump, loadable

    text = loadable(dump(import_model(source, input=parse_shape(input_shape), name=name, args=args,
                                      timeout=timeout)), source)
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        click.echo(text, nl=False)
