"""The only module that touches the network: model names -> local directories.

A name is resolved once, by `files()`: a local directory is used as it is; a catalog name
maps to its repos (one per role) at pinned commit SHAs; a Hub repo id uses the revision
given. Files come through `huggingface_hub.snapshot_download` into the standard cache
(HF_HOME, HF_HUB_OFFLINE and HF_TOKEN are honoured), limited to what the loader reads (and,
for a repo holding several models, to the model's subfolder). A repo may be a model repo or
a Space. What synth makes from cached files (a converted PyTorch generator) is kept beside
the cache, in `converted_dir`, never inside it.

So that a classroom without network is not kept waiting:
- a commit SHA whose files are all cached is used without asking the Hub (it cannot change);
- otherwise one request, with a short connect timeout and no retries, asks the Hub first;
  if it does not answer, one log line says so and the Hub is left alone for
  UNREACHABLE_FOR seconds: meanwhile every model comes straight from the cache;
- every failure is a `ModelUnavailable` whose `reason` says which kind it is.
"""
from __future__ import annotations

import functools
import logging
import os
import re
import time
import warnings
from pathlib import Path
from typing import Sequence

import huggingface_hub
from huggingface_hub import constants
from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

from synth import catalog
from synth.catalog import FileSets
from synth.errors import ModelUnavailable, UnknownModel

log = logging.getLogger(__name__)

MODEL = "model"           # the role of a Hub repo id or local directory asked for without one
VOICE_ROLES = ("text_to_mel", "vocoder")
CONNECT_TIMEOUT = 3.0     # seconds to open a connection to the Hub before calling it unreachable
READ_TIMEOUT = 10.0       # seconds for the Hub's answer to the first request
UNREACHABLE_FOR = 300.0   # seconds during which a Hub that did not answer is not asked again
CONVERTED = "synth-converted"  # folder in HF_HOME, beside hub/, for files synth derives from cached ones

_REPO_ID = re.compile(r"^[\w.-]+/[\w.-]+$")
_FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
_REFUSED = (401, 403, 404)  # HTTP statuses that are an answer about the repo, not Hub trouble
# What a repo id asked for without a role may hold: anything one of our loaders reads.
_ANY_MODEL: FileSets = tuple(file_set for sets in catalog.ROLE_FILES.values() for file_set in sets)
_clock = time.monotonic   # tests move time forward by replacing it
# huggingface_hub's telemetry user agent fetches a registry from the Hub once per process,
# which doubled the wait for a Hub that does not answer (3 s more): off unless asked for.
if "HF_HUB_DISABLE_TELEMETRY" not in os.environ:
    constants.HF_HUB_DISABLE_TELEMETRY = True
_unreachable_until = 0.0  # _clock() value before which the Hub is not asked


def files(name_or_path: str, revision: str | None = None, *, roles: Sequence[str] | None = None,
          file_sets: FileSets | None = None, local_files_only: bool = False) -> dict[str, Path]:
    """Role -> local directory for the model(s) `name_or_path` names, fetched if needed.

    A catalog name gives its repos by role ("text_to_mel" + "vocoder", or "generator"), or
    only those in `roles` (for a repo holding several models, the model's subfolder in its
    snapshot). A Hub repo id or a local directory is one model: it is keyed by
    the one role asked for, else MODEL. `file_sets` is what the caller's loader reads (any
    one set is enough; default: what a repo in that role holds), so nothing else is
    downloaded. Downloads show huggingface_hub's tqdm bars (a UI follows them with
    gr.Progress(track_tqdm=True)).
    """
    if Path(name_or_path).expanduser().is_dir():
        return dict.fromkeys(_one_role(name_or_path, roles), Path(name_or_path).expanduser())
    if name_or_path in catalog.MODELS:
        model = catalog.MODELS[name_or_path]
        if revision is not None:
            raise ValueError(f"revision={revision!r} cannot be used with catalog model '{model.name}': it is "
                             f"pinned ({_pins(model)}); pass a repo id to choose a revision")
        return _catalog_files(model, roles, file_sets, local_files_only)
    if _REPO_ID.match(name_or_path):
        (role,) = _one_role(name_or_path, roles)
        revision = revision or "main"
        if not _FULL_SHA.match(revision):
            warnings.warn(f"{name_or_path} @ '{revision}' is not pinned to a full commit SHA: its files "
                          "may change under you; pass revision=<40-hex commit>", stacklevel=2)
        sets = file_sets or catalog.ROLE_FILES.get(role, _ANY_MODEL)
        return {role: _snapshot(name_or_path, catalog.Repo(name_or_path, revision, 0.0), sets, local_files_only)}
    raise UnknownModel(f"'{name_or_path}' is not a directory, a Hub repo id (org/name) or a model "
                       f"name; valid names: {', '.join(catalog.MODELS)}")


