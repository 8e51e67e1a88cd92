"""The command line as a person meets it: wrong names and outputs are refused at once, with
the valid choices of the right kind, before TensorFlow loads; help shows the defaults."""
import io
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from synth import cli

BEFORE_TENSORFLOW = ("import sys\nfrom synth import cli\ntry:\n    cli.main({argv!r})\n"
                     "except SystemExit as e:\n    print(e.code, 'tensorflow' in sys.modules)")


def _refused(argv):
    """Exit code, whether TensorFlow was imported, and stderr."""
    result = subprocess.run([sys.executable, "-c", BEFORE_TENSORFLOW.format(argv=argv)], capture_output=True,
                            text=True, timeout=60)
    code, tensorflow = result.stdout.split()
    return int(code), tensorflow == "True", result.stderr


@pytest.mark.parametrize("argv, message", [
    (["speak", "Hi.", "--voice", "english"],
     "--voice english: unknown voice; voices: ljspeech-en, kss-ko, thorsten-de, synpaflex-fr, baker-zh"),
    (["speak", "Hi.", "--voice", "horse2zebra"], "--voice horse2zebra: that is a style, not a voice; voices: ljspeech-en"),
    (["stylize", "assets/chelsea.jpg", "-m", "kss-ko", "-o", "x.png"],
     "-m/--model kss-ko: that is a voice, not a style; styles: horse2zebra"),
    (["stylize", "assets/chelsea.jpg", "assets/coffee.jpg", "-o", "two.png"],
     "-o two.png: 2 images cannot go into one file; give a folder"),
    (["stylize", "no-such-folder", "-o", "out"], "no such file or folder: no-such-folder"),
    (["stylize", "synth", "-o", "out"], "no images in synth (looked for .bmp, .gif"),
    (["download"], "name the models to download, or pass --all; models: ljspeech-en"),
    (["speak", "Hi.", "--pitch", "1.2"], "--pitch: ljspeech-en (English (LJSpeech) · Tacotron2) has no pitch "
     "control; voices that do: ljspeech-en-fastspeech2, kss-ko-fastspeech2, baker-zh-fastspeech2"),
    (["speak", "Hi.", "--voice", "kss-ko", "--energy", "0.8"], "--energy: kss-ko (Korean (KSS) · Tacotron2) has no "
     "energy control"),
])
def test_usage_errors_come_before_tensorflow(argv, message):
    code, tensorflow, stderr = _refused(argv)
    assert (code, tensorflow) == (2, False), stderr
    assert message in stderr and "Traceback" not in stderr


def test_one_input_into_a_folder(fixtures, tmp_path):
    Image.new("RGB", (40, 24), "blue").save(tmp_path / "a.jpg")
    target = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "synth", "stylize", str(tmp_path / "a.jpg"), "-m",
                             str(fixtures / "cyclegan_keras_tiny" / "savedmodel"), "-o", f"{target}/"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert [p.name for p in target.iterdir()] == ["a.png"]
    assert result.stderr.strip() == ""  # TensorFlow's start-up noise stays out of a person's terminal


def test_help_shows_defaults():
    speak = cli.build_parser()._subparsers._group_actions[0].choices["speak"].format_help()
    speak = "".join(speak.split())  # argparse wraps lines (even inside a word) to the terminal's width
    assert "(default:ljspeech-en)" in speak and "(default:1.0)" in speak


