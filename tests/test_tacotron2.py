import json
import shutil

import h5py
import numpy as np
import pytest
import yaml

from synth.errors import CheckpointMismatch, ConfigError
from synth.speech import MultiBandMelGAN, Tacotron2
from synth.speech.checkpoint import read_h5_weights
from synth.speech.config import MultiBandMelGANConfig, Tacotron2Config, build

TOLERANCE = 1e-3  # max abs error on outputs of O(1-5); we see ~1e-6 (r1) and ~2e-5 (r2)


@pytest.mark.parametrize("name, steps", [("tts_tiny", 60), ("tts_tiny_r2", 30)])
def test_reference_parity(fixtures, name, steps, engine):
    expected = np.load(fixtures / name / "expected.npz")
    taco = Tacotron2.from_pretrained(str(fixtures / name / "tacotron2"))
    out = taco.infer(expected["input_ids"], max_steps=steps)
    assert taco.engine == engine and out.mel.shape == expected["mel"].shape
    assert out.lengths.tolist() == [expected["mel"].shape[1]]
    for key, value in [("decoder_mel", out.mel_before), ("mel", out.mel), ("stop", out.stop_logits),
                       ("alignment", out.alignment)]:
        assert value.shape == expected[key].shape, key
        assert np.abs(value - expected[key]).max() <= TOLERANCE, key
    vocoder = MultiBandMelGAN.from_pretrained(str(fixtures / name / "mb_melgan"))
    wav = vocoder.infer(expected["mel"])
    assert vocoder.engine == engine and wav.shape == expected["wav"].shape[:2]
    assert np.abs(wav - expected["wav"][..., 0]).max() <= TOLERANCE


def _full_configs(fixtures):
    reference = yaml.safe_load((fixtures / "tts_tiny" / "tacotron2" / "config.yml").read_text())["tacotron2_params"]
    full = dict(reference, embedding_hidden_size=512, encoder_conv_filters=512, encoder_lstm_units=256,
                prenet_units=256, decoder_lstm_units=1024, attention_dim=128, attention_filters=32,
                attention_kernel=31, n_conv_postnet=5, postnet_conv_filters=512, n_conv_encoder=5,
                prenet_dropout_rate=0.5)
    vocoder = dict(filters=384, upsample_scales=[8, 4, 2], stacks=4, is_weight_norm=False)
    return Tacotron2(build(Tacotron2Config, full, "v1")), MultiBandMelGAN(build(MultiBandMelGANConfig, vocoder, "v1"))


def _write_h5(path, file_layout, change_shape_of=None):
    """A Keras-2 save_weights file with the reference's group and weight names."""
    rng = np.random.default_rng(0)
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [g["layer"].encode() for g in file_layout]
        for group in file_layout:
            g = f.create_group(group["layer"])
            g.attrs["weight_names"] = [n.encode() for n, _ in group["weights"]]
            for name, shape in group["weights"]:
                if name == change_shape_of:
                    shape = [shape[0] + 1] + shape[1:]
                g.create_dataset(name, data=rng.standard_normal(shape).astype(np.float32) * 0.01)


def _last(name):
    return name.split("/")[-1].replace(":0", "")


def test_full_size_layout_matches_reference(fixtures):
    reference = json.loads((fixtures / "tts_full_layout.json").read_text())
    for model, key in zip(_full_configs(fixtures), ("tacotron2", "mb_melgan")):
        ours = model.weight_layout()
        assert [g for g, _ in ours] == [g["layer"] for g in reference[key]]
        for (group, weights), ref in zip(ours, reference[key]):
            assert [tuple(s) for _, s in weights] == [tuple(s) for _, s in ref["weights"]], group
            assert [_last(n) for n, _ in weights] == [_last(n) for n, _ in ref["weights"]], group


