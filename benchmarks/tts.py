"""Speech speed on this machine: full-size Tacotron2 (tacotron2.v1) + Multi-band MelGAN
(multiband_melgan.v1) with random weights, stop disabled, a fixed number of decoder
steps, a 100-symbol input; batch 1 and batch 5. Reference on the 2-core CPU type:
2.98 ms/step, Tacotron2 RTF 0.256, MB-MelGAN RTF 0.030.

The text-to-mel case puts full-size FastSpeech2 (fastspeech2.v1) on the same inputs, next to
Tacotron2: it predicts durations instead of decoding frame by frame, so its random weights
pin the durations near 6 frames a symbol (LJSpeech averages 6-7) to make as many frames as
real speech would. The issue's goal is a FastSpeech2 text-to-mel RTF of 0.01 or less.
`--engine` and `--precision` choose FastSpeech2's (default: as SYNTH_ENGINE and
SYNTH_PRECISION say); `--text-to-mel` times FastSpeech2 alone.

The paragraph case times the voice layer: a 5-sentence text through `Voice.speak` (batched)
and `Voice.stream` (first sentence alone, the rest batched on a worker), against one
sentence spoken alone; every sentence runs `--paragraph-steps` decoder steps.

    python benchmarks/tts.py [--steps 400] [--repeat 3] [--paragraph-steps 200]
                             [--engine litert] [--precision int8] [--text-to-mel]
"""
import argparse
import json
import time
from pathlib import Path

import numpy as np

from synth.speech import FastSpeech2, MultiBandMelGAN, SpeechOptions, Tacotron2, TextProcessor, Voice
from synth.speech.config import FastSpeech2Config, MultiBandMelGANConfig, Tacotron2Config, build
from synth.speech.fastspeech2 import sincos_positions

TACOTRON2_V1 = dict(
    dataset="ljspeech", embedding_hidden_size=512, n_conv_encoder=5, encoder_conv_filters=512,
    encoder_conv_kernel_sizes=5, encoder_conv_activation="relu", encoder_lstm_units=256,
    n_prenet_layers=2, prenet_units=256, prenet_activation="relu", prenet_dropout_rate=0.5,
    n_lstm_decoder=1, reduction_factor=1, decoder_lstm_units=1024, attention_dim=128,
    attention_filters=32, attention_kernel=31, n_mels=80, n_conv_postnet=5,
    postnet_conv_filters=512, postnet_conv_kernel_sizes=5)
FASTSPEECH2_V1 = dict(dataset="ljspeech")  # FastSpeech2Config's defaults are fastspeech2.v1
MB_MELGAN_V1 = dict(filters=384, upsample_scales=[8, 4, 2], stacks=4, is_weight_norm=False)
SAMPLE_RATE = 22050
RTF_GOAL = 0.01  # FastSpeech2 text-to-mel
PROCESSOR = Path(__file__).parent.parent / "tests" / "fixtures" / "processors" / "ljspeech.json"
PARAGRAPH = ("Deep learning turns text into speech. The first sentence plays while the rest is made. "
             "Each sentence is a new run of the decoder. Five of them make a paragraph. "
             "This is the last one.")


