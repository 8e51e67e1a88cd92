"""`synth train`: the CycleGAN recipe learns a colour mapping between two made-up domains (the same
kinds of random shapes, drawn warm in A and cool in B), writes a run folder that loads as a style,
and a resumed run continues exactly where the uninterrupted one would be."""
import json
import types

import numpy as np
import pytest
from PIL import Image, ImageDraw

from synth import cli
from synth.errors import ConfigError
from synth.image import Generator, UNetGenerator, train
from synth.image.discriminator import PatchDiscriminator, PatchDiscriminatorConfig, receptive_field
from synth.image.train import ImagePool, Progress, Trainer, TrainConfig, epochs_to_steps

WARM = ((230, 80, 40), (240, 170, 40), (200, 40, 70))
COOL = ((40, 90, 230), (40, 200, 180), (80, 40, 200))
BACKGROUND = {WARM: (90, 60, 40), COOL: (40, 60, 90)}


def shapes(count, palette, seed, size=32):
    """`count` images of 3 random ellipses and rectangles; the same seed draws the same shapes."""
    rng = np.random.default_rng(seed)
    images = []
    for _ in range(count):
        image = Image.new("RGB", (size, size), BACKGROUND[palette])
        draw = ImageDraw.Draw(image)
        for _ in range(3):
            (x, y), (w, h) = rng.integers(0, size - 8, 2), rng.integers(6, size // 2, 2)
            colour = palette[rng.integers(len(palette))]
            shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
            shape([int(x), int(y), int(x + w), int(y + h)], fill=colour)
        images.append(np.asarray(image))
    return images


def scaled(images):
    return np.stack(images).astype(np.float32) / 127.5 - 1.0


def mean_colour(x):
    return x.mean(axis=(0, 1, 2))


@pytest.mark.slow  # ~20 s on 2 cores: 300 steps at 32x32
def test_training_maps_warm_to_cool_and_closes_the_cycle(tmp_path):
    config = TrainConfig(size=32, steps=300, ngf=8, blocks=2, ndf=8, seed=0)
    trainer = Trainer(shapes(16, WARM, 0), shapes(16, COOL, 0), config, tmp_path / "run")
    test_a, test_b = scaled(shapes(8, WARM, 1)), scaled(shapes(8, COOL, 1))  # shapes it never saw

    def measure():
        fake_b = trainer.G.infer(test_a)
        return (np.linalg.norm(mean_colour(fake_b) - mean_colour(test_b)),
                np.abs(trainer.F.infer(fake_b) - test_a).mean())

    apart = np.linalg.norm(mean_colour(test_a) - mean_colour(test_b))  # 0.91 on the [-1, 1] scale
    _, cycle_before = measure()  # ~0.52: untrained G and F give near-flat grey
    trainer.train(every=100, progress=False)
    distance, cycle_after = measure()
    # we see G(A)'s mean colour 0.04-0.07 from B's (seeds 0-3), i.e. 13-22x closer than A was,
    # and the cycle error fall from 0.52 to 0.10-0.115 (4.5-5x): the bounds keep a margin of ~3x / 1.5x
    assert distance < 0.25 * apart
    assert cycle_after < cycle_before / 3

    run = tmp_path / "run"
    # The run folder is a style (G: A -> B) and inverse/ is F: B -> A: the same weights, run by
    # the engine in use (LiteRT on a CPU) where the trainer's run on TensorFlow; asked for fp32
    # (the CPU default is int8), they differ by rounding only (we see ~1e-6 on outputs in [-1, 1]).
    style, inverse = Generator.from_pretrained(str(run)), Generator.from_pretrained(str(run / "inverse"))
    style.precision = inverse.precision = "fp32"
    np.testing.assert_allclose(style.infer(test_a), trainer.G.infer(test_a), atol=1e-4)
    np.testing.assert_allclose(inverse.infer(test_b), trainer.F.infer(test_b), atol=1e-4)
    assert trainer.G.engine == "tensorflow"
    assert sorted(p.name for p in (run / "samples").iterdir()) == [
        "step_000100.png", "step_000200.png", "step_000300.png"]
    assert Image.open(run / "samples" / "step_000300.png").size == (3 * 32, 2 * 32)  # x, G(x), F(G(x)); y, ...
    assert Image.open(run / "losses.png").size == (800, 450)
    assert json.loads((run / "train" / "run.json").read_text())["step"] == 300


@pytest.mark.slow  # ~20 s: three U-Net trainers compile their steps
def test_resumed_run_equals_the_uninterrupted_one(tmp_path):
    """U-Net (its dropout seeded by the step), a small pool that fills and swaps: 20 steps
    straight, or 10, a checkpoint, a new process's worth of objects, 10 more."""
    a, b = shapes(6, WARM, 0), shapes(5, COOL, 0)
    config = TrainConfig(arch="unet", size=32, steps=20, ngf=4, ndf=4, pool_size=3, seed=3)
    straight = Trainer(a, b, config, tmp_path / "straight")
    straight.train(progress=False)
    first = Trainer(a, b, config, tmp_path / "resumed")
    assert first.train(steps=10, progress=False) == 10
    resumed = Trainer.resume(tmp_path / "resumed", a, b)
    assert resumed.step == 10 and resumed.pools["A"].count == 3
    assert resumed.train(progress=False) == 20
    # we see exact equality (the same ops on the same inputs in the same order); 1e-6 would allow
    # a kernel that sums in another order, far below what one training step changes (~1e-3)
    for name, value in straight.G.get_weights().items():
        np.testing.assert_allclose(resumed.G.get_weights()[name], value, rtol=0, atol=1e-6)
    for name, variable in straight.d_variables.items():
        np.testing.assert_allclose(resumed.d_variables[name].numpy(), variable.numpy(), rtol=0, atol=1e-6)
    np.testing.assert_allclose(resumed.history, straight.history, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(resumed.pools["B"].images, straight.pools["B"].images)
    assert isinstance(Generator.from_pretrained(str(tmp_path / "resumed")), UNetGenerator)


def test_callback_sees_progress_and_can_stop(tmp_path, monkeypatch):
    seen = []
    ticks = iter([100.0, 107.5])  # the training's clock: at the start, then when progress is told
    monkeypatch.setattr(train, "time", types.SimpleNamespace(monotonic=lambda: next(ticks)))  # its own only

    def callback(progress: Progress):
        seen.append(progress)
        return False  # stop

    trainer = Trainer(shapes(2, WARM, 0, 16), shapes(2, COOL, 0, 16),
                      TrainConfig(size=16, steps=50, ngf=2, blocks=0, ndf=2), tmp_path / "run")
    assert trainer.train(every=3, callback=callback, progress=False) == 3
    (progress,) = seen
    assert (progress.step, progress.steps, progress.run_dir) == (3, 50, tmp_path / "run")
    assert set(progress.losses) == {"G", "F", "cycle_A", "cycle_B", "identity_A", "identity_B", "D_A", "D_B"}
    assert progress.grid.size == (48, 32) and progress.elapsed == 7.5
    assert Trainer.saved_step(tmp_path / "run") == 3


def test_cli_trains_resumes_and_the_run_restyles(tmp_path, capsys):
    for name, palette in (("a", WARM), ("b", COOL)):
        (tmp_path / name).mkdir()
        for i, pixels in enumerate(shapes(3, palette, 0)):
            Image.fromarray(pixels).save(tmp_path / name / f"{i}.png")
    run = tmp_path / "run"
    argv = ["train", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(run), "--size", "32", "--ngf", "2",
            "--blocks", "1", "--sample-every", "2"]

    def synth(*args):
        with pytest.raises(SystemExit) as exit:
            cli.main(list(args))
        return exit.value.code

    assert synth(*argv, "--steps", "4") == 0
    assert f"{run}: step 4 of 4" in capsys.readouterr().out
    assert sorted(p.name for p in run.iterdir()) == ["config.json", "inverse", "losses.png", "model.safetensors",
                                                     "samples", "train"]
    assert synth(*argv, "--steps", "6") == 2  # not over a run without --resume
    assert "already holds a training run: pass --resume" in capsys.readouterr().err
    assert synth(*argv, "--steps", "6", "--resume") == 0  # from step 4 to 6
    assert f"{run}: step 6 of 6" in capsys.readouterr().out
    assert sorted(p.name for p in (run / "samples").iterdir()) == [
        "step_000002.png", "step_000004.png", "step_000006.png"]
    assert synth("stylize", str(tmp_path / "a" / "0.png"), "-m", str(run), "-o", str(tmp_path / "out.png")) == 0
    assert Image.open(tmp_path / "out.png").size == (32, 32)


def test_cli_usage_errors(tmp_path, capsys):
    images, empty, run = tmp_path / "images", tmp_path / "empty", tmp_path / "run"
    images.mkdir()
    empty.mkdir()
    Image.new("RGB", (8, 8)).save(images / "x.png")
    for argv, message in (
        ([str(tmp_path / "none"), str(images)], f"A_DIR {tmp_path / 'none'}: no such folder"),
        ([str(images), str(empty)], f"no images in {empty} (looked for .bmp, .gif"),
        ([str(images), str(images), "--resume"], f"--resume: {run} holds no training run to continue"),
    ):
        with pytest.raises(SystemExit) as exit:
            cli.main(["train", *argv, "--out", str(run)])
        assert exit.value.code == 2 and message in capsys.readouterr().err


def test_learning_rate_is_constant_then_falls_linearly():
    config = TrainConfig(steps=10, lr=2e-4)
    rates = [config.learning_rate(step) for step in range(10)]
    # half the run at 2e-4, then 5/6, 4/6, ... 1/6 of it: the authors' 1 - max(0, k) / (decay + 1)
    np.testing.assert_allclose(rates, [2e-4] * 5 + [2e-4 * k / 6 for k in (5, 4, 3, 2, 1)], rtol=1e-12)
    assert TrainConfig(steps=10, decay_from=0).learning_rate(0) == pytest.approx(2e-4 * 10 / 11)


def test_pool_returns_new_images_until_full_then_half_old():
    pool, rng = ImagePool(2, 1), np.random.default_rng(0)
    images = [np.full((1, 1, 3), i, np.float32) for i in range(200)]
    assert [pool.query(images[i], rng)[0, 0, 0] for i in range(2)] == [0, 1]
    returned = [pool.query(images[i], rng)[0, 0, 0] for i in range(2, 200)]
    older = sum(r != i for r, i in zip(returned, range(2, 200)))
    assert 70 < older < 128  # half of 198 swaps: 99 ± 3 sigma (sqrt(198 / 4) = 7)
    assert ImagePool(0, 1).query(images[5], rng) is images[5]


def test_patchgan_is_the_papers_70x70():
    discriminator = PatchDiscriminator()
    # the authors' NLayerDiscriminator(3, 64, n_layers=3): 2,764,737 parameters
    assert sum(np.prod(shape) for _, shape in discriminator.weight_layout()) == 2_764_737
    assert [receptive_field(n) for n in (1, 2, 3)] == [16, 34, 70]
    import tensorflow as tf

    small = PatchDiscriminator(PatchDiscriminatorConfig(filters=2))
    weights = {name: tf.zeros(shape) for name, shape in small.weight_layout()}
    assert small.forward(weights, tf.zeros([1, 256, 256, 3])).shape == (1, 30, 30, 1)


def test_config_adapts_to_small_sizes_and_refuses_bad_values():
    assert [TrainConfig(size=s).unet_levels for s in (32, 64, 96, 256, 512)] == [5, 6, 5, 8, 8]
    assert [TrainConfig(size=s).discriminator_layers for s in (32, 64, 128, 256)] == [1, 2, 3, 3]
    assert epochs_to_steps(2, 10, 7) == 20
    with pytest.raises(ConfigError, match="arch 'vgg': expected one of resnet, unet"):
        TrainConfig(arch="vgg")
    with pytest.raises(ConfigError, match="size 30: must be a multiple of 4"):
        TrainConfig(size=30)
