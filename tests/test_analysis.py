"""The counting engine against hand-worked truth: receptive fields, memory, batch and dtype, tiling.

Receptive field recurrences (Araujo et al., "Computing Receptive Fields of Convolutional Neural
Networks", Distill 2019), per axis, for a layer with kernel k, stride s, dilation d, left padding p:
    size_out  = size_in + d·(k − 1)·jump_in
    jump_out  = jump_in · s
    start_out = start_in + (d·(k − 1)/2 − p)·jump_in      (centre of the first output, input pixels)
"""

from __future__ import annotations

import pytest

import archcalc
from archcalc.errors import TilingError

VGG16_FEATURES = """
name: vgg16-features
input: [3, 224, 224]
args: {cfg: [[64, 2], [128, 2], [256, 3], [512, 3], [512, 3]]}
blocks:
  stage:
    args: {width: null, convs: null}
    layers:
      - {name: conv, type: conv, out_channels: width, kernel_size: 3, padding: 1, repeat: convs}
      - {name: pool, type: maxpool, kernel_size: 2, stride: 2}
layers:
  - {name: s, type: stage, width: "cfg[i][0]", convs: "cfg[i][1]", repeat: 5}
"""

ALEXNET_FEATURES = """
name: alexnet-features
input: [3, 227, 227]
layers:
  - {name: conv1, type: conv, out_channels: 96, kernel_size: 11, stride: 4}
  - {name: pool1, type: maxpool, kernel_size: 3, stride: 2}
  - {name: conv2, type: conv, out_channels: 256, kernel_size: 5, padding: 2}
  - {name: pool2, type: maxpool, kernel_size: 3, stride: 2}
  - {name: conv3, type: conv, out_channels: 384, kernel_size: 3, padding: 1}
  - {name: conv4, type: conv, out_channels: 384, kernel_size: 3, padding: 1}
  - {name: conv5, type: conv, out_channels: 256, kernel_size: 3, padding: 1}
  - {name: pool5, type: maxpool, kernel_size: 3, stride: 2}
"""


def analyze(text: str, **options):
    return archcalc.analyze(archcalc.load("t.yaml", text=text), **options)


def rf(report, name):
    field = report.layer(name).receptive_field
    return field.size[0], field.jump[0], field.start[0]


# --- receptive field --------------------------------------------------------------------------------


def test_vgg16_receptive_fields():
    # Two 3×3 convs grow the field by 2·jump each, a 2×2/2 pool by 1·jump and doubles the jump;
    # pad 1 keeps the start, the pool moves it by 0.5·jump:
    #   stage 1: 3, 5, pool 6 (j 2, start 0.5)      stage 2: 10, 14, pool 16 (j 4, start 1.5)
    #   stage 3: 24, 32, 40, pool 44 (j 8, 3.5)     stage 4: 60, 76, 92, pool 100 (j 16, 7.5)
    #   stage 5: 132, 164, 196, pool 212 (j 32, start 15.5) — the well-known 212 of VGG-16's pool5.
    report = analyze(VGG16_FEATURES)
    assert rf(report, "s/0/conv/1") == (5, 1, 0)
    assert rf(report, "s/0/pool") == (6, 2, 0.5)
    assert rf(report, "s/1/pool") == (16, 4, 1.5)
    assert rf(report, "s/2/pool") == (44, 8, 3.5)
    assert rf(report, "s/3/pool") == (100, 16, 7.5)
    assert rf(report, "s/4/conv/2") == (196, 16, 7.5)
    assert rf(report, "s/4/pool") == (212, 32, 15.5)
    assert report.layer("s/4/pool").output_shape == (512, 7, 7)


def test_alexnet_receptive_fields():
    # conv1 11/4: size 11, jump 4, start (11−1)/2 = 5; pool1 3/2: 11 + 2·4 = 19, jump 8, start 5 + 1·4 = 9;
    # conv2 5 pad 2: 19 + 4·8 = 51, start 9 + (2 − 2)·8 = 9; pool2: 51 + 2·8 = 67, jump 16, start 17;
    # conv3..5 3 pad 1: 99, 131, 163; pool5: 163 + 2·16 = 195, jump 32, start 17 + 16 = 33.
    report = analyze(ALEXNET_FEATURES)
    assert rf(report, "conv1") == (11, 4, 5)
    assert rf(report, "pool1") == (19, 8, 9)
    assert rf(report, "conv2") == (51, 8, 9)
    assert rf(report, "pool2") == (67, 16, 17)
    assert rf(report, "conv5") == (163, 16, 17)
    assert rf(report, "pool5") == (195, 32, 33)
    # sizes: (227 − 11)/4 + 1 = 55; (55 − 3)/2 + 1 = 27; 27; 13; 13; (13 − 3)/2 + 1 = 6
    assert report.layer("pool5").output_shape == (256, 6, 6)
    assert report.warnings == ()


