"""What the page and every other door into synth share: models loaded once, their status,
messages worded for people, the figures shown next to the audio, and the files handed out."""
from synth.serving.files import OutputFiles
from synth.serving.models import ModelCache

__all__ = ["ModelCache", "OutputFiles"]
