"""Generator weights from disk: a Keras-2 SavedModel (keras-io/CycleGAN) or our native format.

Native format: `config.json` (GeneratorConfig) + `model.safetensors` (weights by name).
"""
from __future__ import annotations

import dataclasses
import json
import logging
import re
from pathlib import Path

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file

from synth import hub
from synth.catalog import GENERATOR_FILES, NATIVE_CONFIG, NATIVE_WEIGHTS, SAVED_MODEL, SAVED_VARIABLES
from synth.device import tf
from synth.errors import CheckpointMismatch, ConfigError
from synth.image.generator import Generator, GeneratorConfig

log = logging.getLogger(__name__)

_KERAS_LAYER = re.compile(r"^layer_with_weights-(\d+)/(kernel|bias|gamma|beta)/\.ATTRIBUTES/VARIABLE_VALUE$")
_ATTRIBUTE_ORDER = ("kernel", "bias", "gamma", "beta")


def save_native(generator: Generator, directory) -> None:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / NATIVE_CONFIG).write_text(json.dumps(dataclasses.asdict(generator.config), indent=1))
    save_file(generator.get_weights(), str(directory / NATIVE_WEIGHTS))


def load_native(directory: Path) -> Generator:
    try:
        config = GeneratorConfig(**json.loads((directory / NATIVE_CONFIG).read_text()))
    except (ValueError, TypeError) as e:
        raise ConfigError(f"{directory / NATIVE_CONFIG} is not a generator config: {e}") from e
    try:
        arrays = load_file(str(directory / NATIVE_WEIGHTS))
    except (OSError, SafetensorError) as e:
        raise CheckpointMismatch(f"{directory / NATIVE_WEIGHTS} is not a readable weights file: {e}") from e
    generator = Generator(config)
    generator.set_weights(arrays)
    return generator


def _keras_layers(variables_prefix: str) -> list[list[np.ndarray]]:
    """The SavedModel's weighted layers in order, each its arrays (kernel, bias, gamma, beta)."""
    reader = tf.train.load_checkpoint(variables_prefix)
    layers: dict[int, dict[str, str]] = {}
    for key in reader.get_variable_to_shape_map():
        match = _KERAS_LAYER.match(key)
        if match:
            layers.setdefault(int(match.group(1)), {})[match.group(2)] = key
    return [[reader.get_tensor(attrs[a]) for a in _ATTRIBUTE_ORDER if a in attrs]
            for _, attrs in sorted(layers.items())]


def _recognise_keras_resnet(layers: list[list[np.ndarray]]) -> Generator | None:
    """The keras.io ResNet generator filled from `layers`, or None if they are something else."""
    if len(layers) < 11 or (len(layers) - 11) % 4 or layers[0][0].ndim != 4 or layers[0][0].shape[:3] != (7, 7, 3):
        return None
    generator = Generator(GeneratorConfig(filters=int(layers[0][0].shape[3]), n_blocks=(len(layers) - 11) // 4,
                                          norm_epsilon=1e-3, norm_affine=True, conv_bias=False))
    arrays = [a for layer in layers for a in layer]
    layout = generator.weight_layout()
    if len(arrays) != len(layout) or any(a.shape != shape for a, (_, shape) in zip(arrays, layout)):
        return None
    generator.set_weights({name: a for a, (name, _) in zip(arrays, layout)})
    return generator


class SavedModelGenerator:
    """Any image-to-image SavedModel with a fixed input size: resize in, run, resize out."""

    def __init__(self, directory: Path):
        self._model = tf.saved_model.load(str(directory))
        self._fn = self._model.signatures["serving_default"]
        spec = list(self._fn.structured_input_signature[1].values())[0]
        self.size = (int(spec.shape[1]), int(spec.shape[2]))
        self._output = list(self._fn.structured_outputs)[0]

    def infer(self, images) -> np.ndarray:
        images = tf.constant(np.asarray(images, np.float32))
        height, width = images.shape[1], images.shape[2]
        outputs = self._fn(tf.image.resize(images, self.size))[self._output]
        return tf.image.resize(outputs, (height, width)).numpy()


def load_generator(path_or_repo_id: str, revision: str | None = None):
    """Native dir, keras-io-style SavedModel (native port, any size), else its fixed-size signature."""
    directory = hub.files(path_or_repo_id, revision, roles=("generator",), file_sets=GENERATOR_FILES)["generator"]
    if (directory / NATIVE_CONFIG).is_file() and (directory / NATIVE_WEIGHTS).is_file():
        return load_native(directory)
    if not (directory / SAVED_MODEL).is_file():
        raise ConfigError(f"{directory} holds neither {NATIVE_CONFIG} + {NATIVE_WEIGHTS} nor a "
                          f"SavedModel ({SAVED_MODEL} + {SAVED_VARIABLES}/)")
    # TensorFlow names the checkpoint inside the variables folder "variables" too
    generator = _recognise_keras_resnet(_keras_layers(str(directory / SAVED_VARIABLES / "variables")))
    if generator is not None:
        return generator
    fallback = SavedModelGenerator(directory)
    log.warning("%s: architecture not recognised as the CycleGAN ResNet generator; running its "
                "serving signature at its fixed size %dx%d (images are resized in and out)",
                directory, *fallback.size)
    return fallback
