"""The forgiving number and shape reader of `archcalc check` (archcalc/grading/numbers.py)."""

from __future__ import annotations

import contextlib
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archcalc.grading.numbers import Unreadable, parse_count, parse_shape, shape_readings


@pytest.mark.parametrize("text, value", [
    ("1,728", 1728), ("1728", 1728), ("61,706", 61706), ("138,357,544", 138357544), ("1 728", 1728),
    ("1\u202f728", 1728), ("1'728", 1728), ("1_728", 1728), (1728, 1728), ("  156  ", 156),
    ("1 × 5 × 5 × 6 + 6 = 156", 156),           # seed 000 Example 3.1, C1
    ("(3 × 3 × 64) × 128", 73728),              # seed 004, cs231n CONV3-128: (3*3*64)*128 = 73,728
    ("224x224x64", 3211264), ("7×7×512×4096 = 102,760,448", 102760448),
    ("$6 \\times 5 \\times 5 \\times 16 + 16 = 2,416$", 2416),
    ("0", 0), ("156 (weights + biases)", 156), ("4096 params", 4096),
])
def test_exact_numbers_must_be_exact(text, value):
    number = parse_count(text)
    assert not number.shorthand
    assert number.matches(value)
    assert not number.matches(value + 1) and not number.matches(value - 1)


@pytest.mark.parametrize("text, low, high", [
    ("1.7K", 1650, 1750), ("3.2M", 3_150_000, 3_250_000), ("138M", 137_500_000, 138_500_000),
    ("112.9M", 112_850_000, 112_950_000), ("1.8×10^9", 1.75e9, 1.85e9), ("1.8 x 10⁹", 1.75e9, 1.85e9),
    ("1.8e9", 1.75e9, 1.85e9), ("3.2 GFLOPs", 3.15e9, 3.25e9), ("1,7K", 1650, 1750), ("~5.3M", 5.25e6, 5.35e6),
    ("24M", 23.5e6, 24.5e6), ("3M", 2.5e6, 3.5e6),
    # trailing zeros before a suffix read as two significant digits (the cs231n slides' 800K, 150K, 100K)
    ("800K", 795_000, 805_000), ("150K", 145_000, 155_000), ("100K", 95_000, 105_000),
])
def test_shorthand_stands_for_the_values_that_round_to_it(text, low, high):
    number = parse_count(text)
    assert number.shorthand
    assert number.bounds() == (Fraction(low), Fraction(high))


@pytest.mark.parametrize("text, exact", [
    # seed 004, cs231n VGG-16 memory per layer: the product on the slide and its shorthand
    ("150K", 224 * 224 * 3), ("3.2M", 224 * 224 * 64), ("800K", 112 * 112 * 64), ("1.6M", 112 * 112 * 128),
    ("400K", 56 * 56 * 128), ("200K", 28 * 28 * 256), ("100K", 14 * 14 * 512), ("25K", 7 * 7 * 512),
    # seed 000: GoogLeNet 1×1 slide, (14·14·48)·(5·5·480) = 112.9M, (14·14·16)·480 = 1.5M, (14·14·48)·(5·5·16) = 3.8M
    ("112.9M", 14 * 14 * 48 * 5 * 5 * 480), ("1.5M", 14 * 14 * 16 * 480), ("3.8M", 14 * 14 * 48 * 5 * 5 * 16),
    ("138M", 138_357_544),                      # seed 000 VGG-16 Keras total
])
def test_every_slide_shorthand_reads_as_its_exact_value(text, exact):
    assert parse_count(text).matches(exact)


def test_a_truncated_shorthand_is_not_rounding():
    # seed 000 GoogLeNet slide: 7·7·1024·1024 = 51,380,224 written "51.3M" (cut off, 51.4M rounded)
    number = parse_count("51.3M")
    assert not number.matches(51_380_224)
    assert number.truncates(51_380_224)
    assert number.rounded(51_380_224) == "51.4M"


def test_k_is_1000_or_1024_as_asked():
    number = parse_count("784K")                # 112·112·64 = 802,816 = 784 × 1024
    assert not number.matches(802_816, 1000)
    assert number.matches(802_816, 1024)
    assert parse_count("1 KiB", memory=True).matches(1024, 1000)  # an explicit binary unit ignores the base


