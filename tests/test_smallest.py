"""Every stage at its smallest legal input (issue #15): one character, one symbol, one mel
frame, a 1×1 image. Each gives a short result of the right size, or a typed error that says
what the minimum is; never a TensorFlow graph failure."""
import io

import numpy as np
import pytest
from PIL import Image

from synth.device import tf
from synth.errors import ImageError, OptionError, TextError
from synth.image import Generator, Styler
from synth.image.io import from_model_output, load_image, to_model_input
from synth.speech import FastSpeech2, MultiBandMelGAN, SpeechOptions, Tacotron2, TextProcessor, Voice
from synth.speech.config import MultiBandMelGANConfig, build

# -- text ---------------------------------------------------------------------------------

# One character per language, and the symbols it reads as (then eos).
ONE_CHARACTER = [
    ("ljspeech.json", "a", ["a"]),
    ("thorsten.json", "a", ["a"]),
    ("synpaflex.json", "a", ["a"]),
    ("kss.json", "가", ["ᄀ", "ᅡ"]),                   # one syllable: its two jamo
    ("baker.json", "中", ["sil", "zh", "ong1", "sil"]),  # initial + final, between silences
]


@pytest.mark.parametrize("processor, text, symbols", ONE_CHARACTER)
def test_one_character_gives_its_symbols_and_eos(fixtures, processor, text, symbols):
    front_end = TextProcessor.from_file(fixtures / "processors" / processor)
    ids = front_end.text_to_ids(text)
    assert ids == [front_end.symbol_to_id[s] for s in symbols] + [front_end.eos_id]
    assert front_end.is_speakable(text)


# -- Tacotron2 ----------------------------------------------------------------------------

# (fixture, a one-character text in its language, hop size of its vocoder)
VOICES = [("tts_tiny", "a", 256), ("tts_tiny_r2", "中", 300)]


@pytest.fixture(scope="module")
def voices():
    from conftest import FIXTURES

    return {name: Voice.from_pretrained(str(FIXTURES / name / "tacotron2"), vocoder=str(FIXTURES / name / "mb_melgan"))
            for name, _, _ in VOICES}


@pytest.mark.parametrize("name, text, hop", VOICES)
def test_tacotron2_one_step_gives_reduction_factor_frames(voices, name, text, hop):
    voice = voices[name]
    r = voice.text_to_mel.config.reduction_factor
    ids = voice.processor.text_to_ids(text)
    out = voice.text_to_mel.infer(ids, max_steps=1, seed=0)
    assert out.mel.shape == (1, r, 80) and out.lengths.tolist() == [r]
    assert out.alignment.shape == (1, len(ids), 1) and np.isfinite(out.mel).all()
    np.testing.assert_allclose(out.alignment[0, :, 0].sum(), 1.0, rtol=1e-5)  # one step's attention
    # the smallest decoder input: eos alone
    assert voice.text_to_mel.infer([voice.processor.eos_id], max_steps=1).lengths.tolist() == [r]


@pytest.mark.parametrize("name, text, hop", VOICES)
def test_voice_speaks_one_character_in_one_step(voices, name, text, hop):
    voice = voices[name]
    r = voice.text_to_mel.config.reduction_factor
    speech = voice.speak(text, SpeechOptions(max_steps=1, seed=0))
    assert voice.vocoder.hop_size == hop
    assert speech.mel.shape == (r, 80) and speech.audio.shape == (r * hop,)
    assert speech.audio.dtype == np.float32 and np.isfinite(speech.audio).all() and np.abs(speech.audio).max() <= 1
    assert speech.sentences == [text] and [w.text for w in speech.words] == [text]
    assert speech.words[0].start == 0 and speech.words[0].end == pytest.approx(r * hop / voice.sample_rate)
    chunks = list(voice.stream(text, SpeechOptions(max_steps=1, seed=0)))
    assert [c.audio.shape for c in chunks] == [(r * hop,)] and chunks[0].pause == 0
    # speed 4 on r frames: never fewer than one frame
    fast = voice.speak(text, SpeechOptions(max_steps=1, seed=0, speed=4.0))
    assert fast.mel.shape == (max(1, round(r / 4)), 80) and fast.audio.shape == (len(fast.mel) * hop,)


