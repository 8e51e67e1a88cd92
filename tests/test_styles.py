"""The CycleGAN authors' styles: catalog entries in a Hugging Face Space, loaded through the
fixture-filled cache (a tiny ResnetGenerator .pth in each style's folder, in the legacy format
of the authors' files), converted without torch on first load and kept converted beside the
cache, never in it."""
import logging
from pathlib import Path

import numpy as np
import pytest
from conftest import FIXTURES
from hubcache import add_repo, build_cache
from huggingface_hub import constants
from PIL import Image

from synth import catalog, hub
from synth.errors import CheckpointMismatch
from synth.image import Generator, Styler
from synth.image import convert as convert_module

AUTHORS = ["zebra2horse", "monet", "vangogh", "apple2orange", "orange2apple"]
SPACE = "spaces--davidpiscasio--unpaired-img2img"
SHA = "3ce13dcd9fafca8f086ff5a532cf2cc34431995e"
TOLERANCE = 1e-4  # as in test_convert.py: the same tiny network, the same torch outputs


def test_the_authors_styles_are_in_the_catalog():
    styles = [m.name for m in catalog.models("style")]
    assert styles == ["horse2zebra", *AUTHORS]
    inverse = {m.name: m.inverse for m in catalog.models("style")}
    assert inverse == {"horse2zebra": "zebra2horse", "zebra2horse": "horse2zebra", "monet": None, "vangogh": None,
                       "apple2orange": "orange2apple", "orange2apple": "apple2orange"}
    monet = catalog.get("monet")
    assert monet.display("en") == "Photo → Monet" and monet.display("ko") == "사진 → 모네"
    assert monet.license == "BSD-2-Clause"  # an SPDX id, the same on every page language
    assert "as the Space that re-hosts the weights states it" in monet.description
    assert "Jun-Yan Zhu and Taesung Park" in monet.description
    repo = monet.repos["generator"]
    assert (repo.repo_id, repo.revision, repo.repo_type) == ("davidpiscasio/unpaired-img2img", SHA, "space")
    assert repo.subfolder == "checkpoints/style_monet_pretrained" and repo.display == "spaces/davidpiscasio/unpaired-img2img"
    assert catalog.get("horse2zebra").license == "CC0-1.0"  # keras.io's, unchanged


@pytest.mark.parametrize("name", AUTHORS)
def test_style_loads_from_the_space_in_the_cache_and_restyles(name):
    styler = Styler.from_pretrained(name)
    assert styler.stylize(Image.new("RGB", (64, 48), "green")).size == (64, 48)
    assert styler.stylize(Image.new("RGB", (37, 53), "red")).size == (37, 53)
    directory = hub.files(name)["generator"]
    subfolder = catalog.get(name).repos["generator"].subfolder
    assert directory == Path(constants.HF_HUB_CACHE) / SPACE / "snapshots" / SHA / subfolder


def test_converted_pth_reproduces_torchs_outputs(engine):
    expected = np.load(FIXTURES / "torch_resnet_tiny" / "expected.npz")
    generator = Generator.from_pretrained("monet")
    assert generator.config.stride_padding == "torch" and generator.config.conv_bias
    for size in ("64x64", "40x56"):
        assert np.abs(generator.infer(expected[f"x_{size}"]) - expected[f"y_{size}"]).max() <= TOLERANCE
    assert generator.engine == engine


@pytest.fixture
def own_cache(monkeypatch, tmp_path):
    """A Hugging Face home of this test's own, so that no other test has converted anything yet."""
    monkeypatch.setattr(constants, "HF_HOME", str(tmp_path))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    return tmp_path


def test_conversion_is_kept_beside_the_cache_and_reused(own_cache, monkeypatch):
    build_cache(own_cache / "hub", ["monet"])
    first = Generator.from_pretrained("monet")
    kept = own_cache / "synth-converted" / SPACE / SHA / "checkpoints" / "style_monet_pretrained" / "latest_net_G"
    assert sorted(p.name for p in kept.iterdir()) == ["config.json", "model.safetensors"]
    assert not any("synth" in p.name for p in (own_cache / "hub").rglob("*"))  # nothing of ours in the cache
    assert sorted(p.name for p in kept.parent.iterdir()) == ["latest_net_G"]  # no partial copy left

    def no_reading(path):
        raise AssertionError(f"read {path} again")

    with monkeypatch.context() as patch:
        patch.setattr(convert_module, "read_state_dict", no_reading)
        again = Generator.from_pretrained("monet")  # from the kept copy
    assert again.config == first.config
    for name, value in first.get_weights().items():
        np.testing.assert_array_equal(again.get_weights()[name], value)

    (kept / "model.safetensors").unlink()  # the kept copy loses a file: made again
    Generator.from_pretrained("monet")
    assert sorted(p.name for p in kept.iterdir()) == ["config.json", "model.safetensors"]


def test_a_home_that_cannot_be_written_converts_at_each_load(own_cache, caplog):
    build_cache(own_cache / "hub", ["apple2orange"])
    (own_cache / "synth-converted").write_text("a file where the folder would go")
    with caplog.at_level(logging.WARNING):
        generator = Generator.from_pretrained("apple2orange")
    assert generator.config.n_blocks == 2
    assert [r.name for r in caplog.records] == ["synth.image.loaders"]
    assert "it is converted again at each load" in caplog.records[0].getMessage()


def test_a_tampered_pth_in_the_cache_is_refused_unrun(own_cache):
    marker = own_cache / "ran"
    source = own_cache / "source"
    source.mkdir()
    (source / catalog.TORCH_WEIGHTS).write_bytes(f"cos\nsystem\n(S'touch {marker}'\ntR.".encode())
    repo = catalog.get("vangogh").repos["generator"]
    add_repo(own_cache / "hub", repo.repo_id, repo.revision, source, repo.repo_type, repo.subfolder)
    with pytest.raises(CheckpointMismatch, match="its pickle asks for os.system, which is no part of a state dict"):
        Styler.from_pretrained("vangogh")
    assert not marker.exists() and not (own_cache / "synth-converted").exists()


def test_a_local_folder_with_the_authors_file_loads_without_keeping_anything(own_cache, tmp_path):
    folder = tmp_path / "checkpoints" / "style_monet_pretrained"  # as their download script leaves it
    folder.mkdir(parents=True)
    (folder / catalog.TORCH_WEIGHTS).write_bytes((FIXTURES / "torch_resnet_tiny" / "latest_net_G.pth").read_bytes())
    assert Styler.from_pretrained(str(folder)).stylize(Image.new("RGB", (30, 20))).size == (30, 20)
    assert sorted(p.name for p in folder.iterdir()) == [catalog.TORCH_WEIGHTS]
    assert not (own_cache / "synth-converted").exists()