@pytest.mark.parametrize("text, value, byte_unit", [
    ("0.8 MB", 800_000, True), ("93MB", 93_000_000, True), ("150528 B", 150_528, True), ("12 kB", 12_000, True),
    ("3.2M", 3_200_000, False), ("93MB / image", 93_000_000, True),
])
def test_memory_units(text, value, byte_unit):
    number = parse_count(text, memory=True)
    assert number.matches(value) and number.byte_unit is byte_unit


def test_b_is_billion_for_counts_and_bytes_for_memory():
    assert parse_count("1.8B").matches(1_800_000_000)
    assert parse_count("180B", memory=True).byte_unit


@pytest.mark.parametrize("text", ["", "   ", "abc", "-5", "12 apples", "1.2.3", "x" * 500, "nan", True, -3,
                                  float("nan"), "1,72,8", "3.2Q"])
def test_unreadable_counts(text):
    with pytest.raises(Unreadable):
        parse_count(text)


@pytest.mark.parametrize("text, dims, batch", [
    ("14x14x512", (14, 14, 512), None), ("(None, 112, 112, 64)", (112, 112, 64), "None"),
    ("28 × 28 × 6", (28, 28, 6), None), ("[1x1x4096]", (1, 1, 4096), None), ("4096", (4096,), None),
    ([28, 28, 6], (28, 28, 6), None), ([None, 7, 7, 512], (7, 7, 512), "None"), ("$28 \\times 28 \\times 6$",
                                                                                 (28, 28, 6), None),
    ("6*28*28", (6, 28, 28), None), ("N, 3, 224, 224", (3, 224, 224), "N"),
])
def test_shapes_as_written(text, dims, batch):
    answer = parse_shape(text)
    assert answer.dims == dims and answer.batch == batch


@pytest.mark.parametrize("text", ["", "abc", "28x28xsix", "0x5x5", "(None,)", "1x2x3x4x5x6", "28.5x28x6"])
def test_unreadable_shapes(text):
    with pytest.raises(Unreadable):
        parse_shape(text)


def test_shape_conventions_are_named():
    expected = (6, 28, 14)   # C, H, W with H ≠ W, so each order is told apart
    assert shape_readings(parse_shape("14x28x6"), expected) == ["W×H×D (lecture)"]
    assert shape_readings(parse_shape("(None, 28, 14, 6)"), expected) == ["H×W×C (Keras)"]
    assert shape_readings(parse_shape("6x28x14"), expected) == ["C×H×W (PyTorch)"]
    assert shape_readings(parse_shape("28x6x14"), expected) == []
    assert shape_readings(parse_shape("8x6x28x14"), expected, batch=8) == ["C×H×W (PyTorch)"]
    assert shape_readings(parse_shape("[1x1x4096]"), (4096,)) == ["1×1×F (flat)"]


@given(st.integers(min_value=0, max_value=10**15))
def test_any_integer_written_exactly_reads_back(n):
    for text in (str(n), f"{n:,}", f"{n:_}"):
        number = parse_count(text)
        assert number.matches(n) and not number.matches(n + 1)


@given(st.integers(min_value=1000, max_value=10**12), st.integers(min_value=0, max_value=3))
def test_a_rounded_shorthand_always_matches_its_value(n, decimals):
    for power, suffix in ((3, "K"), (6, "M"), (9, "G")):
        if n >= 10**power:
            assert parse_count(f"{n / 10**power:.{decimals}f}{suffix}").matches(n)


@given(st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=5),
       st.sampled_from(["x", "×", " × ", ", ", "*"]))
def test_any_shape_reads_back(dims, separator):
    assert parse_shape(separator.join(map(str, dims))).dims == tuple(dims)


@settings(max_examples=300)
@given(st.text(max_size=60))
def test_garbage_gives_a_number_or_unreadable(text):
    for memory in (False, True):
        with contextlib.suppress(Unreadable):
            parse_count(text, memory=memory)
    with contextlib.suppress(Unreadable):
        parse_shape(text)
