"""Number formatting: exact, decimal and binary shorthands, and the slides' own shorthands."""

from __future__ import annotations

import pytest

from archcalc.units import count, nbytes, paper_k, paper_m, shorthand, slide_shorthand


@pytest.mark.parametrize(("n", "text"), [
    # seed 004, cs231n VGG-16 walk-through: every memory shorthand the slide prints.
    (224 * 224 * 3, "150K"), (224 * 224 * 64, "3.2M"), (112 * 112 * 64, "800K"), (112 * 112 * 128, "1.6M"),
    (56 * 56 * 128, "400K"), (56 * 56 * 256, "800K"), (28 * 28 * 256, "200K"), (28 * 28 * 512, "400K"),
    (14 * 14 * 512, "100K"), (7 * 7 * 512, "25K"), (4096, "4096"), (1000, "1000"),
])
def test_slide_shorthand_reproduces_seed_004(n: int, text: str):
    assert slide_shorthand(n) == text


@pytest.mark.parametrize(("n", "text"), [
    # seed 000, GoogLeNet 1×1 bottleneck slide.
    ((14 * 14 * 48) * (5 * 5 * 480), "112.9M"), ((14 * 14 * 16) * 480, "1.5M"),
    ((14 * 14 * 48) * (5 * 5 * 16), "3.8M"), (1_505_280 + 3_763_200, "5.3M"),
    (7 * 7 * 1024 * 1024, "51.4M"),  # the slide's "51.3M" truncates 51,380,224
    (1728, "1.7K"), (999, "999"), (999_999, "1.0M"),
])
def test_decimal_shorthand(n: int, text: str):
    assert shorthand(n) == text


def test_binary_and_exact():
    assert count(1728) == "1,728"
    assert count(2 * 1024 * 1024, "binary") == "2.0M"
    assert count(2 * 1024 * 1024, "si") == "2.1M"


def test_bytes():
    assert nbytes(60_950_432) == "60,950,432 B"
    assert nbytes(60_950_432, "si") == "61.0 MB"
    assert nbytes(60_950_432, "binary") == "58.1 MiB"


def test_paper_shorthands():
    # seed 002, GoogLeNet table: "convolution 3x3/1 … 112K 360M" (64·64 + 64·9·192 weights) and
    # "linear … 1000K 1M" (1024·1000 weights).
    assert paper_k(64 * 64 + 64 * 9 * 192) == "112K"
    assert paper_m(56 * 56 * (64 * 64 + 64 * 9 * 192)) == "360M"
    assert paper_k(1024 * 1000) == "1000K" and paper_m(1024 * 1000) == "1M"
    # inception (3a): 192·64 + 192·96 + 9·96·128 + 192·16 + 25·16·32 + 192·32 = 163,328 weights, "159K"
    assert paper_k(192 * 64 + 192 * 96 + 9 * 96 * 128 + 192 * 16 + 25 * 16 * 32 + 192 * 32) == "159K"
