"""synth web demo: restyle a photo with CycleGAN, hear text spoken by Tacotron2 or FastSpeech2
+ MB-MelGAN.

UI wiring only: every model, message, file and figure comes from the `synth` package.
Configuration (environment): GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (default
127.0.0.1:7860), SYNTH_PRELOAD (catalog names to load at start, comma-separated, or
"all"), SYNTH_MAX_TEXT_CHARS (default 1000), SYNTH_MAX_SIDE (working image size: longest
side, default 1024 on a GPU, 512 on a CPU), SYNTH_MAX_FILE_SIZE (upload limit, default
"20mb"), SYNTH_API_KEY (when set, the /v1 routes need `Authorization: Bearer <key>`),
SYNTH_DEBUG=1 (TensorFlow's own log lines and tracebacks of user mistakes), and the limits in
README's configuration table (SYNTH_QUEUE_SIZE, SYNTH_SPEECH_CONCURRENCY, SYNTH_UPLOAD_MB, ...).

One server: the page, Gradio's API (/speak, /stylize, /list_voices, /list_styles), the same
four as MCP tools (/gradio_api/mcp/), and OpenAI's speech routes (/v1, synth.api).
"""
from __future__ import annotations

import atexit
import html
import importlib.abc
import importlib.machinery
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # read when gradio is imported
# Gradio's uploads and served files go into a folder of this run's own, removed at exit
# (unless GRADIO_TEMP_DIR names one): a restart leaves nothing behind.
if "GRADIO_TEMP_DIR" not in os.environ:
    os.environ["GRADIO_TEMP_DIR"] = tempfile.mkdtemp(prefix="synth-gradio-")
    atexit.register(shutil.rmtree, os.environ["GRADIO_TEMP_DIR"], ignore_errors=True)


class _NoComponentStubs(importlib.abc.MetaPathFinder):
    """Gradio rewrites the .pyi type stub of every component class as it defines it, at every
    import (gradio.component_meta.create_or_modify_pyi: parse the class's source file, render
    the stub, compare it with the file on disk): stubs for an editor, shipped in gradio's wheel
    anyway, and over 1 s of CPU of this app's start (an app.pyi for `Upload` too). This finder
    loads gradio.component_meta with that step left out; nothing else changes."""

    def find_spec(self, name, path, target=None):
        if name != "gradio.component_meta":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        load = spec.loader.exec_module

        def exec_module(module):
            load(module)
            module.create_or_modify_pyi = lambda *args: None

        spec.loader.exec_module = exec_module
        return spec


if "gradio" not in sys.modules:
    sys.meta_path.insert(0, _NoComponentStubs())

import gradio as gr  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from starlette.middleware import Middleware  # noqa: E402

from synth import api, audio, catalog, device, hub, runtime  # noqa: E402
from synth.errors import ImageError, SynthError  # noqa: E402
from synth.image import image_size, load_image  # noqa: E402
from synth.image.styler import cycle_error  # noqa: E402
from synth.serving import ModelCache, OutputFiles, Slots, about, messages, playback, readalong  # noqa: E402
from synth.serving.limits import JobLimit, ResultReaders, UploadLimit, UploadQuota  # noqa: E402
from synth.speech import Speech, SpeechOptions, subtitles  # noqa: E402
from synth.speech.text.sentences import shorten  # noqa: E402
from synth.speech.mel import ENERGY_RANGE, MAX_SPEED, MIN_SPEED, PITCH_RANGE  # noqa: E402

log = logging.getLogger("synth.app")
ASSETS = Path(__file__).parent / "assets"
MAX_TEXT_CHARS = int(os.environ.get("SYNTH_MAX_TEXT_CHARS", "1000"))
MAX_FILE_SIZE = os.environ.get("SYNTH_MAX_FILE_SIZE", "20mb")
UPLOAD_MB = int(os.environ.get("SYNTH_UPLOAD_MB", "100"))  # one client's uploads, per window
UPLOAD_WINDOW_SECONDS = 600
# Jobs waiting or running at once for one page, and for one address (a class may share one).
JOBS_PER_SESSION = int(os.environ.get("SYNTH_JOBS_PER_SESSION", "4"))
JOBS_PER_ADDRESS = int(os.environ.get("SYNTH_JOBS_PER_ADDRESS", "16"))
UNREAD_SECONDS = float(os.environ.get("SYNTH_UNREAD_SECONDS", "20"))  # a job nobody reads is dropped after
BEHIND_PROXY = os.environ.get("SYNTH_BEHIND_PROXY", "1" if os.environ.get("SPACE_ID") else "") == "1"
DEVICE = device.describe()  # TensorFlow is imported when the first model loads
ON_GPU = DEVICE.startswith("GPU")
# SYNTH_ENGINE (synth/runtime.py): on a CPU, by default, LiteRT (each network where it was
# measured faster: all of them now); TensorFlow on a GPU. The page says what the settings will
# run until a network has run, then what it ran with (`runs_on`).
ENGINES_IN_USE = runtime.described()
# Working image size: a 1024² photo takes ~9 s on a 2-core CPU, 512² ~2 s.
MAX_SIDE = int(os.environ.get("SYNTH_MAX_SIDE", "1024" if ON_GPU else "512"))
# Photos restyled at once (one keeps a CPU responsive); speech requests in flight at once: their
# sentences are decoded together (synth.serving.batching), so more at once serve a class faster.
CONCURRENCY = int(os.environ.get("SYNTH_IMAGE_CONCURRENCY", "2" if ON_GPU else "1"))
SPEECH_CONCURRENCY = int(os.environ.get("SYNTH_SPEECH_CONCURRENCY", "16" if ON_GPU else "8"))
QUEUE_SIZE = int(os.environ.get("SYNTH_QUEUE_SIZE", "64"))  # requests waiting, for the whole app
# Turns at the speech models, shared by the page and the /v1 routes (synth.api).
SPEECH_SLOTS = Slots(SPEECH_CONCURRENCY, QUEUE_SIZE)
PAGE_SPEEDS = (0.5, 2.0)
STREAMING = shutil.which("ffmpeg") is not None
# The Train tab occupies the machine for minutes: only where its host turns it on.
TRAINING = os.environ.get("SYNTH_TRAINING") == "1"
if not STREAMING:
    log.warning("ffmpeg not found on PATH: speech is returned whole instead of streamed")

MODELS = ModelCache(max_side=MAX_SIDE, max_text_chars=MAX_TEXT_CHARS)
FILES = OutputFiles()
STYLE_NAMES = [m.name for m in catalog.models("style") if m.available]
SENTENCES = json.loads((ASSETS / "sentences.json").read_text(encoding="utf-8"))
# The example photos that suit each style (assets/photos.json); a style not in it (one made
# with `synth train`, say) gets the photos listed for none.
PHOTOS_BY_STYLE = {style: [str(ASSETS / name) for name in names]
                   for style, names in json.loads((ASSETS / "photos.json").read_text(encoding="utf-8")).items()}
PHOTOS = sorted(str(p) for p in ASSETS.glob("*.jpg") if not any(str(p) in v for v in PHOTOS_BY_STYLE.values()))

