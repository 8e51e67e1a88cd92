"""The figures teachers show next to the audio, drawn to stay readable when a page scales
them down to a phone's width (390 px) or up on a projector. They carry no title: the page
labels them in the visitor's language, over the top band left free for that label."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # no display on a server
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

WIDTH_INCHES = 6.0   # at DPI: 600 px, shown ~350 px wide on a phone (scale ~0.58) ...
DPI = 100
FONT_POINTS = 13     # ... where 13 pt (18 px at 100 dpi) is still ~10.5 px tall
TOP_BAND = 0.14      # share of the height kept free for the page's label


def _figure(columns: int = 1) -> tuple[Figure, np.ndarray]:
    with plt.rc_context({"font.size": FONT_POINTS}):
        figure, axes = plt.subplots(1, columns, figsize=(WIDTH_INCHES, 3.0), dpi=DPI, layout="constrained",
                                    squeeze=False)
    figure.get_layout_engine().set(rect=(0, 0, 1, 1 - TOP_BAND))
    plt.close(figure)
    for ax in axes[0]:
        ax.tick_params(labelsize=FONT_POINTS)
    return figure, axes[0]


def mel_figure(mel: np.ndarray, frame_ms: float) -> Figure:
    """The mel spectrogram, time in seconds left to right, low frequencies at the bottom."""
    figure, (axes,) = _figure()
    image = axes.imshow(mel.T, origin="lower", aspect="auto", cmap="magma", interpolation="none",
                        extent=(0, len(mel) * frame_ms / 1000, 0, mel.shape[1]))
    axes.set_xlabel("time (s)", fontsize=FONT_POINTS)
    axes.set_ylabel("mel channel", fontsize=FONT_POINTS)
    colorbar = figure.colorbar(image, ax=axes, pad=0.01)
    colorbar.ax.tick_params(labelsize=FONT_POINTS)
    return figure


def alignment_figure(alignments: list[np.ndarray]) -> Figure:
    """Attention of each decoder step over the input symbols, one panel per sentence (the
    first four, so that each stays wide enough to read)."""
    shown = alignments[:4]
    figure, axes = _figure(len(shown))
    for index, (ax, alignment) in enumerate(zip(axes, shown)):
        ax.imshow(alignment, origin="lower", aspect="auto", cmap="viridis", interpolation="none")
        if len(shown) > 1:
            ax.set_title(f"{index + 1}", fontsize=FONT_POINTS)
    figure.supxlabel("decoder step", fontsize=FONT_POINTS)
    axes[0].set_ylabel("input symbol", fontsize=FONT_POINTS)
    return figure
