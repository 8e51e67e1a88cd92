"""Mandarin front end for the Baker voice: characters -> tone-numbered pinyin (pypinyin, neutral
tone as 5) -> initial + final phonemes from the voice's own `pinyin_dict`, with `#0` between
syllables and `sil` at both ends, as the Baker processor produced them for training.

Only Chinese characters are read; digits, Latin letters and punctuation are skipped (the
voice was trained that way).
"""
from __future__ import annotations

from pypinyin import Style
from pypinyin.contrib.neutral_tone import NeutralToneWith5Mixin
from pypinyin.converter import DefaultConverter
from pypinyin.core import Pinyin

PAUSES = ("sil", "#0", "#1", "#2", "#3")


class _ToneFiveConverter(NeutralToneWith5Mixin, DefaultConverter):
    """pypinyin's converter with the neutral tone written as 5 (ma5), as in the Baker labels."""


_PINYIN = Pinyin(_ToneFiveConverter())


def is_hanzi(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"


class MandarinFrontEnd:
    """Text -> Baker phoneme symbols."""

    def __init__(self, pinyin_dict: dict[str, list[str]]):
        self.pinyin_dict = pinyin_dict

    def _syllable(self, pinyin: str) -> list[str]:
        """'hao3' -> ['h', 'ao3']; 'huar4' (erhua) -> ['h', 'ua4', 'er5']; unknown -> []."""
        base, tone = pinyin[:-1], pinyin[-1]
        if base in self.pinyin_dict:
            initial, final = self.pinyin_dict[base]
            return [initial, final + tone]
        if base.endswith("r") and base[:-1] in self.pinyin_dict:
            initial, final = self.pinyin_dict[base[:-1]]
            return [initial, final + tone, "er5"]
        return []

    def __call__(self, text: str) -> list[str]:
        phonemes = ["sil"]
        # The whole text goes to pypinyin (its phrase dictionary reads characters in context);
        # what has no pinyin is dropped.
        for syllable in _PINYIN.pinyin(text, style=Style.TONE3, errors="ignore"):
            symbols = self._syllable("".join(syllable))
            if symbols:
                phonemes += symbols + ["#0"]
        if phonemes[-1] == "#0":
            phonemes.pop()
        return phonemes + ["sil"]

    @staticmethod
    def skipped(text: str) -> list[str]:
        """Characters that are not read: everything but Chinese characters, spaces and punctuation."""
        return sorted({c for c in text if not is_hanzi(c) and c.isalnum()})