# Every word the page shows, in English and Korean. Labels go through gr.I18n (the browser's
# language); what handlers write is chosen by the request's Accept-Language (same source).
TEXTS = {
    "title": ("# synth\nDeep-learning image restyling and speech synthesis, running on {device}.",
              "# synth\n딥러닝으로 사진의 화풍을 바꾸고 글을 소리 내어 읽습니다. 실행 장치: {device}."),
    # Not "image": an app key that is also one of Gradio's translation namespaces (image, audio,
    # plot, ...) is replaced by Gradio's dictionary, and the tab read "[object Object]".
    "image_tab": ("Image", "이미지"),
    "speech": ("Speech", "음성"),
    "about": ("About", "소개"),
    "photo": ("Your photo", "사진"),
    "style": ("Style", "스타일"),
    "restyle": ("Restyle", "변환"),
    "round_trip": ("Round trip: restyle, then back again with the inverse style",
                   "한 바퀴: 변환한 뒤 반대 스타일로 되돌리기"),
    "cycle": ("x → G(x) → F(G(x))", "x → G(x) → F(G(x))"),
    "compare": ("Before / after: drag the slider", "변환 전 / 후: 슬라이더를 움직여 보세요"),
    "png": ("Restyled photo (PNG)", "변환된 사진 (PNG)"),
    "examples": ("Examples", "예시"),
    "text": ("Text", "문장"),
    "placeholder": ("Type a sentence or two.", "한두 문장을 입력하세요."),
    "voice": ("Voice", "목소리"),
    "speed": ("Speed", "속도"),
    "pitch": ("Pitch", "음높이"),
    "energy": ("Energy (loudness)", "세기 (소리 크기)"),
    "speak": ("Speak", "말하기"),
    "listen": ("Listen", "듣기"),
    "wav": ("Complete audio file", "전체 오디오 파일"),
    "format": ("File format", "파일 형식"),
    "read_file": ("Read a .txt file aloud", ".txt 파일 읽기"),
    "mel": ("Mel spectrogram: the sound as the model drew it, time left to right",
            "멜 스펙트로그램: 모델이 만든 소리의 그림 (왼쪽에서 오른쪽으로 시간)"),
    "alignment": ("Attention: which symbol each decoder step read (a clean diagonal is good)",
                  "어텐션: 디코더가 각 단계에서 읽은 글자 (깨끗한 대각선이 좋습니다)"),
    "durations": ("Durations: how many frames FastSpeech2 gave each symbol",
                  "길이: FastSpeech2가 각 기호에 준 프레임 수"),
    "image_help": ("Upload a photo, take one with the webcam or paste one, pick a style, press **Restyle**.",
                   "사진을 올리거나 웹캠으로 찍거나 붙여 넣고, 스타일을 고른 뒤 **변환**을 누르세요."),
    "train": ("Train", "학습"),
    "train_help": ("Train your own CycleGAN: upload photos of two kinds (say, horses and zebras; a few dozen of "
                   "each is enough to see it learn), choose how long, press **Train**. Every few steps the grid "
                   "shows an A photo, G(A) and F(G(A)) above a B photo, F(B) and G(F(B)); the curves show the "
                   "losses. The model is then a style you can try below.",
                   "나만의 CycleGAN을 학습시켜 보세요. 두 종류의 사진(예: 말과 얼룩말, 각각 수십 장이면 학습하는 모습이 "
                   "보입니다)을 올리고 시간을 고른 뒤 **학습**을 누르세요. 몇 단계마다 격자에 A 사진, G(A), F(G(A))와 "
                   "B 사진, F(B), G(F(B))가 나오고, 곡선은 손실을 보여 줍니다. 학습한 모델은 아래에서 스타일로 써 볼 수 "
                   "있습니다."),
    "domain_a": ("Photos of kind A", "A 종류 사진"),
    "domain_b": ("Photos of kind B", "B 종류 사진"),
    "minutes": ("Minutes to train", "학습 시간 (분)"),
    "train_size": ("Training size (pixels)", "학습 크기 (픽셀)"),
    "network": ("Generator", "생성기"),
    "start_training": ("Train", "학습 시작"),
    "samples": ("x, G(x), F(G(x)) for an A photo (top) and a B photo (bottom)",
                "A 사진(위)과 B 사진(아래)의 x, G(x), F(G(x))"),
    "losses": ("Losses", "손실"),
    "try_photo": ("Try your model on a photo", "학습한 모델로 사진 바꿔 보기"),
    "try": ("Restyle with my model", "내 모델로 변환"),
    "read_along": ("Read along: the word being said is marked; click a word to hear the text from there",
                   "따라 읽기: 지금 읽는 단어가 표시됩니다. 단어를 누르면 거기서부터 들려줍니다"),
    "show_read": ("Show what the model read, above each word", "모델이 읽은 기호를 단어 위에 보기"),
    "subtitles_vtt": ("Subtitles (WebVTT)", "자막 (WebVTT)"),
    "subtitles_srt": ("Subtitles (SRT)", "자막 (SRT)"),
    "pronunciations": ("Pronunciations: fix how a word is said", "발음 고치기"),
    "pronunciations_help": (
        "If the voice says a word wrong, tell it how to read it, for you only. **Word**: as you type it (any "
        "case). **Read as**: English ARPAbet in braces, e.g. `{{T AH0 M EY1 T OW2}}`, or a respelling; Korean, "
        "German, French: a respelling; Mandarin: pinyin with tone numbers, e.g. `ni3 hao3`. Then press "
        "**Speak**, and tick *Show what the model read* to see it.",
        "목소리가 단어를 잘못 읽으면 읽는 법을 알려 주세요 (나에게만 적용됩니다). **단어**: 입력한 그대로 (대소문자 "
        "무관). **읽는 법**: 영어는 중괄호 안의 ARPAbet(예: `{{T AH0 M EY1 T OW2}}`)이나 바꿔 쓴 철자, 한국어·독일어·"
        "프랑스어는 바꿔 쓴 철자, 중국어는 성조 숫자를 붙인 병음(예: `ni3 hao3`). 그리고 **말하기**를 누르고 "
        "*모델이 읽은 기호를 단어 위에 보기*를 켜 보세요."),
    "speech_help": ("Type a few sentences, pick a voice, press **Speak**: the first sentence plays while the "
                    "rest is made.",
                    "문장을 입력하고 목소리를 고른 뒤 **말하기**를 누르세요. 첫 문장을 들려주는 동안 나머지를 만듭니다."),
}
# Gradio ships Korean for its widgets (gradio/templates/frontend/assets/ko-*.js); where it
# reads awkwardly or lacks a key, these win: the front end (svelte-i18n) looks a whole dotted key
# up in the app's flat dictionary before walking into Gradio's nested one. "common.complete",
# announced to screen readers when an event ends, is in no Gradio dictionary (it read as the key).
GRADIO_EN = {"common.complete": "Done"}
GRADIO_KO = {"common.complete": "완료", "status.queue_position": "대기 순서: {size}명 중 {position}번째",
             "upload_text.drop_image": "이미지를 여기로 끌어다 놓으세요",
             "upload_text.drop_file": "파일을 여기로 끌어다 놓으세요",
             "upload_text.click_to_upload": "눌러서 올리기",
             "upload_text.paste_clipboard": "클립보드에서 붙여 넣기"}


def runs_on(lang: str, engines: str = ENGINES_IN_USE) -> str:
    """The device line: the device (in Korean, its kind only) and the engines and weights."""
    return f"{'GPU' if ON_GPU else 'CPU'} · {engines}" if lang == "ko" else f"{DEVICE} · {engines}"


I18N = gr.I18n(en={k: en.format(device=runs_on("en")) for k, (en, _) in TEXTS.items()} | GRADIO_EN,
               ko={k: ko.format(device=runs_on("ko")) for k, (_, ko) in TEXTS.items()} | GRADIO_KO)

