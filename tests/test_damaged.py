"""Damaged and missing model files: every format's truncated, corrupt or wrong-shaped file is one
ModelDamaged naming the model (its path and the fix for the log and the terminal, never for a
visitor); a damaged model stops neither the other models nor the app; `synth doctor` checks the
cache without the network and repairs it from the Hub; a model the Hub did not hand out is
answered from memory for a while."""
import logging
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from conftest import FIXTURES, HF_HOME, free_port
from fakehub import FakeHub
from hubcache import add_repo
from huggingface_hub import constants
from PIL import Image

from synth import catalog, cli, hub, runtime
from synth.errors import CheckpointMismatch, ModelDamaged, ModelUnavailable
from synth.image import Styler
from synth.serving import ModelCache, messages
from synth.speech import SpeechOptions, Voice

ROOT = Path(__file__).resolve().parents[1]
SAVED_DATA = "variables/variables.data-00000-of-00001"
PHOTO = Image.new("RGB", (40, 32), "brown")


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """A copy of the cache conftest built, in use for this test only (its HF_HOME: tmp_path/hf-home)."""
    home = tmp_path / "hf-home"
    shutil.copytree(HF_HOME / "hub", home / "hub", symlinks=True)  # relative links: into the copy's blobs
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(home / "hub"))
    monkeypatch.setattr(constants, "HF_HOME", str(home))  # where converted generators are kept
    return home / "hub"


def cached(name: str, role: str, file: str) -> Path:
    """A catalog model's file in the cache in use (a link to its blob)."""
    repo = catalog.get(name).repos[role]
    folder = f"{repo.repo_type}s--{repo.repo_id.replace('/', '--')}"
    return Path(constants.HF_HUB_CACHE) / folder / "snapshots" / repo.revision / repo.subfolder / file


def truncate(path: Path) -> None:
    """Cut the blob behind `path` to half its length, as an interrupted copy or a full disk does."""
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])


# every file a catalog model's loader reads, in each format: Keras-2 .h5 (Tacotron2, FastSpeech2,
# Multi-band MelGAN), config.yml, processor.json, a SavedModel's variables, the authors' .pth
DAMAGED = [("ljspeech-en", "text_to_mel", "model.h5"),
           ("ljspeech-en", "text_to_mel", "config.yml"),
           ("ljspeech-en", "text_to_mel", "processor.json"),
           ("ljspeech-en", "vocoder", "model.h5"),
           ("ljspeech-en-fastspeech2", "text_to_mel", "model.h5"),
           ("horse2zebra", "generator", SAVED_DATA),
           ("horse2zebra", "generator", "variables/variables.index"),
           ("monet", "generator", "latest_net_G.pth")]


@pytest.mark.parametrize("name, role, file", DAMAGED)
def test_a_damaged_file_is_one_error_naming_the_model(cache, caplog, name, role, file):
    path = cached(name, role, file)
    truncate(path)
    models = ModelCache(max_side=64)
    with caplog.at_level(logging.WARNING, "synth.serving.models"), pytest.raises(ModelDamaged) as error:
        models.get(name)
    damaged = error.value
    assert (damaged.model, damaged.reason, Path(damaged.file)) == (name, "damaged", path)
    assert (damaged.repo, damaged.revision) == (catalog.get(name).repos[role].repo_id,
                                               catalog.get(name).repos[role].revision)
    # for the terminal and the log: which file, what is wrong, and how to repair it
    message = str(damaged)
    assert f"model '{name}' is damaged" in message and str(path) in message and "sha256" in message
    assert "synth doctor" in message and f"synth download {name} --force" in message
    assert message in caplog.text
    # for a visitor: the model's name, no path on the server, in English and Korean
    for language, words in (("en", "is damaged on this server"), ("ko", "손상되어")):
        said = messages.describe(damaged, language)
        assert messages.label(name, language) in said and words in said
        assert "/" not in said and "\\" not in said and Path(file).name not in said and "synth" not in said
    with pytest.raises(ModelDamaged):  # nothing half-loaded was kept: the next call fails the same way
        models.get(name)
    # the page does not call it ready, though every file is in the cache
    assert models.is_damaged(name) and not models.is_ready(name) and hub.is_cached(name)
    # the other models still load and work
    assert models.get("kss-ko").speak("안녕.", SpeechOptions(max_steps=3)).audio.size
    other_style = "monet" if name == "horse2zebra" else "horse2zebra"
    assert models.get(other_style).stylize(PHOTO).size == PHOTO.size


