"""What every text-to-mel model takes and gives, so that a voice can speak with any of them.

A text-to-mel model (Tacotron2 today; FastSpeech2 next) implements

    from_pretrained(path_or_repo_id, revision)  # reads the files synth.catalog lists for it
    to_mel(ids: list[list[int]], options: SpeechOptions) -> MelOutput

and is registered under its config's `model_type` in `synth.speech.registry`.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from synth.errors import OptionError

MIN_SPEED, MAX_SPEED = 0.5, 2.0


@dataclasses.dataclass(frozen=True)
class SpeechOptions:
    """Per-call choices. `seed` makes dropout (and so the audio) reproducible; `max_steps`
    caps each sentence's decoder steps; `speed` > 1 speaks faster, with the same pitch."""
    seed: int | None = None
    max_steps: int | None = None
    speed: float = 1.0

    def __post_init__(self):
        if not MIN_SPEED <= self.speed <= MAX_SPEED:
            raise OptionError(f"speed {self.speed} is out of range: choose {MIN_SPEED} to {MAX_SPEED}",
                              reason="speed", value=self.speed, low=MIN_SPEED, high=MAX_SPEED)
        if self.max_steps is not None and self.max_steps < 1:
            raise OptionError(f"max_steps {self.max_steps} is out of range: choose 1 or more",
                              reason="max_steps", value=self.max_steps)


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