# What handlers write, by request language.
SAY = {
    "no_photo": ("Add a photo first: upload one, use the webcam or paste from the clipboard.",
                 "먼저 사진을 올리거나 웹캠으로 찍거나 붙여 넣으세요."),
    "downloading": ("Downloading {label} from the Hugging Face Hub (first use only)…",
                    "Hugging Face Hub에서 {label} 모델을 내려받는 중입니다 (처음 한 번만)…"),
    "reduced": ("Restyled at {w}×{h}: your photo ({ow}×{oh}) was scaled down to this server's working size "
                "({side} px on the long side).",
                "{w}×{h} 크기로 변환했습니다. 원본 사진({ow}×{oh})을 이 서버의 작업 크기(긴 변 {side}px)로 줄였습니다."),
    "full_size": ("Restyled at {w}×{h}, the photo's own size.", "원본 크기 {w}×{h}로 변환했습니다."),
    "cycle_captions": (("x: your photo", "G(x): restyled", "F(G(x)): and back again"),
                       ("x: 내 사진", "G(x): 변환", "F(G(x)): 다시 되돌림")),
    "cycle_error": ("Mean absolute cycle error |x − F(G(x))|: **{error:.3f}** on pixel values from −1 to 1 "
                    "(here G is {there}, F is {back}). CycleGAN learns without pairs of photos: it trains a "
                    "generator G and an inverse F together and requires this round trip to give back the photo it "
                    "started from; that is what keeps G from painting anything it likes.",
                    "평균 절대 순환 오차 |x − F(G(x))|: **{error:.3f}** (픽셀 값 범위 −1~1, 여기서 G는 {there}, F는 "
                    "{back}). CycleGAN은 짝지은 사진 없이 배웁니다. 생성기 G와 반대 방향의 F를 함께 학습시키면서, 한 "
                    "바퀴 돌아온 사진이 처음 사진과 같아야 한다는 조건을 겁니다. 그래서 G가 아무것이나 그리지 못합니다."),
    "skipped": ("This voice cannot say {chars}: skipped.", "이 목소리는 {chars}을(를) 읽을 수 없어 건너뜁니다."),
    "spoken": ("{sentences} sentence(s), {seconds:.1f} s at {rate:,} Hz.",
               "문장 {sentences}개, {seconds:.1f}초, {rate:,} Hz."),
    "spoken_skipped": (" Skipped: {chars}.", " 건너뛴 글자: {chars}."),
    "lexicon_dropped": ("Some of this server's pronunciations were left out: {problems}",
                        "이 서버의 발음 사전 일부를 쓰지 않았습니다: {problems}"),
    "lexicon_columns": (["Word", "Read as"], ["단어", "읽는 법"]),
    "text_cut": ("The file has {length:,} characters: the text box holds the first {kept:,} (this page reads at "
                 "most {limit:,} at a time; the command synth speak -f reads any length).",
                 "파일이 {length:,}자여서 앞의 {kept:,}자만 문장 칸에 넣었습니다 (이 페이지는 한 번에 {limit:,}자까지 "
                 "읽습니다. synth speak -f 명령은 길이 제한 없이 읽습니다)."),
    "train_need_photos": ("Upload photos of both kinds first (A and B).", "먼저 두 종류(A, B)의 사진을 올리세요."),
    "training": ("Step {step}: {elapsed:.0f} s so far. Cycle loss {cycle:.3f} (it falls as G and F learn to undo "
                 "each other).", "{step}단계, {elapsed:.0f}초 지남. 순환 손실 {cycle:.3f} (G와 F가 서로를 되돌리는 법을 "
                 "배우면 줄어듭니다)."),
    "trained": ("Done: {step} steps in {elapsed:.0f} s. Try your model below.",
                "완료: {elapsed:.0f}초 동안 {step}단계. 아래에서 모델을 써 보세요."),
    "train_first": ("Train a model first.", "먼저 모델을 학습시키세요."),
    "not_utf8": ("This file is not UTF-8 text. Save it as UTF-8 and try again.",
                 "이 파일은 UTF-8 텍스트가 아닙니다. UTF-8로 저장한 뒤 다시 올려 주세요."),
    "status_models": ("{ready} of {total} ready.", "{total}개 중 {ready}개 준비됨."),
    "status_rest": (" The others download on first use.", " 나머지는 처음 쓸 때 내려받습니다."),
    "status_missing": (" The others are not downloaded and the Hugging Face Hub cannot be reached: "
                       "they cannot be used until they are.",
                       " 나머지는 내려받지 않았고 Hugging Face Hub에 연결할 수 없어 지금은 쓸 수 없습니다."),
}


def language(request: gr.Request | None) -> str:
    """The visitor's language, from the browser's Accept-Language: Korean, else English."""
    accept = request.headers.get("accept-language", "") if request is not None else ""
    return "ko" if accept.strip().lower().startswith("ko") else "en"


def say(key: str, lang: str, **values) -> str:
    return SAY[key][lang == "ko"].format(**values)


def refuse(message: str) -> gr.Error:
    """A visitor's mistake or a missing model: a message for the page and one log line, not a
    traceback (that comes with SYNTH_DEBUG=1)."""
    log.info("request refused: %s", message)
    return gr.Error(message, print_exception=device.DEBUG)


def person_error(error: SynthError, lang: str) -> gr.Error:
    return refuse(messages.describe(error, lang))


class Upload(gr.Image):
    """An image input whose unreadable uploads end in a message, not a server error."""
    is_template = True  # rendered by the front end as a plain Image

    def preprocess(self, payload):
        try:
            return super().preprocess(payload)
        except Exception as e:
            not_image = ImageError(str(e), reason="not_image")  # in both languages: no request here
            raise refuse(" / ".join(messages.describe(not_image, lang) for lang in messages.LANGUAGES)) from e


def load(name: str, lang: str, progress: gr.Progress | None = None):
    """A model from the cache, telling the page while one is being downloaded."""
    if progress is not None and not MODELS.is_ready(name):
        progress(0, desc=say("downloading", lang, label=messages.label(name, lang)))
    return MODELS.get(name)


# -- image -------------------------------------------------------------------------------
def _png(image, what: str) -> str:
    """`image` as a PNG file of this request's own (FILES gives each file a new folder).
    Handing Gradio a PIL image instead would file it under a hash of its content, which a
    second visitor restyling the same photo rewrites while the first is downloading it."""
    path = FILES.path(what, ".png")
    Image.fromarray(np.asarray(image)).save(path)
    return str(path)


def stylize(photo: str | None, style: str, request: gr.Request):
    """Restyle a photo with a CycleGAN style (the API endpoint and MCP tool `stylize`).

    Args:
        photo: the photo to restyle (JPEG, PNG, WebP or GIF; at most 50 megapixels).
        style: a style name from `list_styles`, e.g. "horse2zebra".

    Returns:
        The restyled photo as a PNG, its longest side at most the server's working size.
    """
    lang = language(request)
    if photo is None:
        raise refuse(say("no_photo", lang))
    try:
        return _png(load(style, lang).stylize(photo), style)
    except SynthError as e:
        raise person_error(e, lang) from e


def restyle_page(photo: str | None, style: str, round_trip: bool, request: gr.Request,
                 progress=gr.Progress(track_tqdm=True)):
    """The page's Restyle: before/after, a PNG named after the style, a word on the size and,
    for a round trip, x, G(x) and F(G(x)) with the cycle error."""
    lang = language(request)
    if photo is None:
        raise refuse(say("no_photo", lang))
    inverse = catalog.MODELS[style].inverse if style in catalog.MODELS else None
    try:
        styler = load(style, lang, progress)
        before = load_image(photo, MAX_SIDE)
        original = image_size(photo)
        after = styler.stylize(before)
        back = load(inverse, lang, progress).stylize(after) if round_trip and inverse else None
    except SynthError as e:
        raise person_error(e, lang) from e
    shown = (_png(before, "photo"), _png(after, style))
    w, h = after.size
    note = (say("reduced", lang, w=w, h=h, ow=original[0], oh=original[1], side=MAX_SIDE)
            if (w, h) != original else say("full_size", lang, w=w, h=h))
    if back is None:
        return shown, shown[1], note, gr.Gallery(visible=False), ""
    error = cycle_error(before, back)
    captions = SAY["cycle_captions"][lang == "ko"]
    cycle = gr.Gallery(list(zip((*shown, _png(back, inverse)), captions)), visible=True)
    return shown, shown[1], note, cycle, say("cycle_error", lang, error=error, there=messages.label(style, lang),
                                             back=messages.label(inverse, lang))


def style_changed(style: str):
    """The example photos that suit `style`, and the round trip where it has an inverse."""
    has_inverse = style in catalog.MODELS and catalog.MODELS[style].inverse is not None
    return [gr.Column(visible=name == style) for name in STYLE_NAMES] + [gr.Checkbox(visible=has_inverse,
                                                                                       value=False)]