def test_a_vocoder_several_voices_share_is_damaged_for_the_one_asked_for(cache):
    vocoder = cached("ljspeech-en", "vocoder", "model.h5")  # shared with ljspeech-en-fastspeech2
    vocoder.write_bytes((FIXTURES / "tts_tiny" / "tacotron2" / "model.h5").read_bytes())  # a wrong-shaped file
    with pytest.raises(ModelDamaged) as error:
        ModelCache().get("ljspeech-en-fastspeech2")
    assert error.value.model == "ljspeech-en-fastspeech2" and Path(error.value.file) == vocoder
    assert "synth download ljspeech-en-fastspeech2 --force" in str(error.value)
    with pytest.raises(ModelDamaged) as error:  # the Python API: a model whose repo it is
        Voice.from_pretrained("ljspeech-en-fastspeech2")
    assert error.value.model in ("ljspeech-en", "ljspeech-en-fastspeech2")


def test_a_file_its_loader_refuses_though_it_matches_its_hash_is_damaged_for_a_visitor(cache, tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    (source / catalog.TORCH_WEIGHTS).write_bytes(b"not a pickle")
    cached("vangogh", "generator", catalog.TORCH_WEIGHTS).unlink()
    repo = catalog.get("vangogh").repos["generator"]
    add_repo(cache, repo.repo_id, repo.revision, source, repo.repo_type, repo.subfolder)  # blob named by its hash
    assert hub.check("vangogh").damage == ()  # nothing that doctor could repair
    with pytest.raises(CheckpointMismatch, match="not a readable PyTorch state dict"):
        Styler.from_pretrained("vangogh")  # the Python API: the loader's own error
    with pytest.raises(ModelDamaged) as error:
        ModelCache().get("vangogh")
    assert error.value.model == "vangogh" and "model 'vangogh' cannot be loaded" in str(error.value)
    assert "synth download vangogh --force" in str(error.value)
    for language in messages.LANGUAGES:
        assert "/" not in messages.describe(error.value, language)


def test_a_damaged_local_folder_is_still_its_loaders_error(tmp_path):
    """Outside the cache there is nothing to repair it from: the loader's own typed error."""
    folder = shutil.copytree(FIXTURES / "cyclegan_keras_tiny" / "savedmodel", tmp_path / "savedmodel")
    truncate(folder / SAVED_DATA)
    with pytest.raises(CheckpointMismatch, match="not a readable SavedModel checkpoint: IndexError"):
        Styler.from_pretrained(str(folder))


def test_a_damaged_converted_copy_is_converted_again(cache, caplog):
    Styler.from_pretrained("monet")  # converts the .pth and keeps the result beside the cache
    kept = hub.converted_dir(cached("monet", "generator", "latest_net_G.pth")) / "model.safetensors"
    whole = kept.read_bytes()
    truncate(kept)
    with caplog.at_level(logging.WARNING):
        assert Styler.from_pretrained("monet", max_side=64).stylize(PHOTO).size == PHOTO.size
    assert "converting it again" in caplog.text and kept.read_bytes() == whole


def test_preload_says_what_failed_and_loads_the_rest(cache, monkeypatch):
    truncate(cached("horse2zebra", "generator", SAVED_DATA))
    models = ModelCache(max_side=64)
    problems = models.preload(["horse2zebra", "kss-ko", "thorsten-de"])
    assert len(problems) == 2 and "model 'horse2zebra' is damaged" in problems[0]
    assert "synth download thorsten-de" in problems[1] and models.is_loaded("kss-ko")
    assert [models.is_damaged(n) for n in ("horse2zebra", "kss-ko", "thorsten-de")] == [True, False, False]

    def broken(cls, name, **kwargs):  # a failure nobody foresaw
        raise IndexError("Read less bytes than requested")

    monkeypatch.setattr(Styler, "from_pretrained", classmethod(broken))
    problems = models.preload(["monet", "ljspeech-en"])
    assert problems == ["monet could not be loaded: IndexError: Read less bytes than requested"]
    assert models.is_loaded("ljspeech-en")


def test_the_app_starts_with_every_model_preloaded_and_one_damaged(cache):
    truncate(cached("horse2zebra", "generator", SAVED_DATA))  # was an IndexError that stopped the app
    port = free_port()
    env = dict(os.environ, HF_HOME=str(cache.parent), HF_HUB_OFFLINE="1", SYNTH_PRELOAD="all",
               GRADIO_SERVER_PORT=str(port), GRADIO_SERVER_NAME="127.0.0.1")
    server = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        for _ in range(180):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except OSError:
                assert server.poll() is None, server.stdout.read()
                time.sleep(1)
        else:
            pytest.fail("the app did not answer within 3 minutes")
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert "SYNTH_PRELOAD: model 'horse2zebra' is damaged in the local cache" in output
    assert "synth download horse2zebra --force" in output


# -- synth doctor ----------------------------------------------------------------------------

def doctor(capsys, *args) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["doctor", *args])
    out, err = capsys.readouterr()
    return exit_.value.code, out + err