@pytest.mark.slow
def test_full_size_random_checkpoint_loads_and_bad_shape_fails(fixtures, tmp_path):
    reference = json.loads((fixtures / "tts_full_layout.json").read_text())
    taco, vocoder = _full_configs(fixtures)
    for model, key in ((taco, "tacotron2"), (vocoder, "mb_melgan")):
        _write_h5(tmp_path / f"{key}.h5", reference[key])
        arrays = read_h5_weights(tmp_path / f"{key}.h5", model.weight_layout())
        assert len(arrays) == sum(len(g["weights"]) for g in reference[key])
        model.set_weights(arrays)
    assert sum(a.size for a in arrays.values()) == 2_534_356
    out = taco.infer(np.arange(1, 21), max_steps=5, seed=0)
    assert out.mel.shape == (1, 5, 80)
    assert vocoder.infer(out.mel).shape == (1, 5 * 256)

    bad = "decoder/while/decoder_cell/query_layer/kernel:0"
    _write_h5(tmp_path / "bad.h5", reference["tacotron2"], change_shape_of=bad)
    with pytest.raises(CheckpointMismatch) as error:
        read_h5_weights(tmp_path / "bad.h5", taco.weight_layout())
    message = str(error.value)
    assert "group 'decoder_cell'" in message and "weight 10" in message
    assert "(1024, 128)" in message and "(1025, 128)" in message


def test_wrong_weight_count_is_refused(fixtures, tmp_path):
    source = fixtures / "tts_tiny" / "tacotron2"
    shutil.copytree(source, tmp_path / "t")
    with h5py.File(tmp_path / "t" / "model.h5", "a") as f:
        names = list(f["residual_projection"].attrs["weight_names"])
        f["residual_projection"].attrs["weight_names"] = names[:1]
    with pytest.raises(CheckpointMismatch, match="group 'residual_projection' holds 1 weights.*expects 2"):
        Tacotron2.from_pretrained(str(tmp_path / "t"))


def test_config_errors(fixtures, tmp_path):
    source = fixtures / "tts_tiny" / "tacotron2"
    shutil.copytree(source, tmp_path / "t")
    config_path = tmp_path / "t" / "config.yml"
    config = yaml.safe_load(config_path.read_text())
    config_path.write_text(yaml.safe_dump(dict(config, model_type="fastspeech2")))
    with pytest.raises(ConfigError, match=r"model_type 'fastspeech2'.*\['tacotron2'\]"):
        Tacotron2.from_pretrained(str(tmp_path / "t"))
    params = dict(config["tacotron2_params"])
    del params["decoder_lstm_units"]
    config_path.write_text(yaml.safe_dump(dict(config, tacotron2_params=params)))
    with pytest.raises(ConfigError, match=r"missing keys \['decoder_lstm_units'\]"):
        Tacotron2.from_pretrained(str(tmp_path / "t"))


def _tiny(fixtures, tmp_path, **changes):
    """The tiny Tacotron2 fixture with config changes (e.g. dropout on)."""
    target = tmp_path / "taco"
    shutil.copytree(fixtures / "tts_tiny" / "tacotron2", target)
    config = yaml.safe_load((target / "config.yml").read_text())
    config["tacotron2_params"].update(changes)
    (target / "config.yml").write_text(yaml.safe_dump(config))
    return Tacotron2.from_pretrained(str(target))


# Batched and single decoding differ only in float32 summation order: each matmul rounds
# differently (~1e-7 relative), and ~90 recurrent steps of this tiny random model carry that
# forward and grow it (the 90-step item's frames part after ~step 46), then the postnet
# multiplies it by ~3. Measured on the mel: 6e-6 (LiteRT step) and 3.6e-5 (TensorFlow) with
# oneDNN; without it (TF_ENABLE_ONEDNN_OPTS=0: Eigen's kernels) 7.1e-4 (TensorFlow) and 3.0e-3
# (LiteRT); 1.04e-4 on another CPU. What this test guards against is a masking bug (padding
# leaking into an item), which moves outputs of size O(1) by O(0.1): 1e-2 stays 10x under
# that and 3x over the largest rounding seen.
BATCH_TOLERANCE = 1e-2