# -- speech ------------------------------------------------------------------------------
AXES = {"en": {"mel": ("time (s)", "mel channel"), "alignment": ("decoder step", "input symbol"),
               "durations": ("input symbol", "frames")},
        "ko": {"mel": ("시간 (초)", "멜 채널"), "alignment": ("디코더 단계", "입력 기호"),
               "durations": ("입력 기호", "프레임 수")}}


def _subtitle_buttons(speech: Speech, text: str, voice_name: str) -> list[gr.DownloadButton]:
    """The speech's subtitles, as WebVTT and as SRT, each behind its download button."""
    buttons = []
    for kind in subtitles.FORMATS:
        path = FILES.path(voice_name, "." + kind)
        subtitles.write(path, speech.words, text, speech.duration)
        buttons.append(gr.DownloadButton(value=str(path), visible=True))
    return buttons


def _read_along(words: list, text: str, voice, show_read: bool, coming: bool = False) -> str:
    return readalong.html(text, words, voice.language, voice.readings(words) if show_read else None, coming)


def _results(speech: Speech, voice_name: str, voice, lang: str, audio_format: str = "wav"):
    from synth.serving import figures  # matplotlib: imported by the first speech, not at start

    path = FILES.path(voice_name, "." + audio.check_format(audio_format))
    speech.write(path)
    info = say("spoken", lang, sentences=len(speech.sentences), seconds=speech.duration, rate=speech.sample_rate)
    if speech.skipped:
        info += say("spoken_skipped", lang, chars=" ".join(speech.skipped))
    axes = AXES[lang if figures.can_write(lang) else "en"]
    durations = [d for d in speech.durations if d is not None]
    how = (figures.durations_figure(durations, speech.symbols, axes["durations"]) if durations else
           figures.alignment_figure([a for a in speech.alignments if a is not None], axes["alignment"]))
    return str(path), figures.mel_figure(speech.mel, voice.frame_ms, axes["mel"]), how, info


def read_text_file(path: str, request: gr.Request):
    """A .txt upload into the text box, cut (after a sentence) to what the page reads at once."""
    lang = language(request)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise refuse(say("not_utf8", lang)) from e
    if len(text) > MAX_TEXT_CHARS:
        kept = shorten(text, MAX_TEXT_CHARS)
        gr.Warning(say("text_cut", lang, length=len(text), kept=len(kept), limit=MAX_TEXT_CHARS))
        text = kept
    return text


# -- training your own -------------------------------------------------------------------
# Networks small enough to learn something in minutes on a CPU; the paper's on a GPU.
TRAIN_NETWORK = dict(ngf=64, blocks=9) if ON_GPU else dict(ngf=16, blocks=4)
REPORT_EVERY = {64: 20, 128: 5, 256: 2}  # steps between sample grids


def train_page(a_files: list[str] | None, b_files: list[str] | None, minutes: float, size: int, arch: str,
               request: gr.Request):
    """Train a CycleGAN on the two uploads for `minutes`, showing the grid and losses as it goes."""
    from synth.image.train import Trainer, TrainConfig
    from synth.serving.training import follow

    lang = language(request)
    if not a_files or not b_files:
        raise refuse(say("train_need_photos", lang))
    run_dir, elapsed = FILES.path("training-run", ""), 0.0
    try:
        trainer = Trainer(a_files, b_files, TrainConfig(arch=arch, size=int(size), **TRAIN_NETWORK), run_dir)
        for progress in follow(trainer, minutes, REPORT_EVERY[int(size)]):
            cycle = progress.losses.get("cycle_A", 0.0) + progress.losses.get("cycle_B", 0.0)
            elapsed = progress.elapsed
            line = say("training", lang, step=progress.step, elapsed=elapsed, cycle=cycle)
            yield progress.grid, str(run_dir / "losses.png"), line, str(run_dir)
    except SynthError as e:
        raise person_error(e, lang) from e
    yield gr.skip(), gr.skip(), say("trained", lang, step=trainer.step, elapsed=elapsed), str(run_dir)


def try_trained(photo: str | None, run_dir: str | None, request: gr.Request):
    """The photo restyled by the model trained on this page (G: A -> B)."""
    from synth.image import Styler

    lang = language(request)
    if not run_dir:
        raise refuse(say("train_first", lang))
    if photo is None:
        raise refuse(say("no_photo", lang))
    try:
        return _png(Styler.from_pretrained(run_dir, max_side=MAX_SIDE).stylize(photo), "my-style")
    except SynthError as e:
        raise person_error(e, lang) from e


def controls(voice: str):
    """The pitch and energy sliders, shown (at 1) for a voice whose model has them."""
    model = catalog.MODELS.get(voice)
    has = model.controls if model else ()
    return gr.Slider(visible="pitch" in has, value=1.0), gr.Slider(visible="energy" in has, value=1.0)


def speak(text: str, voice: str, speed: float = 1.0, pitch: float = 1.0, energy: float = 1.0,
          audio_format: str = "wav", request: gr.Request = None):
    """Speak text aloud with a synth voice (the API endpoint and MCP tool `speak`).

    Args:
        text: what to say, in the voice's language (at most the server's character limit).
        voice: a voice name from `list_voices`, e.g. "ljspeech-en" or "ljspeech-en-fastspeech2".
        speed: 0.25 (slower) to 4.0 (faster); 1.0 is the voice's own pace.
        pitch: 0.5 to 2.0, for FastSpeech2 voices only; leave 1.0 for the others.
        energy: 0.5 to 2.0 (loudness), for FastSpeech2 voices only; leave 1.0 for the others.
        audio_format: the file's format: "wav", "mp3", "flac" or "opus".

    Returns:
        The speech as an audio file, the mel spectrogram, the attention (Tacotron2) or
        durations (FastSpeech2) plot, and a line saying what was spoken and skipped.
    """
    lang = language(request)
    try:
        model = load(voice, lang)
        options = SpeechOptions(speed=speed, pitch=pitch, energy=energy)
        with SPEECH_SLOTS.hold():
            speech = model.speak(text or "", options)
        return _results(speech, voice, model, lang, audio_format)
    except SynthError as e:
        raise person_error(e, lang) from e


def _pronunciations(table) -> dict[str, str]:
    """The visitor's pronunciation table (rows of word, reading) as lexicon entries."""
    entries = {str(row[0] or "").strip(): str(row[1] or "").strip() for row in table or [] if len(row) >= 2}
    return {word: reading for word, reading in entries.items() if word and reading}


def speak_page(text: str, voice: str, speed: float, pitch: float, energy: float, audio_format: str, table,
               show_read: bool, request: gr.Request, progress=gr.Progress(track_tqdm=True)):
    """The page's Speak: sentence by sentence into the player, the read-along growing with it,
    ending as soon as the audio is out (the player's playlist closes only then);
    `finish_speech` makes the files and figures."""
    lang = language(request)
    spoken = []
    try:
        model = load(voice, lang, progress)
        options = SpeechOptions(speed=speed, pitch=pitch, energy=energy, pronunciations=_pronunciations(table))
        # a pronunciation the voice cannot say, an empty, too long or unspeakable text: refused
        # before any audio
        model.sentences(text or "", options.pronunciations)
        for problem in model.lexicon_problems:
            gr.Warning(say("lexicon_dropped", lang, problems=problem))
        skipped = model.unspeakable(text, options.pronunciations)
        if skipped:
            gr.Warning(say("skipped", lang, chars=" ".join(skipped)))
        with SPEECH_SLOTS.hold():
            if STREAMING:
                shown = 0
                for piece in playback.feed(model.stream(text, options), spoken):
                    if len(spoken) > shown:  # a sentence more to read along
                        shown = len(spoken)
                        words = [word for chunk in spoken for word in chunk.words]
                        yield piece, gr.skip(), _read_along(words, text, model, show_read, coming=True)
                    else:
                        yield piece, gr.skip(), gr.skip()
                speech = Speech.from_chunks(spoken, skipped)
            else:  # the audio comes whole: decoded in batches, the fastest way
                speech = model.speak(text, options)
    except SynthError as e:
        raise person_error(e, lang) from e
    yield gr.skip(), {"voice": voice, "speech": speech, "format": audio_format, "text": text}, gr.skip()


