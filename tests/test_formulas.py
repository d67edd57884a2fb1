"""The textbook formulas: the lecture examples, and PyTorch as the reference where it is installed."""

import itertools

import pytest

import archcalc
from archcalc import formulas
from archcalc.formulas import resolve_padding


def _single(layer, input_shape):
    """Analyze a one-layer graph on `input_shape` (C, H, W)."""
    return archcalc.analyze(archcalc.load({"name": "one", "input": list(input_shape),
                                           "layers": [{"name": "x", **layer}]}))


# --- lecture examples ------------------------------------------------------------------------


def test_alexnet_conv1_output_size():
    # seed 001 (CS167): "(227 − 11 + 2·0)/4 + 1 = 54 + 1 = 55"
    assert archcalc.conv_output_size(227, 11, stride=4, padding=0) == 55


def test_28_input_5x5_filter_gives_24():
    # seed 002 ("Deep Learning & Tools"), Size of Feature Map: "((28 − 5 + 2*0) / 1) + 1 = 24"
    assert archcalc.conv_output_size(28, 5, stride=1, padding=0) == 24


def test_exercise_33x33x5_ten_3x3_filters_stride_2():
    # seed 004 (Warsaw), exercise: "16 × 16 × 10" and "10 * (3 * 3 * 5 + 1) = 460"
    report = _single({"type": "conv", "out_channels": 10, "kernel_size": 3, "stride": 2}, (5, 33, 33))
    assert report.layer("x").output_shape == (10, 16, 16)
    assert report.layer("x").params == 460
    assert archcalc.conv_params(5, 10, 3) == 460
    assert not report.warnings  # 33 − 3 = 30 is a multiple of 2


def test_6x6_convolved_with_3x3_gives_4x4():
    # seed 003 ("Special topics"): "6 × 6 * 3 × 3 ⇒ 4 × 4", also "(6 − 3 + 0 + 1) × (6 − 3 + 0 + 1)"
    report = _single({"type": "conv", "out_channels": 1, "kernel_size": 3}, (1, 6, 6))
    assert report.layer("x").output_shape == (1, 4, 4)


def test_strided_6x6_example_gives_2x2_and_leaves_a_row_unread():
    # seed 003, Strided convolution: "Stride = 2, Padding = 0, (6 − 3) / 2 + 1 ⇒ output: 2x2";
    # (6 − 3)/2 = 1.5, so the last input row and column are never read
    layer = {"type": "conv", "out_channels": 1, "kernel_size": 3, "stride": 2}
    report = _single(layer, (1, 6, 6))
    assert report.layer("x").output_shape == (1, 2, 2)
    assert report.layer("x").arithmetic().output.endswith("(6 − 3 + 0)/2 + 1 = 2.5 → 2")
    assert report.layer("x").warnings
    with pytest.raises(archcalc.TilingError):
        archcalc.analyze(report.architecture, strict=True)


def test_same_padding_keeps_the_size():
    # seed 003: "'Same' = pad so that output size is the same as the input size ⇒ p = (f − 1)/2"
    for f in (1, 3, 5, 7):
        p = (f - 1) // 2
        assert resolve_padding("same", (6, 6), (f, f), (1, 1)) == ((p, p), (p, p))
        assert archcalc.conv_output_size(6, f, padding=p) == 6


def test_max_pooling_4x4_with_f2_s2_gives_2x2():
    # seed 003, Pooling layer: a 4 × 4 input, "F=2, S=2" → 2 × 2
    report = _single({"type": "maxpool", "kernel_size": 2, "stride": 2}, (1, 4, 4))
    assert report.layer("x").output_shape == (1, 2, 2)


def test_lecture_pad_half_is_tensorflow_same():
    # seed 000, ResNet18 table: maxpool 3×3 "stride 2, pad 0.5" takes 112 to 56
    assert resolve_padding("same", (112, 112), (3, 3), (2, 2)) == ((0, 1), (0, 1))
    assert archcalc.conv_output_size(112, 3, stride=2, padding=(0, 1)) == 56