def test_stop_token_firing_at_once_gives_reduction_factor_frames(fixtures):
    """No step cap: a stop token that fires on the first step ends the mel there."""
    for name, _, hop in VOICES:
        taco = Tacotron2.from_pretrained(str(fixtures / name / "tacotron2"))
        r = taco.config.reduction_factor
        taco._w["decoder_cell/stop_projection/bias"].assign(np.full(r, 100.0, np.float32))
        out = taco.infer([5, 6, 7])
        assert out.lengths.tolist() == [r] and out.mel.shape == (1, r, 80)
        vocoder = MultiBandMelGAN.from_pretrained(str(fixtures / name / "mb_melgan"))
        audio = vocoder.infer(out.mel)
        assert audio.shape == (1, r * hop) and np.isfinite(audio).all()


def test_below_the_minimum_is_a_typed_error(voices):
    voice = voices["tts_tiny"]
    with pytest.raises(OptionError, match="max_steps 0 is out of range: choose 1 or more"):
        SpeechOptions(max_steps=0)
    with pytest.raises(OptionError, match="max_steps 0 is out of range: choose 1 or more"):
        voice.text_to_mel.infer([38, 148], max_steps=0)
    with pytest.raises(TextError, match=r"nothing in '\?' can be said by this voice \(language 'en'\): "
                                        "it knows none of its letters"):
        voice.speak("?")
    with pytest.raises(TextError, match="the text is empty: type something to speak"):
        voice.speak(" ")
    with pytest.raises(TextError, match="ids must be a non-empty"):
        voice.text_to_mel.infer([])


# -- FastSpeech2 --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fastspeech2():
    from conftest import FIXTURES

    return FastSpeech2.from_pretrained(str(FIXTURES / "fastspeech2_tiny" / "fastspeech2"))


def test_fastspeech2_one_symbol(fastspeech2):
    for ids in ([38], [38, 148]):
        out = fastspeech2.infer(ids, dropout=False)
        assert out.durations.shape == (1, len(ids)) and out.durations.min() >= 0
        n = int(out.durations.sum())
        assert n >= 1 and out.lengths.tolist() == [n] and out.mel.shape == (1, n, 80)
        assert np.isfinite(out.mel).all()


def test_fastspeech2_durations_rounding_to_zero_still_give_a_frame(fastspeech2, fixtures):
    """Each symbol's duration rounds to 0: the longest gets the one frame (the reference
    would give an empty mel), in a batch too."""
    out = fastspeech2.infer([[38], [38, 39, 148]], speed_ratio=1e-3, dropout=False)
    assert out.lengths.tolist() == [1, 1] and out.mel.shape == (2, 1, 80)
    assert out.durations.sum(axis=1).tolist() == [1, 1] and out.durations[0].tolist() == [1, 0, 0]
    # The same with options a person can choose: a model whose durations all round to zero.
    silent = FastSpeech2.from_pretrained(str(fixtures / "fastspeech2_tiny" / "fastspeech2"))
    silent._w["duration_predictor/dense/bias"].assign(np.full(1, -50.0, np.float32))
    mels = silent.to_mel([[38, 148]], SpeechOptions(speed=4.0, seed=0))
    assert mels.lengths == [1] and mels.durations[0].sum() == 1 and np.isfinite(mels.mels[0]).all()


def test_fastspeech2_speed_4_on_one_symbol(fastspeech2):
    normal = fastspeech2.infer([38, 148], dropout=False)
    fast = fastspeech2.to_mel([[38, 148]], SpeechOptions(speed=4.0, seed=0))
    n, frames = int(normal.durations.sum()), fast.lengths[0]
    assert 1 <= frames and abs(frames - n / 4) <= 2 * (0.5 + 0.5 / 4)  # each of 2 symbols rounds once
    assert fast.mels[0].shape == (frames, 80) and np.isfinite(fast.mels[0]).all()


def test_fastspeech2_voice_speaks_one_character_fast():
    voice = Voice.from_pretrained("ljspeech-en-fastspeech2")
    speech = voice.speak("a", SpeechOptions(speed=4.0, seed=0))
    assert len(speech.mel) >= 1 and speech.audio.shape == (len(speech.mel) * voice.vocoder.hop_size,)
    assert np.isfinite(speech.audio).all() and [w.text for w in speech.words] == ["a"]


# -- Multi-band MelGAN --------------------------------------------------------------------

