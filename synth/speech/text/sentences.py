"""Sentence splitting for the voice layer, by a small rule table per language.

Tacotron2 decodes each sentence in its own attention run, with a pause after it, and
its attention drifts past about 200 characters. A wrong cut ("Dr." | "Smith") is an
audible pause in the wrong place; a missed cut only makes one sentence longer, and a
sentence too long is cut at clauses anyway. So where a full stop is ambiguous, it is
not taken as a sentence end:

- an abbreviation never ends a sentence, unless it ends the text ("etc. Then" is one);
- an initial (one cased letter and a full stop) never does: "J. R. R. Tolkien";
- in German a number of up to three digits with a full stop is an ordinal ("am 21.
  März", so "Ich habe 3. Danach ..." stays one sentence); a year ("1990.") can end one;
- a bare number opening a sentence is a list marker ("1. Open the lid.");
- an ellipsis ends a sentence only before a capital letter ("Wait... what?" is one;
  "Wait... What?" is two; in Korean and Chinese, which have no capitals, never);
- ";" and ":" are clause breaks, where too-long sentences are cut, not sentence ends.

pysbd, the maintained-looking option, has no Korean and no release since 2021.
"""
from __future__ import annotations

import re

from synth.errors import ConfigError

MAX_SENTENCE_CHARS = 200   # Tacotron2 attention drifts on longer inputs

_OPENERS = "\"'“‘„‚«»([{「『（《"
_CLOSERS = "\"'”’“‘»«)]}」』）》"   # German closes with “ ‘ «, French with »
_RUN = r"[.!?…。！？｡．]+"
_END = re.compile(rf"({_RUN})[{re.escape(_CLOSERS)}]*")
_END_FRENCH = re.compile(rf"({_RUN})(?:[{re.escape(_CLOSERS)}]| »)*")   # « Va ! »
_CJK_STOP = re.compile(r"[。！？｡．]")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_DOTTED = re.compile(r"(?:[^\W\d_]\.){2,}")   # "U.S.", "e.g.", "i.e.", "a.m.", "z.B.", "d.h."
_INITIAL = re.compile(r"[A-Z]\.")
_KOREAN_QUOTATIVES = ("하고", "하며", "하면서", "하는", "라고", "라며", "라는", "이라고")   # 그는 "가자!" 하고

# Abbreviations (regexes, full stop left out) that end a sentence only at the end of the
# text. Initials cover one-letter ones ("M.", "S.", "z. B.") and _DOTTED dotted ones.
_ENGLISH = ["Dr", "Mr", "Mrs", "Ms", "St", "Jr", "Sr", "Prof", "vs", "etc", "Inc", "Ltd",
            "Co", "Corp", "Mt", "Ave", "approx", "cf", "Fig", "Gov", "Sen", "Rev", "Capt"]
_ABBREVIATIONS = {
    "en": _ENGLISH,
    "ko": _ENGLISH,   # Latin abbreviations in Korean and Chinese text are English ones
    "de": ["Dr", "Nr", "usw", "bzw", "ca", "Hr", "Fr", "Prof", "etc", "vgl", "ggf", "evtl",
           "inkl", "bspw", "Mio", "Mrd", "Jh", r"[^\W\d_]*str"],   # "Str.", "Hauptstr."
    "fr": ["Mme", "Mlle", "MM", "Dr", "etc", r"p\. ex", "env", "St", "Ste", "av", "cf", "Tél", "janv", "févr",
           "avr", "juil", "sept", "oct", "nov", "déc"],
    "zh": _ENGLISH,
}
_ABBREVIATION = {language: re.compile(rf"(?:^|[\s{re.escape(_OPENERS)}])(?:{'|'.join(words)})\.$",
                                      re.IGNORECASE)
                 for language, words in _ABBREVIATIONS.items()}
_CUTS = (re.compile(r"(?<=[,;:])(?= )|(?<=[，、；：])"),   # clauses; not "3,5" or "7:30"
         re.compile(r"(?= )"))                            # words


