"""`processor.json` (the voice's symbol table) + the front end its voice was trained with."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Callable, Sequence

from synth import hub
from synth.errors import ConfigError
from synth.speech.text.english import english_cleaners
from synth.speech.text.french import basic_cleaners
from synth.speech.text.german import german_cleaners
from synth.speech.text.korean import korean_cleaners
from synth.speech.text.mandarin import PAUSES, MandarinFrontEnd

# processor_name in processor.json -> the front end that voice was trained with, made from
# the processor.json contents: a function from text to a sequence of symbols.
FRONT_ENDS: dict[str, Callable[[dict], Callable[[str], Sequence[str]]]] = {
    "LJSpeechProcessor": lambda data: english_cleaners,
    "KSSProcessor": lambda data: korean_cleaners,
    "ThorstenProcessor": lambda data: german_cleaners,
    "SynpaflexProcessor": lambda data: basic_cleaners,
    "BakerProcessor": lambda data: MandarinFrontEnd(data["pinyin_dict"]),
}
NOT_SPEECH = {"pad", "eos", *PAUSES}  # symbols that are silence, not sound
_ARPABET_SPAN = re.compile(r"(.*?)\{(.+?)\}(.*)")


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
        self._clean = FRONT_ENDS[processor_name](data)

    @classmethod
    def from_file(cls, path: str | Path) -> "TextProcessor":
        try:
            return cls(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError) as e:
            raise ConfigError(f"{path} is not a usable processor.json: {e!r}") from e

    @classmethod
    def from_pretrained(cls, path_or_repo_id: str, revision: str | None = None) -> "TextProcessor":
        return cls.from_file(Path(hub.resolve(path_or_repo_id, revision=revision)) / "processor.json")

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

    def is_speakable(self, text: str) -> bool:
        """Whether `text` holds at least one letter, digit or phoneme this voice knows."""
        return any(self._id_to_symbol[i] not in NOT_SPEECH and self._id_to_symbol[i][-1].isalnum()
                   for i in self.text_to_ids(text)[:-1])

    def unknown_characters(self, text: str) -> list[str]:
        """Characters of the cleaned text that this voice has no symbol for (they are skipped)."""
        text = re.sub(r"\{.+?\}", " ", text)
        if isinstance(self._clean, MandarinFrontEnd):
            return self._clean.skipped(text)
        return sorted({c for c in self.clean(text) if c not in self.symbol_to_id and not c.isspace()})
