"""When each typed word is spoken, from the model itself: FastSpeech2 says how many frames
each symbol lasts; Tacotron2's attention says which symbol each decoder step reads."""
from __future__ import annotations

import dataclasses

import numpy as np

from synth.speech.text.processor import Word


@dataclasses.dataclass(frozen=True)
class TimedWord:
    """A word of the text as typed, where it stands in that text and when it is spoken."""
    text: str                 # as typed: "Dr.", "$3.50", "1995" (punctuation around it left out)
    start: float              # seconds from the start of the audio
    end: float                # start == end: the model skipped it (it is still listed)
    char_start: int           # text[char_start:char_end] == word.text, in the text given to speak
    char_end: int
    symbols: tuple[str, ...] = ()  # what the model read for it ("@" marks an ARPAbet phoneme)

    def as_dict(self) -> dict:
        return {"text": self.text, "start": round(self.start, 4), "end": round(self.end, 4),
                "char_start": self.char_start, "char_end": self.char_end, "symbols": list(self.symbols)}


def frames_from_durations(durations: np.ndarray) -> np.ndarray:
    """(symbols + 1,) the frame at which each symbol starts, then the end: exact, since
    FastSpeech2 decides each symbol's length in frames before it makes the mel."""
    return np.concatenate([[0], np.cumsum(durations)]).astype(np.float64)


def frames_from_alignment(alignment: np.ndarray, frames: int) -> np.ndarray:
    """(symbols + 1,) the frame at which each symbol starts being read, then the end, from
    Tacotron2's attention (symbols, steps): each step reads its most-attended symbol, never
    one before the previous step's (attention moves forward), and a symbol starts at the
    first step that has reached it. A symbol no step reads lasts zero frames. Steps become
    frames by the mel's own length (reduction factor, and any speed stretch)."""
    symbols, steps = alignment.shape
    reading = np.maximum.accumulate(alignment.argmax(axis=0))
    return np.searchsorted(reading, np.arange(symbols + 1), side="left") * (frames / steps)


def timed_words(words: list[Word], symbols: list[str], starts: np.ndarray,
                seconds_per_frame: float) -> list[TimedWord]:
    """The words of one sentence with their times, from where each symbol starts (`starts`,
    frames, one more than the symbols)."""
    return [TimedWord(w.text, float(starts[w.first] * seconds_per_frame), float(starts[w.last] * seconds_per_frame),
                      w.start, w.end, tuple(symbols[w.first:w.last])) for w in words]
