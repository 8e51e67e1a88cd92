"""English text normalisation: the `english_cleaners` the LJSpeech voice was trained on.

ASCII transliteration, lower case, numbers/currency/ordinals/decimals spelled out,
abbreviations expanded, whitespace collapsed. The voice only ever heard text cleaned
this way, so matching it (not improving on it) is what makes it read correctly.
"""
from __future__ import annotations

import functools
import re

from unidecode import unidecode

from synth.speech.text.traced import Traced


@functools.cache
def _inflect():
    """inflect's number reader, imported at the first number: its import takes ~2.5 s on two
    cores (typeguard instruments it), which a text without digits need not wait for."""
    import inflect

    return inflect.engine()


ABBREVIATIONS = {
    "mrs": "misess", "mr": "mister", "dr": "doctor", "st": "saint", "co": "company",
    "jr": "junior", "maj": "major", "gen": "general", "drs": "doctors", "rev": "reverend",
    "lt": "lieutenant", "hon": "honorable", "sgt": "sergeant", "capt": "captain",
    "esq": "esquire", "ltd": "limited", "col": "colonel", "ft": "fort",
}
# Applied in this order, each over the whole text ("mrs." before "mr.").
_ABBREVIATION_PATTERNS = [(re.compile(rf"\b{short}\.", re.IGNORECASE), long)
                          for short, long in ABBREVIATIONS.items()]
_COMMA_NUMBER = re.compile(r"([0-9][0-9,]+[0-9])")
_DECIMAL = re.compile(r"([0-9]+\.[0-9]+)")
_POUNDS = re.compile(r"£([0-9,]*[0-9]+)")
_DOLLARS = re.compile(r"\$([0-9.,]*[0-9]+)")
_ORDINAL = re.compile(r"[0-9]+(st|nd|rd|th)")
_NUMBER = re.compile(r"[0-9]+")
_WHITESPACE = re.compile(r"\s+")


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def _dollars(match: re.Match) -> str:
    parts = match.group(1).split(".")
    if len(parts) > 2:
        return match.group(1) + " dollars"
    dollars = int(parts[0]) if parts[0] else 0
    cents = int(parts[1]) if len(parts) > 1 and parts[1] else 0
    if dollars and cents:
        return f"{_plural(dollars, 'dollar')}, {_plural(cents, 'cent')}"
    if dollars:
        return _plural(dollars, "dollar")
    if cents:
        return _plural(cents, "cent")
    return "zero dollars"


def _cardinal(match: re.Match) -> str:
    """Years between 1001 and 2999 are read as years ("nineteen eighty-four")."""
    number = int(match.group(0))
    if not 1000 < number < 3000:
        return _inflect().number_to_words(number, andword="")
    if number == 2000:
        return "two thousand"
    if 2000 < number < 2010:
        return "two thousand " + _inflect().number_to_words(number % 100)
    if number % 100 == 0:
        return _inflect().number_to_words(number // 100) + " hundred"
    return _inflect().number_to_words(number, andword="", zero="oh", group=2).replace(", ", " ")


def expand_numbers(text: Traced) -> Traced:
    text = text.sub(_COMMA_NUMBER, lambda m: m.group(1).replace(",", ""))
    text = text.sub(_POUNDS, r"\1 pounds")
    text = text.sub(_DOLLARS, _dollars)
    text = text.sub(_DECIMAL, lambda m: m.group(1).replace(".", " point "))
    text = text.sub(_ORDINAL, lambda m: _inflect().number_to_words(m.group(0)))
    return text.sub(_NUMBER, _cardinal)


def clean_english(text: Traced) -> Traced:
    text = expand_numbers(text.map(unidecode).map(str.lower))
    for pattern, long in _ABBREVIATION_PATTERNS:
        text = text.sub(pattern, long)
    return text.sub(_WHITESPACE, " ")


def english_cleaners(text: str) -> str:
    return clean_english(Traced(text)).text