def finish_speech(said: dict, show_read: bool, request: gr.Request):
    """After the stream: the complete audio file (also into the player when there was no
    streaming), its subtitles, the read-along, the mel spectrogram, the attention or durations,
    and what was said."""
    lang = language(request)
    speech, model = said["speech"], MODELS.get(said["voice"])
    wav, mel, how, info = _results(speech, said["voice"], model, lang, said["format"])
    label = I18N("durations" if any(d is not None for d in speech.durations) else "alignment")
    return ((gr.skip() if STREAMING else wav), wav, *_subtitle_buttons(speech, said["text"], said["voice"]),
            _read_along(speech.words, said["text"], model, show_read), mel, gr.Plot(how, label=label), info)


def show_readings(said: dict | None, show_read: bool):
    """The read-along with or without what the model read above each word."""
    if not said:
        return gr.skip()
    return _read_along(said["speech"].words, said["text"], MODELS.get(said["voice"]), show_read)


def list_voices() -> list[dict]:
    """The voices `speak` takes (the MCP tool `list_voices`).

    Returns:
        One entry per voice: its name (for `speak`), label, language code, model family
        ("tacotron2": speed only; "fastspeech2": speed, pitch and energy) and sample rate.
    """
    return [{"name": m.name, "label": m.display("en"), "language": m.language, "family": m.family,
             "controls": list(m.controls), "sample_rate": m.sample_rate}
            for m in catalog.models("voice") if m.available]


def list_styles() -> list[dict]:
    """The styles `stylize` takes (the MCP tool `list_styles`).

    Returns:
        One entry per style: its name (for `stylize`), label and what it does.
    """
    return [{"name": m.name, "label": m.display("en"), "description": m.description}
            for m in catalog.models("style") if m.available]


# -- page state: model status, menus and About in the visitor's language -----------------
def _state(name: str) -> str:
    if MODELS.is_damaged(name):
        return "damaged"
    return "ready" if MODELS.is_ready(name) else ("download" if hub.can_download() else "missing")


def _choices(task: str, lang: str) -> list[tuple[str, str]]:
    choices = []
    for model in catalog.models(task):
        if model.available:
            state = _state(model.name)
            mark = "" if state == "ready" else f" ({messages.status_word(state, lang)})"
            choices.append((messages.label(model.name, lang) + mark, model.name))
    return choices


def _status(task: str, lang: str) -> str:
    states = [_state(m.name) for m in catalog.models(task) if m.available]
    line = say("status_models", lang, ready=states.count("ready"), total=len(states))
    if "missing" in states:
        line += say("status_missing", lang)
    elif "download" in states:
        line += say("status_rest", lang)
    return line


ABOUT = {
    "device": ("Running on", "실행 장치"),
    "engine": ("Engine", "실행 엔진"),
    "engine_unused": ("chosen when it first runs", "처음 실행할 때 정해집니다"),
    "weights": ("Weights", "가중치"),
    "licence": ("Licence", "라이선스"),
    "sound": ("Sound", "소리"),
    "sound_value": ("{rate:,} Hz; one mel frame is {frame:.1f} ms; each decoder step writes {step} frame(s)",
                    "{rate:,} Hz, 멜 프레임 하나는 {frame:.1f} ms, 디코더 한 단계가 프레임 {step}개를 씁니다"),
    "sound_parallel": ("{rate:,} Hz; one mel frame is {frame:.1f} ms; all frames are made at once",
                       "{rate:,} Hz, 멜 프레임 하나는 {frame:.1f} ms, 모든 프레임을 한 번에 만듭니다"),
    "not_downloaded": ("Not downloaded yet: details appear once it is.", "아직 내려받지 않았습니다. 내려받으면 자세한 정보가 나옵니다."),
    "working_size": ("Working size", "작업 크기"),
    "working_size_value": ("longest side {side} px", "긴 변 {side}px"),
    "models": ("Models", "모델"),
    "how": ("How it works", "작동 방식"),
    "how_image": ("<b>Image.</b> A CycleGAN generator is a convolutional network trained without paired "
                  "examples: one network turns horses into zebras while a second turns them back, and the pair "
                  "learns because a round trip must give back the photo. Here the photo is scaled to at most "
                  "{side} px, its pixels mapped to [-1, 1], and sent through down-sampling convolutions, residual "
                  "blocks and up-sampling convolutions. The network is fully convolutional, so any aspect ratio "
                  "works.",
                  "<b>이미지.</b> CycleGAN 생성기는 짝지은 예시 없이 학습한 합성곱 신경망입니다. 한 신경망은 말을 "
                  "얼룩말로 바꾸고 다른 신경망은 다시 말로 되돌리며, 한 바퀴 돌아온 사진이 원래 사진과 같아야 한다는 "
                  "조건으로 함께 학습합니다. 여기서는 사진을 긴 변 {side}px 이하로 줄이고 픽셀 값을 [-1, 1]로 바꾼 뒤, "
                  "다운샘플링 합성곱, 잔차 블록, 업샘플링 합성곱을 차례로 통과시킵니다. 완전 합성곱 신경망이라 어떤 "
                  "가로세로 비율이든 처리합니다."),
    "how_speech": ("<b>Speech.</b> Tacotron2 reads the text as a sequence of symbols and writes a <i>mel "
                   "spectrogram</i> a few frames at a time; at each step its <i>attention</i> decides which symbols "
                   "it is saying (the diagonal in the alignment plot), and it stops when it predicts the end. "
                   "Multi-band MelGAN then turns the spectrogram into a waveform, four frequency bands at once. "
                   "FastSpeech2 instead predicts how many frames each symbol lasts (the durations plot), and how "
                   "high and how loud it is, then writes every frame at once: many times faster, it cannot lose its "
                   "place, and its speed, pitch and energy can be changed. "
                   "Long texts are split into sentences: the first one plays while the rest are made.",
                   "<b>음성.</b> Tacotron2는 글을 기호의 나열로 읽고 <i>멜 스펙트로그램</i>을 몇 프레임씩 씁니다. "
                   "단계마다 <i>어텐션</i>이 지금 어떤 기호를 읽는지 정하고(정렬 그림의 대각선), 끝을 예측하면 멈춥니다. "
                   "그다음 Multi-band MelGAN이 스펙트로그램을 네 개의 주파수 대역으로 나누어 한꺼번에 소리 파형으로 "
                   "바꿉니다. FastSpeech2는 그 대신 기호마다 몇 프레임 동안 소리 낼지(길이 그림), 얼마나 높고 크게 "
                   "낼지를 예측한 뒤 모든 프레임을 한 번에 씁니다. 훨씬 빠르고, 읽던 곳을 놓치지 않으며, 속도와 음높이와 "
                   "세기를 바꿀 수 있습니다. 긴 글은 문장으로 나누어, 첫 문장을 들려주는 동안 나머지를 만듭니다."),
    "unchanged": ("The weights are the unchanged checkpoints published on the Hugging Face Hub; synth "
                  "re-implements the networks on current TensorFlow to load them.",
                  "가중치는 Hugging Face Hub에 공개된 체크포인트를 그대로 씁니다. synth는 이를 불러오기 위해 신경망을 "
                  "최신 TensorFlow로 다시 구현했습니다."),
}

PARTS = {  # the parts of the networks' `apart()`, for a reader
    "encoder": ("encoder", "인코더"),
    "encoder, postnet": ("encoder, postnet", "인코더, 포스트넷"),
    "last layer": ("last layer", "마지막 층"),
}


