"""`processor.json` (the voice's symbol table) + the front end its voice was trained with."""
from __future__ import annotations

import dataclasses
import json
import re
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Callable

from synth import hub
from synth.catalog import PROCESSOR_FILES, PROCESSOR_JSON
from synth.errors import ConfigError
from synth.speech.text.english import clean_english
from synth.speech.text.french import clean_french
from synth.speech.text.german import clean_german
from synth.speech.text.korean import clean_korean
from synth.speech.text.mandarin import PAUSES, MandarinFrontEnd
from synth.speech.text import readable
from synth.speech.text.lexicon import Lexicon
from synth.speech.text.traced import Symbol, Traced

# A front end turns text into the voice's symbols, each with the span of the original text it
# reads (synth.speech.text.traced), as the voice was trained.
FrontEnd = Callable[[Traced], list[Symbol]]
# processor_name in processor.json -> (language, its front end made from processor.json's contents).
FRONT_ENDS: dict[str, tuple[str, Callable[[dict], FrontEnd]]] = {
    "LJSpeechProcessor": ("en", lambda data: lambda text: list(clean_english(text))),
    "KSSProcessor": ("ko", lambda data: lambda text: list(clean_korean(text))),
    "ThorstenProcessor": ("de", lambda data: lambda text: list(clean_german(text))),
    "SynpaflexProcessor": ("fr", lambda data: lambda text: list(clean_french(text))),
    "BakerProcessor": ("zh", lambda data: MandarinFrontEnd(data["pinyin_dict"])),
}
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
        except (OSError, ValueError, KeyError) as e:
            raise ConfigError(f"{path} is not a usable processor.json: {e!r}") from e

    @classmethod
    def from_pretrained(cls, path_or_repo_id: str, revision: str | None = None) -> "TextProcessor":
        """The symbol table of a voice's text-to-mel repo (of a catalog voice, its text_to_mel repo)."""
        directory = hub.files(path_or_repo_id, revision, roles=("text_to_mel",), file_sets=PROCESSOR_FILES)
        return cls.from_file(directory["text_to_mel"] / PROCESSOR_JSON)

    def clean(self, text: str) -> list[str]:
        """Text as the voice's symbols (characters or phonemes), unknown ones included."""
        return [symbol.symbol for symbol in self._front_end(Traced(text))]

    def _read(self, text: Traced) -> list[Symbol]:
        """The symbols the voice knows for `text`; `{HH AH0 L OW1}` spans are read as ARPAbet.
        Symbols the voice does not know are dropped, as in training."""
        symbols, start = [], 0
        for braces in _BRACES.finditer(text.text):
            symbols += self._front_end(Traced(text.text[start:braces.start()], text.origins[start:braces.start()]))
            span = text.span(braces.start(), braces.end())
            symbols += [Symbol(symbol, *span) for symbol in self._braced(braces.group(1))]
            start = braces.end()
        symbols += self._front_end(Traced(text.text[start:], text.origins[start:]))
        return [s for s in symbols if s.symbol in self.symbol_to_id]

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

    def encode(self, text: str, lexicon: Lexicon | None = None) -> Encoded:
        """The ids of `text` (+ eos) and its words, each with the ids that read it; the
        `lexicon`'s words are read as it says (their words and timings follow)."""
        traced = Traced(text) if lexicon is None else lexicon.apply(Traced(text))
        symbols = self._read(traced)
        ids = [self.symbol_to_id[s.symbol] for s in symbols] + [self.eos_id]
        return Encoded(ids, _words(text, symbols, [self._is_speech(i) for i in ids]))

    def text_to_ids(self, text: str) -> list[int]:
        """Cleaned text -> ids + eos, the same ids as tensorflow-tts."""
        return self.encode(text).ids

    def symbols(self, ids: list[int]) -> list[str]:
        """The symbols the model reads for `ids` ("@" marks an ARPAbet phoneme)."""
        return [self._id_to_symbol[i] for i in ids]

    def _is_speech(self, symbol_id: int) -> bool:
        symbol = self._id_to_symbol[symbol_id]
        return symbol not in NOT_SPEECH and symbol[-1].isalnum()

    def _spoken(self, text: str) -> Counter:
        """The letters or phonemes the voice says for `text` (punctuation and pauses left out)."""
        return Counter(i for i in self.text_to_ids(text)[:-1] if self._is_speech(i))

    def is_speakable(self, text: str) -> bool:
        """Whether `text` holds at least one letter, digit or phoneme this voice knows."""
        return bool(self._spoken(text))

    def unspeakable(self, text: str) -> list[str]:
        """Characters of `text` the voice will not say: no letter or phoneme of the voice
        comes from them (emoji, symbols, scripts it was not trained on). Punctuation is never
        listed (it shapes the prosody, it is not said), except signs a reader says aloud. A character is judged in context
        ("$" in "$3" is read as "dollars"), but only when it says nothing on its own."""
        text = _BRACES.sub(" ", text)
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
    merged = []
    for span in spans:  # a symbol that reads across two words joins them
        if merged and any(s.start < merged[-1][1] and s.end > span[0] for s in symbols if s.end > s.start):
            merged[-1][1] = span[1]
        else:
            merged.append(span)
    words = []
    for start, end in merged:
        inside = [i for i, s in enumerate(symbols) if s.start < end and s.end > start and s.end > s.start]
        if inside:
            first, last = inside[0], inside[-1] + 1
        else:  # nothing said: an empty run where it stands
            first = last = next((i for i, s in enumerate(symbols) if s.start >= end), len(symbols))
        words.append(Word(text[start:end], start, end, first, last))
    return words
