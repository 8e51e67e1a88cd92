"""Word timings from the models themselves: FastSpeech2 durations (exact), Tacotron2 attention."""
import numpy as np
import pytest

from conftest import FIXTURES
from synth.speech import SpeechOptions, TextProcessor, Voice
from synth.speech.timing import frames_from_alignment, frames_from_durations, timed_words

PARAGRAPH = "On 3 May 1995, Dr. Smith paid $5. Hello there, friend! The third one is short. And the fourth."


@pytest.fixture(scope="module")
def fastspeech2():
    return Voice.from_pretrained(str(FIXTURES / "fastspeech2_tiny" / "fastspeech2"),
                                 vocoder=str(FIXTURES / "tts_tiny" / "mb_melgan"))


@pytest.fixture(scope="module")
def tacotron2():
    return Voice.from_pretrained(str(FIXTURES / "tts_tiny" / "tacotron2"),
                                 vocoder=str(FIXTURES / "tts_tiny" / "mb_melgan"))


@pytest.fixture(scope="module")
def english():
    return TextProcessor.from_file(FIXTURES / "processors" / "ljspeech.json")


@pytest.mark.parametrize("speed", [1.0, 0.8])
def test_fastspeech2_word_boundaries_are_the_cumulative_durations(fastspeech2, speed):
    text = "On 3 May 1995, Dr. Smith paid $5."
    speech = fastspeech2.speak(text, SpeechOptions(seed=0, speed=speed))
    encoded = fastspeech2.processor.encode(text)
    [durations] = speech.durations
    ends = np.cumsum(durations)
    hop, rate = fastspeech2.vocoder.hop_size, fastspeech2.sample_rate
    assert [w.text for w in speech.words] == ["On", "3", "May", "1995", "Dr.", "Smith", "paid", "$5"]
    for timed, word in zip(speech.words, encoded.words):
        # float64 frames x hop / rate is the arithmetic itself; only the last bit may differ
        assert timed.start == pytest.approx((ends[word.first - 1] if word.first else 0) * hop / rate, abs=1e-12)
        assert timed.end == pytest.approx(ends[word.last - 1] * hop / rate, abs=1e-12)
    assert len(speech.audio) == ends[-1] * hop  # the mel is exactly the durations long
    if speed == 0.8:  # slower: every boundary later than at speed 1.0, by ~1/0.8
        normal = fastspeech2.speak(text, SpeechOptions(seed=0))
        assert normal.words[-1].end * 1.2 < speech.words[-1].end < normal.words[-1].end * 1.3


def test_alignment_gives_the_arithmetic_spans_and_keeps_a_skipped_word(english):
    # "ab cd ef" -> a b ' ' c d ' ' e f eos: 9 symbols. 10 steps read symbols
    # 0 0 1 2 2 6 6 7 8 8: "cd" (3, 4) is never read, and a step back (to 1) is held at 2.
    encoded = english.encode("ab cd ef")
    assert [(w.text, w.first, w.last) for w in encoded.words] == [("ab", 0, 2), ("cd", 3, 5), ("ef", 6, 8)]
    reads = [0, 0, 1, 2, 2, 6, 1, 7, 8, 8]
    alignment = np.zeros((9, 10), np.float32)
    alignment[reads, np.arange(10)] = 1.0
    starts = frames_from_alignment(alignment, frames=20)  # reduction factor 2: 2 frames a step
    assert starts.tolist() == [0, 4, 6, 10, 10, 10, 10, 14, 16, 20]
    words = timed_words(encoded.words, english.symbols(encoded.ids), starts, seconds_per_frame=0.01)
    assert [(w.text, w.start, w.end) for w in words] == [("ab", 0.0, 0.06), ("cd", 0.1, 0.1), ("ef", 0.1, 0.16)]
    assert words[1].symbols == ("c", "d")


def test_durations_give_frames_where_each_symbol_starts():
    assert frames_from_durations(np.array([3, 0, 2])).tolist() == [0, 3, 3, 5]


def test_tacotron2_timings_are_monotonic_and_end_with_the_audio(tacotron2):
    speech = tacotron2.speak("Hello there, my friend. It is a fine day.", SpeechOptions(seed=3))
    assert [w.text for w in speech.words] == ["Hello", "there", "my", "friend", "It", "is", "a", "fine", "day"]
    times = [t for w in speech.words for t in (w.start, w.end)]
    assert times == sorted(times)
    frame = tacotron2.frame_ms / 1000
    assert abs(speech.words[-1].end - speech.duration) <= frame


@pytest.mark.parametrize("model", ["fastspeech2", "tacotron2"])
def test_streamed_paragraph_keeps_its_timings(request, model):
    voice = request.getfixturevalue(model)
    options = SpeechOptions(seed=5)
    chunks = list(voice.stream(PARAGRAPH, options))
    assert len(chunks) == 4
    streamed = [w for c in chunks for w in c.words]
    assert [w.text for w in streamed][-3:] == ["And", "the", "fourth"]
    assert all(PARAGRAPH[w.char_start:w.char_end] == w.text for w in streamed)
    audio = np.concatenate([c.samples() for c in chunks])
    frame = voice.frame_ms / 1000
    last, last_chunk = streamed[-1], chunks[-1]
    offset = (len(audio) - len(last_chunk.audio)) / voice.sample_rate  # where the last sentence starts
    if model == "fastspeech2":  # the last word ends where the durations of its symbols end
        encoded = voice.processor.encode(last_chunk.text)
        frames = np.cumsum(last_chunk.durations)[encoded.words[-1].last - 1]
        assert abs(last.end - (offset + frames * voice.vocoder.hop_size / voice.sample_rate)) <= frame
    else:  # the last word lasts until the stop, the end of the concatenated audio
        assert abs(last.end - len(audio) / voice.sample_rate) <= frame
    spoken = voice.speak(PARAGRAPH, options)  # the whole text at once gives the same times
    assert [(w.text, w.char_start) for w in spoken.words] == [(w.text, w.char_start) for w in streamed]
    assert np.allclose([w.start for w in spoken.words], [w.start for w in streamed], atol=frame)


def test_words_keep_their_place_in_text_with_extra_whitespace(fastspeech2):
    text = "  First   line here.\n\nSecond\tline,  there. "
    speech = fastspeech2.speak(text, SpeechOptions(seed=1))
    assert [(w.text, text[w.char_start:w.char_end]) for w in speech.words] == [
        (t, t) for t in ["First", "line", "here", "Second", "line", "there"]]
