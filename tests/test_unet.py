"""The TensorFlow tutorial's U-Net generator: found in a Keras SavedModel and in a full-model .h5,
ported to any image size, the same outputs as the legacy stack (tests/fixtures/unet_*/README.md)."""
import json

import numpy as np
import pytest
from PIL import Image

from synth.errors import ConfigError
from synth.image import Generator, GeneratorConfig, Styler, UNetConfig, UNetGenerator
from synth.image.loaders import h5_weights, saved_model_weights

TUTORIAL = "unet_tutorial_tiny"
# Tolerance: float32 through 16 convs, each output a sum of <= 4*4*16 = 256 products of O(1)
# terms (rounding ~256 * 6e-8 = 1.5e-5 at worst, and instance norm re-scales rather than
# compounds it), then tanh (slope <= 1): 1e-4 leaves room; we see 1.3e-6.
TOLERANCE = 1e-4


def scaled(pixels):
    return pixels.astype(np.float32) / 127.5 - 1.0


def pattern(side=256):
    """tools/reference_unet.py's integer test image (the addons fixture stores no input)."""
    rows, cols, channels = np.meshgrid(np.arange(side), np.arange(side), np.arange(3), indexing="ij")
    return ((rows * 7 + cols * 13 + channels * 61 + rows * cols // 9) % 256).astype(np.uint8)[None]


@pytest.fixture(scope="module")
def expected():
    from conftest import FIXTURES

    return np.load(FIXTURES / TUTORIAL / "expected.npz")


@pytest.fixture(scope="module")
def tutorial():
    from conftest import FIXTURES

    return Generator.from_pretrained(str(FIXTURES / TUTORIAL / "savedmodel"))


@pytest.mark.parametrize("source", ["savedmodel", "model.h5", "."])
def test_keras_files_load_as_the_tutorial_unet(source, fixtures, expected, engine):
    """A SavedModel dir, an .h5 file, and a dir holding one .h5: the same network, the reference's outputs."""
    generator = Generator.from_pretrained(str(fixtures / TUTORIAL / source))
    assert isinstance(generator, UNetGenerator)
    assert generator.config == UNetConfig(filters=4, max_filters=8, levels=8, norm_epsilon=1e-5)
    y = generator.infer(scaled(expected["pixels"]))
    assert y.shape == (1, 256, 256, 3)
    assert np.abs(y[:, ::2, ::2] - expected["y_every_2nd"]).max() <= TOLERANCE
    # 136x264 runs reflect-padded to 256x512 (a 1x2 bottleneck) and comes back cropped
    y = generator.infer(scaled(expected["pixels_136x264"]))
    assert y.shape == (1, 136, 264, 3)
    assert np.abs(y[:, ::2, ::2] - expected["y_136x264_every_2nd"]).max() <= TOLERANCE
    graphs = [generator._litert_features, generator._litert_output] if engine == "litert" else [generator._graph]
    assert [graph.experimental_get_tracing_count() for graph in graphs] == [1] * len(graphs)  # one for every size
    assert generator.engine == engine


def test_savedmodel_and_h5_list_the_same_weights_in_the_same_order(fixtures):
    from_savedmodel = saved_model_weights(str(fixtures / TUTORIAL / "savedmodel" / "variables" / "variables"))
    from_h5 = h5_weights(fixtures / TUTORIAL / "model.h5")
    assert [name for name, _ in from_savedmodel] == [name for name, _ in from_h5]
    assert len(from_h5) == 6 * 8 - 3  # 8 down convs, 7 norms, 7 up convs and norms, last kernel + bias
    assert from_h5[:3] == [("conv2d/kernel", from_h5[0][1]), ("conv2d_1/kernel", from_h5[1][1]),
                           ("instance_normalization/scale", from_h5[2][1])]
    for (_, a), (_, b) in zip(from_savedmodel, from_h5):
        np.testing.assert_array_equal(a, b)


def test_addons_instance_norm_variant_loads_with_its_epsilon(fixtures, engine):
    """tensorflow-addons' InstanceNormalization (gamma/beta, epsilon 1e-3), as photo->Monet notebooks use."""
    generator = Generator.from_pretrained(str(fixtures / "unet_addons_tiny" / "model.h5"))
    assert generator.config == UNetConfig(filters=2, max_filters=4, levels=8, norm_epsilon=1e-3)
    expected = np.load(fixtures / "unet_addons_tiny" / "expected.npz")["y_every_4th"]
    y = generator.infer(scaled(pattern()))
    assert np.abs(y[:, ::4, ::4] - expected).max() <= TOLERANCE  # as above; we see 8e-7
    # with the tutorial's epsilon instead the outputs move by far more than the tolerance
    other = UNetGenerator(UNetConfig(filters=2, max_filters=4, norm_epsilon=1e-5))
    other.set_weights(generator.get_weights())
    assert np.abs(other.infer(scaled(pattern()))[:, ::4, ::4] - expected).max() > 100 * TOLERANCE


def test_full_size_layout_is_the_tutorials():
    layout = dict(UNetGenerator().weight_layout())
    # the tutorial's unet_generator(3, norm_type="instancenorm").count_params() in Keras 2
    assert sum(np.prod(shape) for shape in layout.values()) == 54_414_979
    assert layout["down_0/conv/kernel"] == (4, 4, 3, 64) and "down_0/norm/gamma" not in layout
    assert layout["down_7/conv/kernel"] == (4, 4, 512, 512)
    assert layout["up_0/conv/kernel"] == (4, 4, 512, 512)     # from the 1x1 bottleneck
    assert layout["up_6/conv/kernel"] == (4, 4, 64, 256)      # 128 up + 128 skip in
    assert layout["out/conv/kernel"] == (4, 4, 3, 128) and layout["out/conv/bias"] == (3,)


def test_native_round_trip_names_the_architecture(tutorial, tmp_path):
    tutorial.save_pretrained(tmp_path / "native")
    config = json.loads((tmp_path / "native" / "config.json").read_text())
    assert config["architecture"] == "unet" and config["levels"] == 8
    again = Generator.from_pretrained(str(tmp_path / "native"))
    assert isinstance(again, UNetGenerator) and again.config == tutorial.config
    x = np.random.default_rng(0).uniform(-1, 1, (1, 40, 72, 3)).astype(np.float32)
    np.testing.assert_array_equal(again.infer(x), tutorial.infer(x))


def test_resnet_config_without_architecture_still_loads(tmp_path):
    """Native dirs written before the U-Net (no "architecture" key) are ResNets."""
    rng = np.random.default_rng(0)
    resnet = Generator(GeneratorConfig(filters=2, n_blocks=1))
    resnet.set_weights({name: rng.normal(0, 0.3, shape).astype(np.float32) for name, shape in resnet.weight_layout()})
    resnet.save_pretrained(tmp_path / "old")
    config = json.loads((tmp_path / "old" / "config.json").read_text())
    assert config.pop("architecture") == "resnet"
    (tmp_path / "old" / "config.json").write_text(json.dumps(config))
    again = Generator.from_pretrained(str(tmp_path / "old"))
    assert type(again) is Generator and again.config == resnet.config
    config["architecture"] = "transformer"
    (tmp_path / "old" / "config.json").write_text(json.dumps(config))
    with pytest.raises(ConfigError, match="unknown architecture 'transformer'; known: resnet, unet"):
        Generator.from_pretrained(str(tmp_path / "old"))


def test_dropout_only_while_training_and_seeded(tutorial):
    import tensorflow as tf

    x = tf.constant(np.random.default_rng(1).uniform(-1, 1, (1, 256, 256, 3)).astype(np.float32))
    weights = tutorial.variables
    plain = tutorial.forward(weights, x).numpy()
    # eager and the compiled graph may pick other conv kernels: float32 rounding apart (we see 1.6e-6)
    np.testing.assert_allclose(plain, tutorial._graph(x).numpy(), rtol=0, atol=1e-5)  # TensorFlow's, not int8's
    seed = tf.constant([3, 4], tf.int32)
    dropped = tutorial.forward(weights, x, training=True, seed=seed).numpy()
    assert np.abs(dropped - plain).max() > 0.1
    np.testing.assert_array_equal(tutorial.forward(weights, x, training=True, seed=seed).numpy(), dropped)
    other = tutorial.forward(weights, x, training=True, seed=tf.constant([3, 5], tf.int32)).numpy()
    assert np.abs(other - dropped).max() > 0.1


def test_cli_stylizes_with_an_h5_file(fixtures, tmp_path, monkeypatch):
    from synth import cli

    Image.new("RGB", (40, 24), "blue").save(tmp_path / "a.png")
    monkeypatch.chdir(fixtures / TUTORIAL)  # a bare file name, no folder in it
    with pytest.raises(SystemExit) as exit:
        cli.main(["stylize", str(tmp_path / "a.png"), "-m", "model.h5", "-o", str(tmp_path / "b.png")])
    assert exit.value.code == 0 and Image.open(tmp_path / "b.png").size == (40, 24)


def test_styler_runs_a_unet_on_small_and_odd_sizes(tutorial):
    """Sides far below 256 are reflected again and again (numpy's reflect) up to 256."""
    out = Styler(tutorial, max_side=300).stylize_batch([Image.new("RGB", (50, 30), (200, 10, 10)),
                                                        Image.new("RGB", (300, 140), (10, 200, 10))])
    assert [o.size for o in out] == [(50, 30), (300, 140)]


@pytest.mark.parametrize("fields, message", [
    (dict(filters=0), "filters >= 1"),
    (dict(filters=64, max_filters=32), "max_filters >= filters"),
    (dict(levels=1), "levels from 2 to 12"),
    (dict(dropout=1.0), r"dropout must be in \[0, 1\), got 1.0"),
])
def test_bad_unet_config_names_the_value(fields, message):
    with pytest.raises(ConfigError, match=message):
        UNetConfig(**fields)