def test_speak_with_a_fastspeech2_voice_and_its_controls(tmp_path):
    """Through the offline cache: speed 2 halves the predicted durations; the WAV holds
    exactly their frames (pitch and energy change the sound, not its length)."""
    import soundfile as sf

    from synth.speech import Voice

    out = tmp_path / "fs2.wav"
    text = "Testing the command line."
    result = subprocess.run([sys.executable, "-m", "synth", "speak", text, "--voice", "ljspeech-en-fastspeech2",
                             "--speed", "2", "--pitch", "1.3", "--energy", "0.7", "--seed", "3", "-o", str(out)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    voice = Voice.from_pretrained("ljspeech-en-fastspeech2")
    frames = voice.text_to_mel.infer(voice.ids([text]), speed_ratio=0.5).lengths[0]
    audio, rate = sf.read(out)
    assert rate == 22050 and len(audio) == frames * 256


def test_a_folder_with_a_text_file_in_it(fixtures, tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(5):
        Image.new("RGB", (32 + 8 * i, 24), (40 * i, 90, 200)).save(photos / f"p{i}.png")
    (photos / "notes.txt").write_text("not a photo")
    result = subprocess.run([sys.executable, "-m", "synth", "stylize", str(photos), "-m",
                             str(fixtures / "cyclegan_keras_tiny" / "savedmodel"), "-o", str(tmp_path / "out")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"p{i}.png" for i in range(5)]
    skipped = [line for line in result.stderr.splitlines() if line.startswith("skipped")]
    assert len(skipped) == 1 and "notes.txt" in skipped[0]
    assert "5 image(s) written" in result.stdout and "1 skipped" in result.stdout


@pytest.mark.parametrize("suffix", [".mp3", ".flac", ".opus", ".wav"])
def test_speak_a_text_file_into_the_format_of_the_output(fixtures, tmp_path, suffix):
    """Every sentence into the file; its length is the sum of the sentences' (Opus: at
    24 kHz, each sentence resampled, ceil(n * 160 / 147); MP3: within one granule)."""
    import soundfile as sf

    from synth.speech import Voice

    text = "The first sentence. The second one is here! And a third?"
    (tmp_path / "in.txt").write_text(text, encoding="utf-8")
    out = tmp_path / f"out{suffix}"
    result = subprocess.run([sys.executable, "-m", "synth", "speak", "-f", str(tmp_path / "in.txt"), "--voice",
                             "ljspeech-en-fastspeech2", "-o", str(out)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    voice = Voice.from_pretrained("ljspeech-en-fastspeech2")
    lengths = [n * 256 for n in voice.text_to_mel.infer(voice.ids(voice.sentences(text))).lengths]
    pieces = [n + (5512 if i < 2 else 0) for i, n in enumerate(lengths)]
    audio, rate = sf.read(out)
    if suffix == ".opus":
        assert rate == 24000 and len(audio) == sum(-(-n * 160 // 147) for n in pieces)
    elif suffix == ".mp3":
        assert rate == 22050 and abs(len(audio) - sum(pieces)) <= 576
    else:
        assert rate == 22050 and len(audio) == sum(pieces)
    assert "3 sentence(s)" in result.stdout


@pytest.mark.parametrize("argv, message", [
    (["speak", "Hi.", "-f", "x.txt"], "give the text to speak, or -f FILE, not both"),
    (["speak", "-f", "no-such.txt"], "no such file: no-such.txt"),
    (["speak", "Hi.", "-o", "out.aiff"], "-o out.aiff: unknown audio file type '.aiff'; use one of .wav, .flac"),
    (["speak", "Hi.", "--subtitles", "subs.txt"], "--subtitles subs.txt: name a .vtt or .srt file"),
])
def test_speak_usage_errors(argv, message):
    code, tensorflow, stderr = _refused(argv)
    assert (code, tensorflow) == (2, False) and message in stderr


@pytest.mark.parametrize("kind", ["vtt", "srt"])
def test_speak_writes_subtitles_and_timings(tmp_path, kind):
    """The cues parse with the format's own library, in order and inside the audio; the
    timings hold every word as typed, at the times the voice gives them."""
    import json

    import soundfile as sf
    import srt
    import webvtt

    text = "On 3 May 1995, Dr. Smith paid $5. He was glad."
    out, subs, timings = tmp_path / "s.wav", tmp_path / f"s.{kind}", tmp_path / "s.json"
    result = subprocess.run([sys.executable, "-m", "synth", "speak", text, "--voice", "ljspeech-en-fastspeech2",
                             "--seed", "1", "-o", str(out), "--subtitles", str(subs), "--timings", str(timings)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    audio, rate = sf.read(out)
    duration = len(audio) / rate
    words = json.loads(timings.read_text(encoding="utf-8"))["words"]
    assert [w["text"] for w in words] == ["On", "3", "May", "1995", "Dr.", "Smith", "paid", "$5", "He", "was", "glad"]
    assert all(text[w["char_start"]:w["char_end"]] == w["text"] for w in words)
    assert 0 <= words[0]["start"] and words[-1]["end"] <= duration
    if kind == "vtt":
        parsed = list(webvtt.from_buffer(io.StringIO(subs.read_text(encoding="utf-8"))))
        texts = [c.text for c in parsed]
        spans = [(_seconds(c.start), _seconds(c.end)) for c in parsed]
    else:
        parsed = list(srt.parse(subs.read_text(encoding="utf-8")))
        texts = [c.content for c in parsed]
        spans = [(c.start.total_seconds(), c.end.total_seconds()) for c in parsed]
    assert texts == ["On 3 May 1995, Dr. Smith paid $5.", "He was glad."]  # 33 characters: one line
    assert all(0 <= start <= end <= duration + 0.001 for start, end in spans)
    assert spans == sorted(spans) and spans[0][1] <= spans[1][0]
    assert spans[1][0] == pytest.approx(words[8]["start"], abs=0.001)  # the second cue starts with "He"


def _seconds(stamp: str) -> float:
    hours, minutes, seconds = stamp.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def test_a_text_file_that_is_not_utf8(tmp_path):
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 au lait.".encode("latin-1"))
    code, tensorflow, stderr = _refused(["speak", "-f", str(tmp_path / "latin1.txt")])
    assert (code, tensorflow) == (2, False) and "latin1.txt is not UTF-8 text (byte 3); save it as UTF-8" in stderr


def _long_text(characters):
    sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
    from long_text import long_text

    return long_text(characters)


@pytest.mark.slow
def test_a_20000_character_file_becomes_one_mp3_of_all_its_sentences(tmp_path):
    """~360 sentences: the MP3 lasts the sum of their durations and pauses (within one
    576-sample granule); benchmarks/long_text.py measures its memory."""
    import soundfile as sf

    from synth.speech import Voice

    text = _long_text(20000)
    (tmp_path / "chapter.txt").write_text(text, encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "synth", "speak", "-f", str(tmp_path / "chapter.txt"), "--voice",
                             "ljspeech-en-fastspeech2", "-o", str(tmp_path / "chapter.mp3")],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    voice = Voice.from_pretrained("ljspeech-en-fastspeech2", max_chars=len(text))
    sentences = voice.sentences(text)
    frames = sum(int(voice.text_to_mel.infer(ids).lengths[0]) for ids in voice.ids(sentences))
    expected = frames * 256 + 5512 * (len(sentences) - 1)
    info = sf.info(tmp_path / "chapter.mp3")
    assert info.samplerate == 22050 and abs(info.frames - expected) <= 576
    assert f"{len(sentences)} sentence(s)" in result.stdout and len(sentences) > 300


@pytest.mark.slow
def test_ctrl_c_leaves_a_playable_file(tmp_path):
    import signal

    import soundfile as sf

    (tmp_path / "chapter.txt").write_text(_long_text(20000), encoding="utf-8")
    out = tmp_path / "chapter.mp3"
    process = subprocess.Popen([sys.executable, "-m", "synth", "speak", "-f", str(tmp_path / "chapter.txt"),
                                "--voice", "ljspeech-en-fastspeech2", "-o", str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (out.exists() and out.stat().st_size > 50_000) and time.monotonic() < deadline:
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    done = int(stderr.split("holds the first ")[1].split(" of ")[0])
    audio, rate = sf.read(out)
    assert rate == 22050 and done >= 1 and len(audio) > rate  # the sentences made, decodable
