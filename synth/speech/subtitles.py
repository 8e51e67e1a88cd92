"""Subtitles from the model's own word timings.

The voice knows when it speaks each word (synth.speech.timing), so the subtitles need no separate
aligner: the words are cut into short, readable cues, as broadcast guidelines ask (two lines of at
most 42 characters, split at sentences, clauses and pauses, at most about 7 s each), and written
as WebVTT or SRT.
"""
from __future__ import annotations

import dataclasses
import datetime
import html
import itertools
import math
import re
from pathlib import Path

import srt
import webvtt

from synth.errors import OptionError
from synth.speech.timing import TimedWord

MAX_LINE_CHARS = 42
MAX_LINES = 2
MAX_CUE_SECONDS = 7.0        # a longer cue is split at a word where it can be
MAX_GAP_SECONDS = 1.0        # a longer silence between two words ends the cue
MIN_CUE_SECONDS = 0.1        # for a cue whose words were all skipped (zero length)
FORMATS = ("vtt", "srt")

SENTENCE_END = frozenset(".!?…。！？")
CLAUSE_END = frozenset(",;:—、，；：")
_OPENING = frozenset("([{“‘«「『（《〈【")  # with no space before the next word, it goes with that word
_SPACE = re.compile(r"\s+")


@dataclasses.dataclass(frozen=True)
class Cue:
    """One subtitle: shown from `start` to `end` (seconds), in one or two lines."""
    start: float
    end: float
    lines: tuple[str, ...]


class _Shown:
    """The words as shown on screen: each with the punctuation that clings to it.

    The text between two words is cut at its last run of spaces: what comes before goes with
    the word before ("said," "paused —"), what comes after with the word after ("(Quietly").
    With no space between them (Chinese, Japanese) all of it goes with the word before, up to
    an opening bracket or quote."""

    def __init__(self, words: list[TimedWord], text: str):
        n = len(words)
        lo, hi, self.seps, gaps = [0] * n, [len(text)] * n, [""] * n, [""] * n
        for k in range(n - 1):
            end = words[k].char_end
            gaps[k] = gap = text[end:words[k + 1].char_start]
            spaces = list(_SPACE.finditer(gap))
            if spaces:
                cut, resume = spaces[-1].span()
                self.seps[k] = " "
            else:
                cut = resume = next((i for i, c in enumerate(gap) if c in _OPENING), len(gap))
            hi[k], lo[k + 1] = end + cut, end + resume
        self.pieces = [_SPACE.sub(" ", text[a:b]).strip() for a, b in zip(lo, hi)]
        self.sentence_end = [not SENTENCE_END.isdisjoint(gap) for gap in gaps]
        self.clause_end = [not CLAUSE_END.isdisjoint(gap) for gap in gaps]
        self._cum = list(itertools.accumulate((len(p) + len(s) for p, s in zip(self.pieces, self.seps)),
                                              initial=0))

    def length(self, a: int, b: int) -> int:
        """Characters of words a..b (inclusive) on one line."""
        return self._cum[b + 1] - self._cum[a] - len(self.seps[b])

    def line(self, a: int, b: int) -> str:
        return "".join(p + s for p, s in zip(self.pieces[a:b], self.seps[a:b])) + self.pieces[b]

    def wrap(self, a: int, b: int) -> tuple[str, ...] | None:
        """Words a..b in one line, or two balanced ones; None if they need more. A word longer
        than a line gets a line of its own."""
        if a == b or self.length(a, b) <= MAX_LINE_CHARS:
            return (self.line(a, b),)
        fitting = [k for k in range(a, b)
                   if (k == a or self.length(a, k) <= MAX_LINE_CHARS)
                   and (k + 1 == b or self.length(k + 1, b) <= MAX_LINE_CHARS)]
        if not fitting:
            return None
        k = min(fitting, key=lambda k: (max(self.length(a, k), self.length(k + 1, b)), self.length(a, k)))
        return self.line(a, k), self.line(k + 1, b)


