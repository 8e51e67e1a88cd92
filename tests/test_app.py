"""The demo as people and scripts use it: the real app on a local port, models from the
fake Hugging Face cache, offline. Browser tests drive Debian's Chromium via Playwright."""
import contextlib
import io
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import soundfile as sf
from conftest import FIXTURES, free_port
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from synth import catalog
from synth.image import Styler

ROOT = Path(__file__).parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
SENTENCES = "Hello there. Good day."


@pytest.fixture(scope="module")
def app_url():
    sys.path.insert(0, str(ROOT))
    import app

    os.environ["SYNTH_PRELOAD"] = "horse2zebra, thorsten-de"  # one loads, one is not cached: logged
    try:
        _, url, _ = app.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(), quiet=True)
    finally:
        del os.environ["SYNTH_PRELOAD"]
    yield url
    app.demo.close()


def test_preload_loaded_before_first_request(app_url):
    import app

    assert isinstance(app.MODELS._models.get("horse2zebra"), Styler)


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False)


def _expected_samples(text, voice_name="ljspeech-en"):
    """Samples the tiny voices make (they never stop: each sentence runs to its default cap)."""
    import app

    voice = app.MODELS.get(voice_name)
    frames = [voice.text_to_mel.default_max_steps(len(ids)) for ids in voice.ids(voice.sentences(text))]
    pause = int(0.25 * 22050)
    return sum(frames) * 256 + pause * (len(frames) - 1)


def test_api_lists_named_endpoints(client):
    assert {"/stylize", "/speak"} <= set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])


def test_api_stylize_returns_image_of_input_shape(client):
    result = client.predict(handle_file(str(ROOT / "assets" / "chelsea.jpg")), "horse2zebra", api_name="/stylize")
    with Image.open(result) as image:
        assert image.format == "PNG" and image.size == (451, 300) and image.mode == "RGB"


def test_api_speak_returns_wav_plots_and_what_was_said(client):
    wav, mel, alignment, said = client.predict(SENTENCES + " 😀", "ljspeech-en", api_name="/speak")
    info = sf.info(wav)
    assert info.samplerate == 22050 and info.frames == _expected_samples(SENTENCES + " 😀")
    assert Path(wav).name.startswith("ljspeech-en-") and wav.endswith(".wav")
    assert mel["type"] == "matplotlib" and mel["plot"].startswith("data:image")
    assert alignment["type"] == "matplotlib"
    assert said == f"2 sentence(s), {info.frames / 22050:.1f} s at 22,050 Hz. Skipped: 😀."


def test_api_speak_speed(client):
    wav, _, _, _ = client.predict("Hello there.", "ljspeech-en", 2.0, api_name="/speak")
    assert sf.info(wav).frames == round(_expected_samples("Hello there.") / 256 / 2) * 256


def test_api_speak_korean(client):
    wav, _, _, _ = client.predict("안녕하세요. 반갑습니다!", "kss-ko", api_name="/speak")
    assert sf.info(wav).frames == _expected_samples("안녕하세요. 반갑습니다!", "kss-ko")


@pytest.mark.parametrize("text, message", [("", "Type some text"), ("x" * 20000, "20,000 characters")],
                         ids=["empty", "20k-characters"])
def test_api_speak_bad_text(client, text, message):
    with pytest.raises(AppError, match=message):
        client.predict(text, "ljspeech-en", api_name="/speak")


def test_api_unknown_voice_lists_valid_names(client):
    with pytest.raises(AppError, match=r"klingon is not in the list of choices: "
                                          r"\['ljspeech-en', 'kss-ko', 'thorsten-de', 'synpaflex-fr', 'baker-zh', "
                                          r"'ljspeech-en-fastspeech2', 'kss-ko-fastspeech2', 'baker-zh-fastspeech2'\]"):
        client.predict("Hello.", "klingon", api_name="/speak")


def _fastspeech2_samples(text, speed=1.0, voice_name="ljspeech-en-fastspeech2"):
    """Samples a FastSpeech2 voice makes: its durations (no dropout before them, so they do
    not depend on the seed) times the hop, and the pauses."""
    import app

    voice = app.MODELS.get(voice_name)
    ids = voice.ids(voice.sentences(text))
    frames = voice.text_to_mel.infer(ids, speed_ratio=1 / speed).lengths
    return int(sum(frames)) * voice.vocoder.hop_size + int(0.25 * voice.sample_rate) * (len(ids) - 1)


