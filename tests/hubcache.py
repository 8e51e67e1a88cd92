"""Build a real Hugging Face cache (models--org--name/{blobs,snapshots,refs}) from the tiny
fixtures, under the catalog's real repo ids and pinned SHAs, so that tests exercise the
same huggingface_hub code path as production."""
import hashlib
import os
import shutil
from pathlib import Path

from synth import catalog

FIXTURES = Path(__file__).parent / "fixtures"
# catalog name -> role -> fixture directory standing in for that repo
SOURCES = {
    "ljspeech-en": {"text_to_mel": FIXTURES / "tts_tiny" / "tacotron2",
                    "vocoder": FIXTURES / "tts_tiny" / "mb_melgan"},
    "horse2zebra": {"generator": FIXTURES / "cyclegan_keras_tiny" / "savedmodel"},
}


def add_repo(hub_cache: Path, repo_id: str, revision: str, source: Path) -> Path:
    repo = hub_cache / ("models--" + repo_id.replace("/", "--"))
    snapshot = repo / "snapshots" / revision
    for file in sorted(p for p in source.rglob("*") if p.is_file()):
        digest = hashlib.sha256(file.read_bytes()).hexdigest()
        blob = repo / "blobs" / digest
        blob.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file, blob)
        link = snapshot / file.relative_to(source)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(revision)
    return snapshot


def build_cache(hub_cache: Path, names: list[str]) -> None:
    for name in names:
        for role, repo in catalog.get(name).repos.items():
            add_repo(hub_cache, repo.repo_id, repo.revision, SOURCES[name][role])
