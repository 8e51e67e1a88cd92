"""Which engine runs a network's graph: TensorFlow, or LiteRT, the CPU runtime made for it.

On a 2-core CPU, synth's TensorFlow graphs run exactly as fast as the legacy stack's, while
the same graphs converted by TensorFlow's own converter and run by LiteRT's interpreter
(XNNPACK) run faster (benchmarks/README.md has the comparison with ONNX Runtime that chose
it). So each graph is exported once to a .tflite file and run from there; TensorFlow stays
the reference for parity, the GPU path, and the fallback.

`SYNTH_ENGINE`: `auto` (the default: on a CPU, each network on the engine measured faster
for it, its `CPU_ENGINE`; TensorFlow where the NVIDIA driver sees a GPU), `litert`, or
`tensorflow` (every network on that engine).

`SYNTH_PRECISION`: the weights LiteRT runs with: `auto` (the default: each network's
`CPU_PRECISION`, int8 only where its quality was measured to hold: README's "Engines"),
`fp32`, or `int8` (dynamic-range int8 weights, per channel; activations stay float). The
TensorFlow engine always runs fp32. A network's own `engine` and `precision`, set before it
first runs, win over both settings.

An export is kept in $HF_HOME/synth-litert/ (beside the Hugging Face cache, never in it,
as the converted generators are), named by a digest of everything it was made from: the
traced graph, the weights, the precision, and the TensorFlow and LiteRT versions. A new
model revision, a change to a graph or an upgrade is therefore a new file, made on first
use; a stale one is never read, and goes when a new export is made once nothing has used it
for UNUSED_DAYS. A kept file that will not load is made again; an export that fails, or a
file just made that will not load, leaves that network on TensorFlow with one log line.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import logging
import os
import re
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

import numpy as np
from huggingface_hub import constants

from synth import device
from synth.errors import OptionError

log = logging.getLogger(__name__)
ENGINES = ("auto", "litert", "tensorflow")
PRECISIONS = ("auto", "fp32", "int8")
# Each network's engine and precision on a CPU under `auto`, as measured on a 2-core CPU
# (benchmarks/README.md: speed; README's "Engines": where int8 keeps the quality). The model
# classes read their row; the page's device line is made from the table before any loads.
CPU_DEFAULTS: dict[str, tuple[str, str]] = {
    "Tacotron2": ("litert", "int8"),  # its decoder step
    "FastSpeech2": ("litert", "int8"),  # int8 in its decoder only: its encoder stays fp32
    "MultiBandMelGAN": ("litert", "fp32"),  # int8: audio SNR ~31 dB against fp32
    "Generator": ("litert", "int8"),  # CycleGAN's ResNet; its last layer stays fp32 (image/network.py)
    "UNetGenerator": ("litert", "int8"),  # the TF tutorial's U-Net: 5x TensorFlow's speed, >= 46.9 dB
}
EXPORTS = "synth-litert"  # in HF_HOME
# An export nobody has used for this long is removed when a new one is made: after an upgrade
# or a new revision, the old files (~100 MB for a voice) would otherwise stay for good.
UNUSED_DAYS = 30
# threads per interpreter: the cores this process may use
THREADS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def setting(variable: str = "SYNTH_ENGINE") -> str:
    """What SYNTH_ENGINE ('auto', 'litert' or 'tensorflow') or SYNTH_PRECISION ('auto',
    'fp32' or 'int8') asks for."""
    choices, what = (ENGINES, "an engine") if variable == "SYNTH_ENGINE" else (PRECISIONS, "a precision")
    wanted = os.environ.get(variable, "auto").strip().lower() or "auto"
    if wanted not in choices:
        raise OptionError(f"{variable}={wanted!r} is not {what}: choose one of {', '.join(choices)}",
                          reason=variable.removeprefix("SYNTH_").lower(), value=wanted, choices=choices)
    return wanted


def engine(cpu_engine: str) -> str:
    """The engine for a network whose faster engine on a CPU is `cpu_engine`: SYNTH_ENGINE's,
    `auto` resolved ('litert' or 'tensorflow')."""
    wanted = setting()
    if wanted == "auto":
        return "tensorflow" if device.gpu_names() or _litert_version() is None else cpu_engine
    return wanted


def precision(cpu_precision: str) -> str:
    """The precision LiteRT runs a network with whose default on a CPU is `cpu_precision`:
    SYNTH_PRECISION's, `auto` resolved ('fp32' or 'int8')."""
    wanted = setting("SYNTH_PRECISION")
    return cpu_precision if wanted == "auto" else wanted


