"""`synth convert`: the CycleGAN authors' PyTorch ResnetGenerator into our native format, with the
outputs torch gave (tests/fixtures/torch_resnet_tiny/README.md), and the torch-free .pth reader
it uses: both of torch's file formats, and its refusal of anything a state dict does not hold."""
import io
import pickle
import struct
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from safetensors.numpy import load_file

from synth import cli
from synth.errors import CheckpointMismatch
from synth.image import Generator, GeneratorConfig
from synth.image import pth
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
    """fp32 weights, so that the conversion is what is judged (int8's own bounds: test_generator)."""
    generator.precision = "fp32"
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


def assert_same_arrays(read, state):
    assert sorted(read) == sorted(state)
    for name, value in state.items():
        assert read[name].dtype == value.dtype
        np.testing.assert_array_equal(read[name], value)


# the zip torch.save writes since PyTorch 1.6, and the legacy stream before it (torch 2.13 wrote
# both; the legacy one with _use_new_zipfile_serialization=False)
@pytest.mark.parametrize("file", ["latest_net_G.pth", "latest_net_G_legacy.pth"])
def test_pth_files_convert_without_torch(state, fixtures, tmp_path, file):
    assert_same_arrays(read_state_dict(fixtures / FIXTURE / file), state)
    with pytest.raises(SystemExit) as exit:
        cli.main(["convert", str(fixtures / FIXTURE / file), str(tmp_path / "style")])
    assert exit.value.code == 0
    assert_torch_outputs(Generator.from_pretrained(str(tmp_path / "style")), fixtures)


class _Global:
    """A global a test pickle names without importing it (torch is not installed here)."""

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __call__(self, *args):  # pickle's save_reduce wants a callable; never called
        raise AssertionError


class _TorchPickler(pickle._Pickler):
    """Pickles a dict of arrays the way torch.save does: each array a `rebuild` of a storage."""

    dispatch = dict(pickle._Pickler.dispatch)
    dispatch[_Global] = lambda self, obj: self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())

    def __init__(self, file, rebuild, storages):
        super().__init__(file, protocol=2)
        self.rebuild, self.storages = rebuild, storages

    def persistent_id(self, obj):
        return obj if isinstance(obj, tuple) and obj and obj[0] == "storage" else None

    def reducer_override(self, obj):
        if not isinstance(obj, np.ndarray):
            return NotImplemented
        key = str(len(self.storages))
        self.storages[key] = obj
        storage = ("storage", _Global("torch", "FloatStorage"), key, "cpu", obj.size, None)
        stride = tuple(s // obj.itemsize for s in obj.strides)
        extra = (False, {}) if self.rebuild == "_rebuild_tensor_v2" else ()
        return _Global("torch._utils", self.rebuild), (storage, 0, obj.shape, stride, *extra)


def legacy_pth(state, rebuild="_rebuild_tensor") -> bytes:
    """A pre-zip torch.save file; `_rebuild_tensor` is what PyTorch before 0.4 named (the
    CycleGAN authors' pretrained files were saved then)."""
    out, storages = io.BytesIO(), {}
    for header in (pth.LEGACY_MAGIC, pth.LEGACY_PROTOCOL, {"protocol_version": 1001, "little_endian": True}):
        pickle.dump(header, out, protocol=2)
    _TorchPickler(out, rebuild, storages).dump(dict(state))
    pickle.dump(list(storages), out, protocol=2)
    for array in storages.values():
        out.write(struct.pack("<q", array.size) + np.ascontiguousarray(array, "<f4").tobytes())
    return out.getvalue()


def test_pytorch_before_0_4_legacy_file_reads(state, fixtures, tmp_path):
    (tmp_path / "old.pth").write_bytes(legacy_pth(state))
    assert_same_arrays(read_state_dict(tmp_path / "old.pth"), state)
    assert_torch_outputs(convert_state_dict(read_state_dict(tmp_path / "old.pth")), fixtures)


def _zip_with_pickle(fixtures, tmp_path, data: bytes):
    """The zip fixture with its data.pkl replaced."""
    path = tmp_path / "tampered.pth"
    with zipfile.ZipFile(fixtures / FIXTURE / "latest_net_G.pth") as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            target.writestr(item, data if item.filename.endswith("/data.pkl") else source.read(item))
    return path


def _legacy_with_magic(tmp_path, data: bytes):
    (tmp_path / "tampered.pth").write_bytes(data)
    return tmp_path / "tampered.pth"


@pytest.mark.parametrize("container", [_zip_with_pickle, _legacy_with_magic])
@pytest.mark.parametrize("module, name", [("os", "system"), ("builtins", "eval"), ("torch.nn.modules.conv", "Conv2d")])
def test_a_pickle_naming_anything_else_is_refused_unrun(fixtures, tmp_path, container, module, name):
    marker = tmp_path / "ran"
    code = f"open({str(marker)!r}, 'w')" if name == "eval" else f"touch {marker}"
    data = f"c{module}\n{name}\n(S{code!r}\ntR.".encode()  # protocol 0: module.name(code)
    path = container(fixtures, tmp_path, data) if container is _zip_with_pickle else container(tmp_path, data)
    with pytest.raises(CheckpointMismatch, match=f"asks for {module}.{name}, which is no part of a state dict") as error:
        read_state_dict(path)
    assert error.value.reason == "refused_class" and error.value.details["value"] == f"{module}.{name}"
    assert "collections.OrderedDict" in error.value.details["choices"]
    assert not marker.exists()


def test_a_tensor_reaching_past_its_storage_is_refused(state, tmp_path):
    data = legacy_pth({"model.1.weight": state["model.1.weight"]})
    # the storage's length as the pickle and the stream both give it: 588 elements -> 10
    data = data.replace(pickle.dumps(588, protocol=2)[2:-1], pickle.dumps(10, protocol=2)[2:-1], 1)
    data = data.replace(struct.pack("<q", 588), struct.pack("<q", 10), 1)
    data = data[:data.rindex(struct.pack("<q", 10)) + 8 + 40]
    (tmp_path / "short.pth").write_bytes(data)
    with pytest.raises(CheckpointMismatch, match=r"shape \(4, 3, 7, 7\) reaches past the end of storage 0 \(10 elements\)"):
        read_state_dict(tmp_path / "short.pth")


@pytest.mark.parametrize("data, message", [
    (b"not a checkpoint", "is not a readable PyTorch state dict"),
    (pickle.dumps({"a": 1}, protocol=2), "neither a PyTorch zip checkpoint nor a legacy one"),
    (b"", "is not a readable PyTorch state dict: EOFError"),
])
def test_other_files_are_not_state_dicts(tmp_path, data, message):
    (tmp_path / "x.pth").write_bytes(data)
    with pytest.raises(CheckpointMismatch, match=message):
        read_state_dict(tmp_path / "x.pth")


def test_torch_is_never_imported_at_run_time(fixtures):
    code = ("import sys\nfrom synth import cli\nfrom synth.image import Generator, Styler\n"
            "import synth.image.convert, synth.image.train\n"
            f"Generator.from_pretrained({str(fixtures / FIXTURE.replace('torch_resnet', 'unet_tutorial'))!r})\n"
            f"synth.image.convert.read_state_dict({str(fixtures / FIXTURE / 'latest_net_G_legacy.pth')!r})\n"
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
