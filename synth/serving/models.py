"""Models loaded once, on first use, however many requests ask for them at the same time."""
from __future__ import annotations

import logging
import threading

from synth import catalog, hub, runtime
from synth.errors import CheckpointMismatch, ConfigError, ModelDamaged, SynthError
from synth.image import Styler
from synth.image.io import DEFAULT_MAX_SIDE
from synth.serving.batching import Batcher
from synth.speech import Voice
from synth.speech.voice import MAX_TEXT_CHARS

log = logging.getLogger(__name__)


class ModelCache:
    """Catalog models by name. `max_side` is the working size of the stylers it loads,
    `max_text_chars` the longest text its voices speak in one request."""

    def __init__(self, max_side: int = DEFAULT_MAX_SIDE, max_text_chars: int = MAX_TEXT_CHARS):
        self.max_side = max_side
        self.max_text_chars = max_text_chars
        self._models: dict[str, Voice | Styler] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._damaged: set[str] = set()  # failed to load for a damaged file, until one loads

    def get(self, name: str) -> Voice | Styler:
        """The model, downloaded first if it is missing (huggingface_hub's progress bars are
        tqdm bars, which a UI can follow), then loaded from the cache. A damaged cached file is a
        ModelDamaged naming `name` (its path and the fix go to the log, not into the message a
        page words from it); nothing is kept of a model that failed, so the next call tries again."""
        model = catalog.get(name)
        with self._guard:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            if name not in self._models:
                try:
                    self._load(name, model)
                    self._damaged.discard(name)
                except ModelDamaged as e:
                    self._damaged.add(name)
                    damaged = hub.damaged_as(e, name)  # a repo several models share: the one asked for
                    log.warning("%s", damaged)
                    if damaged is e:
                        raise
                    raise damaged from e.__cause__
                except (CheckpointMismatch, ConfigError) as e:  # refused, though no file differs from its hash
                    self._damaged.add(name)
                    damaged = hub.unusable(name, e)
                    log.warning("%s", damaged)
                    raise damaged from e
            return self._models[name]

    def _load(self, name: str, model: catalog.Model) -> None:
        if model.task == "voice":
            voice = Voice.from_pretrained(name, max_chars=self.max_text_chars)
            voice.to_mel = Batcher(voice.to_mel, voice.text_to_mel.BATCH_SIZE)  # shared by every request
            self._models[name] = voice
        else:
            self._models[name] = Styler.from_pretrained(name, max_side=self.max_side)

    def is_loaded(self, name: str) -> bool:
        return name in self._models

    def is_ready(self, name: str) -> bool:
        """Loaded, or every file in the local cache and not found damaged: a request will
        not wait for the Hub, nor fail on a file."""
        return self.is_loaded(name) or (name not in self._damaged and hub.is_cached(name))

    def engines(self, name: str) -> dict[str, tuple[str, str, runtime.Part | None]]:
        """The engine ("litert" or "tensorflow") and weights ("fp32", "int8") that run each
        network of a loaded model, for those that have run (Tacotron2: its decoder step), and
        its part that runs otherwise, if any (`apart()`); empty for a model not loaded."""
        return {label: (network.engine, network.precision, network.apart())
                for label, network in self._networks(name).items() if network.engine}

    def ran(self) -> dict[str, set[tuple[str, str]]]:
        """Per network family (runtime.CPU_DEFAULTS' keys), the engines and weights its loaded
        networks ran with, their parts apart included: what `runtime.described` says is in use."""
        ran: dict[str, set[tuple[str, str]]] = {}
        for name in list(self._models):
            for network in self._networks(name).values():
                if network.engine:
                    part = network.apart()
                    ran.setdefault(type(network).__name__, set()).update(
                        {(network.engine, network.precision)} | ({part[1:]} if part else set()))
        return ran

    def _networks(self, name: str) -> dict:
        """A loaded model's networks, by the names a person knows them by; none if not loaded."""
        model = self._models.get(name)
        if model is None:
            return {}
        if isinstance(model, Voice):  # "Tacotron2", "FastSpeech2"; the vocoder by its paper's name
            return {type(model.text_to_mel).__name__: model.text_to_mel, "Multi-band MelGAN": model.vocoder}
        return {"CycleGAN": model.generator}

    def is_damaged(self, name: str) -> bool:
        """Its last load failed on a damaged or unusable file (`synth doctor` repairs it)."""
        return name in self._damaged

    def preload(self, names: list[str]) -> list[str]:
        """Load `names` now; returns the messages of those that could not be loaded: whatever
        goes wrong with one model (missing, unknown, damaged, or a failure nobody foresaw) is
        said, and the others load and the server starts all the same."""
        problems = []
        for name in names:
            try:
                self.get(name)
            except SynthError as e:  # missing, unknown or damaged: say so, start anyway
                problems.append(str(e))
            except Exception as e:  # not ours: its traceback to the log, and start anyway
                log.exception("%s could not be loaded", name)
                problems.append(f"{name} could not be loaded: {type(e).__name__}: {e}")
        return problems
