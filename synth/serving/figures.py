"""The figures teachers show next to the audio, drawn to stay readable when a page scales
them down to a phone's width (390 px) or up on a projector. They carry no title: the page
labels them in the visitor's language, above the figure.

Every spoken request draws two, so they are drawn cheaply: plain `Figure`s (no pyplot
state, safe in concurrent request threads) with fixed margins, which cost half as much as
a layout engine measuring every text (under a class's load the figures were two thirds of
the speech endpoint's server time)."""
from __future__ import annotations

import matplotlib
import numpy as np
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

WIDTH_INCHES = 6.0   # at DPI: 600 px, shown 324 px wide on a 390 px phone (scale 0.54) ...
DPI = 100
FONT_POINTS = 14     # ... where 14 pt (19.4 px at 100 dpi) is still ~10.5 px tall
# Korean axis labels need a Korean font (Debian's fonts-nanum, in packages.txt); without
# one, a page asks for the English labels (see `can_write`).
KOREAN_FONT = "NanumGothic"
FONTS = ["DejaVu Sans"] + [KOREAN_FONT] * any(f.name == KOREAN_FONT for f in font_manager.fontManager.ttflist)


def can_write(language: str) -> bool:
    """Whether the figures can carry labels in `language` ("en" or "ko")."""
    return language == "en" or KOREAN_FONT in FONTS


HEIGHT_INCHES = 3.0
# Fixed margins, in inches, that hold the tick labels and axis labels at FONT_POINTS: left
# for the y ticks ("100") and the y label, right for a colorbar's ticks ("-10"), bottom for
# the x ticks and the x label, top for half a tick label, or the panel numbers above
# several panels.
LEFT, RIGHT, COLORBAR_RIGHT, BOTTOM, TOP, PANEL_TOP = 0.8, 0.12, 0.5, 0.68, 0.16, 0.36
GAP = 0.5  # between panels: the next panel's y ticks ("100")


def _figure(columns: int = 1, bottom: float = BOTTOM, right: float = RIGHT) -> tuple[Figure, np.ndarray]:
    """A figure whose texts all use FONTS (called inside `_style()`); `bottom` and `right`:
    its lower and right margins in inches."""
    figure = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=DPI)
    axes = figure.subplots(1, columns, squeeze=False)[0]
    top = PANEL_TOP if columns > 1 else TOP
    panel = (WIDTH_INCHES - LEFT - right - (columns - 1) * GAP) / columns
    figure.subplots_adjust(left=LEFT / WIDTH_INCHES, right=1 - right / WIDTH_INCHES, bottom=bottom / HEIGHT_INCHES,
                           top=1 - top / HEIGHT_INCHES, wspace=GAP / panel)
    for ax in axes:
        ax.tick_params(labelsize=FONT_POINTS)
    return figure, axes


def _style():
    """Every text made inside takes its size and fonts from here."""
    return matplotlib.rc_context({"font.size": FONT_POINTS, "font.family": FONTS})


def mel_figure(mel: np.ndarray, frame_ms: float, labels: tuple[str, str] = ("time (s)", "mel channel")) -> Figure:
    """The mel spectrogram, time in seconds left to right, low frequencies at the bottom;
    `labels`: the x and y axes'."""
    with _style():
        figure, (axes,) = _figure(right=COLORBAR_RIGHT)
        image = axes.imshow(mel.T, origin="lower", aspect="auto", cmap="magma", interpolation="none",
                            extent=(0, len(mel) * frame_ms / 1000, 0, mel.shape[1]))
        axes.set_xlabel(labels[0], fontsize=FONT_POINTS)
        axes.set_ylabel(labels[1], fontsize=FONT_POINTS)
        colorbar = figure.colorbar(image, ax=axes, pad=0.015, fraction=0.06)
        colorbar.ax.tick_params(labelsize=FONT_POINTS)
    return figure


def alignment_figure(alignments: list[np.ndarray],
                     labels: tuple[str, str] = ("decoder step", "input symbol")) -> Figure:
    """Attention of each decoder step over the input symbols, one panel per sentence (the
    first four, so that each stays wide enough to read); `labels`: the x and y axes'."""
    shown = alignments[:4]
    with _style():
        figure, axes = _figure(len(shown))
        for index, (ax, alignment) in enumerate(zip(axes, shown)):
            ax.imshow(alignment, origin="lower", aspect="auto", cmap="viridis", interpolation="none")
            if len(shown) > 1:
                ax.set_title(f"{index + 1}", fontsize=FONT_POINTS)
        figure.supxlabel(labels[0], fontsize=FONT_POINTS)
        axes[0].set_ylabel(labels[1], fontsize=FONT_POINTS)
    return figure


SYMBOL_TICKS = 40  # symbols named under the bars when the panels hold at most this many


def durations_figure(durations: list[np.ndarray], symbols: list[list[str]] | None = None,
                     labels: tuple[str, str] = ("input symbol", "frames")) -> Figure:
    """How many mel frames each input symbol lasts, as FastSpeech2 predicted: one panel per
    sentence (the first four), the same layout as the attention figure it stands in for.
    Short sentences have their symbols written under the bars; longer ones, positions."""
    shown = durations[:4]
    named = symbols is not None and sum(len(frames) for frames in shown) <= SYMBOL_TICKS
    with _style():
        # named symbols stand upright under the bars: room for four letters more
        figure, axes = _figure(len(shown), BOTTOM + 0.45 * named)
        for index, (ax, frames) in enumerate(zip(axes, shown)):
            ax.bar(np.arange(len(frames)), frames, width=0.85, color="#4338ca")
            ax.set_xlim(-0.5, len(frames) - 0.5)
            if named:
                ax.set_xticks(np.arange(len(frames)), [s.lstrip("@") for s in symbols[index]],
                              fontsize=FONT_POINTS * 0.7, rotation=90)
            else:  # positions, fewer per panel as the panels narrow
                ax.xaxis.set_major_locator(MaxNLocator(nbins=8 // len(shown), integer=True))
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
            if len(shown) > 1:
                ax.set_title(f"{index + 1}", fontsize=FONT_POINTS)
        figure.supxlabel(labels[0], fontsize=FONT_POINTS)
        axes[0].set_ylabel(labels[1], fontsize=FONT_POINTS)
    return figure
