"""The mistakes students make in their first architecture file, each answered with one line that
names the file and the line of the entry (as a compiler does) and says what to do."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from archcalc.cli import main

LENET = """\
name: lenet
input: [1, 32, 32]
layers:
  - name: conv1
    type: conv
    out_channels: 6
    kernel_size: 5
  - name: pool1
    type: maxpool
    kernel_size: 2
  - name: conv2
    type: conv
    out_channels: 16
    kernel_size: 5
  - name: pool2
    type: maxpool
    kernel_size: 2
  - name: flat
    type: flatten
  - name: fc1
    type: linear
    out_features: 120
"""


def error_of(tmp_path, text: str, *args: str) -> str:
    path = tmp_path / "lenet.yaml"
    path.write_text(text)
    result = CliRunner().invoke(main, ["table", str(path), *args])
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1, result.stderr  # one line
    return result.stderr.strip()


def edit(old: str, new: str) -> str:
    assert old in LENET
    return LENET.replace(old, new, 1)


MISTAKES = [
    # (id, file text, the line the message names, words of the hint): the line of the key a message
    # names, else of the layer's entry
    ("typo-in-a-key", edit("    kernel_size: 5\n  - name: pool2", "    kernal_size: 5\n  - name: pool2"), "14",
     ["conv2", "kernal_size", "did you mean 'kernel_size'"]),
    ("typo-in-a-type", edit("type: maxpool\n    kernel_size: 2\n  - name: conv2", "type: maxpol\n    kernel_size: 2\n"
                            "  - name: conv2"), "8", ["pool1", "did you mean 'maxpool'"]),
    ("wrong-from", edit("    out_features: 120\n", "    out_features: 120\n    from: flatten\n"), "20",
     ["fc1", "from: 'flatten' names no layer", "did you mean 'flat'"]),
    ("add-mismatch", LENET + "  - name: res\n    type: add\n    from: [conv2, pool1]\n", "23",
     ["res: cannot add conv2's 16×10×10 and pool1's 6×14×14 (C×H×W)"]),
    ("non-integer-padding", edit("    kernel_size: 5\n  - name: pool1", "    kernel_size: 5\n    padding: 1.5\n"
                                 "  - name: pool1"), "8", ["conv1", "padding", "not a whole number", "1.5"]),
    ("key-indented-too-far", edit("    kernel_size: 5\n  - name: pool1", "      kernel_size: 5\n  - name: pool1"),
     "7:", ["not valid YAML", "indented deeper than the keys above it", "kernel_size: 5"]),
    ("key-not-lined-up", edit("    kernel_size: 5\n  - name: pool1", "   kernel_size: 5\n  - name: pool1"), "7:",
     ["not valid YAML", "starts in column 4, the keys above it in column 5", "line up"]),
    ("missing-dash", edit("  - name: pool1", "  name: pool1"), "8:",
     ["not valid YAML", "a missing '-'", "name: pool1"]),
    ("a-tab", edit("    type: maxpool\n    kernel_size: 2\n  - name: conv2", "    type: maxpool\n\tkernel_size: 2\n"
                   "  - name: conv2"), "10:", ["not valid YAML", "a tab", "spaces"]),
    ("a-fraction", edit("out_channels: 16", 'out_channels: "in_channels / 4"'), "13",
     ["conv2", "out_channels", "not a whole number", "in_channels / 4", "//"]),
    ("input-written-hxwxc", edit("input: [1, 32, 32]", "input: [32, 32, 1]"), "4",
     ["conv1", "looks like H×W×C", "[1, 32, 32]"]),
    ("from-a-later-layer", edit("    type: conv\n    out_channels: 16", "    type: conv\n    from: pool2\n"
                                "    out_channels: 16"), "11", ["cycle", "from: 'pool2', a layer later in the file"]),
    ("flatten-forgotten", edit("  - name: flat\n    type: flatten\n", ""), "18", ["fc1", "add a flatten layer"]),
    ("keras-filters", edit("out_channels: 6", "filters: 6"), "6",
     ["conv1", "filters: unknown key", "did you mean 'out_channels'"]),
    ("linear-out-features-on-a-conv", edit("out_channels: 16", "out_features: 16"), "13",
     ["conv2", "out_features: unknown key", "did you mean 'out_channels'"]),
    ("keras-pool-size", edit("type: maxpool\n    kernel_size: 2\n  - name: conv2",
                             "type: maxpool\n    pool_size: 2\n  - name: conv2"), "10",
     ["pool1", "did you mean 'kernel_size'"]),
    ("in-channels-written", edit("    out_channels: 6\n", "    in_channels: 1\n    out_channels: 6\n"), "6",
     ["conv1", "in_channels", "infers it from the input"]),
    ("kernel-written-5x5", edit("    kernel_size: 5\n  - name: pool1", "    kernel_size: 5x5\n  - name: pool1"), "7",
     ["conv1", "kernel_size: '5x5' is not a number", "[5, 5]"]),
    ("dash-forgotten", edit("  - name: pool1", "    name: pool1"), "", ["duplicate key 'name' at line 8",
                                                                     "did you forget '- ' before line 8?"]),
    ("dash-forgotten-before-a-type", edit("  - name: pool1\n    type: maxpool", "    type: maxpool"), "",
     ["duplicate key 'type' at line 8", "did you forget '- ' before line 8?"]),
]


@pytest.mark.parametrize(("text", "line", "words"), [m[1:] for m in MISTAKES], ids=[m[0] for m in MISTAKES])
def test_the_message_names_the_line_and_the_fix(tmp_path, text, line, words):
    message = error_of(tmp_path, text)
    assert message.startswith(f"archcalc: error: lenet.yaml:{line}"), message
    for word in words:
        assert word in message, message


def test_the_file_itself_is_fine(tmp_path):
    path = tmp_path / "lenet.yaml"
    path.write_text(LENET)
    assert CliRunner().invoke(main, ["table", str(path)]).exit_code == 0


def test_a_block_given_to_explain_is_explained_as_a_block():
    result = CliRunner().invoke(main, ["explain", "resnet18", "layer1"])
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0]
    assert "layer1: a block" in first and "14 layers" in first and "archcalc explain resnet18 layer1/0/conv1" in first
    assert "layer1/1/conv2" in result.output  # its layers are listed
    # 2 blocks × 2 convolutions of 3·3·64·64 weights and 2 batch norms of 2·64 weights (torchvision resnet18)
    assert "params:             148,480" in result.output


def test_resnet50_has_one_tiling_note_in_table_and_validate_and_the_faq_explains_it():
    result = CliRunner().invoke(main, ["table", "resnet50"])
    notes = [line for line in result.stdout.splitlines() if "skipped" in line]
    # torchvision's three 1×1 stride-2 shortcuts, on 56, 28 and 14: (56 − 1)/2 + 1 = 28.5 → 28
    assert len(notes) == 1 and "warning" not in result.stdout, notes
    assert notes[0].startswith("note: 1×1/2 on 56, 28 and 14") and "torchvision's ResNet" in notes[0]
    assert "docs/faq.md" in notes[0]
    faq = (Path(__file__).parents[1] / "docs" / "faq.md").read_text(encoding="utf-8")
    assert "1×1/2 on 56: the last row and column are skipped" in faq
    validated = CliRunner().invoke(main, ["validate", "resnet50"])
    assert validated.exit_code == 0 and "warning" not in validated.stderr
    assert [line for line in validated.stderr.splitlines() if "skipped" in line] == [f"resnet50.yaml: {notes[0]}"]
    strict = CliRunner().invoke(main, ["table", "resnet50", "--strict"])
    assert strict.exit_code == 2 and "1×1/2 on 56: the last row and column are skipped" in strict.stderr


# --- type names as PyTorch, Keras and habit write them --------------------------------------------

def _table_of(tmp_path, text: str) -> str:
    path = tmp_path / "net.yaml"
    path.write_text(text)
    result = CliRunner().invoke(main, ["table", str(path), "--format", "csv"])
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize(("written", "meant"), [
    ("ReLU", "relu"), ("Conv2d", "conv"), ("MaxPool2d", "maxpool"), ("BatchNorm2d", "batchnorm"),
    ("Dense", "linear"), ("fully_connected", "linear"), ("Conv2D", "conv"), ("MaxPooling2D", "maxpool"),
    ("BatchNormalization", "batchnorm"), ("RELU", "relu"), ("max_pool2d", "maxpool"), ("Linear", "linear"),
])
def test_a_framework_spelling_of_a_type_is_read_as_that_type(tmp_path, written, meant):
    arguments = {"conv": "out_channels: 4, kernel_size: 3", "maxpool": "kernel_size: 2", "linear": "out_features: 3"}
    flat = "  - {type: flatten}\n" if meant == "linear" else ""
    entry = f"  - {{name: x, type: {written}, {arguments.get(meant, '')}}}\n".replace(", }", "}")
    ours = f"  - {{name: x, type: {meant}, {arguments.get(meant, '')}}}\n".replace(", }", "}")
    head = "name: net\ninput: [2, 8, 8]\nlayers:\n" + flat
    assert _table_of(tmp_path, head + entry) == _table_of(tmp_path, head + ours)


def test_a_name_several_types_share_lists_them():
    message = error_of_text("  - {type: Activation}\n")
    assert "'Activation' names several layer types (relu, relu6, sigmoid" in message


def error_of_text(layers: str) -> str:
    """The one-line error of a file with these layers (on an input of 2×8×8)."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "net.yaml"
        path.write_text("name: net\ninput: [2, 8, 8]\nlayers:\n" + layers)
        result = CliRunner().invoke(main, ["table", str(path)])
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr.strip()


