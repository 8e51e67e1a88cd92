"""Reading a long text into a file with `synth speak -f`: does memory stay flat?

Runs the command twice, each in a fresh process, and prints its peak RSS and time: a
20,000-character text (about 360 sentences, ~30 minutes of audio) and one sentence. The
goal: the long text's peak within 150 MB of the one sentence's. By default it speaks with
the tiny test voice (tests/fixtures), so that it runs anywhere; `--voice NAME` times a
catalog voice from your cache instead.

    python benchmarks/long_text.py [--voice ljspeech-en-fastspeech2] [--format mp3]
"""
import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FIXTURES = Path(__file__).parent.parent / "tests" / "fixtures"
TINY = ["--voice", str(FIXTURES / "fastspeech2_tiny" / "fastspeech2"), "--vocoder", str(FIXTURES / "tts_tiny" / "mb_melgan")]
WORDS = ("the quick brown fox jumps over a lazy dog while seven cats watch from an old stone wall near "
         "the river").split()
# Runs synth's command line, then reports the process's own peak RSS (kB on Linux).
RUN = ("import resource, runpy, sys\nsys.argv = ['synth'] + sys.argv[1:]\ntry:\n"
       "    runpy.run_module('synth', run_name='__main__')\nexcept SystemExit as e:\n    code = e.code\n"
       "print('peak_kb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\nsys.exit(code)\n")


def long_text(characters: int) -> str:
    rng = random.Random(0)
    sentences, total = [], 0
    while total < characters:
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 16)))
        sentences.append(words.capitalize() + rng.choice(".!?"))
        total += len(sentences[-1]) + 1
    return " ".join(sentences)[:characters]


def run(voice: list[str], text_file: Path, output: Path) -> dict:
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", RUN, "speak", "-f", str(text_file), *voice, "-o", str(output)],
                            capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    peak = int(result.stderr.split("peak_kb")[-1])
    return {"seconds": round(seconds, 1), "peak_rss_mb": round(peak / 1024), "said": result.stdout.strip()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--voice", help="a catalog voice (default: the tiny test voice)")
    parser.add_argument("--format", default="mp3")
    parser.add_argument("--characters", type=int, default=20000)
    args = parser.parse_args()
    voice = ["--voice", args.voice] if args.voice else TINY
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        (work / "long.txt").write_text(long_text(args.characters), encoding="utf-8")
        (work / "one.txt").write_text("Just one sentence to compare with.", encoding="utf-8")
        one = run(voice, work / "one.txt", work / f"one.{args.format}")
        long = run(voice, work / "long.txt", work / f"long.{args.format}")
    growth = long["peak_rss_mb"] - one["peak_rss_mb"]
    print(json.dumps({"one_sentence": one, f"{args.characters}_characters": long, "peak_growth_mb": growth,
                      "goal_mb": 150, "met": growth <= 150}, indent=1))


if __name__ == "__main__":
    main()
