"""Speech: Tacotron2 (text -> mel) + Multi-band MelGAN (mel -> audio)."""
from synth.speech.melgan import MultiBandMelGAN
from synth.speech.tacotron2 import Tacotron2, Tacotron2Output
from synth.speech.text import TextProcessor
from synth.speech.voice import Speech, SpeechChunk, Voice

__all__ = ["MultiBandMelGAN", "Speech", "SpeechChunk", "Tacotron2", "Tacotron2Output",
           "TextProcessor", "Voice"]
