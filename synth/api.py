"""The OpenAI-shaped speech routes, served beside the page by the same process and port:
`POST /v1/audio/speech` and `GET /v1/audio/voices`.

Any tool that speaks to OpenAI's text-to-speech (chat front ends, reading apps, the
official `openai` client) can use synth by changing its base URL. The routes hold no model
logic: voices come from the page's ModelCache, and every model call takes its turn in the
page's Slots, so an API caller can neither starve visitors nor run more at once than the
page allows. Errors have OpenAI's shape: {"error": {"message", "type", "param", "code"}}.
"""
from __future__ import annotations

import hmac
import json
import logging
from typing import Iterator

import pydantic
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response, StreamingResponse

from synth import audio, catalog
from synth.errors import Busy, ModelUnavailable, OptionError, SynthError, TextError
from synth.serving import ModelCache, Slots, messages
from synth.speech import SpeechOptions

log = logging.getLogger("synth.api")

# OpenAI's model names -> the family they pick where the voice's speaker has one: tts-1
# (OpenAI's low-latency model) is FastSpeech2, tts-1-hd Tacotron2. synth's own family
# names pick strictly.
MODEL_FAMILIES = {"tts-1": "fastspeech2", "tts-1-hd": "tacotron2", "gpt-4o-mini-tts": "fastspeech2"}
FAMILY_NAMES = tuple(catalog.FAMILIES)


class SpeechRequest(pydantic.BaseModel):
    """The body of POST /v1/audio/speech, as OpenAI documents it (instructions are
    accepted and ignored: these voices take no style prompt)."""
    model_config = pydantic.ConfigDict(extra="ignore")
    model: str = "tts-1"
    input: str
    voice: str
    response_format: str = "mp3"
    speed: float = 1.0
    instructions: str | None = None


class ApiError(Exception):
    def __init__(self, status: int, message: str, kind: str, param: str | None = None, code: str | None = None):
        super().__init__(message)
        self.status, self.kind, self.param, self.code = status, kind, param, code

    def response(self) -> JSONResponse:
        return JSONResponse({"error": {"message": str(self), "type": self.kind, "param": self.param,
                                       "code": self.code}}, status_code=self.status)


def _bad(message: str, param: str, code: str = "invalid_value") -> ApiError:
    return ApiError(400, message, "invalid_request_error", param, code)


def _from_synth(error: SynthError) -> ApiError:
    """A typed synth error as OpenAI's error, with the message a person reads on the page."""
    text = messages.describe(error, "en")
    if isinstance(error, Busy):
        return ApiError(429, text, "rate_limit_error", None, "queue_full")
    if isinstance(error, ModelUnavailable):
        return ApiError(503, text, "server_error", "voice", "model_unavailable")
    if isinstance(error, TextError) and error.reason == "too_long":
        return ApiError(413, text, "invalid_request_error", "input", "input_too_long")
    param = "input" if isinstance(error, TextError) else "speed" if isinstance(error, OptionError) else None
    return ApiError(400, text, "invalid_request_error", param, error.reason)


def _voice_for(request: SpeechRequest) -> str:
    """The catalog voice to speak with: the one named, or its speaker's voice in the
    family `model` asks for."""
    voices = [m.name for m in catalog.models("voice") if m.available]
    if request.voice not in voices:
        raise _bad(f"voice '{request.voice}' is not one of: {', '.join(voices)}", "voice")
    voice = catalog.get(request.voice)
    if request.model in MODEL_FAMILIES:
        other = catalog.in_family(voice, MODEL_FAMILIES[request.model])
        return (other or voice).name
    if request.model not in FAMILY_NAMES:
        raise _bad(f"model '{request.model}' is not one of: {', '.join([*MODEL_FAMILIES, *FAMILY_NAMES])}",
                   "model")
    if voice.family != request.model:
        other = catalog.in_family(voice, request.model)
        if other is None:
            names = [m.name for m in catalog.models("voice") if m.family == request.model]
            raise _bad(f"voice '{request.voice}' has no {catalog.FAMILIES[request.model]} model; "
                       f"{request.model} voices: {', '.join(names)}", "voice")
        return other.name
    return voice.name


