"""synth: CycleGAN image restyling and Tacotron2 + Multi-band MelGAN speech on TensorFlow."""
from synth.errors import (
                          Busy,
                          CheckpointMismatch,
                          ConfigError,
                          ImageError,
                          ModelUnavailable,
                          OptionError,
                          SynthError,
                          TextError,
                          UnknownModel,
)

__version__ = "0.1.0"
__all__ = ["Busy", "CheckpointMismatch", "ConfigError", "ImageError", "ModelUnavailable", "OptionError", "SynthError",
           "TextError", "UnknownModel", "__version__"]
