"""The voice layer through its public API: stages, options, streaming, speed, reports."""
import shutil
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
import yaml

from synth.errors import ConfigError, OptionError, TextError
from synth.speech import Speech, SpeechOptions, TextProcessor, Voice, registry
from synth.speech.tacotron2 import Tacotron2
from synth.speech.voice import MAX_TEXT_CHARS, PAUSE_SECONDS

BATCH_SIZE = Tacotron2.BATCH_SIZE

PAUSE = int(PAUSE_SECONDS * 22050)


@pytest.fixture(scope="module")
def voice():
    from conftest import FIXTURES

    return Voice.from_pretrained(str(FIXTURES / "tts_tiny" / "tacotron2"),
                                 vocoder=str(FIXTURES / "tts_tiny" / "mb_melgan"))


def test_stages_one_by_one(voice):
    sentences = voice.sentences("Hello there. Good day!")
    assert sentences == ["Hello there.", "Good day!"] and voice.language == "en"
    ids = voice.ids(sentences)
    assert [len(i) for i in ids] == [13, 10] and ids[0][-1] == voice.processor.eos_id
    out = voice.mels(ids, SpeechOptions(max_steps=12))
    assert out.lengths == [12, 12] and out.mels[0].shape == (12, 80) and out.durations is None
    assert [a.shape for a in out.alignments] == [(13, 12), (10, 12)]
    audio = voice.vocode(out.mels[0])
    assert audio.shape == (12 * 256,) and audio.dtype == np.float32 and np.abs(audio).max() <= 1.0


def test_speak_joins_sentences(voice):
    speech = voice.speak("Hello there. Good day!", SpeechOptions(seed=0, max_steps=12))
    assert speech.sample_rate == 22050
    assert speech.sentences == ["Hello there.", "Good day!"] and speech.skipped == []
    assert speech.mel.shape == (24, 80)
    assert len(speech.alignments) == 2 and speech.alignments[0].shape == (13, 12)
    assert speech.audio.shape == (24 * 256 + PAUSE,) and speech.audio.dtype == np.float32
    assert not speech.audio[12 * 256:12 * 256 + PAUSE].any()
    pcm = speech.pcm16()
    assert pcm.dtype == np.int16 and len(pcm) == len(speech.audio)
    assert np.abs(pcm.astype(np.float64) / 32767 - speech.audio).max() <= 0.5 / 32767 + 1e-7  # rounding only


def test_stream_decodes_first_sentence_alone_then_batches(voice, monkeypatch):
    batches = []
    real = voice.mels

    def recording(ids, options):
        batches.append(len(ids))
        return real(ids, options)

    monkeypatch.setattr(voice, "mels", recording)
    text = " ".join(f"Sentence number {i}." for i in range(BATCH_SIZE + 2))
    chunks = list(voice.stream(text, SpeechOptions(max_steps=5)))
    assert batches == [1, BATCH_SIZE, 1]
    assert [c.text for c in chunks] == voice.sentences(text)
    assert [c.pause for c in chunks] == [PAUSE] * (len(chunks) - 1) + [0]
    assert all(c.audio.shape == (5 * 256,) and len(c.pcm16()) == 5 * 256 + c.pause for c in chunks)


def test_streamed_chunks_make_the_same_speech(voice):
    """The tiny voice has no dropout, so stream and speak decode the same frames; they differ
    only in batching, i.e. float32 summation order, far below the 1e-3 checked here."""
    text = "One. Two, three. Four five six."
    whole = voice.speak(text, SpeechOptions(max_steps=15))
    joined = Speech.from_chunks(list(voice.stream(text, SpeechOptions(max_steps=15))), whole.skipped)
    assert joined.sentences == whole.sentences and joined.audio.shape == whole.audio.shape
    np.testing.assert_allclose(joined.mel, whole.mel, atol=1e-3)


@pytest.mark.parametrize("stage", ["mels", "vocode"])  # the worker's stage, and the caller's
def test_stream_raises_what_a_stage_hit(voice, monkeypatch, stage):
    def broken(*args):
        raise RuntimeError(f"{stage} broke")

    monkeypatch.setattr(voice, stage, broken)
    with pytest.raises(RuntimeError, match=f"{stage} broke"):
        list(voice.stream("One. Two.", SpeechOptions(max_steps=3)))


