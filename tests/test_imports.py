"""The page answers before anything heavy is imported: TensorFlow comes with the first model,
each language's front end with the first voice of that language, matplotlib with the first
figure (benchmarks/cold_start.py measures the start these keep short)."""
import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import HF_HOME

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ["tensorflow", "inflect", "pypinyin", "german_transliterate", "num2words", "matplotlib"]


def imported_after(code: str) -> list[str]:
    """Which HEAVY modules a fresh interpreter has imported after running `code`."""
    script = code + f"\nimport json, sys\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    env = dict(os.environ, HF_HOME=str(HF_HOME), HF_HUB_OFFLINE="1", SYNTH_PRELOAD="")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_app_imports_nothing_heavy_before_a_request():
    assert imported_after("import app; app.demo.get_config_file()") == []


def test_a_voice_brings_tensorflow_and_its_own_language_only():
    loaded = imported_after("from synth.serving import ModelCache\n"
                            "ModelCache().get('ljspeech-en').speak('Hello.')")
    # (TensorFlow itself imports matplotlib)
    assert {"tensorflow", "inflect"} <= set(loaded) and not {"pypinyin", "german_transliterate", "num2words"} & set(loaded)


def test_a_text_processor_alone_needs_no_tensorflow():
    loaded = imported_after("from synth.speech import TextProcessor\n"
                            "TextProcessor.from_file('tests/fixtures/processors/baker.json').text_to_ids('你好')")
    assert loaded == ["pypinyin"]
