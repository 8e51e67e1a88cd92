"""Training speed on this machine: CycleGAN steps per second with the full-size networks (the
paper's ResNet-9 generators, 64 filters; the TensorFlow tutorial's U-Net, 64 to 512 filters;
70×70 PatchGAN discriminators) at 128² and 256², one image pair a step as in the paper.
The first step (tracing and compiling) is timed apart; then the mean of `--steps` steps.

    python benchmarks/train.py [--steps 3] [--sizes 128 256] [--archs resnet unet]
"""
import argparse
import json
import resource
import tempfile
import time

import numpy as np

from synth.device import setup
from synth.image.train import Trainer, TrainConfig


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256])
    parser.add_argument("--archs", nargs="+", default=["resnet", "unet"])
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    results = {"device": setup()}
    for arch in args.archs:
        for size in args.sizes:
            images = [rng.integers(0, 256, (size, size, 3), dtype=np.uint8) for _ in range(4)]
            config = TrainConfig(arch=arch, size=size, steps=1 + args.steps)
            with tempfile.TemporaryDirectory() as run:
                trainer = Trainer(images, images, config, run)
                start = time.perf_counter()
                trainer.train_step()
                first = time.perf_counter() - start
                start = time.perf_counter()
                for _ in range(args.steps):
                    trainer.train_step()
                seconds = (time.perf_counter() - start) / args.steps
            parameters = sum(int(np.prod(v.shape)) for v in trainer.G.variables.values())
            results[f"{arch} {size}x{size}"] = dict(
                steps_per_second=round(1 / seconds, 3), seconds_per_step=round(seconds, 2),
                first_step_seconds=round(first, 1), generator_parameters=parameters,
                peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
            print(arch, size, results[f"{arch} {size}x{size}"], flush=True)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
