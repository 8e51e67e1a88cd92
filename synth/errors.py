"""Typed errors: each names the bad value and, where there is a choice, the valid ones."""


class SynthError(Exception):
    """Base class of every error synth raises on purpose.

    str() is the message for a terminal or a log; `reason` (a short key) and `details` (the
    values the message names) let a web page word it in the visitor's language."""

    def __init__(self, message: str, *, reason: str | None = None, **details):
        super().__init__(message)
        self.reason = reason
        self.details = details


class ConfigError(SynthError, ValueError):
    """A model config is unusable: unknown model type or a missing or bad key."""


class CheckpointMismatch(SynthError, ValueError):
    """A weights file does not fit the model built from its config."""


class TextError(SynthError, ValueError):
    """Text that cannot be spoken: empty, too long, or nothing speakable in it."""


class OptionError(SynthError, ValueError):
    """A per-call option out of its range (speed, max_steps, ...)."""


class LexiconError(SynthError, ValueError):
    """A pronunciation lexicon (file or entry) that cannot be used: it names the file or
    entry and what is wrong with it (unreadable, wrong shape, symbols the voice lacks)."""


class ImageError(SynthError, ValueError):
    """An upload that is not a usable image (corrupt, too large, unknown format)."""


class Busy(SynthError, RuntimeError):
    """Too many requests are already waiting for this kind of model call; try again soon."""


class ModelUnavailable(SynthError, OSError):
    """A model's files are neither at hand nor downloadable right now.

    str() is the terminal's message (it may advise `synth download NAME`); a web page words
    its own sentence from the fields: `model` (the name asked for), `repo` and `revision`
    (the Hub repository concerned, when there is one) and `reason`, one of REASONS:
    offline (HF_HUB_OFFLINE=1 and not cached), unreachable (the Hub did not answer and it is
    not cached), not_found (no such repo, revision or files on the Hub), denied (401/403:
    private, gated or a bad token), incomplete (a download stopped before the end),
    not_cached (local_files_only and not cached), unavailable (listed, not usable yet).
    """

    REASONS = ("offline", "unreachable", "not_found", "denied", "incomplete", "not_cached", "unavailable")

    def __init__(self, message: str, *, model: str | None = None, repo: str | None = None,
                 revision: str | None = None, reason: str | None = None):
        if reason is not None and reason not in self.REASONS:
            raise ValueError(f"unknown reason {reason!r}; expected one of {self.REASONS}")
        super().__init__(message, reason=reason, model=model, repo=repo, revision=revision)
        self.model, self.repo, self.revision = model, repo, revision


class ModelDamaged(SynthError, OSError):
    """A model file in the local cache that cannot be used: truncated, corrupt, or not the file
    its pinned revision holds (it does not match the size or hash it was downloaded with).

    str() is the terminal's and the log's message: the file's path, what is wrong with it and
    the fix (`synth doctor`, `synth download NAME --force`). A web page words its own sentence
    from `model` alone (the name asked for), never from `file`, a path on the server.
    Fields: `model`, `file` (the cached file, as a string), `repo` and `revision` (the Hub
    repository it belongs to) and `problem` (what is wrong, in words); `reason` is "damaged".
    """

    def __init__(self, message: str, *, model: str | None, file: str, repo: str | None = None,
                 revision: str | None = None, problem: str = ""):
        super().__init__(message, reason="damaged", model=model, file=file, repo=repo, revision=revision,
                         problem=problem)
        self.model, self.file, self.repo, self.revision, self.problem = model, file, repo, revision, problem


class UnknownModel(SynthError, KeyError):
    """A name that is neither a catalog entry, a Hub repo id nor a local directory."""

    def __str__(self):  # KeyError would otherwise print the message in quotes
        return str(self.args[0])