@pytest.mark.parametrize("speed", [0.5, 1.0, 2.0])
def test_speed_changes_length_not_frames_made(voice, speed):
    speech = voice.speak("Hello there.", SpeechOptions(max_steps=40, speed=speed))
    assert len(speech.audio) == round(40 / speed) * 256  # within ±5% of 1/speed: exactly, up to a frame


@pytest.mark.parametrize("options, message", [
    (dict(speed=5), "speed 5 is out of range: choose 0.25 to 4.0"),
    (dict(speed=0.1), "speed 0.1"), (dict(max_steps=0), "max_steps 0"),
])
def test_bad_options(options, message):
    with pytest.raises(OptionError, match=message):
        SpeechOptions(**options)


@pytest.mark.parametrize("text, message", [
    ("", "empty"), ("   \n", "empty"), ("x" * (MAX_TEXT_CHARS + 1), "5,001 characters long; this voice speaks at most 5,000"),
    ("#~^ ~~", "nothing in"), ("😀 ✓", "nothing in"),
])
def test_bad_text(voice, text, message):
    with pytest.raises(TextError, match=message):
        voice.speak(text)


def test_limit_is_the_callers(fixtures):
    short = Voice.from_pretrained(str(fixtures / "tts_tiny" / "tacotron2"),
                                  vocoder=str(fixtures / "tts_tiny" / "mb_melgan"), max_chars=10)
    with pytest.raises(TextError, match="11 characters long; this voice speaks at most 10"):
        short.sentences("Hello there")


def test_skipped_characters_are_reported(voice):
    speech = voice.speak("Hello 😀 world → ✓ for $3.", SpeechOptions(max_steps=3))
    assert speech.skipped == ["→", "✓", "😀"]  # "$" is read ("three dollars"), "." is punctuation


@pytest.mark.parametrize("processor, text, skipped", [
    ("kss.json", "안녕 hello 😀", ["e", "h", "l", "o", "😀"]),  # lower-case Latin: not in the Korean voice
    ("kss.json", "안녕 GPU!", []),                               # capitals are spelled out in Hangul
    ("baker.json", "你好abc，3只猫", ["a", "b", "c"]),             # digits are read now, Latin is not
    ("ljspeech.json", "Café, naïve © ★", ["★"]),             # transliterated as it was trained: "(c)" is said
])
def test_unspeakable_by_language(fixtures, processor, text, skipped):
    assert TextProcessor.from_file(fixtures / "processors" / processor).unspeakable(text) == skipped


def test_registry_picks_the_class_by_model_type(fixtures, tmp_path):
    assert type(registry.load_text_to_mel(fixtures / "tts_tiny" / "tacotron2")).__name__ == "Tacotron2"
    assert type(registry.load_text_to_mel(fixtures / "fastspeech2_tiny" / "fastspeech2")).__name__ == "FastSpeech2"
    shutil.copytree(fixtures / "tts_tiny" / "tacotron2", tmp_path / "t")
    config = yaml.safe_load((tmp_path / "t" / "config.yml").read_text())
    (tmp_path / "t" / "config.yml").write_text(yaml.safe_dump(dict(config, model_type="wavenet")))
    with pytest.raises(ConfigError, match=r"model_type 'wavenet' is not supported here; expected one of \['tacotron2', 'fastspeech2'\]"):
        registry.load_text_to_mel(tmp_path / "t")


def test_cli_speak_writes_wav(fixtures, tmp_path):
    out = tmp_path / "out.wav"
    result = subprocess.run(
        [sys.executable, "-m", "synth", "speak", "Testing the command line ✓.", "--voice",
         str(fixtures / "tts_tiny" / "tacotron2"), "--vocoder", str(fixtures / "tts_tiny" / "mb_melgan"),
         "-o", str(out), "--seed", "1", "--max-steps", "20", "--speed", "2"],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "skipped, this voice cannot say: ✓" in result.stderr
    audio, rate = sf.read(out)
    assert rate == 22050 and len(audio) == 10 * 256
    assert sf.info(out).subtype == "PCM_16"
