"""U-Net's lecture table, read as a student reads the slide: the sizes of Fig. 1 of Ronneberger, Fischer &
Brox 2015 (572 → 570 → 568 → 284 … 28, then 56 → 54 → 52 … 388) in the rendered rows, each copy-and-crop
row with the sizes it cuts between; and a crop's row in every style, the (C, H, W) map in each style's order."""

from __future__ import annotations

import re

import pytest

import archcalc
from archcalc.report import render, to_table

# Fig. 1: the size written beside each map, contracting path (the input tile first) and expansive path
CONTRACTING = [572, 570, 568, 284, 282, 280, 140, 138, 136, 68, 66, 64, 32, 30, 28]
EXPANSIVE = [56, 54, 52, 104, 102, 100, 200, 198, 196, 392, 390, 388]
CHANNELS = [64, 128, 256, 512, 1024]


def text(name: str, style: str, source=None) -> str:
    report = archcalc.analyze(source or name)
    return render(to_table(report, style), "terminal", color=False, width=400)


def lecture_rows(name: str) -> dict[str, list[str]]:
    """Each row of the lecture table by layer name: its cells (Input W×H×D, Kernel, Output W×H×D, Params)."""
    rows = {}
    for line in text(name, "lecture").splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if ": " in cells[0] and len(cells) == 5:
            rows[cells[0].split(": ")[0]] = cells[1:]
    return rows


def side(cell: str) -> int:
    """The width of a `W × H × D` cell of a square map (W = H)."""
    w, h, _ = (int(v) for v in cell.split(" × "))
    assert w == h
    return w


def test_the_lecture_table_reads_fig_1_of_the_paper():
    """Fig. 1 (copied above from the figure, also stored in architectures/unet.yaml `reference:`)."""
    assert archcalc.load("unet").spec.reference["paper"]["contracting"] == CONTRACTING
    rows = lecture_rows("unet")
    contracting = [side(rows["down1/conv1"][0])]
    for level in ("down1", "down2", "down3", "down4", "bottom"):
        contracting += [side(rows[f"{level}/conv1"][2]), side(rows[f"{level}/conv2"][2])]
        if level != "bottom":
            contracting.append(side(rows[f"pool{level[-1]}"][2]))
    assert contracting == CONTRACTING
    expansive = []
    for level in (4, 3, 2, 1):
        expansive += [side(rows[f"upconv{level}"][2]), side(rows[f"up{level}/conv1"][2]),
                      side(rows[f"up{level}/conv2"][2])]
    assert expansive == EXPANSIVE
    assert rows["classes"][2] == "388 × 388 × 2"


@pytest.mark.parametrize("level", [4, 3, 2, 1])
def test_each_crop_row_shows_the_cut(level):
    """Copy and crop: the skip map of the contracting path (the last 3×3 convolution of its level) cut at
    its centre to the up-convolution's size: 64 → 56 cuts (64 − 56)/2 = 4 per side, … 568 → 392 cuts 88."""
    skip, up = CONTRACTING[3 * level - 1], EXPANSIVE[3 * (4 - level)]
    channels = CHANNELS[level - 1]
    rows = lecture_rows("unet")
    crop = rows[f"crop{level}"]
    assert crop[0] == f"{skip} × {skip} × {channels}"
    assert crop[1] == f"{skip} → {up}, {(skip - up) // 2} cut per side"
    assert crop[2] == f"{up} × {up} × {channels}"
    assert crop[3] == "0"
    # after the concatenation the next convolution reads twice the channels
    assert rows[f"up{level}/conv1"][0] == f"{up} × {up} × {2 * channels}"


def test_unet_same_needs_no_crop():
    rows = lecture_rows("unet-same")
    assert not any(name.startswith("crop") for name in rows)
    assert rows["classes"][2] == "256 × 256 × 2"


# A map that is not square, so that each style's order of W and H shows: (C, H, W) = (4, 8, 18) cropped by
# (1, 1) rows and (2, 2) columns to (4, 6, 14).
CUT = {"name": "narrow", "input": [3, 10, 20], "layers": [
    {"name": "conv", "type": "conv", "out_channels": 4, "kernel_size": 3},
    {"name": "cut", "type": "crop", "cropping": [1, 2]}]}

# style: what the crop's row shows (the cut or nothing of a pooling), in that style's own notation
STYLES = {
    "full": ["4×8×18", "4×6×14"],                                   # C×H×W
    "lecture": ["18 × 8 × 4", "18×8 → 14×6, cut 2+2 × 1+1", "14 × 6 × 4"],   # W×H×D
    "structural": ["18", "8", "4", "14", "6", "−1/−2"],            # W, H, D; half the pads H/W
    "cs231n": ["CROP:", "[14x6x4]"],
    "paper": ["crop", "14x6x4"],
    "keras": ["Cropping2D", "(None, 6, 14, 4)"],                    # H, W, C
    "keras3": ["Cropping2D", "(None, 6, 14, 4)"],
}


@pytest.mark.parametrize("style", sorted(STYLES))
def test_a_crop_row_in_every_style(style):
    line = next(line for line in text("cut", style, CUT).splitlines()
                if re.search(r"\bcut\b|^CROP:|^crop\b", line.strip()))
    position = 0
    for shown in STYLES[style]:
        found = line.find(shown, position)
        assert found >= 0, (shown, line)
        position = found + len(shown)
    assert "pool" not in line.lower()


# Maps of one and of three spatial axes: M5's first convolution (Dai et al. 2017: 128 filters, 32000 samples
# at stride 4 → 8000) and C3D's (Tran et al. 2015: 64 filters on 16 frames of 112 × 112), written width first
# and the channels last by every lecture style, as a 2-D map is (never read as 1 × 1 × ... of a vector).
SIGNAL_AND_CLIP = {
    ("m5", "lecture"): "8000 × 128", ("m5", "cs231n"): "[8000x128]", ("m5", "paper"): "8000x128",
    ("c3d", "lecture"): "112 × 112 × 16 × 64", ("c3d", "cs231n"): "[112x112x16x64]",
    ("c3d", "paper"): "112x112x16x64",
}


@pytest.mark.parametrize("name, style", sorted(SIGNAL_AND_CLIP))
def test_signals_and_clips_print_width_first_in_every_style(name, style):
    lines = text(name, style).splitlines()
    first_conv = next(line for line in lines if re.match(r"\s*(conv1a?\b|CONV|convolution)", line))
    assert SIGNAL_AND_CLIP[name, style] in first_conv, first_conv
    assert "1x1x" not in first_conv and "1 × 1 × " not in first_conv
