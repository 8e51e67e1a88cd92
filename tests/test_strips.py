"""Big images in bounded memory (synth/image/strips.py): the generators run layer by layer over
strips of rows give the whole graph's outputs, for both families and every padding variant."""
import numpy as np
import pytest
from safetensors.numpy import load_file

from synth.image import Generator, strips
from synth.image.convert import convert_state_dict

# Tolerance: the same float32 network summed in another order (strips of rows; transposed
# convs by tf.nn.conv2d_transpose) and with float64 rather than float32 moments. Each conv
# output is a sum of <= 7*7*8 = 392 products of O(1) terms (rounding <= 392 * 6e-8 = 2.4e-5 at
# worst), instance norm re-scales rather than compounds it, and tanh's slope is <= 1: 1e-4
# leaves room, a tenth of the 1e-3; we see 5.1e-6. A strip that missed a row of its
# halo would be off by O(0.1).
TOLERANCE = 1e-4


def load(source):
    from conftest import FIXTURES

    if source == "torch_resnet_tiny":  # the authors' stride padding: one pixel on each side
        return convert_state_dict(load_file(str(FIXTURES / source / "state_dict.safetensors")))
    return Generator.from_pretrained(str(FIXTURES / source))


@pytest.mark.parametrize("strip_bytes", [1, 20_000])  # one row a strip; a few rows
@pytest.mark.parametrize("source, height, width", [
    ("cyclegan_keras_tiny/savedmodel", 37, 53),   # runs at 40x56
    ("cyclegan_keras_tiny/savedmodel", 90, 61),   # 92x64
    ("torch_resnet_tiny", 37, 53),
    ("torch_resnet_tiny", 90, 61),
    ("unet_tutorial_tiny/savedmodel", 37, 300),   # 256x512
    ("unet_addons_tiny/model.h5", 200, 53),       # 256x256
])
def test_strips_give_the_whole_graphs_output(source, height, width, strip_bytes, monkeypatch):
    generator = load(source)
    generator.engine = "tensorflow"  # the whole graph in fp32, as the strips compute it
    x = np.random.default_rng(0).uniform(-1, 1, (2, height, width, 3)).astype(np.float32)
    monkeypatch.setattr(strips, "THRESHOLD", float("inf"))
    whole = generator.infer(x)
    ran, run = [], strips.infer
    monkeypatch.setattr(strips, "infer", lambda generator, images: ran.append(images.shape) or run(generator, images))
    monkeypatch.setattr(strips, "THRESHOLD", 0)
    monkeypatch.setattr(strips, "STRIP_BYTES", strip_bytes)
    bounded = generator.infer(x)
    assert ran == [(2, generator.padded_side(height), generator.padded_side(width), 3)]
    assert bounded.shape == whole.shape == x.shape
    assert np.abs(bounded - whole).max() <= TOLERANCE


def test_threshold_counts_the_pixels_of_the_call():
    """512² runs as the whole graph; 1024², or four 512² images at once, in strips."""
    assert not strips.bounded((1, 512, 512, 3))
    assert strips.bounded((1, 1024, 1024, 3)) and strips.bounded((4, 512, 512, 3))


def test_moments_are_exact_under_a_large_mean():
    """Strip by strip, with a mean 10⁴ times the spread: float64 E[x²] - E[x]² would keep ~8
    digits of the variance; the merged per-strip deviations keep ~15."""
    x = (1e4 + np.random.default_rng(0).normal(0, 1, (1, 70, 30, 4))).astype(np.float32)
    moments = strips.Moments(4)
    for start in range(0, 70, 16):
        moments.add(x[:, start:start + 16])
    exact = x.astype(np.float64).reshape(-1, 4)
    np.testing.assert_allclose(moments.mean, exact.mean(0), rtol=1e-14)
    np.testing.assert_allclose(moments.variance, exact.var(0), rtol=1e-12)
