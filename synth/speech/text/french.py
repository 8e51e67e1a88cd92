"""French text normalisation for the SynPaFlex voice: lower case and single spaces only,
as it was trained (`basic_cleaners`). Digits are not read out: the voice never heard
numbers, so they are skipped like any other unknown symbol."""
from __future__ import annotations

import re

_WHITESPACE = re.compile(r"\s+")


def basic_cleaners(text: str) -> str:
    return _WHITESPACE.sub(" ", text.lower())
