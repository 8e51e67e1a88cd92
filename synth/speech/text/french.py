"""French text normalisation for the SynPaFlex voice: numbers written out in words, then
lower case and single spaces, as the voice was trained (`basic_cleaners`).

The reference front end had no number reading, so digits were dropped ("J'ai 3 chats" said
"J'ai chats"). The voice knows the words, so numbers are spelled out before cleaning, with
num2words (letters, accents, spaces and hyphens, all in the voice's symbol table):

- cardinals and years alike: "1998" -> "mille neuf cent quatre-vingt-dix-huit";
- thousands separated by a space (plain, no-break or narrow no-break) or by dots in groups of
  three: "1 000" and "1.000" -> "mille" (so "12 352" is one number, as French writes it);
- decimals after a comma, or after a dot that is not a thousands separator: "3,5" -> "trois
  virgule cinq", "3,05" -> "trois virgule zéro cinq";
- ordinals: "1er", "1re"/"1ère", "2e"/"2ème"/"2eme"/"2è", plural with "s";
- percentages "50 %" / "50%" -> "cinquante pour cent"; euros and dollars, symbol before or
  after: "3,50 €" -> "trois euros cinquante", "0,50 €" -> "cinquante centimes",
  "1 000 000 €" -> "un million d'euros";
- "-5" -> "moins cinq" when the minus is not inside a word ("COVID-19" keeps its hyphen);
- codes read digit by digit: a number with a leading zero ("06" -> "zéro six", so phone
  numbers written in pairs read as the French say them), or 11 digits and more in a row.

A "%", "€" or "$" without a number is left alone: it is no quantity, and the voice has no
symbol for it, so it is skipped as before.

Each character of the cleaned text keeps the span of the original text it reads
(synth.speech.text.traced, `clean_french`): a reading, all it reads, so "1 000 €" and "50 %"
are one word each.
"""
from __future__ import annotations

import re

from num2words import num2words

from synth.speech.text.traced import Traced

_WHITESPACE = re.compile(r"\s+")
_SPACES = " \u00a0\u202f"  # the separators French puts between groups of three digits
_ORDINAL = re.compile(r"(?<![0-9.,])([0-9]+)(er|re|ère|ème|eme|è|e)(s?)\b")
# [sign] [currency] integer (groups of three after a space or a dot, or plain) [,. fraction] [% or currency]
_NUMBER = re.compile(
    r"(?<![0-9])(?:(?<!\w)(?P<sign>[-−]))?"
    rf"(?:(?P<prefix>[€$])[{_SPACES}]?)?"
    rf"(?P<integer>[0-9]{{1,3}}(?:[{_SPACES}][0-9]{{3}})+(?![0-9])"
    r"|[0-9]{1,3}(?:\.[0-9]{3})+(?![0-9])"
    r"|[0-9]+)"
    r"(?:[,.](?P<fraction>[0-9]+))?"
    rf"(?:[{_SPACES}]?(?P<suffix>[%€$]))?")
# Currency symbol -> (unit, units, cent, cents).
_CURRENCIES = {"€": ("euro", "euros", "centime", "centimes"), "$": ("dollar", "dollars", "cent", "cents")}
# num2words writes plural "s" into ordinals: "quatre-vingtsième", "deux centsième".
_ORDINAL_PLURAL_S = re.compile(r"(vingt|cent|million|milliard)sième")
_LONGEST_QUANTITY = 10  # digits in a row; more are a code, read digit by digit
# A time of day: 10h30, 10 h 30, 10:30, 10h (hours 0-23, minutes 00-59).
_TIME = re.compile(r"(?<![0-9:])([01]?[0-9]|2[0-3])(?:\s?h\s?([0-5][0-9])?|:([0-5][0-9]))(?![0-9:]|\w)")


def _cardinal(number: int) -> str:
    return num2words(number, lang="fr")


