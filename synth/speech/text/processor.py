"""`processor.json` (the voice's symbol table) + the front end its voice was trained with."""
from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Callable, Sequence

from synth import hub
from synth.catalog import PROCESSOR_FILES, PROCESSOR_JSON
from synth.errors import ConfigError
from synth.speech.text.english import english_cleaners
from synth.speech.text.french import basic_cleaners
from synth.speech.text.german import german_cleaners
from synth.speech.text.korean import korean_cleaners
from synth.speech.text.mandarin import PAUSES, MandarinFrontEnd

# processor_name in processor.json -> (language, the front end that voice was trained with,
# made from the processor.json contents: a function from text to a sequence of symbols).
FRONT_ENDS: dict[str, tuple[str, Callable[[dict], Callable[[str], Sequence[str]]]]] = {
    "LJSpeechProcessor": ("en", lambda data: english_cleaners),
    "KSSProcessor": ("ko", lambda data: korean_cleaners),
    "ThorstenProcessor": ("de", lambda data: german_cleaners),
    "SynpaflexProcessor": ("fr", lambda data: basic_cleaners),
    "BakerProcessor": ("zh", lambda data: MandarinFrontEnd(data["pinyin_dict"])),
}
NOT_SPEECH = {"pad", "eos", *PAUSES}  # symbols that are silence, not sound
_ARPABET_SPAN = re.compile(r"(.*?)\{(.+?)\}(.*)")
_ARPABET_SPAN_ONLY = re.compile(r"\{.+?\}")
SAID_SIGNS = set("&#@%*/\\")  # punctuation by Unicode, but read aloud: "and", "number", "at", ...


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
        self._clean = front_end(data)

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

    def clean(self, text: str) -> Sequence[str]:
        """Text as the voice's symbols: a string of characters, or a list of phonemes."""
        return self._clean(text)

    def _symbols(self, symbols) -> list[int]:
        return [self.symbol_to_id[s] for s in symbols if s in self.symbol_to_id]

    def text_to_ids(self, text: str) -> list[int]:
        """Cleaned text -> ids + eos; `{HH AH0 L OW1}` spans are read as ARPAbet.
        Symbols the voice does not know are dropped, as in training."""
        ids = []
        while text:
            span = _ARPABET_SPAN.match(text)
            if not span:
                ids += self._symbols(self.clean(text))
                break
            ids += self._symbols(self.clean(span.group(1)))
            ids += self._symbols("@" + p for p in span.group(2).split())
            text = span.group(3)
        return ids + [self.eos_id]

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
        text = _ARPABET_SPAN_ONLY.sub(" ", text)
        suspects = sorted({c for c in text if not c.isspace() and not self._spoken(c)
                           and (c in SAID_SIGNS or not unicodedata.category(c).startswith("P"))})
        if not suspects:
            return []
        spoken = self._spoken(text)
        return [c for c in suspects if self._spoken(text.replace(c, "")) == spoken]
