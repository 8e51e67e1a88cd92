"""synth as a service, the way other programs meet it: OpenAI's speech API through the
official `openai` client, and MCP through the `mcp` SDK, against the real app on a local
port (models from the fake Hugging Face cache, offline), with an API key set."""
import asyncio
import base64
import io
import os
import sys
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import openai
import pytest
import soundfile as sf
from conftest import free_port
from gradio_client import Client

ROOT = Path(__file__).parent.parent
KEY = "test-key-0123"
TEXT = "Hello there. Good day."


@pytest.fixture(scope="module")
def app_url():
    sys.path.insert(0, str(ROOT))
    import app

    os.environ["SYNTH_API_KEY"] = KEY
    try:
        _, url, _ = app.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(), quiet=True)
    finally:
        del os.environ["SYNTH_API_KEY"]
    yield url.rstrip("/")
    app.demo.close()


@pytest.fixture(scope="module")
def client(app_url):
    return openai.OpenAI(base_url=app_url + "/v1", api_key=KEY, max_retries=0)


def _samples(text, voice_name):
    """What the tiny voices make: FastSpeech2 its durations' frames, Tacotron2 (which never
    stops) its step cap; pauses of 0.25 s between sentences."""
    import app

    voice = app.MODELS.get(voice_name)
    ids = voice.ids(voice.sentences(text))
    if voice.controls == ("speed",):
        frames = [voice.text_to_mel.default_max_steps(len(i)) for i in ids]
    else:
        frames = voice.text_to_mel.infer(ids).lengths.tolist()
    return sum(frames) * voice.vocoder.hop_size + int(0.25 * voice.sample_rate) * (len(ids) - 1)


