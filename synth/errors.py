"""Typed errors: each names the bad value and, where there is a choice, the valid ones."""


class SynthError(Exception):
    """Base class of every error synth raises on purpose."""


class ConfigError(SynthError, ValueError):
    """A model config is unusable: unknown model type or a missing or bad key."""


class CheckpointMismatch(SynthError, ValueError):
    """A weights file does not fit the model built from its config."""


class TextError(SynthError, ValueError):
    """Text that cannot be spoken: empty, too long, or nothing speakable in it."""


class ImageError(SynthError, ValueError):
    """An upload that is not a usable image (corrupt, too large, unknown format)."""


class ModelUnavailable(SynthError, OSError):
    """A model's files are neither at hand nor downloadable right now."""


class UnknownModel(SynthError, KeyError):
    """A name that is neither a catalog entry, a Hub repo id nor a local directory."""

    def __str__(self):  # KeyError would otherwise print the message in quotes
        return str(self.args[0])
