"""synth web demo: restyle a photo with CycleGAN, hear text spoken by Tacotron2 + MB-MelGAN.

UI wiring only: every model, file and figure comes from the `synth` package.
Configuration (environment): GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (default
127.0.0.1:7860), SYNTH_PRELOAD (catalog names to load at start, comma-separated, or
"all"), SYNTH_MAX_TEXT_CHARS (default 1000), SYNTH_MAX_SIDE (working image size: longest
side, default 1024 on a GPU, 512 on a CPU), SYNTH_MAX_FILE_SIZE (upload limit, default "20mb").
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

import gradio as gr
import numpy as np

from synth import catalog, device, serving
from synth.errors import SynthError
from synth.image import load_image
from synth.speech.voice import join

log = logging.getLogger("synth.app")
ASSETS = Path(__file__).parent / "assets"
MAX_TEXT_CHARS = int(os.environ.get("SYNTH_MAX_TEXT_CHARS", "1000"))
MAX_FILE_SIZE = os.environ.get("SYNTH_MAX_FILE_SIZE", "20mb")
DEVICE = device.setup()
# Working image size: a 1024² photo takes ~9 s on a 2-core CPU, 512² ~2 s.
MAX_SIDE = int(os.environ.get("SYNTH_MAX_SIDE", "1024" if DEVICE.startswith("GPU") else "512"))
CONCURRENCY = 2 if DEVICE.startswith("GPU") else 1  # one request at a time keeps a CPU responsive
STREAMING = shutil.which("ffmpeg") is not None
if not STREAMING:
    log.warning("ffmpeg not found on PATH: speech is returned whole instead of streamed")

MODELS = serving.ModelCache(max_side=MAX_SIDE)
WAV_DIR = Path(tempfile.mkdtemp(prefix="synth-wav-"))
STYLES = [(m.label["en"], m.name) for m in catalog.models("style") if m.available]
VOICES = [(m.label["en"], m.name) for m in catalog.models("voice") if m.available]
SENTENCES = json.loads((ASSETS / "sentences.json").read_text(encoding="utf-8"))
PHOTOS = sorted(str(p) for p in ASSETS.glob("*.jpg"))

LABELS = {
    "synth_image": ("Image", "이미지"),
    "synth_speech": ("Speech", "음성"),
    "synth_about": ("About", "소개"),
    "synth_photo": ("Your photo", "사진"),
    "synth_style": ("Style", "스타일"),
    "synth_restyle": ("Restyle", "변환"),
    "synth_compare": ("Before / after", "변환 전 / 후"),
    "synth_result": ("Restyled (PNG)", "변환 결과 (PNG)"),
    "synth_text": ("Text", "문장"),
    "synth_voice": ("Voice", "목소리"),
    "synth_speak": ("Speak", "말하기"),
    "synth_listen": ("Listen", "듣기"),
    "synth_wav": ("Complete WAV", "전체 WAV"),
    "synth_mel": ("Mel spectrogram", "멜 스펙트로그램"),
    "synth_alignment": ("Attention alignment", "어텐션 정렬"),
    "synth_image_help": ("Upload a photo, take one with the webcam or paste one, pick a style, press **Restyle**.",
                         "사진을 올리거나 웹캠으로 찍거나 붙여 넣고, 스타일을 고른 뒤 **변환**을 누르세요."),
    "synth_speech_help": ("Type a few sentences, pick a voice, press **Speak**: the first sentence plays "
                          "while the rest is made.",
                          "문장을 입력하고 목소리를 고른 뒤 **말하기**를 누르세요. 첫 문장이 먼저 재생됩니다."),
}
I18N = gr.I18n(en={k: en for k, (en, _) in LABELS.items()}, ko={k: ko for k, (_, ko) in LABELS.items()})


class Upload(gr.Image):
    """An image input whose unreadable uploads end in a message, not a server error."""
    is_template = True  # rendered by the front end as a plain Image

    def preprocess(self, payload):
        try:
            return super().preprocess(payload)
        except Exception as e:
            raise gr.Error(f"This file could not be read as an image ({e.__class__.__name__}). "
                           "Try a JPEG, PNG, WebP or GIF.") from e


@contextlib.contextmanager
def user_errors():
    """synth's typed errors -> a message the person can act on."""
    try:
        yield
    except SynthError as e:
        raise gr.Error(str(e)) from e