def random_weights(layout, rng):
    """O(1)-activation random weights and sin/cos position tables. Where the model has them,
    Tacotron2's stop bias is pinned negative so decoding never stops, and FastSpeech2's
    durations stay near exp(log 7) - 1 = 6 frames a symbol."""
    weights = {}
    for _, group in layout:
        for name, shape in group:
            if name.endswith("position_embeddings/embeddings"):
                weights[name] = sincos_positions(*shape)
            elif "moving_variance" in name or name.endswith("gamma"):
                weights[name] = rng.uniform(0.5, 1.5, shape)
            elif name.endswith(("bias", "beta", "moving_mean")):
                weights[name] = rng.normal(0, 0.1, shape)
            else:
                weights[name] = rng.normal(0, 1 / np.sqrt(max(1, np.prod(shape[:-1]))), shape)
    if "decoder_cell/stop_projection/bias" in weights:
        weights["decoder_cell/stop_projection/bias"] = np.full(1, -20.0)
    if "duration_predictor/dense/bias" in weights:
        weights["duration_predictor/dense/bias"] = np.full(1, np.log(7.0))
        weights["duration_predictor/dense/kernel"] *= 0.05
    return weights


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--paragraph-steps", type=int, default=200)
    parser.add_argument("--engine", choices=("litert", "tensorflow"), help="FastSpeech2's engine")
    parser.add_argument("--precision", choices=("fp32", "int8"), help="FastSpeech2's weights on LiteRT")
    parser.add_argument("--text-to-mel", action="store_true", help="FastSpeech2 alone, no Tacotron2")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    taco = Tacotron2(Tacotron2Config(**TACOTRON2_V1))
    taco.set_weights(random_weights(taco.weight_layout(), rng))
    vocoder = MultiBandMelGAN(MultiBandMelGANConfig(**MB_MELGAN_V1))
    vocoder.set_weights(random_weights(vocoder.weight_layout(), rng))
    fastspeech2 = FastSpeech2(build(FastSpeech2Config, FASTSPEECH2_V1, "fastspeech2.v1"))
    fastspeech2.set_weights(random_weights(fastspeech2.weight_layout(), rng))
    fastspeech2.engine, fastspeech2.precision = args.engine, args.precision
    results, text_to_mel = {}, {}
    for batch in (1, 5):
        ids = rng.integers(1, 149, (batch, 100))
        text_to_mel[f"batch_{batch}"] = fastspeech2_speed(fastspeech2, ids, vocoder.hop_size, args.repeat)
        if args.text_to_mel:
            continue
        taco.infer(ids, max_steps=5, seed=0)  # trace once
        taco_s, out = best(lambda: taco.infer(ids, max_steps=args.steps, seed=0), args.repeat)
        vocoder.infer(out.mel[:, :10])
        voc_s, _ = best(lambda: vocoder.infer(out.mel), args.repeat)
        frames = out.mel.shape[1]
        audio_s = batch * frames * vocoder.hop_size / SAMPLE_RATE
        results[f"batch_{batch}"] = dict(
            frames=frames, audio_s=round(audio_s, 2), tacotron2_s=round(taco_s, 3), vocoder_s=round(voc_s, 3),
            decoder_ms_per_step=round(1000 * taco_s / frames, 3),
            rtf_tacotron2=round(taco_s / audio_s, 4), rtf_vocoder=round(voc_s / audio_s, 4),
            rtf_total=round((taco_s + voc_s) / audio_s, 4))
        text_to_mel[f"batch_{batch}"].update(
            tacotron2_ms_per_utterance=round(1000 * taco_s / batch, 1), rtf_tacotron2=round(taco_s / audio_s, 4))
    text_to_mel["rtf_goal"] = RTF_GOAL
    results["text_to_mel"] = text_to_mel
    if not args.text_to_mel:
        results["paragraph"] = paragraph(taco, vocoder, args.paragraph_steps, args.repeat)
    print(json.dumps(results, indent=1))


def fastspeech2_speed(model, ids, hop_size, repeat):
    """FastSpeech2 on the batch Tacotron2 had, dropout on as in real use; the RTF counts
    the frames it chose to make."""
    model.infer(ids, seed=0)  # trace once
    seconds, out = best(lambda: model.infer(ids, seed=0), repeat)
    audio_s = out.lengths.sum() * hop_size / SAMPLE_RATE
    rtf = seconds / audio_s
    return dict(fastspeech2_engine=f"{model.engine}, {model.precision}",
                fastspeech2_ms_per_utterance=round(1000 * seconds / len(ids), 1),
                fastspeech2_frames=out.lengths.tolist(), fastspeech2_audio_s=round(audio_s, 2),
                rtf_fastspeech2=round(rtf, 4), fastspeech2_meets_goal=bool(rtf <= RTF_GOAL))


def paragraph(taco, vocoder, steps, repeat):
    """stream() against speak() on five sentences, and its first chunk against one sentence."""
    vocoder.sample_rate = SAMPLE_RATE
    voice = Voice(taco, vocoder, TextProcessor.from_file(PROCESSOR))
    options = SpeechOptions(seed=0, max_steps=steps)
    first = voice.sentences(PARAGRAPH)[0]
    voice.speak(first, SpeechOptions(max_steps=5))  # trace once

    def stream():
        start = time.perf_counter()
        chunks = voice.stream(PARAGRAPH, options)
        next(chunks)
        first_chunk = time.perf_counter() - start
        list(chunks)
        return first_chunk, time.perf_counter() - start

    one_s, _ = best(lambda: voice.speak(first, options), repeat)
    speak_s, speech = best(lambda: voice.speak(PARAGRAPH, options), repeat)
    runs = [stream() for _ in range(repeat)]
    first_s, stream_s = min(r[0] for r in runs), min(r[1] for r in runs)
    return dict(sentences=len(speech.sentences), steps_per_sentence=steps, audio_s=round(speech.duration, 2),
                one_sentence_s=round(one_s, 3), speak_s=round(speak_s, 3), stream_total_s=round(stream_s, 3),
                stream_first_chunk_s=round(first_s, 3), stream_over_speak=round(stream_s / speak_s, 3),
                first_chunk_over_one_sentence=round(first_s / one_s, 3))


if __name__ == "__main__":
    main()
