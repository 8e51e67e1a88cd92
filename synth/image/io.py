"""Any upload -> a clean RGB array the generator can take, or a typed error a person can act on."""
from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from synth.errors import ImageError, OptionError

MAX_PIXELS = 50_000_000          # refuse larger images before decoding them (50 MP)
MAX_FILE_BYTES = 50 * 1024 ** 2  # and files larger than this before reading them
DEFAULT_MAX_SIDE = 1024          # working size: longest side, never upscaled
MIN_SIDE = 8                     # the generator downsamples twice and reflect-pads by 1

Image.MAX_IMAGE_PIXELS = MAX_PIXELS


def _open(source) -> Image.Image:
    if isinstance(source, Image.Image):
        return source
    if isinstance(source, np.ndarray):
        shape = source.shape
        if source.ndim == 3 and shape[2] == 1:
            source = source[:, :, 0]  # one channel: grey
        if source.dtype != np.uint8 or source.ndim not in (2, 3) or source.ndim == 3 and shape[2] not in (2, 3, 4):
            raise ImageError(f"array images must be uint8 (H, W) or (H, W, C) with 1 to 4 channels, "
                             f"got {source.dtype} {shape}", reason="bad_array")
        return Image.fromarray(source)
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise ImageError(f"no such image file: {path}")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise _too_big(path.stat().st_size, f"{path.name} is")
        source = path.read_bytes()
    if isinstance(source, (bytes, bytearray)):
        if len(source) > MAX_FILE_BYTES:
            raise _too_big(len(source), "the file is")
        source = io.BytesIO(source)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(source)  # reads the header only
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        if isinstance(e, UnidentifiedImageError):
            raise ImageError("this file is not an image Pillow can read (try JPEG, PNG, WebP or GIF)",
                             reason="not_image") from e
        raise ImageError(f"the image is too large: over the {MAX_PIXELS // 1_000_000} MP limit",
                         reason="too_many_pixels", limit=MAX_PIXELS // 1_000_000) from e
    except OSError as e:
        raise ImageError(f"the file could not be read as an image: {e}", reason="not_image") from e


def _too_big(size: int, what: str) -> ImageError:
    megabytes, limit = size / 1024 ** 2, MAX_FILE_BYTES // 1024 ** 2
    return ImageError(f"{what} {megabytes:.0f} MB; the limit is {limit} MB", reason="too_large_file",
                      megabytes=round(megabytes), limit=limit)


def _flatten(image: Image.Image) -> Image.Image:
    """Any mode -> RGB: transparency on white, 16-bit scaled to 8, CMYK/palette/grey converted."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        values = np.asarray(image, np.float64)
        if image.mode != "F" and values.max() > 255:
            values = values / 257.0
        image = Image.fromarray(np.clip(values, 0, 255).astype(np.uint8), "L")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")


def image_size(source) -> tuple[int, int]:
    """(width, height) of an upload as it is seen (EXIF rotation applied), from its header."""
    image = _open(source)
    turned = image.getexif().get(0x0112) in (5, 6, 7, 8)  # orientations that swap the sides
    return (image.height, image.width) if turned else image.size


def load_image(source, max_side: int = DEFAULT_MAX_SIDE) -> np.ndarray:
    """An upload (path, bytes, file, PIL image or uint8 array) -> uint8 RGB (H, W, 3).

    Upright (EXIF orientation applied), first frame of an animation, longest side at
    most `max_side` (1 or more, else OptionError). Raises ImageError for what is not a
    usable image, an empty one (0 pixels wide or high) included; 1×1 is the smallest."""
    if max_side < 1:
        raise OptionError(f"max_side must be 1 or more, got {max_side}", reason="max_side", value=max_side)
    image = _open(source)
    if image.width < 1 or image.height < 1:
        raise ImageError(f"the image is {image.width}×{image.height} pixels: it needs at least 1×1",
                         reason="too_small", width=image.width, height=image.height, minimum=1)
    if image.width * image.height > MAX_PIXELS:
        raise ImageError(f"the image is {image.width}×{image.height} = "
                         f"{image.width * image.height / 1e6:.0f} MP; the limit is {MAX_PIXELS // 1_000_000} MP",
                         reason="too_many_pixels", limit=MAX_PIXELS // 1_000_000)
    try:
        image.seek(0)
        image.load()
        image = ImageOps.exif_transpose(image)
        image = _flatten(image)
    except (OSError, SyntaxError, ValueError) as e:  # truncated or corrupt data
        raise ImageError(f"the image data is damaged or incomplete: {e}", reason="damaged") from e
    if max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return np.asarray(image, np.uint8)


def to_model_input(rgb: np.ndarray, step: int = 4) -> np.ndarray:
    """uint8 (H, W, 3) -> float32 [-1, 1], reflection-padded so both sides are multiples of
    `step` (4: what the generators need; a server asks more, to run fewer shapes)."""
    height, width = rgb.shape[:2]
    pad_h = max(MIN_SIDE, -(-height // step) * step) - height
    pad_w = max(MIN_SIDE, -(-width // step) * step) - width
    x = rgb.astype(np.float32) / 127.5 - 1.0
    return np.pad(x, [(0, pad_h), (0, pad_w), (0, 0)], mode="reflect")


def from_model_output(y: np.ndarray, height: int, width: int) -> Image.Image:
    """float32 [-1, 1] -> RGB image cropped back to (height, width)."""
    pixels = np.clip((y[:height, :width] + 1.0) * 127.5 + 0.5, 0, 255).astype(np.uint8)
    return Image.fromarray(pixels, "RGB")
