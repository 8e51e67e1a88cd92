"""Train a CycleGAN on two sets of unpaired images: the paper's recipe, as a library.

Zhu et al. 2017 and the authors' code: generators G: A->B and F: B->A, PatchGAN
discriminators D_B (a real B image, or one of G's?) and D_A, least-squares GAN loss, cycle loss
λ = 10, identity loss 0.5 λ, Adam (2e-4, β1 0.5), a 50-image pool of past fakes for the
discriminators, the learning rate constant and then decayed linearly to zero, random jitter
(resize up to 286/256 of the size, random crop back) and horizontal flips, one image a step.

Every random choice of step s (which images, crop, flip, pool swap, dropout) is drawn from
(seed, s) alone, and a checkpoint holds all the rest (weights, Adam's moments, the pool, the
loss history), so a run resumed at step s goes on exactly as the uninterrupted run would.

The run folder (RUN_DIR) is a style: G is a native generator directory at its root.
    config.json, model.safetensors   G: A->B  (`synth stylize -m RUN_DIR`)
    inverse/                         F: B->A, likewise
    samples/step_NNNNNN.png          x, G(x), F(G(x)) for an A image; y, F(y), G(F(y)) for a B one
    losses.png                       the loss curves
    train/run.json                   the TrainConfig, the step reached, the image names
    train/state.safetensors          discriminators, Adam's moments, the pools, the loss history
"""
from __future__ import annotations

import dataclasses
import json
import logging
import signal
import threading
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from PIL import Image
from safetensors.numpy import load_file, save_file

from synth.device import graph, setup, tf
from synth.errors import ConfigError, ImageError
from synth.image import io
from synth.image.discriminator import PatchDiscriminator, PatchDiscriminatorConfig, receptive_field
from synth.image.generator import Generator, GeneratorConfig
from synth.image.loaders import load_native
from synth.image.network import GeneratorBase, Layout
from synth.image.unet import UNetConfig, UNetGenerator

log = logging.getLogger(__name__)

ARCHS = ("resnet", "unet")
JITTER = 286 / 256  # resize up by this, then crop back: the authors' 286 -> 256
LOSSES = ("G", "F", "cycle_A", "cycle_B", "identity_A", "identity_B", "D_A", "D_B")
RUN_FILE, STATE_FILE = "train/run.json", "train/state.safetensors"


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    arch: str = "resnet"          # generator family: resnet (the paper's) or unet (the TF tutorial's)
    size: int = 256               # training crops are size × size
    steps: int = 200_000          # one image pair a step; epochs_to_steps converts
    ngf: int = 64                 # generator width
    blocks: int = 9               # ResNet residual blocks
    ndf: int = 64                 # discriminator width
    d_layers: int | None = None   # PatchGAN stride-2 convs; None: 3 (70×70 patches) or fewer for small sizes
    lr: float = 2e-4
    beta1: float = 0.5
    decay_from: int | None = None  # the step where the learning rate starts falling; None: half-way
    lambda_cycle: float = 10.0
    lambda_identity: float = 0.5   # × lambda_cycle
    pool_size: int = 50
    seed: int = 0

    def __post_init__(self):
        if self.arch not in ARCHS:
            raise ConfigError(f"arch {self.arch!r}: expected one of {', '.join(ARCHS)}", reason="bad_value",
                              value=self.arch, choices=ARCHS)
        if self.size < 16 or self.size % 4:
            raise ConfigError(f"size {self.size}: must be a multiple of 4, at least 16", reason="bad_value",
                              value=self.size)
        if min(self.steps, self.ngf, self.ndf) < 1 or min(self.blocks, self.pool_size, self.seed) < 0:
            raise ConfigError(f"steps, ngf, ndf must be >= 1 and blocks, pool_size, seed >= 0; got steps={self.steps}, "
                              f"ngf={self.ngf}, ndf={self.ndf}, blocks={self.blocks}, pool_size={self.pool_size}, "
                              f"seed={self.seed}", reason="bad_value")
        if self.decay_from is not None and not 0 <= self.decay_from <= self.steps:
            raise ConfigError(f"decay_from {self.decay_from}: must be from 0 to steps ({self.steps})",
                              reason="bad_value", value=self.decay_from)

    @property
    def discriminator_layers(self) -> int:
        """The paper's 3 (70×70), or the most whose patch still fits in the image (2: 34, 1: 16)."""
        if self.d_layers is not None:
            return self.d_layers
        return max([n for n in (1, 2, 3) if receptive_field(n) <= self.size], default=1)

    @property
    def unet_levels(self) -> int:
        """The tutorial's 8, or fewer so that the size is a multiple of 2**levels (64 -> 6)."""
        return min(8, (self.size & -self.size).bit_length() - 1)

    def learning_rate(self, step: int) -> float:
        """Constant, then linearly down towards 0 (the authors' schedule, per step rather than per epoch)."""
        start = self.steps // 2 if self.decay_from is None else self.decay_from
        return self.lr * (1.0 - max(0, step + 1 - start) / (self.steps - start + 1))

    def generator(self) -> GeneratorBase:
        if self.arch == "unet":
            return UNetGenerator(UNetConfig(filters=self.ngf, max_filters=8 * self.ngf, levels=self.unet_levels))
        # the authors' ResnetGenerator, so that a trained model is the same network as theirs
        return Generator(GeneratorConfig(filters=self.ngf, n_blocks=self.blocks, norm_epsilon=1e-5,
                                         norm_affine=False, conv_bias=True, stride_padding="torch"))