def test_doctor_offline_finds_the_damage_and_says_what_to_run(cache, capsys):
    code, said = doctor(capsys)
    assert code == 0, said
    assert "ljspeech-en: ok" in said and "monet: ok" in said and "thorsten-de: not downloaded" in said

    data = cached("horse2zebra", "generator", SAVED_DATA)
    truncate(data)
    cached("ljspeech-en", "text_to_mel", "processor.json").resolve().unlink()  # a link whose blob is gone
    code, said = doctor(capsys, "horse2zebra", "ljspeech-en", "kss-ko")
    assert code == 1
    assert f"horse2zebra: DAMAGED: {data} has " in said and "do not match the sha256" in said
    assert "processor.json is missing (its blob is gone)" in said
    assert "horse2zebra: NOT REPAIRED: offline mode is on (HF_HUB_OFFLINE=1); run `synth doctor horse2zebra`" in said
    assert "kss-ko: ok" in said
    assert data.is_file()  # offline, nothing is deleted

    code, said = doctor(capsys, "--check-only", "horse2zebra")
    assert code == 1 and "not repaired (--check-only)" in said
    code, said = doctor(capsys, "nope")
    assert code == 2 and "unknown model 'nope'" in said


@pytest.fixture
def fake_hub(cache, monkeypatch):
    """The fixture folders served as the catalog's repos at their pinned revisions, by a fake
    Hub on 127.0.0.1 in place of huggingface.co."""
    server = FakeHub()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", server.url)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", server.url + "/{repo_id}/resolve/{revision}/{filename}")
    monkeypatch.setattr(hub, "_unreachable_until", 0.0)
    monkeypatch.setattr(hub, "_failed", {})
    for name, role, folder in [("ljspeech-en", "text_to_mel", FIXTURES / "tts_tiny" / "tacotron2"),
                               ("ljspeech-en", "vocoder", FIXTURES / "tts_tiny" / "mb_melgan"),
                               ("horse2zebra", "generator", FIXTURES / "cyclegan_keras_tiny" / "savedmodel")]:
        repo = catalog.get(name).repos[role]
        server.add(repo.repo_id, folder, repo.revision)
    yield server
    server.shutdown()
    server.server_close()


def test_doctor_repairs_what_is_damaged_from_the_hub(fake_hub, capsys):
    model_h5, data = cached("ljspeech-en", "text_to_mel", "model.h5"), cached("horse2zebra", "generator", SAVED_DATA)
    truncate(model_h5)
    truncate(data)
    cached("ljspeech-en", "vocoder", "config.yml").resolve().unlink()
    code, said = doctor(capsys, "ljspeech-en", "horse2zebra")
    assert code == 0, said
    assert "ljspeech-en: repaired" in said and "horse2zebra: repaired" in said
    assert fake_hub.fetched() == {"model.h5", "config.yml", SAVED_DATA}  # only what was wrong
    assert model_h5.read_bytes() == (FIXTURES / "tts_tiny" / "tacotron2" / "model.h5").read_bytes()
    assert data.read_bytes() == (FIXTURES / "cyclegan_keras_tiny" / "savedmodel" / SAVED_DATA).read_bytes()
    assert hub.check("ljspeech-en").damage == () and hub.check("horse2zebra").damage == ()
    fake_hub.requests.clear()
    code, said = doctor(capsys, "ljspeech-en", "horse2zebra")
    assert code == 0 and "ljspeech-en: ok" in said and fake_hub.requests == []  # checking needs no network
    models = ModelCache(max_side=64)
    assert models.get("ljspeech-en").speak("Hi.", SpeechOptions(max_steps=3)).audio.size
    assert models.get("horse2zebra").stylize(PHOTO).size == PHOTO.size


def test_download_force_fetches_every_file_again(fake_hub, capsys):
    vocoder = cached("ljspeech-en", "vocoder", "model.h5")
    truncate(vocoder)
    with pytest.raises(SystemExit) as exit_:
        cli.main(["download", "ljspeech-en", "--force"])
    assert exit_.value.code == 0, capsys.readouterr().err
    assert fake_hub.fetched() == {"config.yml", "model.h5", "processor.json"}
    assert vocoder.read_bytes() == (FIXTURES / "tts_tiny" / "mb_melgan" / "model.h5").read_bytes()
    assert hub.check("ljspeech-en").damage == ()


def downloaded(name, capsys, monkeypatch, tmp_path) -> tuple[str, set]:
    """`synth download name` on the default engines, with no export made yet: what it printed,
    and the exports it made."""
    monkeypatch.setenv("SYNTH_ENGINE", "auto")
    monkeypatch.setenv("SYNTH_PRECISION", "auto")
    monkeypatch.setattr(constants, "HF_HOME", str(tmp_path))
    with pytest.raises(SystemExit) as exit_:
        cli.main(["download", name])
    out, err = capsys.readouterr()
    assert exit_.value.code == 0, err
    return out, set((tmp_path / runtime.EXPORTS).glob("*.tflite"))


