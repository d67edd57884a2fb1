"""What the generic runner of tests/hostile/ cannot check about `archcalc import`: that text from a
hostile file changes nothing in the file written, that names become archcalc names, that no file an
ONNX model points to is ever opened, and that the limits hold before the work."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest
import yaml

import archcalc
from archcalc.errors import SpecError
from archcalc.interop.yaml_writer import dump, loadable
from archcalc.layers.foreign import pair, whole

HOSTILE = Path(__file__).parent / "hostile"


def _written(source, **options) -> str:
    """The text `archcalc import SOURCE` writes."""
    return loadable(dump(archcalc.import_model(source, **options)), str(source))


def _names(text: str) -> list[str]:
    return [layer.name for layer in archcalc.analyze(archcalc.load("imported.yaml", text=text)).layers[1:]]


@pytest.mark.parametrize(("source", "layer", "shape"), [("onnx/producer-injection.onnx", "conv", (4, 6, 6)),
                                                        ("keras/version-injection.json", "flat", (144,))])
def test_text_of_the_source_adds_no_line_to_the_file(source, layer, shape):
    if source.startswith("onnx"):
        pytest.importorskip("onnx")
    text = _written(HOSTILE / source)
    lines = text.splitlines()
    assert lines[0].startswith("# Imported by archcalc") and lines[1].startswith("# Edit freely")
    assert "defaults" not in yaml.safe_load(text)
    # a 3×3 convolution of the 3×8×8 input, stride 1 (2 if the injected defaults had been read): 4×6×6
    report = archcalc.analyze(archcalc.load("imported.yaml", text=text))
    assert next(r for r in report.layers if r.name == layer).output_shape == shape


def _hostile_names(source, **options) -> list[str]:
    names = _names(_written(source, **options))
    for name in names:
        for part in name.split("/"):
            assert re.fullmatch(r"[\w-]+", part) and part != "input", name
    return names


def test_onnx_node_names_become_archcalc_names():
    pytest.importorskip("onnx")
    names = _hostile_names(HOSTILE / "onnx" / "name-traversal.onnx")
    assert names[:2] == ["etc", "input_"]          # /../../etc/Conv, /..//input/Relu


def test_keras_layer_names_become_archcalc_names():
    text = _written(HOSTILE / "keras" / "layer-names.json")
    assert yaml.safe_load(text)["name"] == "x\ny: z"        # the model's name, quoted
    assert _hostile_names(HOSTILE / "keras" / "layer-names.json")[:2] == ["______etc_passwd", "input_"]


def _builder(name: str, folder: Path, monkeypatch) -> str:
    """`name:build`, its module (a folder of tests/hostile/torch/) copied to `folder`, on the path."""
    pytest.importorskip("torch")
    shutil.copytree(HOSTILE / "torch" / name, folder / name)
    monkeypatch.syspath_prepend(str(folder))
    return f"{name}:build"


def test_pytorch_module_names_become_archcalc_names(tmp_path, monkeypatch):
    source = _builder("hostile_names", tmp_path, monkeypatch)
    names = _hostile_names(source, input=(3, 8, 8))
    assert "true/_/etc/passwd" in names and "true/input_" in names     # `/`: a path, as in torch.fx


EXTERNAL = sorted(p.name for p in (HOSTILE / "onnx").glob("external-*.onnx"))
# A weight stored elsewhere is counted by its declared shape (as torch.onnx.export writes weights by
# default); every other tensor stored elsewhere is refused. Neither opens the file.
COUNTED_BY_SHAPE = {"external-weight.onnx"}


@pytest.mark.parametrize("name", EXTERNAL)
def test_no_file_an_onnx_model_points_to_is_opened(name, tmp_path, monkeypatch):
    pytest.importorskip("onnx")
    (tmp_path / "secret.txt").write_bytes(b"\x00" * 64)
    folder = tmp_path / "inputs"
    folder.mkdir()
    (folder / name).write_bytes((HOSTILE / "onnx" / name).read_bytes())
    monkeypatch.chdir(folder)               # `../secret.txt` is there, relative to the folder and to the model
    opened: list[str] = []
    recording = [True]

    def audit(event, args):
        if recording[0] and event == "open" and isinstance(args[0], (str, bytes, Path)):
            opened.append(str(args[0]))

    sys.addaudithook(audit)
    try:
        if name in COUNTED_BY_SHAPE:
            archcalc.import_model(name)
        else:
            with pytest.raises(SpecError, match="another file"):
                archcalc.import_model(name)
    finally:
        recording[0] = False
    assert not [p for p in opened if p.endswith(("secret.txt", "passwd"))], opened


def test_a_tensor_outside_the_file_is_never_read_even_past_the_first_check():
    onnx = pytest.importorskip("onnx")
    from archcalc.interop import import_onnx, importer

    model = onnx.load_from_string((HOSTILE / "onnx" / "external-pads.onnx").read_bytes())
    with pytest.raises(importer.Refused, match="another file"):
        import_onnx._inline(model.graph.initializer[0])


def test_whole_numbers_only():
    assert pair([3, 3]) == 3 and pair((1, 2)) == [1, 2] and whole(4.0) == 4
    for value in (1.5, float("inf"), float("nan"), True, "3", None, [3]):
        with pytest.raises(ValueError, match="not a whole number"):
            whole(value)


def test_the_input_size_is_checked_before_the_work(tmp_path):
    pytest.importorskip("onnx")
    model = HOSTILE / "onnx" / "producer-injection.onnx"
    for size in [(3, 8), (0, 8, 8), (3, 2**21, 8), (3, 8.5, 8)]:
        with pytest.raises(SpecError):
            archcalc.import_model(model, input=size)
    with pytest.raises(SpecError, match="input size is its own"):
        archcalc.import_model(HOSTILE / "keras" / "version-injection.json", input=(3, 8, 8))


def test_a_pytorch_import_for_an_input_its_layers_refuse_writes_nothing():
    torch = pytest.importorskip("torch")
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU())
    mapping = archcalc.import_model(net, input=(3, 224), name="net")        # `--input 3x224`
    with pytest.raises(SpecError, match="does not load back: .*conv needs a"):
        loadable(dump(mapping), "net")


def test_a_network_past_the_format_limits_is_refused_before_it_is_read(tmp_path):
    import gzip

    from archcalc.spec.expand import MAX_NODES

    relu = '{"class_name": "ReLU", "config": {"name": "r"}}'
    text = ('{"class_name": "Sequential", "config": {"layers": [{"class_name": "InputLayer", "config": '
            '{"name": "in", "batch_shape": [null, 8, 8, 3]}}, ' + ", ".join([relu] * MAX_NODES) + "]}}")
    path = tmp_path / "many.json.gz"
    path.write_bytes(gzip.compress(text.encode()))
    with pytest.raises(SpecError, match="layers or more"):     # without the check: "two layers named 'r'"
        archcalc.import_model(path)


def test_a_written_file_too_large_for_the_format_is_refused():
    from archcalc.spec.loader import MAX_FILE_BYTES

    text = "# " + "x" * MAX_FILE_BYTES + "\nname: n\ninput: [1]\nlayers:\n  - {type: relu}\n"
    with pytest.raises(SpecError, match="larger than an architecture file may be"):
        loadable(text, "big.onnx")


def test_a_builder_runs_in_its_own_process_with_the_in_process_result(monkeypatch):
    """The separate build process gives the mapping the same code gives in this process."""
    pytest.importorskip("torch")
    from tests.test_import import Functional

    here = archcalc.import_model(Functional(), input=(3, 8, 8), name="functional")
    there = archcalc.import_model("tests.test_import:Functional", input=(3, 8, 8), name="functional")
    assert there.pop("source") == "tests.test_import:Functional"
    here.pop("source")
    assert dump({**there, "source": "s"}) == dump({**here, "source": "s"})


def test_a_builder_that_hangs_is_stopped(tmp_path, monkeypatch):
    source = _builder("hangs", tmp_path, monkeypatch)
    with pytest.raises(SpecError, match=r"took longer than 0\.5 s") as info:
        archcalc.import_model(source, timeout=0.5)
    assert info.value.file == source
