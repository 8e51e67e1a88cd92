"""Cold start: seconds from `python app.py` to HTTP 200 on `/`, with the models in the local
cache and nothing preloaded (issue target: at most 3 s, median of 5). Each run is a new
process, offline, on the tiny test models (a Hugging Face cache built from tests/fixtures, as
load.py --test-cache builds it); the page does not load a model, so their size does not
matter. A last run under `python -X importtime` lists the heavy modules the app had imported
when it answered, and the slowest imports: what a visitor's first request should import
instead (TensorFlow, the language front ends) should not be there. (TensorFlow's own lines are
missing from that list even where it is imported: synth.device closes stderr while it imports
TensorFlow, to keep its noise out of a terminal; tests/test_imports.py checks it.) What else is
installed counts: gradio imports IPython (and with it jedi, prompt_toolkit, ...) wherever it is
installed, 0.3-0.4 s that an environment made from requirements.txt alone does not spend.

    python benchmarks/cold_start.py [--runs 5]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from load import ROOT, free_port, test_cache  # noqa: E402

HEAVY = ("tensorflow", "inflect", "pypinyin", "german_transliterate", "num2words", "ai_edge_litert")


def start_once(env: dict, import_log: Path | None = None) -> float:
    """Seconds to the first 200 on `/` (its imports timed into `import_log`, if given)."""
    port = free_port()
    env = dict(env, GRADIO_SERVER_PORT=str(port), GRADIO_SERVER_NAME="127.0.0.1")
    command = [sys.executable] + ["-X", "importtime"] * bool(import_log) + ["app.py"]
    started = time.perf_counter()
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=import_log.open("w") if import_log else subprocess.DEVNULL)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                if server.poll() is not None:
                    raise SystemExit("the app exited before answering")
                time.sleep(0.02)
        return time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    home = test_cache(["ljspeech-en", "horse2zebra"])
    env = dict(os.environ, HF_HOME=str(home), HF_HUB_OFFLINE="1", SYNTH_PRELOAD="")
    times = [start_once(env) for _ in range(args.runs)]
    print("seconds to HTTP 200:", ", ".join(f"{t:.2f}" for t in times))
    print(f"median of {len(times)}: {statistics.median(times):.2f} s")
    log = home / "importtime.txt"
    start_once(env, log)
    imports, heavy = {}, set()  # top-level package -> cumulative seconds; HEAVY ones at any depth
    for line in log.read_text().splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            name = parts[2].strip().split(".")[0]
            heavy |= {name} & set(HEAVY)
            if not parts[2].startswith("  "):  # imported by the app itself, not by another module
                imports[name] = imports.get(name, 0) + int(parts[1]) / 1e6  # a package and its later submodules
    print("heavy modules imported before the page answered:", ", ".join(sorted(heavy)) or "none")
    slowest = sorted(imports.items(), key=lambda item: -item[1])[:8]
    print("slowest top-level imports (s):", ", ".join(f"{name} {seconds:.2f}" for name, seconds in slowest))


if __name__ == "__main__":
    main()
