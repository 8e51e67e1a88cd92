"""The LiteRT engine: which engine runs, where exports are kept and when they are made
again, what happens when an export fails, and many threads on one interpreter."""
import concurrent.futures
import logging
import os
import time

import numpy as np
import pytest
from huggingface_hub import constants

from synth import device, runtime
from synth.errors import OptionError
from synth.image import Styler
from synth.speech import MultiBandMelGAN, SpeechOptions, Voice
from synth.speech.config import MultiBandMelGANConfig


def vocoder(fixtures) -> MultiBandMelGAN:
    return MultiBandMelGAN.from_pretrained(str(fixtures / "tts_tiny" / "mb_melgan"))


def mel(frames: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(1, frames, 80)).astype(np.float32)


def exports() -> set:
    folder = runtime.Path(constants.HF_HOME) / runtime.EXPORTS
    return set(folder.glob("multiband-melgan-*.tflite")) if folder.is_dir() else set()


@pytest.mark.parametrize("wanted, gpus, chosen", [("auto", (), "litert"), ("", (), "litert"),
                                                  ("auto", ("NVIDIA H100",), "tensorflow"),
                                                  ("TensorFlow", (), "tensorflow"), ("litert", ("NVIDIA H100",), "litert")])
def test_the_engine_follows_synth_engine_and_the_device(monkeypatch, wanted, gpus, chosen):
    monkeypatch.setenv("SYNTH_ENGINE", wanted)
    monkeypatch.setattr(device, "gpu_names", lambda: gpus)
    assert runtime.engine("litert") == chosen
    # a network faster on TensorFlow stays there unless LiteRT is asked for by name
    assert runtime.engine("tensorflow") == ("litert" if wanted == "litert" else "tensorflow")


@pytest.mark.parametrize("wanted, precision, gpus, said", [
    ("auto", "auto", (), "LiteRT, fp32 + int8"), ("auto", "fp32", (), "LiteRT, fp32"),
    ("auto", "auto", ("NVIDIA L4",), "TensorFlow, fp32"), ("litert", "int8", (), "LiteRT, int8"),
    ("tensorflow", "int8", (), "TensorFlow, fp32")])
def test_the_engines_are_described_for_the_page(monkeypatch, wanted, precision, gpus, said):
    monkeypatch.setenv("SYNTH_ENGINE", wanted)
    monkeypatch.setenv("SYNTH_PRECISION", precision)
    monkeypatch.setattr(device, "gpu_names", lambda: gpus)
    assert runtime.described() == said


def test_what_a_network_family_ran_with_replaces_what_the_settings_say(monkeypatch):
    monkeypatch.setattr(runtime, "CPU_DEFAULTS", {"A": ("litert", "int8"), "B": ("litert", "int8")})
    monkeypatch.setenv("SYNTH_ENGINE", "auto")
    monkeypatch.setenv("SYNTH_PRECISION", "auto")
    monkeypatch.setattr(device, "gpu_names", lambda: ())
    assert runtime.described({}) == "LiteRT, int8"
    # A's export failed: it ran on TensorFlow; B's part apart ran at fp32
    assert runtime.described({"A": {("tensorflow", "fp32")}}) == "TensorFlow + LiteRT, fp32 + int8"
    assert runtime.described({"A": {("tensorflow", "fp32")}, "B": {("litert", "int8"), ("litert", "fp32")}}) == \
        "TensorFlow + LiteRT, fp32 + int8"
    assert runtime.described({"A": {("litert", "fp32")}, "B": {("litert", "fp32")}}) == "LiteRT, fp32"


@pytest.mark.parametrize("wanted, precision, said", [
    ("auto", "auto", "TensorFlow + LiteRT, fp32 + int8"), ("auto", "fp32", "TensorFlow + LiteRT, fp32"),
    ("litert", "auto", "LiteRT, fp32 + int8")])
def test_networks_on_both_engines_are_described_together(monkeypatch, wanted, precision, said):
    monkeypatch.setattr(runtime, "CPU_DEFAULTS", {"A": ("tensorflow", "fp32"), "B": ("litert", "int8"),
                                                  "C": ("litert", "fp32")})
    monkeypatch.setenv("SYNTH_ENGINE", wanted)
    monkeypatch.setenv("SYNTH_PRECISION", precision)
    monkeypatch.setattr(device, "gpu_names", lambda: ())
    assert runtime.described() == said