def test_the_input_is_found_by_any_of_its_names(tmp_path):
    text = "name: net\ninput: [2, 8, 8]\nlayers:\n  - {name: input_1, type: InputLayer}\n  - {type: relu}\n"
    assert "input_1" in _table_of(tmp_path, text)
    assert "only the first entry of the file may be the input" in error_of_text("  - {type: relu}\n  - {type: Input}\n")


def test_layers_lists_every_type_with_its_aliases_foreign_names_and_arguments():
    import json

    from archcalc.layers import registered_types

    result = CliRunner().invoke(main, ["layers", "--format", "json"])
    assert result.exit_code == 0, result.output
    types = {t["type"]: t for t in json.loads(result.stdout)["types"]}
    assert set(types) == {cls.type_name for cls in registered_types().values()}
    conv = types["conv"]
    assert conv["aliases"] == ["conv2d"] and {"Conv2d", "Conv2D", "Convolution2D"} <= set(conv["foreign_names"])
    arguments = {a["name"]: a for a in conv["arguments"]}
    assert arguments["out_channels"]["required"] and arguments["stride"] == {
        "name": "stride", "required": False, "default": 1, "accepts": arguments["stride"]["accepts"]}
    assert arguments["bias"]["default"] is True
    assert "Activation" not in {n for t in types.values() for n in t["foreign_names"]}  # several types' Keras class
    text = CliRunner().invoke(main, ["layers", "dense"]).stdout
    assert "linear" in text and "out_features" in text and "conv " not in text


