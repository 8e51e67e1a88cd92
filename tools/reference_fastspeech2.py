"""Make the FastSpeech2 reference fixtures with the legacy stack (tensorflow-tts 1.8).

Run it with the reference venv that tools/reference_venv.sh builds (TF 2.15,
Keras 2, TensorFlowTTS 1.8), never with synth's own environment:

    VENV/bin/python tools/reference_fastspeech2.py tiny OUTDIR --processor ljspeech.json
    VENV/bin/python tools/reference_fastspeech2.py layout OUT.json fastspeech2.v1.yaml ...

`tiny` writes a tiny FastSpeech2 in the Hub layout (config.yml, model.h5, processor.json)
and expected.npz; `layout` builds each full-size config and writes its h5 layout (groups,
ordered weight names and shapes). See tests/fixtures/fastspeech2_tiny/README.md.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile

import h5py
import numpy as np
import tensorflow as tf
import yaml

from tensorflow_tts.configs import FastSpeech2Config
from tensorflow_tts.models import TFFastSpeech2
from tensorflow_tts.processor.ljspeech import LJSPEECH_SYMBOLS, LJSpeechProcessor

TINY = dict(
    dataset="ljspeech", n_speakers=1,
    encoder_hidden_size=24, encoder_num_hidden_layers=2, encoder_num_attention_heads=2,
    encoder_attention_head_size=12, encoder_intermediate_size=32,
    encoder_intermediate_kernel_size=3, encoder_hidden_act="mish",
    decoder_hidden_size=16, decoder_num_hidden_layers=2, decoder_num_attention_heads=2,
    decoder_attention_head_size=8, decoder_intermediate_size=32,
    decoder_intermediate_kernel_size=3, decoder_hidden_act="mish",
    variant_prediction_num_conv_layers=2, variant_predictor_filter=16,
    variant_predictor_kernel_size=3, variant_predictor_dropout_rate=0.5,
    num_mels=80, hidden_dropout_prob=0.2, attention_probs_dropout_prob=0.1,
    max_position_embeddings=512, initializer_range=0.02,
    n_conv_postnet=2, postnet_conv_filters=16, postnet_conv_kernel_sizes=5,
    postnet_dropout_rate=0.1, output_attentions=False, output_hidden_states=False,
)
TEXT = "Printing, in the only sense with which we are at present concerned."
RATIOS = {"ratio_1": (1.0, 1.0, 1.0), "ratio_s08_p12_e09": (0.8, 1.2, 0.9)}


def build(params):
    model = TFFastSpeech2(config=FastSpeech2Config(**params), name="fastspeech2")
    model._build()
    return model


def randomize(model, rng):
    """O(1) activations instead of the std-0.02 init, so that a port that drops a layer
    fails; predictor output biases set so that durations spread over 0..~12 frames."""
    values = []
    for w in model.weights:
        name, shape = w.name, tuple(w.shape)
        if "position_embeddings" in name:  # the sin/cos table: keep it
            values.append(w.numpy())
            continue
        if "moving_variance" in name:
            v = rng.uniform(0.5, 1.5, shape)
        elif "moving_mean" in name or "bias" in name or "beta" in name:
            v = rng.normal(0.0, 0.1, shape)
        elif "gamma" in name:
            v = 1.0 + rng.normal(0.0, 0.1, shape)
        else:
            fan_in = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
            v = rng.normal(0.0, 1.5 / np.sqrt(max(fan_in, 1)), shape)
        values.append(v.astype(np.float32))
    model.set_weights(values)


def calibrate_durations(model, ids, mean=1.5, spread=0.7):
    """Shift and scale the duration predictor's output layer so that, for `ids`, the
    predicted log-durations have this mean and spread: durations of 0 to ~12 frames."""
    mask = tf.ones_like(ids, tf.bool)
    hidden = model.encoder([model.embeddings([ids, tf.zeros([1], tf.int32)]), mask])[0]
    predictor = model.duration_predictor
    kernel, _ = predictor.output_layer.get_weights()
    features = predictor.conv_layers_sequence(hidden).numpy().reshape(-1, kernel.shape[0])
    raw = features @ kernel
    kernel = kernel * spread / raw.std()
    predictor.output_layer.set_weights([kernel, np.array([mean - (features @ kernel).mean()], np.float32)])


def h5_layout(path):
    out = []
    with h5py.File(path, "r") as f:
        root = f["model_weights"] if "model_weights" in f else f
        for group in [n.decode() if isinstance(n, bytes) else n for n in root.attrs["layer_names"]]:
            names = [n.decode() if isinstance(n, bytes) else n for n in root[group].attrs["weight_names"]]
            out.append({"layer": group, "weights": [[n, list(root[group][n].shape)] for n in names]})
    return out


def tiny(args):
    os.makedirs(args.outdir, exist_ok=True)
    tf.random.set_seed(0)
    model = build(TINY)
    randomize(model, np.random.RandomState(1234))
    processor = LJSpeechProcessor(data_dir=None, symbols=LJSPEECH_SYMBOLS, cleaner_names="english_cleaners")
    ids = np.array([processor.text_to_sequence(TEXT)], np.int32)
    calibrate_durations(model, ids)
    model.save_weights(os.path.join(args.outdir, "model.h5"))
    with open(os.path.join(args.outdir, "config.yml"), "w") as fh:
        yaml.safe_dump({"model_type": "fastspeech2", "fastspeech2_params": TINY,
                        "hop_size": 256, "sampling_rate": 22050}, fh)
    shutil.copy(args.processor, os.path.join(args.outdir, "processor.json"))

    # Parity is checked with the f0/energy embedding dropout off (the reference keeps it
    # on at inference, so its outputs are random); Keras' Dropout with rate 0 is identity.
    model.f0_dropout.rate = 0.0
    model.energy_dropout.rate = 0.0
    expected = {"input_ids": ids}
    for key, (speed, f0, energy) in RATIOS.items():
        mel_before, mel, durations, f0_out, energy_out = model.inference(
            ids, speaker_ids=tf.zeros([1], tf.int32), speed_ratios=tf.constant([speed]),
            f0_ratios=tf.constant([f0]), energy_ratios=tf.constant([energy]))
        expected.update({f"{key}/mel_before": mel_before.numpy(), f"{key}/mel": mel.numpy(),
                         f"{key}/durations": durations.numpy(), f"{key}/f0": f0_out.numpy(),
                         f"{key}/energy": energy_out.numpy()})
        print(key, "durations", durations.numpy().tolist(), "frames", mel.shape[1],
              "mel range", float(mel.numpy().min()), float(mel.numpy().max()))
    np.savez(os.path.join(args.outdir, "expected.npz"), **expected)


def layout(args):
    layouts = {}
    for path in args.configs:
        config = yaml.safe_load(open(path))
        params = dict(config["fastspeech2_params"], output_attentions=False, output_hidden_states=False)
        model = build(params)
        with tempfile.TemporaryDirectory() as tmp:
            h5 = os.path.join(tmp, "model.h5")
            model.save_weights(h5)
            size = os.path.getsize(h5)
            layouts[os.path.basename(path)] = {
                "params": config["fastspeech2_params"],
                "parameters": int(sum(np.prod(w.shape) for w in model.weights)),
                "file_bytes": size, "layout": h5_layout(h5)}
        print(path, layouts[os.path.basename(path)]["parameters"], "parameters", size, "bytes")
    with open(args.out, "w") as fh:
        json.dump(layouts, fh, indent=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("tiny")
    p.add_argument("outdir")
    p.add_argument("--processor", required=True, help="the LJSpeech processor.json")
    p = sub.add_parser("layout")
    p.add_argument("out")
    p.add_argument("configs", nargs="+", help="tensorflow-tts fastspeech2 YAML configs")
    args = parser.parse_args()
    {"tiny": tiny, "layout": layout}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
