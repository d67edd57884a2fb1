"""The segmentation and detection papers of the zoo (`unet`, `unet-same`, `fcn8s`, `yolov1`) against
their papers' own numbers (the figures and tables cited beside each); tests/test_zoo_segmentation_torch.py
holds them to plain PyTorch implementations of the papers."""

from __future__ import annotations

import pytest

import archcalc


def layers(name: str) -> dict:
    return {record.name: record for record in archcalc.analyze(name).layers}


def test_unet_sizes_follow_figure_1():
    """Fig. 1 writes the size beside every map: 572 → 570 → 568, pooled to 284, …, 28 at the bottom; the
    up-convolutions double to 56, 104, 200, 392 and the output is 2 × 388 × 388."""
    spec = archcalc.load("unet").spec.reference["paper"]
    found = layers("unet")
    contracting = []
    for level in ("down1", "down2", "down3", "down4", "bottom"):
        contracting += [found[f"{level}/conv1"].output_shape[1], found[f"{level}/conv2"].output_shape[1]]
        if level != "bottom":
            contracting.append(found[f"pool{level[-1]}"].output_shape[1])
    assert [572, *contracting] == spec["contracting"]
    expansive = []
    for level in (4, 3, 2, 1):
        expansive += [found[f"upconv{level}"].output_shape[1], found[f"up{level}/conv1"].output_shape[1],
                      found[f"up{level}/conv2"].output_shape[1]]
    assert expansive == spec["expansive"]
    assert found["classes"].output_shape == tuple(spec["output"]) == (2, 388, 388)
    # copy and crop: each skip map cut to the up-convolution's size, its channels concatenated
    assert [found[f"crop{k}"].output_shape for k in (4, 3, 2, 1)] == [(512, 56, 56), (256, 104, 104),
                                                                       (128, 200, 200), (64, 392, 392)]
    assert [found[f"concat{k}"].output_shape[0] for k in (4, 3, 2, 1)] == [1024, 512, 256, 128]


@pytest.mark.parametrize("name", ["unet", "unet-same"])
def test_unet_has_23_convolutional_layers(name):
    """Section 2: "In total the network has 23 convolutional layers" (the up-convolutions included)."""
    kinds = [record.layer.type_name for record in archcalc.analyze(name).layers]
    assert kinds.count("conv") + kinds.count("convtranspose") == 23


def test_unet_same_keeps_the_sizes_and_the_parameters():
    """Padding by 1 keeps every map's size (no crop needed) and changes no weight."""
    same, paper = archcalc.analyze("unet-same"), archcalc.analyze("unet")
    assert same.layers[-1].output_shape == (2, 256, 256)
    assert not any(record.layer.type_name == "crop" for record in same.layers)
    assert same.totals.trainable_params == paper.totals.trainable_params


def test_yolov1_follows_figure_3():
    """24 convolutional and 2 fully connected layers; 448 → 112 × 112 × 64 → … → 7 × 7 × 1024; the output
    S × S × (B·5 + C) = 7 · 7 · (2·5 + 20) = 1,470 values; leaky rectifiers of slope 0.1."""
    reference = archcalc.load("yolov1").spec.reference["paper"]
    report = archcalc.analyze("yolov1")
    kinds = [record.layer.type_name for record in report.layers]
    assert kinds.count("conv") == reference["conv_layers"] == 24
    assert kinds.count("linear") == reference["fully_connected"] == 2
    found = layers("yolov1")
    assert found["fc2"].output_shape == (reference["output"],) == (7 * 7 * (2 * 5 + 20),)
    s, s_, depth = reference["grid"]   # S × S × (B·5 + C), as archcalc's (C, H, W)
    assert report.layers[-1].output_shape == (depth, s, s_) == (2 * 5 + 20, 7, 7)
    maps = [found[name].output_shape for name in ("pool1", "pool2", "pool3", "pool4", "conv22/leaky",
                                                  "conv24/leaky")]
    assert [[shape[1], shape[0]] for shape in maps] == reference["maps"]
    slopes = {record.layer.negative_slope for record in report.layers if record.layer.type_name == "leakyrelu"}
    assert slopes == {0.1} and kinds.count("leakyrelu") == 25


def test_fcn8s_matches_table_1():
    """Table 1, FCN-VGG16: 16 convolution layers up to the scores, 134M parameters, receptive field 404
    and stride 32 at the scores; the 8× upsampling cropped to the 500 × 500 input, 21 classes."""
    reference = archcalc.load("fcn8s").spec.reference["paper"]
    report = archcalc.analyze("fcn8s")
    assert round(report.totals.params / 1e6) == reference["params_millions"]
    found = {record.name: record for record in report.layers}
    field = found["score_fr"].receptive_field
    assert field.size == (reference["receptive_field"],) * 2 and field.jump == (reference["max_stride"],) * 2
    up_to_scores = [record for record in report.layers if record.layer.type_name == "conv"
                    and not record.name.startswith("score_pool")]
    assert len(up_to_scores) == reference["conv_layers"]
    assert report.layers[-1].output_shape == (reference["classes"], 500, 500)
    # Caffe's crops: 44 → 34 at offset 5, 88 → 70 at offset 9, 568 → 500 at offset 31
    assert [found[name].input_shapes[0][1] for name in ("score_pool4c", "score_pool3c", "score")] == [44, 88, 568]


def fcn8s_with_caffe_crops() -> dict:
    """`fcn8s` with Caffe's Crop as written in its prototxt: the size of a second layer, at an offset."""
    import yaml

    from archcalc import zoo

    mapping = yaml.safe_load(zoo.find("fcn8s").read_text())
    like = {"score_pool4c": ("upscore2", 5), "score_pool3c": ("upscore_pool4", 9), "score": ("input", 31)}
    for entry in mapping["layers"]:
        if entry["name"] in like:
            del entry["cropping"]
            entry["like"], entry["offset"] = like[entry["name"]]
    return mapping


def test_fcn8s_crops_are_caffes_offsets_at_any_input_size():
    """At 500 × 500 the widths of the zoo file and Caffe's offsets cut the same maps; at 384 × 384 the
    offsets still bring the output back to the input's size."""
    caffe, written = archcalc.analyze(fcn8s_with_caffe_crops()), archcalc.analyze("fcn8s")
    assert [r.output_shape for r in caffe.layers] == [r.output_shape for r in written.layers]
    assert caffe.totals.macs == written.totals.macs
    assert archcalc.analyze(fcn8s_with_caffe_crops(), input=(3, 384, 384)).layers[-1].output_shape == (21, 384, 384)