def test_download_makes_the_exports_the_engines_need(fake_hub, capsys, monkeypatch, tmp_path):
    """On the default engines, the LiteRT exports are made at download, not at the first request."""
    out, made = downloaded("ljspeech-en", capsys, monkeypatch, tmp_path)
    engine, precision = runtime.CPU_DEFAULTS["Tacotron2"]
    kept = " (encoder, postnet: TensorFlow fp32)" if engine == "litert" else ""
    assert f"ljspeech-en: ready to run: Tacotron2: {runtime.NAMES[engine]} {precision}{kept}, MultiBandMelGAN: " in out
    assert ["tacotron2", "step", precision] in [p.name.split("-")[:3] for p in made]
    # a request then finds them: nothing more is made
    ModelCache(max_side=64).get("ljspeech-en").speak("Hi.", SpeechOptions(max_steps=3))
    assert set((tmp_path / runtime.EXPORTS).glob("*.tflite")) == made


def test_download_makes_a_generators_exports_too(fake_hub, capsys, monkeypatch, tmp_path):
    out, made = downloaded("horse2zebra", capsys, monkeypatch, tmp_path)
    engine, precision = runtime.CPU_DEFAULTS["Generator"]
    kept = " (last layer: LiteRT fp32)" if (engine, precision) == ("litert", "int8") else ""
    assert f"horse2zebra: ready to run: Generator: {runtime.NAMES[engine]} {precision}{kept}\n" in out
    # the features, and the last layer
    assert sorted(p.name.split("-")[:2] for p in made) == sorted([["Generator", precision], ["Generator", "output"]])
    ModelCache(max_side=64).get("horse2zebra").stylize(np.zeros((8, 8, 3), np.uint8))
    assert set((tmp_path / runtime.EXPORTS).glob("*.tflite")) == made


# -- a model the Hub did not hand out is remembered -----------------------------------------

def test_a_missing_model_is_answered_at_once_while_the_hub_does_not_answer(tmp_path, monkeypatch):
    silent = socket.socket()  # accepts connections (the kernel does) and never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    endpoint = f"http://127.0.0.1:{silent.getsockname()[1]}"
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", endpoint)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "empty"))
    monkeypatch.setattr(hub, "_unreachable_until", 0.0)
    monkeypatch.setattr(hub, "READ_TIMEOUT", 1.0)  # the first call waits this long for the silent Hub
    models = ModelCache()

    def connections() -> int:
        """Connections the silent Hub was asked for since the last look."""
        count = 0
        while True:
            try:
                silent.accept()[0].close()
                count += 1
            except BlockingIOError:
                return count

    silent.setblocking(False)
    try:
        with pytest.raises(ModelUnavailable) as first:
            models.get("thorsten-de")
        assert connections() >= 1  # the first call asked the Hub and waited READ_TIMEOUT
        with pytest.raises(ModelUnavailable) as second:
            models.get("thorsten-de")
        assert connections() == 0  # the second is answered from memory: no wait for the Hub
    finally:
        silent.close()
    assert first.value.reason == second.value.reason == "unreachable"
    assert str(second.value) == str(first.value)  # the same message, the cause included


def test_a_repo_the_hub_refused_is_remembered_for_a_while(fake_hub, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(hub, "_clock", lambda: now[0])
    with pytest.raises(ModelUnavailable) as first:
        ModelCache().get("thorsten-de")  # not on this Hub: 404
    assert first.value.reason == "not_found"
    asked = len(fake_hub.requests)
    with pytest.raises(ModelUnavailable) as second:
        ModelCache().get("thorsten-de")
    assert len(fake_hub.requests) == asked  # not asked again: answered from memory, at once
    assert str(second.value) == str(first.value) and second.value.reason == "not_found"
    now[0] += hub.RETRY_SECONDS + 1  # later on, the Hub is asked again
    with pytest.raises(ModelUnavailable):
        ModelCache().get("thorsten-de")
    assert len(fake_hub.requests) > asked


@pytest.mark.parametrize("value, seconds", [("42", "42.0"), ("0", "0.0"), ("soon", "300.0"), ("", "300.0")])
def test_the_time_failures_are_remembered_is_configurable(value, seconds):
    code = "from synth import hub; print(hub.RETRY_SECONDS, hub.UNREACHABLE_FOR)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT,
                            env=dict(os.environ, SYNTH_HUB_RETRY_SECONDS=value))
    assert result.stdout.split() == [seconds, seconds], result.stderr
    assert ("SYNTH_HUB_RETRY_SECONDS='soon' is not a number of seconds" in result.stderr) == (value == "soon")
