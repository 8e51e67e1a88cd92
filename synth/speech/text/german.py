"""German text normalisation for the Thorsten voice: the `german_cleaners` it was trained
on, i.e. german-transliterate (numbers, dates, abbreviations, symbols spelled out)."""
from __future__ import annotations

import difflib
import functools
import re
import unicodedata

from german_transliterate.core import GermanTransliterate

from synth.speech.text.traced import Span, Traced

_TOKEN = re.compile(r"\S+")


@functools.cache
def _transliterator() -> GermanTransliterate:
    return GermanTransliterate(replace={";": ",", ":": " "}, sep_abbreviation=" -- ")


def german_cleaners(text: str) -> str:
    return _transliterator().transliterate(text)


def _alone(token: str) -> str:
    """`token` cleaned alone; "" where the reader fails on it out of context (its reading in
    the whole text then has no counterpart, and is placed as inserted)."""
    try:
        return german_cleaners(token)
    except Exception:  # a black box: any failure only costs this token's origins
        return ""


def _token_labels(token: re.Match, cleaned: str) -> tuple[list[Span | None], Span]:
    """For each character `token` alone is cleaned to, the characters of the token it comes
    from, and the span of what the token says (`_core`, or less).

    Where the token's letters and digits are all kept (only lower-cased, punctuation changed:
    "Müller." -> "müller.", "Preis:" -> "preis ", "Uhr;" -> "uhr,"), each character gets its
    own, or the one it replaces. Otherwise the token was read as something else ("Dr." ->
    "doktor", "3." -> "drei") and its characters all get the whole token, except punctuation
    kept as it was at either end ("€." -> "euro.": the full stop is the full stop's own)."""
    word, start = token.group(), token.start()
    lower = word.lower() if len(word.lower()) == len(word) else word
    kept = _kept(lower, cleaned, start)
    if kept is not None:
        return kept, _core(token)
    lead = 0
    while lead < min(len(word), len(cleaned)) - 1 and word[lead] == cleaned[lead] and _is_punctuation(word[lead]):
        lead += 1
    trail = 0
    while (trail < min(len(word), len(cleaned)) - lead - 1 and word[-1 - trail] == cleaned[-1 - trail]
           and _is_punctuation(word[-1 - trail])):
        trail += 1
    core = (start + lead, token.end() - trail)
    return ([(start + i, start + i + 1) for i in range(lead)] + [core] * (len(cleaned) - lead - trail)
            + [(token.end() - trail + i, token.end() - trail + i + 1) for i in range(trail)]), core


def _kept(word: str, cleaned: str, start: int) -> list[Span | None] | None:
    """Each character of `cleaned` -> the character of `word` (at `start`) it is, or replaces
    (None: inserted), if every letter and digit of `cleaned` is one of `word`'s; else None."""
    labels: list[Span | None] = [None] * len(cleaned)
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, word, cleaned, autojunk=False).get_opcodes():
        if tag != "equal" and any(c.isalnum() for c in cleaned[j1:j2]):
            return None
        if tag in ("equal", "replace"):
            for j in range(j1, j2):
                i = i1 + (j - j1) * (i2 - i1) // (j2 - j1)
                labels[j] = (start + i, start + i + 1)
    return labels


def _core(token: re.Match) -> Span:
    """The token without the punctuation around it ("Müller." -> "Müller"), if that leaves any."""
    start, end = token.span()
    while start < end - 1 and _is_punctuation(token.string[start]):
        start += 1
    while end > start + 1 and _is_punctuation(token.string[end - 1]):
        end -= 1
    return start, end


def _is_punctuation(char: str) -> bool:
    return unicodedata.category(char).startswith("P")


