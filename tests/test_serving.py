import dataclasses
import os
import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import free_port

from synth import catalog, hub, runtime
from synth.errors import ImageError, ModelUnavailable, OptionError, TextError
from synth.image import Styler
from synth.serving import ModelCache, OutputFiles, about, figures, messages
from synth.speech import SpeechOptions


def test_model_cache_loads_each_model_once_across_threads(monkeypatch):
    calls = []
    real = Styler.from_pretrained.__func__

    def slow_load(cls, name, **kwargs):
        calls.append(name)
        time.sleep(0.2)  # long enough for every thread to be waiting on the lock
        return real(cls, name, **kwargs)

    monkeypatch.setattr(Styler, "from_pretrained", classmethod(slow_load))
    cache = ModelCache(max_side=64)
    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("horse2zebra"))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == ["horse2zebra"]
    assert len(results) == 4 and all(r is results[0] for r in results) and results[0].max_side == 64


def test_voices_get_the_callers_text_limit():
    voice = ModelCache(max_text_chars=12).get("ljspeech-en")
    assert voice.max_chars == 12
    with pytest.raises(TextError) as error:
        voice.sentences("Hello there, friend.")
    assert (error.value.reason, error.value.details) == ("too_long", {"length": 20, "limit": 12})


def test_preload_reports_what_it_could_not_load():
    problems = ModelCache().preload(["horse2zebra", "thorsten-de", "nope"])
    assert len(problems) == 2
    assert "synth download thorsten-de" in problems[0] and "valid names" in problems[1]


def test_ready_means_loaded_or_cached():
    cache = ModelCache()
    assert cache.is_ready("ljspeech-en") and not cache.is_loaded("ljspeech-en")
    assert not cache.is_ready("thorsten-de")  # not in the test cache


@pytest.mark.parametrize("error, en, ko", [
    (TextError("x", reason="empty"), "Type some text to speak.", "읽을 문장을 입력하세요."),
    (TextError("x", reason="too_long", length=20000, limit=1000),
     "The text is 20,000 characters long; this demo speaks at most 1,000 at a time. Shorten it.",
     "문장이 20,000자입니다. 이 데모는 한 번에 1,000자까지 읽습니다. 줄여 주세요."),
    (OptionError("x", reason="speed", value=5, low=0.25, high=4.0),
     "Speed 5 is out of range: choose 0.25 to 4.0.", "속도 5은(는) 범위를 벗어났습니다. 0.25에서 4.0 사이로 고르세요."),
    (ImageError("x", reason="too_large_file", megabytes=60, limit=50), "The file is 60 MB; the limit is 50 MB.",
     "파일이 60MB입니다. 50MB까지 올릴 수 있습니다."),
    (ModelUnavailable("x", model="kss-ko", reason="offline"),
     "Korean (KSS) · Tacotron2 is not downloaded on this server, and the server is working offline. "
     "(Whoever runs this demo can fetch it with: synth download kss-ko.)",
     "한국어 (KSS) · Tacotron2 모델이 이 서버에 없고, 서버가 오프라인으로 동작하고 있습니다. "
     "(데모를 실행하는 컴퓨터에서 다음 명령으로 받을 수 있습니다: synth download kss-ko)"),
    (ModelUnavailable("x", model="kss-ko", reason="not_found"), "Korean (KSS) · Tacotron2 was not found on the Hugging Face Hub.",
     "Hugging Face Hub에서 한국어 (KSS) · Tacotron2 모델을 찾을 수 없습니다."),
    (TextError("odd"), "Something went wrong: odd", "문제가 생겼습니다: odd"),
])
def test_messages_for_people(error, en, ko):
    assert messages.describe(error, "en") == en
    assert messages.describe(error, "ko") == ko
    assert "`" not in en + ko  # plain words: a page shows no markdown code


def test_every_error_the_library_raises_for_a_person_has_words():
    """The errors a visitor can cause reach describe() with a reason it knows."""
    with pytest.raises(OptionError) as error:
        SpeechOptions(speed=5)
    assert not messages.describe(error.value).startswith("Something went wrong")
    with pytest.raises(ImageError) as error:
        Styler.from_pretrained("horse2zebra").stylize(b"not an image")
    assert messages.describe(error.value) == "This file could not be read as an image. Try a JPEG, PNG, WebP or GIF."


