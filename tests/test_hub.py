"""Models by catalog name, repo id or path: offline through the (fixture-filled) Hugging Face
cache that conftest builds, and online against a fake Hub on 127.0.0.1 that plays the part
of the Hub snapshot_download talks to."""
import dataclasses
import logging
import shutil
import socket
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest
from conftest import FIXTURES, free_port
from fakehub import SHA, FakeHub, _FakeHubHandler
from hubcache import add_repo
from huggingface_hub import constants
from PIL import Image

from synth import catalog, hub
from synth.errors import ModelUnavailable, UnknownModel
from synth.image import Styler
from synth.speech import MultiBandMelGAN, SpeechOptions, Tacotron2, Voice

VOCODER = FIXTURES / "tts_tiny" / "mb_melgan"


# -- offline, through the cache conftest built -------------------------------------------

def test_catalog_names_and_pins():
    assert list(catalog.MODELS) == ["ljspeech-en", "kss-ko", "thorsten-de", "synpaflex-fr", "baker-zh",
                                    "ljspeech-en-fastspeech2", "kss-ko-fastspeech2", "baker-zh-fastspeech2",
                                    "horse2zebra", "zebra2horse", "monet", "vangogh", "apple2orange", "orange2apple"]
    for model in catalog.models():
        assert model.label["en"] and model.label["ko"] and model.license and model.description
        assert set(model.repos) <= set(catalog.ROLE_FILES)
        for repo in model.repos.values():
            assert len(repo.revision) == 40 and int(repo.revision, 16) >= 0
            assert repo.repo_type in catalog.REPO_TYPES
        if model.inverse is not None:  # a round trip: each undoes the other
            assert model.task == "style" and catalog.get(model.inverse).inverse == model.name
    assert all(m.available for m in catalog.models())


def test_catalog_voice_loads_from_cache_and_speaks():
    voice = Voice.from_pretrained("ljspeech-en")
    speech = voice.speak("Hello.", SpeechOptions(max_steps=8))
    assert speech.sample_rate == 22050 and speech.audio.shape == (8 * 256,)
    dirs = hub.files("ljspeech-en")
    assert set(dirs) == {"text_to_mel", "vocoder"}
    assert dirs["text_to_mel"].parts[-2:] == ("snapshots", catalog.get("ljspeech-en").repos["text_to_mel"].revision)
    assert str(constants.HF_HUB_CACHE) in str(dirs["vocoder"])


def test_korean_voice_speaks():
    speech = Voice.from_pretrained("kss-ko").speak("안녕하세요. 3개입니다.", SpeechOptions(max_steps=6))
    assert speech.sentences == ["안녕하세요.", "3개입니다."]
    assert speech.audio.shape == (12 * 256 + int(0.25 * 22050),)


def test_mandarin_voice_speaks_at_24_khz():
    speech = Voice.from_pretrained("baker-zh").speak("你好。今天天气很好！", SpeechOptions(max_steps=5))
    assert speech.sample_rate == 24000
    assert speech.audio.shape == (2 * 5 * 2 * 300 + int(0.25 * 24000),)  # 5 steps x 2 frames x hop 300


def test_catalog_style_loads_from_cache_and_runs():
    styler = Styler.from_pretrained("horse2zebra")
    assert styler.stylize(Image.new("RGB", (64, 48), "brown")).size == (64, 48)
    assert set(hub.files("horse2zebra")) == {"generator"}


def test_models_by_catalog_name_pick_their_repo():
    assert Tacotron2.from_pretrained("baker-zh").config.reduction_factor == 2
    vocoder = MultiBandMelGAN.from_pretrained("baker-zh")
    assert vocoder.hop_size == 300 and vocoder.sample_rate == 24000


def test_repo_id_with_full_sha_and_local_dir(fixtures):
    repo = catalog.get("ljspeech-en").repos["text_to_mel"]
    taco = Tacotron2.from_pretrained(repo.repo_id, revision=repo.revision)
    assert taco.infer([5, 6, 7], max_steps=3).mel.shape == (1, 3, 80)
    local = fixtures / "tts_tiny" / "tacotron2"
    assert hub.files(str(local)) == {hub.MODEL: local}
    assert hub.files(str(local), roles=("text_to_mel",)) == {"text_to_mel": local}


