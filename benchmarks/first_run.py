"""First run without the Hub: how long `python app.py` takes to answer, and how long the first
request for a model that is neither cached nor reachable waits for its message (issue
target: under 10 s; it was 23.5 s of retries before). The "Hub" is a port on this machine,
so nothing leaves it: closed (the connection is refused at once), or silent (a listening
socket whose backlog is full, so a connection attempt hangs, as on a network that drops
packets). HF_HUB_OFFLINE is not set, as on a laptop whose Wi-Fi is down.

    python benchmarks/first_run.py
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from gradio_client import Client
from gradio_client.exceptions import AppError

ROOT = Path(__file__).parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def silent_port() -> tuple[int, list]:
    """A port that accepts no connection and answers no new one: listen(0), backlog filled."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    filler = socket.create_connection(server.getsockname())
    return server.getsockname()[1], [server, filler]


def first_run(hub_port: int) -> dict:
    port = free_port()
    env = dict(os.environ, HF_HOME=tempfile.mkdtemp(prefix="synth-empty-hf-"), HF_HUB_OFFLINE="0",
               HF_ENDPOINT=f"http://127.0.0.1:{hub_port}", GRADIO_SERVER_PORT=str(port),
               GRADIO_SERVER_NAME="127.0.0.1")
    start = time.perf_counter()
    server = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        started = time.perf_counter() - start
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        answers = []
        for voice in ("ljspeech-en", "kss-ko"):
            asked = time.perf_counter()
            try:
                client.predict("Hello.", voice, 1.0, api_name="/speak")
                message = "spoke?"
            except AppError as e:
                message = str(e)
            answers.append({"voice": voice, "seconds": round(time.perf_counter() - asked, 2), "message": message})
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"app_answers_after_s": round(started, 1), "requests": answers}


def main():
    silent, keep_open = silent_port()
    results = {"hub_refuses": first_run(free_port()), "hub_silent": first_run(silent)}
    print(json.dumps(results, indent=1, ensure_ascii=False))
    del keep_open


if __name__ == "__main__":
    main()
