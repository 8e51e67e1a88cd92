"""The read-along under the player: the text as typed, each word marked with when it is said,
so that the page can light it up while the audio plays and seek there when it is clicked
(the script is app.py's READ_ALONG_JS). Optionally each word carries what the model read for
it, above it (<ruby>), to show normalisation and why a word came out as it did."""
from __future__ import annotations

from html import escape

from synth.speech.timing import TimedWord


def html(text: str, words: list[TimedWord], lang: str, readings: list[str] | None = None,
         still_coming: bool = False) -> str:
    """`words` in order, each with its place in `text`; `readings` (one per word) shows what
    the model read. `still_coming`: the rest of the text is not spoken yet (streaming)."""
    if not words:
        return ""
    parts, at = [], 0
    for index, word in enumerate(words):
        parts.append(escape(text[at:word.char_start]))
        shown = escape(word.text)
        if readings is not None:
            shown = f"<ruby>{shown}<rt>{escape(readings[index]) or '∅'}</rt></ruby>"
        parts.append(f'<span class="synth-word" role="button" tabindex="{0 if index == 0 else -1}" '
                     f'data-start="{word.start:.3f}" data-end="{word.end:.3f}">{shown}</span>')
        at = word.char_end
    rest = escape(text[at:])
    if still_coming:
        rest = f'<span class="synth-coming">{rest}</span>'
    classes = "synth-readalong" + (" synth-readings" if readings is not None else "")
    return (f'<div class="{classes}" lang="{escape(lang)}"><p class="synth-text">{"".join(parts)}{rest}</p>'
            f'<p class="synth-now" aria-live="polite"></p></div>')