def test_api_speak_fastspeech2_with_speed_pitch_and_energy(client):
    wav, mel, durations, said = client.predict(SENTENCES, "ljspeech-en-fastspeech2", 1.5, 1.2, 0.8, api_name="/speak")
    info = sf.info(wav)
    assert info.samplerate == 22050 and info.frames == _fastspeech2_samples(SENTENCES, speed=1.5)
    assert Path(wav).name.startswith("ljspeech-en-fastspeech2-")
    assert mel["type"] == "matplotlib" and durations["type"] == "matplotlib"
    assert said == f"2 sentence(s), {info.frames / 22050:.1f} s at 22,050 Hz."


@pytest.mark.parametrize("fmt", ["mp3", "flac", "opus"])
def test_api_speak_in_another_format(client, fmt):
    wav, _, _, _ = client.predict("Hello there.", "ljspeech-en-fastspeech2", 1.0, 1.0, 1.0, fmt, api_name="/speak")
    audio, rate = sf.read(wav)
    assert wav.endswith(f".{fmt}") and rate == (24000 if fmt == "opus" else 22050)
    expected = _fastspeech2_samples("Hello there.")
    # Opus: resampled to 24 kHz, ceil(n * 160 / 147); MP3: within one 576-sample granule
    assert (len(audio) == -(-expected * 160 // 147) if fmt == "opus" else abs(len(audio) - expected) <= 576)


def test_api_pitch_for_a_voice_without_it(client):
    with pytest.raises(AppError, match="This voice has no pitch control: leave pitch at 1, or pick a FastSpeech2"):
        client.predict("Hello.", "ljspeech-en", 1.0, 1.3, 1.0, api_name="/speak")


def test_api_text_file_as_image(client, tmp_path):
    fake = tmp_path / "photo.jpg"
    fake.write_text("this is not a photo")
    with pytest.raises(AppError, match="could not be read as an image"):
        client.predict(handle_file(str(fake)), "horse2zebra", api_name="/stylize")


@contextlib.contextmanager
def _app_process(hf_home: Path, hub_endpoint: str, log: list, server_out: list | None = None):
    """`python app.py` as a person starts it, online (not offline mode) against
    `hub_endpoint`; yields its URL once it answers; its output is appended to `log` (and the
    process to `server_out`, for a test that stops it itself)."""
    port = free_port()
    env = dict(os.environ, HF_HOME=str(hf_home), HF_HUB_OFFLINE="0", HF_ENDPOINT=hub_endpoint,
               GRADIO_SERVER_PORT=str(port), GRADIO_SERVER_NAME="127.0.0.1")
    server = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    if server_out is not None:
        server_out.append(server)
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                assert server.poll() is None, server.stdout.read()
                time.sleep(1)
        yield url
    finally:
        server.terminate()
        log.append(server.communicate(timeout=30)[0])


def _browser(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def _toasts(page):
    page.locator("[data-testid=toast-body]").first.wait_for(timeout=30000)
    return " ".join(page.locator("[data-testid=toast-body]").all_inner_texts())


@pytest.mark.slow
def test_browser_image_and_speech(app_url):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = _browser(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(app_url)
        page.locator("#image-status").get_by_text("6 of 6 ready.").wait_for()
        page.locator("#photo input[type=file]").set_input_files(str(ROOT / "assets" / "coffee.jpg"))
        page.locator("#photo img").wait_for()
        page.locator("#restyle").click()
        page.locator("#comparison img").first.wait_for(timeout=60000)
        # 600×400 is over the 512 px working size: reduced, and the page says so.
        page.locator("#size-note").get_by_text("Restyled at 512×341: your photo (600×400)").wait_for()
        link = page.locator("#png a").first
        assert re.fullmatch(r"horse2zebra-\d{8}-\d{6}\.png", link.get_attribute("href").split("/")[-1])
        with Image.open(io.BytesIO(page.request.get(link.get_attribute("href")).body())) as image:
            assert image.size == (512, 341)
        page.screenshot(path=ARTIFACTS / "image-tab.png", full_page=True)

        page.get_by_role("tab", name="Speech").click()
        for voice, text in [("English (LJSpeech) · Tacotron2", SENTENCES),
                            ("Korean (KSS) · Tacotron2", "안녕하세요. 좋은 아침입니다.")]:
            page.locator("#voice input").click()
            page.get_by_role("option", name=voice).click()
            page.locator("#text textarea").fill(text)
            page.locator("#speak").click()
            page.locator("#player audio").first.wait_for(state="attached", timeout=60000)
            name = "ljspeech-en" if voice.startswith("English") else "kss-ko"
            page.locator("#wav").get_by_text(f"{name}-").wait_for(timeout=60000)
            link = page.locator("#wav a").first
            page.locator("#alignment img").first.wait_for()
            audio, rate = sf.read(io.BytesIO(page.request.get(link.get_attribute("href")).body()))
            assert rate == 22050 and len(audio) == _expected_samples(text, name)
            page.locator("#speech-info").get_by_text(f"2 sentence(s), {len(audio) / rate:.1f} s").wait_for()
            page.screenshot(path=ARTIFACTS / f"speech-tab-{name}.png", full_page=True)
        browser.close()


@pytest.mark.slow
def test_browser_fastspeech2_voice_with_its_controls(app_url):
    """Pick a FastSpeech2 voice: pitch and energy appear; move the speed slider, speak, and
    get the audio its durations predict and the durations plot in place of the attention."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = _browser(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(app_url)
        page.get_by_role("tab", name="Speech").click()
        assert not page.locator("#pitch").is_visible() and not page.locator("#energy").is_visible()
        page.locator("#voice input").click()
        page.get_by_role("option", name="English (LJSpeech) · FastSpeech2").click()
        page.locator("#pitch").wait_for()
        page.locator("#energy").wait_for()
        for slider, value in (("#speed", "1.5"), ("#pitch", "1.2")):
            number = page.locator(f"{slider} input[type=number]")
            number.fill(value)
            number.press("Enter")
        page.locator("#text textarea").fill(SENTENCES)
        page.locator("#speak").click()
        page.locator("#wav").get_by_text("ljspeech-en-fastspeech2-").wait_for(timeout=60000)
        audio, rate = sf.read(io.BytesIO(page.request.get(page.locator("#wav a").first.get_attribute("href")).body()))
        assert rate == 22050 and len(audio) == _fastspeech2_samples(SENTENCES, speed=1.5)
        page.locator("#alignment").get_by_text("Durations: how many frames FastSpeech2 gave each symbol").wait_for()
        assert page.locator("#alignment img").first.get_attribute("alt").startswith("Durations")
        page.screenshot(path=ARTIFACTS / "speech-tab-fastspeech2.png", full_page=True)

        page.locator("input[type=file][accept*='.txt']").set_input_files(
            files=[{"name": "chapter.txt", "mimeType": "text/plain", "buffer": ("A sentence to read. " * 80).encode()}])
        assert "the text box holds the first" in _toasts(page)  # 1,600 characters, over the limit
        text = page.locator("#text textarea").input_value()
        assert 980 <= len(text) <= 1000 and text.startswith("A sentence to read.") and text.endswith("read.")
        page.locator("input[type=file][accept*='.txt']").set_input_files(
            files=[{"name": "latin1.txt", "mimeType": "text/plain", "buffer": "Café au lait.".encode("latin-1")}])
        page.get_by_text("This file is not UTF-8 text").first.wait_for(timeout=30000)
        assert page.locator("#text textarea").input_value() == text  # the text box keeps what it had

        page.locator("#voice input").click()  # back to Tacotron2: the controls it lacks go away
        page.get_by_role("option", name="English (LJSpeech) · Tacotron2").click()
        page.locator("#pitch").wait_for(state="hidden")
        browser.close()


@pytest.mark.slow
def test_browser_read_along(app_url):
    """Speak: the typed words appear under the player; seek the audio to a word's start and
    that word is marked (and announced politely); click a word and the player moves to its
    start; the subtitles come with the audio; what the model read shows above each word."""
    import srt
    import webvtt
    from playwright.sync_api import expect, sync_playwright

    text = "On 3 May 1995, Dr. Smith paid $5. He was glad."
    with sync_playwright() as playwright:
        browser = _browser(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(app_url)
        page.get_by_role("tab", name="Speech").click()
        page.locator("#voice input").click()
        page.get_by_role("option", name="English (LJSpeech) · FastSpeech2").click()
        page.locator("#text textarea").fill(text)
        page.locator("#speak").click()
        page.locator("#subtitles-srt").wait_for(timeout=60000)
        words = page.locator("#read-along .synth-word")
        assert words.all_inner_texts() == ["On", "3", "May", "1995", "Dr.", "Smith", "paid", "$5", "He", "was", "glad"]
        assert page.locator("#read-along .synth-now").get_attribute("aria-live") == "polite"

        doctor = words.nth(4)
        start = float(doctor.get_attribute("data-start"))
        page.evaluate("t => { const a = document.querySelector('#player audio'); a.pause(); a.currentTime = t; }",
                      start)
        expect(page.locator("#read-along .synth-current")).to_have_text("Dr.")
        expect(page.locator("#read-along .synth-now")).to_have_text("Dr.")
        assert doctor.get_attribute("aria-current") == "true"

        glad = words.nth(10)
        page.evaluate("document.querySelector('#player audio').play = () => Promise.resolve()")  # seek, hold still
        glad.click()
        expect(page.locator("#read-along .synth-current")).to_have_text("glad")
        at = page.evaluate("document.querySelector('#player audio').currentTime")
        assert at == pytest.approx(float(glad.get_attribute("data-start")), abs=0.002)  # data-start: 3 decimals

        files = {}
        for kind in ("vtt", "srt"):
            with page.expect_download() as download:
                page.locator(f"#subtitles-{kind}").click()
            files[kind] = Path(download.value.path()).read_text(encoding="utf-8")
            assert download.value.suggested_filename.endswith("." + kind)
        cues = list(webvtt.from_buffer(io.StringIO(files["vtt"])))
        assert [c.text for c in cues] == ["On 3 May 1995, Dr. Smith paid $5.", "He was glad."]
        assert [c.content for c in srt.parse(files["srt"])] == [c.text for c in cues]

        page.locator("#show-read input").check()
        readings = page.locator("#read-along rt")
        expect(readings).to_have_count(11)
        assert readings.nth(4).inner_text() == "doctor" and readings.nth(7).inner_text() == "five dollars"
        page.screenshot(path=ARTIFACTS / "speech-read-along.png", full_page=True)
        browser.close()


@pytest.mark.parametrize("lang, words", [("en", "use symbols this voice does not have: 'tomato' -> '{T ZZ9}' "
                                                  "(ZZ9). Write English as ARPAbet"),
                                          ("ko", "이 목소리에 없는 기호가 있습니다: 'tomato' -> '{T ZZ9}' (ZZ9)")])
def test_a_pronunciation_the_voice_cannot_say_is_refused_on_the_page(app_url, lang, words):
    import gradio as gr

    import app

    request = type("Request", (), {"headers": {"accept-language": lang}})()
    with pytest.raises(gr.Error) as refused:
        next(app.speak_page("I like tomato.", "ljspeech-en-fastspeech2", 1.0, 1.0, 1.0, "wav",
                            [["tomato", "{T ZZ9}"], ["", ""]], False, request))
    assert words in refused.value.message


@pytest.mark.slow
def test_a_bad_lexicon_file_is_named_and_the_app_starts(tmp_path, monkeypatch):
    """SYNTH_LEXICON with an entry the voice cannot say: logged with the file, the entry and
    the symbols; the app starts and speaks, with the good entry."""
    from hubcache import build_cache

    path = tmp_path / "lexicon.json"
    path.write_text('{"en": {"tomato": "{T QQ1}", "potato": "{P AH0 T EY1 T OW2}"}}', encoding="utf-8")
    hf_home, log = tmp_path / "hf-home", []
    build_cache(hf_home / "hub", ["ljspeech-en-fastspeech2"])
    monkeypatch.setenv("SYNTH_LEXICON", str(path))
    monkeypatch.setenv("SYNTH_PRELOAD", "ljspeech-en-fastspeech2")
    with _app_process(hf_home, f"http://127.0.0.1:{free_port()}", log) as url:
        wav, *_ = Client(url, verbose=False).predict("A potato.", "ljspeech-en-fastspeech2", api_name="/speak")
        assert sf.info(wav).samplerate == 22050
    assert f"{path}: symbols the en voice does not have: 'tomato' -> '{{T QQ1}}' (QQ1)" in log[0]


@pytest.mark.slow
def test_uploads_are_limited_per_client_and_temporary_folders_go_at_exit(tmp_path, monkeypatch):
    """One client uploading 19 MB files in a burst: refused with a message once past its
    100 MB; then a speech and a photo are made, and SIGTERM leaves no temporary files."""
    import httpx

    from hubcache import build_cache

    hf_home, log, temp = tmp_path / "hf-home", [], tmp_path / "tmp"
    temp.mkdir()
    build_cache(hf_home / "hub", ["ljspeech-en", "horse2zebra"])
    monkeypatch.setenv("TMPDIR", str(temp))  # where the app makes its folders (Gradio's too)
    monkeypatch.delenv("GRADIO_TEMP_DIR", raising=False)
    monkeypatch.setenv("SYNTH_MAX_FILE_SIZE", "20mb")  # the default (the tests' app takes 2 MB)
    server = []
    with _app_process(hf_home, f"http://127.0.0.1:{free_port()}", log, server) as url:
        body = b"\0" * 19_000_000
        statuses = []
        for i in range(7):
            reply = httpx.post(url + "gradio_api/upload", files={"files": (f"big{i}.bin", body)}, timeout=60,
                               headers={"accept-language": "en-US"})
            statuses.append(reply.status_code)
        assert statuses == [200] * 5 + [429] * 2
        assert "You have uploaded 95 MB in the last 10 minutes; the limit is 100 MB." in reply.json()["detail"]
        client = Client(url, verbose=False)
        client.predict("Hello there.", "ljspeech-en", api_name="/speak")
        client.predict(handle_file(str(ROOT / "assets" / "chelsea.jpg")), "horse2zebra", api_name="/stylize")
        made = sorted(p.name.rsplit("-", 1)[0] for p in temp.glob("synth-*"))
        assert made == ["synth", "synth-gradio"] and len([p for p in temp.rglob("*") if p.is_file()]) >= 8
        server[0].send_signal(15)  # SIGTERM
        assert server[0].wait(timeout=60) is not None
    assert list(temp.iterdir()) == []


@pytest.mark.slow
def test_one_client_cannot_fill_the_queue(tmp_path, monkeypatch):
    """Behind a proxy, client A posts 10 /speak jobs and never reads them: past its limit of 3
    it is refused with a sentence saying why; client B is served meanwhile."""
    import httpx

    from hubcache import build_cache

    hf_home, log = tmp_path / "hf-home", []
    build_cache(hf_home / "hub", ["ljspeech-en"])
    monkeypatch.setenv("SYNTH_BEHIND_PROXY", "1")
    monkeypatch.setenv("SYNTH_JOBS_PER_ADDRESS", "3")
    monkeypatch.setenv("SYNTH_PRELOAD", "ljspeech-en")
    with _app_process(hf_home, f"http://127.0.0.1:{free_port()}", log) as url:
        replies = [httpx.post(url + "gradio_api/call/speak", timeout=30,
                              json={"data": ["Hello there. " * 5, "ljspeech-en", 1.0, 1.0, 1.0, "wav"]},
                              headers={"x-forwarded-for": "203.0.113.1"}) for _ in range(10)]
        assert [r.status_code for r in replies] == [200] * 3 + [503] * 7
        assert replies[-1].json()["detail"] == ("You already have 3 requests waiting or running (at most 3 at a "
                                               "time from your address). Wait for one to finish, then try again.")
        other = Client(url, verbose=False, headers={"x-forwarded-for": "203.0.113.2"})
        wav, *_ = other.predict("Good day.", "ljspeech-en", api_name="/speak")
        assert sf.info(wav).samplerate == 22050


@pytest.mark.slow
def test_browser_style_examples_and_round_trip(app_url):
    """Pick a style that has an inverse: its own example photos show; click one, restyle
    with the round trip on, and see x, G(x), F(G(x)) with the cycle error."""
    import json

    from playwright.sync_api import sync_playwright

    style = next(m for m in catalog.models("style") if m.inverse and m.name != "horse2zebra")
    fitting = json.loads((ROOT / "assets" / "photos.json").read_text())[style.name]
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = _browser(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(app_url)
        page.locator("#image-status").get_by_text("ready").wait_for()
        page.locator("#style input").click()
        page.get_by_role("option", name=style.display("en"), exact=True).click()
        examples = page.locator(f"#photo-examples-{style.name}")
        examples.wait_for()
        assert not page.locator("#photo-examples-horse2zebra").is_visible()
        examples.locator("button").first.click()
        page.locator("#photo img").wait_for()
        assert Path(fitting[0]).stem in page.locator("#photo img").get_attribute("src")
        page.locator("#round-trip input").check()
        page.locator("#restyle").click()
        page.locator("#cycle img").nth(2).wait_for(timeout=60000)
        page.locator("#cycle-note").get_by_text("Mean absolute cycle error").wait_for()
        note = page.locator("#cycle-note").inner_text()
        error = float(re.search(r"F\(G\(x\)\)\|: ([0-9.]+)", note).group(1))
        assert 0 < error < 2  # pixel values span -1 to 1
        page.screenshot(path=ARTIFACTS / "image-round-trip.png", full_page=True)
        browser.close()


@pytest.mark.slow
def test_browser_streamed_speech_never_waits_for_audio_already_made(app_url):
    """Four sentences with the tiny voice, streamed: the player plays them to the end, exactly
    the WAV's length. Whether it ever ran out of audio on the way depends on how fast this
    machine makes it (under a second a sentence here, but a loaded CI core may not), so that is
    measured by benchmarks/streaming.py, not asserted."""
    from playwright.sync_api import sync_playwright

    from player import PARAGRAPH, speak_paragraph

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=CHROMIUM_ARGS + ["--autoplay-policy=no-user-gesture-required"])
        page = browser.new_page()
        result = speak_paragraph(page, app_url)
        page.locator("#wav").get_by_text("ljspeech-en-").wait_for(timeout=60000)
        audio, rate = sf.read(io.BytesIO(page.request.get(page.locator("#wav a").first.get_attribute("href")).body()))
        browser.close()
    assert result["played"] and result["ended"], result["events"]
    assert len(audio) == _expected_samples(PARAGRAPH) and rate == 22050
    # The stream is AAC: one 1024-sample priming frame, and the last frame padded to 1024
    # samples, so it lasts 1 to 2 frames (46.4 to 92.9 ms at 22.05 kHz) longer than the WAV.
    assert 1024 / rate - 1e-3 <= result["played_s"] - len(audio) / rate <= 2048 / rate + 1e-3


@pytest.mark.slow
def test_browser_korean_interface(app_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = _browser(playwright)
        page = browser.new_context(locale="ko-KR").new_page()
        page.goto(app_url)
        page.get_by_role("tab", name="음성").wait_for()
        assert page.locator("#restyle").inner_text().strip() == "변환"
        browser.close()


@pytest.mark.slow
def test_browser_bad_inputs_end_in_messages(app_url, tmp_path):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = _browser(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(app_url)
        page.locator("#restyle").click()  # no photo
        assert "Add a photo first" in _toasts(page)
        page.reload()

        fake = tmp_path / "holiday.jpg"
        fake.write_text("this is not a photo\n" * 20)
        page.locator("#photo input[type=file]").set_input_files(str(fake))
        page.locator("#restyle").click()
        assert "could not be read as an image" in _toasts(page)
        page.reload()

        big = tmp_path / "huge.jpg"
        big.write_bytes(b"\xff\xd8" + bytes(3 * 1024 * 1024))  # over the 2 MB test limit
        page.locator("#photo input[type=file]").set_input_files(str(big))
        assert "exceed the maximum allowed size" in _toasts(page)
        page.reload()

        page.get_by_role("tab", name="Speech").click()
        page.locator("#speak").click()  # empty text
        assert "Type some text" in _toasts(page)
        page.reload()

        page.get_by_role("tab", name="Speech").click()
        page.locator("#voice input").click()
        page.get_by_role("option", name="Korean (KSS) · Tacotron2").click()
        page.locator("#text textarea").fill("안녕 hello")  # Latin lower case: not in the Korean voice
        page.locator("#speak").click()
        assert "cannot say e h l o" in _toasts(page)
        page.locator("#wav a").first.wait_for(timeout=60000)  # and it still speaks the rest
        page.screenshot(path=ARTIFACTS / "bad-input.png")
        browser.close()


@pytest.mark.slow
def test_app_without_network_or_models(tmp_path):
    """No cache and no network (not offline mode: the Hub is a closed local port). The app
    starts, a request for a missing model is answered with a readable message, the page then
    says the Hub cannot be reached, and a model copied into the cache works without a restart."""
    from playwright.sync_api import sync_playwright

    from hubcache import build_cache

    hf_home, log = tmp_path / "empty-hf-home", []
    with _app_process(hf_home, f"http://127.0.0.1:{free_port()}", log) as url, sync_playwright() as playwright:
        browser = _browser(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url)
        page.locator("#image-status").get_by_text("0 of 6 ready. The others download on first use.").wait_for()
        page.locator("#photo input[type=file]").set_input_files(str(ROOT / "assets" / "astronaut.jpg"))
        page.locator("#photo img").wait_for()
        page.locator("#restyle").click()
        message = _toasts(page)
        assert "Horse → zebra is not downloaded on this server, and the Hugging Face Hub cannot be reached" \
            in message and "synth download horse2zebra" in message and "`" not in message
        page.screenshot(path=ARTIFACTS / "no-models.png")

        page.reload()
        page.locator("#image-status").get_by_text("cannot be reached").wait_for()
        assert "(not downloaded, and the Hub cannot be reached)" in page.locator("#style input").input_value()
        build_cache(hf_home / "hub", ["horse2zebra"])  # someone copies the model in
        page.reload()
        page.locator("#image-status").get_by_text("1 of 6 ready.").wait_for()
        page.locator("#photo input[type=file]").set_input_files(str(ROOT / "assets" / "astronaut.jpg"))
        page.locator("#restyle").click()
        page.locator("#comparison img").first.wait_for(timeout=60000)
        browser.close()
    output = log[0]
    assert output.count("WARNING synth.hub: the Hugging Face Hub") == 1, output  # once: no retry storm
    assert "Traceback" not in output, output


@pytest.mark.slow
def test_browser_shows_a_download_in_progress(tmp_path):
    """A model fetched on first use from a (fake, slow) Hub: the page says what is being
    downloaded while it comes, then shows the result."""
    import threading

    from fakehub import FakeHub
    from playwright.sync_api import sync_playwright

    hub_server = FakeHub()
    repo = catalog.get("horse2zebra").repos["generator"]
    hub_server.add(repo.repo_id, FIXTURES / "cyclegan_keras_tiny" / "savedmodel", repo.revision)
    hub_server.delay = 1.5  # per file: the download takes a few seconds
    threading.Thread(target=hub_server.serve_forever, daemon=True).start()
    try:
        with _app_process(tmp_path / "hf-home", hub_server.url, []) as url, sync_playwright() as playwright:
            browser = _browser(playwright)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(url)
            page.locator("#image-status").get_by_text("The others download on first use.").wait_for()
            page.locator("#photo input[type=file]").set_input_files(str(ROOT / "assets" / "chelsea.jpg"))
            page.locator("#photo img").wait_for()
            page.locator("#restyle").click()
            # our line first, then huggingface_hub's own progress bars, followed by gr.Progress
            page.get_by_text(re.compile(r"Downloading Horse → zebra from the Hugging Face Hub|Fetching 3 files")
                             ).first.wait_for(timeout=30000)
            page.screenshot(path=ARTIFACTS / "downloading.png")
            page.locator("#comparison img").first.wait_for(timeout=60000)
            browser.close()
    finally:
        hub_server.shutdown()
        hub_server.server_close()
    assert {"saved_model.pb", "variables/variables.index"} <= hub_server.fetched()


def test_without_ffmpeg_speech_comes_whole(tmp_path):
    """No ffmpeg on PATH: one log line, no streaming, and the player still gets the WAV."""
    script = ("import app, soundfile as sf\n"
              "outputs = list(app.speak_page('Hello there.', 'ljspeech-en', 1.0, 1.0, 1.0, 'wav', [], False, None))\n"
              "player, wav, vtt, srt, read_along = app.finish_speech(outputs[-1][1], False, None)[:5]\n"
              "print(read_along.count('class=\"synth-word\"'), vtt.value['path'].endswith('.vtt'))\n"
              "print(app.STREAMING, len(outputs), player == wav, sf.info(wav).samplerate)\n")
    env = dict(os.environ, PATH=str(Path(sys.executable).parent))
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-6:] == ["2", "True", "False", "1", "True", "22050"]  # 2 words read along
    assert "ffmpeg not found on PATH" in result.stderr