def asked_precision(value: str | None) -> str | None:
    """A precision a caller asked for by name ('fp32' or 'int8'), checked; None leaves it to
    SYNTH_PRECISION."""
    choices = PRECISIONS[1:]
    if value is not None and value not in choices:
        raise OptionError(f"precision {value!r} is not one of {', '.join(choices)}", reason="precision",
                          value=value, choices=choices)
    return value


NAMES = {"litert": "LiteRT", "tensorflow": "TensorFlow"}
# A part of a network that runs otherwise than the rest (its `apart()`): what it is, its
# engine and its weights, e.g. ("encoder", "litert", "fp32") beside an int8 decoder.
Part = tuple[str, str, str]


def kept_fp32(what: str, engine: str | None, precision: str | None) -> Part | None:
    """The part `what` of a network that keeps fp32 weights while the rest runs int8 on
    LiteRT (its `apart()`); None otherwise."""
    return (what, "litert", "fp32") if (engine, precision) == ("litert", "int8") else None


def said(engine: str, precision: str, part: Part | None, part_name: Callable[[str], str] = str) -> str:
    """A network's engine and weights for a person, with its part apart: 'LiteRT int8 (encoder:
    LiteRT fp32)'; `part_name` words the part (the page, in the visitor's language)."""
    text = f"{NAMES[engine]} {precision}"
    if part:
        what, part_engine, part_precision = part
        text += f" ({part_name(what)}: {NAMES[part_engine]} {part_precision})"
    return text


def described(ran: dict[str, set[tuple[str, str]]] | None = None) -> str:
    """The engines and weights the networks run with, for a person: 'TensorFlow, fp32',
    'LiteRT, int8', 'TensorFlow + LiteRT, fp32 + int8'... `ran`: for a network family
    (a CPU_DEFAULTS key) that has run, the (engine, weights) its networks and their parts
    apart actually ran with; the others are described as the settings will run them."""
    used = set()
    for family, (cpu_engine, cpu_precision) in CPU_DEFAULTS.items():
        if ran and family in ran:
            used |= ran[family]
            continue
        chosen = engine(cpu_engine)
        used.add((chosen, precision(cpu_precision) if chosen == "litert" else "fp32"))
    return (" + ".join(NAMES[e] for e in sorted({e for e, _ in used}, reverse=True)) + ", "
            + " + ".join(sorted({p for _, p in used})))


@functools.cache
def _litert_version() -> str | None:
    try:
        return importlib.metadata.version("ai-edge-litert")
    except importlib.metadata.PackageNotFoundError:
        return None


Graph = Callable[..., list[np.ndarray]]  # numpy arrays in, the graph's outputs (flattened) out


_exporting = threading.Lock()  # one export at a time: two first requests make one file


def runner(function, weights: dict, name: str, network, fp32: bool = False) -> tuple[Graph, str, str]:
    """`function` (a tf.function with an input signature, over the `weights` variables it
    captured) on the engine and at the precision `network` runs with: its own `engine` and
    `precision` if set, else the settings' for its `CPU_ENGINE` and `CPU_PRECISION`; `fp32`:
    fp32 weights whatever the network's (a part of it that int8 would hurt). Returns the
    callable, the engine and the precision. `name` says, in the log and the file name, which
    graph it is."""
    if (network.engine or engine(network.CPU_ENGINE)) == "litert":
        weights_in = "fp32" if fp32 else network.precision or precision(network.CPU_PRECISION)
        try:
            with _exporting:
                return _loaded(function, weights, name, weights_in), "litert", weights_in
        except Exception as e:  # any failure to convert or load: this network stays on TensorFlow
            log.warning("%s: LiteRT export failed (%s: %s); running it on TensorFlow", name, type(e).__name__,
                        str(e).strip().splitlines()[-1][:300] if str(e).strip() else "")
    return TensorflowGraph(function), "tensorflow", "fp32"


def _loaded(function, weights: dict, name: str, precision: str) -> LiteGraph:
    """The export in LiteRT's interpreter; a kept file that will not load (damaged on disk)
    is made again, once."""
    path = export(function, weights, name, precision)
    try:
        return LiteGraph(path)
    except Exception as e:
        log.warning("%s: the kept export %s would not load (%s); making it again", name, path.name, type(e).__name__)
        path.unlink(missing_ok=True)
        return LiteGraph(export(function, weights, name, precision))


class TensorflowGraph:
    """The tf.function itself, numpy in and out."""

    def __init__(self, function):
        self._function = function

    def __call__(self, *arrays) -> list[np.ndarray]:
        tf = device.tf
        outputs = self._function(*(tf.constant(a) for a in arrays))
        return [t.numpy() for t in tf.nest.flatten(outputs)]


