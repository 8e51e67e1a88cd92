"""A voice: text -> sentences -> ids -> mel (Tacotron2) -> audio (Multi-band MelGAN)."""
from __future__ import annotations

import dataclasses
import logging
import re
from typing import Iterator

import numpy as np

from synth import hub
from synth.errors import TextError
from synth.speech.melgan import MultiBandMelGAN
from synth.speech.tacotron2 import Tacotron2
from synth.speech.text import TextProcessor

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 5000      # a few minutes of speech; the app sets its own, lower cap
MAX_SENTENCE_CHARS = 200   # Tacotron2 attention drifts on longer inputs: split them
PAUSE_SECONDS = 0.25       # silence between sentences
BATCH_SIZE = 8             # sentences decoded together
# Western sentence ends need a space after them ("3.5" is no end); CJK ones do not.
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|(?<=[。！？；])\s*")
_CLAUSE_END = re.compile(r"(?<=[,])\s+|(?<=[，、])\s*")


@dataclasses.dataclass
class SpeechChunk:
    """One sentence as spoken."""
    text: str
    audio: np.ndarray        # float32 in [-1, 1], (samples,)
    sample_rate: int
    mel: np.ndarray          # (frames, n_mels)
    alignment: np.ndarray    # (symbols, decoder steps)


@dataclasses.dataclass
class Speech:
    """A whole text as spoken: sentences joined with short pauses."""
    audio: np.ndarray
    sample_rate: int
    mel: np.ndarray               # (frames, n_mels), sentences concatenated
    alignments: list[np.ndarray]  # one (symbols, steps) per sentence
    sentences: list[str]

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sample_rate

    def write(self, path) -> None:
        """A 16-bit PCM WAV at the voice's sample rate."""
        import soundfile as sf

        sf.write(path, self.audio, self.sample_rate, subtype="PCM_16")


def split_sentences(text: str, max_chars: int = MAX_SENTENCE_CHARS) -> list[str]:
    """Sentences, with any longer than `max_chars` cut at clauses, then at words (or, in
    scripts written without spaces, every `max_chars` characters)."""
    pieces = []
    for sentence in _SENTENCE_END.split(" ".join(text.split())):
        parts = [sentence] if len(sentence) <= max_chars else _CLAUSE_END.split(sentence)
        for part in parts:
            words, current = part.split(" "), ""
            words = [w[i:i + max_chars] for w in words for i in range(0, max(len(w), 1), max_chars)]
            for word in words:
                if current and len(current) + 1 + len(word) > max_chars:
                    pieces.append(current)
                    current = word
                else:
                    current = f"{current} {word}" if current else word
            pieces.append(current)
    return [p for p in pieces if p.strip()]


class Voice:
    """Speaks text with a Tacotron2 + Multi-band MelGAN pair and their text front end."""

    def __init__(self, tacotron2: Tacotron2, vocoder: MultiBandMelGAN, processor: TextProcessor):
        self.tacotron2 = tacotron2
        self.vocoder = vocoder
        self.processor = processor
        self.sample_rate = int(vocoder.sample_rate or 22050)

    @classmethod
    def from_pretrained(cls, name_or_path: str, vocoder: str | None = None,
                        revision: str | None = None) -> "Voice":
        """A catalog voice name, or a Tacotron2 directory/repo plus `vocoder`."""
        text_to_mel, vocoder_dir = hub.resolve_voice(name_or_path, vocoder, revision=revision)
        return cls(Tacotron2.from_pretrained(str(text_to_mel)),
                   MultiBandMelGAN.from_pretrained(str(vocoder_dir)),
                   TextProcessor.from_pretrained(str(text_to_mel)))

    def sentences(self, text: str) -> list[str]:
        """Validate `text` and split it into the sentences that will be decoded."""
        if not isinstance(text, str) or not text.strip():
            raise TextError("text is empty: type something to speak")
        if len(text) > MAX_TEXT_CHARS:
            raise TextError(f"text is {len(text)} characters long; the limit is {MAX_TEXT_CHARS}")
        sentences = [s for s in split_sentences(text) if self.processor.is_speakable(s)]
        if not sentences:
            raise TextError(f"nothing in {text[:80]!r} can be spoken by this voice "
                            f"({self.processor.processor_name})")
        return sentences

    def _synthesize(self, sentences: list[str], seed: int | None, max_steps: int | None) -> list[SpeechChunk]:
        ids = [self.processor.text_to_ids(s) for s in sentences]
        out = self.tacotron2.infer(ids, max_steps=max_steps, seed=seed)
        steps = out.lengths // self.tacotron2.config.reduction_factor
        mels = [mel[:n] for mel, n in zip(out.mel, out.lengths)]
        # Each mel is vocoded alone: padding would change the last samples of shorter ones.
        return [SpeechChunk(text, np.clip(self.vocoder.infer(mel)[0], -1.0, 1.0), self.sample_rate,
                            mel, alignment[:len(i), :k])
                for text, mel, alignment, i, k in zip(sentences, mels, out.alignment, ids, steps)]

    def stream(self, text: str, seed: int | None = None, max_steps: int | None = None) -> Iterator[SpeechChunk]:
        """One chunk per sentence, each yielded as soon as it is made."""
        for index, sentence in enumerate(self.sentences(text)):
            yield self._synthesize([sentence], None if seed is None else seed + index, max_steps)[0]

    def speak(self, text: str, seed: int | None = None, max_steps: int | None = None) -> Speech:
        """The whole text, sentences decoded in batches, joined with short pauses."""
        sentences = self.sentences(text)
        chunks = []
        for start in range(0, len(sentences), BATCH_SIZE):
            batch_seed = None if seed is None else seed + start
            chunks += self._synthesize(sentences[start:start + BATCH_SIZE], batch_seed, max_steps)
        return join(chunks)


def join(chunks: list[SpeechChunk]) -> Speech:
    """Concatenate sentence chunks with a short pause between them."""
    rate = chunks[0].sample_rate
    pause = np.zeros(int(PAUSE_SECONDS * rate), np.float32)
    audio = [piece for chunk in chunks for piece in (chunk.audio, pause)][:-1]
    return Speech(np.concatenate(audio), rate, np.concatenate([c.mel for c in chunks]),
                  [c.alignment for c in chunks], [c.text for c in chunks])
