"""Pronunciations a person can fix: a word -> what the voice should read instead.

A voice says some words wrong (names, loan words, "Tacotron"); a lexicon entry replaces the
word, whole and in any case, before the front end reads it, so its timings and the
symbols shown for it follow the replacement. A reading is an English ARPAbet spelling in
braces (`{T AH0 M EY1 T OW2}`, symbols the LJSpeech voice has), Mandarin pinyin with tone
numbers (`ni3 hao3`), or, in every language, a respelling in the voice's own letters (Han
characters for Mandarin). A word is whole when no letter of its own script touches it, so
"AI" is found in "我用AI"; a Korean word may be followed by its particle ("사과" in "사과를").
Text already in braces is left alone.

Sources, each overriding the one before: BUILT_IN, the JSON file named by SYNTH_LEXICON
(`{"en": {"word": "reading", ...}, "ko": {...}}`), and the entries a caller passes per
call (the app's table, one visitor's own).
"""
from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import Callable, Mapping

from synth.errors import LexiconError
from synth.speech.text.traced import Traced

log = logging.getLogger(__name__)

LANGUAGES = ("en", "ko", "de", "fr", "zh")
BUILT_IN: dict[str, dict[str, str]] = {
    "en": {"synth": "{S IH1 N TH}", "Tacotron": "{T AE1 K OW0 T R AA2 N}", "MelGAN": "mel gan",
           "CycleGAN": "cycle gan"},
}
ENVIRONMENT = "SYNTH_LEXICON"
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_HANGUL = "\uac00-\ud7a3"
_PINYIN = re.compile(r"[a-zü]+[1-5](?:\s+[a-zü]+[1-5])*", re.IGNORECASE)
_BRACED = r"\{[^}]*\}"  # already a pronunciation: left alone


class Lexicon:
    """Whole-word, case-insensitive replacements for one language."""

    def __init__(self, language: str, entries: Mapping[str, str] = ()):
        self.language = language
        self.entries = {word.strip(): reading.strip() for word, reading in dict(entries).items()}
        words = sorted(self.entries, key=len, reverse=True)  # "New York" before "New"
        self._readings = {word.casefold(): self._reading(self.entries[word]) for word in words}
        self._pattern = re.compile("|".join([_BRACED, *(self._whole(word) for word in words)]), re.IGNORECASE) \
            if words else None

    def __len__(self) -> int:
        return len(self.entries)

    def _reading(self, reading: str) -> str:
        """Pinyin is read as syllables, not as Latin letters: it goes in braces."""
        return f"{{{reading}}}" if self.language == "zh" and _PINYIN.fullmatch(reading) else reading

    @staticmethod
    def _whole(word: str) -> str:
        """`word` where no letter of its own script touches it: Chinese, written without
        spaces, anywhere; Korean before any particle; Latin words between non-Latin letters."""
        if _HAN.match(word):
            return re.escape(word)
        if re.match(f"[{_HANGUL}]", word):
            return rf"(?<![{_HANGUL}]){re.escape(word)}"
        return rf"(?<![^\W\d_{_HANGUL}\u3400-\u9fff]){re.escape(word)}(?![^\W\d_{_HANGUL}\u3400-\u9fff])"

    def updated(self, entries: Mapping[str, str]) -> "Lexicon":
        """This lexicon with `entries` added or overriding (same word in any case)."""
        kept = {w: r for w, r in self.entries.items() if w.casefold() not in {e.casefold() for e in entries}}
        return Lexicon(self.language, kept | dict(entries))

    def apply(self, text: Traced) -> Traced:
        """Every listed word replaced by its reading; each reading points at its word."""
        if self._pattern is None:
            return text
        return text.sub(self._pattern, lambda match: self._readings.get(match.group(0).casefold(), match.group(0)))

    def checked(self, unknown: Callable[[str], list[str]]) -> tuple["Lexicon", list[tuple[str, str, list[str]]]]:
        """Only the entries whose reading the voice can say; and (word, reading, symbols the
        voice lacks) for each other one (`unknown(reading)` lists those symbols)."""
        good, refused = {}, []
        for word, reading in self.entries.items():
            missing = unknown(self._reading(reading))
            if missing:
                refused.append((word, reading, missing))
            else:
                good[word] = reading
        return Lexicon(self.language, good), refused


def described(refused: list[tuple[str, str, list[str]]]) -> str:
    """Refused entries in a few words: 'word' -> 'reading' (the symbols the voice lacks)."""
    return "; ".join(f"{word!r} -> {reading!r} ({' '.join(missing)})" for word, reading, missing in refused)


def read_file(path: str | Path) -> tuple[dict[str, dict[str, str]], list[str]]:
    """A lexicon file's entries by language, and a message for each part that was dropped.
    A file that is not a JSON object of languages is refused whole (LexiconError)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise LexiconError(f"{path}: not a readable JSON lexicon ({e}); expected "
                           f'{{"en": {{"word": "reading"}}, ...}}', reason="unreadable", path=str(path)) from e
    if not isinstance(data, dict):
        raise LexiconError(f"{path}: a lexicon is a JSON object of languages ({', '.join(LANGUAGES)}), "
                           f"not {type(data).__name__}", reason="shape", path=str(path))
    entries, dropped = {}, []
    for language, words in data.items():
        if language not in LANGUAGES:
            dropped.append(f"{path}: unknown language {language!r}; expected one of {', '.join(LANGUAGES)}")
        elif not isinstance(words, dict):
            dropped.append(f"{path}: {language!r} must map words to readings, not {type(words).__name__}")
        else:
            for word, reading in words.items():
                if isinstance(reading, str) and reading.strip() and word.strip():
                    entries.setdefault(language, {})[word] = reading
                else:
                    dropped.append(f"{path}: the entry {word!r} -> {reading!r} is not a word and a reading")
    return entries, dropped


def configured(language: str, unknown: Callable[[str], list[str]]) -> tuple[Lexicon, list[str]]:
    """BUILT_IN with the SYNTH_LEXICON file over it, for `language`, keeping the entries a
    voice can say (`unknown`: see Lexicon.checked); and what was dropped, each also logged. A
    bad file never stops a voice: its good entries are kept."""
    lexicon, refused = Lexicon(language, BUILT_IN.get(language, {})).checked(unknown)
    dropped = [f"built-in lexicon: symbols the {language} voice does not have: {described(refused)}"] if refused else []
    path = os.environ.get(ENVIRONMENT)
    if path:
        try:
            from_file, problems = read_file(path)
            dropped += problems
            good, refused = Lexicon(language, from_file.get(language, {})).checked(unknown)
            lexicon = lexicon.updated(good.entries)
            if refused:
                dropped.append(f"{path}: symbols the {language} voice does not have: {described(refused)}")
        except LexiconError as e:
            dropped.append(str(e))
    for message in dropped:
        log.warning("lexicon: %s", message)
    return lexicon, dropped