@pytest.mark.parametrize("fmt", ["mp3", "opus", "flac", "wav", "pcm"])
def test_every_format_decodes_at_the_voice_rate(client, fmt):
    response = client.audio.speech.create(model="tacotron2", voice="ljspeech-en", input=TEXT, response_format=fmt)
    expected = _samples(TEXT, "ljspeech-en")
    if fmt == "pcm":  # 16-bit little-endian mono at the voice's rate, no header
        assert len(response.content) == 2 * expected
        return
    audio, rate = sf.read(io.BytesIO(response.content))
    if fmt == "opus":  # Opus has no 22.05 kHz: resampled to 24 kHz, ceil(n * 160 / 147) samples
        assert rate == 24000 and len(audio) == -(-expected * 160 // 147)
    elif fmt == "mp3":  # the decoder may add or drop up to one 576-sample granule at the end
        assert rate == 22050 and abs(len(audio) - expected) <= 576
    else:
        assert rate == 22050 and len(audio) == expected
    assert response.response.headers["x-synth-voice"] == "ljspeech-en"


def test_tts_1_picks_fastspeech2_where_the_speaker_has_it(client):
    response = client.audio.speech.create(model="tts-1", voice="ljspeech-en", input=TEXT, response_format="wav",
                                          speed=1.0)
    assert response.response.headers["x-synth-voice"] == "ljspeech-en-fastspeech2"
    assert sf.info(io.BytesIO(response.content)).frames == _samples(TEXT, "ljspeech-en-fastspeech2")
    korean = client.audio.speech.create(model="tts-1", voice="kss-ko", input="안녕하세요.", response_format="wav")
    assert korean.response.headers["x-synth-voice"] == "kss-ko-fastspeech2"


def test_streaming_delivers_the_first_sentence_before_the_rest_is_made(client, monkeypatch):
    """The vocoder holds every sentence after the first until the client has received bytes:
    a response that waited for the whole would never see them (and the sentences would be
    let go only by the 30 s safety timeout, which the test would report)."""
    import app

    voice = app.MODELS.get("ljspeech-en-fastspeech2")
    vocode = voice.vocode
    first_bytes = threading.Event()
    calls, held_until_bytes = [], []

    def held(mel):
        calls.append(len(mel))
        if len(calls) > 1:
            held_until_bytes.append(first_bytes.wait(30))
        return vocode(mel)

    monkeypatch.setattr(voice, "vocode", held)
    received = 0
    with client.audio.speech.with_streaming_response.create(
            model="fastspeech2", voice="ljspeech-en-fastspeech2", input="One. Two. Three. Four.",
            response_format="pcm") as response:
        for data in response.iter_bytes():
            received += len(data)
            first_bytes.set()
    assert received == 2 * _samples("One. Two. Three. Four.", "ljspeech-en-fastspeech2")
    assert len(calls) == 4 and held_until_bytes == [True, True, True]


@pytest.mark.parametrize("change, status, param, words", [
    (dict(voice="klingon"), 400, "voice", "voice 'klingon' is not one of: ljspeech-en, kss-ko"),
    (dict(response_format="aiff"), 400, "response_format", "is not one of: wav, flac, mp3, opus, pcm"),
    (dict(speed=9.0), 400, "speed", "Speed 9.0 is out of range: choose 0.25 to 4.0"),
    (dict(model="whisper-1"), 400, "model", "model 'whisper-1' is not one of: tts-1, tts-1-hd"),
    (dict(model="fastspeech2", voice="thorsten-de"), 400, "voice", "has no FastSpeech2 model"),
    (dict(input=""), 400, "input", "Type some text to speak"),
    (dict(input="x" * 5000), 413, "input", "5,000 characters long; this demo speaks at most 1,000"),
    (dict(voice="thorsten-de"), 503, "voice", "German (Thorsten) · Tacotron2 is not downloaded on this server"),
], ids=["voice", "format", "speed", "model", "family", "empty", "too-long", "not-cached"])
def test_errors_have_openai_shape(client, change, status, param, words):
    with pytest.raises(openai.APIStatusError) as caught:
        client.audio.speech.create(**(dict(model="tts-1-hd", voice="ljspeech-en", input="Hi.") | change))
    error = caught.value
    assert error.status_code == status
    assert set(error.body) == {"message", "type", "param", "code"} and error.body["param"] == param
    assert words in error.body["message"] and "/" not in error.body["message"].replace(" / ", "")


def test_a_full_queue_is_429(client):
    import app

    slots = app.SPEECH_SLOTS
    held = threading.Event()
    release = threading.Event()

    def occupy():
        with slots.hold():
            held.set()
            release.wait(10)

    worker = threading.Thread(target=occupy)
    worker.start()
    held.wait(5)
    (limit, max_waiting), (slots.limit, slots.max_waiting) = (slots.limit, slots.max_waiting), (1, 0)
    try:
        with pytest.raises(openai.RateLimitError) as caught:
            client.audio.speech.create(model="tts-1", voice="ljspeech-en", input="Hi.")
        assert caught.value.body["code"] == "queue_full" and "busy" in caught.value.body["message"]
    finally:
        slots.limit, slots.max_waiting = limit, max_waiting
        release.set()
        worker.join()


def test_the_key_guards_the_api_not_the_page(app_url):
    for key in (None, "wrong-key"):
        guest = openai.OpenAI(base_url=app_url + "/v1", api_key=key or "unused", max_retries=0,
                              default_headers={} if key else {"Authorization": ""})
        with pytest.raises(openai.AuthenticationError) as caught:
            guest.audio.speech.create(model="tts-1", voice="ljspeech-en", input="Hi.")
        assert caught.value.body["code"] == "invalid_api_key"
    with urllib.request.urlopen(app_url + "/") as page:
        assert page.status == 200 and b"synth" in page.read()


def test_voices_list_language_and_family(client):
    voices = {v["id"]: v for v in client.get("/audio/voices", cast_to=object)["voices"]}
    assert voices["ljspeech-en-fastspeech2"] == {"id": "ljspeech-en-fastspeech2", "language": "en",
                                                 "family": "fastspeech2", "sample_rate": 22050,
                                                 "name": "English (LJSpeech) · FastSpeech2"}
    assert voices["baker-zh"]["family"] == "tacotron2" and voices["baker-zh"]["sample_rate"] == 24000


def test_api_callers_share_the_page_turns(app_url, client, monkeypatch):
    """8 API calls and 3 page requests at once share one model: never two model calls at a
    time, and the sentences of those waiting are decoded together (fewer calls than requests)."""
    import app

    voice = app.MODELS.get("ljspeech-en")
    batcher = voice.to_mel
    mels, calls = batcher._to_mel, batcher.calls
    active, most, held = [0], [0], []
    lock = threading.Lock()

    def sharing() -> bool:
        """Whether two requests in line could be decoded in one call (they ask the same options)."""
        keys = [request.key for request in list(batcher._waiting)]
        return len(set(keys)) < len(keys)

    def counted(ids, options):
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
            first = not held
            held.append(True)
        try:
            deadline = time.monotonic() + 60
            while first and not sharing():  # the first call holds the model until two can share one
                assert time.monotonic() < deadline, "no two requests ever waited together"
                time.sleep(0.01)
            return mels(ids, options)
        finally:
            with lock:
                active[0] -= 1

    monkeypatch.setattr(batcher, "_to_mel", counted)
    errors = []

    def call_api():
        try:
            client.audio.speech.create(model="tacotron2", voice="ljspeech-en", input="Hello.", response_format="wav")
        except Exception as e:  # noqa: BLE001 (reported below)
            errors.append(e)

    callers = [threading.Thread(target=call_api) for _ in range(8)]
    for caller in callers:
        caller.start()
    page = Client(app_url, verbose=False)
    jobs = [page.submit(f"Sentence number {i}.", "ljspeech-en", api_name="/speak") for i in range(3)]
    for job in jobs:
        assert job.result(timeout=120)[0].endswith(".wav")
    for caller in callers:
        caller.join(120)
    assert errors == [] and most[0] == 1
    assert batcher.calls - calls < 11


def _mcp(app_url, steps):
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async def run():
        async with streamable_http_client(app_url + "/gradio_api/mcp/") as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                return [await step(session) for step in steps]

    return asyncio.run(run())


def test_mcp_lists_the_tools_with_typed_parameters(app_url):
    (listed,) = _mcp(app_url, [lambda s: s.list_tools()])
    tools = {t.name: t for t in listed.tools}
    assert {"speak", "stylize", "list_voices", "list_styles"} <= set(tools)
    speak = tools["speak"].inputSchema["properties"]
    assert list(speak) == ["text", "voice", "speed", "pitch", "energy", "audio_format"]
    assert speak["speed"]["type"] == "number" and speak["audio_format"]["enum"] == ["wav", "mp3", "flac", "opus"]
    assert "ljspeech-en-fastspeech2" in speak["voice"]["enum"]
    assert tools["speak"].description.startswith("Speak text aloud with a synth voice")
    assert "a voice name from `list_voices`" in speak["voice"]["description"]


def test_mcp_speak_and_stylize_return_files(app_url):
    photo = "data:image/jpeg;base64," + base64.b64encode((ROOT / "assets" / "chelsea.jpg").read_bytes()).decode()
    spoken, styled, bad, fast = _mcp(app_url, [
        lambda s: s.call_tool("speak", {"text": TEXT, "voice": "ljspeech-en-fastspeech2"}),
        lambda s: s.call_tool("stylize", {"photo": photo, "style": "horse2zebra"}),
        lambda s: s.call_tool("speak", {"text": TEXT, "voice": "klingon"}),
        lambda s: s.call_tool("speak", {"text": TEXT, "voice": "ljspeech-en-fastspeech2", "speed": 3.0})])
    assert not fast.isError, fast.content  # the tool takes the library's whole range, 0.25 to 4
    assert not spoken.isError
    url = next(part for part in str(spoken.content[0].text).split("'") if part.startswith("http") and ".wav" in part)
    with urllib.request.urlopen(url) as wav:
        audio, rate = sf.read(io.BytesIO(wav.read()))
    assert rate == 22050 and len(audio) == _samples(TEXT, "ljspeech-en-fastspeech2")
    assert not styled.isError
    image = next(c for c in styled.content if c.type == "image")
    from PIL import Image
    with Image.open(io.BytesIO(base64.b64decode(image.data))) as picture:
        assert picture.size == (451, 300)
    assert bad.isError and "'klingon' is not one of" in bad.content[0].text
    assert np.isfinite(audio).all()


@pytest.mark.parametrize("photo", ["/etc/hostname", "file:///etc/hostname", "../app.py", str(ROOT / "app.py")])
def test_mcp_stylize_reads_no_server_file(app_url, photo):
    """A path or file URL where a photo belongs is refused: nothing outside the app's own
    temporary files is read."""
    (result,) = _mcp(app_url, [lambda s: s.call_tool("stylize", {"photo": photo, "style": "horse2zebra"})])
    assert result.isError
    assert not any(c.type == "image" for c in result.content)
