"""The first request a fresh server meets: seconds for a new Python process to load a voice
and speak its first sentence, the LiteRT exports already made (as after `synth download`, or
any earlier start). The voice is full size (tacotron2.v1 and multiband_melgan.v1, random
weights, LJSpeech's processor) in local folders, so that nothing is downloaded; the app's
first request for a voice goes the same way (ModelCache.get -> Voice.from_pretrained, then
speak). Each run is a new interpreter, timed in phases: importing synth.speech, loading the
voice (TensorFlow is imported here), the first speak (graphs traced, exports found by their
digest and loaded, the English front end's number reader imported if the text has a number),
a second speak. A first run, not counted, makes the exports.

    python benchmarks/first_request.py [--runs 5] [--text "..."]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(Path(__file__).parent)]
from hubcache import scratch, write_keras_h5  # noqa: E402
from tts import MB_MELGAN_V1, PROCESSOR, TACOTRON2_V1, random_weights  # noqa: E402

from synth.speech import MultiBandMelGAN, Tacotron2  # noqa: E402

PHASES = ("import", "load", "first_speak", "second_speak")
CHILD = """
import json, sys, time
started = time.perf_counter()
from synth.speech import SpeechOptions, Voice
imported = time.perf_counter()
voice = Voice.from_pretrained(sys.argv[1], vocoder=sys.argv[2])
loaded = time.perf_counter()
options = SpeechOptions(seed=0, max_steps=150)
voice.speak(sys.argv[3], options)
first = time.perf_counter()
voice.speak(sys.argv[3], options)
second = time.perf_counter()
print(json.dumps({"import": imported - started, "load": loaded - imported, "first_speak": first - loaded,
                  "second_speak": second - first}))
"""


def full_size_voice(folder: Path) -> tuple[Path, Path]:
    """tacotron2.v1 and multiband_melgan.v1 folders (config.yml, model.h5 with random weights,
    the text-to-mel's processor.json), as the Hub holds them."""
    fixtures = ROOT / "tests" / "fixtures" / "tts_tiny"
    made = []
    for kind, params, model_class, seed in (("tacotron2", TACOTRON2_V1, Tacotron2, 1),
                                            ("mb_melgan", MB_MELGAN_V1, MultiBandMelGAN, 2)):
        config = yaml.safe_load((fixtures / kind / "config.yml").read_text())
        config[next(key for key in config if key.endswith("_params"))].update(params)
        directory = folder / kind
        directory.mkdir(parents=True)
        (directory / "config.yml").write_text(yaml.safe_dump(config))
        layout = model_class.from_config(directory).weight_layout()
        weights = random_weights(layout, np.random.default_rng(seed))
        write_keras_h5(directory / "model.h5", layout, {n: np.asarray(w, np.float32) for n, w in weights.items()})
        made.append(directory)
    (made[0] / "processor.json").write_bytes(PROCESSOR.read_bytes())
    return made[0], made[1]


def run_once(text_to_mel: Path, vocoder: Path, text: str, home: Path) -> dict:
    env = dict(os.environ, HF_HOME=str(home), HF_HUB_OFFLINE="1")
    result = subprocess.run([sys.executable, "-c", CHILD, str(text_to_mel), str(vocoder), text], cwd=ROOT,
                            env=env, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--text", default="Hello there, this is synth speaking.")
    args = parser.parse_args()
    work = scratch("synth-first-request-")
    text_to_mel, vocoder = full_size_voice(work / "models")
    run_once(text_to_mel, vocoder, args.text, work / "hf")  # makes the exports
    runs = [run_once(text_to_mel, vocoder, args.text, work / "hf") for _ in range(args.runs)]
    for i, seconds in enumerate(runs, 1):
        print(f"run {i}: " + "  ".join(f"{phase} {seconds[phase]:.2f} s" for phase in PHASES))
    medians = {phase: round(statistics.median(r[phase] for r in runs), 2) for phase in PHASES}
    medians["to_first_audio"] = round(statistics.median(r["load"] + r["first_speak"] for r in runs), 2)
    print(json.dumps(dict(text=args.text, runs=args.runs, median_s=medians), indent=1))


if __name__ == "__main__":
    main()
