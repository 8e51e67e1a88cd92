"""Image speed and memory on this machine: the full-size CycleGAN ResNet generator (64 filters,
9 blocks) at 256², 512², 1024², and the tutorial's U-Net at 1024², random weights, each run
both ways GeneratorBase.infer can run it: the compiled whole graph ("graph") and layer by
layer over strips of rows ("strips", synth/image/strips.py). Best-of-3 seconds, and the peak
RSS of a fresh process for each (ru_maxrss is a high-water mark; TensorFlow's import and the
weights are in it: for the U-Net's 54M weights, loading alone peaks at 1.08 GB); the engine
each ran on (the graph: the CPU default, LiteRT int8 with its last layer fp32, unless
SYNTH_ENGINE / SYNTH_PRECISION say otherwise; the strips: always TensorFlow fp32); and the
largest difference between the two outputs. With `SYNTH_ENGINE=tensorflow` that difference is
the strips' own (README: within 1e-5); on LiteRT int8 it is mostly int8's.
Reference: the keras-io SavedModel does 256² in 0.546 s on the 2-core CPU type.

    [SYNTH_ENGINE=tensorflow] python benchmarks/image.py
"""
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CASES = [("resnet", 256), ("resnet", 512), ("resnet", 1024), ("unet", 1024)]
WAYS = {"graph": float("inf"), "strips": 0}  # strips.THRESHOLD for each


def measure(family: str, side: int, way: str, output: str) -> dict:
    """One case, one way; its output saved to `output` (.npy) for the comparison."""
    from synth.image import Generator, UNetGenerator, strips

    strips.THRESHOLD = WAYS[way]
    rng = np.random.default_rng(0)
    generator = {"resnet": Generator, "unet": UNetGenerator}[family]()
    generator.set_weights({name: rng.normal(0, 0.05, shape).astype(np.float32)
                           for name, shape in generator.weight_layout()})
    x = rng.uniform(-1, 1, (1, side, side, 3)).astype(np.float32)
    np.save(output, generator.infer(x))
    times = []
    for _ in range(3):
        start = time.perf_counter()
        generator.infer(x)
        times.append(time.perf_counter() - start)
    engine = f"{generator.engine} {generator.precision}" if way == "graph" else "tensorflow fp32"
    return dict(seconds=round(min(times), 3), engine=engine,
                peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def main():
    if len(sys.argv) == 5:  # one measurement, in this fresh process
        print(json.dumps(measure(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4])))
        return
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for family, side in CASES:
            case = f"{family} {side}x{side}"
            for way in WAYS:
                run = subprocess.run([sys.executable, __file__, family, str(side), way, str(Path(folder) / f"{way}.npy")],
                                     capture_output=True, text=True, check=True)
                results[f"{case} {way}"] = json.loads(run.stdout.splitlines()[-1])
            graph, strips = (np.load(Path(folder) / f"{way}.npy") for way in WAYS)
            results[f"{case} strips - graph"] = float(np.abs(strips - graph).max())
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
