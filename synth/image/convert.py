"""The CycleGAN authors' PyTorch ResnetGenerator (`latest_net_G.pth`) -> our native generator.

Their state dict (junyanz/pytorch-CycleGAN-and-pix2pix, models/networks.py) is one
nn.Sequential, `model`: convs at `model.K.weight`/`.bias`, residual blocks at
`model.K.conv_block.J.*`, InstanceNorm2d without affine (epsilon 1e-5), a bias on every
conv, stride-2 convs padded one pixel on each side (`stride_padding="torch"` in our
config). Files saved by PyTorch before 0.4 also hold the norms' running_mean/running_var,
which instance norm never used: they are ignored. A .pth is read without torch
(synth/image/pth.py); `convert_state_dict` takes plain arrays.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file

from synth.errors import CheckpointMismatch
from synth.image.generator import Generator, GeneratorConfig
from synth.image.pth import load_state_dict

IGNORED = ("running_mean", "running_var", "num_batches_tracked")


def read_state_dict(path) -> dict[str, np.ndarray]:
    """A .pth (any other suffix is taken for one too) or .safetensors state dict -> arrays."""
    path = Path(path)
    if path.suffix != ".safetensors":
        return load_state_dict(path)
    try:
        return load_file(str(path))
    except (OSError, SafetensorError) as e:
        raise CheckpointMismatch(f"{path} is not a readable safetensors file: {e}") from e


def _position(key: str) -> tuple[int, ...]:
    """model.12.weight -> (12,); model.10.conv_block.5.weight -> (10, 5): network order."""
    return tuple(int(part) for part in key.split(".") if part.isdigit())


def convert_state_dict(state: dict[str, np.ndarray]) -> Generator:
    """The authors' ResnetGenerator weights (any ngf and block count) in our ResNet generator."""
    arrays = {key.removeprefix("module."): np.asarray(value) for key, value in state.items()
              if not key.endswith(IGNORED)}
    convs = sorted((key for key, value in arrays.items() if key.endswith(".weight") and value.ndim == 4),
                   key=_position)
    blocks = sorted({_position(key)[0] for key in convs if ".conv_block." in key})
    if not convs or not all(key.startswith("model.") for key in convs) or len(convs) != 2 * len(blocks) + 6:
        raise CheckpointMismatch(
            "not the CycleGAN authors' ResnetGenerator state dict: expected 6 convs (model.K.weight) plus 2 "
            f"per residual block (model.K.conv_block.J.weight), found {len(convs)} 4-D weights and "
            f"{len(blocks)} blocks ({', '.join(convs[:4])}{', ...' if len(convs) > 4 else ''})")
    generator = Generator(GeneratorConfig(filters=int(arrays[convs[0]].shape[0]), n_blocks=len(blocks),
                                          norm_epsilon=1e-5, norm_affine=False, conv_bias=True,
                                          stride_padding="torch"))
    ours = (["in/conv", "down_0/conv", "down_1/conv"]
            + [f"block_{b}/conv_{j}" for b in range(len(blocks)) for j in range(2)] + ["up_0/conv", "up_1/conv", "out/conv"])
    layout = dict(generator.weight_layout())
    weights, used = {}, set()
    for key, name in zip(convs, ours):
        # Conv2d (out, in, kh, kw) and ConvTranspose2d (in, out, kh, kw) both become TensorFlow's
        # (kh, kw, in, out) and (kh, kw, out, in): the same axis order, no flip
        for theirs, mine, value in ((key, name + "/kernel", arrays[key].transpose(2, 3, 1, 0)),
                                    (key.removesuffix("weight") + "bias", name + "/bias", None)):
            value = arrays.get(theirs) if value is None else value
            if value is None:
                raise CheckpointMismatch(f"'{theirs}' is missing (the authors' convs all have biases)")
            if value.shape != layout[mine]:
                raise CheckpointMismatch(f"'{theirs}': shape {arrays[theirs].shape} does not fit a ResnetGenerator "
                                         f"with ngf {generator.config.filters} ({mine} {layout[mine]})")
            weights[mine] = value
            used.add(theirs)
    unused = sorted(set(arrays) - used)
    if unused:
        raise CheckpointMismatch(f"weights a ResnetGenerator does not have: {', '.join(unused[:6])}"
                                 f"{', ...' if len(unused) > 6 else ''}")
    generator.set_weights(weights)
    return generator


def convert(source, directory) -> Generator:
    """`synth convert`: a state dict file -> a native generator directory (also returned)."""
    generator = convert_state_dict(read_state_dict(source))
    generator.save_pretrained(directory)
    return generator