def test_receptive_field_per_axis_dilation_and_padding():
    text = """
name: t
input: [1, 32, 32]
layers:
  - {name: dil, type: conv, out_channels: 1, kernel_size: 3, dilation: 2}
  - {name: rect, type: conv, out_channels: 1, kernel_size: [1, 3], stride: [1, 2], padding: [0, 1]}
"""
    report = analyze(text)
    field = report.layer("dil").receptive_field
    assert (field.size, field.jump, field.start) == ((5, 5), (1, 1), (2, 2))      # 1 + 2·2; start 2·2/2
    field = report.layer("rect").receptive_field
    # H: kernel 1 keeps size 5; W: 5 + 2·1 = 7, jump 2, start 2 + (1 − 1)·1 = 2.
    assert (field.size, field.jump, field.start) == ((5, 7), (1, 2), (2, 2))


def test_receptive_field_of_a_branch_covers_every_input():
    text = """
name: t
input: [1, 16, 16]
layers:
  - {name: big, type: conv, out_channels: 1, kernel_size: 5, padding: 2}
  - {name: small, type: conv, out_channels: 1, kernel_size: 1, from: input}
  - {name: sum, type: add, from: [big, small]}
"""
    assert rf(analyze(text), "sum") == (5, 1, 0)


# The receptive-field table of google-research/receptive_field (README, "receptive field" column,
# computed with the TF-Slim models; resnet_v1 strides in the first 1×1 like resnet*-v1 here).
PUBLISHED_RECEPTIVE_FIELDS = [
    ("alexnet-lecture", "maxpool5", 195), ("vgg16", "block5_pool", 212),
    ("resnet50-v1", "layer4/2/relu_2", 483), ("resnet101-v1", "layer4/2/relu_2", 1027),
    ("resnet152-v1", "layer4/2/relu_2", 1507), ("mobilenet", "block13/pw_relu", 315),
    ("inception-v3-keras", "mixed10/concat", 1311), ("inception_v3", "Mixed_7c/cat", 1311),
]


@pytest.mark.parametrize(("name", "layer", "size"), PUBLISHED_RECEPTIVE_FIELDS)
def test_receptive_fields_of_zoo_networks_match_the_published_table(name, layer, size):
    assert archcalc.analyze(name).layer(layer).receptive_field.size == (size, size)


ASYMMETRIC_BRANCHES = """
name: t
input: [1, 33, 33]
layers:
  - {name: tall, type: conv, out_channels: 1, kernel_size: [5, 1], padding: [2, 0]}
  - {name: wide, type: conv, out_channels: 1, kernel_size: [1, 5], padding: [0, 2], from: input}
  - {name: shifted, type: conv, out_channels: 1, kernel_size: 3, padding: [2, 0, 2, 0], from: input}
  - {name: sum, type: add, from: [tall, wide]}
  - {name: pool, type: avgpool, kernel_size: 3, stride: 1, padding: 1, from: shifted}
  - {name: cat, type: concat, from: [sum, pool]}
"""


def test_receptive_field_of_a_join_is_the_gradient_support_in_torch():
    """Which input pixels one central output depends on, found by back-propagation through the torch
    model with positive weights, against archcalc's field at every join."""
    torch = pytest.importorskip("torch")
    arch = archcalc.load("t.yaml", text=ASYMMETRIC_BRANCHES)
    weights = {k: abs(v) + 0.1 for k, v in archcalc.init_weights(arch, seed=0).items()}
    network = archcalc.to_torch(arch, weights, dtype="float64")
    report = archcalc.analyze(arch)
    for layer in ("sum", "cat"):
        x = torch.ones(1, 1, 33, 33, dtype=torch.float64, requires_grad=True)
        _, values = network(x, return_intermediates=True)
        values[layer][0, :, 16, 16].sum().backward()
        rows = x.grad[0, 0].abs().sum(dim=1).nonzero().flatten()
        cols = x.grad[0, 0].abs().sum(dim=0).nonzero().flatten()
        support = (int(rows.max() - rows.min()) + 1, int(cols.max() - cols.min()) + 1)
        assert report.layer(layer).receptive_field.size == support, layer


