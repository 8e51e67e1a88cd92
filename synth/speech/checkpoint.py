"""Read Keras-2 `save_weights` HDF5 files by group order and weight order.

Weight *names* in these files carry TensorFlow name-scope counters that vary between
TF versions, so, as Keras 2 did, we match by position and check every shape. A file
that does not fit is refused whole: a half-loaded voice would speak noise.
"""
from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from synth import hub
from synth.catalog import CHECKPOINT_FILES, MODEL_H5
from synth.errors import CheckpointMismatch, TextError
from synth.speech.config import build, read_config
from synth.speech.mel import as_batch

# A layout is the model's view of its checkpoint: groups in order, each a list of
# (weight name, shape) in order. Models build it from their config.
Layout = list[tuple[str, list[tuple[str, tuple[int, ...]]]]]


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def read_h5_weights(path: str | Path, layout: Layout) -> dict[str, np.ndarray]:
    """Return {weight name from `layout`: array} after checking count, order and shape. A file
    that cannot be read (truncated, corrupt) is a CheckpointMismatch too; each names `file`."""
    path = Path(path)
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise CheckpointMismatch(f"{path} is not a readable HDF5 weights file: {e}", file=str(path)) from e
    try:
        with f:
            return _read_groups(path, f, layout)
    except CheckpointMismatch:
        raise
    except (OSError, KeyError, ValueError, IndexError, TypeError, RuntimeError) as e:  # what h5py raises for bad bytes
        raise CheckpointMismatch(f"{path} is not a readable HDF5 weights file: {type(e).__name__}: {e}",
                                 file=str(path)) from e


def _read_groups(path: Path, f: h5py.File, layout: Layout) -> dict[str, np.ndarray]:
    root = f["model_weights"] if "model_weights" in f else f
    if "layer_names" not in root.attrs:
        raise CheckpointMismatch(f"{path} has no 'layer_names': not a Keras save_weights file", file=str(path))
    file_groups = [_text(n) for n in root.attrs["layer_names"]]
    if len(file_groups) != len(layout):
        raise CheckpointMismatch(
            f"{path} has {len(file_groups)} weight groups {file_groups}, the model expects "
            f"{len(layout)} {[g for g, _ in layout]}", file=str(path))
    arrays = {}
    for file_group, (model_group, weights) in zip(file_groups, layout):
        group = root[file_group]
        names = [_text(n) for n in group.attrs.get("weight_names", [])]
        if len(names) != len(weights):
            raise CheckpointMismatch(
                f"{path}: group '{file_group}' holds {len(names)} weights, the model's "
                f"'{model_group}' expects {len(weights)}", file=str(path))
        for index, (file_name, (name, shape)) in enumerate(zip(names, weights)):
            value = np.asarray(group[file_name], dtype=np.float32)
            if value.shape != tuple(shape):
                raise CheckpointMismatch(
                    f"{path}: group '{file_group}', weight {index} ('{file_name}'): expected "
                    f"shape {tuple(shape)} for '{name}', found {value.shape}", file=str(path))
            arrays[name] = value
    return arrays


class TensorflowTTSModel:
    """A model read the way tensorflow-tts saved it: `config.yml` with `<MODEL_TYPE>_params`
    (filling CONFIG) and `model.h5` in `weight_layout()` order."""
    MODEL_TYPE: str
    CONFIG: type

    def checked_batch(self, ids, lengths) -> tuple[np.ndarray, np.ndarray]:
        """`ids` as a padded batch (see synth.speech.mel.as_batch), refused if the model has
        no weights yet or an id lies outside its vocabulary."""
        if self._w is None:
            raise RuntimeError(f"{type(self).__name__} has no weights: use from_pretrained or set_weights")
        ids, lengths = as_batch(ids, lengths)
        if ids.max() >= self.config.vocab_size or ids.min() < 0:
            raise TextError(f"symbol ids must lie in [0, {self.config.vocab_size}), got {ids.min()}..{ids.max()}")
        return ids, lengths

    @classmethod
    def from_config(cls, model_dir: str | Path):
        _, params, _ = read_config(model_dir, (cls.MODEL_TYPE,))
        return cls(build(cls.CONFIG, params, f"{model_dir}/config.yml"))

    @classmethod
    def from_pretrained(cls, path_or_repo_id: str, revision: str | None = None):
        return load_pretrained(cls, path_or_repo_id, revision)


def load_pretrained(model_class, path_or_repo_id: str, revision: str | None = None):
    """`model_class` built from the directory's config.yml and filled from its model.h5; of a
    catalog voice, the repo in the class's HUB_ROLE ("text_to_mel" or "vocoder")."""
    role = model_class.HUB_ROLE
    model_dir = hub.files(path_or_repo_id, revision, roles=(role,), file_sets=CHECKPOINT_FILES)[role]
    with hub.reading(model_dir, path_or_repo_id):  # a damaged cached file: ModelDamaged, naming the model
        model = model_class.from_config(model_dir)
        model.set_weights(read_h5_weights(model_dir / MODEL_H5, model.weight_layout()))
    return model
