"""Text that remembers where each of its characters came from, through every normalising step.

A voice reads "doctor smith paid five dollars", but a listener typed "Dr. Smith paid $5.":
to say when each typed word is spoken, every character of the cleaned text keeps the span
of the original text it was made from. A replacement gives all of its characters the span
of everything it replaced ("$5" -> "five dollars": each letter points at "$5"); characters
left alone, or kept when a run is cut short (whitespace collapsed), keep their own.
"""
from __future__ import annotations

import re
from typing import Callable, Iterator, NamedTuple

Span = tuple[int, int]  # [start, end) in the original text


class Symbol(NamedTuple):
    """One symbol a front end produced, and the span of the original text it reads."""
    symbol: str
    start: int
    end: int


class Traced:
    """`text` and, for each of its characters, the original span it came from."""

    def __init__(self, text: str, origins: list[Span] | None = None):
        self.text = text
        self.origins = [(i, i + 1) for i in range(len(text))] if origins is None else origins
        if len(self.origins) != len(text):
            raise ValueError(f"{len(self.origins)} origins for {len(text)} characters")

    def __str__(self) -> str:
        return self.text

    def __len__(self) -> int:
        return len(self.text)

    def __iter__(self) -> Iterator[Symbol]:
        """Each character as a Symbol (the front ends whose symbols are characters)."""
        return (Symbol(c, *span) for c, span in zip(self.text, self.origins))

    def span(self, start: int, end: int) -> Span:
        """The original span that characters [start, end) came from; an empty range sits at
        the origin of the character after it (or the end of the last one)."""
        if start < end:
            spans = self.origins[start:end]
            return min(s for s, _ in spans), max(e for _, e in spans)
        if start < len(self.origins):
            return self.origins[start][0], self.origins[start][0]
        end_of_last = self.origins[-1][1] if self.origins else 0
        return end_of_last, end_of_last

    def sub(self, pattern: re.Pattern | str, repl: str | Callable[[re.Match], str], count: int = 0) -> "Traced":
        """`re.sub` that keeps origins: a replacement's characters all point at the span of
        its match. `repl` sees the match on this (already normalised) text, as with re.sub."""
        pattern = re.compile(pattern) if isinstance(pattern, str) else pattern
        text, origins, last = [], [], 0
        for number, match in enumerate(pattern.finditer(self.text), 1):
            text.append(self.text[last:match.start()])
            origins += self.origins[last:match.start()]
            replacement = repl(match) if callable(repl) else match.expand(repl)
            if match.group(0).startswith(replacement):  # kept (a run cut short): own origins
                origins += self.origins[match.start():match.start() + len(replacement)]
            else:
                origins += [self.span(match.start(), match.end())] * len(replacement)
            text.append(replacement)
            last = match.end()
            if number == count:
                break
        text.append(self.text[last:])
        origins += self.origins[last:]
        return Traced("".join(text), origins)

    def replace(self, old: str, new: str) -> "Traced":
        return self.sub(re.escape(old), lambda match: new)

    def map(self, function: Callable[[str], str]) -> "Traced":
        """Each character through `function` (unidecode, lower, to jamo): what one
        character becomes points at that character's origin."""
        text, origins = [], []
        for char, origin in zip(self.text, self.origins):
            out = function(char)
            text.append(out)
            origins += [origin] * len(out)
        return Traced("".join(text), origins)
