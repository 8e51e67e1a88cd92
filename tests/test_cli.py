"""The command line as a person meets it: wrong names and outputs are refused at once, with
the valid choices of the right kind, before TensorFlow loads; help shows the defaults."""
import subprocess
import sys

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