def _about(lang: str) -> str:
    """About as cards (they wrap on a phone), from the models' own configs."""
    t = lambda key, **values: ABOUT[key][lang == "ko"].format(**values)  # noqa: E731
    cards = []
    for model in catalog.models():
        facts = about.facts(model)
        # A repo id breaks after its "/" only (not at its hyphens), its revision stays whole.
        repos = "<br>".join(
            f'<a href="https://huggingface.co/{r.display}/tree/{r.revision}/{r.subfolder}">'
            + "/<wbr>".join(f'<span class="synth-nowrap">{html.escape(part)}</span>' for part in r.display.split("/"))
            + f'</a> <span class="synth-nowrap">@&nbsp;<code>{r.revision[:10]}</code></span>'
            for r in model.repos.values())
        rows = [(t("weights"), repos), (t("licence"), html.escape(model.license))]
        if model.task == "voice":
            sound = "sound_value" if facts.step_frames else "sound_parallel"
            rows.append((t("sound"), t(sound, rate=facts.sample_rate, frame=facts.frame_ms,
                                         step=facts.step_frames) if facts.sample_rate else t("not_downloaded")))
        else:
            rows.append((t("working_size"), t("working_size_value", side=MAX_SIDE)))
        part_name = lambda what: PARTS.get(what, (what, what))[lang == "ko"]  # noqa: E731
        engines = [f"{html.escape(network)}: {runtime.said(used, weights, part, part_name)}"
                   for network, (used, weights, part) in MODELS.engines(model.name).items()]
        rows.append((t("engine"), ", ".join(engines) or t("engine_unused")))
        details = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
        cards.append(f'<article class="synth-card"><h3>{html.escape(messages.label(model.name, lang))}</h3>'
                     f"<p><code>{model.name}</code></p><dl>{details}</dl></article>")
    return (f'<p><b>{t("device")}:</b> {html.escape(DEVICE)} · {runtime.described(MODELS.ran())}</p>'
            f'<h2>{t("models")}</h2><div class="synth-cards">{"".join(cards)}</div>'
            f'<h2>{t("how")}</h2><p>{t("how_image", side=MAX_SIDE)}</p><p>{t("how_speech")}</p>'
            f'<p>{t("unchanged")}</p>')


def page_state(request: gr.Request):
    """The device line, status lines, menus marked with what is ready, and About, as of this
    page load."""
    lang = language(request)
    title = TEXTS["title"][lang == "ko"].format(device=runs_on(lang, runtime.described(MODELS.ran())))
    return (title, _status("style", lang), gr.Dropdown(choices=_choices("style", lang)),
            _status("voice", lang), gr.Dropdown(choices=_choices("voice", lang)), _about(lang),
            gr.Dataset(sample_labels=_example_labels(lang)), gr.Dataframe(headers=SAY["lexicon_columns"][lang == "ko"]))


def _example_labels(lang: str) -> list[str]:
    """The example sentences (each in its own language), after their voice's name in `lang`
    (example labels are plain strings to Gradio's front end: an I18n key is not looked up)."""
    return [f"{messages.label(name, lang)}: {s}" for name in SENTENCES for s in SENTENCES[name]]


CSS = """
.synth-cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(20rem, 100%), 1fr)); gap: .75rem; }
.synth-card { border: 1px solid var(--border-color-primary); border-radius: var(--radius-lg); padding: .75rem; }
.synth-card h3 { margin: 0 0 .25rem; } .synth-card dl { margin: 0; } .synth-card dd { margin: 0 0 .4rem; }
.synth-card dt { font-weight: 600; } .synth-card a { padding: 0; } .synth-nowrap { white-space: nowrap; }
.synth-card a span { color: inherit; }
/* The plots' labels above the figure, not over it (on a phone a label takes two lines). */
#mel > label.float, #alignment > label.float { position: static; }
/* The read-along: large enough for a projector; the word being said is marked by colour and an
   underline (not colour alone), and announced through the visually hidden live region. */
#read-along > label.float { position: static; }
#read-along > label > span:first-child { display: none; }  /* gr.HTML's code icon: not code here */
#read-along .synth-readalong { font-family: var(--font); padding: 0 var(--block-padding) var(--block-padding); }
#read-along .synth-text { font-size: 1.2rem; line-height: 2; margin: 0; }
#read-along .synth-readings .synth-text { line-height: 2.8; }
#read-along rt { font-size: .65em; color: var(--body-text-color-subdued); letter-spacing: .02em; }
#read-along .synth-word { cursor: pointer; border-radius: 4px; padding: .05em .1em; }
#read-along .synth-word:hover, #read-along .synth-word:focus-visible { outline: 2px solid var(--color-accent); }
#read-along .synth-current { background: #fde68a; color: #111827; text-decoration: underline 3px;
                             text-underline-offset: .25em; }
#read-along .synth-current rt { color: #374151; }
#read-along .synth-coming { color: var(--body-text-color-subdued); }
#read-along .synth-now { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%);
                         white-space: nowrap; }
/* Korean breaks lines between words, as Korean is written, not inside them. */
:root:lang(ko) body { word-break: keep-all; overflow-wrap: break-word; }
/* A phone stacks the columns: the results come right after the button, the examples after them. */
@media (max-width: 640px) {
  .synth-split > .column { display: contents; }
  .synth-split > .column > * { flex: 1 1 100%; min-width: 0; }
  .synth-split #sentence-examples { order: 1; }
}
"""
# Contrast >= 4.5:1 on white (axe): primary buttons a shade darker than the default (white text),
# the selected tab and slider in indigo-600, the footer and the slider's min/max in neutral-600.
# Text one size up (16 px body): labels stay legible on a projector, and a phone does not zoom
# into the text box when it is tapped (it does below 16 px).
THEME = gr.themes.Default(primary_hue="indigo", text_size="lg").set(
    button_primary_background_fill="*primary_700", button_primary_background_fill_hover="*primary_800",
    button_primary_text_color="white", color_accent="*primary_600", body_text_color_subdued="*neutral_600")