def stylize(photo: str | None, style: str):
    """Restyle one photo (the API endpoint /stylize)."""
    if photo is None:
        raise gr.Error("Add a photo first: upload one, use the webcam or paste from the clipboard.")
    with user_errors():
        return MODELS.get(style).stylize(photo)


def compare(photo: str | None, result):
    if photo is None or result is None:
        return None
    return load_image(photo, MAX_SIDE), result


def _checked(text: str | None) -> str:
    text = (text or "").strip()
    if not text:
        raise gr.Error("Type some text to speak.")
    if len(text) > MAX_TEXT_CHARS:
        raise gr.Error(f"The text is {len(text):,} characters long; this demo speaks at most "
                       f"{MAX_TEXT_CHARS:,} at a time. Shorten it, or use `synth speak` for long texts.")
    return text


def _outputs(speech):
    for old in WAV_DIR.iterdir():  # Gradio serves copies from its own cache; ours live an hour
        if time.time() - old.stat().st_mtime > 3600:
            shutil.rmtree(old, ignore_errors=True)
    path = Path(tempfile.mkdtemp(dir=WAV_DIR)) / "speech.wav"
    speech.write(path)
    return str(path), serving.mel_figure(speech.mel), serving.alignment_figure(speech.alignments)


def speak(text: str, voice: str):
    """The complete WAV, the mel spectrogram and the alignment (the API endpoint /speak)."""
    text = _checked(text)
    with user_errors():
        return _outputs(MODELS.get(voice).speak(text))


def speak_streaming(text: str, voice: str):
    """Sentence by sentence into the player, then the complete WAV and the figures."""
    text = _checked(text)
    chunks = []
    with user_errors():
        model = MODELS.get(voice)
        skipped = model.processor.unknown_characters(text)
        if skipped:
            gr.Warning(f"This voice cannot say {' '.join(skipped)}: skipped.")
        for chunk in model.stream(text):
            chunks.append(chunk)
            if STREAMING:
                pcm = (chunk.audio * 32767).astype(np.int16)
                yield (chunk.sample_rate, pcm), gr.skip(), gr.skip(), gr.skip()
    wav, mel, alignment = _outputs(join(chunks))
    yield (gr.skip() if STREAMING else wav), wav, mel, alignment


def about() -> str:
    rows = "\n".join(
        f"| {m.label['en']} | `{m.name}` | "
        + "<br>".join(f"[{r.repo_id}](https://huggingface.co/{r.repo_id}/tree/{r.revision}) @ `{r.revision[:10]}`"
                      for r in m.repos.values())
        + f" | {m.license} | {m.description}" + ("" if m.available else f" *Not available yet: {m.unavailable}.*")
        + " |" for m in catalog.models())
    return f"""
**Running on:** {DEVICE}

| model | name | weights (Hub repo @ pinned revision) | licence | what it is |
|---|---|---|---|---|
{rows}

### How it works
**Image.** A CycleGAN generator is a convolutional network trained without paired examples: one
network turns horses into zebras while a second turns them back, and the pair learns because a
round trip must give back the photo. Here the photo is scaled to at most {MAX_SIDE} px, its pixels
mapped to [-1, 1], and sent through 2 down-sampling convolutions, 9 residual blocks and 2
up-sampling convolutions. The network is fully convolutional, so any aspect ratio works.

**Speech.** Tacotron2 reads the text as a sequence of characters and writes a *mel spectrogram*
one frame (11.6 ms) at a time; at each step its *attention* decides which characters it is saying
— the diagonal in the alignment plot. It stops when it predicts the end. Multi-band MelGAN then
turns the spectrogram into a waveform, four frequency bands at once. Long texts are split into
sentences; the first one plays while the rest are made.

The weights are the unchanged checkpoints published on the Hugging Face Hub; synth re-implements
the networks on current TensorFlow to load them.
"""