@pytest.mark.parametrize("name", ["tts_tiny", "tts_tiny_r2"])
def test_vocoder_one_to_three_frames(fixtures, name):
    vocoder = MultiBandMelGAN.from_pretrained(str(fixtures / name / "mb_melgan"))
    mel = np.load(fixtures / name / "expected.npz")["mel"][0]  # 60 frames the reference made
    hop, shortest = vocoder.hop_size, vocoder.min_frames
    assert shortest == 4  # conv_in's reflection pad of 3 needs 4 frames; the stacks need fewer
    with pytest.raises(tf.errors.InvalidArgumentError, match="paddings must be less than the dimension size"):
        vocoder._generate(tf.constant(mel[None, :shortest - 1]))  # what the graph alone does
    for frames in (1, 2, 3):
        audio = vocoder.infer(mel[:frames])
        assert audio.shape == (1, frames * hop) and audio.dtype == np.float32
        assert np.isfinite(audio).all() and np.abs(audio).max() > 1e-3
        # what it means: the last frame held up to min_frames, the audio cut back
        held = np.pad(mel[:frames], [(0, shortest - frames), (0, 0)], mode="edge")
        np.testing.assert_array_equal(audio, vocoder.infer(held)[:, :frames * hop])
    # A fair comparison with a longer mel: one frame against that frame held for 64 frames
    # (what Voice.vocode sends). The mel is constant either way, so conv_in's output is the
    # same constant at every frame; after it, these vocoders reach about 1.4 (tts_tiny) and
    # 2.3 (tts_tiny_r2) frames ahead, short of the right edge 4 frames away, so the first
    # frame's audio is the same up to float rounding (0 here). Two or three different
    # frames reach the right edge within conv_in's 3 frames, where a held mel and a
    # reflected one differ: no fair comparison, so only the shape and values are checked.
    one = vocoder.infer(mel[:1])
    along = vocoder.infer(np.repeat(mel[:1], 64, axis=0))[:, :hop]
    np.testing.assert_allclose(one, along, rtol=0, atol=1e-5)


@pytest.mark.parametrize("scales, shortest, refusal", [
    ((8, 4, 2), 4, "3, 3 not less than 3"),     # conv_in's pad binds (LJSpeech, KSS, ...)
    ((5, 5, 3), 6, "27, 27 not less than 25"),  # the stacks' widest pad at 5 × 5 samples
    ((3, 5, 5), 10, "27, 27 not less than 27"),  # Baker: 3 × 9 samples
])
def test_vocoder_with_four_stacks_takes_one_frame(scales, shortest, refusal):
    """tensorflow-tts' own configs have 4 stacks (dilation 27): Baker's 3·5·5 needs 10 frames
    (27 < 3 × 10) before its first stage's widest pad fits; holding the last frame only up to
    conv_in's 4 was not enough. Random weights, narrow layers: only the shapes matter."""
    vocoder = MultiBandMelGAN(build(MultiBandMelGANConfig, dict(filters=16, upsample_scales=list(scales), stacks=4,
                                                                is_weight_norm=False), "test"))
    rng = np.random.default_rng(0)
    vocoder.set_weights({name: rng.normal(0, 0.05, shape).astype(np.float32)
                         for _, group in vocoder.weight_layout() for name, shape in group})
    assert vocoder.min_frames == shortest
    with pytest.raises(tf.errors.InvalidArgumentError, match="paddings must be less than the dimension size: "
                                                           + refusal):
        vocoder._generate(tf.zeros([1, shortest - 1, 80]))  # the graph alone, one frame short
    mel = rng.normal(0, 1, (shortest + 2, 80)).astype(np.float32)
    for frames in (1, 2, 3, shortest - 1):
        audio = vocoder.infer(mel[:frames])
        assert audio.shape == (1, frames * vocoder.hop_size) and np.isfinite(audio).all()
    for frames in (shortest, shortest + 2):  # from min_frames on, the engine's graph's own output, bit for bit
        np.testing.assert_array_equal(vocoder.infer(mel[:frames]), vocoder._run(mel[None, :frames])[0])


def test_vocoder_below_one_frame(fixtures):
    vocoder = MultiBandMelGAN.from_pretrained(str(fixtures / "tts_tiny" / "mb_melgan"))
    with pytest.raises(ValueError, match=r"frames >= 1, got \(1, 0, 80\)"):
        vocoder.infer(np.zeros((0, 80), np.float32))
    assert vocoder.infer(np.zeros((0, 5, 80), np.float32)).shape == (0, 5 * 256)  # no items, no audio


# -- images -------------------------------------------------------------------------------

SIZES = [(1, 1), (1, 2), (2, 1), (3, 3), (4, 4)]  # (height, width)


