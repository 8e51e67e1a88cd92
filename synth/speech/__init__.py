"""Speech: a text-to-mel model (Tacotron2 or FastSpeech2) + Multi-band MelGAN, behind one Voice.

The networks (and TensorFlow) are imported on first use of their names, or when a voice
loads (synth.speech.registry), so that a page starts without them."""
import importlib

from synth.speech.mel import MelOutput, SpeechOptions
from synth.speech.text import TextProcessor
from synth.speech.voice import Speech, SpeechChunk, Voice

_NETWORKS = {"FastSpeech2": "synth.speech.fastspeech2", "FastSpeech2Output": "synth.speech.fastspeech2",
             "MultiBandMelGAN": "synth.speech.melgan",
             "Tacotron2": "synth.speech.tacotron2", "Tacotron2Output": "synth.speech.tacotron2"}


def __getattr__(name: str):
    if name in _NETWORKS:
        return getattr(importlib.import_module(_NETWORKS[name]), name)
    raise AttributeError(f"module 'synth.speech' has no attribute {name!r}")


__all__ = ["FastSpeech2", "FastSpeech2Output", "MelOutput", "MultiBandMelGAN", "Speech", "SpeechChunk", "SpeechOptions",
           "Tacotron2", "Tacotron2Output", "TextProcessor", "Voice"]