def test_repo_id_with_branch_warns():
    with pytest.warns(UserWarning, match="not pinned to a full commit SHA"):
        path = hub.files("tensorspeech/tts-tacotron2-ljspeech-en", revision="main")[hub.MODEL]
    assert (path / "model.h5").is_file()


def test_missing_model_offline_says_what_to_do():
    with pytest.raises(ModelUnavailable) as error:
        hub.download("thorsten-de")
    message = str(error.value)
    assert "'thorsten-de'" in message and "tensorspeech/tts-tacotron2-thorsten-ger" in message
    assert "1ed2cd985705de5fc41b1f12fe3b5aab46fae696" in message
    assert "HF_HUB_OFFLINE=1" in message and "synth download thorsten-de" in message
    # the same facts as fields, for a web page to word its own sentence
    assert error.value.reason == "offline" and error.value.model == "thorsten-de"
    assert error.value.repo == "tensorspeech/tts-tacotron2-thorsten-ger"
    assert error.value.revision == "1ed2cd985705de5fc41b1f12fe3b5aab46fae696"


def test_unavailable_voice_and_unknown_names(monkeypatch):
    listed_only = dataclasses.replace(catalog.get("baker-zh"), unavailable="its front end is being rewritten")
    monkeypatch.setitem(catalog.MODELS, "baker-zh", listed_only)
    with pytest.raises(ModelUnavailable, match="voice 'baker-zh' is not available: its front end is being rewritten"):
        Voice.from_pretrained("baker-zh")
    with pytest.raises(UnknownModel, match="unknown-voice.*valid names: ljspeech-en, kss-ko"):
        hub.files("unknown-voice")
    with pytest.raises(UnknownModel, match="'horse2zebra' is a style model, not a voice; those are: ljspeech-en"):
        Voice.from_pretrained("horse2zebra")
    with pytest.raises(UnknownModel, match="'ljspeech-en' is a voice model, not a style; those are: horse2zebra"):
        Styler.from_pretrained("ljspeech-en")
    with pytest.raises(UnknownModel, match="is one model and cannot be text_to_mel \\+ vocoder"):
        Voice.from_pretrained("tensorspeech/tts-tacotron2-ljspeech-en")
    with pytest.raises(ValueError, match="revision='main' cannot be used with catalog model 'ljspeech-en'"):
        hub.files("ljspeech-en", "main")


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "synth", *args], capture_output=True, text=True, timeout=300)


def test_cli_models_shows_cache_state():
    result = _cli("models")
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[1:]}
    assert set(rows) == set(catalog.MODELS)
    assert " yes " in rows["ljspeech-en"] and " yes " in rows["horse2zebra"]
    assert " no " in rows["thorsten-de"] and " yes " in rows["baker-zh"]
    assert " yes " in rows["monet"] and "Photo → Monet" in rows["monet"] and " 46 MB " in rows["vangogh"]


def test_cli_download_all_offline_reports_failures():
    result = _cli("download", "--all")
    assert result.returncode == 1
    assert "ljspeech-en: ok" in result.stdout and "horse2zebra: ok" in result.stdout
    assert "kss-ko: ok" in result.stdout
    assert "monet: ok" in result.stdout and "spaces--davidpiscasio--unpaired-img2img" in result.stdout
    assert "thorsten-de: FAILED" in result.stderr and "synth download thorsten-de" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_rejects_an_unknown_name_before_loading_tensorflow():
    code = ("import sys\nfrom synth import cli\ntry:\n    cli.main(['download', 'nope'])\n"
            "except SystemExit as e:\n    print(e.code, 'tensorflow' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["1", "False"], result.stderr
    assert "unknown model 'nope'; valid names: ljspeech-en" in result.stderr


def test_socket_guard_catches_connections(no_network):
    with pytest.raises(OSError, match="tried to reach the network"):
        socket.create_connection(("198.51.100.1", 443), timeout=1)
    assert no_network == [("198.51.100.1", 443)]
    no_network.clear()  # seen: this test's own attempt must not fail it


# -- online, against a fake Hub --------------------------------------------------------------

@pytest.fixture
def online(monkeypatch, tmp_path):
    """Point huggingface_hub at `endpoint` with offline mode off (conftest turns it on) and a
    cache of its own, so the shared one stays as conftest built it; forget any unreachable Hub."""
    def point_at(endpoint: str) -> Path:
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
        monkeypatch.setattr(constants, "ENDPOINT", endpoint)
        # hf_hub_url builds file URLs from this copy of the endpoint
        monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE",
                            endpoint + "/{repo_id}/resolve/{revision}/{filename}")
        monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
        monkeypatch.setattr(constants, "HF_HOME", str(tmp_path))  # where converted generators are kept
        monkeypatch.setattr(hub, "_unreachable_until", 0.0)
        return tmp_path / "hub"
    return point_at


