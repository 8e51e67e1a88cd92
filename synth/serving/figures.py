"""The figures teachers show next to the audio, drawn to stay readable when a page scales
them down to a phone's width (390 px) or up on a projector. They carry no title: the page
labels them in the visitor's language, above the figure."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # no display on a server
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

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


def _figure(columns: int = 1) -> tuple[Figure, np.ndarray]:
    """A figure whose texts all use FONTS (called inside `_style()`)."""
    figure, axes = plt.subplots(1, columns, figsize=(WIDTH_INCHES, 3.0), dpi=DPI, layout="constrained",
                                squeeze=False)
    plt.close(figure)
    for ax in axes[0]:
        ax.tick_params(labelsize=FONT_POINTS)
    return figure, axes[0]


def _style():
    """Every text made inside takes its size and fonts from here."""
    return plt.rc_context({"font.size": FONT_POINTS, "font.family": FONTS})


def mel_figure(mel: np.ndarray, frame_ms: float, labels: tuple[str, str] = ("time (s)", "mel channel")) -> Figure:
    """The mel spectrogram, time in seconds left to right, low frequencies at the bottom;
    `labels`: the x and y axes'."""
    with _style():
        figure, (axes,) = _figure()
        image = axes.imshow(mel.T, origin="lower", aspect="auto", cmap="magma", interpolation="none",
                            extent=(0, len(mel) * frame_ms / 1000, 0, mel.shape[1]))
        axes.set_xlabel(labels[0], fontsize=FONT_POINTS)
        axes.set_ylabel(labels[1], fontsize=FONT_POINTS)
        colorbar = figure.colorbar(image, ax=axes, pad=0.01)
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
        figure, axes = _figure(len(shown))
        for index, (ax, frames) in enumerate(zip(axes, shown)):
            ax.bar(np.arange(len(frames)), frames, width=0.85, color="#4338ca")
            ax.set_xlim(-0.5, len(frames) - 0.5)
            if named:
                ax.set_xticks(np.arange(len(frames)), [s.lstrip("@") for s in symbols[index]],
                              fontsize=FONT_POINTS * 0.7, rotation=90)
            else:
                ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
            if len(shown) > 1:
                ax.set_title(f"{index + 1}", fontsize=FONT_POINTS)
        figure.supxlabel(labels[0], fontsize=FONT_POINTS)
        axes[0].set_ylabel(labels[1], fontsize=FONT_POINTS)
    return figure
