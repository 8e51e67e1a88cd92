"""Streamed speech in a real browser: once the player starts, does it ever run out of audio?

Starts `python app.py` on the tiny test models (a Hugging Face cache built from
tests/fixtures, as benchmarks/load.py's `--test-cache`), opens the page in Chromium
(`/usr/bin/chromium`, headless), speaks a four-sentence paragraph `--runs` times and, from the
player's own media events and its position every 100 ms (tests/player.py), prints per run:
whether it played to the end, the seconds played, the times the player waited with nothing
buffered ("starved") and the stretches its position stood still while playing ("frozen",
as (seconds after it started, position)). The goal: none of either. It depends on how fast this machine makes the audio, so
it is measured here and not asserted in the tests (tests/test_app.py checks what was played).

    python benchmarks/streaming.py [--runs 3]
"""
import argparse
import json
import sys
from pathlib import Path

from load import Server, test_cache

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from player import speak_paragraph  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--autoplay-policy=no-user-gesture-required"]


def speak_once(page, url: str) -> dict:
    result = speak_paragraph(page, url)
    return dict(ended=result["ended"], played_s=result["played_s"], starved=len(result["starved"]),
                frozen=result["frozen"])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    server = Server(test_cache(["ljspeech-en"]))
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for run in range(args.runs):
                print(f"run {run + 1}:", json.dumps(speak_once(browser.new_page(), server.url)), flush=True)
            browser.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
