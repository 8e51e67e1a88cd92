import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from safetensors.numpy import load_file, save_file

from synth.errors import CheckpointMismatch
from synth.image import Generator, GeneratorConfig, Styler, io
from synth.image.loaders import SavedModelGenerator
from synth.image.network import conv_transpose

PHOTOS = sorted((Path(__file__).parent.parent / "assets").glob("*.jpg"))


@pytest.fixture(scope="module")
def keras_generator():
    from conftest import FIXTURES

    return Generator.from_pretrained(str(FIXTURES / "cyclegan_keras_tiny" / "savedmodel"))


def test_savedmodel_loads_into_native_generator(fixtures, engine):
    keras_generator = Generator.from_pretrained(str(fixtures / "cyclegan_keras_tiny" / "savedmodel"))
    expected = np.load(fixtures / "cyclegan_keras_tiny" / "expected.npz")
    assert isinstance(keras_generator, Generator)
    assert keras_generator.config == GeneratorConfig(filters=8, n_blocks=2)
    # we see ~3.4e-6 on both
    assert np.abs(keras_generator.infer(expected["x"]) - expected["y"]).max() <= 1e-4
    assert np.abs(keras_generator.infer(expected["x_200x320"]) - expected["y_200x320"]).max() <= 1e-4
    graphs = [keras_generator._litert_features, keras_generator._litert_output] if engine == "litert" \
        else [keras_generator._graph]
    assert [graph.experimental_get_tracing_count() for graph in graphs] == [1] * len(graphs)  # one for every size
    assert keras_generator.engine == engine


def test_native_round_trip_is_exact(keras_generator, tmp_path):
    keras_generator.save_pretrained(tmp_path / "native")
    assert sorted(p.name for p in (tmp_path / "native").iterdir()) == ["config.json", "model.safetensors"]
    again = Generator.from_pretrained(str(tmp_path / "native"))
    assert again.config == keras_generator.config
    for name, value in keras_generator.get_weights().items():
        np.testing.assert_array_equal(again.get_weights()[name], value)
    x = np.random.default_rng(0).uniform(-1, 1, (1, 64, 96, 3)).astype(np.float32)
    np.testing.assert_array_equal(again.infer(x), keras_generator.infer(x))


def test_wrong_shaped_weight_names_layer_and_shapes(keras_generator, tmp_path):
    keras_generator.save_pretrained(tmp_path / "bad")
    weights = load_file(str(tmp_path / "bad" / "model.safetensors"))
    weights["block_1/conv_0/kernel"] = np.zeros((3, 3, 32, 16), np.float32)
    save_file(weights, str(tmp_path / "bad" / "model.safetensors"))
    with pytest.raises(CheckpointMismatch, match=r"'block_1/conv_0/kernel'.*\(3, 3, 32, 32\).*\(3, 3, 32, 16\)"):
        Generator.from_pretrained(str(tmp_path / "bad"))


def test_pytorch_family_config_has_biases_and_no_affine():
    layout = dict(Generator(GeneratorConfig(norm_affine=False, conv_bias=True, norm_epsilon=1e-5)).weight_layout())
    assert layout["in/conv/bias"] == (64,) and layout["up_0/conv/bias"] == (128,)
    assert not any(name.endswith(("gamma", "beta")) for name in layout)
    assert sum(np.prod(s) for s in layout.values()) == 11_378_179


def test_unknown_savedmodel_falls_back_to_its_signature(tmp_path, caplog):
    class Invert(tf.Module):
        def __init__(self):
            self.scale = tf.Variable(-1.0)

        @tf.function(input_signature=[tf.TensorSpec([None, 32, 32, 3], tf.float32)])
        def serve(self, x):
            return {"output": x * self.scale}

    module = Invert()
    tf.saved_model.save(module, str(tmp_path / "sm"), signatures={"serving_default": module.serve})
    with caplog.at_level(logging.WARNING):
        generator = Generator.from_pretrained(str(tmp_path / "sm"))
    assert isinstance(generator, SavedModelGenerator) and generator.size == (32, 32)
    assert "not recognised" in caplog.text and "32x32" in caplog.text
    x = np.full((1, 48, 64, 3), 0.5, np.float32)
    np.testing.assert_allclose(generator.infer(x), -x, atol=1e-6)


