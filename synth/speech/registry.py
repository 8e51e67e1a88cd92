"""Which class reads a model directory, by the `model_type` its config.yml names.

A new model family is one module plus an entry here; the voice never names a class.
"""
from __future__ import annotations

from pathlib import Path

from synth import hub
from synth.speech.config import read_config
from synth.speech.fastspeech2 import FastSpeech2
from synth.speech.melgan import MultiBandMelGAN
from synth.speech.tacotron2 import Tacotron2

TEXT_TO_MEL = {"tacotron2": Tacotron2, "fastspeech2": FastSpeech2}
VOCODERS = {"multiband_melgan_generator": MultiBandMelGAN}


def _load(directory: Path, families: dict):
    with hub.reading(directory):  # a damaged cached file: ModelDamaged, naming the model
        model_type, _, _ = read_config(directory, tuple(families))
        return families[model_type].from_pretrained(str(directory))


def load_text_to_mel(directory: Path):
    """The text-to-mel model in `directory` (see synth.speech.mel for what it offers)."""
    return _load(directory, TEXT_TO_MEL)


def load_vocoder(directory: Path):
    """The vocoder in `directory`: mel (B, frames, n_mels) -> audio (B, samples)."""
    return _load(directory, VOCODERS)
