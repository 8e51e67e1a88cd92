"""Image speed on this machine: full-size CycleGAN ResNet generator (64 filters, 9 blocks,
random weights) at 256², 512², 1024²: best-of-3 seconds and the process's peak RSS.
Reference: the keras-io SavedModel does 256² in 0.546 s on the 2-core CPU type.

    python benchmarks/image.py
"""
import json
import resource
import time

import numpy as np

from synth.image import Generator, GeneratorConfig


def main():
    rng = np.random.default_rng(0)
    generator = Generator(GeneratorConfig())
    generator.set_weights({name: rng.normal(0, 0.05, shape).astype(np.float32)
                           for name, shape in generator.weight_layout()})
    results = {}
    for side in (256, 512, 1024):  # increasing, so the RSS high-water mark is this size's
        x = rng.uniform(-1, 1, (1, side, side, 3)).astype(np.float32)
        generator.infer(x)
        times = []
        for _ in range(3):
            start = time.perf_counter()
            generator.infer(x)
            times.append(time.perf_counter() - start)
        results[f"{side}x{side}"] = dict(seconds=round(min(times), 3),
                                         peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
