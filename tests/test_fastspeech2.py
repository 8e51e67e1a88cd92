"""FastSpeech2: parity with tensorflow-tts 1.8 (tests/fixtures/fastspeech2_tiny) on both
engines, int8 against fp32, the Hub checkpoint layouts, the speed / pitch / energy controls,
and the catalog voices."""
import json
import re

import h5py
import numpy as np
import pytest

from synth import catalog
from synth.errors import CheckpointMismatch, OptionError
from synth.speech import FastSpeech2, SpeechOptions, Tacotron2, Voice, registry
from synth.speech.config import FastSpeech2Config, build


RATIOS = {"ratio_1": (1.0, 1.0, 1.0), "ratio_s08_p12_e09": (0.8, 1.2, 0.9)}


@pytest.fixture(scope="module")
def tiny(fixtures):
    return FastSpeech2.from_pretrained(str(fixtures / "fastspeech2_tiny" / "fastspeech2"))


@pytest.fixture(scope="module")
def expected(fixtures):
    return dict(np.load(fixtures / "fastspeech2_tiny" / "expected.npz"))


@pytest.fixture(scope="module")
def fixtures():
    from conftest import FIXTURES
    return FIXTURES


def _tiny(fixtures, engine=None, precision=None) -> FastSpeech2:
    """The tiny fixture model, on `engine` at `precision` if given (else as the settings say)."""
    model = FastSpeech2.from_pretrained(str(fixtures / "fastspeech2_tiny" / "fastspeech2"))
    model.engine, model.precision = engine, precision
    return model


@pytest.mark.parametrize("key", RATIOS)
def test_tiny_fixture_reproduces_the_reference(fixtures, expected, key, engine):
    """Durations are integers and must match exactly. The mels (values up to about 7) pass
    through 2 + 2 Transformer blocks and a 423-frame self-attention in float32; summation
    order alone moves them by ~1e-4 (3e-4 seen on TensorFlow, 2e-4 on LiteRT), so 1e-3 is
    the bound, as the issue asks. Pitch and energy are four small layers deep: 1e-4."""
    speed, f0, energy = RATIOS[key]
    tiny = _tiny(fixtures)
    out = tiny.infer(expected["input_ids"], speed_ratio=speed, f0_ratio=f0, energy_ratio=energy, dropout=False)
    assert tiny.engine == engine and tiny.precision == "fp32"
    np.testing.assert_array_equal(out.durations, expected[f"{key}/durations"])
    assert out.mel.shape == expected[f"{key}/mel"].shape
    np.testing.assert_allclose(out.mel_before, expected[f"{key}/mel_before"], rtol=0, atol=1e-3)
    np.testing.assert_allclose(out.mel, expected[f"{key}/mel"], rtol=0, atol=1e-3)
    np.testing.assert_allclose(out.f0, expected[f"{key}/f0"], rtol=0, atol=1e-4)
    np.testing.assert_allclose(out.energy, expected[f"{key}/energy"], rtol=0, atol=1e-4)
    assert out.lengths.tolist() == [int(expected[f"{key}/durations"].sum())]


def test_the_fixture_exercises_every_predictor(expected):
    """A port that ignored a predictor must fail: durations vary, and the ratio setting
    changes pitch, energy and the mel."""
    durations = expected["ratio_1/durations"][0]
    assert durations.min() == 0 and durations.max() > 10 and len(set(durations.tolist())) > 8
    assert not np.allclose(expected["ratio_1/f0"] * 1.2, expected["ratio_1/f0"], atol=1e-2)
    assert np.abs(expected["ratio_1/mel"]).max() > 1.0


def _reference_name(name: str) -> str:
    """A tensorflow-tts weight name without the model scope, ':0' and Keras' layer counters."""
    name = name.removeprefix("fastspeech2/").removesuffix(":0")
    return re.sub(r"dense_\d+", "dense", name)


