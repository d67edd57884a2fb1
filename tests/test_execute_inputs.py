"""What `archcalc run` reads: images turned into the network's channels within a pixel limit known from
the header, and weights as .npz or PyTorch state_dict files (tests/hostile/images and weights hold the
hostile ones)."""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib

import numpy as np
import pytest
from click.testing import CliRunner

import archcalc
from archcalc.cli import main
from archcalc.errors import ArchcalcError, ExecutionError
from archcalc.executor import inputs, weights


@pytest.fixture(name="Image")
def pillow_image():
    """Pillow's `Image` module: the image tests skip without Pillow, the weight tests run."""
    return pytest.importorskip("PIL.Image")


def unchecked(shape):
    """The `check` of `read_input` when no network is at stake."""


def save(tmp_path, name, picture, **options):
    path = tmp_path / name
    picture.save(path, **options)
    return str(path)


def test_grey_alpha_is_grey_for_a_grey_network_and_rgb_for_a_colour_one(tmp_path, Image):
    pixels = np.random.default_rng(0).integers(0, 256, (5, 7, 2), dtype=np.uint8)
    path = save(tmp_path, "la.png", Image.fromarray(pixels, "LA"))
    grey = inputs.read_input(path, 2, 1, unchecked)
    assert grey.shape == (2, 1, 5, 7)
    np.testing.assert_array_equal(grey[0, 0], pixels[..., 0] / np.float32(255))
    colour = inputs.read_input(path, 1, 3, unchecked)
    assert colour.shape == (1, 3, 5, 7)
    assert all(np.array_equal(colour[0, c], grey[0, 0]) for c in range(3))


def test_rgba_drops_alpha_and_keeps_the_colours(tmp_path, Image):
    pixels = np.random.default_rng(1).integers(0, 256, (4, 6, 4), dtype=np.uint8)
    path = save(tmp_path, "rgba.png", Image.fromarray(pixels, "RGBA"))
    np.testing.assert_array_equal(inputs.read_input(path, 1, 3, unchecked)[0],
                                  pixels[..., :3].transpose(2, 0, 1) / np.float32(255))


def test_sixteen_bit_grey_is_scaled_by_65535(tmp_path, Image):
    pixels = np.array([[0, 1, 65535], [256, 32768, 40000]], dtype=np.uint16)
    path = save(tmp_path, "grey16.png", Image.fromarray(pixels))
    np.testing.assert_allclose(inputs.read_input(path, 1, 1, unchecked)[0, 0], pixels / 65535, rtol=1e-7)


def test_palette_and_cmyk_become_their_colours(tmp_path, Image):
    palette = Image.new("P", (2, 1))
    palette.putpalette([10, 20, 30, 200, 100, 50])
    palette.putdata([0, 1])
    path = save(tmp_path, "p.png", palette)
    np.testing.assert_array_equal(inputs.read_input(path, 1, 3, unchecked)[0, :, 0],
                                  np.array([[10, 200], [20, 100], [30, 50]], np.float32) / np.float32(255))
    cmyk = Image.new("CMYK", (2, 2), (0, 0, 0, 0))  # no ink: white
    path = save(tmp_path, "white.tiff", cmyk)
    np.testing.assert_array_equal(inputs.read_input(path, 1, 3, unchecked), np.ones((1, 3, 2, 2)))


def test_an_image_is_refused_from_its_header_before_a_pixel_is_decoded(tmp_path, monkeypatch, Image):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", 5_000, 5_000, 8, 0, 0, 0, 0)  # 25 M pixels: under Pillow's limit
    path = tmp_path / "big.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))
    monkeypatch.setattr(inputs, "_pixels", lambda *a: pytest.fail("decoded"))
    with pytest.raises(ExecutionError, match="big.png: the image has more than the 16,777,216 pixels"):
        inputs.read_input(str(path), 1, 1, unchecked)


def test_the_network_memory_check_runs_before_decoding(tmp_path, monkeypatch, Image):
    path = save(tmp_path, "g.png", Image.new("L", (40, 30)))
    monkeypatch.setattr(inputs, "_pixels", lambda *a: pytest.fail("decoded"))

    def refuse(shape):
        assert shape == (1, 30, 40)
        raise ExecutionError("predicted memory too large")
    with pytest.raises(ExecutionError, match=r"too large \(with the input .*g.png, 1×30×40\)"):
        inputs.read_input(path, 1, 1, refuse)