def split_sentences(text: str, language: str, max_chars: int = MAX_SENTENCE_CHARS) -> list[str]:
    """Sentences of `text` as typed (whitespace collapsed), each cut to at most `max_chars`
    characters at clauses, then words, or, in scripts written without spaces, anywhere."""
    if language not in _ABBREVIATIONS:
        raise ConfigError(f"unknown language {language!r}: expected one of {', '.join(_ABBREVIATIONS)}")
    text = " ".join(text.split())
    return [piece for sentence in _sentences(text, language)
            for piece in _cut(sentence, max_chars) if piece]


def _sentences(text: str, language: str):
    start = 0
    for end in (_END_FRENCH if language == "fr" else _END).finditer(text):
        if _ends_sentence(text, start, end, language):
            yield text[start:end.end()]
            start = end.end() + 1 if text[end.end():end.end() + 1] == " " else end.end()
    if start < len(text):
        yield text[start:]


def _ends_sentence(text: str, start: int, end: re.Match, language: str) -> bool:
    run, rest = end.group(1), text[end.end():]
    if not rest:
        return False
    if _CJK_STOP.search(run):   # needs no space; "３．５" is a number
        return not (run == "．" and text[end.start() - 1:end.start()].isdigit() and rest[0].isdigit())
    strong = "!" in run or "?" in run
    ellipsis = not strong and run != "."
    if rest[0] != " ":   # Chinese typed with half-width punctuation: "你好!我"
        return not ellipsis and bool(_HAN.match(rest))
    following = rest[1:]
    if language == "ko" and end.end() > end.end(1) and following.startswith(_KOREAN_QUOTATIVES):
        return False
    if strong:
        return _starts_sentence(following)
    if ellipsis:
        return following.lstrip(_OPENERS)[:1].isupper()
    return _starts_sentence(following) and not _abbreviated(text[start:end.start() + 1], following, language)


def _starts_sentence(text: str) -> bool:
    """Upper case, a digit, a quote or bracket, or a letter of a script without case."""
    first = text[0]
    return first.isdigit() or first in _OPENERS or (first.isalpha() and not first.islower())


def _abbreviated(sentence: str, following: str, language: str) -> bool:
    """Whether the full stop ending `sentence` (so far) belongs to a word, not the sentence."""
    word = sentence.rsplit(" ", 1)[-1].lstrip(_OPENERS)[:-1]
    if word.isdigit():
        return " " not in sentence or (language == "de" and len(word) <= 3)
    if language == "en" and word == "I":   # the pronoun, unless initials follow: "I. M. Pei"
        return bool(_INITIAL.match(following))
    if len(word) == 1 and (word.isupper() or word.islower()):   # cased: Hangul "네." is a word
        return True
    if language == "en" and word.lower() == "no":   # "No. 5", but "No. He left."
        return following[0].isdigit()
    return bool(_DOTTED.fullmatch(word + ".") or _ABBREVIATION[language].search(sentence))


def _cut(text: str, max_chars: int, level: int = 0) -> list[str]:
    if len(text) <= max_chars:
        return [text]
    if level == len(_CUTS):
        return [text[i:i + max_chars] for i in range(0, len(text), max_chars)]
    return [piece for part in _pack(_CUTS[level].split(text), max_chars)
            for piece in _cut(part, max_chars, level + 1)]


def _pack(chunks: list[str], max_chars: int) -> list[str]:
    """Consecutive chunks joined while they fit, so that there are as few cuts as possible."""
    parts, current = [], ""
    for chunk in chunks:
        if current and len((current + chunk).strip()) > max_chars:
            parts.append(current.strip())
            current = chunk
        else:
            current += chunk
    return parts + [current.strip()]


def shorten(text: str, limit: int) -> str:
    """The beginning of `text`, at most `limit` characters, ending after a sentence if one
    ends in it, else at a space, else at the limit: what a text box can take of a long file."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    ends = [m.end() for m in _END.finditer(head)]
    if ends:
        return head[:ends[-1]]
    if head[-1].isspace() or text[limit].isspace() or not re.search(r"\s", head.strip()):
        return head.rstrip()  # whole words already, or one long word cut at the limit
    return head.rsplit(None, 1)[0]