@pytest.fixture(scope="module", params=["cyclegan_keras_tiny/savedmodel", "unet_tutorial_tiny/savedmodel"])
def generator(request):
    from conftest import FIXTURES

    return Generator.from_pretrained(str(FIXTURES / request.param))


def _photo(height, width):
    return np.random.default_rng(height * 10 + width).integers(0, 256, (height, width, 3), np.uint8)


@pytest.mark.parametrize("height, width", SIZES)
def test_generator_infers_tiny_images(generator, height, width):
    """The graph needs sides of at least min_side (ResNet 8: the 3-pixel reflection, two
    stride-2 convs, then 1-pixel reflections; U-Net 256): smaller ones are reflect-padded up
    to it (a 1-pixel side: that pixel repeated) and the output cropped back to the input's size."""
    x = _photo(height, width)[None].astype(np.float32) / 127.5 - 1.0
    y = generator.infer(x)
    assert y.shape == (1, height, width, 3) and np.isfinite(y).all() and np.abs(y).max() <= 1.0
    side = generator.padded_side(1)
    assert side == generator.min_side == {"resnet": 8, "unet": 256}[generator.architecture]
    by_hand = np.pad(x, [(0, 0), (0, side - height), (0, side - width), (0, 0)], mode="reflect")
    np.testing.assert_array_equal(y, generator.infer(by_hand)[:, :height, :width])
    if (height, width) == (1, 1):  # one pixel is a plain square of its colour
        np.testing.assert_array_equal(y, generator.infer(np.broadcast_to(x, (1, side, side, 3)))[:, :1, :1])


@pytest.mark.parametrize("height, width", SIZES)
def test_styler_keeps_a_tiny_photo_size(generator, height, width):
    photo = _photo(height, width)
    styler = Styler(generator)
    out = styler.stylize(Image.fromarray(photo))
    assert out.mode == "RGB" and out.size == (width, height)
    expected = from_model_output(generator.infer(to_model_input(photo, styler.step)[None])[0], height, width)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(expected))
    if (height, width) == (1, 1):  # the same as an 8×8 square of that colour, there
        square = Styler(generator).stylize(Image.new("RGB", (8, 8), tuple(int(v) for v in photo[0, 0])))
        np.testing.assert_array_equal(np.asarray(out), np.asarray(square)[:1, :1])


def test_empty_images_are_refused_with_the_minimum(generator):
    styler = Styler(generator)
    for image in (Image.new("RGB", (0, 0)), Image.new("RGB", (5, 0)), np.zeros((0, 5, 3), np.uint8)):
        with pytest.raises(ImageError, match=r"the image is \d×\d pixels: it needs at least 1×1") as error:
            styler.stylize(image)
        assert error.value.reason == "too_small"
    with pytest.raises(ImageError, match="images must be at least 1×1 pixels, got 0×5"):
        generator.infer(np.zeros((1, 0, 5, 3), np.float32))
    assert generator.infer(np.zeros((0, 4, 5, 3), np.float32)).shape == (0, 4, 5, 3)  # no images, no run


def _png(image):
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def test_one_pixel_uploads_load():
    assert load_image(_png(Image.new("RGB", (1, 1), (10, 20, 30)))).tolist() == [[[10, 20, 30]]]
    assert load_image(_png(Image.new("RGBA", (1, 1), (10, 20, 30, 0)))).tolist() == [[[255, 255, 255]]]
    assert load_image(_png(Image.new("L", (1, 1), 7))).tolist() == [[[7, 7, 7]]]
    assert load_image(np.full((1, 1, 1), 9, np.uint8)).tolist() == [[[9, 9, 9]]]  # one channel: grey
    assert load_image(_png(Image.new("RGB", (300, 200))), max_side=1).shape == (1, 1, 3)
    x = to_model_input(load_image(_png(Image.new("RGB", (1, 1), (10, 20, 30)))))
    assert x.shape == (8, 8, 3) and (x == x[0, 0]).all()  # the pixel repeated up to the ResNet's 8
    assert np.asarray(from_model_output(x, 1, 1)).tolist() == [[[10, 20, 30]]]


def test_unusable_image_arguments_are_typed_errors():
    with pytest.raises(OptionError, match="max_side must be 1 or more, got 0"):
        load_image(_png(Image.new("RGB", (3, 2))), max_side=0)
    with pytest.raises(ImageError, match=r"with 1 to 4 channels, got uint8 \(1, 1, 5\)"):
        load_image(np.zeros((1, 1, 5), np.uint8))
