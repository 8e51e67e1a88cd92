"""`processor.json` (the voice's symbol table) + the front end its voice was trained with."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Callable

from synth.errors import ConfigError
from synth.speech.text.english import english_cleaners
from synth.speech.text.french import basic_cleaners
from synth.speech.text.german import german_cleaners
from synth.speech.text.korean import korean_cleaners

# processor_name in processor.json -> the cleaner that voice was trained on.
FRONT_ENDS: dict[str, Callable[[str], str]] = {
    "LJSpeechProcessor": english_cleaners,
    "KSSProcessor": korean_cleaners,
    "ThorstenProcessor": german_cleaners,
    "SynpaflexProcessor": basic_cleaners,
}
_ARPABET_SPAN = re.compile(r"(.*?)\{(.+?)\}(.*)")


class TextProcessor:
    """Turns text into the symbol ids a voice expects (same ids as tensorflow-tts)."""

    def __init__(self, symbol_to_id: dict[str, int], processor_name: str):
        if processor_name not in FRONT_ENDS:
            raise ConfigError(f"no front end for '{processor_name}' yet; "
                              f"available: {sorted(FRONT_ENDS)}")
        self.symbol_to_id = symbol_to_id
        self.processor_name = processor_name
        self.eos_id = symbol_to_id["eos"]
        self._id_to_symbol = {i: s for s, i in symbol_to_id.items()}
        self._clean = FRONT_ENDS[processor_name]

    @classmethod
    def from_file(cls, path: str | Path) -> "TextProcessor":
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            return cls(data["symbol_to_id"], data["processor_name"])
        except (OSError, ValueError, KeyError) as e:
            raise ConfigError(f"{path} is not a usable processor.json: {e!r}") from e

    @classmethod
    def from_pretrained(cls, path_or_repo_id: str, revision: str | None = None) -> "TextProcessor":
        from synth import hub

        return cls.from_file(Path(hub.resolve(path_or_repo_id, revision=revision)) / "processor.json")

    def clean(self, text: str) -> str:
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
        return any(self._id_to_symbol[i][-1].isalnum() for i in self.text_to_ids(text)[:-1])

    def unknown_characters(self, text: str) -> list[str]:
        """Characters of the cleaned text that this voice has no symbol for (they are skipped)."""
        cleaned = self.clean(re.sub(r"\{.+?\}", " ", text))
        return sorted({c for c in cleaned if c not in self.symbol_to_id and not c.isspace()})
