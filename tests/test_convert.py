"""`synth convert`: the CycleGAN authors' PyTorch ResnetGenerator into our native format, with the
outputs torch gave (tests/fixtures/torch_resnet_tiny/README.md). torch is not a test dependency:
the same state dict as .safetensors exercises the mapping; the .pth test runs where torch is."""
import subprocess
import sys

import numpy as np
import pytest
from safetensors.numpy import load_file

from synth import cli
from synth.errors import CheckpointMismatch
from synth.image import Generator, GeneratorConfig
from synth.image.convert import convert_state_dict, read_state_dict

FIXTURE = "torch_resnet_tiny"
# Tolerance: float32 through 10 convs of <= 3*3*16 = 144 (7*7*4 = 196) products of O(1) terms,
# instance norm after all but the last, then tanh (slope <= 1): rounding ~1e-5 at worst; we see 4.2e-6.
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def state(request):
    from conftest import FIXTURES

    return load_file(str(FIXTURES / FIXTURE / "state_dict.safetensors"))


def assert_torch_outputs(generator, fixtures):
    expected = np.load(fixtures / FIXTURE / "expected.npz")
    for size in ("64x64", "40x56"):
        assert np.abs(generator.infer(expected[f"x_{size}"]) - expected[f"y_{size}"]).max() <= TOLERANCE


def test_state_dict_converts_to_the_same_network(state, fixtures):
    assert "model.2.running_mean" in state and "model.10.conv_block.2.running_var" in state  # ignored
    generator = convert_state_dict(state)
    assert generator.config == GeneratorConfig(filters=4, n_blocks=2, norm_epsilon=1e-5, norm_affine=False,
                                               conv_bias=True, stride_padding="torch")
    assert_torch_outputs(generator, fixtures)
    np.testing.assert_array_equal(generator.get_weights()["block_1/conv_1/kernel"],
                                  state["model.11.conv_block.5.weight"].transpose(2, 3, 1, 0))


def test_tensorflow_same_padding_would_shift_the_image(state, fixtures):
    """Why stride_padding exists: PyTorch pads the stride-2 convs one pixel on each side."""
    generator = convert_state_dict(state)
    shifted = Generator(GeneratorConfig(**{**generator.config.__dict__, "stride_padding": "same"}))
    shifted.set_weights(generator.get_weights())
    expected = np.load(fixtures / FIXTURE / "expected.npz")
    assert np.abs(shifted.infer(expected["x_64x64"]) - expected["y_64x64"]).max() > 0.5


def test_cli_converts_to_a_native_dir_that_stylize_loads(fixtures, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit:
        cli.main(["convert", str(fixtures / FIXTURE / "state_dict.safetensors"), str(tmp_path / "style")])
    assert exit.value.code == 0
    assert "ResNet generator, 4 filters, 2 blocks" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "style").iterdir()) == ["config.json", "model.safetensors"]
    assert_torch_outputs(Generator.from_pretrained(str(tmp_path / "style")), fixtures)


def test_pth_file_converts_with_torch(state, fixtures, tmp_path):
    pytest.importorskip("torch", reason="torch is not installed (pip install \"synth[convert]\"): the .pth "
                        "reading path is untested here; the mapping is tested from the .safetensors copy")
    from_pth = read_state_dict(fixtures / FIXTURE / "latest_net_G.pth")
    assert sorted(from_pth) == sorted(state)
    for name, value in state.items():
        np.testing.assert_array_equal(from_pth[name], value)
    with pytest.raises(SystemExit) as exit:
        cli.main(["convert", str(fixtures / FIXTURE / "latest_net_G.pth"), str(tmp_path / "style")])
    assert exit.value.code == 0
    assert_torch_outputs(Generator.from_pretrained(str(tmp_path / "style")), fixtures)


def test_without_torch_the_message_says_what_to_install(fixtures, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch -> ImportError
    with pytest.raises(SystemExit) as exit:
        cli.main(["convert", str(fixtures / FIXTURE / "latest_net_G.pth"), str(tmp_path / "style")])
    assert exit.value.code == 1
    err = capsys.readouterr().err
    assert 'reading a PyTorch .pth file needs PyTorch: pip install "synth[convert]"' in err
    assert not (tmp_path / "style").exists()


def test_torch_is_never_imported_at_run_time(fixtures):
    code = ("import sys\nfrom synth import cli\nfrom synth.image import Generator, Styler\n"
            "import synth.image.convert, synth.image.train\n"
            f"Generator.from_pretrained({str(fixtures / FIXTURE.replace('torch_resnet', 'unet_tutorial'))!r})\n"
            "print('torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "False", result.stderr


@pytest.mark.parametrize("change, message", [
    (lambda s: s.pop("model.11.conv_block.5.weight"),
     "expected 6 convs .* plus 2 per residual block .* found 9 4-D weights and 2 blocks"),
    (lambda s: s.pop("model.12.bias"), r"'model.12.bias' is missing"),
    (lambda s: s.update({"model.4.weight": np.zeros((8, 5, 3, 3), np.float32)}),
     r"'model.4.weight': shape \(8, 5, 3, 3\) does not fit a ResnetGenerator with ngf 4"),
    (lambda s: s.update({"model.2.weight": np.ones(4, np.float32)}),
     "weights a ResnetGenerator does not have: model.2.weight"),
])
def test_other_state_dicts_are_refused_by_name(state, change, message):
    changed = dict(state)
    change(changed)
    with pytest.raises(CheckpointMismatch, match=message):
        convert_state_dict(changed)


def test_cli_refuses_other_files_before_loading(tmp_path):
    (tmp_path / "g.ckpt").write_text("x")
    with pytest.raises(SystemExit) as exit:
        cli.main(["convert", str(tmp_path / "g.ckpt"), str(tmp_path / "out")])
    assert exit.value.code == 2
