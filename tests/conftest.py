"""Test set-up: an offline Hugging Face cache built from tests/fixtures, and no network.

The environment is set before anything imports huggingface_hub, which reads it once.
"""
import atexit
import os
import shutil
import socket
import tempfile
from pathlib import Path

# The run's temporary folder, removed when it exits, for everything it makes that uses one:
# the app processes the tests start (killed, they cannot clean up after themselves), and
# gradio_client, which leaves an empty folder in it per file it downloads.
RUN_TMP = Path(tempfile.mkdtemp(prefix="synth-tests-"))
atexit.register(shutil.rmtree, RUN_TMP, ignore_errors=True)
os.environ["TMPDIR"] = tempfile.tempdir = str(RUN_TMP)
HF_HOME = RUN_TMP / "hf-home"  # ~90 MB of cache and exports a run
HF_HOME.mkdir()
os.environ["HF_HOME"] = str(HF_HOME)
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["SYNTH_MAX_FILE_SIZE"] = "2mb"  # small, so the upload-size check is cheap to test

import pytest  # noqa: E402
from hubcache import build_cache  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"
build_cache(HF_HOME / "hub", ["ljspeech-en", "kss-ko", "baker-zh", "ljspeech-en-fastspeech2", "kss-ko-fastspeech2",
                              "baker-zh-fastspeech2", "horse2zebra", "zebra2horse", "monet", "vangogh",
                              "apple2orange", "orange2apple"])


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any connection beyond this machine fails the test that made it."""
    attempts = []
    real_connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and (host.startswith("127.") or host in ("localhost", "::1")):
            return real_connect(self, address)
        attempts.append(address)
        raise OSError(f"test tried to reach the network: {address}")

    monkeypatch.setattr(socket.socket, "connect", guarded)
    yield attempts
    assert not attempts, f"network connections attempted: {attempts}"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(params=["litert", "tensorflow"])
def engine(request, monkeypatch) -> str:
    """The test runs once per engine (SYNTH_ENGINE; a model picks its engine when it first
    runs, so the test makes its own), with fp32 weights: parity with the reference holds on
    both (int8's own bounds are tested apart, in test_int8.py)."""
    monkeypatch.setenv("SYNTH_ENGINE", request.param)
    monkeypatch.setenv("SYNTH_PRECISION", "fp32")
    return request.param


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The symbol tables of the five voices' languages (tests/fixtures/processors), by language.
PROCESSORS = {"en": "ljspeech", "ko": "kss", "de": "thorsten", "fr": "synpaflex", "zh": "baker"}


@pytest.fixture(scope="session")
def processors():
    from synth.speech import TextProcessor

    return {language: TextProcessor.from_file(FIXTURES / "processors" / f"{name}.json")
            for language, name in PROCESSORS.items()}
