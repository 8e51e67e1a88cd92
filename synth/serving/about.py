"""Facts about each catalog model for the About page, read from the model's own files (so
that they are right for every model: Baker's frames are 12.5 ms, LJSpeech's 11.6 ms)."""
from __future__ import annotations

import dataclasses

from synth import catalog, hub
from synth.errors import SynthError
from synth.speech import registry
from synth.speech.config import MultiBandMelGANConfig, build, read_config


@dataclasses.dataclass
class Facts:
    model: catalog.Model
    cached: bool
    sample_rate: int | None = None
    frame_ms: float | None = None        # one mel frame
    step_frames: int | None = None       # frames one decoder step writes (reduction factor);
                                         # None for a model that makes every frame at once


def facts(model: catalog.Model) -> Facts:
    """What the cached configs say; for a model not downloaded yet, only the catalog."""
    if model.task != "voice" or not hub.is_cached(model.name):
        return Facts(model, model.task != "voice" and hub.is_cached(model.name))
    try:
        dirs = hub.files(model.name, local_files_only=True)
        _, params, _ = read_config(dirs["text_to_mel"], tuple(registry.TEXT_TO_MEL))
        _, melgan, vocoder = read_config(dirs["vocoder"], tuple(registry.VOCODERS))
        hop = build(MultiBandMelGANConfig, melgan, "vocoder").hop_size
    except SynthError:  # a broken download: the page still opens, with the catalog's facts
        return Facts(model, True)
    rate = int(vocoder.get("sampling_rate") or model.sample_rate)
    step = params.get("reduction_factor", 1) if model.family == "tacotron2" else None
    return Facts(model, True, rate, 1000 * hop / rate, step)