@pytest.mark.parametrize("n, s", [(7, 2), (8, 2), (224, 2), (227, 4), (10, 3)])
def test_same_output_is_ceil_of_input_over_stride(n, s):
    # TensorFlow's definition of 'same': out = ceil(n / s), whatever the kernel
    for k in (1, 2, 3, 5, 7, 11):
        pads = archcalc.same_padding(n, k, s)
        assert archcalc.conv_output_size(n, k, stride=s, padding=pads) == -(-n // s)
        assert pads[1] - pads[0] in (0, 1)  # the odd pixel goes to the bottom/right


# --- PyTorch as the reference ------------------------------------------------------------------


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _torch_pool_size(torch, n, k, s, p, d, ceil):
    x = torch.zeros(1, 1, n, n)
    try:
        return torch.nn.functional.max_pool2d(x, k, s, p, d, ceil_mode=ceil).shape[-1]
    except RuntimeError:
        return None


def _our_size(n, k, s, p, d, ceil):
    try:
        return archcalc.conv_output_size(n, k, s, p, d, ceil)
    except archcalc.ShapeError:
        return None


def test_pool_output_size_matches_torch_with_and_without_ceil_mode(torch):
    grid = itertools.product(range(1, 11), range(1, 5), range(1, 4), range(0, 3), (1, 2), (False, True))
    mismatches = []
    for n, k, s, p, d, ceil in grid:
        if p > k // 2:
            continue  # PyTorch allows at most half the kernel as padding
        theirs = _torch_pool_size(torch, n, k, s, p, d, ceil)
        ours = _our_size(n, k, s, p, d, ceil)
        if theirs != ours:
            mismatches.append((n, k, s, p, d, ceil, ours, theirs))
    assert not mismatches


@pytest.mark.parametrize("n, k, s", [(112, 3, 2), (56, 3, 2), (28, 3, 2), (14, 3, 2), (13, 3, 2), (7, 2, 2)])
def test_ceil_mode_maxpool_layer_matches_torch(torch, n, k, s):
    # GoogLeNet's pools (112 → 56 → 28 → 14 → 7) need ceil_mode
    report = _single({"type": "maxpool", "kernel_size": k, "stride": s, "ceil_mode": True}, (2, n, n))
    pool = torch.nn.MaxPool2d(k, s, ceil_mode=True)
    assert report.layer("x").output_shape == tuple(pool(torch.zeros(1, 2, n, n)).shape[1:])


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("k, d", [(1, 1), (2, 1), (3, 1), (4, 1), (5, 2), (4, 3), (3, 4)])
def test_same_padding_matches_torch_numerically(torch, k, d):
    # torch's padding='same' (stride 1) puts the odd pixel at the bottom/right, as TensorFlow does;
    # float64, so that the two summation orders agree to rounding on any CPU
    torch.manual_seed(0)
    x = torch.randn(1, 2, 9, 8, dtype=torch.float64)
    weight = torch.randn(3, 2, k, k, dtype=torch.float64)
    expected = torch.nn.functional.conv2d(x, weight, padding="same", dilation=d)
    (top, bottom), (left, right) = resolve_padding("same", (9, 8), (k, k), (1, 1), (d, d))
    padded = torch.nn.functional.pad(x, (left, right, top, bottom))
    assert torch.allclose(torch.nn.functional.conv2d(padded, weight, dilation=d), expected)
    report = _single({"type": "conv", "out_channels": 3, "kernel_size": k, "dilation": d, "padding": "same"},
                     (2, 9, 8))
    assert report.layer("x").output_shape == tuple(expected.shape[1:])


@pytest.mark.parametrize("pads", [(0, 1, 0, 1), (2, 0, 1, 3), (1, 1, 0, 0), (0, 0, 2, 2)])
@pytest.mark.parametrize("k, s", [(3, 1), (3, 2), (5, 2), (2, 3)])
def test_asymmetric_padding_matches_torch(torch, pads, k, s):
    top, bottom, left, right = pads
    x = torch.nn.functional.pad(torch.zeros(1, 1, 11, 10), (left, right, top, bottom))
    expected = torch.nn.functional.conv2d(x, torch.zeros(4, 1, k, k), stride=s).shape[1:]
    report = _single({"type": "conv", "out_channels": 4, "kernel_size": k, "stride": s, "padding": list(pads)},
                     (1, 11, 10))
    assert report.layer("x").output_shape == tuple(expected)


@pytest.mark.parametrize("n, k, s, p, d", [(32, 3, 1, 2, 2), (32, 3, 2, 4, 4), (17, 5, 1, 0, 3), (64, 3, 2, 1, 6),
                                           (10, 2, 3, 1, 2)])
def test_dilated_conv_output_size_and_macs_match_torch(torch, n, k, s, p, d):
    conv = torch.nn.Conv2d(4, 6, k, stride=s, padding=p, dilation=d)
    out = conv(torch.zeros(1, 4, n, n)).shape
    report = _single({"type": "conv", "out_channels": 6, "kernel_size": k, "stride": s, "padding": p,
                      "dilation": d}, (4, n, n))
    record = report.layer("x")
    assert record.output_shape == tuple(out[1:])
    assert record.params == sum(t.numel() for t in conv.parameters())
    assert record.macs == out[2] * out[3] * 6 * 4 * k * k  # dilation spreads the taps, it adds none


# --- the formulas the layer classes take their MACs and windows from ---------------------------------


def test_fully_connected_macs():
    # AlexNet's fc6 as the lectures count it: 9216 inputs (256×6×6) to 4096 outputs, 9216 × 4096 MACs
    assert formulas.linear_macs(9216, 4096) == 37_748_736
    # per pixel, it is the 1×1 convolution: 7 × 7 positions × 512 × 1000
    assert formulas.linear_macs(512, 1000, 7 * 7) == 25_088_000
    with pytest.raises(archcalc.SpecError, match="positions"):
        formulas.linear_macs(2, 3, 1.5)


def test_transposed_conv_macs():
    # DCGAN's generator (Radford et al., 2016), 4×4×1024 → 8×8×512 with 5×5 kernels: each of the
    # 4·4·1024 input values is multiplied by 512·5·5 weights
    assert formulas.conv_transpose_macs(4, 4, 1024, 512, 5) == 4 * 4 * 1024 * 512 * 25
    # two groups: each input value meets the 3·3 kernels of its group's 4 outputs only
    assert formulas.conv_transpose_macs(2, 3, 6, 8, 3, groups=2) == 2 * 3 * 6 * 4 * 9
    with pytest.raises(archcalc.ShapeError, match="groups=4 must divide in_channels=6"):
        formulas.conv_transpose_macs(2, 3, 6, 8, 3, groups=4)


@pytest.mark.parametrize("n, out", [(7, 3), (10, 4), (5, 5), (3, 7), (224, 7), (13, 6)])
def test_adaptive_windows_are_torchs(torch, n, out):
    # PyTorch's own windows, read off its adaptive max pooling of the positions (the window's last
    # position) and of their negatives (its first)
    positions = torch.arange(n, dtype=torch.float64).reshape(1, 1, n)
    ends = torch.nn.functional.adaptive_max_pool1d(positions, out).flatten().long() + 1
    starts = -torch.nn.functional.adaptive_max_pool1d(-positions, out).flatten().long()
    assert formulas.adaptive_windows(n, out) == list(zip(starts.tolist(), ends.tolist()))


def test_groups_must_divide_both_channel_counts():
    formulas.check_groups(4, 8, 12)
    with pytest.raises(archcalc.ShapeError, match="groups=3 must divide in_channels=8 and out_channels=12"):
        formulas.check_groups(3, 8, 12)
