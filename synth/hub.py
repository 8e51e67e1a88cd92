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
- a repo the Hub refused (not found, denied) is answered from memory for RETRY_SECONDS
  (SYNTH_HUB_RETRY_SECONDS, default 300; UNREACHABLE_FOR is the same): the next caller gets
  the same error at once;
- every failure is a `ModelUnavailable` whose `reason` says which kind it is.

A cached file is checked against what it was downloaded as without the network: in the cache,
an LFS file's blob is named by its sha256, a regular file's by its git blob sha1, and
huggingface_hub keeps the pinned commit's listing (sizes, hashes) beside the snapshots when it
downloaded it. `reading()` turns a loader's failure on a file that does not match into one
`ModelDamaged`; `check()` and `repair()` are `synth doctor`.
"""
from __future__ import annotations

import contextlib
import dataclasses
import fnmatch
import functools
import hashlib
import json
import logging
import math
import os
import re
import shutil
import time
import warnings
from pathlib import Path
from typing import Callable, Iterator, Sequence

import huggingface_hub
from huggingface_hub import constants
from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

from synth import catalog
from synth.catalog import FileSets
from synth.errors import ModelDamaged, ModelUnavailable, UnknownModel

log = logging.getLogger(__name__)

MODEL = "model"           # the role of a Hub repo id or local directory asked for without one
VOICE_ROLES = ("text_to_mel", "vocoder")
CONNECT_TIMEOUT = 3.0     # seconds to open a connection to the Hub before calling it unreachable
READ_TIMEOUT = 10.0       # seconds for the Hub's answer to the first request
DEFAULT_RETRY_SECONDS = 300.0


def _retry_seconds() -> float:
    """SYNTH_HUB_RETRY_SECONDS: how long a Hub that did not answer, or a repo it refused, is
    answered from memory (0: ask every time)."""
    value = os.environ.get("SYNTH_HUB_RETRY_SECONDS", "").strip()
    if not value:
        return DEFAULT_RETRY_SECONDS
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not math.isfinite(seconds) or seconds < 0:
        log.warning("SYNTH_HUB_RETRY_SECONDS=%r is not a number of seconds (0 or more): using %d",
                    value, DEFAULT_RETRY_SECONDS)
        return DEFAULT_RETRY_SECONDS
    return seconds


RETRY_SECONDS = _retry_seconds()  # seconds during which a repo the Hub refused is not asked for again
UNREACHABLE_FOR = RETRY_SECONDS   # seconds during which a Hub that did not answer is not asked again
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
_unreachable_cause: BaseException | None = None  # why it was not asked: the message stays the same
# (endpoint, repo type, repo id, revision, patterns) -> (_clock() value until which it is
# remembered, the error for a model name): refusals, answered at once while remembered
_failed: dict[tuple, tuple[float, Callable[[str], ModelUnavailable]]] = {}


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


def download(name: str, force: bool = False) -> list[Path]:
    """Fetch every repo of catalog model `name` into the cache; its local directories.
    `force`: fetch every file again, even those cached (a cached file is replaced only once its
    new copy has arrived whole), and drop what synth derived from them."""
    model = catalog.get(name)
    if not force:
        return list(_catalog_files(model, None, None, False).values())
    _check_available(model)
    directories = []
    for role, repo in model.repos.items():
        file_sets = catalog.ROLE_FILES[role]
        _hub_or_raise(name, repo, file_sets)
        directory = _fetch(name, repo, file_sets, force=True)
        for file in _listed(directory, file_sets):
            _forget_converted(file)
        directories.append(directory)
    return directories


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


# -- the cache checked against what was downloaded (`synth doctor`) -------------------------

@dataclasses.dataclass(frozen=True)
class Damage:
    """A cached file of catalog model `model` (its repo in `role`) that is not what its pinned
    revision holds: `problem` says what is wrong (missing, size, hash)."""
    model: str
    role: str
    file: Path     # its path in the snapshot
    problem: str


@dataclasses.dataclass(frozen=True)
class Health:
    """What `check` found for catalog model `name`: the files to fetch again (`damage`), and the
    roles none of whose files are cached (`absent`: not downloaded, which is no damage)."""
    name: str
    damage: tuple[Damage, ...]
    absent: tuple[str, ...]

    @property
    def downloaded(self) -> bool:
        """Whether any of its files are in the cache."""
        return len(self.absent) < len(catalog.get(self.name).repos)


def check(name: str) -> Health:
    """Every cached file catalog model `name`'s loaders read, checked without the network: each
    against the hash its blob is named by (sha256 for an LFS file, the git blob sha1 for
    another) and the size the pinned commit's listing gives, where huggingface_hub kept one; and
    a file set that is only partly there."""
    model = catalog.get(name)
    damage, absent = [], []
    for role, repo in model.repos.items():
        problems = _check_folder(_snapshot_folder(repo), catalog.ROLE_FILES[role])
        if problems is None:
            absent.append(role)
        else:
            damage += [Damage(name, role, file, problem) for file, problem in problems]
    return Health(name, tuple(damage), tuple(absent))


def repair(name: str) -> Health:
    """Fetch again, at the pinned revision, every file `check(name)` finds damaged: once the Hub
    has answered, each is deleted (its snapshot link and the blob it points to) and downloaded
    anew, and what synth derived from it is dropped. Raises ModelUnavailable (offline,
    unreachable, ...) when the Hub cannot be asked, having deleted nothing. Returns what
    `check` finds afterwards."""
    health = check(name)
    if not health.damage:
        return health
    model = catalog.get(name)
    for role in dict.fromkeys(d.role for d in health.damage):
        repo, file_sets = model.repos[role], catalog.ROLE_FILES[role]
        _hub_or_raise(name, repo, file_sets)
        for damage in health.damage:
            if damage.role == role:
                log.info("%s: deleting %s (%s) to fetch it again", name, damage.file, damage.problem)
                _delete(damage.file)
                _forget_converted(damage.file)
        _fetch(name, repo, file_sets)
    return check(name)


@contextlib.contextmanager
def reading(directory: str | Path, name: str | None = None) -> Iterator[None]:
    """Around a loader reading the model files in `directory`: a failure that a file there
    explains (in the cache, and not what it was downloaded as) becomes one `ModelDamaged`
    naming the model (`name`, else the catalog model the files belong to, else the repo) and
    that file, whatever the loader raised (h5py, TensorFlow, YAML, JSON, safetensors, pickle
    errors, or our own refusal). Any other failure passes as it is."""
    try:
        yield
    except (ModelDamaged, ModelUnavailable, UnknownModel):
        raise
    except Exception as e:
        damaged = _damaged_in(Path(directory), name, e)
        if damaged is None:
            raise
        raise damaged from e


def damaged_as(error: ModelDamaged, name: str) -> ModelDamaged:
    """`error` said of catalog model `name`: the one asked for, where several models share the
    damaged repo (the voices of one speaker share a vocoder)."""
    if error.model == name or name not in catalog.MODELS:
        return error
    renamed = _damaged(name, error.repo, error.revision, Path(error.file), error.problem, error.__cause__)
    renamed.__cause__ = error.__cause__
    return renamed


def unusable(name: str, error: BaseException) -> ModelDamaged:
    """A ModelDamaged for catalog model `name`, whose cached files its loader refused (`error`)
    though none of them differs from what was downloaded (or could be checked): to a visitor it
    is as damaged as any; the log says what the loader said."""
    named = _named_file(error)
    place = _place(Path(named)) if named else None
    return ModelDamaged(
        f"model '{name}' cannot be loaded from the local cache ({_describe(error)}); run `synth doctor` to "
        f"check its files, and `synth download {name} --force` to fetch them again",
        model=name, file=named or "", repo=place.repo_id if place else None,
        revision=place.revision if place else None, problem="cannot be loaded")


_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_digests: dict[tuple[str, int, int], str] = {}  # (blob, size, mtime) -> hex digest: a damaged model is asked for again


@dataclasses.dataclass(frozen=True)
class _Place:
    """Where a path lies in the cache: its repo's folder, the repo and revision, and its path
    in the repo ("" for the snapshot itself)."""
    folder: Path
    repo_type: str
    repo_id: str
    revision: str
    path: str

    def owners(self) -> list[str]:
        """The catalog models whose pinned repo (and subfolder) this path lies in."""
        def within(subfolder: str) -> bool:  # one holds the other
            return (not subfolder or not self.path or self.path == subfolder
                    or self.path.startswith(subfolder + "/") or subfolder.startswith(self.path + "/"))

        return list(dict.fromkeys(
            m.name for m in catalog.models() for r in m.repos.values()
            if (r.repo_type, r.repo_id, r.revision) == (self.repo_type, self.repo_id, self.revision)
            and within(r.subfolder)))


def _place(path: Path) -> _Place | None:
    """Where `path` lies in the Hugging Face cache (models--org--name/snapshots/<rev>/...); None
    for a path elsewhere."""
    try:
        parts = Path(os.path.abspath(path)).relative_to(os.path.abspath(constants.HF_HUB_CACHE)).parts
    except ValueError:
        return None
    if len(parts) < 3 or parts[1] != "snapshots" or "--" not in parts[0]:
        return None
    kind, _, name = parts[0].partition("--")
    repo_type = kind.removesuffix("s")
    if repo_type not in catalog.REPO_TYPES:
        return None
    cache = Path(constants.HF_HUB_CACHE)
    return _Place(cache / parts[0], repo_type, "/".join(name.split("--")), parts[2], "/".join(parts[3:]))


def _snapshot_folder(repo: catalog.Repo) -> Path:
    """Where the cache keeps `repo`'s files (its subfolder), whether or not they are there."""
    folder = f"{repo.repo_type}s--{repo.repo_id.replace('/', '--')}"
    return Path(constants.HF_HUB_CACHE) / folder / "snapshots" / repo.revision / repo.subfolder