def test_a_network_of_other_channels_takes_no_image(tmp_path, Image):
    path = save(tmp_path, "g.png", Image.new("L", (4, 4)))
    with pytest.raises(ExecutionError, match="g.png for a network of 4 input channels"):
        inputs.read_input(path, 1, 4, unchecked)


def test_run_reads_a_grey_alpha_image_as_lenets_one_channel(tmp_path, Image):
    path = save(tmp_path, "digit.png", Image.new("LA", (32, 32), (255, 0)))
    result = CliRunner().invoke(main, ["run", "lenet5", "--input-file", path])
    assert result.exit_code == 0, result.output
    assert "input (1, 1, 32, 32)" in result.output


def test_a_fifo_is_not_opened(tmp_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    with pytest.raises(ExecutionError, match="not a regular file"):
        inputs.read_input(str(fifo), 1, 1, unchecked)


# --- weights -------------------------------------------------------------------------------------------
def test_run_reads_a_pytorch_state_dict_as_the_same_weights_as_npz(tmp_path):
    torch = pytest.importorskip("torch")
    network = archcalc.to_torch("lenet5")
    torch.save(network.state_dict(), tmp_path / "lenet5.pt")
    archcalc.save_weights(archcalc.load_weights("lenet5", network), tmp_path / "lenet5.npz")
    x = np.random.default_rng(0).normal(size=(1, 1, 32, 32)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    outputs = []
    for name in ("lenet5.pt", "lenet5.npz"):
        result = CliRunner().invoke(main, ["run", "lenet5", "--input-file", str(tmp_path / "x.npy"), "--weights",
                                           str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        outputs.append([line for line in result.output.splitlines() if line.startswith("  sample")])
    assert outputs[0] == outputs[1]
    with torch.no_grad():
        expected = network(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(archcalc.execute("lenet5", x, str(tmp_path / "lenet5.pt")), expected, rtol=1e-5,
                               atol=1e-5)


def test_a_bfloat16_state_dict_is_read_as_float32(tmp_path):
    torch = pytest.importorskip("torch")
    state = {k: v.to(torch.bfloat16) for k, v in archcalc.to_torch("lenet5").state_dict().items()}
    torch.save(state, tmp_path / "half.pt")
    loaded = archcalc.load_weights("lenet5", str(tmp_path / "half.pt"))
    assert loaded["C1.weight"].dtype == np.float32
    np.testing.assert_array_equal(loaded["C1.weight"], state["C1.weight"].float().numpy())


def test_a_state_dict_file_is_checked_before_torch_reads_it(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    torch.save(archcalc.to_torch("lenet5").state_dict(), tmp_path / "w.pt")
    monkeypatch.setattr(weights, "MAX_PICKLE_BYTES", 100)
    monkeypatch.setattr(torch, "load", lambda *a, **k: pytest.fail("read"))
    with pytest.raises(ExecutionError, match="data.pkl has .* bytes, more than the 100"):
        archcalc.load_weights("lenet5", str(tmp_path / "w.pt"))


def test_a_wrong_shape_in_a_state_dict_file_is_found_before_its_data_is_read(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    state = archcalc.to_torch("lenet5").state_dict()
    state["C1.weight"] = torch.zeros(6, 1, 3, 3)
    torch.save(state, tmp_path / "w.pt")
    monkeypatch.setattr(weights._Tensor, "read", lambda self: pytest.fail("read"))
    with pytest.raises(ExecutionError, match=r"w.pt': weight 'C1.weight' has shape \(6, 1, 3, 3\)"):
        archcalc.load_weights("lenet5", str(tmp_path / "w.pt"))


def test_weights_that_are_no_file_archcalc_reads_name_the_formats(tmp_path):
    (tmp_path / "x.pt").write_bytes(b"garbage")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("a.npy", b"text")
    (tmp_path / "y.npz").write_bytes(out.getvalue())
    for name in ("x.pt", "y.npz"):
        result = CliRunner().invoke(main, ["run", "lenet5", "--weights", str(tmp_path / name)])
        assert result.exit_code == 2 and name in result.output and "torch.save" in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1 and "magic" not in result.output
    with pytest.raises(ArchcalcError, match="PyTorch state_dict"):
        archcalc.load_weights("lenet5", str(tmp_path / "x.pt"))