class LiteGraph:
    """An exported graph in LiteRT's interpreter. One interpreter per graph, one call at a
    time (an interpreter is not thread-safe; each call uses every core); its inputs are
    resized whenever a call's shapes differ from the last."""

    def __init__(self, path: Path):
        from ai_edge_litert.interpreter import Interpreter

        self.path = path
        self._interpreter = Interpreter(model_path=str(path), num_threads=THREADS)
        # inputs in the function's argument order (the converter names them after the
        # arguments: "args_0", ...); outputs in their flattened order ("Identity", "Identity_1", ...)
        self._inputs = sorted(self._interpreter.get_input_details(), key=lambda d: _order(d["name"]))
        self._outputs = sorted(self._interpreter.get_output_details(), key=lambda d: _order(d["name"]))
        self._shapes: list[tuple] | None = None
        self._lock = threading.Lock()

    def __call__(self, *arrays) -> list[np.ndarray]:
        arrays = [np.asarray(a, d["dtype"]) for a, d in zip(arrays, self._inputs, strict=True)]
        shapes = [a.shape for a in arrays]
        with self._lock:
            interpreter = self._interpreter
            if shapes != self._shapes:
                for detail, shape in zip(self._inputs, shapes):
                    interpreter.resize_tensor_input(detail["index"], shape, strict=True)
                if self._shapes is None:  # the first allocation prints a line about XNNPACK
                    with device.stderr_closed():
                        interpreter.allocate_tensors()
                else:
                    interpreter.allocate_tensors()
                self._shapes = shapes
            for detail, array in zip(self._inputs, arrays):
                interpreter.set_tensor(detail["index"], array)
            interpreter.invoke()
            return [interpreter.get_tensor(d["index"]) for d in self._outputs]


def _order(name: str) -> int:
    """The position in a converted graph's tensor name: 'args_2' -> 2, 'Identity_1' -> 1, 'mel' -> 0."""
    found = re.search(r"_(\d+)(?::\d+)?$", name)
    return int(found.group(1)) if found else 0


def export(function, weights: dict, name: str, precision: str = "fp32") -> Path:
    """The .tflite file of `function` with `weights` (made now if there is none for what it
    is made of)."""
    tf = device.tf
    concrete = function.get_concrete_function()
    digest = hashlib.sha256()
    for part in (tf.__version__, _litert_version() or "", precision,
                 concrete.graph.as_graph_def().SerializeToString(deterministic=True)):
        digest.update(part if isinstance(part, bytes) else part.encode())
    for weight in sorted(weights):
        digest.update(weight.encode())
        digest.update(np.ascontiguousarray(weights[weight].numpy()).tobytes())
    path = Path(constants.HF_HOME) / EXPORTS / f"{_safe(name)}-{precision}-{digest.hexdigest()[:20]}.tflite"
    if path.is_file():
        _mark_used(path)
        return path
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], function)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]  # LiteRT runs no TensorFlow ops
    if precision == "int8":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]  # dynamic-range int8 weights
    data = converter.convert()
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".part", delete=False) as part:
        part.write(data)
    os.replace(part.name, path)  # whole or absent: a reader never sees half a file
    log.info("%s exported for LiteRT (%.1f MB): %s", name, len(data) / 1e6, path)
    _remove_unused(path.parent)
    return path


def _mark_used(path: Path) -> None:
    """An export's modification time is when it was last used (a read-only cache keeps it)."""
    with contextlib.suppress(OSError):
        os.utime(path)


def _remove_unused(folder: Path) -> None:
    """Exports (and parts of exports a crash left) not used for UNUSED_DAYS."""
    oldest = time.time() - UNUSED_DAYS * 86400
    for file in [*folder.glob("*.tflite"), *folder.glob("*.part")]:
        with contextlib.suppress(OSError):  # gone already, or not ours to remove
            if file.stat().st_mtime < oldest:
                file.unlink()
                log.info("removed %s: unused for %d days", file.name, UNUSED_DAYS)


def reflect_by_slices(x, amount: int, axes: tuple[int, ...] = (1,)):
    """tf.pad(x, ..., "REFLECT") by `amount` along each of `axes`, in the slices and
    concatenations LiteRT's XNNPACK runs: it has no reflection padding, and each MIRROR_PAD,
    left to LiteRT's own single-threaded kernel between XNNPACK's pieces, made the ResNet
    generator take 1.5x as long in int8. A concatenation joins at most four tensors (XNNPACK's
    takes five)."""
    tf = device.tf
    for axis in axes:
        rows = lambda start, stop: x[(slice(None),) * axis + (slice(start, stop),)]
        parts = [rows(i, i + 1) for i in range(amount, 0, -1)] + [x] + [rows(-1 - i, -i) for i in range(1, amount + 1)]
        while len(parts) > 1:
            parts = [tf.concat(parts[i:i + 4], axis) if len(parts) - i > 1 else parts[i] for i in range(0, len(parts), 4)]
        x = parts[0]
    return x


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name)