@dataclasses.dataclass(frozen=True)
class _Listed:
    """A file as the pinned commit's listing gives it."""
    size: int
    blob_id: str              # git blob sha1
    sha256: str | None        # an LFS file's


def _listing(place: _Place) -> dict[str, _Listed]:
    """The pinned commit's file listing huggingface_hub keeps beside the snapshots when it
    downloaded them (trees/<commit>.json); {} when there is none."""
    try:
        data = json.loads((place.folder / "trees" / f"{place.revision}.json").read_text(encoding="utf-8"))
        return {path: _Listed(int(info["size"]), str(info["blob_id"]), info.get("lfs_sha256"))
                for path, info in data["files"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def _digest(blob: Path, kind: str, size: int) -> str:
    """The blob's sha256, or its git blob sha1 (sha1 of b"blob <size>\\0" + content)."""
    stat = blob.stat()
    key = (f"{kind}:{blob}", stat.st_size, stat.st_mtime_ns)
    if key not in _digests:
        digest = hashlib.sha256() if kind == "sha256" else hashlib.sha1(b"blob %d\0" % size)
        with open(blob, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
        _digests[key] = digest.hexdigest()
    return _digests[key]


def _verify(file: Path, in_repo: str, listing: dict[str, _Listed]) -> str | None:
    """What is wrong with cached `file` (`in_repo`: its path in the repo), or None."""
    if not file.exists():
        return "is missing (its blob is gone)" if file.is_symlink() else "is missing"
    blob = file.resolve()
    try:
        size = blob.stat().st_size
        listed = listing.get(in_repo)
        if listed is not None and size != listed.size:
            return f"is {size:,} bytes; the pinned file has {listed.size:,}"
        name = blob.name if file.is_symlink() else ""
        if _SHA256.match(name) or (not name and listed is not None and listed.sha256):
            expected, kind = name or listed.sha256, "sha256"
        elif _FULL_SHA.match(name) or (not name and listed is not None):
            expected, kind = name or listed.blob_id, "git"
        else:  # a blob not named by a hash, and no listing: nothing to check against
            return None
        if _digest(blob, kind, size) != expected:
            return f"has {size:,} bytes that do not match the {'sha256' if kind == 'sha256' else 'git hash'} " \
                   "it was downloaded with"
    except OSError as e:
        return f"cannot be read ({e.strerror or e})"
    return None


def _files_in(folder: Path) -> list[Path]:
    """The files under `folder`, links whose blob is gone included."""
    found = []
    for root, directories, names in os.walk(folder):
        found += [Path(root) / n for n in names]
        found += [Path(root) / d for d in directories if (Path(root) / d).is_symlink()]
    return sorted(found)


def _listed(folder: Path, file_sets: FileSets) -> list[Path]:
    """The files under `folder` that `file_sets`' patterns name."""
    patterns = {pattern for file_set in file_sets for pattern in file_set}
    return [f for f in _files_in(folder)
            if any(fnmatch.fnmatch(f.relative_to(folder).as_posix(), p) for p in patterns)]


def _check_folder(folder: Path, file_sets: FileSets) -> list[tuple[Path, str]] | None:
    """(file, problem) for each cached file of `file_sets` in `folder` that is not as it was
    downloaded, or missing from a set partly there; None when none of them is cached."""
    place = _place(folder)
    files = _listed(folder, file_sets) if place is not None and folder.is_dir() else []
    if not files:
        return None
    listing = _listing(place)
    prefix = f"{place.path}/" if place.path else ""
    problems = [(f, problem) for f in files
                if (problem := _verify(f, prefix + f.relative_to(folder).as_posix(), listing))]
    present = {f.relative_to(folder).as_posix() for f in files}
    missing = set()
    for file_set in file_sets:
        found = [any(fnmatch.fnmatch(p, pattern) for p in present) for pattern in file_set]
        if any(found):  # this set was (partly) downloaded: what it lacks is missing
            missing |= {pattern for pattern, there in zip(file_set, found) if not there and not _is_glob(pattern)}
    patterns = {pattern for file_set in file_sets for pattern in file_set}
    for path in listing:  # what the download fetched, as the pinned commit's listing says
        relative = path[len(prefix):]
        if path.startswith(prefix) and relative not in present and any(fnmatch.fnmatch(relative, p) for p in patterns):
            missing.add(relative)
    problems += [(folder / path, "is missing") for path in sorted(missing)]
    return problems


def _is_glob(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")


def _damaged_in(directory: Path, name: str | None, error: BaseException) -> ModelDamaged | None:
    """The ModelDamaged that explains `error`, raised by a loader reading `directory`: a file
    there that is in the cache and not what it was downloaded as; None when there is none."""
    place = _place(directory)
    if place is None:
        return None
    listing = _listing(place)
    prefix = f"{place.path}/" if place.path else ""
    bad = {f: problem for f in _files_in(directory)
           if (problem := _verify(f, prefix + f.relative_to(directory).as_posix(), listing))}
    if not bad:
        return None
    named = _named_file(error)
    file = next((f for f in bad if named is not None and os.path.abspath(f) == os.path.abspath(named)), next(iter(bad)))
    owners = place.owners()
    who = name if name in catalog.MODELS else (owners[0] if owners else place.repo_id)
    return _damaged(who, place.repo_id, place.revision, file, bad[file], error)


def _named_file(error: BaseException) -> str | None:
    """The file a loader's error names, where it says."""
    details = getattr(error, "details", None)
    if isinstance(details, dict) and details.get("file"):
        return str(details["file"])
    return getattr(error, "filename", None)


def _damaged(name: str, repo_id: str | None, revision: str | None, file: Path, problem: str,
             cause: BaseException | None) -> ModelDamaged:
    """The error for a damaged cached file, worded for a terminal and a log."""
    if name in catalog.MODELS:
        what = f"model '{name}'"
        fix = (f"run `synth doctor` to check the cache and fetch what is damaged again, or "
               f"`synth download {name} --force`")
    else:
        what = f"model {repo_id} @ {revision}"
        fix = "delete it (the link and the blob it points to) and load the model again where there is network"
    because = f" ({_describe(cause).replace(str(file), file.name)})" if cause is not None else ""
    return ModelDamaged(f"{what} is damaged in the local cache: {file} {problem}{because}; {fix}",
                        model=name, file=str(file), repo=repo_id, revision=revision, problem=problem)


def _delete(file: Path) -> None:
    """A cached file gone: its snapshot link and the blob it points to."""
    blob = file.resolve() if file.is_symlink() else None
    file.unlink(missing_ok=True)
    if blob is not None and blob.parent.name == "blobs":
        blob.unlink(missing_ok=True)


def _forget_converted(file: Path) -> None:
    """Drop what synth derived from cached `file` (it is derived again from the new one)."""
    converted = converted_dir(file)
    if converted is not None and converted.exists():
        shutil.rmtree(converted, ignore_errors=True)


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


def _check_available(model: catalog.Model) -> None:
    if not model.available:
        raise ModelUnavailable(f"{model.task} '{model.name}' is not available: {model.unavailable}",
                               model=model.name, reason="unavailable")


def _catalog_files(model: catalog.Model, roles: Sequence[str] | None, file_sets: FileSets | None,
                   local_files_only: bool) -> dict[str, Path]:
    _check_available(model)
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
        reason, cause = "unreachable", _unreachable_cause
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


def _key(repo: catalog.Repo, file_sets: FileSets) -> tuple:
    return constants.ENDPOINT, repo.repo_type, repo.repo_id, repo.revision, tuple(_patterns(repo, file_sets))


def _remember(key: tuple, name: str, error_for: Callable[[str], ModelUnavailable]) -> ModelUnavailable:
    """`error_for(name)`, remembered under `key` for RETRY_SECONDS: the Hub's answer about a
    repo does not change from one minute to the next, and the next caller need not wait for it."""
    if RETRY_SECONDS > 0:
        _failed[key] = (_clock() + RETRY_SECONDS, error_for)
    return error_for(name)


def _remembered(name: str, repo: catalog.Repo, file_sets: FileSets) -> None:
    """Raise the error the Hub gave for this repo, if it is still remembered."""
    entry = _failed.get(_key(repo, file_sets))
    if entry is not None:
        if _clock() < entry[0]:
            raise entry[1](name)
        _failed.pop(_key(repo, file_sets), None)


def _ask(name: str, repo: catalog.Repo, file_sets: FileSets) -> BaseException | None:
    """Ask the Hub about `repo` once, without retries (huggingface_hub would retry a dead
    connection for ~25 s): None when it answered; why not, when it did not (and then it is
    left alone for UNREACHABLE_FOR seconds). A refusal (401, 403, 404) is raised, and remembered."""
    global _unreachable_until, _unreachable_cause
    _remembered(name, repo, file_sets)
    http = _http()
    try:
        huggingface_hub.HfApi().repo_info(repo.repo_id, repo_type=repo.repo_type, revision=repo.revision,
                                          timeout=http.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT))
    except Exception as e:  # anything but an answer about the repo (a proxy's page, a timeout) is Hub trouble
        if isinstance(e, HfHubHTTPError) and _status(e) in _REFUSED:
            raise _remember(_key(repo, file_sets), name, lambda who, e=e: _refused(who, repo, e)) from e
        if UNREACHABLE_FOR > 0:
            _unreachable_until, _unreachable_cause = _clock() + UNREACHABLE_FOR, e
        log.warning("the Hugging Face Hub (%s) cannot be reached (%s): models come from the local cache "
                    "for the next %s", constants.ENDPOINT, _describe(e), _duration(UNREACHABLE_FOR))
        return e
    return None


def _hub_or_raise(name: str, repo: catalog.Repo, file_sets: FileSets = ()) -> None:
    """Return when the Hub may be asked for `repo` and answers; else raise why not."""
    if constants.HF_HUB_OFFLINE:
        raise _unavailable(name, repo, "offline", None)
    if _clock() < _unreachable_until:
        raise _unavailable(name, repo, "unreachable", _unreachable_cause)
    cause = _ask(name, repo, file_sets)
    if cause is not None:
        raise _unavailable(name, repo, "unreachable", cause)


def _fetch(name: str, repo: catalog.Repo, file_sets: FileSets, force: bool = False) -> Path:
    """Download what `file_sets` name of `repo` (after the Hub has answered); its folder."""
    http = _http()
    try:
        path = Path(huggingface_hub.snapshot_download(repo.repo_id, repo_type=repo.repo_type, revision=repo.revision,
                                                      allow_patterns=_patterns(repo, file_sets), force_download=force))
    except (OSError, http.TransportError) as e:  # HfHubHTTPError is an OSError
        if isinstance(e, HfHubHTTPError) and _status(e) in _REFUSED:
            raise _remember(_key(repo, file_sets), name, lambda who, e=e: _refused(who, repo, e)) from e
        # the Hub answered the first request, so the connection broke or the Hub failed since;
        # not remembered: what arrived is kept, and trying again at once fetches the rest
        raise _unavailable(name, repo, "incomplete", e) from e
    path = path / repo.subfolder  # "": the snapshot itself
    if not _complete(path, file_sets):
        raise _remember(_key(repo, file_sets), name, lambda who: _lacking(who, repo, file_sets))
    return path


def _download(name: str, repo: catalog.Repo, file_sets: FileSets) -> tuple[Path | None, BaseException | None]:
    """Ask the Hub once, then download the files: (directory, None), or (None, why) when it did not answer."""
    cause = _ask(name, repo, file_sets)
    if cause is not None:
        return None, cause
    return _fetch(name, repo, file_sets), None


def _lacking(name: str, repo: catalog.Repo, file_sets: FileSets) -> ModelUnavailable:
    return ModelUnavailable(
        f"{_what(name, repo)} does not hold the files its loader reads: "
        f"{' or '.join(' + '.join(s) for s in file_sets)}; check the repo id and revision",
        model=name, repo=repo.repo_id, revision=repo.revision, reason="not_found")


def _duration(seconds: float) -> str:
    return f"{seconds / 60:g} minutes" if seconds >= 120 else f"{seconds:g} seconds"


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
