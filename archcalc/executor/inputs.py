"""The input of `archcalc run --input-file`: a `.npy` array or an image, checked before it is decoded.

An image is read with Pillow from a format in `IMAGE_FORMATS` only (never PostScript, which Pillow
hands to Ghostscript), one frame (an animated image is refused), at most `MAX_IMAGE_PIXELS` pixels,
all known from its header before any pixel is decoded. Its pixels become the network's channels: a
network of 1 channel gets the image as grey (luma of a colour image), one of 3 channels as RGB (a grey
image repeated); an alpha channel is dropped, a palette, CMYK or other colour space converted. Values
are scaled to [0, 1] (8-bit by 255, 16-bit by 65535); a 32-bit float image is taken as it is. A network
of any other channel count takes a `.npy` file.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import ArchcalcError, ExecutionError, dims, shorten

#: The most pixels (width × height) an input image may have: 4096 × 4096.
MAX_IMAGE_PIXELS = 2**24
#: The image formats read (Pillow's names).
IMAGE_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP", "PPM")
_SIXTEEN_BITS = ("I;16", "I;16L", "I;16B", "I;16N", "I")


def read_input(path: str, batch: int, channels: int, check: Callable[[tuple[int, ...]], None]) -> Any:
    """An N×C×H×W array from a .npy file (with or without the batch axis) or an image for a network of
    `channels` input channels. `check(shape)` runs on an image's C×H×W shape, known from its header,
    before it is decoded (the network's memory check). A .npy file is mapped, not read, and one sample
    is repeated as a view: the executor checks the memory the batch needs before it copies anything."""
    if not os.path.isfile(path):
        raise ExecutionError(f"cannot read {path}: not a regular file")
    array = _npy(path) if path.lower().endswith(".npy") else _image(path, channels, check)
    from .backend import is_real

    if not is_real(array.dtype):
        raise ExecutionError(f"cannot read {path}: not an array of real numbers ({array.dtype})")
    if array.ndim in (1, 3):
        array = np.broadcast_to(array, (batch, *array.shape))
    return array


def _npy(path: str) -> Any:
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise ExecutionError(f"cannot read {path}: {exc}") from None
    except MemoryError:
        raise ExecutionError(f"cannot read {path}: the array is too large for memory") from None


def _image(path: str, channels: int, check: Callable[[tuple[int, ...]], None]) -> np.ndarray:
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        raise ExecutionError("reading images needs Pillow (pip install pillow); or give a .npy file") from None
    if channels not in (1, 3):
        raise ExecutionError(f"cannot read {path} for a network of {channels} input channels: an image gives 1 "
                             "(grey) or 3 (RGB); give a .npy file")
    too_large = f"cannot read {path}: the image has more than the {MAX_IMAGE_PIXELS:,} pixels archcalc reads"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)  # Pillow's own limit, passed
            image = Image.open(path, formats=IMAGE_FORMATS)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ExecutionError(too_large) from None
    except UnidentifiedImageError:
        raise ExecutionError(f"cannot read {path}: not a .npy file or an image archcalc reads "
                             f"({', '.join(IMAGE_FORMATS)})") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ExecutionError(f"cannot read {path}: a damaged image ({shorten(str(exc), 100)})") from None
    try:
        with image:
            width, height = image.size
            frames = getattr(image, "n_frames", 1)
            if width * height > MAX_IMAGE_PIXELS:
                raise ExecutionError(f"{too_large} ({width:,}×{height:,})")
            if frames != 1:
                raise ExecutionError(f"cannot read {path}: an animated image of {frames:,} frames is not one input; "
                                     "give one frame")
            try:
                check((channels, height, width))
            except ArchcalcError as exc:
                exc.message += f" (with the input {path}, {dims((channels, height, width))})"
                raise
            return _pixels(image, channels)
    except MemoryError:
        raise ExecutionError(f"cannot read {path}: the image is too large for memory") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:  # Pillow's ways of saying truncated or corrupt
        raise ExecutionError(f"cannot read {path}: a damaged image ({shorten(str(exc), 100)})") from None


def _pixels(image: Any, channels: int) -> np.ndarray:
    """The decoded image as a C×H×W float32 array of `channels` (1 or 3) channels."""
    if image.mode in _SIXTEEN_BITS or image.mode == "F":
        grey = np.asarray(image, dtype=np.float32)
        grey = grey / np.float32(65535) if image.mode in _SIXTEEN_BITS else grey
        return np.repeat(grey[None], channels, axis=0)
    mode = "L" if channels == 1 else "RGB"
    try:
        converted = image.convert(mode)
    except ValueError:  # a colour space Pillow converts only to RGB (LAB)
        converted = image.convert("RGB").convert(mode)
    pixels = np.asarray(converted, dtype=np.float32) / np.float32(255)
    return pixels[None] if channels == 1 else pixels.transpose(2, 0, 1)
