"""Load: N concurrent gradio_client users for T seconds against a running app, mixing speech
(/speak) and images (/stylize). Each user loops: submit, wait for the result, download the
result file and check it is whole (the PNG opens and verifies in Pillow; the audio decodes in
soundfile with frames > 0, and the bytes match the announced length), until the time is up.
Prints, per endpoint: requests completed, refused (queue full, server busy, upload quota:
classified by the message gradio_client raises), other errors, cut or empty downloads,
throughput per minute and latency p50/p95/max (submit to verified download); and the
server's RSS at the start, after minute 1, at the end, and its growth over the second half
of the run (sampled every second from /proc/<pid>/status, or psutil off Linux).

Against a running app (RSS only with --pid), or one started here (`python app.py` on a free
port, HF_HUB_OFFLINE=1, the current environment); --test-cache starts it on the tiny test
models (a Hugging Face cache built from tests/fixtures in a temporary HF_HOME, as the tests
do), so the run needs no downloads and measures the serving, not the models:

    python benchmarks/load.py --start --test-cache [--users 50] [--seconds 120] [--mix 0.5]
    python benchmarks/load.py --url http://127.0.0.1:7860/ --pid 1234 [--same-photo] [--json load.json]

All users come from one address, as a class behind one router does: the app's per-address
limits count them together (SYNTH_JOBS_PER_ADDRESS jobs waiting or running, default 16;
SYNTH_UPLOAD_MB uploaded per 10 minutes), and what they refuse is counted as refused. With
--start the app gets this environment, so `SYNTH_JOBS_PER_ADDRESS=1000 python benchmarks/load.py
--start ...` measures N clients from N addresses.
"""
from __future__ import annotations

import argparse
import collections
import concurrent.futures
import io
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).parent.parent
ASSETS = ROOT / "assets"
TEXT = "Hello there. This is a load test of the speech endpoint."
# gradio_client's exceptions carry the server's sentence: these mark a refusal (come back
# later), anything else is an error.
# A 503 from the queue reaches gradio_client's caller as "Queue is full!" whether the queue was
# full or the app refused one more job from this address (SYNTH_JOBS_PER_ADDRESS): one kind.
REFUSALS = {"upload quota": ("you have uploaded",), "queue full or job limit": ("queue is full", "you already have"),
            "busy": ("server is busy", "too many requests"), "http 429/503": ("429", "503")}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the server ----------------------------------------------------------------------------
def test_cache(names: list[str]) -> Path:
    """A temporary HF_HOME whose hub cache holds the tiny fixture models for `names`, built as
    tests/conftest.py builds the tests' (tests/hubcache.py)."""
    sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
    from hubcache import build_cache, scratch

    home = scratch("synth-load-hf-")
    build_cache(home / "hub", names)
    return home