def test_styler_keeps_shape_and_aspect(keras_generator):
    styler = Styler(keras_generator, max_side=128)
    small = Image.new("RGB", (50, 30), (200, 10, 10))
    large = Image.new("RGB", (300, 200), (10, 200, 10))
    out = styler.stylize_batch([small, large, small])
    assert [o.size for o in out] == [(50, 30), (128, 85), (50, 30)]
    assert all(o.mode == "RGB" for o in out)
    np.testing.assert_array_equal(np.asarray(out[0]), np.asarray(out[2]))


def test_cli_stylize_folder_skips_bad_file(fixtures, tmp_path):
    photos = tmp_path / "in"
    photos.mkdir()
    Image.new("RGB", (40, 24), "blue").save(photos / "a.jpg")
    Image.new("RGBA", (16, 16), (0, 0, 0, 0)).save(photos / "b.png")
    (photos / "broken.jpg").write_text("not an image")
    result = subprocess.run([sys.executable, "-m", "synth", "stylize", str(photos), "-m",
                             str(fixtures / "cyclegan_keras_tiny" / "savedmodel"), "-o", str(tmp_path / "out")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "skipped" in result.stderr and "broken.jpg" in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "b.png"]
    assert Image.open(tmp_path / "out" / "a.png").size == (40, 24)



@pytest.mark.parametrize("kernel_size, crop", [(3, None), (3, 1), (4, None)])
def test_sub_pixel_form_is_conv2d_transpose(kernel_size, crop):
    """The families' three up-samplings (ResNet, the authors' ResNet, U-Net), as LiteRT's graph
    makes them, against tf.nn.conv2d_transpose; odd sides and a 1×1 image too. Each output is
    the same sum of at most 4 taps × 7 channels = 28 products of N(0, 1) terms, ~5 in size,
    in another order: float32 rounding of ~28 × 6e-8 × 5 ≈ 1e-5 (we see 6e-6)."""
    rng = np.random.default_rng(0)
    weights = {"up/kernel": tf.constant(rng.normal(size=(kernel_size, kernel_size, 5, 7)), tf.float32),
               "up/bias": tf.constant(rng.normal(size=5), tf.float32)}
    for shape in [(2, 6, 5, 7), (1, 1, 1, 7), (1, 3, 8, 7)]:
        x = tf.constant(rng.normal(size=shape), tf.float32)
        expected = conv_transpose(x, weights, "up", kernel_size, crop).numpy()
        assert expected.shape == (shape[0], 2 * shape[1], 2 * shape[2], 5)
        np.testing.assert_allclose(conv_transpose(x, weights, "up", kernel_size, crop, sub_pixel=True).numpy(),
                                   expected, rtol=0, atol=1e-4)

@pytest.mark.parametrize("source", ["cyclegan_keras_tiny/savedmodel", "unet_tutorial_tiny/savedmodel", "monet"])
def test_int8_stays_close_to_fp32_on_the_example_photos(source, fixtures):
    """One family per way conv_transpose runs (ResNet SAME, U-Net SAME with 4×4 kernels, the
    authors' ResNet with PyTorch's padding), on LiteRT with int8 weights against TensorFlow.

    int8 rounds each weight to a 255th of its output channel's range (rms error max/(127·√12),
    ~0.7% of a channel's spread when max ≈ 3σ), and XNNPACK rounds each convolution's input to
    8 bits alike: ~1% per convolution, which these ~10-convolution networks carry to 0.8-4
    levels rms of 255 (we see 36.5 to 50 dB). 30 dB allows twice the largest rms seen and
    still fails weights off by a few percent: 10% random errors give 18-22 dB."""
    name = source if source == "monet" else str(fixtures / source)
    fp32, int8 = Generator.from_pretrained(name), Generator.from_pretrained(name)
    fp32.engine, int8.engine, int8.precision = "tensorflow", "litert", "int8"
    # every shape follows from the input's: none is computed at run time (tf.shape), where
    # LiteRT's XNNPACK would leave an op to the built-in kernels, slow in int8; and no
    # reflection pad, which XNNPACK has not either
    for graph in (int8._litert_features, int8._litert_output):
        assert not {op.type for op in graph.get_concrete_function().graph.get_operations()} & {"Shape", "MirrorPad"}
    step = Styler(fp32, max_side=128).step
    for path in PHOTOS:
        pixels = io.load_image(path, 128)
        x = io.to_model_input(pixels, step)[None]
        height, width = pixels.shape[:2]
        error = (int8.infer(x) - fp32.infer(x))[:, :height, :width] * 127.5
        assert 10 * np.log10(255 ** 2 / np.mean(error ** 2)) >= 30, path.name
    assert (int8.engine, int8.precision) == ("litert", "int8")