def test_an_unknown_precision_names_the_choices(monkeypatch):
    monkeypatch.setenv("SYNTH_PRECISION", "fp16")
    with pytest.raises(OptionError, match="SYNTH_PRECISION='fp16' is not a precision: choose one of auto, fp32, int8"):
        runtime.precision("fp32")


def test_an_unknown_engine_names_the_choices(monkeypatch):
    monkeypatch.setenv("SYNTH_ENGINE", "onnx")
    with pytest.raises(OptionError, match="SYNTH_ENGINE='onnx' is not an engine: choose one of auto, litert, tensorflow"):
        runtime.setting()


def test_an_export_is_kept_beside_the_cache_made_once_and_again_for_new_weights(fixtures, monkeypatch, tmp_path):
    monkeypatch.setenv("SYNTH_ENGINE", "litert")
    monkeypatch.setattr(constants, "HF_HOME", str(tmp_path))  # a home of its own: no export made yet
    before = exports()
    first = vocoder(fixtures)
    audio = first.infer(mel(20))
    made = exports() - before
    assert first.engine == "litert" and len(made) == 1
    (path,) = made
    assert path.parent == tmp_path / runtime.EXPORTS  # in HF_HOME, beside (not in) its hub cache
    file = path.stat().st_ino  # an export made again would be a new file (written, then renamed)
    second = vocoder(fixtures)  # the same model loaded again: the same file, not made again
    np.testing.assert_array_equal(second.infer(mel(20)), audio)
    assert exports() - before == made and path.stat().st_ino == file
    # other weights (a new revision): a new file; the old one is never read for them
    arrays = {name: value.numpy() * 0.5 for name, value in second._w.items()}
    second.set_weights(arrays)
    changed = second.infer(mel(20))
    assert len(exports() - before) == 2 and np.abs(changed - audio).max() > 1e-3


def test_an_export_unused_for_a_month_goes_when_a_new_one_is_made(fixtures, monkeypatch, tmp_path):
    monkeypatch.setenv("SYNTH_ENGINE", "litert")
    monkeypatch.setattr(constants, "HF_HOME", str(tmp_path))  # a home of its own: no export made yet
    folder = tmp_path / runtime.EXPORTS
    folder.mkdir()

    def aged(path, days):
        then = time.time() - days * 86400
        os.utime(path, (then, then))

    stale, recent, crashed = folder / "generator-int8-0.tflite", folder / "generator-int8-1.tflite", folder / "x.part"
    for path, days in ((stale, 31), (recent, 29), (crashed, 31)):
        path.write_bytes(b"an export")
        aged(path, days)
    vocoder(fixtures).infer(mel(20))  # a new export: the stale file and the crashed part go
    (made,) = exports()
    assert sorted(folder.iterdir()) == sorted([recent, made])
    aged(made, 40)
    forty_days_ago = made.stat().st_mtime
    vocoder(fixtures).infer(mel(20))  # used again: its clock starts over
    assert made.stat().st_mtime - forty_days_ago > 39 * 86400


def test_a_kept_export_that_will_not_load_is_made_again(fixtures, monkeypatch, tmp_path, caplog):
    monkeypatch.setenv("SYNTH_ENGINE", "litert")
    monkeypatch.setattr(constants, "HF_HOME", str(tmp_path))  # a home of its own: no export made yet
    audio = vocoder(fixtures).infer(mel(20))
    (path,) = exports()
    size = path.stat().st_size
    path.write_bytes(path.read_bytes()[:1000])  # cut short, as a full disk or a bad copy leaves it
    model = vocoder(fixtures)
    with caplog.at_level(logging.WARNING, "synth.runtime"):
        np.testing.assert_array_equal(model.infer(mel(20)), audio)
    assert model.engine == "litert" and exports() == {path} and path.stat().st_size == size
    assert [r.getMessage() for r in caplog.records if r.name == "synth.runtime"] == [
        f"multiband-melgan: the kept export {path.name} would not load (ValueError); making it again"]