def _groups(words: list[TimedWord], shown: _Shown) -> list[tuple[int, int]]:
    """The first and last word of each cue."""
    def must_end(k):
        return shown.sentence_end[k] or words[k + 1].start - words[k].end > MAX_GAP_SECONDS

    def fits(a, b):
        return words[b].end - words[a].start <= MAX_CUE_SECONDS and shown.wrap(a, b) is not None

    def fullness(a, b):
        return max(shown.length(a, b) / (MAX_LINES * MAX_LINE_CHARS),
                   (words[b].end - words[a].start) / MAX_CUE_SECONDS)

    groups, a, n = [], 0, len(words)
    while a < n:
        b = a
        while b + 1 < n and not must_end(b) and fits(a, b + 1):
            b += 1
        if b + 1 < n and not must_end(b):  # full: end at the last clause that fills half of it
            b = next((k for k in range(b - 1, a - 1, -1) if shown.clause_end[k] and fullness(a, k) >= 0.5), b)
        groups.append((a, b))
        a = b + 1
    return groups


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def cues(words: list[TimedWord], text: str, duration: float) -> list[Cue]:
    """Subtitle cues for `words` spoken from `text`, in an audio of `duration` seconds.

    Times are whole milliseconds, in order, not overlapping, inside [0, duration]."""
    if not words:
        return []
    shown = _Shown(words, text)
    groups = _groups(words, shown)
    limit = math.floor(round(duration * 1000, 6))
    starts = [min(max(_ms(words[a].start), 0), limit) for a, _ in groups]
    timed = []
    for i, (a, b) in enumerate(groups):
        start = starts[i]
        end = _ms(words[b].end)
        if end <= start:  # every word skipped
            end = start + _ms(MIN_CUE_SECONDS)
        timed.append([a, b, start, min(end, starts[i + 1] if i + 1 < len(starts) else limit)])
    # A cue left no time shows nothing (players drop it; WebVTT forbids it): its words join the
    # cue before, or the one after, where they fit; else they are left out (no word of it was said).
    kept = []
    for i, (a, b, start, end) in enumerate(timed):
        if end > start:
            kept.append([a, b, start, end])
        elif kept and shown.wrap(kept[-1][0], b) is not None:
            kept[-1][1] = b
        elif i + 1 < len(timed) and shown.wrap(a, timed[i + 1][1]) is not None:
            timed[i + 1][0] = a
    return [Cue(start / 1000, end / 1000, shown.wrap(a, b)) for a, b, start, end in kept]


def _timestamp(seconds: float) -> str:
    minutes, ms = divmod(_ms(seconds), 60_000)
    return f"{minutes // 60:02d}:{minutes % 60:02d}:{ms // 1000:02d}.{ms % 1000:03d}"


def to_vtt(cues: list[Cue]) -> str:
    """The cues as a WebVTT file; & < > are escaped, as WebVTT cue text needs."""
    captions = [webvtt.Caption(_timestamp(cue.start), _timestamp(cue.end),
                               "\n".join(html.escape(line, quote=False) for line in cue.lines))
                for cue in cues]
    return webvtt.WebVTT(captions=captions).content


def to_srt(cues: list[Cue]) -> str:
    """The cues as an SRT file (numbered here: srt's own renumbering drops zero-length cues)."""
    return srt.compose([srt.Subtitle(i, datetime.timedelta(milliseconds=_ms(cue.start)),
                                     datetime.timedelta(milliseconds=_ms(cue.end)), "\n".join(cue.lines))
                        for i, cue in enumerate(cues, 1)], reindex=False)


def write(path: str | Path, words: list[TimedWord], text: str, duration: float) -> list[Cue]:
    """Write the subtitles of `words` to `path`, as WebVTT (.vtt) or SRT (.srt); the cues written."""
    path = Path(path)
    kind = path.suffix.lower().lstrip(".")
    if kind not in FORMATS:
        raise OptionError(f"{path}: unknown subtitle file type '{path.suffix}'; use one of "
                          f"{', '.join('.' + f for f in FORMATS)}",
                          reason="format", value=path.suffix, choices=list(FORMATS))
    made = cues(words, text, duration)
    path.write_text(to_vtt(made) if kind == "vtt" else to_srt(made), encoding="utf-8")
    return made
