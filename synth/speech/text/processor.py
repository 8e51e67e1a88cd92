"""`processor.json` (the voice's symbol table) + the front end its voice was trained with."""
from __future__ import annotations

import bisect
import dataclasses
import itertools
import json
import re
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Callable

from synth import hub
from synth.catalog import PROCESSOR_FILES, PROCESSOR_JSON
from synth.errors import ConfigError
from synth.speech.text import readable
from synth.speech.text.lexicon import Lexicon
from synth.speech.text.traced import Symbol, Traced

# A front end turns text into the voice's symbols, each with the span of the original text it
# reads (synth.speech.text.traced), as the voice was trained.
FrontEnd = Callable[[Traced], list[Symbol]]


# Each language's module is imported when a voice of that language is made, not before: the
# English number reader (inflect) alone took 2.6 s of the app's start (it now waits for the
# first number, english._inflect).
def _english(data: dict) -> FrontEnd:
    from synth.speech.text.english import clean_english
    return lambda text: list(clean_english(text))


def _korean(data: dict) -> FrontEnd:
    from synth.speech.text.korean import clean_korean
    return lambda text: list(clean_korean(text))


def _german(data: dict) -> FrontEnd:
    from synth.speech.text.german import clean_german
    return lambda text: list(clean_german(text))


def _french(data: dict) -> FrontEnd:
    from synth.speech.text.french import clean_french
    return lambda text: list(clean_french(text))


def _mandarin(data: dict) -> FrontEnd:
    from synth.speech.text.mandarin import MandarinFrontEnd
    return MandarinFrontEnd(data["pinyin_dict"])


# processor_name in processor.json -> (language, its front end made from processor.json's contents).
FRONT_ENDS: dict[str, tuple[str, Callable[[dict], FrontEnd]]] = {
    "LJSpeechProcessor": ("en", _english),
    "KSSProcessor": ("ko", _korean),
    "ThorstenProcessor": ("de", _german),
    "SynpaflexProcessor": ("fr", _french),
    "BakerProcessor": ("zh", _mandarin),
}
PAUSES = ("sil", "#0", "#1", "#2", "#3")  # Mandarin's pauses (synth.speech.text.mandarin)
NOT_SPEECH = {"pad", "eos", *PAUSES}  # symbols that are silence, not sound
_BRACES = re.compile(r"\{(.+?)\}")
SAID_SIGNS = set("&#@%*/\\")  # punctuation by Unicode, but read aloud: "and", "number", "at", ...
# What a listener calls a word: a {braced} pronunciation, a Han character (Chinese is written
# without spaces), or a run of other non-space characters.
_DOTTED = re.compile(r"(?:[^\W\d_]\.){2,}$")
_TOKEN = re.compile(r"\{[^}]*\}|[\u3400-\u9fff\uf900-\ufaff]|[^\s{\u3400-\u9fff\uf900-\ufaff]+|\{")


@dataclasses.dataclass(frozen=True)
class Word:
    """A word as typed, and the symbols the voice reads for it."""
    text: str
    start: int    # text[start:end] in the text encoded
    end: int
    first: int    # its symbols are ids[first:last]; first == last: it says nothing
    last: int


@dataclasses.dataclass
class Encoded:
    """What `TextProcessor.encode` makes of a text: the ids, and which ids read which word."""
    ids: list[int]
    words: list[Word]


