"""The page answers before anything heavy is imported: TensorFlow and LiteRT come with the first model,
each language's front end with the first voice of that language, matplotlib with the first
figure (benchmarks/cold_start.py measures the start these keep short). Gradio itself is imported
without rewriting its components' type stubs, the slowest part of its import."""
import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import HF_HOME

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ["tensorflow", "ai_edge_litert", "inflect", "pypinyin", "german_transliterate", "num2words", "matplotlib"]


def printed_after(code: str):
    """The JSON a fresh interpreter prints last, running `code` in the repository offline."""
    env = dict(os.environ, HF_HOME=str(HF_HOME), HF_HUB_OFFLINE="1", SYNTH_PRELOAD="")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def imported_after(code: str) -> list[str]:
    """Which HEAVY modules a fresh interpreter has imported after running `code`."""
    return printed_after(code + f"\nimport json, sys\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")


def test_the_app_imports_nothing_heavy_before_a_request():
    assert imported_after("import app; app.demo.get_config_file()") == []


def test_the_app_imports_gradio_without_rewriting_its_component_stubs():
    """Gradio parses each component class's source at import to rewrite its .pyi stub (about 1 s
    of a 2-core start): app.py leaves that step out. A gradio release that renames it brings the
    parsing back, and this test fails."""
    parsed_in_gradio = printed_after(
        "import ast, json, os, sys\n"
        "parsed, parse = [], ast.parse\n"
        "def counted(*args, **kwargs):\n"
        "    parsed.append(sys._getframe(1).f_code.co_filename)\n"
        "    return parse(*args, **kwargs)\n"
        "ast.parse = counted\n"
        "import app\n"
        "print(json.dumps([f for f in parsed if os.sep + 'gradio' + os.sep in f]))")
    assert parsed_in_gradio == []


def test_a_voice_brings_tensorflow_and_its_own_language_only():
    loaded = imported_after("from synth.serving import ModelCache\n"
                            "ModelCache().get('ljspeech-en').speak('Hello.')")
    # (TensorFlow itself imports matplotlib)
    assert "tensorflow" in loaded and not {"pypinyin", "german_transliterate", "num2words"} & set(loaded)
    assert "inflect" not in loaded  # English reads numbers with it: imported at the first one


def test_english_imports_its_number_reader_at_the_first_number():
    loaded = imported_after("from synth.speech import TextProcessor\n"
                            "english = TextProcessor.from_file('tests/fixtures/processors/ljspeech.json')\n"
                            "english.text_to_ids('Hello.')\n"
                            "import sys; assert 'inflect' not in sys.modules\n"
                            "assert english.text_to_ids('In 1984.') == english.text_to_ids('In nineteen eighty-four.')")
    assert loaded == ["inflect"]


def test_a_text_processor_alone_needs_no_tensorflow():
    loaded = imported_after("from synth.speech import TextProcessor\n"
                            "TextProcessor.from_file('tests/fixtures/processors/baker.json').text_to_ids('你好')")
    assert loaded == ["pypinyin"]
