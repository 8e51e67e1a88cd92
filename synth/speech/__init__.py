"""Speech: a text-to-mel model (Tacotron2 or FastSpeech2) + Multi-band MelGAN, behind one Voice."""
from synth.speech.fastspeech2 import FastSpeech2, FastSpeech2Output
from synth.speech.mel import MelOutput, SpeechOptions
from synth.speech.melgan import MultiBandMelGAN
from synth.speech.tacotron2 import Tacotron2, Tacotron2Output
from synth.speech.text import TextProcessor
from synth.speech.voice import Speech, SpeechChunk, Voice

__all__ = ["FastSpeech2", "FastSpeech2Output", "MelOutput", "MultiBandMelGAN", "Speech", "SpeechChunk", "SpeechOptions", "Tacotron2",
           "Tacotron2Output", "TextProcessor", "Voice"]
