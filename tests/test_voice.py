import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from synth.errors import TextError
from synth.speech import Voice
from synth.speech.voice import MAX_TEXT_CHARS, PAUSE_SECONDS, split_sentences


@pytest.fixture(scope="module")
def voice():
    from conftest import FIXTURES

    return Voice.from_pretrained(str(FIXTURES / "tts_tiny" / "tacotron2"),
                                 vocoder=str(FIXTURES / "tts_tiny" / "mb_melgan"))


def test_split_sentences():
    assert split_sentences("Hello there. How are you?  Fine!") == ["Hello there.", "How are you?", "Fine!"]
    assert split_sentences("It costs 3.5 dollars.") == ["It costs 3.5 dollars."]
    assert split_sentences("你好。今天天气很好！") == ["你好。", "今天天气很好！"]
    assert split_sentences("好" * 250, max_chars=100) == ["好" * 100, "好" * 100, "好" * 50]
    long = ", ".join(["word " * 10] * 8)
    pieces = split_sentences(long, max_chars=120)
    assert all(len(p) <= 120 for p in pieces) and len(pieces) > 1
    assert " ".join(pieces).split() == long.split()


def test_speak_joins_sentences(voice):
    speech = voice.speak("Hello there. Good day!", seed=0, max_steps=12)
    assert speech.sample_rate == 22050
    assert speech.sentences == ["Hello there.", "Good day!"]
    assert speech.mel.shape == (24, 80)
    assert len(speech.alignments) == 2 and speech.alignments[0].shape == (13, 12)
    pause = int(PAUSE_SECONDS * 22050)
    assert speech.audio.shape == (24 * 256 + pause,) and speech.audio.dtype == np.float32
    assert np.abs(speech.audio).max() <= 1.0
    assert not speech.audio[12 * 256:12 * 256 + pause].any()


def test_stream_yields_each_sentence(voice):
    chunks = list(voice.stream("One. Two. Three.", max_steps=5))
    assert [c.text for c in chunks] == ["One.", "Two.", "Three."]
    assert all(c.audio.shape == (5 * 256,) and c.sample_rate == 22050 for c in chunks)


@pytest.mark.parametrize("text, message", [
    ("", "empty"), ("   \n", "empty"), ("x" * (MAX_TEXT_CHARS + 1), "limit is 5000"),
    ("#~^ ~~", "nothing in"),
])
def test_bad_text(voice, text, message):
    with pytest.raises(TextError, match=message):
        voice.speak(text)


def test_cli_speak_writes_wav(fixtures, tmp_path):
    out = tmp_path / "out.wav"
    result = subprocess.run(
        [sys.executable, "-m", "synth", "speak", "Testing the command line.", "--voice",
         str(fixtures / "tts_tiny" / "tacotron2"), "--vocoder", str(fixtures / "tts_tiny" / "mb_melgan"),
         "-o", str(out), "--seed", "1", "--max-steps", "20"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    audio, rate = sf.read(out)
    assert rate == 22050 and len(audio) == 20 * 256
    assert sf.info(out).subtype == "PCM_16"