# --- memory -------------------------------------------------------------------------------------------

BRANCHY = """
name: branchy
input: [1, 4, 4]
layers:
  - {name: a, type: conv, out_channels: 2, kernel_size: 3, padding: 1}
  - {name: b, type: relu, inplace: true}
  - {name: c, type: conv, out_channels: 2, kernel_size: 1, from: input}
  - {name: d, type: add, from: [b, c]}
  - {name: e, type: flatten}
  - {name: f, type: linear, out_features: 3}
"""
# Tensors (float32): input 1·4·4 = 16 el = 64 B; a, c, d 2·4·4 = 32 el = 128 B each; f 3 el = 12 B.
# b (in-place ReLU) and e (flatten) are views: no new memory, but they keep a and d alive.
# Inference in order, freeing a tensor after its last reader:
#   input 64 → a 192 → c 320 (input freed after c: 256) → d 384 (a via b, and c freed: 128)
#   → f 140 (d via e freed: 12).  Peak 384 B, while a, c and d are live together.
PEAK = 3 * 128
FORWARD = 64 + 128 + 128 + 128 + 12            # cs231n: the input plus every allocating output
PARAMS = (2 * 1 * 9 + 2) + (2 * 1 + 2) + (32 * 3 + 3)


def test_forward_memory_peak_and_parameter_bytes():
    report = analyze(BRANCHY)
    totals = report.totals
    assert [r.allocates for r in report.layers] == [True, True, False, True, True, False, True]
    assert totals.activation_elements == 16 + 32 + 32 + 32 + 3
    assert totals.forward_memory_bytes == FORWARD
    assert totals.peak_memory_bytes == PEAK
    assert totals.params == PARAMS
    assert totals.param_bytes == 4 * PARAMS


def test_training_memory_estimate():
    # docs/training.md: activations kept for backward (here every tensor: a gradient flows through every
    # layer) + a gradient for each activation but the input (which needs none) + 4 × trainable parameter
    # bytes (weights, gradients, two Adam moments) + non-trainable bytes.
    totals = analyze(BRANCHY).totals
    assert totals.training_memory_bytes == FORWARD + (FORWARD - 64) + 4 * 4 * PARAMS
    bn = analyze("name: t\ninput: [2, 4, 4]\nlayers: [{name: bn, type: batchnorm}]\n").totals
    tensor = 2 * 4 * 4 * 4                            # input and output, 32 elements each, 4 bytes
    assert bn.training_memory_bytes == 2 * tensor + tensor + 4 * (4 * 4) + 4 * 4     # 2·C trainable, 2·C stats


def test_peak_of_a_chain_is_two_neighbours():
    text = """
name: t
input: [1, 8, 8]
layers:
  - {name: a, type: conv, out_channels: 4, kernel_size: 1}
  - {name: b, type: conv, out_channels: 8, kernel_size: 1}
  - {name: c, type: conv, out_channels: 2, kernel_size: 1}
"""
    # 64-element maps: input 1, a 4, b 8, c 2 channels. Largest neighbouring pair: a + b = 12 maps.
    assert analyze(text).totals.peak_memory_bytes == 12 * 64 * 4


def test_output_stays_live_to_the_end():
    text = "name: t\ninput: [1, 8, 8]\noutput: a\nlayers:\n" \
           "  - {name: a, type: conv, out_channels: 4, kernel_size: 1}\n" \
           "  - {name: b, type: conv, out_channels: 8, kernel_size: 1, from: input}\n"
    # input 1 + a 4 + b 8 maps: a is the output and is kept while b (unused) is computed.
    assert analyze(text).totals.peak_memory_bytes == 13 * 64 * 4


@pytest.mark.parametrize(("batch", "dtype", "size"), [(1, "float32", 4), (8, "float32", 4), (4, "float16", 2),
                                                     (2, "bfloat16", 2), (3, "float64", 8), (5, "int8", 1)])