@pytest.fixture
def fake_hub(online):
    server = FakeHub()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    online(server.url)
    yield server
    server.shutdown()
    server.server_close()


class _SpaceHandler(_FakeHubHandler):
    """A Space's addresses (/api/spaces/..., /spaces/.../resolve/...), served as a model repo's."""

    def _answer(self, with_body: bool) -> None:
        self.server.asked.append(self.path)
        self.path = self.path.replace("/api/spaces/", "/api/models/", 1)
        self.path = self.path.removeprefix("/spaces")
        super()._answer(with_body)


@pytest.fixture
def space_hub(online):
    server = FakeHub()
    server.RequestHandlerClass = _SpaceHandler
    server.asked = []  # the paths as requested, before they are served
    threading.Thread(target=server.serve_forever, daemon=True).start()
    online(server.url)
    yield server
    server.shutdown()
    server.server_close()


def test_a_style_in_a_space_downloads_only_its_own_file(space_hub, tmp_path):
    space = tmp_path / "space"  # several styles' folders and the Space's app, as there
    for style in ("style_monet", "style_vangogh", "horse2zebra"):
        (space / "checkpoints" / f"{style}_pretrained").mkdir(parents=True)
        shutil.copyfile(FIXTURES / "torch_resnet_tiny" / "latest_net_G_legacy.pth",
                        space / "checkpoints" / f"{style}_pretrained" / "latest_net_G.pth")
    (space / "app.py").write_text("import gradio\n")
    repo = catalog.get("monet").repos["generator"]
    space_hub.add(repo.repo_id, space, repo.revision)
    assert not hub.is_cached("monet")
    (directory,) = hub.download("monet")
    assert space_hub.fetched() == {"checkpoints/style_monet_pretrained/latest_net_G.pth"}
    assert all(path.startswith(("/api/spaces/davidpiscasio/", "/spaces/davidpiscasio/")) for path in space_hub.asked)
    assert directory.parts[-5:] == ("spaces--davidpiscasio--unpaired-img2img", "snapshots", repo.revision,
                                    "checkpoints", "style_monet_pretrained")
    assert hub.is_cached("monet") and not hub.is_cached("vangogh")
    space_hub.requests.clear()
    assert Styler.from_pretrained("monet").stylize(Image.new("RGB", (40, 32))).size == (40, 32)
    assert space_hub.requests == []  # pinned and cached: nothing to ask


def test_a_missing_style_names_its_space_and_folder(monkeypatch, tmp_path):
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "empty"))
    with pytest.raises(ModelUnavailable) as error:
        hub.download("monet")
    assert ("model 'monet' (spaces/davidpiscasio/unpaired-img2img @ 3ce13dcd9fafca8f086ff5a532cf2cc34431995e, "
            "checkpoints/style_monet_pretrained/) is not in the local cache") in str(error.value)
    assert "synth download monet" in str(error.value)
    assert (error.value.reason, error.value.repo) == ("offline", "davidpiscasio/unpaired-img2img")


