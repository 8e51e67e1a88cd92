"""The only module that touches the network: model names -> local directories.

A local directory is used as it is; a catalog name maps to its repos at pinned commit
SHAs; a bare Hub repo id uses the revision given. Files come through
`huggingface_hub.snapshot_download` into the standard cache (HF_HOME, HF_HUB_OFFLINE
are honoured), limited to what our loaders read. When the Hub cannot be reached the
cache is used; when neither has the files, `ModelUnavailable` says what to do.
"""
from __future__ import annotations

import logging
import re
import warnings
from pathlib import Path

import huggingface_hub
from huggingface_hub import constants
from huggingface_hub.errors import (
    HfHubHTTPError,
    IncompleteSnapshotError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
)

from synth import catalog
from synth.catalog import Repo
from synth.errors import ModelUnavailable, UnknownModel

log = logging.getLogger(__name__)

_REPO_ID = re.compile(r"^[\w.-]+/[\w.-]+$")
_FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
# What any of our loaders may read from a repo that is not in the catalog.
LOADER_FILES = ("*.yml", "*.yaml", "*.json", "*.h5", "*.safetensors", "*.pb", "variables/*")


def _fix(name: str) -> str:
    return (f"run `synth download {name}` while online, or pass a local directory"
            if name in catalog.MODELS else
            "check the repo id and revision, download it while online, or pass a local directory")


def _snapshot(name: str, repo: Repo, local_only: bool = False) -> Path:
    """Snapshot of `repo` in the cache, downloaded if needed and allowed."""
    where = f"{repo.repo_id} @ {repo.revision}"
    local_only = local_only or constants.HF_HUB_OFFLINE
    try:
        try:
            path = huggingface_hub.snapshot_download(repo.repo_id, revision=repo.revision,
                                                     allow_patterns=list(repo.files),
                                                     local_files_only=local_only)
        except (HfHubHTTPError, OSError) as e:
            if local_only or isinstance(e, (LocalEntryNotFoundError, IncompleteSnapshotError)):
                raise
            log.warning("Hub unreachable for %s (%s); using the local cache", where, e.__class__.__name__)
            path = huggingface_hub.snapshot_download(repo.repo_id, revision=repo.revision,
                                                     allow_patterns=list(repo.files), local_files_only=True)
    except (LocalEntryNotFoundError, IncompleteSnapshotError, OfflineModeIsEnabled) as e:
        state = "offline mode (HF_HUB_OFFLINE=1) is on" if constants.HF_HUB_OFFLINE else "the Hub cannot be reached"
        raise ModelUnavailable(f"model '{name}' ({where}) is not in the local cache "
                               f"({constants.HF_HUB_CACHE}) and {state}: {_fix(name)}") from e
    except (HfHubHTTPError, OSError) as e:
        raise ModelUnavailable(f"model '{name}' ({where}) could not be fetched: {e}. {_fix(name)}") from e
    missing = [f for f in repo.files if "*" not in f and not (Path(path) / f).is_file()]
    if missing:
        raise ModelUnavailable(f"model '{name}' ({where}) is cached without {missing}: {_fix(name)}")
    return Path(path)


def _hub_repo(repo_id: str, revision: str | None) -> Repo:
    revision = revision or "main"
    if not _FULL_SHA.match(revision):
        warnings.warn(f"{repo_id} @ '{revision}' is not pinned to a full commit SHA: its files may "
                      "change under you; pass revision=<40-hex commit>", stacklevel=3)
    return Repo(repo_id, revision, LOADER_FILES, 0.0)


def _repos(name_or_path: str, revision: str | None) -> dict[str, Repo] | Path:
    """A local directory, or the repos a catalog name or repo id stands for."""
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return path
    if name_or_path in catalog.MODELS:
        return catalog.MODELS[name_or_path].repos
    if _REPO_ID.match(name_or_path):
        return {"model": _hub_repo(name_or_path, revision)}
    raise UnknownModel(f"'{name_or_path}' is not a directory, a Hub repo id (org/name) or a model "
                       f"name; valid names: {', '.join(catalog.MODELS)}")


def resolve(name_or_path: str, revision: str | None = None, role: str | None = None) -> Path:
    """Local directory holding the model. A catalog voice has two repos: `role` picks
    "text_to_mel" (the default) or "vocoder"."""
    repos = _repos(name_or_path, revision)
    if isinstance(repos, Path):
        return repos
    repo = repos.get(role or "text_to_mel") or next(iter(repos.values()))
    return _snapshot(name_or_path, repo)


def resolve_voice(name_or_path: str, vocoder: str | None = None,
                  revision: str | None = None) -> tuple[Path, Path]:
    """(text-to-mel dir, vocoder dir) for a catalog voice, or for a path/repo + `vocoder`."""
    if name_or_path in catalog.MODELS and vocoder is None:
        model = catalog.get(name_or_path)
        if model.task != "voice":
            raise UnknownModel(f"'{name_or_path}' is a {model.task} model, not a voice; voices: "
                               f"{', '.join(m.name for m in catalog.models('voice'))}")
        if not model.available:
            raise ModelUnavailable(f"voice '{name_or_path}' is not available: {model.unavailable}")
        return (_snapshot(name_or_path, model.repos["text_to_mel"]),
                _snapshot(name_or_path, model.repos["vocoder"]))
    if vocoder is None:
        raise UnknownModel(f"'{name_or_path}' is not a catalog voice, so a vocoder is needed too; "
                           f"voices: {', '.join(m.name for m in catalog.models('voice'))}")
    return resolve(name_or_path, revision), resolve(vocoder)


def is_cached(name: str) -> bool:
    """Whether every repo of catalog model `name` is in the local cache."""
    try:
        for repo in catalog.get(name).repos.values():
            _snapshot(name, repo, local_only=True)
    except ModelUnavailable:
        return False
    return True


def download(name: str) -> list[Path]:
    """Fetch every repo of catalog model `name` into the cache (progress bars from the hub library)."""
    return [_snapshot(name, repo) for repo in catalog.get(name).repos.values()]
