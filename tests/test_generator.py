import logging
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from safetensors.numpy import load_file, save_file

from synth.errors import CheckpointMismatch
from synth.image import Generator, GeneratorConfig, Styler
from synth.image.loaders import SavedModelGenerator


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
    assert keras_generator._graph.experimental_get_tracing_count() == 1  # one graph for every size
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
