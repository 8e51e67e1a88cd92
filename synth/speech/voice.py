"""A voice: text -> sentences -> ids -> mel (any registered text-to-mel model) -> audio.

Each stage is a public method, so it can be tested, timed and shown on its own. `speak`
decodes sentences in batches of the model's BATCH_SIZE (Tacotron2: a batch of five costs
about twice one sentence on a CPU); `stream` decodes the first sentence alone, for fast
first audio, and the rest in batches on a worker thread while the first is being played.
"""
from __future__ import annotations

import dataclasses
import queue
import re
import threading
from typing import Iterator, Mapping

import numpy as np

from synth import hub, runtime
from synth.errors import LexiconError, TextError
from synth.speech import registry
from synth.speech.mel import MelOutput, SpeechOptions
from synth.speech.text import TextProcessor
from synth.speech.text import lexicon
from synth.speech.text.processor import Encoded
from synth.speech.text.sentences import split_sentences
from synth.speech.timing import TimedWord, frames_from_alignment, frames_from_durations, timed_words

MAX_TEXT_CHARS = 5000      # a few minutes of speech; callers may set a lower limit
PAUSE_SECONDS = 0.25       # silence between sentences
# Mels go to the vocoder padded (their last frame repeated) to a multiple of this many
# frames: TensorFlow's oneDNN kernels keep a cache entry per input shape, and 300 sentences
# of 300 different lengths grew a process by 1 GB; in 64-frame steps it levels off. The
# padding changes the last ~40 ms of a sentence by a little, not its length.
VOCODER_FRAMES = 64


def _pcm16(audio: np.ndarray) -> np.ndarray:
    return np.round(np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16)


@dataclasses.dataclass
class SpeechChunk:
    """One sentence as spoken, and the pause that follows it in the whole text."""
    text: str
    audio: np.ndarray                # float32 in [-1, 1], (samples,), the sentence alone
    sample_rate: int
    mel: np.ndarray                  # (frames, n_mels)
    alignment: np.ndarray | None     # (symbols, decoder steps) for attention models
    pause: int = 0                   # samples of silence after it (none after the last)
    durations: np.ndarray | None = None  # (symbols,) frames each, for duration models
    symbols: list[str] = dataclasses.field(default_factory=list)  # what the model read
    words: list[TimedWord] = dataclasses.field(default_factory=list)  # times in the whole audio, places in the whole text

    def samples(self) -> np.ndarray:
        """The sentence and its pause: what a player plays for this chunk."""
        return np.concatenate([self.audio, np.zeros(self.pause, np.float32)])

    def pcm16(self) -> np.ndarray:
        return _pcm16(self.samples())


@dataclasses.dataclass
class Speech:
    """A whole text as spoken: its chunks joined, and what the voice had to leave out."""
    audio: np.ndarray
    sample_rate: int
    mel: np.ndarray                     # (frames, n_mels), sentences concatenated
    alignments: list[np.ndarray | None]  # one (symbols, steps) per sentence (attention models)
    sentences: list[str]
    skipped: list[str] = dataclasses.field(default_factory=list)  # characters not said
    durations: list[np.ndarray | None] = dataclasses.field(default_factory=list)  # (symbols,) frames
    symbols: list[list[str]] = dataclasses.field(default_factory=list)  # what the model read, per sentence
    words: list[TimedWord] = dataclasses.field(default_factory=list)  # every word of the text, when it is said

    @classmethod
    def from_chunks(cls, chunks: list[SpeechChunk], skipped: list[str] = ()) -> "Speech":
        return cls(np.concatenate([c.samples() for c in chunks]), chunks[0].sample_rate,
                   np.concatenate([c.mel for c in chunks]), [c.alignment for c in chunks],
                   [c.text for c in chunks], list(skipped), [c.durations for c in chunks],
                   [c.symbols for c in chunks], [w for c in chunks for w in c.words])

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sample_rate

    def pcm16(self) -> np.ndarray:
        return _pcm16(self.audio)

    def write(self, path) -> None:
        """The audio file at `path`, in the format its extension names (.wav: 16-bit PCM;
        .flac, .mp3, .opus/.ogg, .pcm)."""
        from synth.audio import AudioWriter, format_of

        with AudioWriter(path, format_of(path), self.sample_rate) as writer:
            writer.write(self.audio)


