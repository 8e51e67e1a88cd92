"""Int8 weights where synth makes them the CPU default (runtime.CPU_DEFAULTS): Tacotron2's
decoder step. Dynamic-range int8 (per output channel, activations quantized per call) moves
each matmul by rounding, not by a bug: these bounds come from that arithmetic and would catch
a wrong weight or mask, which moves frames by O(their own size).

Rounding, per matmul: a weight moves by at most half a step, max|w| / 254 in its channel (the
activations likewise), so an output moves by ~ (max/rms) / (254·√12) ≈ 3 / 880 ≈ 0.35 % of its
own size for each of the two, ~0.5 % together; a decoder step chains ~5 such matmuls (prenet ×2,
attention LSTM, decoder LSTM, projection), ~1.1 % of the frames' spread on average. Seen:
0.9 % (tts_tiny), 0.8 % (tts_tiny_r2), 0.24 % (full-size random weights, benchmarks/int8.py).
The largest of a step's 80 values is ~4 standard deviations of that: seen 4.5 % on the
tiny fixtures (0.0094 and 0.0146), 1.3 % at full size.
"""
import numpy as np
import pytest

from synth.speech import Tacotron2

MEAN_BOUND = 0.02  # mean |int8 - fp32| per frame value, as a share of the fp32 frames' std (~1.1 % expected)
MAX_BOUND = 0.10   # largest |int8 - fp32| of any step, same share (~4.5 % seen)
TIE = 1e-3         # attention weights closer than this are a tie: which wins is rounding


def _pair(fixtures, name):
    models = {}
    for precision in ("fp32", "int8"):
        model = Tacotron2.from_pretrained(str(fixtures / name / "tacotron2"))
        model.engine, model.precision = "litert", precision
        models[precision] = model
    return models


@pytest.mark.parametrize("name, steps", [("tts_tiny", 60), ("tts_tiny_r2", 30)])
def test_tacotron2_int8_teacher_forced_steps_stay_near_fp32(fixtures, name, steps):
    """Each int8 step fed fp32's frames (teacher forcing): its error is one step's, not an
    accumulation, so it is bounded step by step."""
    ids = np.load(fixtures / name / "expected.npz")["input_ids"]
    models = _pair(fixtures, name)
    fp32 = models["fp32"].infer(ids, max_steps=steps)
    models["int8"].infer(ids, max_steps=1)  # its step exported and loaded
    assert models["int8"].precision == "int8" and models["fp32"].precision == "fp32"
    r, n_mels = models["fp32"].config.reduction_factor, models["fp32"].config.n_mels
    teacher = fp32.mel_before.reshape(1, -1, r * n_mels)
    lengths, caps = np.array([ids.shape[1]], np.int32), np.array([teacher.shape[1]], np.int32)
    forced = {p: m._decode_stepwise(ids, lengths, caps, np.random.default_rng(0), teacher=teacher)
              for p, m in models.items()}
    np.testing.assert_allclose(forced["fp32"].mel_before, fp32.mel_before, atol=1e-6)  # the same loop
    error = np.abs(forced["int8"].mel_before - forced["fp32"].mel_before)
    spread = fp32.mel_before.std()
    assert error.mean() <= MEAN_BOUND * spread and error.max() <= MAX_BOUND * spread
    assert error.mean() > 0  # int8 ran: its weights are not fp32's


@pytest.mark.parametrize("name, steps", [("tts_tiny", 60), ("tts_tiny_r2", 30)])
def test_tacotron2_int8_follows_fp32s_alignment_path(fixtures, name, steps):
    """Free-running, int8 attends at every step to the symbol fp32 attends to, or to one fp32
    itself weighs within TIE of it (the tiny random fixtures attend almost evenly: tts_tiny's
    step 21 has its top two 7e-5 apart), and stops at the same step."""
    ids = np.load(fixtures / name / "expected.npz")["input_ids"]
    models = _pair(fixtures, name)
    fp32, int8 = (models[p].infer(ids, max_steps=steps) for p in ("fp32", "int8"))
    assert int8.lengths.tolist() == fp32.lengths.tolist()
    weights = fp32.alignment[0]  # (symbols, steps)
    chosen = int8.alignment[0].argmax(0)
    assert (weights.max(0) - weights[chosen, np.arange(weights.shape[1])]).max() <= TIE
    assert (chosen == weights.argmax(0)).mean() >= 0.95
