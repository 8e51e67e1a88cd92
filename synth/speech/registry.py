"""Which class reads a model directory, by the `model_type` its config.yml names.

A new model family is one module plus an entry here; the voice never names a class. The
modules are imported when a model of theirs loads (they import TensorFlow).
"""
from __future__ import annotations

import importlib
from pathlib import Path

from synth import hub
from synth.speech.config import read_config

# model_type -> "module:class"
TEXT_TO_MEL = {"tacotron2": "synth.speech.tacotron2:Tacotron2", "fastspeech2": "synth.speech.fastspeech2:FastSpeech2"}
VOCODERS = {"multiband_melgan_generator": "synth.speech.melgan:MultiBandMelGAN"}


def family(families: dict[str, str], model_type: str) -> type:
    """The class of `model_type` in `families` (TEXT_TO_MEL or VOCODERS), imported now."""
    module, name = families[model_type].split(":")
    return getattr(importlib.import_module(module), name)


def _load(directory: Path, families: dict[str, str]):
    with hub.reading(directory):  # a damaged cached file: ModelDamaged, naming the model
        model_type, _, _ = read_config(directory, tuple(families))
        return family(families, model_type).from_pretrained(str(directory))


def load_text_to_mel(directory: Path):
    """The text-to-mel model in `directory` (see synth.speech.mel for what it offers)."""
    return _load(directory, TEXT_TO_MEL)


def load_vocoder(directory: Path):
    """The vocoder in `directory`: mel (B, frames, n_mels) -> audio (B, samples)."""
    return _load(directory, VOCODERS)
