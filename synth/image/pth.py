"""PyTorch state dicts (`torch.save(model.state_dict())`, a .pth) read without torch.

torch.save pickles the dict and keeps each tensor's numbers apart, in a "storage" the pickle
names by key. PyTorch 1.6 and later write a zip (`<name>/data.pkl`, `<name>/data/<key>`);
older versions one stream (a magic number, the protocol, system facts, the pickle, the list
of storage keys, then each storage as an int64 element count and its bytes). Both matter:
the CycleGAN authors' pretrained files were saved before PyTorch 0.4 (they carry the
InstanceNorm running stats that 0.4 dropped).

A pickle runs whatever callables it names, so `_Unpickler.find_class` lets through only what
a state dict is made of (ALLOWED) and refuses anything else (os.system, builtins.eval, a
pickled nn.Module) before it can be called.
"""
from __future__ import annotations

import collections
import dataclasses
import functools
import io
import pickle
import struct
import zipfile
from pathlib import Path

import numpy as np

from synth.errors import CheckpointMismatch

# torch's storage classes -> the numpy type of their elements
STORAGES = {"FloatStorage": "f4", "DoubleStorage": "f8", "HalfStorage": "f2", "LongStorage": "i8",
            "IntStorage": "i4", "ShortStorage": "i2", "CharStorage": "i1", "ByteStorage": "u1", "BoolStorage": "?"}
# _rebuild_tensor: PyTorch before 0.4; _rebuild_tensor_v2 (+ requires_grad, hooks, metadata): since
ALLOWED = ("collections.OrderedDict", "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2",
           *(f"torch.{name}" for name in STORAGES))
LEGACY_MAGIC, LEGACY_PROTOCOL = 0x1950A86A20F9469CFC6C, 1001
# what a malformed file makes the unpickler or numpy raise (our own refusals pass through as they are)
_BROKEN = (pickle.UnpicklingError, EOFError, ValueError, TypeError, KeyError, IndexError, AttributeError,
           struct.error, zipfile.BadZipFile, OverflowError)


@dataclasses.dataclass(frozen=True)
class _StorageType:
    """What the pickle gets for `torch.FloatStorage` etc.: a name, nothing it could call."""
    name: str


@dataclasses.dataclass(frozen=True)
class _Tensor:
    """A tensor as the pickle describes it, filled in once the storages are read."""
    key: str
    offset: int
    size: tuple
    stride: tuple


def _rebuild_tensor(storage, offset, size, stride, *_):
    return _Tensor(storage, offset, tuple(size), tuple(stride))


class _Unpickler(pickle.Unpickler):
    """A state dict's pickle; `storages` collects key -> (numpy type, element count)."""

    def __init__(self, file, path: Path):
        super().__init__(file)
        self.path = path
        self.storages: dict[str, tuple[str, int]] = {}

    def find_class(self, module, name):
        found = f"{module}.{name}"
        if found == "collections.OrderedDict":
            return collections.OrderedDict
        if found in ("torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2"):
            return functools.partial(_rebuild_tensor)  # a fresh one: a file cannot alter what the next gets
        if module == "torch" and name in STORAGES:
            return _StorageType(name)
        raise CheckpointMismatch(f"{self.path}: its pickle asks for {found}, which is no part of a state dict; "
                                 f"refused without running it (allowed: {', '.join(ALLOWED)})",
                                 reason="refused_class", value=found, choices=ALLOWED)

    def persistent_load(self, pid):
        """('storage', type, key, location, numel[, view]) -> the key; the numbers come later."""
        if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage"
                and isinstance(pid[1], _StorageType) and isinstance(pid[2], str) and isinstance(pid[4], int)):
            raise CheckpointMismatch(f"{self.path}: its pickle refers to {str(pid)[:80]}, not to a tensor storage")
        if len(pid) == 6 and pid[5] is not None:
            raise CheckpointMismatch(f"{self.path}: storage {pid[2]} is a view of another, which state dicts "
                                     "do not use; not read")
        _, kind, key, _location, numel = pid[:5]
        if self.storages.setdefault(key, (STORAGES[kind.name], numel)) != (STORAGES[kind.name], numel):
            raise CheckpointMismatch(f"{self.path}: storage {key} is declared twice, differently")
        return key


