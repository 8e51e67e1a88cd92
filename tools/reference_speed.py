"""The legacy stack's speed, for benchmarks/versus_reference.py to put beside synth's.

Run by the reference venv's python (tools/reference_venv.sh: tensorflow-tts 1.8 on
TensorFlow 2.15 + tensorflow-addons, Keras 2), never by synth's; versus_reference.py runs it
and hands it the inputs synth gets, so that both sides time the same work:

    VENV/bin/python tools/reference_speed.py INPUTS.npz OUT.json [--steps 400]
        [--sentence-steps 888] [--repeat 3] [--only decoder,vocoder,generator,fastspeech2,sentence]

INPUTS.npz holds `ids` (1, 100) int32, `sentence_ids` (1, N) int32, `mel` (1, 200, 80) and
`image` (1, 256, 256, 3) float32. Full-size configs with the reference's own random init
(weights do not change the time), called as the reference ships them (graph mode, prenet
dropout on at inference); each figure is the best of `--repeat` runs after one warm-up run
(the first call traces). OUT.json gets, per measurement, the seconds and the figure.

- decoder: tacotron2.v1 on `ids`, the stop token biased to -20 so that it never stops and
  `maximum_iterations` = `--steps`; ms/step of the whole `inference` (encoder, decoder loop,
  postnet) over the frames made.
- vocoder: multiband_melgan.v1 `inference` on `mel`; RTF.
- generator: the keras.io CycleGAN ResNet generator (64 filters, 9 blocks, tensorflow-addons
  InstanceNormalization, fixed 256x256 input), called in a tf.function as a loaded
  SavedModel runs; seconds.
- fastspeech2: fastspeech2.v1 `inference` on `ids`, its duration predictor set to 6 frames
  a symbol (LJSpeech's pace); RTF over the frames made.
- sentence: `sentence_ids` through tacotron2.v1 (`--sentence-steps` steps) and
  multiband_melgan.v1: text ids to audio; RTF.
"""
import argparse
import importlib.metadata
import json
import time

import numpy as np
import tensorflow as tf
import tensorflow_addons as tfa
from tensorflow import keras
from tensorflow.keras import layers

from tensorflow_tts.configs import FastSpeech2Config, MultiBandMelGANGeneratorConfig, Tacotron2Config
from tensorflow_tts.inference.savable_models import SavableTFTacotron2
from tensorflow_tts.models import TFFastSpeech2, TFMBMelGANGenerator

MEASURES = ("decoder", "vocoder", "generator", "fastspeech2", "sentence")
SAMPLE_RATE, HOP = 22050, 256
TACOTRON2_V1 = dict(
    dataset="ljspeech", embedding_hidden_size=512, initializer_range=0.02, embedding_dropout_prob=0.1,
    n_speakers=1, n_conv_encoder=5, encoder_conv_filters=512, encoder_conv_kernel_sizes=5,
    encoder_conv_activation="relu", encoder_conv_dropout_rate=0.5, encoder_lstm_units=256,
    n_prenet_layers=2, prenet_units=256, prenet_activation="relu", prenet_dropout_rate=0.5,
    n_lstm_decoder=1, reduction_factor=1, decoder_lstm_units=1024, attention_dim=128,
    attention_filters=32, attention_kernel=31, n_mels=80, n_conv_postnet=5,
    postnet_conv_filters=512, postnet_conv_kernel_sizes=5, postnet_dropout_rate=0.1, attention_type="lsa")
MB_MELGAN_V1 = dict(out_channels=4, kernel_size=7, filters=384, upsample_scales=[8, 4, 2],
                    stack_kernel_size=3, stacks=4, is_weight_norm=False)
FASTSPEECH2_V1 = dict(
    dataset="ljspeech", n_speakers=1, encoder_hidden_size=384, encoder_num_hidden_layers=4,
    encoder_num_attention_heads=2, encoder_attention_head_size=192, encoder_intermediate_size=1024,
    encoder_intermediate_kernel_size=3, encoder_hidden_act="mish", decoder_hidden_size=384,
    decoder_num_hidden_layers=4, decoder_num_attention_heads=2, decoder_attention_head_size=192,
    decoder_intermediate_size=1024, decoder_intermediate_kernel_size=3, decoder_hidden_act="mish",
    variant_prediction_num_conv_layers=2, variant_predictor_filter=256, variant_predictor_kernel_size=3,
    variant_predictor_dropout_rate=0.5, num_mels=80, hidden_dropout_prob=0.2, attention_probs_dropout_prob=0.1,
    max_position_embeddings=2048, initializer_range=0.02, output_attentions=False, output_hidden_states=False)


def best(fn, repeat):
    """Seconds of the fastest of `repeat` calls after a warm-up call, and the last result."""
    result = fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def tacotron2(steps):
    """tacotron2.v1 that decodes exactly `steps` frames: the trace captures
    maximum_iterations, and random weights would stop at any time unless the stop is pinned."""
    model = SavableTFTacotron2(config=Tacotron2Config(**TACOTRON2_V1), name="tacotron2")
    model.setup_maximum_iterations(steps)  # before the first trace
    model._build()
    stop = model.decoder.cell.stop_projection
    kernel, bias = stop.get_weights()
    stop.set_weights([np.zeros_like(kernel), np.full_like(bias, -20.0)])
    return model


def synthesize(model, ids):
    """mel (1, frames, 80) of `ids` by Tacotron2's `inference`, as a numpy array."""
    return model.inference(ids, np.array([ids.shape[1]], np.int32), np.zeros(1, np.int32))[1].numpy()