def test_a_reference_is_suggested_by_what_it_contains(tmp_path):
    message = error_of(tmp_path, LENET + "  - {name: down, type: linear, out_features: 4, from: flat}\n"
                                         "  - {name: sum, type: add, from: [fc1, downsample]}\n")
    assert "from: 'downsample' names no layer (did you mean 'down'?)" in message


def test_a_trailing_comma_in_json_is_named(tmp_path):
    path = tmp_path / "net.json"
    path.write_text('{"name": "net", "input": [1, 8, 8],\n "layers": [\n  {"type": "relu"},\n ]}\n')
    result = CliRunner().invoke(main, ["table", str(path)])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "net.json: not valid JSON: a trailing comma at line 3" in result.stderr


def test_explain_suggests_a_command_that_runs(tmp_path):
    """The file's `name:` differs from its path: the suggested command names the path, as typed."""
    path = tmp_path / "my net.yaml"
    path.write_text("name: tiny\ninput: [2, 8, 8]\nblocks:\n  unit:\n    layers:\n"
                    "      - {name: conv1, type: conv, out_channels: 2, kernel_size: 3, padding: 1}\n"
                    "layers:\n  - {name: stage2, type: unit, repeat: 2}\n")
    result = CliRunner().invoke(main, ["explain", str(path), "stage2"])
    assert result.exit_code == 0, result.output
    command = result.stdout.split("`")[1]
    assert command == f"archcalc explain '{path}' stage2/0/conv1"
    args = shlex.split(command)[1:]
    assert CliRunner().invoke(main, args).exit_code == 0


def test_a_keras_argument_in_defaults_is_answered_with_archcalcs(tmp_path):
    text = LENET.replace("layers:\n", "defaults:\n  Conv2D: {filters: 4}\nlayers:\n", 1)
    assert "Conv2D has no hyper-parameter 'filters' (did you mean 'out_channels'?" in error_of(tmp_path, text)
