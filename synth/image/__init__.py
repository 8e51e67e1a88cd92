"""Images: CycleGAN generators restyling photos of any size."""
from synth.image.generator import Generator, GeneratorConfig
from synth.image.io import image_size, load_image
from synth.image.styler import Styler
from synth.image.unet import UNetConfig, UNetGenerator

__all__ = ["Generator", "GeneratorConfig", "Styler", "UNetConfig", "UNetGenerator", "image_size", "load_image"]
