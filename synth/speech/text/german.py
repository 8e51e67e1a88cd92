"""German text normalisation for the Thorsten voice: the `german_cleaners` it was trained
on, i.e. german-transliterate (numbers, dates, abbreviations, symbols spelled out)."""
from __future__ import annotations

import functools

from german_transliterate.core import GermanTransliterate


@functools.cache
def _transliterator() -> GermanTransliterate:
    return GermanTransliterate(replace={";": ",", ":": " "}, sep_abbreviation=" -- ")


def german_cleaners(text: str) -> str:
    return _transliterator().transliterate(text)