def test_about_facts_come_from_each_models_configs(monkeypatch):
    """Baker (hop 300 at 24 kHz, reduction factor 2) and LJSpeech (hop 256 at 22.05 kHz, r 1)."""
    english, mandarin = about.facts(catalog.get("ljspeech-en")), about.facts(catalog.get("baker-zh"))
    assert (english.sample_rate, round(english.frame_ms, 2), english.step_frames) == (22050, 11.61, 1)
    assert (mandarin.sample_rate, mandarin.frame_ms, mandarin.step_frames) == (24000, 12.5, 2)
    missing = about.facts(catalog.get("thorsten-de"))
    assert not missing.cached and missing.sample_rate is None


def test_can_download_follows_offline_mode(monkeypatch):
    assert not hub.can_download()  # the tests run with HF_HUB_OFFLINE=1
    monkeypatch.setattr(hub.constants, "HF_HUB_OFFLINE", False)
    assert hub.can_download()


def test_output_files_are_named_and_pruned(tmp_path):
    files = OutputFiles(max_age=60)
    old = files.path("kss-ko", ".wav")
    old.write_bytes(b"x")
    assert old.name.startswith("kss-ko-") and old.suffix == ".wav"
    aged = time.time() - 120
    os.utime(old.parent, (aged, aged))
    new = files.path("kss-ko", ".wav")
    assert not old.exists() and new.parent.exists() and new.parent != old.parent


def test_figures_have_the_data_and_readable_text():
    mel = figures.mel_figure(np.zeros((120, 80)), frame_ms=12.5)
    image = mel.axes[0].images[0]
    assert image.get_array().shape == (80, 120) and image.get_extent()[1] == pytest.approx(1.5)
    alignment = figures.alignment_figure([np.zeros((10, 30)), np.zeros((7, 20))])
    assert [ax.images[0].get_array().shape for ax in alignment.axes] == [(10, 30), (7, 20)]
    # On a 390 px phone the page shows the figure 324 px wide: every text stays >= 10 px.
    scale = 324 / (figures.WIDTH_INCHES * figures.DPI)
    for figure in (mel, alignment):
        sizes = [t.get_fontsize() for t in figure.findobj(lambda a: hasattr(a, "get_fontsize")) if t.get_text()]
        assert sizes and min(sizes) * figures.DPI / 72 * scale >= 10


def test_unavailable_models_are_not_offered(monkeypatch):
    monkeypatch.setitem(catalog.MODELS, "baker-zh", dataclasses.replace(catalog.get("baker-zh"), unavailable="why"))
    with pytest.raises(ModelUnavailable, match="not available: why"):
        ModelCache().get("baker-zh")


def test_playback_feeds_small_pieces_and_ticks_while_waiting(monkeypatch):
    from synth.serving import playback
    from synth.speech import SpeechChunk

    monkeypatch.setattr(playback, "HOLD_SECONDS", 0.0)
    rate = 20000
    chunks = [SpeechChunk(f"s{i}", np.full(12000, 0.5, np.float32), rate, np.zeros((4, 80)), None, pause)
              for i, pause in enumerate([5000, 0])]

    made = threading.Event()  # the second sentence is being made until the feed has ticked

    def slow():
        yield chunks[0]
        assert made.wait(60)
        yield chunks[1]

    spoken, pieces = [], []
    for rate_and_piece in playback.feed(slow(), spoken):
        pieces.append(rate_and_piece)
        if len(spoken) == 1 and len(rate_and_piece[1]) == 1:
            made.set()
    sizes = [len(p) for _, p in pieces]
    assert spoken == chunks and all(r == rate for r, _ in pieces)
    # first: a 0.1 s lead, then 0.25 s pieces of the sentence and its pause (17,000 samples) ...
    assert sizes[:6] == [2000, 3000, 5000, 5000, 2000, 1] and set(sizes[6:]) <= {1, 5000, 2000}
    # ... ticks of one silent sample while the second is made (at most MAX_TICKS), then its pieces
    assert 1 <= sizes.count(1) <= playback.MAX_TICKS and sizes[-3:] == [5000, 5000, 2000]
    audio = np.concatenate([p for _, p in pieces if len(p) > 1])
    assert len(audio) == sum(len(c.pcm16()) for c in chunks)


def test_playback_raises_what_the_voice_hit():
    from synth.serving import playback

    def broken():
        raise TextError("nothing to say", reason="nothing_speakable")
        yield

    with pytest.raises(TextError, match="nothing to say"):
        list(playback.feed(broken(), []))


