"""`archcalc import` of Keras models read as JSON: the `model.to_json()` configs of eight Keras
applications in tests/data/keras/ (keras 3, `weights=None`, by tools/reference_import.py) import with
Keras' own `count_params()` trainable and non-trainable numbers (tests/data/reference_import.json),
EfficientNetB0's Rescaling and Normalization input layers (2C + 1 non-trainable weights) included."""

from __future__ import annotations

import gzip
import json
import zipfile

import pytest

import archcalc
from archcalc.errors import SpecError
from archcalc.interop.yaml_writer import dump, loadable
from tests.import_data import DATA, REFERENCE

KERAS = DATA / "keras"


def keras_counts(path):
    totals = archcalc.analyze(archcalc.import_model(path)).totals
    return totals.trainable_params, totals.non_trainable_params


@pytest.mark.parametrize("name", REFERENCE["keras"])
def test_applications_count_as_keras(name):
    reference = REFERENCE["keras"][name]
    assert keras_counts(KERAS / f"{name}.json.gz") == (reference["trainable_params"],
                                                       reference["non_trainable_params"])


@pytest.mark.parametrize("name", REFERENCE["keras"])
def test_applications_load_back_as_written(name):
    path = KERAS / f"{name}.json.gz"
    assert loadable(dump(archcalc.import_model(path)), str(path))


@pytest.mark.parametrize("name", ["ResNet50", "Xception", "MobileNetV2"])
def test_written_file_reloads_to_the_same_analysis(name):
    mapping = archcalc.import_model(KERAS / f"{name}.json.gz")
    direct = archcalc.analyze(mapping).to_dict()
    reloaded = archcalc.analyze(archcalc.load("imported.yaml", text=dump(mapping))).to_dict()
    assert json.dumps(direct, sort_keys=True, default=str) == json.dumps(reloaded, sort_keys=True, default=str)


def test_a_keras_archive_reads_its_config(tmp_path):
    archive = tmp_path / "mobilenet.keras"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("config.json", gzip.decompress((KERAS / "MobileNet.json.gz").read_bytes()))
    reference = REFERENCE["keras"]["MobileNet"]
    assert keras_counts(archive) == (reference["trainable_params"], reference["non_trainable_params"])


def test_layers_map_to_archcalc_types():
    """Xception's SeparableConv2D is a depthwise then a pointwise conv; MobileNetV2's ReLU(max_value=6)
    is relu6; shapes are (C, H, W)."""
    xception = archcalc.analyze(archcalc.import_model(KERAS / "Xception.json.gz"))
    assert xception.input_shape == (3, 299, 299)
    names = [r.name for r in xception.layers]
    assert any(n.endswith("sepconv1/depthwise") for n in names) and any(n.endswith("sepconv1/pointwise")
                                                                       for n in names)
    types = {r.type for r in archcalc.analyze(archcalc.import_model(KERAS / "MobileNetV2.json.gz")).layers}
    assert {"relu6", "zeropad", "add"} <= types


def _sequential(layers):
    return {"class_name": "Sequential", "config": {"name": "tiny", "layers": layers}}


def test_unsupported_layers_are_all_named(tmp_path):
    layers = [{"class_name": "InputLayer", "config": {"name": "in", "batch_shape": [None, 8, 8, 3]}},
              {"class_name": "LSTM", "config": {"name": "lstm"}},
              {"class_name": "Conv2D", "config": {"name": "conv", "filters": 4, "kernel_size": [3, 3],
                                                  "strides": [1, 1], "padding": "same", "use_bias": True,
                                                  "activation": "relu"}},
              {"class_name": "MultiHeadAttention", "config": {"name": "attention"}}]
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(_sequential(layers)))
    with pytest.raises(SpecError) as info:
        archcalc.import_model(path)
    message = str(info.value)
    assert "lstm: LSTM" in message and "attention: MultiHeadAttention" in message


def test_a_small_sequential_model_hand_counted(tmp_path):
    layers = [{"class_name": "InputLayer", "config": {"name": "in", "batch_shape": [None, 8, 8, 3]}},
              {"class_name": "Conv2D", "config": {"name": "conv", "filters": 4, "kernel_size": [3, 3],
                                                  "strides": [2, 2], "padding": "same", "use_bias": True,
                                                  "activation": "relu"}},
              {"class_name": "BatchNormalization", "config": {"name": "bn", "axis": -1, "epsilon": 1e-3,
                                                              "momentum": 0.99, "center": True, "scale": False}},
              {"class_name": "Flatten", "config": {"name": "flat"}},
              {"class_name": "Dense", "config": {"name": "out", "units": 10, "use_bias": True,
                                                 "activation": "softmax"}}]
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(_sequential(layers)))
    report = archcalc.analyze(archcalc.import_model(path))
    # conv: 3·3·3·4 + 4 = 112; bn (center only): β 4 trainable, mean + var 8; dense: 4·4·4·10 + 10 = 650
    assert (report.totals.trainable_params, report.totals.non_trainable_params) == (112 + 4 + 650, 8)
    assert report.layers[1].output_shape == (4, 4, 4)     # TF `same`, stride 2: ⌈8/2⌉


def test_upsampling_and_cropping_read_as_upsample_and_crop(tmp_path):
    """Keras's `UpSampling2D(size, interpolation)` (bilinear on pixel centres) and `Cropping2D(((top,
    bottom), (left, right)))`, as U-Net's Keras ports write them."""
    layers = [{"class_name": "InputLayer", "config": {"name": "in", "batch_shape": [None, 9, 10, 3]}},
              {"class_name": "UpSampling2D", "config": {"name": "up", "size": [2, 3], "interpolation": "bilinear",
                                                        "data_format": "channels_last"}},
              {"class_name": "Cropping2D", "config": {"name": "crop", "cropping": [[1, 2], [0, 4]],
                                                      "data_format": "channels_last"}},
              {"class_name": "UpSampling2D", "config": {"name": "near", "size": 2, "interpolation": "nearest"}}]
    path = tmp_path / "resize.json"
    path.write_text(json.dumps(_sequential(layers)))
    report = archcalc.analyze(archcalc.import_model(path))
    by_name = {record.name: record for record in report.layers}
    assert by_name["up"].layer.mode == "bilinear" and not by_name["up"].layer.align_corners
    assert by_name["up"].output_shape == (3, 18, 30)
    assert by_name["crop"].output_shape == (3, 18 - 1 - 2, 30 - 0 - 4)
    assert by_name["near"].output_shape == (3, 30, 52)
    layers[3]["config"]["interpolation"] = "bicubic"
    path.write_text(json.dumps(_sequential(layers)))
    with pytest.raises(SpecError, match="bicubic"):
        archcalc.import_model(path)