def vocoder():
    model = TFMBMelGANGenerator(config=MultiBandMelGANGeneratorConfig(**MB_MELGAN_V1), name="mb_melgan")
    model._build()
    return model


def decoder_speed(inputs, args):
    model = tacotron2(args.steps)
    seconds, mel = best(lambda: synthesize(model, inputs["ids"]), args.repeat)
    frames = mel.shape[1]
    return dict(steps=frames, seconds=round(seconds, 4), ms_per_step=round(1000 * seconds / frames, 3))


def vocoder_speed(inputs, args):
    model, mel = vocoder(), inputs["mel"]
    seconds, _ = best(lambda: model.inference(mel).numpy(), args.repeat)
    audio_s = mel.shape[1] * HOP / SAMPLE_RATE
    return dict(frames=mel.shape[1], seconds=round(seconds, 4), rtf=round(seconds / audio_s, 4))


def instance_norm():
    return tfa.layers.InstanceNormalization(gamma_initializer=keras.initializers.RandomNormal(1.0, 0.3),
                                            beta_initializer=keras.initializers.RandomNormal(0.0, 0.3))


def reflect(x, pad):
    return layers.Lambda(lambda t: tf.pad(t, [[0, 0], [pad, pad], [pad, pad], [0, 0]], mode="REFLECT"))(x)


def resnet_generator(side, filters=64, blocks=9):
    """The keras.io CycleGAN generator, as the keras-io/CycleGAN checkpoint was built."""
    def init():  # a new initializer per layer, or every layer gets the same draw
        return keras.initializers.RandomNormal(0.0, 0.05)

    image = layers.Input(shape=(side, side, 3))
    x = layers.Conv2D(filters, 7, kernel_initializer=init(), use_bias=False)(reflect(image, 3))
    x = layers.Activation("relu")(instance_norm()(x))
    for _ in range(2):
        filters *= 2
        x = layers.Conv2D(filters, 3, strides=2, padding="same", kernel_initializer=init(), use_bias=False)(x)
        x = layers.Activation("relu")(instance_norm()(x))
    for _ in range(blocks):
        y = layers.Conv2D(filters, 3, kernel_initializer=init(), use_bias=False)(reflect(x, 1))
        y = layers.Activation("relu")(instance_norm()(y))
        y = layers.Conv2D(filters, 3, kernel_initializer=init(), use_bias=False)(reflect(y, 1))
        x = layers.add([x, instance_norm()(y)])
    for _ in range(2):
        filters //= 2
        x = layers.Conv2DTranspose(filters, 3, strides=2, padding="same", kernel_initializer=init(), use_bias=False)(x)
        x = layers.Activation("relu")(instance_norm()(x))
    x = layers.Conv2D(3, 7, kernel_initializer=init())(reflect(x, 3))
    return keras.Model(image, layers.Activation("tanh")(x))


def generator_speed(inputs, args):
    image = inputs["image"]
    model = resnet_generator(image.shape[1])
    run = tf.function(lambda x: model(x, training=False))
    seconds, _ = best(lambda: run(image).numpy(), args.repeat)
    return dict(side=image.shape[1], seconds=round(seconds, 3))


def fastspeech2_speed(inputs, args):
    model = TFFastSpeech2(config=FastSpeech2Config(**FASTSPEECH2_V1), name="fastspeech2")
    model._build()
    # durations exp(log 7) - 1 = 6 frames a symbol, whatever the encoder says
    output = model.duration_predictor.output_layer
    kernel, bias = output.get_weights()
    output.set_weights([np.zeros_like(kernel), np.full_like(bias, np.log(7.0))])
    ids, one = inputs["ids"], np.ones(1, np.float32)
    seconds, mel = best(lambda: model.inference(ids, np.zeros(1, np.int32), one, one, one)[1].numpy(), args.repeat)
    audio_s = mel.shape[1] * HOP / SAMPLE_RATE
    return dict(frames=mel.shape[1], seconds=round(seconds, 4), rtf=round(seconds / audio_s, 4))


def sentence_speed(inputs, args):
    text_to_mel, mel_to_audio = tacotron2(args.sentence_steps), vocoder()
    seconds, audio = best(lambda: mel_to_audio.inference(synthesize(text_to_mel, inputs["sentence_ids"])).numpy(),
                          args.repeat)
    audio_s = audio.shape[1] / SAMPLE_RATE
    return dict(symbols=inputs["sentence_ids"].shape[1], steps=audio.shape[1] // HOP, audio_s=round(audio_s, 2),
                seconds=round(seconds, 3), rtf=round(seconds / audio_s, 4))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("inputs", help="the .npz of inputs versus_reference.py writes")
    parser.add_argument("out", help="where the JSON figures go")
    parser.add_argument("--steps", type=int, default=400, help="decoder steps timed")
    parser.add_argument("--sentence-steps", type=int, default=888, help="decoder steps of the sentence")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default=",".join(MEASURES))
    args = parser.parse_args()
    inputs = dict(np.load(args.inputs))
    speeds = dict(decoder=decoder_speed, vocoder=vocoder_speed, generator=generator_speed,
                  fastspeech2=fastspeech2_speed, sentence=sentence_speed)
    results = {"versions": {name: importlib.metadata.version(name)
                            for name in ("tensorflow", "TensorFlowTTS", "tensorflow-addons")}}
    for name in args.only.split(","):
        results[name] = speeds[name](inputs, args)
        print("reference", name, json.dumps(results[name]), flush=True)
    with open(args.out, "w") as fh:
        json.dump(results, fh, indent=1)


if __name__ == "__main__":
    main()