def _with_extra_files(source: Path, target: Path) -> Path:
    """A copy of a fixture model plus files no loader reads, which must not be downloaded."""
    shutil.copytree(source, target)
    (target / "train_log.txt").write_text("step 1\n")
    (target / "checkpoints").mkdir()
    (target / "checkpoints" / "optimizer.h5").write_bytes(b"\0" * 1000)
    return target


def test_download_fetches_only_the_files_the_loaders_read(fake_hub, tmp_path):
    for role, source in [("text_to_mel", FIXTURES / "tts_tiny" / "tacotron2"), ("vocoder", VOCODER)]:
        repo = catalog.get("ljspeech-en").repos[role]
        fake_hub.add(repo.repo_id, _with_extra_files(source, tmp_path / role), repo.revision)
    assert not hub.is_cached("ljspeech-en")
    text_to_mel, vocoder = hub.download("ljspeech-en")
    assert fake_hub.fetched() == {"config.yml", "model.h5", "processor.json"}
    assert {p.name for p in vocoder.iterdir()} == {"config.yml", "model.h5"}
    assert (text_to_mel / "model.h5").read_bytes() == (FIXTURES / "tts_tiny" / "tacotron2" / "model.h5").read_bytes()
    assert hub.is_cached("ljspeech-en")
    fake_hub.requests.clear()
    assert Tacotron2.from_pretrained("ljspeech-en").config.n_mels == 80
    assert fake_hub.requests == []  # pinned and cached: nothing to ask


def test_branch_is_resolved_on_the_hub_and_kept_for_offline(fake_hub, monkeypatch):
    fake_hub.add("someone/vocoder", VOCODER)
    with pytest.warns(UserWarning, match="not pinned"):
        directory = hub.files("someone/vocoder", "main", roles=("vocoder",))["vocoder"]
    assert directory.name == SHA
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    fake_hub.requests.clear()
    with pytest.warns(UserWarning, match="not pinned"):
        assert hub.files("someone/vocoder", "main", roles=("vocoder",)) == {"vocoder": directory}
    assert fake_hub.requests == []


def test_wrong_revision_or_repo_is_not_found(fake_hub):
    fake_hub.add("someone/vocoder", VOCODER)
    with pytest.raises(ModelUnavailable) as error:
        hub.files("someone/vocoder", "f" * 40, roles=("vocoder",))
    assert (error.value.reason, error.value.repo, error.value.revision) == ("not_found", "someone/vocoder", "f" * 40)
    assert f"model someone/vocoder @ {'f' * 40} was not found on the Hugging Face Hub (HTTP 404)" in str(error.value)
    assert "cannot be reached" not in str(error.value)
    with pytest.raises(ModelUnavailable, match="was not found") as error:
        hub.files("someone/nothing", SHA, roles=("vocoder",))
    assert error.value.reason == "not_found"


def test_repo_without_the_loaders_files_is_not_found(fake_hub):
    fake_hub.add("someone/vocoder", VOCODER)
    with pytest.raises(ModelUnavailable, match="does not hold the files its loader reads: processor.json") as error:
        hub.files("someone/vocoder", SHA, roles=("text_to_mel",), file_sets=catalog.PROCESSOR_FILES)
    assert error.value.reason == "not_found"


@pytest.mark.parametrize("status", [401, 403])
def test_gated_or_forbidden_repo_is_denied(fake_hub, status):
    fake_hub.add("someone/vocoder", VOCODER)
    fake_hub.refuse = status
    with pytest.raises(ModelUnavailable) as error:
        hub.files("someone/vocoder", SHA, roles=("vocoder",))
    assert error.value.reason == "denied"
    assert f"answered HTTP {status} for model someone/vocoder @ {SHA}: the repo is private" in str(error.value)
    assert "HF_TOKEN" in str(error.value)


def _connections_to(monkeypatch, port: int) -> list:
    """Record each connection attempt to `port` (on top of conftest's guard)."""
    attempts = []
    guarded = socket.socket.connect

    def counting(self, address):
        if isinstance(address, tuple) and address[1] == port:
            attempts.append(address)
        return guarded(self, address)

    monkeypatch.setattr(socket.socket, "connect", counting)
    return attempts


