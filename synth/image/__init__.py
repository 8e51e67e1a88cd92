"""Images: CycleGAN generators restyling photos of any size.

The networks (and TensorFlow) are imported on first use of their names, so that a program
that only reads photos, or a page that has not restyled one yet, starts without them."""
import importlib

from synth.image.io import image_size, load_image
from synth.image.styler import Styler

_NETWORKS = {"Generator": "synth.image.generator", "GeneratorConfig": "synth.image.generator",
             "UNetConfig": "synth.image.unet", "UNetGenerator": "synth.image.unet"}


def __getattr__(name: str):
    if name in _NETWORKS:
        return getattr(importlib.import_module(_NETWORKS[name]), name)
    raise AttributeError(f"module 'synth.image' has no attribute {name!r}")


__all__ = ["Generator", "GeneratorConfig", "Styler", "UNetConfig", "UNetGenerator", "image_size", "load_image"]