# What Gradio's front end writes in English whatever the page's language (aria-label and title
# of its buttons, hard-coded rather than in its translations) and the alt text it leaves empty or
# half-made ("undefined plot visualising provided data"; the before/after pair; the example
# photos): set in the browser as the page renders, in the browser's language as Gradio picks it.
PAGE_WORDS = {lang: {
    "mel": TEXTS["mel"][i], "alignment": TEXTS["alignment"][i],
    "before": ("Your photo, before restyling", "변환 전 사진")[i], "after": ("Restyled photo", "변환된 사진")[i],
    "example_photo": ("Example photo: {}", "예시 사진: {}")[i],
    "photos": {stem: words[i] for stem, words in {
        "astronaut": ("astronaut", "우주 비행사"), "chelsea": ("cat", "고양이"), "coffee": ("cup of coffee", "커피 한 잔"),
        "horse": ("a horse", "말 한 마리"), "horses": ("horses in a pasture", "목초지의 말들"),
        "zebra": ("a zebra", "얼룩말"), "apple": ("apples", "사과"), "orange": ("an orange", "오렌지"),
        "citrus-slices": ("slices of citrus fruit", "감귤류 조각"), "landscape-lake": ("a lake at sunset", "해 질 녘 호수"),
        "landscape-forest": ("a forest path", "숲길"), "landscape-mountains": ("a meadow below mountains", "산 아래 초원"),
        "landscape-stream": ("a stream in a wood", "숲속 개울")}.items()},
    "gradio": {} if lang == "en" else {
        "Upload file": "파일 올리기", "Capture from camera": "카메라로 찍기", "Paste from clipboard": "클립보드에서 붙여 넣기",
        "Record audio": "녹음하기", "Fullscreen": "전체 화면", "Exit fullscreen mode": "전체 화면 끝내기",
        "Remove Image": "사진 지우기", "undo": "되돌리기", "Reset to default value": "기본값으로 되돌리기",
        "Empty value": "비어 있음", "No value": "값 없음", "Gradio footer navigation": "Gradio 바닥글 링크",
        "Share": "공유", "Download": "내려받기", "Clear": "지우기"},
    "patterns": [] if lang == "en" else [["^number input for (.+)$", "{} 숫자 입력"],
                                         ["^range slider for (.+)$", "{} 슬라이더"]],
} for i, lang in enumerate(("en", "ko"))}
JS = """() => {
  const words = __WORDS__[(navigator.language || "en").toLowerCase().startsWith("ko") ? "ko" : "en"];
  const set = (element, name, value) => {
    if (element && value && element.getAttribute(name) !== value) element.setAttribute(name, value);
  };
  // The read-along: the word whose time holds the player's, marked as the audio plays, streams
  // or is seeked; a click (or Enter) on a word seeks there; arrow keys move between words.
  const player = () => document.querySelector("#player audio");
  const mark = (time) => {  // from the page itself: the read-along may be drawn again at any time
    let found = null, next = null;  // a word starting within 5 ms wins (a seek to its start may land short)
    for (const word of document.querySelectorAll("#read-along .synth-word")) {
      const start = +word.dataset.start, end = +word.dataset.end;
      if (start <= time && time < end) found = word;
      else if (!next && time < start && start <= time + 0.005 && start < end) next = word;
    }
    if (next && (!found || +found.dataset.end <= time + 0.005)) found = next;
    for (const word of document.querySelectorAll("#read-along .synth-current")) {
      if (word === found) continue;
      word.classList.remove("synth-current");
      word.removeAttribute("aria-current");
    }
    if (!found || found.classList.contains("synth-current")) return;
    found.classList.add("synth-current");
    found.setAttribute("aria-current", "true");
    const live = document.querySelector("#read-along .synth-now");
    if (live) live.textContent = (found.querySelector("ruby") || found).firstChild.textContent;
  };
  let ticking = false;
  const tick = () => {
    const audio = player();
    ticking = Boolean(audio && !audio.paused);
    if (!ticking) return;
    mark(audio.currentTime);
    requestAnimationFrame(tick);
  };
  for (const type of ["play", "playing", "seeked", "timeupdate", "ended"]) {
    document.addEventListener(type, (event) => {
      const audio = event.target;
      if (!(audio instanceof HTMLMediaElement) || !audio.closest("#player")) return;
      mark(audio.currentTime);
      if (!ticking && !audio.paused) { ticking = true; requestAnimationFrame(tick); }
    }, true);
  }
  const seek = (word) => {
    const audio = player();
    if (!audio) return;
    audio.currentTime = +word.dataset.start;
    mark(+word.dataset.start);
    if (audio.paused) audio.play().catch(() => {});
  };
  const wordAt = (event) => event.target.closest && event.target.closest("#read-along .synth-word");
  document.addEventListener("click", (event) => { const word = wordAt(event); if (word) seek(word); });
  document.addEventListener("keydown", (event) => {
    const word = wordAt(event);
    if (!word) return;
    if (event.key === "Enter" || event.key === " ") { event.preventDefault(); seek(word); return; }
    const step = {ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1}[event.key];
    const words = [...document.querySelectorAll("#read-along .synth-word")];
    const next = step && words[words.indexOf(word) + step];
    if (!next) return;
    event.preventDefault();
    word.tabIndex = -1;
    next.tabIndex = 0;
    next.focus();
  });
  const fix = () => {
    const audio = player();  // the read-along drawn again: the word marked anew, once it has played
    if (audio && (audio.currentTime > 0 || !audio.paused)) mark(audio.currentTime);
    for (const element of document.querySelectorAll("[aria-label], [title]")) {
      for (const name of ["aria-label", "title"]) {
        const value = element.getAttribute(name);
        if (!value) continue;
        let word = words.gradio[value];
        for (const [pattern, template] of words.patterns) {
          const match = word === undefined && value.match(new RegExp(pattern));
          if (match) word = template.replace("{}", match[1]);
        }
        set(element, name, word);
      }
    }
    for (const id of ["mel", "alignment"]) {  // the plot's alt text is its label (attention or durations)
      const label = document.querySelector(`#${id} > label`);
      const alt = (label && label.textContent.trim()) || words[id];
      document.querySelectorAll(`#${id} img`).forEach(img => set(img, "alt", alt));
    }
    const [before, after] = document.querySelectorAll("#comparison img");
    set(before, "alt", words.before);
    set(after, "alt", words.after);
    for (const button of document.querySelectorAll("[id^=photo-examples] button")) {
      const img = button.querySelector("img");
      const stem = img && decodeURIComponent(img.src.split("/").pop()).replace(/[.][^.]*$/, "");
      if (stem) set(button, "aria-label", words.example_photo.replace("{}", words.photos[stem] || stem));
    }
  };
  // Each change is made once (set() skips equal values), so the observer settles.
  new MutationObserver(fix).observe(document.body, {subtree: true, childList: true, attributes: true,
                                                    attributeFilter: ["aria-label", "title", "alt", "src"]});
  fix();
}""".replace("__WORDS__", json.dumps(PAGE_WORDS, ensure_ascii=False))

