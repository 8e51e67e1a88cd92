import dataclasses
import threading
import time

import numpy as np

from synth import catalog, serving
from synth.image import Styler


def test_model_cache_loads_each_model_once_across_threads(monkeypatch):
    calls = []
    real = Styler.from_pretrained.__func__

    def slow_load(cls, name, **kwargs):
        calls.append(name)
        time.sleep(0.2)  # long enough for every thread to be waiting on the lock
        return real(cls, name, **kwargs)

    monkeypatch.setattr(Styler, "from_pretrained", classmethod(slow_load))
    cache = serving.ModelCache(max_side=64)
    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("horse2zebra"))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == ["horse2zebra"]
    assert len(results) == 4 and all(r is results[0] for r in results) and results[0].max_side == 64


def test_preload_reports_what_it_could_not_load():
    problems = serving.ModelCache().preload(["horse2zebra", "thorsten-de", "nope"])
    assert len(problems) == 2
    assert "synth download thorsten-de" in problems[0] and "valid names" in problems[1]


def test_status_lists_downloaded_and_missing(monkeypatch):
    assert "`horse2zebra`) is downloaded" in serving.status("style")
    monkeypatch.setitem(catalog.MODELS, "baker-zh", dataclasses.replace(catalog.get("baker-zh"), unavailable="why"))
    text = serving.status("voice")
    assert "`ljspeech-en`) is downloaded" in text and "`thorsten-de`) is not downloaded yet" in text
    assert "synth download thorsten-de" in text
    assert "baker" not in text  # unavailable ones are not offered


def test_figures_have_the_data_shapes():
    mel = serving.mel_figure(np.zeros((120, 80)))
    assert mel.axes[0].images[0].get_array().shape == (80, 120)
    alignment = serving.alignment_figure([np.zeros((10, 30)), np.zeros((7, 20))])
    assert [ax.images[0].get_array().shape for ax in alignment.axes] == [(10, 30), (7, 20)]
