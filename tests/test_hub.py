"""Models by catalog name, repo id or path, through a real (fake-filled) Hugging Face cache,
offline. conftest builds the cache for ljspeech-en and horse2zebra only."""
import dataclasses
import os
import subprocess
import sys

import pytest
from PIL import Image

from synth import catalog, hub
from synth.errors import ModelUnavailable, UnknownModel
from synth.image import Styler
from synth.speech import MultiBandMelGAN, Tacotron2, Voice


def test_catalog_names_and_pins():
    assert list(catalog.MODELS) == ["ljspeech-en", "kss-ko", "thorsten-de", "synpaflex-fr", "baker-zh", "horse2zebra"]
    for model in catalog.models():
        assert model.label["en"] and model.label["ko"] and model.license and model.description
        for repo in model.repos.values():
            assert len(repo.revision) == 40 and int(repo.revision, 16) >= 0
    assert all(m.available for m in catalog.models())


def test_catalog_voice_loads_from_cache_and_speaks():
    voice = Voice.from_pretrained("ljspeech-en")
    speech = voice.speak("Hello.", max_steps=8)
    assert speech.sample_rate == 22050 and speech.audio.shape == (8 * 256,)
    path = hub.resolve("ljspeech-en")
    assert path.parts[-2:] == ("snapshots", catalog.get("ljspeech-en").repos["text_to_mel"].revision)
    assert os.environ["HF_HOME"] in str(path)


def test_korean_voice_speaks():
    speech = Voice.from_pretrained("kss-ko").speak("안녕하세요. 3개입니다.", max_steps=6)
    assert speech.sentences == ["안녕하세요.", "3개입니다."]
    assert speech.audio.shape == (12 * 256 + int(0.25 * 22050),)


def test_mandarin_voice_speaks_at_24_khz():
    speech = Voice.from_pretrained("baker-zh").speak("你好。今天天气很好！", max_steps=5)
    assert speech.sample_rate == 24000
    assert speech.audio.shape == (2 * 5 * 2 * 300 + int(0.25 * 24000),)  # 5 steps x 2 frames x hop 300


def test_catalog_style_loads_from_cache_and_runs():
    styler = Styler.from_pretrained("horse2zebra")
    assert styler.stylize(Image.new("RGB", (64, 48), "brown")).size == (64, 48)


def test_models_by_catalog_name_pick_their_repo():
    assert Tacotron2.from_pretrained("baker-zh").config.reduction_factor == 2
    vocoder = MultiBandMelGAN.from_pretrained("baker-zh")
    assert vocoder.hop_size == 300 and vocoder.sample_rate == 24000


def test_repo_id_with_full_sha_and_local_dir(fixtures):
    repo = catalog.get("ljspeech-en").repos["text_to_mel"]
    taco = Tacotron2.from_pretrained(repo.repo_id, revision=repo.revision)
    assert taco.infer([5, 6, 7], max_steps=3).mel.shape == (1, 3, 80)
    assert hub.resolve(str(fixtures / "tts_tiny" / "tacotron2")) == fixtures / "tts_tiny" / "tacotron2"


def test_repo_id_with_branch_warns():
    with pytest.warns(UserWarning, match="not pinned to a full commit SHA"):
        path = hub.resolve("tensorspeech/tts-tacotron2-ljspeech-en", revision="main")
    assert (path / "model.h5").is_file()


def test_missing_model_offline_says_what_to_do():
    with pytest.raises(ModelUnavailable) as error:
        hub.download("thorsten-de")
    message = str(error.value)
    assert "'thorsten-de'" in message and "tensorspeech/tts-tacotron2-thorsten-ger" in message
    assert "1ed2cd985705de5fc41b1f12fe3b5aab46fae696" in message
    assert "HF_HUB_OFFLINE=1" in message and "synth download thorsten-de" in message


def test_unavailable_voice_and_unknown_names(monkeypatch):
    listed_only = dataclasses.replace(catalog.get("baker-zh"), unavailable="its front end is being rewritten")
    monkeypatch.setitem(catalog.MODELS, "baker-zh", listed_only)
    with pytest.raises(ModelUnavailable, match="voice 'baker-zh' is not available: its front end is being rewritten"):
        Voice.from_pretrained("baker-zh")
    with pytest.raises(UnknownModel, match="unknown-voice.*valid names: ljspeech-en, kss-ko"):
        hub.resolve("unknown-voice")
    with pytest.raises(UnknownModel, match="'horse2zebra' is a style model, not a voice"):
        Voice.from_pretrained("horse2zebra")


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "synth", *args], capture_output=True, text=True, timeout=300)


def test_cli_models_shows_cache_state():
    result = _cli("models")
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[1:]}
    assert set(rows) == set(catalog.MODELS)
    assert " yes " in rows["ljspeech-en"] and " yes " in rows["horse2zebra"]
    assert " no " in rows["thorsten-de"] and " yes " in rows["baker-zh"]


def test_cli_download_all_offline_reports_failures():
    result = _cli("download", "--all")
    assert result.returncode == 1
    assert "ljspeech-en: ok" in result.stdout and "horse2zebra: ok" in result.stdout
    assert "kss-ko: ok" in result.stdout
    assert "thorsten-de: FAILED" in result.stderr and "synth download thorsten-de" in result.stderr
    assert "Traceback" not in result.stderr


def test_socket_guard_catches_connections(no_network):
    import socket

    with pytest.raises(OSError, match="tried to reach the network"):
        socket.create_connection(("198.51.100.1", 443), timeout=1)
    assert no_network == [("198.51.100.1", 443)]
    no_network.clear()  # seen: this test's own attempt must not fail it