def can_download() -> bool:
    """Whether a model missing from the cache would be fetched now: not offline, and the
    Hub not found unreachable within the last UNREACHABLE_FOR seconds."""
    return not constants.HF_HUB_OFFLINE and _clock() >= _unreachable_until


def is_cached(name: str) -> bool:
    """Whether catalog model `name` has every file its loaders read in the local cache (no network)."""
    try:
        _catalog_files(catalog.get(name), None, None, True)
    except ModelUnavailable:
        return False
    return True


def download(name: str) -> list[Path]:
    """Fetch every repo of catalog model `name` into the cache; its local directories."""
    return list(_catalog_files(catalog.get(name), None, None, False).values())


def converted_dir(cached_file: Path) -> Path | None:
    """Where synth keeps what it derives from `cached_file`, a file in a cached snapshot:
    $HF_HOME/synth-converted/<repo folder>/<commit>/<path in the repo, less its suffix>/.
    Beside the cache, not in it, so that huggingface_hub's own cache tools (scan, delete) meet
    only their own layout; in HF_HOME, so that copying HF_HOME to other machines carries it
    too. None for a file outside the cache (a local folder): there is no commit to key it by."""
    try:
        parts = Path(cached_file).relative_to(constants.HF_HUB_CACHE).parts
    except ValueError:
        return None
    if len(parts) < 4 or parts[1] != "snapshots":
        return None
    repo_folder, _, commit, *path = parts
    return Path(constants.HF_HOME) / CONVERTED / repo_folder / commit / Path(*path).with_suffix("")


def _pins(model: catalog.Model) -> str:
    return ", ".join(f"{r.display} @ {r.revision}" for r in model.repos.values())


def _one_role(name: str, roles: Sequence[str] | None) -> list[str]:
    """The single role a repo id or directory can fill."""
    if roles is None:
        return [MODEL]
    if len(roles) != 1:
        raise UnknownModel(f"'{name}' is not a catalog name, so it is one model and cannot be "
                           f"{' + '.join(roles)}: give one model for each, or a catalog name "
                           f"({', '.join(catalog.MODELS)})")
    return list(roles)


def _catalog_files(model: catalog.Model, roles: Sequence[str] | None, file_sets: FileSets | None,
                   local_files_only: bool) -> dict[str, Path]:
    if not model.available:
        raise ModelUnavailable(f"{model.task} '{model.name}' is not available: {model.unavailable}",
                               model=model.name, reason="unavailable")
    roles = list(model.repos) if roles is None else list(roles)
    for role in roles:
        if role not in model.repos:
            others = [m for m in catalog.models() if role in m.repos]
            raise UnknownModel(f"'{model.name}' is a {model.task} model, not a "
                               f"{'/'.join(sorted({m.task for m in others})) or role}; those are: "
                               f"{', '.join(m.name for m in others)}")
    return {role: _snapshot(model.name, model.repos[role], file_sets or catalog.ROLE_FILES[role], local_files_only)
            for role in roles}


def _snapshot(name: str, repo: catalog.Repo, file_sets: FileSets, local_files_only: bool) -> Path:
    """The folder of `repo` (its snapshot, or the subfolder in it) holding one of `file_sets`:
    from the cache when it is there and pinned, else from the Hub when allowed and reachable,
    else from the cache."""
    cached = _cached(repo, file_sets)
    if cached is not None and _FULL_SHA.match(repo.revision):
        return cached
    if constants.HF_HUB_OFFLINE:
        reason, cause = "offline", None
    elif local_files_only:
        reason, cause = "not_cached", None
    elif _clock() < _unreachable_until:
        reason, cause = "unreachable", None
    else:
        path, cause = _download(name, repo, file_sets)
        if path is not None:
            return path
        reason = "unreachable"
    if cached is not None:  # a branch or tag as it was last fetched
        return cached
    raise _unavailable(name, repo, reason, cause)


def _patterns(repo: catalog.Repo, file_sets: FileSets) -> list[str]:
    """allow_patterns for snapshot_download: the file sets' patterns, in the repo's subfolder."""
    prefix = f"{repo.subfolder}/" if repo.subfolder else ""
    return sorted({prefix + pattern for file_set in file_sets for pattern in file_set})


def _complete(directory: Path, file_sets: FileSets) -> bool:
    """Whether `directory` holds every pattern of at least one of `file_sets`."""
    return any(all(any(p.is_file() for p in directory.glob(pattern)) for pattern in file_set)
               for file_set in file_sets)


def _cached(repo: catalog.Repo, file_sets: FileSets) -> Path | None:
    """The cached folder, if it holds one of `file_sets` (never touches the network)."""
    try:
        path = Path(huggingface_hub.snapshot_download(repo.repo_id, repo_type=repo.repo_type, revision=repo.revision,
                                                      local_files_only=True, allow_patterns=_patterns(repo, file_sets)))
    except LocalEntryNotFoundError:  # also IncompleteSnapshotError: a listing shows files missing
        return None
    path = path / repo.subfolder  # "": the snapshot itself
    return path if _complete(path, file_sets) else None