def test_batch_and_dtype(batch, dtype, size):
    report = analyze(BRANCHY, batch=batch, dtype=dtype)
    totals = report.totals
    assert (report.batch, report.dtype) == (batch, dtype)
    assert totals.forward_memory_bytes == batch * FORWARD // 4 * size
    assert totals.peak_memory_bytes == batch * PEAK // 4 * size
    assert totals.param_bytes == PARAMS * size                           # weights do not grow with N
    assert totals.params == PARAMS
    # conv a: 4·4·2·(1·3·3) = 288 MACs; c: 4·4·2·1 = 32; f: 32·3 = 96  (per sample)
    assert totals.macs == batch * (288 + 32 + 96)
    assert totals.flops == 2 * totals.macs
    assert report.layer("a").activation_elements == batch * 32
    assert report.layer("a").activation_bytes == batch * 32 * size


def test_input_override():
    report = archcalc.analyze(archcalc.load("t.yaml", text=VGG16_FEATURES), input=[3, 32, 32])
    assert report.input_shape == (3, 32, 32)
    assert report.layer("s/4/pool").output_shape == (512, 1, 1)        # 32 / 2⁵


# --- tiling -------------------------------------------------------------------------------------------


def test_tiling_warning_alexnet_at_224():
    # (224 − 11)/4 + 1 = 54.25: the last window starts at 53·4 = 212 and ends at 222, so row and column
    # 223 are never read (the classic "227, not 224" homework question).
    report = archcalc.analyze(archcalc.load("t.yaml", text=ALEXNET_FEATURES), input=[3, 224, 224])
    assert report.layer("conv1").output_shape == (96, 54, 54)
    (warning,) = report.layer("conv1").warnings
    assert warning == "11×11/4 on 224: the last row and column are skipped"
    assert report.warnings[0] == f"conv1: {warning}"
    with pytest.raises(TilingError, match=r"^t\.yaml:\d+: conv1: 11×11/4 on 224: the last row and column"):
        archcalc.analyze(archcalc.load("t.yaml", text=ALEXNET_FEATURES), input=[3, 224, 224], strict=True)


def test_ceil_mode_pooling_does_not_warn():
    text = "name: t\ninput: [1, 7, 7]\nlayers: [{name: p, type: maxpool, kernel_size: 2, stride: 2, ceil_mode: true}]\n"
    report = analyze(text, strict=True)
    assert report.layer("p").output_shape == (1, 4, 4)       # ceil((7 − 2)/2) + 1 = 4
    assert report.layer("p").warnings == ()


def test_a_boolean_is_not_accepted_as_a_channel_count():
    spec = {"name": "t", "input": [3, 8, 8],
            "layers": [{"name": "c1", "type": "conv", "out_channels": True, "kernel_size": 1}]}
    with pytest.raises(archcalc.ArchcalcError, match=r"c1: .*out_channels: should be an integer .* \(got true\)"):
        archcalc.analyze(spec)


def test_or_and_and_return_the_deciding_value_as_in_python():
    # `c or 64` is a default idiom: 0 or 64 → 64; 3 and 5 → 5
    spec = {"name": "t", "input": [3, 8, 8], "args": {"c": 0},
            "layers": [{"name": "a", "type": "conv", "out_channels": "c or 64", "kernel_size": 1},
                       {"name": "b", "type": "conv", "out_channels": "3 and 5", "kernel_size": 1}]}
    report = archcalc.analyze(spec)
    assert report.layer("a").output_shape[0] == 64 and report.layer("b").output_shape[0] == 5


def test_no_receptive_field_is_claimed_at_or_after_a_transposed_convolution():
    # a stride-2 transposed convolution places outputs between input pixels (torch's autograd shows
    # output rows 3, 4, 5 of a following 3×3/2 conv reading input rows (2,4), (3,5), (4,6): no
    # integer jump describes that), so archcalc reports none rather than a wrong one
    spec = {"name": "up", "input": [1, 16, 16], "layers": [
        {"name": "conv0", "type": "conv", "out_channels": 2, "kernel_size": 3},
        {"name": "up", "type": "convtranspose", "out_channels": 2, "kernel_size": 3, "stride": 2},
        {"name": "conv", "type": "conv", "out_channels": 1, "kernel_size": 3, "stride": 2}]}
    report = archcalc.analyze(spec)
    assert report.layer("conv0").receptive_field.size == (3, 3)
    assert report.layer("up").receptive_field is None and report.layer("conv").receptive_field is None