class Server:
    """`python app.py` on a free port, offline, its output in a log file."""

    def __init__(self, hf_home: Path | None, startup_timeout: float = 300):
        port = free_port()
        self.url = f"http://127.0.0.1:{port}/"
        env = dict(os.environ, HF_HUB_OFFLINE="1", GRADIO_SERVER_PORT=str(port), GRADIO_SERVER_NAME="127.0.0.1")
        if hf_home is not None:
            env["HF_HOME"] = str(hf_home)
        self.log = tempfile.NamedTemporaryFile(prefix="synth-load-server-", suffix=".log", delete=False)
        self.process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT)
        started = time.monotonic()
        while True:
            try:
                urllib.request.urlopen(self.url, timeout=2)
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() - started > startup_timeout:
                    self.stop()
                    raise SystemExit(f"the app did not start:\n{self.log_text()[-3000:]}")
                time.sleep(0.5)
        self.startup_s = time.monotonic() - started

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_text(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def rss_mb(pid: int) -> float | None:
    """The process's resident memory, MB: /proc on Linux, else psutil where installed."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    try:
        import psutil
    except ImportError:
        return None
    try:
        return psutil.Process(pid).memory_info().rss / 2**20
    except psutil.Error:
        return None


class RssSampler(threading.Thread):
    """(seconds since the start, RSS MB) every `every` seconds until stopped."""

    def __init__(self, pid: int, every: float = 1.0):
        super().__init__(daemon=True)
        self.pid, self.every, self.samples = pid, every, []
        self.stopped = threading.Event()
        self.start_time = time.monotonic()

    def run(self):
        while True:
            rss = rss_mb(self.pid)
            if rss is not None:
                self.samples.append((round(time.monotonic() - self.start_time, 1), round(rss, 1)))
            if self.stopped.wait(self.every):
                return

    def at(self, seconds: float) -> float | None:
        """The sample nearest `seconds` (None if the run was shorter)."""
        if not self.samples or self.samples[-1][0] < seconds - self.every:
            return None
        return min(self.samples, key=lambda s: abs(s[0] - seconds))[1]


# -- the users ------------------------------------------------------------------------------
def photos(count: int, same: bool, work: Path) -> list[Path]:
    """One photo per image user: the same photo for all, or each its own (the example photos
    in turn, each scaled to a different size, 160 to 1000 px on the long side)."""
    from PIL import Image

    if same:
        return [ASSETS / "chelsea.jpg"] * count
    sources = sorted(ASSETS.glob("*.jpg"))
    made = []
    for i in range(count):
        with Image.open(sources[i % len(sources)]) as image:
            side = 160 + (i * 211) % 841
            scale = side / max(image.size)
            size = (max(8, round(image.width * scale)), max(8, round(image.height * scale)))
            image = image.convert("RGB").resize(size)
            path = work / f"user{i:03d}-{image.width}x{image.height}.jpg"
            image.save(path, quality=90)
        made.append(path)
    return made


def classify(error: BaseException) -> tuple[str, str]:
    """("refused" or "error", a short description) for what a request raised."""
    message = f"{type(error).__name__}: {error}".strip()
    response = getattr(error, "response", None)  # httpx.HTTPStatusError (an upload refused): its body says why
    if response is not None:
        try:
            message += f" ({response.text[:200]})"
        except Exception:
            pass
    lowered = message.lower()
    for kind, marks in REFUSALS.items():
        if any(mark in lowered for mark in marks):
            return "refused", kind
    return "error", message[:160]


class CutDownload(Exception):
    pass


def whole(kind: str, data: bytes, announced: int | None) -> None:
    """Raises CutDownload unless `data` is the complete file: its length as announced, and a
    PNG Pillow verifies, or audio soundfile decodes to at least one frame."""
    if not data:
        raise CutDownload("empty")
    if announced is not None and len(data) != announced:
        raise CutDownload(f"{len(data)} of {announced} bytes")
    try:
        if kind == "image":
            from PIL import Image

            with Image.open(io.BytesIO(data)) as image:
                image.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                if image.format != "PNG":
                    raise CutDownload(f"not a PNG: {image.format}")
        else:
            import soundfile

            frames, _ = soundfile.read(io.BytesIO(data))
            if len(frames) == 0:
                raise CutDownload("no audio frames")
    except CutDownload:
        raise
    except Exception as e:
        raise CutDownload(f"{type(e).__name__}: {e}") from e


class Tally:
    """What one endpoint's users saw (lists of seconds, counters of messages)."""

    def __init__(self, endpoint: str, users: int):
        self.endpoint, self.users = endpoint, users
        self.latencies, self.download_s = [], []
        self.refused, self.errors, self.cut = collections.Counter(), collections.Counter(), collections.Counter()
        self.lock = threading.Lock()

    def as_dict(self, minutes: float) -> dict:
        ordered = sorted(self.latencies)
        return {"users": self.users, "completed": len(ordered), "refused": sum(self.refused.values()),
                "errors": sum(self.errors.values()), "cut_downloads": sum(self.cut.values()),
                "per_minute": round(len(ordered) / minutes, 1) if minutes else None,
                "latency_p50_s": percentile(ordered, 50), "latency_p95_s": percentile(ordered, 95),
                "latency_max_s": ordered[-1] if ordered else None,
                "refusals_by_kind": dict(self.refused), "errors_by_message": dict(self.errors),
                "cuts_by_reason": dict(self.cut), "latencies_s": self.latencies, "download_s": self.download_s}


def percentile(ordered: list[float], p: float) -> float | None:
    if not ordered:
        return None
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def user(url: str, kind: str, tally: Tally, deadline: float, args, photo: Path | None):
    import httpx
    from gradio_client import Client, handle_file

    try:
        client = Client(url, verbose=False, download_files=False)
    except Exception as e:
        with tally.lock:
            tally.errors[f"could not connect: {e}"[:160]] += 1
        return
    downloads = httpx.Client(timeout=args.timeout)
    try:
        while time.monotonic() < deadline:
            start = time.monotonic()
            try:
                if kind == "speech":
                    job = client.submit(args.text, args.voice, api_name="/speak")
                    result = job.result(timeout=args.timeout)[0]
                else:
                    job = client.submit(handle_file(str(photo)), args.style, api_name="/stylize")
                    result = job.result(timeout=args.timeout)
            except concurrent.futures.TimeoutError:
                job.cancel()
                with tally.lock:
                    tally.errors[f"no result in {args.timeout:g} s"] += 1
                continue
            except Exception as e:
                outcome, what = classify(e)
                with tally.lock:
                    (tally.refused if outcome == "refused" else tally.errors)[what] += 1
                if outcome == "refused":
                    time.sleep(args.backoff)  # a person, told to come back, waits a moment
                continue
            fetched = time.monotonic()
            try:
                response = downloads.get(result["url"])
                response.raise_for_status()
                announced = result.get("size") or (int(response.headers["content-length"])
                                                   if "content-length" in response.headers else None)
                whole("image" if kind == "image" else "speech", response.content, announced)
            except CutDownload as e:
                with tally.lock:
                    tally.cut[str(e)[:160]] += 1
                continue
            except Exception as e:
                with tally.lock:
                    tally.errors[f"download: {type(e).__name__}: {e}"[:160]] += 1
                continue
            done = time.monotonic()
            with tally.lock:
                tally.latencies.append(round(done - start, 3))
                tally.download_s.append(round(done - fetched, 3))
    finally:
        downloads.close()
        client.close()


def last_lines(log: str) -> list[str]:
    """The exception line ending each traceback in a server log."""
    lines, found = log.splitlines(), []
    for i, line in enumerate(lines):
        if line.startswith("Traceback"):
            j = i + 1
            while j < len(lines) and (lines[j].startswith((" ", "\t")) or not lines[j].strip()):
                j += 1
            if j < len(lines):
                found.append(lines[j])
    return found


# -- the report -----------------------------------------------------------------------------
def fmt(value, digits=2) -> str:
    return "-" if value is None else f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def report(tallies: dict[str, Tally], rss: RssSampler | None, seconds: float, wall: float, header: str) -> dict:
    minutes = wall / 60
    rows = {name: tally.as_dict(minutes) for name, tally in tallies.items()}
    print(header)
    columns = ("endpoint", "users", "completed", "refused", "errors", "cut", "per min", "p50 s", "p95 s", "max s")
    widths = (10, 6, 10, 8, 7, 5, 8, 7, 7, 7)
    print("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(columns, widths))))
    for name, row in rows.items():
        cells = (name, row["users"], row["completed"], row["refused"], row["errors"], row["cut_downloads"],
                 fmt(row["per_minute"], 1), fmt(row["latency_p50_s"]), fmt(row["latency_p95_s"]),
                 fmt(row["latency_max_s"]))
        print("  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(cells, widths))))
    for name, row in rows.items():
        for label, counts in (("refused", row["refusals_by_kind"]), ("errors", row["errors_by_message"]),
                              ("cut", row["cuts_by_reason"])):
            for message, count in sorted(counts.items(), key=lambda kv: -kv[1])[:5]:
                print(f"  {name} {label} x{count}: {message}")
    figures = {"endpoints": rows, "wall_s": round(wall, 1)}
    if rss is None or not rss.samples:
        print("server RSS: not measured (start it here with --start, or give --pid)")
        return figures
    samples = rss.samples
    start, end = samples[0][1], samples[-1][1]
    minute = rss.at(60)
    half = rss.at(seconds / 2)
    growth = None if half is None else round(end - half, 1)
    print(f"server RSS MB: start {start:.0f}, after minute 1 {fmt(minute, 0)}"
          f"{' (run shorter than a minute)' if minute is None else ''}, end {end:.0f}, "
          f"peak {max(s[1] for s in samples):.0f}; growth over the second half {fmt(growth, 1)} MB")
    step = max(1, len(samples) // 12)
    print("RSS over time (s: MB): " + ", ".join(f"{t:.0f}: {m:.0f}" for t, m in samples[::step]))
    figures["rss"] = {"start_mb": start, "after_minute_1_mb": minute, "end_mb": end,
                      "peak_mb": max(s[1] for s in samples), "second_half_growth_mb": growth, "samples": samples}
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--url", help="a running app, e.g. http://127.0.0.1:7860/")
    where.add_argument("--start", action="store_true", help="start `python app.py` here (offline) and measure it")
    parser.add_argument("--test-cache", action="store_true",
                        help="with --start: the tiny fixture models, in a Hugging Face cache built for this run")
    parser.add_argument("--pid", type=int, help="with --url: the server's process id, to sample its RSS")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--mix", type=float, default=0.5, help="share of speech users (the rest send photos)")
    parser.add_argument("--same-photo", action="store_true", help="every image user sends the same photo")
    parser.add_argument("--voice", default="ljspeech-en")
    parser.add_argument("--style", default="horse2zebra")
    parser.add_argument("--text", default=TEXT)
    parser.add_argument("--timeout", type=float, default=300, help="seconds a user waits for one result")
    parser.add_argument("--backoff", type=float, default=1.0, help="seconds a refused user waits before asking again")
    parser.add_argument("--json", type=Path, help="write the raw figures (every latency, RSS sample) here")
    args = parser.parse_args()
    if args.test_cache and not args.start:
        parser.error("--test-cache needs --start (a running app has its own cache)")
    if not 0 <= args.mix <= 1:
        parser.error("--mix is a share: 0 to 1")

    speech_users = round(args.users * args.mix)
    image_users = args.users - speech_users
    hf_home = test_cache([args.voice, args.style]) if args.test_cache else None
    server = Server(hf_home) if args.start else None
    url = server.url if server else args.url
    pid = server.pid if server else args.pid
    work = Path(tempfile.mkdtemp(prefix="synth-load-photos-"))
    keep_log = False
    try:
        user_photos = photos(image_users, args.same_photo, work)
        tallies = {"/speak": Tally("/speak", speech_users), "/stylize": Tally("/stylize", image_users)}
        rss = RssSampler(pid) if pid else None
        if rss:
            rss.start()
        started = time.monotonic()
        deadline = started + args.seconds
        threads = [threading.Thread(target=user, args=(url, "speech", tallies["/speak"], deadline, args, None))
                   for _ in range(speech_users)]
        threads += [threading.Thread(target=user, args=(url, "image", tallies["/stylize"], deadline, args, photo))
                    for photo in user_photos]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.monotonic() - started
        if rss:
            rss.stopped.set()
            rss.join()
        how = ("started here" + (", test cache" if args.test_cache else "") +
               f", answered after {server.startup_s:.1f} s") if server else "running"
        header = (f"{args.users} users ({speech_users} speech: {args.voice}; {image_users} image: {args.style}, "
                  f"{'one photo' if args.same_photo else 'each its own photo'}) for {args.seconds:g} s "
                  f"against {url} ({how}); wall {wall:.1f} s")
        figures = report(tallies, rss, args.seconds, wall, header)
        if server:
            server.stop()
            log = server.log_text()
            figures["server_log_tracebacks"] = log.count("Traceback")
            print(f"server log: {figures['server_log_tracebacks']} tracebacks, "
                  f"{log.count('request refused')} 'request refused' lines")
            if figures["server_log_tracebacks"]:
                keep_log = True
                raised = collections.Counter(last_lines(log))
                for line, count in raised.most_common(3):
                    print(f"  raised x{count}: {line[:200]}")
                print(f"  the whole log: {server.log.name}")
        figures["config"] = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
        figures["url"] = url
        if args.json:
            args.json.write_text(json.dumps(figures, indent=1, ensure_ascii=False))
            print(f"raw figures: {args.json}")
    finally:
        if server:
            server.stop()
            if not keep_log:
                os.unlink(server.log.name)
        shutil.rmtree(work, ignore_errors=True)
        if hf_home is not None:
            shutil.rmtree(hf_home, ignore_errors=True)


if __name__ == "__main__":
    main()
