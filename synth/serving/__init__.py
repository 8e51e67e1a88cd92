"""What the page and every other door into synth share: models loaded once, their status,
messages worded for people, the figures shown next to the audio, the files handed out, and
the turns at the models."""
from synth.serving.files import OutputFiles
from synth.serving.jobs import Slots
from synth.serving.models import ModelCache

__all__ = ["ModelCache", "OutputFiles", "Slots"]
