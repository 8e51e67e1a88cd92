"""What a voice read, written for a person: the symbols of one word as a teacher would show
them ("$3.50" -> "three dollars, fifty cents"; `{T AH0 M EY1 T OW2}`; 한 -> ㅎㅏㄴ; 好 -> hao3).

Korean symbols are conjoining jamo, which a browser would join back into the syllable; they
are shown as the compatibility letters (ㅎㅏㄴ) instead. Mandarin symbols are an initial and
a final with its tone; they are shown as the pinyin syllable they came from.
"""
from __future__ import annotations

import unicodedata

_JAMO_ROLES = ("HANGUL CHOSEONG ", "HANGUL JUNGSEONG ", "HANGUL JONGSEONG ")
NO_INITIAL = "^"  # the Baker symbol for a syllable that starts with its final (an, er, yu)


def letter(jamo: str) -> str:
    """A conjoining jamo as the letter that stands alone (ᄒ -> ㅎ); anything else unchanged."""
    name = unicodedata.name(jamo, "")
    for role in _JAMO_ROLES:
        if name.startswith(role):
            try:
                return unicodedata.lookup("HANGUL LETTER " + name[len(role):])
            except KeyError:
                return jamo
    return jamo


def arpabet(symbols: list[str]) -> str:
    """English: the letters as the voice read them, ARPAbet phonemes ("@T") in braces."""
    out, phonemes = [], []
    for symbol in [*symbols, ""]:
        if symbol.startswith("@"):
            phonemes.append(symbol[1:])
            continue
        if phonemes:
            out.append("{" + " ".join(phonemes) + "}")
            phonemes = []
        out.append(symbol)
    return "".join(out)


def jamo(symbols: list[str]) -> str:
    return "".join(letter(s) for s in symbols)


def pinyin(symbols: list[str], pinyin_dict: dict[str, list[str]]) -> str:
    """Mandarin: each initial + final (with its tone digit) as its pinyin syllable (sh + iii4
    -> shi4), syllables separated by spaces; pauses left out."""
    syllable_of = {tuple(parts): base for base, parts in pinyin_dict.items()}
    syllables, initial = [], None
    for symbol in symbols:
        if symbol[-1:].isdigit() and initial is not None:
            final, tone = symbol[:-1], symbol[-1]
            syllables.append(syllable_of.get((initial, final), (initial if initial != NO_INITIAL else "") + final) + tone)
            initial = None
        elif symbol == "er5" and syllables:  # erhua: the r joins the syllable before
            syllables[-1] = syllables[-1][:-1] + "r" + syllables[-1][-1]
        elif not symbol.startswith(("#", "sil")):
            initial = symbol
    return " ".join(syllables)