@pytest.mark.parametrize("config", ["fastspeech2.v1.yaml", "fastspeech2.kss.v1.yaml", "fastspeech2.baker.v2.yaml"])
def test_full_size_layouts_match_the_reference(fixtures, config):
    reference = json.loads((fixtures / "fastspeech2_full_layout.json").read_text())[config]
    model = FastSpeech2(build(FastSpeech2Config, reference["params"], config))
    ours = model.weight_layout()
    assert len(ours) == len(reference["layout"])
    for (group, weights), ref in zip(ours, reference["layout"]):
        assert group == ref["layer"] or (group.endswith("_dropout") and ref["layer"].startswith("dropout_"))
        assert [tuple(shape) for _, shape in weights] == [tuple(shape) for _, shape in ref["weights"]], group
        for (name, _), (ref_name, _) in zip(weights, ref["weights"]):
            assert name.endswith(_reference_name(ref_name)), (name, ref_name)
    parameters = sum(int(np.prod(shape)) for _, weights in ours for _, shape in weights)
    assert parameters == reference["parameters"]


def _write_reference_h5(path, layout, rng, change=None):
    """A random checkpoint written with the reference's own group and weight names."""
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [g["layer"].encode() for g in layout]
        for g in layout:
            group = f.create_group(g["layer"])
            group.attrs["weight_names"] = [n.encode() for n, _ in g["weights"]]
            for name, shape in g["weights"]:
                shape = change[1] if change and change[0] == name else shape
                group.create_dataset(name, data=rng.normal(0, 0.05, shape).astype(np.float32))


def test_a_random_full_size_checkpoint_loads_and_speaks(fixtures, tmp_path):
    """The smallest Hub model (Baker, 65 MB): the file loads and runs end to end."""
    reference = json.loads((fixtures / "fastspeech2_full_layout.json").read_text())["fastspeech2.baker.v2.yaml"]
    (tmp_path / "config.yml").write_text(json.dumps({"model_type": "fastspeech2",
                                                     "fastspeech2_params": reference["params"]}))
    _write_reference_h5(tmp_path / "model.h5", reference["layout"], np.random.default_rng(0))
    model = FastSpeech2.from_pretrained(str(tmp_path))
    out = model.infer(np.arange(1, 41), seed=0)
    assert out.mel.shape == (1, out.lengths[0], 80) and out.durations.shape == (1, 40)


def test_a_wrong_shape_names_group_weight_and_both_shapes(fixtures, tmp_path):
    reference = json.loads((fixtures / "fastspeech2_full_layout.json").read_text())["fastspeech2.baker.v2.yaml"]
    reference["params"]["encoder_num_hidden_layers"] = reference["params"]["decoder_num_hidden_layers"] = 1
    model = FastSpeech2(build(FastSpeech2Config, reference["params"], "one layer"))
    layout = [{"layer": g, "weights": [[f"fastspeech2/{n}:0", list(s)] for n, s in w]}
              for g, w in model.weight_layout()]
    wrong = "fastspeech2/encoder/layer_._0/intermediate/conv1d_1/kernel:0"
    (tmp_path / "config.yml").write_text(json.dumps({"model_type": "fastspeech2",
                                                     "fastspeech2_params": reference["params"]}))
    _write_reference_h5(tmp_path / "model.h5", layout, np.random.default_rng(0), change=(wrong, [5, 256, 1024]))
    with pytest.raises(CheckpointMismatch) as error:
        FastSpeech2.from_pretrained(str(tmp_path))
    message = str(error.value)
    assert "group 'encoder'" in message and wrong in message
    assert "(3, 256, 1024)" in message and "(5, 256, 1024)" in message


@pytest.mark.parametrize("speed", [0.5, 1.0, 2.0])
def test_speed_scales_every_duration_and_so_the_frame_count(tiny, expected, speed):
    """speed_ratio r: each duration is round(r x the predicted one), so it lies within half
    a frame of r x the speed-1 duration plus r x that one's own rounding; the frame count
    is their sum and the mel has exactly that many frames."""
    ids = expected["input_ids"]
    base = tiny.infer(ids, dropout=False).durations[0]
    out = tiny.infer(ids, speed_ratio=speed, dropout=False)
    assert np.all(np.abs(out.durations[0] - speed * base) <= 0.5 + 0.5 * speed)
    assert out.lengths[0] == out.durations.sum() == out.mel.shape[1]
    assert abs(out.lengths[0] / base.sum() - speed) < 0.05


def test_voice_speed_divides_the_durations(fixtures):
    voice = Voice.from_pretrained("ljspeech-en-fastspeech2")
    ids = voice.ids(["Printing, in the only sense."])
    normal = voice.text_to_mel.infer(ids, speed_ratio=0.5, seed=1)
    fast = voice.mels(ids, SpeechOptions(speed=2.0, seed=1))
    np.testing.assert_array_equal(fast.durations[0], normal.durations[0])
    assert fast.lengths == [int(normal.durations.sum())]


