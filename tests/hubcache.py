"""Build a real Hugging Face cache (models--org--name/{blobs,snapshots,refs}, spaces--… for a
Space) from the tiny fixtures, under the catalog's real repo ids, pinned SHAs and subfolders,
so that tests exercise the same huggingface_hub code path as production."""
import atexit
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import h5py
import numpy as np
import yaml

from synth import catalog
from synth.speech import registry

FIXTURES = Path(__file__).parent / "fixtures"


def write_keras_h5(path: Path, layout, arrays) -> None:
    """A Keras-2 `save_weights` file: groups in order, each with ordered weight_names."""
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [group.encode() for group, _ in layout]
        for group, weights in layout:
            g = f.create_group(group)
            g.attrs["weight_names"] = [f"{group}/{name}:0".encode() for name, _ in weights]
            for name, _ in weights:
                g.create_dataset(f"{group}/{name}:0", data=arrays[name])


def tiny_voice(directory: Path, dataset: str, processor: str, family: str = "tacotron2") -> Path:
    """A tiny fixture text-to-mel model (tts_tiny's Tacotron2 or fastspeech2_tiny's
    FastSpeech2) re-made for another dataset's vocabulary, with random weights and that
    voice's real processor.json."""
    directory.mkdir(parents=True, exist_ok=True)
    source = FIXTURES / ("tts_tiny/tacotron2" if family == "tacotron2" else "fastspeech2_tiny/fastspeech2")
    config = yaml.safe_load((source / "config.yml").read_text())
    config[f"{family}_params"]["dataset"] = dataset
    (directory / "config.yml").write_text(yaml.safe_dump(config))
    model = registry.family(registry.TEXT_TO_MEL, family).from_config(directory)
    rng = np.random.default_rng(0)
    arrays = {}
    for _, group in model.weight_layout():
        for name, shape in group:
            scale = 1.0 if name.endswith(("gamma", "moving_variance")) else 0.3
            arrays[name] = (np.abs(rng.normal(scale, 0.1, shape)) if scale == 1.0 else
                            rng.normal(0, scale, shape)).astype(np.float32)
    if family == "tacotron2":  # never stops by itself: runs to the step cap
        arrays["decoder_cell/stop_projection/bias"] = np.full(1, -20.0, np.float32)
    else:  # every symbol about exp(1.5) - 1 = 3.5 frames long
        arrays["duration_predictor/dense/kernel"] *= 0.1
        arrays["duration_predictor/dense/bias"] = np.full(1, 1.5, np.float32)
    write_keras_h5(directory / "model.h5", model.weight_layout(), arrays)
    shutil.copyfile(FIXTURES / "processors" / processor, directory / "processor.json")
    return directory


def scratch(prefix: str) -> Path:
    """A new temporary folder, removed when this process exits: a test run leaves nothing behind."""
    made = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, made, ignore_errors=True)
    return made


def sources(name: str) -> dict[str, Path]:
    """catalog name -> role -> a fixture directory standing in for that repo."""
    vocoder = FIXTURES / "tts_tiny" / "mb_melgan"
    if name == "ljspeech-en":
        return {"text_to_mel": FIXTURES / "tts_tiny" / "tacotron2", "vocoder": vocoder}
    if name == "kss-ko":
        made = scratch("synth-kss-")
        return {"text_to_mel": tiny_voice(made, "kss", "kss.json"), "vocoder": vocoder}
    if name == "baker-zh":
        return {"text_to_mel": FIXTURES / "tts_tiny_r2" / "tacotron2",
                "vocoder": FIXTURES / "tts_tiny_r2" / "mb_melgan"}
    if name == "ljspeech-en-fastspeech2":
        return {"text_to_mel": FIXTURES / "fastspeech2_tiny" / "fastspeech2", "vocoder": vocoder}
    if name == "kss-ko-fastspeech2":
        made = scratch("synth-kss-fs2-")
        return {"text_to_mel": tiny_voice(made, "kss", "kss.json", "fastspeech2"), "vocoder": vocoder}
    if name == "baker-zh-fastspeech2":
        made = scratch("synth-baker-fs2-")
        return {"text_to_mel": tiny_voice(made, "baker", "baker.json", "fastspeech2"),
                "vocoder": FIXTURES / "tts_tiny_r2" / "mb_melgan"}
    if name == "horse2zebra":
        return {"generator": FIXTURES / "cyclegan_keras_tiny" / "savedmodel"}
    generator = catalog.get(name).repos.get("generator")
    if generator is not None and generator.repo_id == catalog.AUTHORS_SPACE[0]:
        # the authors' styles: a tiny ResnetGenerator in the legacy (pre-zip) format of their files
        made = scratch("synth-authors-")
        shutil.copyfile(FIXTURES / "torch_resnet_tiny" / "latest_net_G_legacy.pth", made / catalog.TORCH_WEIGHTS)
        return {"generator": made}
    raise KeyError(name)


def add_repo(hub_cache: Path, repo_id: str, revision: str, source: Path, repo_type: str = "model",
             subfolder: str = "") -> Path:
    """`source`'s files as a cached snapshot (under `subfolder` in it); the snapshot's path."""
    repo = hub_cache / f"{repo_type}s--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / revision
    for file in sorted(p for p in source.rglob("*") if p.is_file()):
        digest = hashlib.sha256(file.read_bytes()).hexdigest()
        blob = repo / "blobs" / digest
        blob.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file, blob)
        link = snapshot / subfolder / file.relative_to(source)
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.is_symlink():  # voices share a vocoder repo: add it once
            link.symlink_to(os.path.relpath(blob, link.parent))
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(revision)
    return snapshot


def build_cache(hub_cache: Path, names: list[str]) -> None:
    for name in names:
        for role, source in sources(name).items():
            repo = catalog.get(name).repos[role]
            add_repo(hub_cache, repo.repo_id, repo.revision, source, repo.repo_type, repo.subfolder)