@functools.cache
def _http():
    """The HTTP client module huggingface_hub uses: httpx in 1.x, its fork httpx2 in 2.x (imported
    on first use: the CLI answers `synth models` without it)."""
    from huggingface_hub.utils import _http as hub_http

    return getattr(hub_http, "httpx2", None) or hub_http.httpx


def _download(name: str, repo: catalog.Repo, file_sets: FileSets) -> tuple[Path | None, Exception | None]:
    """Ask the Hub once, without retries (huggingface_hub would retry a dead connection for
    ~25 s), then download the files: (directory, None), or (None, why) when it did not answer."""
    global _unreachable_until
    http = _http()
    try:
        huggingface_hub.HfApi().repo_info(repo.repo_id, repo_type=repo.repo_type, revision=repo.revision,
                                          timeout=http.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT))
    except (http.TransportError, HfHubHTTPError) as e:
        if isinstance(e, HfHubHTTPError) and _status(e) in _REFUSED:
            raise _refused(name, repo, e) from e
        _unreachable_until = _clock() + UNREACHABLE_FOR
        log.warning("the Hugging Face Hub (%s) cannot be reached (%s): models come from the local cache "
                    "for the next %d minutes", constants.ENDPOINT, _describe(e), UNREACHABLE_FOR // 60)
        return None, e
    try:
        path = Path(huggingface_hub.snapshot_download(repo.repo_id, repo_type=repo.repo_type, revision=repo.revision,
                                                      allow_patterns=_patterns(repo, file_sets)))
    except (OSError, http.TransportError) as e:  # HfHubHTTPError is an OSError
        if isinstance(e, HfHubHTTPError) and _status(e) in _REFUSED:
            raise _refused(name, repo, e) from e
        # the Hub answered the first request, so the connection broke or the Hub failed since
        raise _unavailable(name, repo, "incomplete", e) from e
    path = path / repo.subfolder  # "": the snapshot itself
    if not _complete(path, file_sets):
        raise ModelUnavailable(
            f"{_what(name, repo)} does not hold the files its loader reads: "
            f"{' or '.join(' + '.join(s) for s in file_sets)}; check the repo id and revision",
            model=name, repo=repo.repo_id, revision=repo.revision, reason="not_found")
    return path, None


def _status(error: HfHubHTTPError) -> int:
    """The HTTP status; an error without a response is taken for the Hub's own trouble (5xx)."""
    return getattr(error.response, "status_code", None) or 500


def _what(name: str, repo: catalog.Repo) -> str:
    where = f"{repo.display} @ {repo.revision}" + (f", {repo.subfolder}/" if repo.subfolder else "")
    return f"model '{name}' ({where})" if name != repo.repo_id else f"model {where}"


def _describe(error: BaseException | None) -> str:
    """A short cause for a message: the HTTP status, or the error's first line."""
    if isinstance(error, HfHubHTTPError):
        return f"HTTP {_status(error)}"
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {first_line}" if first_line else type(error).__name__


def _refused(name: str, repo: catalog.Repo, error: HfHubHTTPError) -> ModelUnavailable:
    """404 -> not_found; 401/403 (private, gated, bad token; the Hub also answers 401 for a
    repo that does not exist when no token is sent) -> denied."""
    return _unavailable(name, repo, "not_found" if _status(error) == 404 else "denied", error)


def _unavailable(name: str, repo: catalog.Repo, reason: str, cause: BaseException | None) -> ModelUnavailable:
    """The error for `reason`, worded for a terminal; the fields are there for a web page."""
    what = _what(name, repo)
    if name in catalog.MODELS:
        fetch = f"run `synth download {name}` where there is network"
        again = f"run `synth download {name}` again"
    else:
        fetch = "download it where there is network, or pass a local directory"
        again = "try again"
    cache = f"not in the local cache ({constants.HF_HUB_CACHE})"
    messages = {
        "offline": f"{what} is {cache} and offline mode is on (HF_HUB_OFFLINE=1): {fetch}, "
                   "or unset HF_HUB_OFFLINE",
        "not_cached": f"{what} is {cache} and local_files_only=True: {fetch}",
        "unreachable": f"{what} is {cache} and the Hugging Face Hub ({constants.ENDPOINT}) cannot be "
                       f"reached{f' ({_describe(cause)})' if cause else ''}: {fetch}",
        "not_found": f"{what} was not found on the Hugging Face Hub ({_describe(cause)}): check the "
                     "repo id and revision",
        "denied": f"the Hugging Face Hub answered {_describe(cause)} for {what}: the repo is private or "
                  "gated, or does not exist; set HF_TOKEN to a token allowed to read it, or check the repo id",
        "incomplete": f"the download of {what} stopped before the end ({_describe(cause)}): "
                      f"{again} to fetch the rest (the files that arrived are kept)",
    }
    return ModelUnavailable(messages[reason], model=name, repo=repo.repo_id, revision=repo.revision, reason=reason)
