"""Speech as files and byte streams: WAV, FLAC, MP3, Ogg Opus and raw PCM.

libsndfile (through soundfile) encodes them all, in-process. Two codec facts shape this
module: Opus runs only at 8, 12, 16, 24 or 48 kHz, so audio for it is resampled up to the
next of those (24 kHz for the 22.05 kHz voices); and libsndfile goes back to rewrite the
header of a WAV, FLAC or MP3 when it closes one, so only raw PCM and Ogg Opus, which it
writes strictly front to back, can be sent while they are being made.
"""
from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np

from synth.errors import OptionError

# format -> (libsndfile container, subtype)
FORMATS = {"wav": ("WAV", "PCM_16"), "flac": ("FLAC", "PCM_16"), "mp3": ("MP3", "MPEG_LAYER_III"),
           "opus": ("OGG", "OPUS"), "pcm": ("RAW", "PCM_16")}
SUFFIXES = {".wav": "wav", ".flac": "flac", ".mp3": "mp3", ".opus": "opus", ".ogg": "opus", ".pcm": "pcm"}
STREAMABLE = ("pcm", "opus")
MEDIA_TYPES = {"wav": "audio/wav", "flac": "audio/flac", "mp3": "audio/mpeg", "opus": "audio/ogg",
               "pcm": "audio/L16"}
OPUS_RATES = (8000, 12000, 16000, 24000, 48000)


def check_format(name: str) -> str:
    """`name` if it is a format synth writes; else an OptionError listing them."""
    if name not in FORMATS:
        raise OptionError(f"unknown audio format '{name}'; choose one of {', '.join(FORMATS)}",
                          reason="format", value=name, choices=list(FORMATS))
    return name


def format_of(path: str | Path) -> str:
    """The format a file name asks for, by its extension."""
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise OptionError(f"{path}: unknown audio file type '{suffix}'; use one of {', '.join(SUFFIXES)}",
                          reason="format", value=suffix, choices=list(SUFFIXES))
    return SUFFIXES[suffix]


def output_rate(fmt: str, rate: int) -> int:
    """The sample rate a `fmt` file holds for audio made at `rate`."""
    return next(r for r in OPUS_RATES if r >= rate) if fmt == "opus" and rate not in OPUS_RATES else rate


def resample(audio: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Polyphase resampling (anti-aliased) from `rate` to `target` Hz."""
    if rate == target:
        return audio
    from scipy.signal import resample_poly

    common = math.gcd(rate, target)
    return resample_poly(audio, target // common, rate // common).astype(np.float32)


class AudioWriter:
    """Writes mono float audio in [-1, 1], piece by piece, as `fmt` into a path or a
    binary file object; close it (or leave the `with`) to finish the file."""

    def __init__(self, target, fmt: str, rate: int):
        import soundfile as sf

        container, subtype = FORMATS[check_format(fmt)]
        self.rate, self.file_rate = rate, output_rate(fmt, rate)
        self._file = sf.SoundFile(target, "w", self.file_rate, 1, subtype, format=container)

    def write(self, audio: np.ndarray) -> None:
        self._file.write(np.clip(resample(np.asarray(audio, np.float32), self.rate, self.file_rate), -1.0, 1.0))

    def close(self) -> None:
        self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def encode(audio: np.ndarray, rate: int, fmt: str) -> bytes:
    """A whole `fmt` file in memory."""
    buffer = io.BytesIO()
    with AudioWriter(buffer, fmt, rate) as writer:
        writer.write(audio)
    return buffer.getvalue()


class _Sink(io.RawIOBase):
    """A file object that hands over what has been written so far (formats in STREAMABLE
    never go back to rewrite it)."""

    def __init__(self):
        super().__init__()
        self._pending = bytearray()
        self._position = 0

    def writable(self):
        return True

    def seekable(self):
        return True

    def write(self, data) -> int:
        self._pending += bytes(data)
        self._position += len(data)
        return len(data)

    def seek(self, offset, whence=io.SEEK_SET):
        if (offset, whence) not in ((0, io.SEEK_CUR), (self._position, io.SEEK_SET), (0, io.SEEK_END)):
            raise OSError("this stream cannot go back")
        return self._position

    def tell(self):
        return self._position

    def take(self) -> bytes:
        data, self._pending = bytes(self._pending), bytearray()
        return data


class StreamEncoder:
    """Encodes audio piece by piece into bytes that can be sent at once (pcm, opus)."""

    def __init__(self, fmt: str, rate: int):
        if fmt not in STREAMABLE:
            raise OptionError(f"'{fmt}' cannot be sent while it is being made; stream one of {STREAMABLE}",
                              reason="format", value=fmt, choices=list(STREAMABLE))
        self._sink = _Sink()
        self._writer = AudioWriter(self._sink, fmt, rate)

    def write(self, audio: np.ndarray) -> bytes:
        self._writer.write(audio)
        return self._sink.take()

    def close(self) -> bytes:
        self._writer.close()
        return self._sink.take()