class TextProcessor:
    """Turns text into the symbol ids a voice expects (same ids as tensorflow-tts)."""

    def __init__(self, data: dict):
        """`data`: the contents of processor.json (symbol_to_id, processor_name, ...)."""
        processor_name = data["processor_name"]
        if processor_name not in FRONT_ENDS:
            raise ConfigError(f"no front end for '{processor_name}' yet; "
                              f"available: {sorted(FRONT_ENDS)}")
        self.symbol_to_id = data["symbol_to_id"]
        self.processor_name = processor_name
        self.eos_id = self.symbol_to_id["eos"]
        self._id_to_symbol = {i: s for s, i in self.symbol_to_id.items()}
        self.language, front_end = FRONT_ENDS[processor_name]
        self._front_end = front_end(data)
        self._pinyin_dict = data.get("pinyin_dict")

    @classmethod
    def from_file(cls, path: str | Path) -> "TextProcessor":
        try:
            return cls(json.loads(Path(path).read_text(encoding="utf-8")))
        except ConfigError as e:
            e.details.setdefault("file", str(path))
            raise
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:  # ValueError: bad JSON, not UTF-8
            raise ConfigError(f"{path} is not a usable processor.json: {e!r}", file=str(path)) from e

    @classmethod
    def from_pretrained(cls, path_or_repo_id: str, revision: str | None = None) -> "TextProcessor":
        """The symbol table of a voice's text-to-mel repo (of a catalog voice, its text_to_mel repo)."""
        directory = hub.files(path_or_repo_id, revision, roles=("text_to_mel",), file_sets=PROCESSOR_FILES)
        with hub.reading(directory["text_to_mel"], path_or_repo_id):  # a damaged cached file: ModelDamaged
            return cls.from_file(directory["text_to_mel"] / PROCESSOR_JSON)

    def clean(self, text: str) -> list[str]:
        """Text as the voice's symbols (characters or phonemes), unknown ones included."""
        return [symbol.symbol for symbol in self._front_end(Traced(text))]

    def _read(self, text: Traced) -> list[Symbol]:
        """The symbols the voice knows for `text`; `{HH AH0 L OW1}` spans are read as ARPAbet
        (pinyin for Mandarin). Symbols the voice does not know are dropped, as in training."""
        pieces, start = [], 0
        for braces in _BRACES.finditer(text.text):
            pieces.append(self._front_end(Traced(text.text[start:braces.start()], text.origins[start:braces.start()])))
            span = text.span(braces.start(), braces.end())
            pieces.append([Symbol(symbol, *span) for symbol in self._braced(braces.group(1))])
            start = braces.end()
        pieces.append(self._front_end(Traced(text.text[start:], text.origins[start:])))
        symbols = pieces[0] if len(pieces) == 1 else self._joined(pieces, text)
        return [s for s in symbols if s.symbol in self.symbol_to_id]

    def _joined(self, pieces: list[list[Symbol]], text: Traced) -> list[Symbol]:
        """Pieces read apart (text around braces) as one utterance: for Mandarin, `sil` only at
        both ends and `#0` between the pieces, as between any two syllables."""
        if self.language != "zh":
            return [symbol for piece in pieces for symbol in piece]
        pieces = [kept for kept in ([s for s in piece if s.symbol != "sil"] for piece in pieces) if kept]
        start, end = text.span(0, len(text))
        symbols = [Symbol("sil", start, start)]
        for index, piece in enumerate(pieces):
            if index:
                symbols.append(Symbol("#0", piece[0].start, piece[0].start))
            symbols += piece
        return symbols + [Symbol("sil", end, end)]

    def _braced(self, reading: str) -> list[str]:
        """A {braced} reading as symbols: ARPAbet phonemes for English ("@HH"), pinyin
        syllables with tone numbers for Mandarin (hao3 -> h ao3, #0 between syllables);
        anything else stays as written (a symbol no voice has)."""
        if self.language != "zh":
            return ["@" + phoneme for phoneme in reading.split()]
        symbols = []
        for syllable in reading.split():
            symbols += (self._front_end.syllable(syllable) or [syllable]) + ["#0"]
        return symbols[:-1]

    def unknown_symbols(self, reading: str) -> list[str]:
        """What in a pronunciation `reading` this voice cannot say: braced phonemes or
        syllables it does not have, and characters it would skip (as `unspeakable`)."""
        missing = [item for braces in _BRACES.finditer(reading) for item in braces.group(1).split()
                   if not all(s in self.symbol_to_id for s in self._braced(item))]
        return missing + self.unspeakable(reading)

    def readable(self, symbols: list[str]) -> str:
        """Symbols this voice read, written for a person (synth.speech.text.readable)."""
        if self.language == "en":
            return readable.arpabet(symbols)
        if self.language == "ko":
            return readable.jamo(symbols)
        if self.language == "zh":
            return readable.pinyin(symbols, self._pinyin_dict)
        return "".join(symbols)

    def _read_with(self, text: str, lexicon: Lexicon | None) -> list[Symbol]:
        return self._read(Traced(text) if lexicon is None else lexicon.apply(Traced(text)))

    def encode(self, text: str, lexicon: Lexicon | None = None) -> Encoded:
        """The ids of `text` (+ eos) and its words, each with the ids that read it; the
        `lexicon`'s words are read as it says (their words and timings follow)."""
        symbols = self._read_with(text, lexicon)
        ids = [self.symbol_to_id[s.symbol] for s in symbols] + [self.eos_id]
        return Encoded(ids, _words(text, symbols, [self._is_speech(i) for i in ids]))

    def text_to_ids(self, text: str, lexicon: Lexicon | None = None) -> list[int]:
        """Cleaned text -> ids + eos, the same ids as tensorflow-tts."""
        return [self.symbol_to_id[s.symbol] for s in self._read_with(text, lexicon)] + [self.eos_id]

    def symbols(self, ids: list[int]) -> list[str]:
        """The symbols the model reads for `ids` ("@" marks an ARPAbet phoneme)."""
        return [self._id_to_symbol[i] for i in ids]

    def _is_speech(self, symbol_id: int) -> bool:
        symbol = self._id_to_symbol[symbol_id]
        return symbol not in NOT_SPEECH and symbol[-1].isalnum()

    def _spoken(self, text: str, lexicon: Lexicon | None = None) -> Counter:
        """The letters or phonemes the voice says for `text` (punctuation and pauses left out)."""
        return Counter(i for i in self.text_to_ids(text, lexicon)[:-1] if self._is_speech(i))

    def is_speakable(self, text: str, lexicon: Lexicon | None = None) -> bool:
        """Whether `text` holds at least one letter, digit or phoneme this voice knows."""
        return bool(self._spoken(text, lexicon))

    def unspeakable(self, text: str, lexicon: Lexicon | None = None) -> list[str]:
        """Characters of `text` the voice will not say: no letter or phoneme of the voice
        comes from them (emoji, symbols, scripts it was not trained on). Punctuation is never
        listed (it shapes the prosody, it is not said), except signs a reader says aloud. A character is judged in context
        ("$" in "$3" is read as "dollars"), but only when it says nothing on its own."""
        text = _BRACES.sub(" ", text if lexicon is None else lexicon.apply(Traced(text)).text)
        suspects = sorted({c for c in text if not c.isspace() and not self._spoken(c)
                           and (c in SAID_SIGNS or not unicodedata.category(c).startswith("P"))})
        if not suspects:
            return []
        spoken = self._spoken(text)
        return [c for c in suspects if self._spoken(text.replace(c, "")) == spoken]


