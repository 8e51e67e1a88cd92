"""Images: CycleGAN generators restyling photos of any size."""
from synth.image.generator import Generator, GeneratorConfig
from synth.image.io import image_size, load_image
from synth.image.styler import Styler

__all__ = ["Generator", "GeneratorConfig", "Styler", "image_size", "load_image"]