with gr.Blocks(title="synth: image and speech synthesis", delete_cache=(3600, 3600)) as demo:
    title = gr.Markdown(I18N("title"))
    with gr.Tab(I18N("image_tab")):
        gr.Markdown(I18N("image_help"))
        image_status = gr.Markdown(elem_id="image-status")
        with gr.Row():
            with gr.Column():
                # 280 px tall: the Restyle button stays on a 720 px projector's first screen.
                photo = Upload(label=I18N("photo"), type="filepath", image_mode=None, elem_id="photo",
                               sources=["upload", "webcam", "clipboard"], height=280)
                style = gr.Dropdown(_choices("style", "en"), value="horse2zebra", label=I18N("style"),
                                    elem_id="style")
                restyle = gr.Button(I18N("restyle"), variant="primary", elem_id="restyle")
                round_trip = gr.Checkbox(label=I18N("round_trip"), elem_id="round-trip",
                                         visible=catalog.MODELS["horse2zebra"].inverse is not None)
                example_columns = []
                for name in STYLE_NAMES:  # one row of examples per style, the selected one shown
                    with gr.Column(visible=name == "horse2zebra", min_width=0) as column:
                        gr.Examples(PHOTOS_BY_STYLE.get(name, PHOTOS), inputs=[photo], label=I18N("examples"),
                                    elem_id=f"photo-examples-{name}")
                    example_columns.append(column)
            with gr.Column():
                comparison = gr.ImageSlider(label=I18N("compare"), type="pil", interactive=False,
                                            elem_id="comparison")
                size_note = gr.Markdown(elem_id="size-note")
                png_file = gr.File(label=I18N("png"), interactive=False, elem_id="png")
        cycle = gr.Gallery(label=I18N("cycle"), columns=3, visible=False, interactive=False, elem_id="cycle")
        cycle_note = gr.Markdown(elem_id="cycle-note")
        style.change(style_changed, style, [*example_columns, round_trip], api_visibility="private", queue=False)
        restyle.click(restyle_page, [photo, style, round_trip], [comparison, png_file, size_note, cycle, cycle_note],
                      api_name="restyle", api_visibility="private", concurrency_limit=CONCURRENCY,
                      concurrency_id="image")
        api_image = gr.Image(visible=False, type="pil", format="png")
        gr.Button(visible=False).click(stylize, [photo, style], api_image, api_name="stylize",
                                       concurrency_limit=CONCURRENCY, concurrency_id="image")

    with gr.Tab(I18N("speech")):
        gr.Markdown(I18N("speech_help"))
        speech_status = gr.Markdown(elem_id="speech-status")
        with gr.Row(elem_classes="synth-split"):
            with gr.Column():
                text = gr.Textbox(label=I18N("text"), lines=4, max_length=MAX_TEXT_CHARS,
                                  placeholder=I18N("placeholder"), elem_id="text")
                voice = gr.Dropdown(_choices("voice", "en"), value="ljspeech-en", label=I18N("voice"),
                                    elem_id="voice")
                # The page offers the speeds that still sound natural; scripts may ask 0.25 to 4.
                speed = gr.Slider(*PAGE_SPEEDS, value=1.0, step=0.1, label=I18N("speed"), elem_id="speed")
                with gr.Row():
                    pitch = gr.Slider(*PITCH_RANGE, value=1.0, step=0.05, label=I18N("pitch"), elem_id="pitch",
                                      visible=False)
                    energy = gr.Slider(*ENERGY_RANGE, value=1.0, step=0.05, label=I18N("energy"), elem_id="energy",
                                       visible=False)
                speak_button = gr.Button(I18N("speak"), variant="primary", elem_id="speak")
                with gr.Accordion(I18N("pronunciations"), open=False, elem_id="pronunciations"):
                    gr.Markdown(I18N("pronunciations_help"))
                    lexicon_table = gr.Dataframe(headers=SAY["lexicon_columns"][0], column_count=2, row_count=1,
                                                 datatype=["str", "str"], type="array", interactive=True,
                                                 show_label=False, elem_id="lexicon")
                text_file = gr.UploadButton(I18N("read_file"), file_types=[".txt"], size="sm", elem_id="text-file")
                sentence_examples = gr.Examples([[s, name] for name in SENTENCES for s in SENTENCES[name]],
                                                inputs=[text, voice], label=I18N("examples"),
                                                example_labels=_example_labels("en"), elem_id="sentence-examples")
            with gr.Column():
                player = gr.Audio(label=I18N("listen"), streaming=STREAMING, autoplay=True, interactive=False,
                                  elem_id="player")
                speech_info = gr.Markdown(elem_id="speech-info")
                read_along = gr.HTML(label=I18N("read_along"), show_label=True, container=True, js_on_load=None,
                                     elem_id="read-along")
                show_read = gr.Checkbox(label=I18N("show_read"), value=False, elem_id="show-read")
                audio_file = gr.File(label=I18N("wav"), interactive=False, elem_id="wav")
                with gr.Row(elem_id="subtitles"):
                    subtitle_buttons = [gr.DownloadButton(I18N(f"subtitles_{kind}"), size="sm", visible=False,
                                                          elem_id=f"subtitles-{kind}") for kind in subtitles.FORMATS]
                audio_format = gr.Radio([("WAV", "wav"), ("MP3", "mp3"), ("FLAC", "flac"), ("Opus", "opus")],
                                        value="wav", label=I18N("format"), elem_id="format")
        mel_plot = gr.Plot(label=I18N("mel"), elem_id="mel")
        alignment_plot = gr.Plot(label=I18N("alignment"), elem_id="alignment")
        said = gr.State()
        voice.change(controls, voice, [pitch, energy], api_visibility="private", queue=False)
        text_file.upload(read_text_file, text_file, text, api_visibility="private")
        speak_button.click(speak_page, [text, voice, speed, pitch, energy, audio_format, lexicon_table, show_read],
                           [player, said, read_along], api_name="speak_page", api_visibility="private",
                           concurrency_limit=SPEECH_CONCURRENCY, concurrency_id="speech"
                           ).success(finish_speech, [said, show_read],
                                     [player, audio_file, *subtitle_buttons, read_along, mel_plot, alignment_plot,
                                      speech_info], api_name="finish_speech", api_visibility="private")
        show_read.change(show_readings, [said, show_read], read_along, api_visibility="private", queue=False)
        # A plain endpoint for scripts (the streamed player reaches a client as an HLS playlist).
        # Scripts and agents may ask the library's whole speed range; the page's slider offers less.
        api_speed = gr.Slider(MIN_SPEED, MAX_SPEED, value=1.0, step=0.05, visible=False)
        gr.Button(visible=False).click(speak, [text, voice, api_speed, pitch, energy, audio_format],
                                       [audio_file, mel_plot, alignment_plot, speech_info],
                                       api_name="speak", concurrency_limit=SPEECH_CONCURRENCY, concurrency_id="speech")

    with gr.Tab(I18N("train"), visible=TRAINING):
        gr.Markdown(I18N("train_help"))
        with gr.Row():
            domain_a = gr.File(label=I18N("domain_a"), file_count="multiple", file_types=["image"], elem_id="domain-a")
            domain_b = gr.File(label=I18N("domain_b"), file_count="multiple", file_types=["image"], elem_id="domain-b")
        with gr.Row():
            minutes = gr.Slider(0.25, 30, value=5, step=0.25, label=I18N("minutes"), elem_id="minutes")
            train_size = gr.Radio([64, 128, 256], value=64 if not ON_GPU else 256, label=I18N("train_size"),
                                  elem_id="train-size")
            network = gr.Radio([("ResNet", "resnet"), ("U-Net", "unet")], value="resnet", label=I18N("network"),
                               elem_id="network")
        train_button = gr.Button(I18N("start_training"), variant="primary", elem_id="train")
        train_status = gr.Markdown(elem_id="train-status")
        with gr.Row():
            samples = gr.Image(label=I18N("samples"), type="pil", interactive=False, elem_id="samples")
            losses = gr.Image(label=I18N("losses"), type="filepath", interactive=False, elem_id="losses")
        run = gr.State()
        with gr.Row():
            try_photo = gr.Image(label=I18N("try_photo"), type="filepath", elem_id="try-photo")
            tried = gr.Image(label=I18N("try"), type="pil", interactive=False, elem_id="tried")
        try_button = gr.Button(I18N("try"), elem_id="try")
        if TRAINING:
            train_button.click(train_page, [domain_a, domain_b, minutes, train_size, network],
                               [samples, losses, train_status, run], api_visibility="private",
                               concurrency_limit=1, concurrency_id="train")
            try_button.click(try_trained, [try_photo, run], tried, api_visibility="private",
                             concurrency_limit=CONCURRENCY, concurrency_id="image")

    with gr.Tab(I18N("about")):
        about_html = gr.HTML(elem_id="about")

    # For scripts and agents (gradio_client, MCP): what `speak` and `stylize` accept.
    catalog_json = gr.JSON(visible=False)
    gr.Button(visible=False).click(list_voices, None, catalog_json, api_name="list_voices", queue=False)
    gr.Button(visible=False).click(list_styles, None, catalog_json, api_name="list_styles", queue=False)

    demo.load(page_state, None, [title, image_status, style, speech_status, voice, about_html,
                                 sentence_examples.dataset, lexicon_table],
              api_name="page_state", api_visibility="private")


def launch(**kwargs):
    """Start the server with the demo's limits (the preloaded models first)."""
    preload = os.environ.get("SYNTH_PRELOAD", "")
    names = [m.name for m in catalog.models() if m.available] if preload == "all" else \
        [n.strip() for n in preload.split(",") if n.strip()]
    for problem in MODELS.preload(names):
        log.warning("SYNTH_PRELOAD: %s", problem)
    v1 = api.router(MODELS, SPEECH_SLOTS, os.environ.get("SYNTH_API_KEY") or None)
    uploads = Middleware(UploadLimit, quota=UploadQuota(UPLOAD_MB * 10**6, UPLOAD_WINDOW_SECONDS),
                         behind_proxy=BEHIND_PROXY, unknown_size=UPLOAD_MB * 10**6)
    demo.queue(max_size=QUEUE_SIZE, api_open=False)
    jobs = JobLimit(JOBS_PER_SESSION, JOBS_PER_ADDRESS, BEHIND_PROXY, UNREAD_SECONDS)
    jobs.install(demo._queue)
    readers = Middleware(ResultReaders, readers=jobs.readers)
    return demo.launch(
        i18n=I18N, theme=THEME, css=CSS, js=JS, max_file_size=MAX_FILE_SIZE, enable_monitoring=False,
        footer_links=["api"], mcp_server=True, app_kwargs={"routes": v1.routes, "middleware": [uploads, readers]},
        **kwargs)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # SIGTERM (docker stop, a Space restarting) ends the app as Ctrl-C does: the server closes,
    # Gradio empties its cache and synth's result folder is removed.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    launch()
