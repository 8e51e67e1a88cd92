"""What a long-running app needs from synth: models loaded once, on first use, thread-safe;
plain-language model status; and the figures teachers show next to the audio."""
from __future__ import annotations

import threading

import matplotlib

matplotlib.use("Agg")  # no display on a server
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from synth import catalog, hub  # noqa: E402
from synth.errors import SynthError  # noqa: E402
from synth.image import Styler  # noqa: E402
from synth.image.io import DEFAULT_MAX_SIDE  # noqa: E402
from synth.speech import Voice  # noqa: E402


class ModelCache:
    """Loads each catalog model at most once, however many requests ask at the same time."""

    def __init__(self, max_side: int = DEFAULT_MAX_SIDE):
        self.max_side = max_side  # working size of the stylers it loads
        self._models: dict[str, Voice | Styler] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, name: str) -> Voice | Styler:
        model = catalog.get(name)
        with self._guard:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            if name not in self._models:
                if model.task == "voice":
                    self._models[name] = Voice.from_pretrained(name)
                else:
                    self._models[name] = Styler.from_pretrained(name, max_side=self.max_side)
            return self._models[name]

    def preload(self, names: list[str]) -> list[str]:
        """Load `names` now; returns the messages of those that could not be loaded."""
        problems = []
        for name in names:
            try:
                self.get(name)
            except SynthError as e:  # missing, unknown or broken: say so, start anyway
                problems.append(str(e))
        return problems


def status(task: str) -> str:
    """Markdown: which models of `task` are ready to load, which are missing and how to get them."""
    lines = []
    for model in catalog.models(task):
        if not model.available:
            continue
        if hub.is_cached(model.name):
            lines.append(f"✅ **{model.label['en']}** (`{model.name}`) is downloaded.")
        else:
            repos = ", ".join(f"`{r.repo_id}` @ `{r.revision[:7]}`" for r in model.repos.values())
            lines.append(f"⚠️ **{model.label['en']}** (`{model.name}`) is not downloaded yet ({repos}): "
                         f"it is fetched on first use when the Hub can be reached; offline, run "
                         f"`synth download {model.name}` where there is network, or copy the Hugging Face cache.")
    return "\n\n".join(lines)


def mel_figure(mel: np.ndarray) -> Figure:
    """The mel spectrogram, time left to right, low frequencies at the bottom."""
    figure, axes = plt.subplots(figsize=(8, 2.6), layout="constrained")
    image = axes.imshow(mel.T, origin="lower", aspect="auto", cmap="magma", interpolation="none")
    axes.set(xlabel="frame", ylabel="mel channel", title="Mel spectrogram (Tacotron2 output)")
    figure.colorbar(image, ax=axes, pad=0.01)
    plt.close(figure)
    return figure


def alignment_figure(alignments: list[np.ndarray]) -> Figure:
    """Attention of each decoder step over the input symbols, sentences side by side."""
    figure, axes = plt.subplots(1, len(alignments), figsize=(8, 2.8), layout="constrained", squeeze=False)
    for index, (ax, alignment) in enumerate(zip(axes[0], alignments)):
        ax.imshow(alignment, origin="lower", aspect="auto", cmap="viridis", interpolation="none")
        ax.set(xlabel="decoder step", title=f"sentence {index + 1}" if len(alignments) > 1 else "Attention alignment")
    axes[0][0].set_ylabel("input symbol")
    plt.close(figure)
    return figure
