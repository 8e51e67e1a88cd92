"""Photo in, restyled photo out: same aspect, at the working size."""
from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from synth import runtime
from synth.image import io

if TYPE_CHECKING:
    from synth.image.generator import Generator

BATCH_SIZE = 4  # images of one padded shape run together
# Photos run at sides padded to a multiple of max_side / SHAPES_PER_SIDE (at least 4): at most
# SHAPES_PER_SIDE² shapes. TensorFlow keeps kernels per input shape for good: photos of every
# size grew a server by ~1.2 MB per new shape, for as long as it ran.
SHAPES_PER_SIDE = 8


def cycle_error(photo: Image.Image, back: Image.Image) -> float:
    """Mean absolute difference of a photo and its round trip F(G(x)), on pixel values
    scaled to [-1, 1] as the generators see them: what CycleGAN's cycle loss measures."""
    return float(np.abs(np.asarray(photo, np.float32) - np.asarray(back, np.float32)).mean() / 127.5)


class Styler:
    """Restyles images with a CycleGAN generator; any size and mode in, RGB out."""

    def __init__(self, generator: Generator, max_side: int = io.DEFAULT_MAX_SIDE):
        self.generator = generator
        self.max_side = max_side

    @classmethod
    def from_pretrained(cls, name_or_path: str, revision: str | None = None,
                        max_side: int = io.DEFAULT_MAX_SIDE, precision: str | None = None) -> "Styler":
        """`precision` ('fp32' or 'int8'): the generator's weights on LiteRT, whatever
        SYNTH_PRECISION says (int8 keeps its last layer at fp32, as by default)."""
        from synth.image.generator import Generator  # TensorFlow: imported when a model loads

        precision = runtime.asked_precision(precision)
        generator = Generator.from_pretrained(name_or_path, revision=revision)
        generator.precision = precision
        return cls(generator, max_side=max_side)

    @property
    def step(self) -> int:
        """Photos run at sides padded (by reflection) to a multiple of this."""
        return max(4, -(-self.max_side // SHAPES_PER_SIDE) // 4 * 4)

    def stylize(self, image) -> Image.Image:
        return self.stylize_batch([image])[0]

    def stylize_batch(self, images: list) -> list[Image.Image]:
        """Each image restyled; those that share a padded shape run as one batch."""
        arrays = [io.load_image(image, self.max_side) for image in images]
        inputs = [io.to_model_input(a, self.step) for a in arrays]
        by_shape = defaultdict(list)
        for index, x in enumerate(inputs):
            by_shape[x.shape].append(index)
        results: list[Image.Image | None] = [None] * len(images)
        for indices in by_shape.values():
            for start in range(0, len(indices), BATCH_SIZE):
                chunk = indices[start:start + BATCH_SIZE]
                outputs = self.generator.infer([inputs[i] for i in chunk])
                for i, y in zip(chunk, outputs):
                    results[i] = io.from_model_output(y, *arrays[i].shape[:2])
        return results