def test_pitch_and_energy_scale_their_curves_not_the_durations(tiny, expected):
    ids = expected["input_ids"]
    base = tiny.infer(ids, dropout=False)
    out = tiny.infer(ids, f0_ratio=1.5, energy_ratio=0.5, dropout=False)
    np.testing.assert_allclose(out.f0, 1.5 * base.f0, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(out.energy, 0.5 * base.energy, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(out.durations, base.durations)
    assert np.abs(out.mel - base.mel).max() > 0.1


def test_embedding_dropout_is_on_by_default_and_seeded(tiny, expected):
    ids = expected["input_ids"][:, :20]
    a, b, c = (tiny.infer(ids, seed=s) for s in (1, 1, 2))
    off = tiny.infer(ids, dropout=False)
    np.testing.assert_array_equal(a.mel, b.mel)
    assert not np.allclose(a.mel, c.mel, atol=1e-3)
    assert not np.allclose(a.mel, off.mel, atol=1e-3)
    np.testing.assert_array_equal(a.durations, off.durations)  # dropout comes after the durations


def test_an_item_in_a_batch_gives_what_it_gives_alone(fixtures, expected, engine):
    """Padding is masked everywhere, the postnet's input included; what differs is float
    summation order in padded shapes, the same effect as against the reference (2e-4
    seen on the 423-frame item), so the same 1e-3 bound. With fp32 weights: int8's
    activations are quantized per call, so there batch mates move each other's rounding."""
    tiny = _tiny(fixtures)
    long, short = expected["input_ids"][0].tolist(), expected["input_ids"][0, 5:25].tolist()
    batch = tiny.infer([long, short], dropout=False)
    for row, ids in enumerate([long, short]):
        alone = tiny.infer(ids, dropout=False)
        n = alone.lengths[0]
        assert batch.lengths[row] == n
        np.testing.assert_array_equal(batch.durations[row, :len(ids)], alone.durations[0])
        np.testing.assert_allclose(batch.mel[row, :n], alone.mel[0], rtol=0, atol=1e-3)
        assert not batch.mel[row, n:].any()


def test_a_seed_speaks_alike_on_both_engines(fixtures, expected):
    """The dropout masks are drawn outside the graphs (LiteRT has no random ops), by the
    generator the TensorFlow graph used to draw them with: one seed, the same draws on
    both engines, so the same mel within the parity bound."""
    ids = expected["input_ids"]
    on = {engine: _tiny(fixtures, engine, "fp32").infer(ids, seed=7) for engine in ("tensorflow", "litert")}
    np.testing.assert_allclose(on["litert"].mel, on["tensorflow"].mel, rtol=0, atol=1e-3)
    assert np.abs(on["litert"].mel - _tiny(fixtures, "litert", "fp32").infer(ids, seed=8).mel).max() > 0.1


# Int8 against fp32, both on LiteRT, on the fixture sentence (423 frames). Only the decoder has
# int8 weights, so the durations, pitch and energy are fp32's exactly (the same encoder file).
# The mel moves by rounding: per matmul, a weight moves by at most half a step, max|w| / 254 in
# its channel, the activations likewise, ~0.5 % of the output's size together
# (tests/test_int8.py); the tiny decoder chains 7 matmuls with int8 weights (2 blocks x 2
# convolutions, the mel projection, 2 postnet convolutions; its others have under 1,024
# weights, which the converter leaves fp32): ~1.3 % of the mel's spread if their roundings are
# independent (seen: 1.3 %), 3.5 % if all pushed the same way, the mean bound. The largest of
# 34k differences, ~4.3 standard deviations, is ~5.4x their mean: 16 % at that bound, 20 %
# allowed (seen: 8.7 %). A real bug moves frames by O(their size): the mel one frame late is
# off by 16 % of its spread on average, without its postnet by 54 %.
INT8_MEAN_BOUND = 0.035
INT8_MAX_BOUND = 0.20


def test_int8_moves_the_mel_by_rounding_and_nothing_else(fixtures, expected):
    ids = expected["input_ids"]
    models = {precision: _tiny(fixtures, "litert", precision) for precision in ("fp32", "int8")}
    out = {precision: model.infer(ids, dropout=False) for precision, model in models.items()}
    assert [(m.engine, m.precision) for m in models.values()] == [("litert", "fp32"), ("litert", "int8")]
    fp32, int8 = out["fp32"], out["int8"]
    for name in ("durations", "f0", "energy", "lengths"):
        np.testing.assert_array_equal(getattr(int8, name), getattr(fp32, name), err_msg=name)
    error, spread = np.abs(int8.mel - fp32.mel), fp32.mel.std()
    assert error.mean() <= INT8_MEAN_BOUND * spread and error.max() <= INT8_MAX_BOUND * spread
    assert error.mean() > 0  # int8 ran: its weights are not fp32's


def test_every_input_is_heard_even_when_all_durations_round_to_zero(tiny):
    out = tiny.infer([[5, 6], [7, 8, 9]], speed_ratio=0.01, dropout=False)
    assert out.lengths.tolist() == [1, 1] and out.durations.sum(axis=1).tolist() == [1, 1]


def test_ratios_must_be_positive(tiny):
    with pytest.raises(OptionError, match="speed_ratio must be above 0"):
        tiny.infer([1, 2, 3], speed_ratio=0)


@pytest.mark.parametrize("name", ["ljspeech-en-fastspeech2", "kss-ko-fastspeech2", "baker-zh-fastspeech2"])
def test_catalog_voices_load_from_the_cache_and_speak(name):
    model = catalog.get(name)
    voice = Voice.from_pretrained(name)
    assert isinstance(voice.text_to_mel, FastSpeech2) and voice.controls == ("speed", "pitch", "energy")
    assert voice.sample_rate == model.sample_rate and voice.language == model.language
    text = {"en": "Hello there. How are you?", "ko": "안녕하세요. 반갑습니다.", "zh": "你好。谢谢你。"}[model.language]
    speech = voice.speak(text, SpeechOptions(seed=0, pitch=1.2, energy=0.9))
    frames = [int(d.sum()) for d in speech.durations]
    assert len(speech.sentences) == 2 and all(f > 0 for f in frames)
    pause = int(0.25 * voice.sample_rate)
    assert len(speech.audio) == sum(frames) * voice.vocoder.hop_size + pause
    assert speech.alignments == [None, None]
    assert [len(s) for s in speech.symbols] == [len(d) for d in speech.durations]
    assert all(s[-1] == "eos" for s in speech.symbols)  # what the model read, its end symbol included


def test_the_durations_figure_names_the_symbols_of_short_sentences():
    from synth.serving import figures

    short = figures.durations_figure([np.array([3, 5, 2])], [["h", "@AY1", "eos"]])
    assert [t.get_text() for t in short.axes[0].get_xticklabels()] == ["h", "AY1", "eos"]
    long = figures.durations_figure([np.ones(60, int)], [["a"] * 60])
    assert "a" not in {t.get_text() for t in long.axes[0].get_xticklabels()}  # too many: positions


def test_catalog_controls_agree_with_the_model_classes():
    for model in catalog.models("voice"):
        assert model.controls == registry.family(registry.TEXT_TO_MEL, model.family).CONTROLS, model.name
        assert catalog.FAMILIES[model.family] == registry.family(registry.TEXT_TO_MEL, model.family).__name__
    assert {m.name for m in catalog.models("voice") if m.family == "fastspeech2"} == {
        "ljspeech-en-fastspeech2", "kss-ko-fastspeech2", "baker-zh-fastspeech2"}
    for model in catalog.models("voice"):
        for repo in model.repos.values():
            assert re.fullmatch(r"[0-9a-f]{40}", repo.revision)


def test_a_tacotron2_voice_refuses_pitch_and_energy():
    voice = Voice.from_pretrained("ljspeech-en")
    assert voice.controls == ("speed",) and isinstance(voice.text_to_mel, Tacotron2)
    with pytest.raises(OptionError, match="Tacotron2 has no pitch control") as error:
        voice.speak("Hello.", SpeechOptions(pitch=1.2))
    assert error.value.reason == "no_pitch"
    with pytest.raises(OptionError, match="no energy control"):
        list(voice.stream("Hello.", SpeechOptions(energy=0.8)))