with gr.Blocks(title="synth: image and speech synthesis", delete_cache=(3600, 3600)) as demo:
    gr.Markdown("# synth\nDeep-learning image restyling and speech synthesis, on "
                + ("the GPU" if DEVICE.startswith("GPU") else "the CPU") + ".")
    with gr.Tab(I18N("synth_image")):
        gr.Markdown(I18N("synth_image_help"))
        image_status = gr.Markdown(elem_id="image-status")
        with gr.Row():
            with gr.Column():
                photo = Upload(label=I18N("synth_photo"), type="filepath", image_mode=None, elem_id="photo",
                               sources=["upload", "webcam", "clipboard"])
                style = gr.Dropdown(STYLES, value=STYLES[0][1] if STYLES else None, label=I18N("synth_style"))
                restyle = gr.Button(I18N("synth_restyle"), variant="primary", elem_id="restyle")
                gr.Examples(PHOTOS, inputs=[photo])
            with gr.Column():
                comparison = gr.ImageSlider(label=I18N("synth_compare"), type="pil", interactive=False,
                                            elem_id="comparison")
                result = gr.Image(label=I18N("synth_result"), type="pil", format="png", interactive=False,
                                  buttons=["download", "fullscreen"], elem_id="result")
        restyle.click(stylize, [photo, style], result, api_name="stylize", concurrency_limit=CONCURRENCY
                      ).then(compare, [photo, result], comparison, api_name="compare",
                             api_visibility="private")

    with gr.Tab(I18N("synth_speech")):
        gr.Markdown(I18N("synth_speech_help"))
        speech_status = gr.Markdown(elem_id="speech-status")
        with gr.Row():
            with gr.Column():
                text = gr.Textbox(label=I18N("synth_text"), lines=4, max_length=MAX_TEXT_CHARS,
                                  placeholder="Type a sentence or two.", elem_id="text")
                voice = gr.Dropdown(VOICES, value=VOICES[0][1] if VOICES else None, label=I18N("synth_voice"),
                                    elem_id="voice")
                unavailable = [f"{m.label['en']}: {m.unavailable}" for m in catalog.models("voice") if not m.available]
                if unavailable:
                    gr.Markdown("Coming later: " + "; ".join(unavailable) + ".")
                speak_button = gr.Button(I18N("synth_speak"), variant="primary", elem_id="speak")
                examples = [(label, s, name) for label, name in VOICES for s in SENTENCES.get(name, [])]
                gr.Examples([[s, name] for _, s, name in examples], inputs=[text, voice],
                            example_labels=[f"{label}: {s[:50]}…" if len(s) > 50 else f"{label}: {s}"
                                            for label, s, _ in examples])
            with gr.Column():
                player = gr.Audio(label=I18N("synth_listen"), streaming=STREAMING, autoplay=True, interactive=False,
                                  elem_id="player")
                wav_file = gr.File(label=I18N("synth_wav"), interactive=False, elem_id="wav")
        mel_plot = gr.Plot(label=I18N("synth_mel"), elem_id="mel")
        alignment_plot = gr.Plot(label=I18N("synth_alignment"), elem_id="alignment")
        speak_button.click(speak_streaming, [text, voice], [player, wav_file, mel_plot, alignment_plot],
                           api_name="speak_streaming", api_visibility="private", concurrency_limit=CONCURRENCY,
                           concurrency_id="speech")
        # A plain endpoint for scripts (the streamed player reaches a client as an HLS playlist).
        api_speak = gr.Button(visible=False)
        api_speak.click(speak, [text, voice], [wav_file, mel_plot, alignment_plot], api_name="speak",
                        concurrency_limit=CONCURRENCY, concurrency_id="speech")

    with gr.Tab(I18N("synth_about")):
        gr.Markdown(about())

    # Which models are missing, and how to get them, as of each page load.
    demo.load(lambda: (serving.status("style"), serving.status("voice")), None, [image_status, speech_status],
              api_name="status", api_visibility="private")


def launch(**kwargs):
    """Start the server with the demo's limits (the preloaded models first)."""
    preload = os.environ.get("SYNTH_PRELOAD", "")
    names = [m.name for m in catalog.models() if m.available] if preload == "all" else \
        [n.strip() for n in preload.split(",") if n.strip()]
    for problem in MODELS.preload(names):
        log.warning("SYNTH_PRELOAD: %s", problem)
    return demo.queue(max_size=32, api_open=False).launch(
        i18n=I18N, max_file_size=MAX_FILE_SIZE, enable_monitoring=False, footer_links=["api"], **kwargs)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    launch()