def test_a_failed_export_runs_on_tensorflow_with_one_log_line(fixtures, monkeypatch, caplog):
    monkeypatch.setenv("SYNTH_ENGINE", "litert")

    def broken(*args, **kwargs):
        raise RuntimeError("converter said no\nSome ops are not supported")

    monkeypatch.setattr(runtime, "export", broken)
    model = vocoder(fixtures)
    with caplog.at_level(logging.WARNING, "synth.runtime"):
        audio = model.infer(mel(20))
        model.infer(mel(30))
    assert model.engine == "tensorflow" and audio.shape == (1, 20 * 256)
    # (TensorFlow's own retracing notice may join in, after many models in one process)
    assert [r.getMessage() for r in caplog.records if r.name == "synth.runtime"] == [
        "multiband-melgan: LiteRT export failed (RuntimeError: Some ops are not supported); running it on TensorFlow"]


def test_a_precision_asked_for_by_name_wins_over_the_setting(monkeypatch):
    monkeypatch.setenv("SYNTH_ENGINE", "litert")
    monkeypatch.setenv("SYNTH_PRECISION", "int8")
    voice = Voice.from_pretrained("ljspeech-en", precision="fp32")
    voice.speak("Hi.", SpeechOptions(max_steps=3))
    assert (voice.text_to_mel.precision, voice.vocoder.precision) == ("fp32", "fp32")
    monkeypatch.setenv("SYNTH_PRECISION", "fp32")
    styler = Styler.from_pretrained("horse2zebra", precision="int8")
    styler.stylize(np.zeros((8, 8, 3), np.uint8))
    assert styler.generator.precision == "int8" and styler.generator.apart() == ("last layer", "litert", "fp32")
    for load in (lambda: Voice.from_pretrained("ljspeech-en", precision="fp16"),
                 lambda: Styler.from_pretrained("horse2zebra", precision="int4")):
        with pytest.raises(OptionError, match=r"precision '(fp16|int4)' is not one of fp32, int8"):
            load()


def test_threads_share_an_interpreter_of_changing_shapes(fixtures, monkeypatch):
    monkeypatch.setenv("SYNTH_ENGINE", "litert")
    model = vocoder(fixtures)
    inputs = [mel(frames, seed) for seed, frames in enumerate([12, 40, 12, 25, 7, 40, 33, 12])]
    alone = [model.infer(x) for x in inputs]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        together = list(pool.map(model.infer, inputs * 3))
    for index, audio in enumerate(together):
        np.testing.assert_array_equal(audio, alone[index % len(inputs)])


@pytest.mark.parametrize("scales", [(8, 4, 2), (3, 5, 5)])  # hop 256 (LJSpeech) and hop 300 (Baker)
def test_the_vocoders_litert_form_makes_the_same_sums_in_ops_xnnpack_takes(monkeypatch, scales):
    monkeypatch.setenv("SYNTH_PRECISION", "fp32")
    model = MultiBandMelGAN(MultiBandMelGANConfig(filters=32, upsample_scales=scales, stacks=4, is_weight_norm=False))
    rng = np.random.default_rng(0)
    # kernels scaled by their fan-in, so that activations stay near 1 through every layer
    model.set_weights({name: rng.normal(0, 1, shape) / np.sqrt(np.prod(shape) / shape[-1]) if "kernel" in name
                       else rng.normal(0, 0.1, shape) for _, group in model.weight_layout() for name, shape in group})
    graph = model._litert_generate.get_concrete_function().graph
    # no reflection pad (XNNPACK has none) and no shape computed at run time (XNNPACK takes a
    # transposed convolution only with a constant output shape): the whole graph is XNNPACK's
    assert not {op.type for op in graph.get_operations()} & {"MirrorPad", "Shape", "Conv2DBackpropInput"}
    mel = rng.normal(size=(2, 23, 80)).astype(np.float32)
    model.engine = "litert"
    audio = model.infer(mel)
    reference = model._generate(mel).numpy()
    assert model.engine == "litert" and audio.shape == reference.shape == (2, 23 * model.hop_size)
    # the same sums in another order: float32 rounding (~6e-8 of each partial sum) over ~40
    # layers of up to 7·32 terms stays orders of magnitude inside 1e-4 of audio near 1
    np.testing.assert_allclose(audio, reference, rtol=0, atol=1e-4 * np.abs(reference).max())