def test_korean_axis_labels_have_a_font():
    """packages.txt installs fonts-nanum; with it, Korean labels render without missing glyphs."""
    import io
    import warnings

    assert figures.can_write("ko")
    mel = figures.mel_figure(np.zeros((50, 80)), 11.6, ("시간 (초)", "멜 채널"))
    alignment = figures.alignment_figure([np.zeros((5, 9))] * 2, ("디코더 단계", "입력 기호"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for figure in (mel, alignment):
            figure.savefig(io.BytesIO(), format="png")
    assert [str(w.message) for w in caught if "missing from" in str(w.message)] == []
    assert mel.axes[0].get_xlabel() == "시간 (초)"


def test_output_files_stay_under_their_size_and_go_at_exit():
    files = OutputFiles(max_bytes=10_000)
    made = []
    for i in range(5):
        path = files.path("x", ".bin")  # each new file first prunes the oldest past 10 kB
        path.write_bytes(b"x" * 4000)
        os.utime(path.parent, (time.time() - 100 + i,) * 2)
        made.append(path)
    files.path("x", ".bin")
    assert [p.exists() for p in made] == [False, False, False, True, True]
    files.remove()
    assert not files.directory.exists()


def test_upload_quota_per_client():
    from synth.serving.limits import UploadQuota, client_of

    quota = UploadQuota(max_bytes=100, window=60)
    assert [quota.take("a", 40, now=t) for t in (0, 1)] == [0, 0]
    assert quota.take("a", 40, now=2) == 58  # 120 > 100: again when the first 40 leave, at t = 60
    assert quota.take("b", 40, now=2) == 0  # another client is not held back
    assert quota.take("a", 40, now=61) == 0
    scope = {"client": ("10.0.0.9", 5000), "headers": [(b"x-forwarded-for", b"203.0.113.7, 10.0.0.1")]}
    assert client_of(scope, behind_proxy=True) == "203.0.113.7" and client_of(scope, behind_proxy=False) == "10.0.0.9"


@pytest.mark.parametrize("method, path, query, key", [
    ("GET", "/gradio_api/queue/data", b"session_hash=abc", "abc"),
    ("GET", "/gradio_api/call/speak/ev1", b"", "ev1"),
    ("GET", "/gradio_api/call/v2/speak/ev2/", b"", "ev2"),
    ("POST", "/gradio_api/call/speak", b"", None),
    ("GET", "/gradio_api/info", b"", None),
])
def test_result_readers_are_counted_while_their_stream_is_open(method, path, query, key):
    import asyncio
    import collections

    from synth.serving.limits import ResultReaders

    readers, seen = collections.Counter(), []

    async def stream(scope, receive, send):
        seen.append(dict(readers))

    asyncio.run(ResultReaders(stream, readers)({"type": "http", "method": method, "path": path,
                                                "query_string": query}, None, None))
    assert seen == [{key: 1} if key else {}] and readers == {}


def test_jobs_nobody_reads_are_dropped_when_their_turn_comes():
    """One slot, held by a job until released. Behind it: two jobs posted to /call and never
    read, and one whose client reads. After the grace, the slot frees: the unread ones are
    dropped (a late reader hears why), the read one runs."""
    import gradio as gr
    import httpx
    from starlette.middleware import Middleware

    from synth.serving.limits import DROPPED, JobLimit, ResultReaders

    release, ran = threading.Event(), []

    def work(tag: str) -> str:
        ran.append(tag)
        release.wait(30)
        return tag

    with gr.Blocks() as demo:
        box = gr.Textbox()
        gr.Button().click(work, box, box, api_name="work", concurrency_limit=1)
    demo.queue()
    jobs = JobLimit(per_session=10, per_address=10, unread_seconds=0.5)
    jobs.install(demo._queue)
    _, url, _ = demo.launch(prevent_thread_lock=True, server_port=free_port(),
                            app_kwargs={"middleware": [Middleware(ResultReaders, readers=jobs.readers)]})
    try:
        def post(tag):
            return httpx.post(url + "gradio_api/call/work", json={"data": [tag]}).json()["event_id"]

        first = post("first")
        while ran != ["first"]:
            time.sleep(0.01)
        unread = [post("unread-1"), post("unread-2")]
        read = post("read")
        answer = []
        reader = threading.Thread(target=lambda: answer.append(
            httpx.get(url + f"gradio_api/call/work/{read}", timeout=30).text))
        reader.start()
        while not jobs.reading(demo._queue.event_ids_to_events[read]):
            time.sleep(0.01)
        for event_id in unread + [read]:  # all three have waited past the grace
            demo._queue.event_ids_to_events[event_id].enqueue_time -= 1
        release.set()
        reader.join(30)
        assert ran == ["first", "read"] and 'data: ["read"]' in answer[0]
        late = httpx.get(url + f"gradio_api/call/work/{unread[0]}", timeout=30).text
        assert "event: error" in late and DROPPED.format(seconds=0.5) in late
        assert first not in demo._queue.event_ids_to_events and not set(unread) & set(demo._queue.event_ids_to_events)
    finally:
        release.set()
        demo.close()


@pytest.mark.parametrize("setting, precision", [("auto", "auto"), ("litert", "int8"), ("tensorflow", "int8"),
                                                ("litert", "fp32")])
def test_the_engines_in_use_are_those_each_network_ran_on(monkeypatch, setting, precision):
    monkeypatch.setenv("SYNTH_ENGINE", setting)
    monkeypatch.setenv("SYNTH_PRECISION", precision)

    def expected(network):  # on a CPU under auto: each network on its engine and weights of runtime's table
        cpu_engine, cpu_precision = runtime.CPU_DEFAULTS[network]
        used = cpu_engine if setting == "auto" else setting
        weights = "fp32" if used == "tensorflow" else cpu_precision if precision == "auto" else precision
        if network == "Tacotron2" and used == "litert":  # its encoder and postnet stay on TensorFlow
            return used, weights, ("encoder, postnet", "tensorflow", "fp32")
        if network == "Generator" and (used, weights) == ("litert", "int8"):
            return used, weights, ("last layer", "litert", "fp32")
        return used, weights, None

    models = ModelCache(max_side=64)
    assert models.engines("ljspeech-en") == {}  # not loaded
    models.get("ljspeech-en").speak("Hi.", SpeechOptions(max_steps=3))
    assert models.engines("ljspeech-en") == {"Tacotron2": expected("Tacotron2"),
                                             "Multi-band MelGAN": expected("MultiBandMelGAN")}
    styler = models.get("horse2zebra")
    assert models.engines("horse2zebra") == {}  # loaded, not run yet: its engine is chosen then
    styler.stylize(np.zeros((8, 8, 3), np.uint8))
    assert models.engines("horse2zebra") == {"CycleGAN": expected("Generator")}


def test_the_page_says_what_each_network_and_its_parts_ran_on(monkeypatch):
    """About's cards name each network's engine and weights and its part that runs otherwise,
    in the visitor's language; the device line (About's and the header's) is what the settings
    will run until a network has run, then what it ran with."""
    import app

    monkeypatch.setenv("SYNTH_ENGINE", "litert")
    monkeypatch.setenv("SYNTH_PRECISION", "int8")
    models = ModelCache(max_side=64)
    monkeypatch.setattr(app, "MODELS", models)
    request = SimpleNamespace(headers={"accept-language": "en"}, query_params={})
    assert app.page_state(request)[0].endswith(" · LiteRT, int8.")
    models.get("ljspeech-en-fastspeech2").speak("Hi.", SpeechOptions())
    models.get("horse2zebra").stylize(np.zeros((8, 8, 3), np.uint8))
    english, korean = app._about("en"), app._about("ko")
    assert "<dd>FastSpeech2: LiteRT int8 (encoder: LiteRT fp32), Multi-band MelGAN: LiteRT int8</dd>" in english
    assert "<dd>CycleGAN: LiteRT int8 (last layer: LiteRT fp32)</dd>" in english
    assert "<dd>FastSpeech2: LiteRT int8 (인코더: LiteRT fp32), Multi-band MelGAN: LiteRT int8</dd>" in korean
    assert "<dd>CycleGAN: LiteRT int8 (마지막 층: LiteRT fp32)</dd>" in korean
    assert " · LiteRT, fp32 + int8</p>" in english  # the parts apart are fp32
    models.get("ljspeech-en").speak("Hi.", SpeechOptions(max_steps=3))
    assert "<dd>Tacotron2: LiteRT int8 (encoder, postnet: TensorFlow fp32), " in app._about("en")
    assert app.page_state(request)[0].endswith(" · TensorFlow + LiteRT, fp32 + int8.")
