"""Generator weights from disk: our native format, a Keras-2 SavedModel, a Keras full-model .h5,
or the CycleGAN authors' PyTorch `latest_net_G.pth`.

Native format: `config.json` (the family's config, plus `"architecture"`: a key of
ARCHITECTURES; a file without it is a ResNet, as before U-Nets) + `model.safetensors`
(weights by name). Keras files are recognised by their weights: their order, attribute names
and shapes must fit one family's layout exactly (`from_keras_weights`), else a SavedModel
runs through its serving signature and an .h5 is refused. A .pth is converted without torch
(synth/image/convert.py) and, when it comes from the Hugging Face cache, kept converted
beside it (`hub.converted_dir`), so that only the first load reads the PyTorch file.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
from pathlib import Path

import h5py
import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file

from synth import hub
from synth.catalog import GENERATOR_FILES, NATIVE_CONFIG, NATIVE_WEIGHTS, SAVED_MODEL, SAVED_VARIABLES, TORCH_WEIGHTS
from synth.device import tf
from synth.errors import CheckpointMismatch, ConfigError
from synth.image.generator import Generator
from synth.image.network import GeneratorBase, KerasWeights
from synth.image.unet import UNetGenerator

log = logging.getLogger(__name__)

# config.json's "architecture" -> generator family
ARCHITECTURES: dict[str, type[GeneratorBase]] = {"resnet": Generator, "unet": UNetGenerator}
KERAS_H5 = "*.h5"  # a Keras full-model (model.save) or save_weights file


def save_native(generator: GeneratorBase, directory) -> None:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    config = {"architecture": generator.architecture, **dataclasses.asdict(generator.config)}
    (directory / NATIVE_CONFIG).write_text(json.dumps(config, indent=1))
    save_file(generator.get_weights(), str(directory / NATIVE_WEIGHTS))


def _has_native(directory: Path) -> bool:
    return (directory / NATIVE_CONFIG).is_file() and (directory / NATIVE_WEIGHTS).is_file()


def load_native(directory: Path) -> GeneratorBase:
    path = directory / NATIVE_CONFIG
    try:
        fields = dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError) as e:  # ValueError: bad JSON, or bytes that are not UTF-8
        raise ConfigError(f"{path} is not a generator config: {e}", file=str(path)) from e
    architecture = fields.pop("architecture", "resnet")
    if architecture not in ARCHITECTURES:
        raise ConfigError(f"{path}: unknown architecture {architecture!r}; known: {', '.join(ARCHITECTURES)}",
                          reason="unknown_architecture", value=architecture, choices=tuple(ARCHITECTURES),
                          file=str(path))
    family = ARCHITECTURES[architecture]
    try:
        config = family.config_class(**fields)
    except ConfigError as e:
        e.details.setdefault("file", str(path))
        raise
    except (TypeError, ValueError) as e:  # a key the family does not have, or a value it refuses
        raise ConfigError(f"{path} is not a {architecture} generator config: {e}", file=str(path)) from e
    weights = directory / NATIVE_WEIGHTS
    try:
        arrays = load_file(str(weights))
    except (OSError, SafetensorError, ValueError) as e:
        raise CheckpointMismatch(f"{weights} is not a readable weights file: {e}", file=str(weights)) from e
    generator = family(config)
    generator.set_weights(arrays)
    return generator


def saved_model_weights(variables_prefix: str) -> KerasWeights:
    """A Keras SavedModel's weights in the model's own order, from its checkpoint alone.

    The checkpoint's object graph lists the root model's `variables` in order, each with its
    layer's name ("conv2d_3/kernel"); the keys themselves are no guide, since a weight inside a
    nested model (the U-Net's Sequential stages) is saved under `variables/N`, others under
    `layer_with_weights-N/...`. [] when the SavedModel is not a Keras model."""
    from google.protobuf.message import DecodeError
    from tensorflow.core.protobuf import trackable_object_graph_pb2

    try:
        reader = tf.train.load_checkpoint(variables_prefix)
        graph = trackable_object_graph_pb2.TrackableObjectGraph()
        graph.ParseFromString(reader.get_tensor("_CHECKPOINTABLE_OBJECT_GRAPH"))
        listed = [child.node_id for child in graph.nodes[0].children if child.local_name == "variables"]
        if not listed:
            return []
        weights = []
        for child in graph.nodes[listed[0]].children:
            (value,) = [a for a in graph.nodes[child.node_id].attributes if a.name == "VARIABLE_VALUE"]
            weights.append((value.full_name, reader.get_tensor(value.checkpoint_key)))
        return weights
    # a truncated or corrupt variables.data / .index: TensorFlow's errors, or IndexError ("Read less
    # bytes than requested"); a graph without the nodes it names: IndexError, ValueError
    except (tf.errors.OpError, DecodeError, OSError, IndexError, KeyError, ValueError, RuntimeError) as e:
        folder = str(Path(variables_prefix).parent)
        raise CheckpointMismatch(f"{folder} is not a readable SavedModel checkpoint: {type(e).__name__}: {e}",
                                 file=folder) from e


def h5_weights(path: Path) -> KerasWeights:
    """A Keras-2 .h5's weights in the model's order: `model.save` keeps them under
    model_weights/, `save_weights` at the root; each layer group lists its weight names in order."""
    try:
        with h5py.File(path, "r") as f:
            root = f["model_weights"] if "model_weights" in f else f
            weights = []
            for layer in root.attrs.get("layer_names", []):
                group = root[layer.decode() if isinstance(layer, bytes) else layer]
                for name in group.attrs.get("weight_names", []):
                    name = name.decode() if isinstance(name, bytes) else name
                    weights.append((name.removesuffix(":0"), np.asarray(group[name])))
            return weights
    except (OSError, KeyError, ValueError, IndexError, TypeError, RuntimeError) as e:
        raise CheckpointMismatch(f"{path} is not a readable Keras .h5 file: {e}", file=str(path)) from e


def recognise(weights: KerasWeights) -> GeneratorBase | None:
    """The generator family whose layout these Keras weights fit, filled with them; or None."""
    for family in ARCHITECTURES.values():
        generator = family.from_keras_weights(weights)
        if generator is not None:
            return generator
    return None


class SavedModelGenerator:
    """Any image-to-image SavedModel with a fixed input size: resize in, run, resize out."""

    def __init__(self, directory: Path):
        from google.protobuf.message import DecodeError

        try:
            self._model = tf.saved_model.load(str(directory))
            self._fn = self._model.signatures["serving_default"]
            spec = list(self._fn.structured_input_signature[1].values())[0]
            self.size = (int(spec.shape[1]), int(spec.shape[2]))
            self._output = list(self._fn.structured_outputs)[0]
        except (tf.errors.OpError, DecodeError, OSError, IndexError, KeyError, ValueError, TypeError) as e:
            raise CheckpointMismatch(f"{directory} is not a usable SavedModel: {type(e).__name__}: {e}",
                                     file=str(directory / SAVED_MODEL)) from e

    def infer(self, images) -> np.ndarray:
        images = tf.constant(np.asarray(images, np.float32))
        height, width = images.shape[1], images.shape[2]
        outputs = self._fn(tf.image.resize(images, self.size))[self._output]
        return tf.image.resize(outputs, (height, width)).numpy()


def _load_h5(path: Path) -> GeneratorBase:
    generator = recognise(h5_weights(path))
    if generator is None:
        raise CheckpointMismatch(f"{path}: its weights are neither the CycleGAN ResNet generator's nor the "
                                 f"U-Net's (known architectures: {', '.join(ARCHITECTURES)})",
                                 reason="unknown_architecture", choices=tuple(ARCHITECTURES))
    return generator


def load_torch(path: Path) -> GeneratorBase:
    """The authors' ResnetGenerator from a .pth, converted once: from the Hugging Face cache it is
    kept converted beside the cache (rebuilt if that copy is gone); from elsewhere it is
    converted at each load (`synth convert` keeps it)."""
    from synth.image.convert import convert_state_dict, read_state_dict

    converted = hub.converted_dir(path)
    if converted is not None and _has_native(converted):
        try:
            return load_native(converted)
        except (CheckpointMismatch, ConfigError) as e:  # ours, derived: made again from the .pth
            log.warning("the converted copy of %s is damaged (%s): converting it again", path, e)
    generator = convert_state_dict(read_state_dict(path))
    if converted is None:
        log.info("%s converted in memory; `synth convert` keeps it converted", path)
    else:
        _keep(generator, converted)
    return generator


def _keep(generator: GeneratorBase, directory: Path) -> None:
    """Save `generator` to `directory` whole or not at all (written aside, then renamed), so a
    half-written copy is never read. A folder that cannot be written (a read-only HF_HOME)
    only means converting again next time."""
    partial = directory.with_name(f"{directory.name}.partial-{os.getpid()}")
    try:
        if directory.exists():  # without both files: left by hand, or by a disk that filled up
            shutil.rmtree(directory)
        save_native(generator, partial)
        partial.rename(directory)
    except OSError as e:
        shutil.rmtree(partial, ignore_errors=True)
        if not _has_native(directory):  # else another process has just kept the same
            log.warning("cannot keep the converted generator in %s (%s): it is converted again at each load",
                        directory, e)


def load_generator(path_or_repo_id: str, revision: str | None = None):
    """Native dir; Keras SavedModel (a recognised family: native port, any size; else its
    fixed-size signature); a Keras .h5 file, or a directory holding one; a directory holding
    the authors' latest_net_G.pth."""
    if Path(path_or_repo_id).suffix == ".h5" and Path(path_or_repo_id).is_file():
        return _load_h5(Path(path_or_repo_id))
    directory = hub.files(path_or_repo_id, revision, roles=("generator",), file_sets=GENERATOR_FILES)["generator"]
    with hub.reading(directory, path_or_repo_id):  # a damaged cached file: ModelDamaged, naming the model
        return _load_directory(directory)


def _load_directory(directory: Path):
    if _has_native(directory):
        return load_native(directory)
    if (directory / TORCH_WEIGHTS).is_file():
        return load_torch(directory / TORCH_WEIGHTS)
    h5_files = sorted(directory.glob(KERAS_H5))
    if not (directory / SAVED_MODEL).is_file():
        if len(h5_files) == 1:
            return _load_h5(h5_files[0])
        raise ConfigError(f"{directory} holds neither {NATIVE_CONFIG} + {NATIVE_WEIGHTS}, a SavedModel "
                          f"({SAVED_MODEL} + {SAVED_VARIABLES}/), {TORCH_WEIGHTS} nor one Keras .h5 file"
                          + (f" (it holds {len(h5_files)}: {', '.join(p.name for p in h5_files)})" if h5_files else ""))
    # TensorFlow names the checkpoint inside the variables folder "variables" too
    generator = recognise(saved_model_weights(str(directory / SAVED_VARIABLES / "variables")))
    if generator is not None:
        return generator
    fallback = SavedModelGenerator(directory)
    log.warning("%s: architecture not recognised as the CycleGAN ResNet or U-Net generator; running its "
                "serving signature at its fixed size %dx%d (images are resized in and out)",
                directory, *fallback.size)
    return fallback