def test_unreachable_hub_is_tried_once_then_left_alone(online, monkeypatch, caplog):
    port = free_port()  # nothing listens there: connections are refused
    cache = online(f"http://127.0.0.1:{port}")
    attempts = _connections_to(monkeypatch, port)
    now = [1000.0]
    monkeypatch.setattr(hub, "_clock", lambda: now[0])
    with caplog.at_level(logging.WARNING), pytest.raises(ModelUnavailable) as error:
        hub.download("thorsten-de")
    assert error.value.reason == "unreachable"
    assert f"the Hugging Face Hub (http://127.0.0.1:{port}) cannot be reached" in str(error.value)
    assert "synth download thorsten-de" in str(error.value)
    assert len(attempts) == 1  # one request, no retries; the vocoder repo is not even tried
    warnings_logged = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.name for r in warnings_logged] == ["synth.hub"]
    assert "cannot be reached" in warnings_logged[0].getMessage() and "\n" not in warnings_logged[0].getMessage()

    # remembered: a cached model at a branch comes from the cache without asking
    add_repo(cache, "someone/vocoder", SHA, VOCODER)
    with pytest.warns(UserWarning, match="not pinned"):
        assert hub.files("someone/vocoder", "main", roles=("vocoder",))["vocoder"].name == SHA
    with pytest.raises(ModelUnavailable, match="cannot be reached") as error:
        hub.download("horse2zebra")
    assert error.value.reason == "unreachable" and len(attempts) == 1
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1

    now[0] += hub.UNREACHABLE_FOR + 1  # later on, the Hub is asked again
    with pytest.raises(ModelUnavailable, match="cannot be reached"):
        hub.download("horse2zebra")
    assert len(attempts) == 2


def test_offline_flag_and_local_files_only_never_ask_the_hub(fake_hub, monkeypatch):
    fake_hub.add("someone/vocoder", VOCODER)
    with pytest.raises(ModelUnavailable, match="local_files_only=True") as error:
        hub.files("someone/vocoder", SHA, roles=("vocoder",), local_files_only=True)
    assert error.value.reason == "not_cached"
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(ModelUnavailable, match="offline mode is on \\(HF_HUB_OFFLINE=1\\)") as error:
        hub.files("someone/vocoder", SHA, roles=("vocoder",))
    assert error.value.reason == "offline"
    assert fake_hub.requests == []


def test_interrupted_download_fails_then_the_next_call_fetches_the_rest(fake_hub):
    fake_hub.add("someone/vocoder", VOCODER)
    fake_hub.break_file = "model.h5"
    with pytest.raises(ModelUnavailable, match="stopped before the end.*try again to fetch the rest") as error:
        hub.files("someone/vocoder", SHA, roles=("vocoder",))
    assert error.value.reason == "incomplete"
    with pytest.raises(ModelUnavailable) as error:  # what arrived is not taken for the whole
        hub.files("someone/vocoder", SHA, roles=("vocoder",), local_files_only=True)
    assert error.value.reason == "not_cached"

    fake_hub.break_file = None
    fake_hub.requests.clear()
    directory = hub.files("someone/vocoder", SHA, roles=("vocoder",))["vocoder"]
    assert (directory / "model.h5").read_bytes() == (VOCODER / "model.h5").read_bytes()
    assert fake_hub.fetched() == {"model.h5"}  # config.yml arrived the first time and was kept


def test_the_tests_scratch_folders_go_with_their_process():
    """A test run leaves nothing in the temporary folder (its stand-in repos and HF_HOME, ~90 MB,
    used to stay): a scratch folder goes when its process exits, and this run's temporary
    folder, which holds it, when the run does."""
    code = "from hubcache import scratch; print(scratch('synth-probe-'))"
    done = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parent, capture_output=True, text=True,
                          check=True)
    made = Path(done.stdout.strip())
    assert made.name.startswith("synth-probe-") and made.parent == Path(tempfile.gettempdir())
    assert not made.exists()
    assert Path(tempfile.gettempdir()).name.startswith("synth-tests-") and os.environ["TMPDIR"] == tempfile.gettempdir()