def test_a_join_of_a_transposed_convolution_branch_claims_no_receptive_field():
    """U-Net's concatenation of an up-convolution with a cropped skip: the skip's field alone (a 3×3) would
    understate what the join sees, so it has none."""
    spec = {"name": "u", "input": [1, 16, 16], "layers": [
        {"name": "conv0", "type": "conv", "out_channels": 2, "kernel_size": 3, "padding": 1},
        {"name": "down", "type": "maxpool", "kernel_size": 2},
        {"name": "up", "type": "convtranspose", "out_channels": 2, "kernel_size": 2, "stride": 2},
        {"name": "join", "type": "concat", "from": ["conv0", "up"]}]}
    report = archcalc.analyze(spec)
    assert report.layer("conv0").receptive_field.size == (3, 3)
    assert report.layer("join").receptive_field is None


def test_transposed_convolution_arithmetic_adds_up_on_both_axes():
    # PyTorch ConvTranspose2d: H_out = (H − 1)·S − 2P + D·(F − 1) + OP + 1 = (7 − 1)·2 − 2 + 2·2 + 1 + 1 = 16
    spec = {"name": "up", "input": [1, 7, 8], "layers": [
        {"name": "up", "type": "convtranspose", "out_channels": 2, "kernel_size": 3, "stride": 2,
         "padding": 1, "output_padding": 1, "dilation": 2}]}
    record = archcalc.analyze(spec).layer("up")
    assert record.output_shape == (2, 16, 18)
    text = record.arithmetic().output
    assert "= 16 (H)" in text and "= 18 (W)" in text
    for axis in text.split("= ", 1)[1].split("; "):
        expression, result = axis.rsplit(" = ", 1)
        assert eval(expression.replace("·", "*").replace("×", "*").replace("−", "-")) == int(result.split()[0])


@pytest.mark.parametrize("bad", [5, "1x32x32", None.__class__])
def test_an_input_that_is_not_a_sequence_is_one_clear_error(bad):
    with pytest.raises(archcalc.SpecError, match="input must be a sequence"):
        archcalc.analyze("lenet5", input=bad)


def test_numpy_integers_are_accepted_for_batch_and_input():
    import numpy as np

    report = archcalc.analyze("lenet5", input=np.array([1, 32, 32]), batch=np.int64(2))
    assert report.input_shape == (1, 32, 32) and report.batch == 2
    assert report.totals.macs == 2 * 416_520  # per sample: torch hooks on the lecture LeNet-5 (reference_counts.json)


def test_a_squeeze_and_excitation_gate_widens_the_field_without_stepping_the_map():
    # Each output of x · gate(x) depends on the whole input (the gate pools it globally), but its
    # positions step as x's do: the jump stays the convolution's 2 (it grew with every gate before).
    report = archcalc.analyze({"name": "se", "input": [3, 32, 32], "layers": [
        {"name": "conv", "type": "conv", "out_channels": 8, "kernel_size": 3, "stride": 2, "padding": 1},
        {"name": "pool", "type": "globalavgpool", "keepdims": True},
        {"name": "fc", "type": "conv", "out_channels": 8, "kernel_size": 1},
        {"name": "gate", "type": "sigmoid"},
        {"name": "scale", "type": "multiply", "from": ["conv", "gate"]}]})
    field = report.layer("scale").receptive_field
    assert field.jump == (2, 2)
    assert min(field.size) >= 32


REUSE = """
name: reuse
input: [4, 8, 8]
blocks:
  b:
    args: {w: null}
    layers:
      - {name: c, type: conv, out_channels: w, kernel_size: 1, bias: false}
layers:
  - {name: x, type: b, w: 4, repeat: 2}
  - {name: y, type: b, w: 8}
  - {name: z, type: b, w: 4}
  - {name: grow, type: conv, out_channels: "4 * (i + 1)", kernel_size: 1, bias: false, repeat: 2}
"""


def test_a_layer_is_reused_only_where_the_values_it_reads_and_its_input_are_the_same():
    """1×1 convolutions without bias: params = C_in · C_out. x/0 and x/1 read w = 4 on 4 channels
    (16 each, one layer shared); y reads w = 8 (4 → 8: 32); z reads w = 4 again but on 8 channels
    (8 → 4: 32); grow/0 and grow/1 read i = 0 and 1 (4 → 4: 16, then 4 → 8: 32)."""
    report = archcalc.analyze(archcalc.load("reuse.yaml", text=REUSE))
    params = {record.name: record.params for record in report.layers if record.type == "conv"}
    assert params == {"x/0/c": 16, "x/1/c": 16, "y/c": 32, "z/c": 32, "grow/0": 16, "grow/1": 32}
    assert report.layer("x/0/c").layer is report.layer("x/1/c").layer
    assert report.layer("grow/1").output_shape == (8, 8, 8)