def test_batch_equals_single_items(fixtures, monkeypatch):
    """Equal up to float32 summation order (see BATCH_TOLERANCE), with fp32 weights: int8's
    activations are quantized per call, on a scale its batch mates share, so there an item
    moves within int8's own bounds (test_int8.py) with the company it keeps."""
    monkeypatch.setenv("SYNTH_PRECISION", "fp32")
    taco = Tacotron2.from_pretrained(str(fixtures / "tts_tiny" / "tacotron2"))
    rng = np.random.default_rng(3)
    items = [rng.integers(1, 60, n) for n in (5, 9, 7)]
    batch = taco.infer(items)
    # default caps follow each input's own length, so items end at different frames
    assert batch.lengths.tolist() == [taco.default_max_steps(n) for n in (5, 9, 7)]
    assert batch.alignment.shape == (3, 9, max(batch.lengths))
    for i, ids in enumerate(items):
        alone = taco.infer(ids)
        n = alone.lengths[0]
        assert batch.lengths[i] == n
        np.testing.assert_allclose(batch.mel[i, :n], alone.mel[0], atol=BATCH_TOLERANCE)
        np.testing.assert_allclose(batch.mel_before[i, :n], alone.mel_before[0], atol=BATCH_TOLERANCE)
        np.testing.assert_allclose(batch.alignment[i, :len(ids), :n], alone.alignment[0], atol=BATCH_TOLERANCE)
        assert not batch.mel[i, n:].any() and not batch.alignment[i, :, n:].any()  # past its own stop: nothing


def test_padded_batch_with_lengths_matches_list(fixtures):
    taco = Tacotron2.from_pretrained(str(fixtures / "tts_tiny" / "tacotron2"))
    padded = np.array([[5, 6, 7, 8], [9, 10, 0, 0]])
    a = taco.infer(padded, lengths=[4, 2], max_steps=6)
    b = taco.infer([[5, 6, 7, 8], [9, 10]], max_steps=6)
    np.testing.assert_array_equal(a.mel, b.mel)


def test_stop_token_ends_each_item(fixtures):
    taco = Tacotron2.from_pretrained(str(fixtures / "tts_tiny" / "tacotron2"))
    # Stop logit = 40 x (first decoder-LSTM unit): items stop at different steps.
    kernel = np.zeros(taco._w["decoder_cell/stop_projection/kernel"].shape, np.float32)
    kernel[0] = 40.0
    taco._w["decoder_cell/stop_projection/kernel"].assign(kernel)
    taco._w["decoder_cell/stop_projection/bias"].assign(np.zeros(1, np.float32))
    items = [[3, 4, 5, 6, 7], [20, 21, 22], [40, 41, 42, 43, 44, 45], [12, 30, 9]]
    batch = taco.infer(items, max_steps=40)
    alone = [taco.infer(ids, max_steps=40).lengths[0] for ids in items]
    assert batch.lengths.tolist() == alone
    assert len(set(alone)) > 1 and max(alone) < 40
    for i, n in enumerate(batch.lengths):  # an item's last frame is its first with stop >= 0.5
        assert batch.stop_logits[i, n - 1] >= 0 and (batch.stop_logits[i, :n - 1] < 0).all()


def test_prenet_dropout_is_on_and_seeded(fixtures, tmp_path):
    taco = _tiny(fixtures, tmp_path, prenet_dropout_rate=0.5)
    ids = np.arange(1, 15)
    a, b = taco.infer(ids, max_steps=20, seed=7), taco.infer(ids, max_steps=20, seed=7)
    c = taco.infer(ids, max_steps=20, seed=8)
    np.testing.assert_array_equal(a.mel, b.mel)
    assert np.abs(a.mel - c.mel).max() > 1e-3


def test_bad_ids_are_refused(fixtures):
    from synth.errors import TextError

    taco = Tacotron2.from_pretrained(str(fixtures / "tts_tiny" / "tacotron2"))
    with pytest.raises(TextError, match=r"\[0, 149\)"):
        taco.infer([1, 2, 500])
    with pytest.raises(TextError):
        taco.infer(np.zeros((1, 0), np.int32))