def _parse(body: bytes) -> SpeechRequest:
    try:
        return SpeechRequest.model_validate(json.loads(body))
    except json.JSONDecodeError as e:
        raise _bad(f"the body is not JSON: {e}", None, "invalid_json") from e
    except pydantic.ValidationError as e:
        first = e.errors()[0]
        param = ".".join(str(p) for p in first["loc"]) or None
        raise _bad(f"{param}: {first['msg']}", param, first["type"]) from e


def router(models: ModelCache, slots: Slots, api_key: str | None = None) -> APIRouter:
    """The /v1 routes over the page's models and turns. With `api_key` (SYNTH_API_KEY),
    every /v1 request must carry `Authorization: Bearer <key>`."""
    routes = APIRouter(prefix="/v1")

    def authorize(request: Request) -> None:
        if api_key is None:
            return
        given = request.headers.get("authorization", "")
        scheme, _, token = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), api_key.encode()):
            raise ApiError(401, "a valid API key is needed: send 'Authorization: Bearer <key>'",
                           "invalid_request_error", None, "invalid_api_key")

    @routes.get("/audio/voices")
    async def voices(request: Request):
        """The voices `voice` accepts, with their language, model family and sample rate."""
        try:
            authorize(request)
        except ApiError as e:
            return e.response()
        return {"voices": [{"id": m.name, "name": m.display("en"), "language": m.language,
                            "family": m.family, "sample_rate": m.sample_rate}
                           for m in catalog.models("voice") if m.available]}

    @routes.post("/audio/speech")
    async def speech(request: Request):
        """Text to audio in the requested format; pcm and opus stream as they are made."""
        try:
            authorize(request)
            asked = _parse(await request.body())
            name = _voice_for(asked)
            fmt = asked.response_format
            if fmt not in audio.FORMATS:
                raise _bad(f"response_format '{fmt}' is not one of: {', '.join(audio.FORMATS)}", "response_format")
            options = SpeechOptions(speed=asked.speed)
            slots.check()
            voice = await run_in_threadpool(models.get, name)
            voice.sentences(asked.input)  # empty, too long or unspeakable: refused before any audio
        except ApiError as e:
            return e.response()
        except SynthError as e:
            return _from_synth(e).response()
        headers = {"X-Synth-Voice": name, "X-Synth-Sample-Rate": str(audio.output_rate(fmt, voice.sample_rate))}
        if fmt in audio.STREAMABLE:
            return StreamingResponse(_stream(voice, asked.input, options, fmt, slots),
                                     media_type=audio.MEDIA_TYPES[fmt], headers=headers)
        try:
            data = await run_in_threadpool(_whole, voice, asked.input, options, fmt, slots)
        except SynthError as e:
            return _from_synth(e).response()
        return Response(data, media_type=audio.MEDIA_TYPES[fmt], headers=headers)

    return routes


def _whole(voice, text: str, options: SpeechOptions, fmt: str, slots: Slots) -> bytes:
    with slots.hold():
        speech = voice.speak(text, options)
    return audio.encode(speech.audio, speech.sample_rate, fmt)


def _stream(voice, text: str, options: SpeechOptions, fmt: str, slots: Slots) -> Iterator[bytes]:
    """Each sentence's bytes as soon as it is spoken (the first decoded alone)."""
    encoder = audio.StreamEncoder(fmt, voice.sample_rate)
    try:
        with slots.hold():
            for chunk in voice.stream(text, options):
                data = encoder.write(chunk.samples())
                if data:
                    yield data
    except SynthError as e:  # the status line has gone out: the audio just ends early
        log.warning("speech stream stopped early: %s", e)
    yield encoder.close()