def epochs_to_steps(epochs: int, a_count: int, b_count: int) -> int:
    """An epoch is a pass over the larger set, as in the authors' unaligned dataset."""
    return epochs * max(a_count, b_count)


@dataclasses.dataclass
class Progress:
    """What a callback sees every `every` steps."""
    step: int                   # steps done
    steps: int                  # of this many
    losses: dict[str, float]    # means over the steps since the last callback
    elapsed: float              # seconds in this call to train()
    grid: Image.Image           # the sample grid (also saved as samples/step_NNNNNN.png)
    run_dir: Path


def initial_weights(layout: Layout, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The authors' init: kernels N(0, 0.02), biases 0; norm gains N(1, 0.02), offsets 0."""
    weights = {}
    for name, shape in layout:
        if name.endswith("kernel"):
            weights[name] = rng.normal(0.0, 0.02, shape)
        elif name.endswith("gamma"):
            weights[name] = rng.normal(1.0, 0.02, shape)
        else:
            weights[name] = np.zeros(shape)
    return {name: value.astype(np.float32) for name, value in weights.items()}


class Domain:
    """One set of images, resized once to the jitter size (a square, the aspect not kept: the
    authors' resize_and_crop); a crop and a flip drawn per step."""

    def __init__(self, name: str, images: Sequence, size: int):
        self.name, self.size = name, size
        self.load_size = round(size * JITTER)
        arrays, self.names, skipped = [], [], []
        for image in images:
            try:
                rgb = Image.fromarray(io.load_image(image, max_side=4 * self.load_size))
            except ImageError as e:
                skipped.append(f"{image}: {e}")
                continue
            arrays.append(np.asarray(rgb.resize((self.load_size, self.load_size), Image.Resampling.BICUBIC)))
            self.names.append(Path(image).name if isinstance(image, (str, Path)) else f"image {len(self.names)}")
        if skipped:
            log.warning("domain %s: skipped %d image(s): %s", name, len(skipped), "; ".join(skipped))
        if not arrays:
            raise ImageError(f"domain {name}: no usable images", reason="no_images", domain=name)
        self.images = np.stack(arrays)

    def __len__(self):
        return len(self.images)

    def crop(self, index: int, rng: np.random.Generator) -> np.ndarray:
        """Image `index`, randomly cropped to size × size and maybe flipped, in [-1, 1]."""
        top, left = rng.integers(0, self.load_size - self.size + 1, size=2)
        pixels = self.images[index, top:top + self.size, left:left + self.size]
        if rng.random() < 0.5:
            pixels = pixels[:, ::-1]
        return pixels.astype(np.float32) / 127.5 - 1.0

    def sample(self) -> np.ndarray:
        """The first image, whole, at the training size: the one the sample grids show."""
        image = Image.fromarray(self.images[0]).resize((self.size, self.size), Image.Resampling.BICUBIC)
        return np.asarray(image, np.float32) / 127.5 - 1.0


class ImagePool:
    """Past fakes the discriminator sees instead of the newest, half of the time once full."""

    def __init__(self, capacity: int, size: int):
        self.images = np.zeros((capacity, size, size, 3), np.float32)
        self.count = 0

    def query(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if len(self.images) == 0:
            return image
        if self.count < len(self.images):
            self.images[self.count] = image
            self.count += 1
            return image
        if rng.random() < 0.5:
            return image
        index = rng.integers(len(self.images))
        older = self.images[index].copy()
        self.images[index] = image
        return older


class Adam:
    """Adam as PyTorch computes it (epsilon 1e-8 added to the square root), its state in variables
    that a checkpoint can hold."""

    def __init__(self, variables: dict[str, tf.Variable], beta1: float, beta2: float = 0.999, epsilon: float = 1e-8):
        self.variables, self.beta1, self.beta2, self.epsilon = variables, beta1, beta2, epsilon
        self.m = {name: tf.Variable(tf.zeros_like(v), trainable=False) for name, v in variables.items()}
        self.v = {name: tf.Variable(tf.zeros_like(v), trainable=False) for name, v in variables.items()}
        self.t = tf.Variable(0.0, trainable=False)

    def apply(self, gradients: dict[str, tf.Tensor], lr) -> None:
        self.t.assign_add(1.0)
        step = lr * tf.sqrt(1.0 - self.beta2 ** self.t) / (1.0 - self.beta1 ** self.t)
        for name, variable in self.variables.items():
            g = gradients[name]
            m = self.m[name].assign(self.beta1 * self.m[name] + (1.0 - self.beta1) * g)
            v = self.v[name].assign(self.beta2 * self.v[name] + (1.0 - self.beta2) * tf.square(g))
            # PyTorch: m̂ / (sqrt(v̂) + eps) = m / bias1 / (sqrt(v) / sqrt(bias2) + eps)
            variable.assign_sub(step * m / (tf.sqrt(v) + self.epsilon * tf.sqrt(1.0 - self.beta2 ** self.t)))

    def state(self, prefix: str) -> dict[str, np.ndarray]:
        arrays = {f"{prefix}/t": np.array([self.t.numpy()], np.float32)}
        for name in self.variables:
            arrays[f"{prefix}/m/{name}"], arrays[f"{prefix}/v/{name}"] = self.m[name].numpy(), self.v[name].numpy()
        return arrays

    def restore(self, prefix: str, arrays: dict[str, np.ndarray]) -> None:
        self.t.assign(float(arrays[f"{prefix}/t"][0]))
        for name in self.variables:
            self.m[name].assign(arrays[f"{prefix}/m/{name}"])
            self.v[name].assign(arrays[f"{prefix}/v/{name}"])


def _mse(x, target: float):
    return tf.reduce_mean(tf.square(x - target))


def _l1(x, y):
    return tf.reduce_mean(tf.abs(x - y))


class Trainer:
    """A CycleGAN training run in `run_dir`. `Trainer(a, b, config, run_dir).train()` starts one;
    `Trainer.resume(run_dir, a, b)` continues one. Images: anything io.load_image takes."""

    def __init__(self, a_images: Sequence, b_images: Sequence, config: TrainConfig, run_dir):
        setup()  # GPU memory growth, when there is a GPU
        self.config, self.run_dir, self.step = config, Path(run_dir), 0
        self.domains = {"A": Domain("A", a_images, config.size), "B": Domain("B", b_images, config.size)}
        self.G, self.F = config.generator(), config.generator()
        self.G.engine = self.F.engine = "tensorflow"  # their weights change at every step: no export
        self.D = PatchDiscriminator(PatchDiscriminatorConfig(config.ndf, config.discriminator_layers))  # D_A, D_B
        for k, generator in enumerate((self.G, self.F)):
            generator.set_weights(initial_weights(generator.weight_layout(), np.random.default_rng([config.seed, k])))
        self.d_weights = {
            domain: {name: tf.Variable(value) for name, value in initial_weights(
                self.D.weight_layout(), np.random.default_rng([config.seed, 2 + k])).items()}
            for k, domain in enumerate("AB")}
        self.g_variables = {**{"G/" + n: v for n, v in self.G.variables.items()},
                            **{"F/" + n: v for n, v in self.F.variables.items()}}
        self.d_variables = {f"D_{d}/{n}": v for d, weights in self.d_weights.items() for n, v in weights.items()}
        self.adam_g = Adam(self.g_variables, config.beta1)
        self.adam_d = Adam(self.d_variables, config.beta1)
        self.pools = {d: ImagePool(config.pool_size, config.size) for d in "AB"}
        self._losses = np.zeros((config.steps, len(LOSSES)), np.float32)  # a row a step
        self._lr = tf.Variable(config.lr, trainable=False)
        spec = tf.TensorSpec([1, config.size, config.size, 3], tf.float32)
        self._generator_step = graph(self._generators, input_signature=[spec, spec, tf.TensorSpec([2], tf.int32)])
        self._discriminator_step = graph(self._discriminators, input_signature=[spec] * 4)

    # -- one step ---------------------------------------------------------------------
    def _generators(self, real_a, real_b, seed):
        c = self.config
        seeds = [tf.random.experimental.stateless_fold_in(seed, k) for k in range(6)]  # U-Net dropout
        G = lambda x, k: self.G.forward(self.G.variables, x, training=True, seed=seeds[k])
        F = lambda x, k: self.F.forward(self.F.variables, x, training=True, seed=seeds[k])
        with tf.GradientTape() as tape:
            fake_b, fake_a = G(real_a, 0), F(real_b, 1)
            losses = {
                "G": _mse(self.D.forward(self.d_weights["B"], fake_b), 1.0),
                "F": _mse(self.D.forward(self.d_weights["A"], fake_a), 1.0),
                "cycle_A": _l1(F(fake_b, 2), real_a),
                "cycle_B": _l1(G(fake_a, 3), real_b),
                "identity_A": _l1(F(real_a, 4), real_a),   # F leaves an A image alone
                "identity_B": _l1(G(real_b, 5), real_b),   # G leaves a B image alone
            }
            total = (losses["G"] + losses["F"] + c.lambda_cycle * (losses["cycle_A"] + losses["cycle_B"])
                     + c.lambda_cycle * c.lambda_identity * (losses["identity_A"] + losses["identity_B"]))
        names = list(self.g_variables)
        gradients = tape.gradient(total, [self.g_variables[n] for n in names])
        self.adam_g.apply(dict(zip(names, gradients)), self._lr)
        return fake_a, fake_b, losses

    def _discriminators(self, real_a, real_b, fake_a, fake_b):
        with tf.GradientTape() as tape:
            losses = {
                "D_A": 0.5 * (_mse(self.D.forward(self.d_weights["A"], real_a), 1.0)
                              + _mse(self.D.forward(self.d_weights["A"], fake_a), 0.0)),
                "D_B": 0.5 * (_mse(self.D.forward(self.d_weights["B"], real_b), 1.0)
                              + _mse(self.D.forward(self.d_weights["B"], fake_b), 0.0)),
            }
            total = losses["D_A"] + losses["D_B"]
        names = list(self.d_variables)
        gradients = tape.gradient(total, [self.d_variables[n] for n in names])
        self.adam_d.apply(dict(zip(names, gradients)), self._lr)
        return losses

    def draw(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        """Step `step`'s A and B crops: A in a fresh shuffle each epoch, B at random (unpaired)."""
        a, b = self.domains["A"], self.domains["B"]
        epoch, index = divmod(step, len(a))
        order = np.random.default_rng([self.config.seed, epoch, 0]).permutation(len(a))
        rng = np.random.default_rng([self.config.seed, step, 1])
        b_index = int(rng.integers(len(b)))
        return a.crop(int(order[index]), rng)[None], b.crop(b_index, rng)[None]

    def train_step(self) -> dict[str, float]:
        """One step of the recipe: G and F, then D_A and D_B on fakes from the pools."""
        self._lr.assign(self.config.learning_rate(self.step))
        real_a, real_b = self.draw(self.step)
        seed = tf.constant([self.config.seed % 2 ** 31, self.step % 2 ** 31], tf.int32)
        fake_a, fake_b, losses = self._generator_step(tf.constant(real_a), tf.constant(real_b), seed)
        rng = np.random.default_rng([self.config.seed, self.step, 2])
        pooled_a = self.pools["A"].query(fake_a.numpy()[0], rng)[None]
        pooled_b = self.pools["B"].query(fake_b.numpy()[0], rng)[None]
        losses.update(self._discriminator_step(tf.constant(real_a), tf.constant(real_b),
                                               tf.constant(pooled_a), tf.constant(pooled_b)))
        values = {name: float(losses[name]) for name in LOSSES}
        self._losses[self.step] = [values[name] for name in LOSSES]
        self.step += 1
        return values

    @property
    def history(self) -> np.ndarray:
        """(steps done, len(LOSSES)): every step's losses, in LOSSES order."""
        return self._losses[:self.step]

    # -- the loop ---------------------------------------------------------------------
    def train(self, steps: int | None = None, minutes: float | None = None, every: int | None = None,
              callback: Callable[[Progress], bool | None] | None = None, progress: bool = True) -> int:
        """Train until step `steps` (default: the config's), or for `minutes`, whichever comes
        first. Every `every` steps and at the end: a sample grid, the loss curves and a
        checkpoint, then `callback(Progress)` (returning False stops). Ctrl-C (in the main
        thread) finishes the step, saves, then raises KeyboardInterrupt; a second one stops at
        once. Returns the step reached."""
        from tqdm import tqdm

        steps = self.config.steps if steps is None else min(steps, self.config.steps)
        start, last = time.monotonic(), self.step
        interrupted = []

        def on_interrupt(signum, frame):
            interrupted.append(signum)
            signal.signal(signal.SIGINT, previous or signal.default_int_handler)

        main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, on_interrupt) if main_thread else None
        bar = tqdm(total=self.config.steps, initial=self.step, unit="step", disable=not progress, dynamic_ncols=True)
        try:
            while self.step < steps:
                if interrupted:
                    self._report(last, start, None)
                    raise KeyboardInterrupt
                values = self.train_step()
                bar.update(1)
                bar.set_postfix({"G": values["G"], "F": values["F"], "cycle": values["cycle_A"] + values["cycle_B"],
                                 "D": values["D_A"] + values["D_B"]}, refresh=False)
                timed_out = minutes is not None and time.monotonic() - start >= 60 * minutes
                if (every and self.step % every == 0) or self.step == steps or timed_out:
                    stop = self._report(last, start, callback) is False
                    last = self.step
                    if stop or timed_out:
                        break
        finally:
            bar.close()
            if main_thread:
                signal.signal(signal.SIGINT, previous or signal.default_int_handler)
        return self.step

    def _report(self, since: int, start: float, callback) -> bool | None:
        self.save()
        grid = self.sample_grid()
        (self.run_dir / "samples").mkdir(parents=True, exist_ok=True)
        grid.save(self.run_dir / "samples" / f"step_{self.step:06d}.png")
        self.plot_losses(self.run_dir / "losses.png")
        if callback is None:
            return None
        means = dict(zip(LOSSES, self.history[since:].mean(axis=0).tolist())) if self.step > since else {}
        return callback(Progress(self.step, self.config.steps, means, time.monotonic() - start, grid, self.run_dir))

    # -- what a run shows -------------------------------------------------------------
    def sample_grid(self) -> Image.Image:
        """Top row: an A image x, G(x), F(G(x)); bottom: a B image y, F(y), G(F(y))."""
        rows = []
        for domain, there, back in (("A", self.G, self.F), ("B", self.F, self.G)):
            x = self.domains[domain].sample()[None]
            y = there.infer(x)
            rows.append(np.concatenate([x[0], y[0], back.infer(y)[0]], axis=1))
        pixels = np.clip((np.concatenate(rows, axis=0) + 1.0) * 127.5 + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(pixels, "RGB")

    def plot_losses(self, path: Path) -> None:
        """The loss curves, smoothed over about 1/50 of the run (matplotlib's Agg: no display)."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        figure = Figure(figsize=(8, 4.5), dpi=100)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        window = max(1, len(self.history) // 50)
        kernel = np.ones(window) / window
        columns = {name: self.history[:, i] for i, name in enumerate(LOSSES)}
        for label, curve in (("G + F (GAN)", columns["G"] + columns["F"]),
                             ("cycle A + B (L1)", columns["cycle_A"] + columns["cycle_B"]),
                             ("identity A + B (L1)", columns["identity_A"] + columns["identity_B"]),
                             ("D_A + D_B", columns["D_A"] + columns["D_B"])):
            if len(curve) >= window:
                axes.plot(np.arange(window, len(curve) + 1), np.convolve(curve, kernel, "valid"), label=label)
        axes.set_xlabel("step")
        axes.set_ylabel(f"loss (mean of {window} steps)")
        axes.legend()
        figure.tight_layout()
        figure.savefig(path)

    # -- checkpoints ------------------------------------------------------------------
    def save(self) -> None:
        """G at the run folder's root, F in inverse/, the rest in train/ (see the module doc)."""
        self.G.save_pretrained(self.run_dir)
        self.F.save_pretrained(self.run_dir / "inverse")
        arrays = {**self.adam_g.state("adam_G"), **self.adam_d.state("adam_D"),
                  **{name: v.numpy() for name, v in self.d_variables.items()},
                  "history": self.history}
        for domain, pool in self.pools.items():
            arrays[f"pool_{domain}"] = pool.images[:pool.count].copy()
        (self.run_dir / "train").mkdir(parents=True, exist_ok=True)
        save_file(arrays, str(self.run_dir / STATE_FILE))
        run = {"step": self.step, "config": dataclasses.asdict(self.config),
               "images": {d: domain.names for d, domain in self.domains.items()}}
        (self.run_dir / RUN_FILE).write_text(json.dumps(run, indent=1))

    @staticmethod
    def saved_step(run_dir) -> int | None:
        """The step a run folder's checkpoint reached, or None if it holds none."""
        path = Path(run_dir) / RUN_FILE
        return json.loads(path.read_text())["step"] if path.is_file() else None

    @classmethod
    def resume(cls, run_dir, a_images: Sequence, b_images: Sequence, steps: int | None = None) -> "Trainer":
        """The run saved in `run_dir`, at its step; `steps` moves its end (and so the decay)."""
        run_dir = Path(run_dir)
        if cls.saved_step(run_dir) is None:
            raise ConfigError(f"{run_dir} holds no training run ({RUN_FILE} is missing)", reason="no_run")
        run = json.loads((run_dir / RUN_FILE).read_text())
        if steps is not None and steps < run["step"]:
            raise ConfigError(f"steps {steps}: the run in {run_dir} is already at step {run['step']}",
                              reason="bad_value", value=steps)
        fields = run["config"] if steps is None else {**run["config"], "steps": steps}
        trainer = cls(a_images, b_images, TrainConfig(**fields), run_dir)
        for domain, saved in run["images"].items():
            if trainer.domains[domain].names != saved:
                log.warning("domain %s: not the images the run started with (%d then, %d now): the data order "
                            "differs from an uninterrupted run", domain, len(saved), len(trainer.domains[domain]))
        trainer.G.set_weights(load_native(run_dir).get_weights())
        trainer.F.set_weights(load_native(run_dir / "inverse").get_weights())
        arrays = load_file(str(run_dir / STATE_FILE))
        for name, variable in trainer.d_variables.items():
            variable.assign(arrays[name])
        trainer.adam_g.restore("adam_G", arrays)
        trainer.adam_d.restore("adam_D", arrays)
        for domain, pool in trainer.pools.items():
            saved = arrays[f"pool_{domain}"]
            pool.images[:len(saved)], pool.count = saved, len(saved)
        trainer.step = run["step"]
        trainer._losses[:trainer.step] = arrays["history"]
        return trainer

