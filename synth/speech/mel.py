"""What every text-to-mel model takes and gives, so that a voice can speak with any of them.

A text-to-mel model (Tacotron2, FastSpeech2) implements

    from_pretrained(path_or_repo_id, revision)  # reads the files synth.catalog lists for it
    CONTROLS                                    # which of speed, pitch, energy it takes
    BATCH_SIZE                                  # how many sentences a voice decodes together
    to_mel(ids: list[list[int]], options: SpeechOptions) -> MelOutput

and is registered under its config's `model_type` in `synth.speech.registry`.
"""
from __future__ import annotations

import dataclasses
from typing import Mapping

import numpy as np

from synth.errors import OptionError, TextError

MIN_SPEED, MAX_SPEED = 0.25, 4.0  # OpenAI's speech API takes the same range
PITCH_RANGE = (0.5, 2.0)
ENERGY_RANGE = (0.5, 2.0)


@dataclasses.dataclass(frozen=True)
class SpeechOptions:
    """Per-call choices. `seed` makes dropout (and so the audio) reproducible; `max_steps`
    caps each sentence's decoder steps (attention models); `speed` > 1 speaks faster;
    `pitch` and `energy` scale the predicted pitch and loudness (models that predict them:
    a model's CONTROLS say which of speed, pitch and energy it takes); `pronunciations` are
    this call's own lexicon entries (synth.speech.text.lexicon)."""
    seed: int | None = None
    max_steps: int | None = None
    speed: float = 1.0
    pitch: float = 1.0
    energy: float = 1.0
    pronunciations: Mapping[str, str] | None = None  # word -> reading, over the voice's lexicon

    def __post_init__(self):
        for name, low, high in (("speed", MIN_SPEED, MAX_SPEED), ("pitch", *PITCH_RANGE),
                                ("energy", *ENERGY_RANGE)):
            value = getattr(self, name)
            if not low <= value <= high:
                raise OptionError(f"{name} {value} is out of range: choose {low} to {high}",
                                  reason=name, value=value, low=low, high=high)
        if self.max_steps is not None and self.max_steps < 1:
            raise OptionError(f"max_steps {self.max_steps} is out of range: choose 1 or more",
                              reason="max_steps", value=self.max_steps)

    def check_controls(self, controls: tuple[str, ...], model: str) -> None:
        """Refuse a pitch or energy change that `model` cannot make (it would be ignored)."""
        for name in ("pitch", "energy"):
            if getattr(self, name) != 1.0 and name not in controls:
                raise OptionError(f"{model} has no {name} control: leave {name} at 1.0, or pick a "
                                  f"voice that has it (FastSpeech2)", reason=f"no_{name}",
                                  value=getattr(self, name), controls=list(controls))


@dataclasses.dataclass
class MelOutput:
    """One mel per input sequence, each trimmed to its own length.

    `alignments` (symbols, decoder steps) come from attention models; `durations`
    (frames per symbol) from duration models; a model fills the one it has."""
    mels: list[np.ndarray]                     # (frames, n_mels) each
    alignments: list[np.ndarray] | None = None
    durations: list[np.ndarray] | None = None

    @property
    def lengths(self) -> list[int]:
        return [len(mel) for mel in self.mels]


def stretch(mel: np.ndarray, speed: float) -> np.ndarray:
    """Resample a mel (frames, n_mels) along time to `frames / speed` frames by linear
    interpolation: the vocoder then speaks it faster or slower at the same pitch."""
    if speed == 1.0:
        return mel
    frames = len(mel)
    target = max(1, round(frames / speed))
    position = np.linspace(0.0, frames - 1, target)
    left = np.floor(position).astype(int)
    right = np.minimum(left + 1, frames - 1)
    weight = (position - left)[:, None].astype(mel.dtype)
    return mel[left] * (1 - weight) + mel[right] * weight


def as_batch(ids, lengths):
    """Normalise the accepted id inputs to a padded int32 (B, T) and lengths (B,)."""
    if isinstance(ids, (list, tuple)) and ids and not np.isscalar(ids[0]):
        seqs = [np.asarray(s, np.int32).reshape(-1) for s in ids]
        lengths = np.array([len(s) for s in seqs], np.int32)
        batch = np.zeros((len(seqs), max(lengths)), np.int32)
        for row, s in zip(batch, seqs):
            row[:len(s)] = s
        ids = batch
    ids = np.asarray(ids, np.int32)
    if ids.ndim == 1:
        ids = ids[None]
    if ids.ndim != 2 or ids.shape[1] == 0:
        raise TextError(f"ids must be a non-empty (T,) or (B, T) array, got shape {ids.shape}")
    lengths = np.full(len(ids), ids.shape[1], np.int32) if lengths is None else np.asarray(lengths, np.int32)
    if lengths.shape != (len(ids),) or lengths.min() < 1 or lengths.max() > ids.shape[1]:
        raise TextError(f"lengths {lengths.tolist()} do not fit ids of shape {ids.shape}")
    return ids, lengths