def _words(text: str, symbols: list[Symbol], spoken: list[bool]) -> list[Word]:
    """The words of `text` and the symbols that read each. Punctuation around a word is left
    out unless it is read as part of it ("Dr." -> "doctor"); words that one reading joins
    ("1 000 €" -> "mille euros") are one word."""
    said = set()  # characters that some spoken symbol reads
    for symbol, is_spoken in zip(symbols, spoken):
        if is_spoken:
            said.update(range(symbol.start, symbol.end))
    spans = []
    for token in _TOKEN.finditer(text):
        start, end = token.span()
        while start < end and start not in said and unicodedata.category(text[start]).startswith("P"):
            start += 1
        while end > start and end - 1 not in said and unicodedata.category(text[end - 1]).startswith("P") \
                and not _DOTTED.search(text, start, end):  # "U.S.", "e.g."
            end -= 1
        if start < end:
            spans.append([start, end])
    # A symbol that reads across two words joins them ("1 000 €").
    starts, ends = [start for start, _ in spans], [end for _, end in spans]
    joined = [False] * len(spans)  # joined[k]: spans k and k + 1 are one word
    for symbol in symbols:
        if symbol.end > symbol.start:
            for k in range(bisect.bisect_right(ends, symbol.start), bisect.bisect_left(starts, symbol.end) - 1):
                joined[k] = True
    merged = []
    for k, span in enumerate(spans):
        if k and joined[k - 1]:
            merged[-1][1] = span[1]
        else:
            merged.append(span)
    # Each word's symbols: those whose span overlaps it (in order, one run).
    starts, ends = [start for start, _ in merged], [end for _, end in merged]
    firsts, lasts = [None] * len(merged), [None] * len(merged)
    for index, symbol in enumerate(symbols):
        if symbol.end > symbol.start:
            k = bisect.bisect_right(ends, symbol.start)
            while k < len(merged) and starts[k] < symbol.end:
                firsts[k] = index if firsts[k] is None else firsts[k]
                lasts[k] = index + 1
                k += 1
    reached = list(itertools.accumulate((s.start for s in symbols), max))  # the first symbol at or after a place
    words = []
    for (start, end), first, last in zip(merged, firsts, lasts):
        if first is None:  # nothing said: an empty run where it stands
            first = last = bisect.bisect_left(reached, end)
        words.append(Word(text[start:end], start, end, first, last))
    return words