def clean_german(text: Traced) -> Traced:
    """`german_cleaners`, with the origin of each character of its output found by alignment.

    german-transliterate is a black box that reads the whole text at once, and reads a number
    by what stands around it ("3. Mai" -> "dritten mai", "1995" in a sentence -> "neunzehnhundert
    ...", "3,50 €" -> "drei euro fünfzig", "€ 5" -> "fünf euro"): it cannot be made to keep
    origins, and its output on the whole text is what the voice was trained on, so the ids must
    come from it unchanged. The symbols are therefore the whole text's output, as before, and
    the origin of each of its characters is found afterwards:

    1. each whitespace-separated token of the text is cleaned alone, and each character of that
       output gets the token (`_token_labels`: its own character where the token's letters
       and digits are only lower-cased, "Preis:" -> "preis "; else the whole token, but for
       punctuation kept as it was at either end, "€." -> "euro.");
    2. those outputs, joined by spaces, are aligned to the whole text's output with difflib
       (no junk heuristic): word by word, then character by character inside the words that
       differ. A character matched gets the origin of its counterpart; one replaced ("dritten"
       for "drei"), that of the character at the same relative place in what it replaces;
    3. words the reader moved ("€ 5" -> "fünf euro": "fünf" is inserted before "euro" and
       deleted after it) join the tokens involved into one word (`_join_moved`);
    4. a character inserted (no counterpart) gets the token of the nearest character with
       one in the same run of non-space characters ("dritten": "itt" is the 3's); whitespace,
       and a run with no such character, get a zero-width span where they stand: silence
       between words, no word's.

    Exact: the symbols (the whole text's output, untouched). Approximate: the origins, where
    the reading of the whole text and of its tokens alone differ. A token read as something
    else is read as a whole (its characters are not told apart); punctuation the reader
    swallows with a token ("5 kg." -> "fünf kilogramm") stays in that token's word; and when
    the reader changes whole words with no look-alike nearby (an expansion the token alone
    does not get), their letters are shared between the tokens by position, or say nothing
    (zero width) when inserted whole between words.
    """
    cleaned = german_cleaners(text.text)
    joined, labels, cores = [], [], []  # per character of the tokens' outputs: (token, span) or None
    for index, token in enumerate(_TOKEN.finditer(text.text)):
        if index:
            joined.append(" ")
            labels.append(None)
        alone = _alone(token.group())
        joined.append(alone)
        spans, core = _token_labels(token, alone)
        labels += [(index, span) if span else None for span in spans]
        cores.append(core)
    joined = "".join(joined)

    found: list[tuple[int, Span] | None] = [None] * len(cleaned)  # per character of `cleaned`
    inserted = []  # characters with no counterpart, placed once all matches are known
    # Word by word first (fast, and no letter is matched into another word), then character by
    # character where the words differ.
    ours, theirs = list(_TOKEN.finditer(joined)), list(_TOKEN.finditer(cleaned))
    opcodes = difflib.SequenceMatcher(None, [w.group() for w in ours], [w.group() for w in theirs],
                                      autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            for our, their in zip(ours[i1:i2], theirs[j1:j2]):
                found[their.start():their.end()] = labels[our.start():our.end()]
        elif j1 < j2:
            a = (ours[i1].start(), ours[i2 - 1].end()) if i1 < i2 else (0, 0)
            b = (theirs[j1].start(), theirs[j2 - 1].end())
            inserted += _align_characters(joined, labels, a, cleaned, b, found)
    _join_moved(opcodes, ours, theirs, cleaned, labels, cores, found)
    _place_inserted(inserted, cleaned, cores, found)
    return Traced(cleaned, _origins(text, found))


def _place_inserted(inserted: list[int], cleaned: str, cores: list[Span], found: list) -> None:
    """Each character inserted gets what the token of the nearest character with an origin in
    its run of non-space characters says, if there is one."""
    for j in inserted:
        if found[j] is not None:  # joined to a moved word
            continue
        left = j - 1
        while left >= 0 and not cleaned[left].isspace() and found[left] is None:
            left -= 1
        right = j + 1
        while right < len(cleaned) and not cleaned[right].isspace() and found[right] is None:
            right += 1
        near = [k for k in (left, right) if 0 <= k < len(cleaned) and not cleaned[k].isspace()
                and found[k] is not None]
        if near:
            token = found[min(near, key=lambda k: abs(k - j))][0]
            found[j] = (token, cores[token])


def _join_moved(opcodes: list, ours: list[re.Match], theirs: list[re.Match], cleaned: str, labels: list,
                cores: list[Span], found: list) -> None:
    """Words the reader moved past a neighbour ("€ 3" -> "drei euro", "3,50 €" -> "drei euro
    fünfzig") are read together: where words of the whole reading with no counterpart (inserted)
    stand next to (at most two words from) words of the tokens' readings left out (deleted) that
    look alike (3 letters in a row in common), every letter between them reads all the tokens
    involved, so they make one word, as "1 000 €" does in French."""
    for k, (tag, _, _, j1, j2) in enumerate(opcodes):
        if tag != "insert":
            continue
        inserted = " ".join(w.group() for w in theirs[j1:j2])
        for step in (-1, 1):
            if not 0 <= k + 2 * step < len(opcodes):
                continue
            between, other = opcodes[k + step], opcodes[k + 2 * step]
            if between[0] != "equal" or between[4] - between[3] > 2 or other[0] != "delete":
                continue
            deleted = " ".join(w.group() for w in ours[other[1]:other[2]])
            common = difflib.SequenceMatcher(None, inserted, deleted, autojunk=False).find_longest_match(
                0, len(inserted), 0, len(deleted))
            if common.size < 3:
                continue
            start, end = (theirs[between[3]].start(), theirs[j2 - 1].end()) if step < 0 else \
                (theirs[j1].start(), theirs[between[4] - 1].end())
            tokens = {labels[i][0] for w in ours[other[1]:other[2]] for i in range(*w.span()) if labels[i]}
            tokens |= {found[j][0] for j in range(start, end) if found[j]}
            span = (min(cores[t][0] for t in tokens), max(cores[t][1] for t in tokens))
            for j in range(start, end):
                if not cleaned[j].isspace() and not _is_punctuation(cleaned[j]):
                    found[j] = (min(tokens), span)
            break


def _align_characters(joined: str, labels: list, a: Span, cleaned: str, b: Span, found: list) -> list[int]:
    """Labels `cleaned[b]` from `joined[a]` (found[j] = labels[i]) by aligning characters:
    a character matched gets its counterpart's label; one replaced, that of the character at the
    same relative place in the run it replaces (or the nearest with one); whitespace, none.
    Returns the characters inserted, with no counterpart."""
    pending = []
    matcher = difflib.SequenceMatcher(None, joined[a[0]:a[1]], cleaned[b[0]:b[1]], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        i1, i2, j1, j2 = i1 + a[0], i2 + a[0], j1 + b[0], j2 + b[0]
        if tag == "equal":
            found[j1:j2] = labels[i1:i2]
            continue
        for j in range(j1, j2):
            if cleaned[j].isspace():
                continue
            near = None
            if tag == "replace":
                at = i1 + (j - j1) * (i2 - i1) // (j2 - j1)
                near = min((i for i in range(i1, i2) if labels[i] is not None), key=lambda i: abs(i - at), default=None)
            if near is None:
                pending.append(j)
            else:
                found[j] = labels[near]
    return pending


def _origins(text: Traced, found: list[tuple[int, Span] | None]) -> list[Span]:
    """Spans of the original text; a character with none gets zero width where it stands: at
    the end of what the characters before it read (at the start of what the next one reads)."""
    origins = [text.span(*label[1]) if label else None for label in found]
    at = next((o[0] for o in origins if o is not None), text.span(0, 0)[0])
    for j, origin in enumerate(origins):
        if origin is None:
            origins[j] = (at, at)
        else:
            at = max(at, origin[1])
    return origins
