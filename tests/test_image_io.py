"""An upload corpus made here (no binary junk in git): every valid image comes out RGB
and of the right shape, every invalid one raises ImageError with a readable message."""
import io
import resource
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from synth.errors import ImageError
from synth.image import load_image
from synth.image.io import from_model_output, to_model_input


def _bytes(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _exif_rotated_jpeg() -> bytes:
    """A 40x20 JPEG whose EXIF says 'rotate 90°': shown upright it is 20x40."""
    image = Image.new("RGB", (40, 20), "red")
    image.paste((0, 0, 255), (0, 0, 10, 20))  # a blue band on the left edge
    exif = Image.Exif()
    exif[0x0112] = 6
    return _bytes(image, "JPEG", exif=exif.tobytes())


def _animated_gif() -> bytes:
    frames = [Image.new("P", (30, 20), i * 60) for i in range(3)]
    return _bytes(frames[0], "GIF", save_all=True, append_images=frames[1:])


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height, with almost no data behind it."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 100)) + chunk(b"IEND", b""))


def _palette_with_transparency() -> bytes:
    image = Image.new("P", (12, 10), 1)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.paste(0, (0, 0, 6, 10))
    return _bytes(image, "PNG", transparency=0)


VALID = {
    "exif-rotated jpeg": (_exif_rotated_jpeg, (40, 20)),
    "rgba png": (lambda: _bytes(Image.new("RGBA", (33, 17), (255, 0, 0, 0)), "PNG"), (17, 33)),
    "cmyk jpeg": (lambda: _bytes(Image.new("CMYK", (24, 16), (0, 255, 255, 0)), "JPEG"), (16, 24)),
    "16-bit png": (lambda: _bytes(Image.fromarray(np.full((9, 14), 65535, np.uint16)), "PNG"), (9, 14)),
    "palette with transparency": (_palette_with_transparency, (10, 12)),
    "animated gif": (_animated_gif, (20, 30)),
    "1x1": (lambda: _bytes(Image.new("RGB", (1, 1), "white"), "PNG"), (1, 1)),
    "3x4001": (lambda: _bytes(Image.new("L", (3, 4001), 128), "PNG"), (1024, 1)),
    "grayscale": (lambda: _bytes(Image.new("L", (2000, 1000), 50), "PNG"), (512, 1024)),
}


@pytest.mark.parametrize("name", VALID)
def test_valid_uploads_come_out_rgb(name):
    make, shape = VALID[name]
    rgb = load_image(make())
    assert rgb.dtype == np.uint8 and rgb.shape == shape + (3,), name


def test_exif_orientation_applied():
    rgb = load_image(_exif_rotated_jpeg())
    assert rgb[2, 10, 2] > 200 and rgb[2, 10, 0] < 60  # the blue band is now on top
    assert rgb[-2, 10, 0] > 200


def test_transparency_on_white_and_16_bit_scaled():
    assert (load_image(VALID["rgba png"][0]()) == 255).all()
    assert (load_image(VALID["16-bit png"][0]()) == 255).all()
    palette = load_image(_palette_with_transparency())
    assert (palette[:, :6] == 255).all() and (palette[:, 8:] == [255, 0, 0]).all()


def _truncated_jpeg() -> bytes:
    data = _bytes(Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 200, 3), np.uint8)), "JPEG")
    return data[: len(data) // 3]


INVALID = {
    "truncated jpeg": (_truncated_jpeg, "damaged or incomplete"),
    "text file named .jpg": (lambda: b"this is not an image\n" * 10, "not an image"),
    "empty": (lambda: b"", "not an image"),
    "bomb": (lambda: _png_header(30000, 30000), "too large"),
}


@pytest.mark.parametrize("name", INVALID)
def test_invalid_uploads_raise_readable_error(name, tmp_path):
    make, message = INVALID[name]
    path = tmp_path / "upload.jpg"
    path.write_bytes(make())
    with pytest.raises(ImageError, match=message):
        load_image(path)


def test_bomb_refused_before_decoding():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ImageError, match="too large: over the 50 MP limit"):
        load_image(_png_header(30000, 30000))
    with pytest.raises(ImageError, match="too large"):  # over our limit, under Pillow's 2x
        load_image(_png_header(8000, 8000))
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 50 * 1024  # decoding it would take 2.7 GB


def test_working_size_never_upscales():
    assert load_image(_bytes(Image.new("RGB", (300, 200)), "PNG"), max_side=1024).shape == (200, 300, 3)
    assert load_image(_bytes(Image.new("RGB", (300, 200)), "PNG"), max_side=150).shape == (100, 150, 3)


@pytest.mark.parametrize("height, width", [(1, 1), (10, 13), (17, 32), (1, 1024)])
def test_padding_to_multiples_of_four_round_trips(height, width):
    rgb = np.random.default_rng(1).integers(0, 256, (height, width, 3), np.uint8)
    x = to_model_input(rgb)
    assert x.shape[0] % 4 == 0 and x.shape[1] % 4 == 0 and min(x.shape[:2]) >= 8
    assert x.min() >= -1 and x.max() <= 1
    back = from_model_output(x, height, width)
    assert back.size == (width, height)
    np.testing.assert_array_equal(np.asarray(back), rgb)