class Voice:
    """Speaks text with a text-to-mel model, a vocoder and the text front end they were
    trained with. `max_chars` is the longest text one call may speak."""

    def __init__(self, text_to_mel, vocoder, processor: TextProcessor, max_chars: int = MAX_TEXT_CHARS):
        self.text_to_mel = text_to_mel
        self.vocoder = vocoder
        self.processor = processor
        self.max_chars = max_chars
        self.sample_rate = int(vocoder.sample_rate or 22050)
        # ids -> mels: the model's own call, which a server may share between requests
        # (synth.serving.batching) so that what waits is decoded together
        self.to_mel = text_to_mel.to_mel
        # the built-in and SYNTH_LEXICON pronunciations it can say; what it could not, in words
        self.lexicon, self.lexicon_problems = lexicon.configured(self.language, processor.unknown_symbols)

    @classmethod
    def from_pretrained(cls, name_or_path: str, vocoder: str | None = None, revision: str | None = None,
                        max_chars: int = MAX_TEXT_CHARS, precision: str | None = None) -> "Voice":
        """A catalog voice name, or a text-to-mel directory/repo plus `vocoder`. `precision`
        ('fp32' or 'int8'): the weights both networks run with on LiteRT, whatever
        SYNTH_PRECISION says (int8 keeps each network's part apart at fp32, as by default)."""
        precision = runtime.asked_precision(precision)
        if vocoder is None:
            dirs = hub.files(name_or_path, revision, roles=hub.VOICE_ROLES)
        else:
            dirs = hub.files(name_or_path, revision, roles=("text_to_mel",)) | hub.files(vocoder, roles=("vocoder",))
        voice = cls(registry.load_text_to_mel(dirs["text_to_mel"]), registry.load_vocoder(dirs["vocoder"]),
                    TextProcessor.from_pretrained(str(dirs["text_to_mel"])), max_chars)
        voice.text_to_mel.precision = voice.vocoder.precision = precision
        return voice

    @property
    def language(self) -> str:
        return self.processor.language

    @property
    def controls(self) -> tuple[str, ...]:
        """Which of speed, pitch and energy this voice's model can change."""
        return self.text_to_mel.CONTROLS

    @property
    def frame_ms(self) -> float:
        """Milliseconds of audio per mel frame (11.6 for LJSpeech, 12.5 for Baker)."""
        return 1000 * self.vocoder.hop_size / self.sample_rate

    # -- stages -----------------------------------------------------------------------
    def sentences(self, text: str, pronunciations: Mapping[str, str] | None = None) -> list[str]:
        """Check `text` and split it into the sentences that will be decoded (`pronunciations`:
        a caller's lexicon entries, which may make a word speakable)."""
        if not isinstance(text, str) or not text.strip():
            raise TextError("the text is empty: type something to speak", reason="empty")
        if len(text) > self.max_chars:
            raise TextError(f"the text is {len(text):,} characters long; this voice speaks at most "
                            f"{self.max_chars:,} at a time: shorten it",
                            reason="too_long", length=len(text), limit=self.max_chars)
        words = self.lexicon_with(pronunciations)
        sentences = [s for s in split_sentences(text, self.language) if self.processor.is_speakable(s, words)]
        if not sentences:
            raise TextError(f"nothing in {text[:80]!r} can be said by this voice "
                            f"(language '{self.language}'): it knows none of its letters",
                            reason="nothing_speakable", language=self.language)
        return sentences

    def unspeakable(self, text: str, pronunciations: Mapping[str, str] | None = None) -> list[str]:
        """Characters of `text` this voice will skip (emoji, symbols, other scripts)."""
        return self.processor.unspeakable(text, self.lexicon_with(pronunciations))

    def lexicon_with(self, pronunciations: Mapping[str, str] | None) -> lexicon.Lexicon:
        """The voice's lexicon with a caller's own entries over it; an entry the voice cannot
        say is refused (LexiconError naming it and the symbols the voice lacks)."""
        if not pronunciations:
            return self.lexicon
        extra = lexicon.Lexicon(self.language, pronunciations)
        _, refused = extra.checked(self.processor.unknown_symbols)
        if refused:
            entries = lexicon.described(refused)
            raise LexiconError(f"these pronunciations use symbols the {self.language} voice does not have: "
                               f"{entries}", reason="unknown_symbols", entries=entries)
        return self.lexicon.updated(extra.entries)

    def encode(self, sentences: list[str], pronunciations: Mapping[str, str] | None = None) -> list[Encoded]:
        """Each sentence's ids, and which of them read each of its words."""
        words = self.lexicon_with(pronunciations)
        return [self.processor.encode(s, words) for s in sentences]

    def ids(self, sentences: list[str], pronunciations: Mapping[str, str] | None = None) -> list[list[int]]:
        return [encoded.ids for encoded in self.encode(sentences, pronunciations)]

    def readings(self, words: list[TimedWord]) -> list[str]:
        """What the model read for each word, written for a person (synth.speech.text.readable)."""
        return [self.processor.readable(list(w.symbols)) for w in words]

    def mels(self, ids: list[list[int]], options: SpeechOptions) -> MelOutput:
        """All `ids` decoded together as one batch."""
        options.check_controls(self.controls, type(self.text_to_mel).__name__)
        return self.to_mel(ids, options)

    def vocode(self, mel: np.ndarray) -> np.ndarray:
        """Mel (frames, n_mels) -> audio limited to [-1, 1], frames x hop samples. Mels are
        vocoded one at a time, padded to a multiple of VOCODER_FRAMES."""
        frames = len(mel)
        padded = np.pad(mel, [(0, -frames % VOCODER_FRAMES), (0, 0)], mode="edge")
        return np.clip(self.vocoder.infer(padded)[0, :frames * self.vocoder.hop_size], -1.0, 1.0)

    def chunk(self, text: str, mel: np.ndarray, alignment: np.ndarray | None, durations: np.ndarray | None,
              encoded: Encoded, last: bool) -> SpeechChunk:
        """A decoded sentence vocoded, with the pause that follows it unless it is the last;
        its words timed from the sentence's start and placed in the sentence."""
        pause = 0 if last else int(PAUSE_SECONDS * self.sample_rate)
        symbols = self.processor.symbols(encoded.ids)
        seconds_per_frame = self.frame_ms / 1000
        if durations is not None:
            words = timed_words(encoded.words, symbols, frames_from_durations(durations), seconds_per_frame)
        else:  # attention reads the final punctuation and eos while the last word dies away, until the stop
            words = timed_words(encoded.words, symbols, frames_from_alignment(alignment, len(mel)), seconds_per_frame)
            said = [index for index, word in enumerate(encoded.words) if word.first < word.last]
            if said:  # the last word that says something; silent ones after it, zero-length at the stop
                stop = len(mel) * seconds_per_frame
                words[said[-1]] = dataclasses.replace(words[said[-1]], end=stop)
                words[said[-1] + 1:] = [dataclasses.replace(w, start=stop, end=stop) for w in words[said[-1] + 1:]]
        return SpeechChunk(text, self.vocode(mel), self.sample_rate, mel, alignment, pause, durations, symbols, words)

    def _placed(self, chunks: Iterator[SpeechChunk], text: str, sentences: list[str]) -> Iterator[SpeechChunk]:
        """Chunks with their words moved to their time in the whole audio and their place
        in the whole text (the sentences were split from it with whitespace collapsed)."""
        elapsed, positions = 0, _positions(text, sentences)
        for chunk, where in zip(chunks, positions):
            chunk.words = [dataclasses.replace(w, text=text[where[w.char_start]:where[w.char_end - 1] + 1],
                                               start=w.start + elapsed / self.sample_rate,
                                               end=w.end + elapsed / self.sample_rate,
                                               char_start=where[w.char_start], char_end=where[w.char_end - 1] + 1)
                           for w in chunk.words]
            elapsed += len(chunk.audio) + chunk.pause
            yield chunk

    # -- whole texts ------------------------------------------------------------------
    def _decoded(self, sentences: list[str], options: SpeechOptions, first_alone: bool) -> Iterator[tuple]:
        """(sentence, mel, alignment, durations, encoded) in order, decoded batch by batch."""
        size = self.text_to_mel.BATCH_SIZE
        starts = [0, *range(1, len(sentences), size)] if first_alone else [*range(0, len(sentences), size)]
        for start, end in zip(starts, [*starts[1:], len(sentences)]):
            seeded = options if options.seed is None else dataclasses.replace(options, seed=options.seed + start)
            encoded = self.encode(sentences[start:end], options.pronunciations)
            out = self.mels([e.ids for e in encoded], seeded)
            none = [None] * (end - start)
            yield from zip(sentences[start:end], out.mels, out.alignments or none, out.durations or none, encoded)

    def stream(self, text: str, options: SpeechOptions | None = None) -> Iterator[SpeechChunk]:
        """One chunk per sentence, each as soon as it is made. A worker thread decodes the
        next batch while this one vocodes and hands over the sentences already decoded."""
        options = options or SpeechOptions()
        sentences = self.sentences(text, options.pronunciations)
        decoded: queue.Queue = queue.Queue(maxsize=self.text_to_mel.BATCH_SIZE)  # one batch ahead, no more
        stop = threading.Event()

        def hand_over(item) -> bool:
            while not stop.is_set():
                try:
                    decoded.put(item, timeout=0.1)
                    return True
                except queue.Full:
                    continue
            return False

        def work():
            try:
                for item in self._decoded(sentences, options, first_alone=True):
                    if not hand_over(item):
                        return
            except BaseException as e:  # handed to the caller, raised there
                hand_over(e)

        def chunks():
            for index in range(len(sentences)):
                item = decoded.get()
                if isinstance(item, BaseException):
                    raise item
                yield self.chunk(*item, last=index == len(sentences) - 1)

        threading.Thread(target=work, name="synth-voice-stream", daemon=True).start()
        try:
            yield from self._placed(chunks(), text, sentences)
        finally:
            stop.set()  # a caller that stops listening stops the decoding

    def speak(self, text: str, options: SpeechOptions | None = None) -> Speech:
        """The whole text, sentences decoded in batches, joined with short pauses."""
        options = options or SpeechOptions()
        sentences = self.sentences(text, options.pronunciations)
        decoded = self._decoded(sentences, options, first_alone=False)
        chunks = (self.chunk(*item, last=index == len(sentences) - 1) for index, item in enumerate(decoded))
        return Speech.from_chunks(list(self._placed(chunks, text, sentences)),
                                  self.unspeakable(text, options.pronunciations))


def _positions(text: str, sentences: list[str]) -> list[list[int]]:
    """For each sentence, the index in `text` of each of its characters. The sentences come
    in order from `text` with every run of whitespace made one space."""
    collapsed, where = [], []
    for token in re.finditer(r"\S+", text):
        if where:
            collapsed.append(" ")
            where.append(where[-1] + 1)
        collapsed.append(token.group())
        where += range(token.start(), token.end())
    collapsed, cursor, positions = "".join(collapsed), 0, []
    for sentence in sentences:
        found = collapsed.find(sentence, cursor)
        found = cursor if found < 0 else found
        positions.append(where[found:found + len(sentence)])
        cursor = found + len(sentence)
    return positions