def load_state_dict(path) -> dict[str, np.ndarray]:
    """The tensors of a .pth state dict as numpy arrays, by name (other entries are left out)."""
    path = Path(path)
    try:
        state, arrays = _read_zip(path) if zipfile.is_zipfile(path) else _read_legacy(path)
        if not isinstance(state, dict):
            raise CheckpointMismatch(f"{path} holds a {type(state).__name__}, not a state dict")
        tensors = {name: _array(path, value, arrays) for name, value in state.items() if isinstance(value, _Tensor)}
    except CheckpointMismatch as e:
        e.details.setdefault("file", str(path))
        raise
    except (*_BROKEN, OSError) as e:  # OSError: a file that cannot be read at all
        raise CheckpointMismatch(f"{path} is not a readable PyTorch state dict: {type(e).__name__}: {e}",
                                 file=str(path)) from e
    if not tensors:
        raise CheckpointMismatch(f"{path} holds no tensors", file=str(path))
    return tensors


def _read_zip(path: Path) -> tuple[object, dict[str, np.ndarray]]:
    with zipfile.ZipFile(path) as archive:
        pickles = [name for name in archive.namelist() if name.endswith("/data.pkl") and name.count("/") == 1]
        if len(pickles) != 1:
            raise CheckpointMismatch(f"{path} is a zip, but not one PyTorch checkpoint (<name>/data.pkl)")
        prefix = pickles[0].removesuffix("data.pkl")
        order = archive.read(prefix + "byteorder").decode() if prefix + "byteorder" in archive.namelist() else "little"
        unpickler = _Unpickler(io.BytesIO(archive.read(pickles[0])), path)
        state = unpickler.load()
        arrays = {key: _numbers(archive.read(f"{prefix}data/{key}"), kind, numel, order)
                  for key, (kind, numel) in unpickler.storages.items()}
    return state, arrays


def _read_legacy(path: Path) -> tuple[object, dict[str, np.ndarray]]:
    with open(path, "rb") as f:
        # every pickle in the stream goes through the same guard, the small ones too
        if _Unpickler(f, path).load() != LEGACY_MAGIC:
            raise CheckpointMismatch(f"{path} is neither a PyTorch zip checkpoint nor a legacy one (no magic number)")
        if _Unpickler(f, path).load() != LEGACY_PROTOCOL:
            raise CheckpointMismatch(f"{path}: unknown legacy PyTorch protocol version")
        system = _Unpickler(f, path).load()
        order = "little" if not isinstance(system, dict) or system.get("little_endian", True) else "big"
        unpickler = _Unpickler(f, path)
        state = unpickler.load()
        keys = _Unpickler(f, path).load()
        arrays, size = {}, path.stat().st_size
        for key in keys:
            kind, numel = unpickler.storages[key]
            (count,) = struct.unpack("<q" if order == "little" else ">q", f.read(8))
            if count != numel or f.tell() + count * np.dtype(kind).itemsize > size:
                raise CheckpointMismatch(f"{path}: storage {key} should hold {numel} elements; the file says "
                                         f"{count}, or ends before them")
            arrays[key] = _numbers(f.read(count * np.dtype(kind).itemsize), kind, count, order)
    return state, arrays


def _numbers(data: bytes, kind: str, numel: int, order: str) -> np.ndarray:
    dtype = np.dtype(kind).newbyteorder("<" if order == "little" else ">")
    return np.frombuffer(data, dtype, count=numel).astype(np.dtype(kind))


def _array(path: Path, tensor: _Tensor, arrays: dict[str, np.ndarray]) -> np.ndarray:
    """The tensor's elements, copied out of its storage; one that would reach outside it is refused."""
    data = arrays[tensor.key]
    numbers = (tensor.offset, *tensor.size, *tensor.stride)
    if not all(isinstance(n, int) and n >= 0 for n in numbers) or len(tensor.size) != len(tensor.stride):
        raise CheckpointMismatch(f"{path}: a tensor of shape {tensor.size} has a bad offset or strides")
    if 0 in tensor.size:
        return np.zeros(tensor.size, data.dtype)
    end = tensor.offset + sum((n - 1) * s for n, s in zip(tensor.size, tensor.stride)) + 1
    if end > data.size:
        raise CheckpointMismatch(f"{path}: a tensor of shape {tensor.size} reaches past the end of storage "
                                 f"{tensor.key} ({data.size} elements)")
    strides = tuple(s * data.itemsize for s in tensor.stride)
    return np.lib.stride_tricks.as_strided(data[tensor.offset:], tensor.size, strides).copy()