def _integer(written: str) -> str:
    """'3', '1 000', '1.000' -> words; a leading zero or a long run of digits is a code,
    read digit by digit ('06' -> 'zéro six')."""
    if written.isdigit() and ((len(written) > 1 and written[0] == "0") or len(written) > _LONGEST_QUANTITY):
        return " ".join(_cardinal(int(d)) for d in written)
    return _cardinal(int(re.sub("[^0-9]", "", written)))


def _fraction(digits: str) -> str:
    """After "virgule": each leading zero, then the rest as a number ('05' -> 'zéro cinq')."""
    rest = digits.lstrip("0")
    return " ".join(["zéro"] * (len(digits) - len(rest)) + ([_cardinal(int(rest))] if rest else []))


def _ordinal(match: re.Match) -> str:
    number, suffix, plural = int(match.group(1)), match.group(2), match.group(3)
    if number == 1:
        word = "première" if suffix in ("re", "ère") else "premier"
    else:
        word = _ORDINAL_PLURAL_S.sub(r"\1ième", num2words(number, lang="fr", to="ordinal"))
    return word + plural


def _amount(integer: str, fraction: str | None, currency: str) -> str:
    """'3', '50', '€' -> 'trois euros cinquante'; '0', '50', '€' -> 'cinquante centimes'."""
    unit, units, cent, cents = _CURRENCIES[currency]
    if fraction is not None and len(fraction) > 2:  # no cents: a decimal number of units
        return f"{_integer(integer)} virgule {_fraction(fraction)} {units}"
    whole, hundredths = int(re.sub("[^0-9]", "", integer)), int((fraction or "0").ljust(2, "0"))
    if whole == 0 and hundredths:
        return f"{_cardinal(hundredths)} {cent if hundredths == 1 else cents}"
    words = _integer(integer)
    if re.search("(illion|illiard)s?$", words):  # "un million d'euros", "deux milliards de dollars"
        words += " d'" + units if units[0] in "aeiou" else " de " + units
    else:
        words += " " + (units if whole > 1 else unit)
    return words + (f" {_cardinal(hundredths)}" if hundredths else "")


def _number(match: re.Match) -> str:
    integer, fraction = match.group("integer", "fraction")
    unit = match.group("prefix") or match.group("suffix")
    if unit in _CURRENCIES:
        words = _amount(integer, fraction, unit)
    else:
        words = _integer(integer) + (f" virgule {_fraction(fraction)}" if fraction is not None else "")
        if unit == "%":
            words += " pour cent"
    return ("moins " if match.group("sign") else "") + words


def _time(match: re.Match) -> str:
    """'10h30' -> 'dix heures trente'; '1h' -> 'une heure'."""
    hours, minutes = int(match.group(1)), match.group(2) or match.group(3)
    words = ("une" if hours == 1 else _cardinal(hours)) + (" heure" if hours == 1 else " heures")
    return words + (f" {_cardinal(int(minutes))}" if minutes and int(minutes) else "")


def normalize_numbers_traced(text: Traced) -> Traced:
    """Times, numbers, ordinals, percentages and amounts as French words, each reading
    pointing at all it reads ("1 000 €" -> "mille euros": every letter points at "1 000 €")."""
    return text.sub(_TIME, _time).sub(_ORDINAL, _ordinal).sub(_NUMBER, _number)


def normalize_numbers(text: str) -> str:
    """Times, numbers, ordinals, percentages and amounts as French words."""
    return normalize_numbers_traced(Traced(text)).text


def clean_french(text: Traced) -> Traced:
    """`basic_cleaners`, keeping origins."""
    text = normalize_numbers_traced(text)
    # Lower case character by character, so that each keeps its origin; str.lower of the
    # whole text is still the text (it differs only for a final sigma, "Σ" -> "ς" at the end
    # of a word, one character for one, so the origins still line up).
    text = Traced(text.text.lower(), text.map(str.lower).origins)
    return text.sub(_WHITESPACE, " ")


def basic_cleaners(text: str) -> str:
    return clean_french(Traced(text)).text
