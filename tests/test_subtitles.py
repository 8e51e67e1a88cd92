"""Subtitle cues from hand-made word timings, and the WebVTT / SRT files made of them."""
import html
import io
import re

import pytest
import srt
import webvtt

from synth.errors import OptionError
from synth.speech.subtitles import FORMATS, MAX_LINE_CHARS, MAX_LINES, Cue, cues, to_srt, to_vtt, write
from synth.speech.timing import TimedWord

WORD = r"[^\W_]+(?:['.$][^\W_]+)*"  # Latin words; each CJK character is a word with r"[^\W_]"


def timed(text, times=None, step=0.3, pause=0.05, pattern=WORD):
    """The words of `text`, spoken at `times` ((start, end) each) or one every step + pause seconds."""
    found = list(re.finditer(pattern, text))
    times = times or [(k * (step + pause), k * (step + pause) + step) for k in range(len(found))]
    assert len(times) == len(found)
    return [TimedWord(m.group(), start, end, m.start(), m.end()) for m, (start, end) in zip(found, times)]


def check_layout(made, duration):
    """Every cue is at most two lines of at most 42 characters, in order, inside [0, duration]."""
    previous_end = 0.0
    for cue in made:
        assert 1 <= len(cue.lines) <= MAX_LINES
        assert all(line and len(line) <= MAX_LINE_CHARS for line in cue.lines), cue
        assert previous_end <= cue.start <= cue.end <= duration
        previous_end = cue.end


def stamp(value):
    """Seconds of a "HH:MM:SS.mmm" or "HH:MM:SS,mmm" timestamp."""
    hours, minutes, seconds = value.replace(",", ".").split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def read_vtt(content):
    reader = getattr(webvtt, "from_buffer", None) or webvtt.read_buffer
    return list(reader(io.StringIO(content)))


def test_two_sentences_are_two_cues_split_at_the_period():
    text = "Hello there. How are you?"
    words = timed(text, [(0.0, 0.4), (0.45, 0.9), (1.2, 1.4), (1.4, 1.6), (1.6, 2.0)])
    assert cues(words, text, 2.5) == [Cue(0.0, 0.9, ("Hello there.",)), Cue(1.2, 2.0, ("How are you?",))]


def test_no_words_no_cues():
    assert cues([], "", 1.0) == []
    assert to_vtt([]).startswith("WEBVTT")
    assert to_srt([]) == ""


def test_punctuation_around_words_is_kept():
    text = '  "Hello," she said — softly. (Quietly.)\n'
    made = cues(timed(text), text, 10.0)
    assert [cue.lines for cue in made] == [('"Hello," she said — softly.',), ("(Quietly.)",)]


def test_a_long_paragraph_keeps_to_two_lines_of_42_and_loses_no_word():
    text = ("The old lighthouse keeper climbed the winding stairs every evening, carrying a lantern and "
            "a flask of tea, although the lamp had been electric for decades. He liked the quiet of the "
            "gallery; from there he could watch the fishing boats come home, count the gulls, and listen "
            "to the sea breaking on the rocks below the cliffs of the northern bay")
    words = timed(text)
    assert 55 <= len(words) <= 70
    duration = words[-1].end + 0.5
    made = cues(words, text, duration)
    check_layout(made, duration)
    assert len(made) >= 5
    assert " ".join(" ".join(cue.lines) for cue in made) == " ".join(text.split())
    assert made[0].start == words[0].start and made[-1].end == words[-1].end
    sentence_end = next(k for k, cue in enumerate(made) if cue.lines[-1].endswith("decades."))
    assert made[sentence_end + 1].lines[0].startswith("He liked")


def test_two_lines_are_balanced():
    text = "one two three four five six seven eight nine ten eleven twelve"
    made = cues(timed(text, step=0.1, pause=0.0), text, 2.0)
    assert made == [Cue(0.0, 1.2, ("one two three four five six seven", "eight nine ten eleven twelve"))]


def test_the_cue_ends_at_a_comma_once_half_full():
    text = ("After the long and tiring journey across the mountains, the travellers finally "
            "reached the quiet village by the sea.")
    made = cues(timed(text, step=0.1, pause=0.0), text, 5.0)
    assert [cue.lines for cue in made] == [
        ("After the long and tiring", "journey across the mountains,"),
        ("the travellers finally reached", "the quiet village by the sea."),
    ]


def test_a_comma_early_in_the_cue_is_passed_over():
    text = ("Yes, the travellers finally reached the quiet village by the sea after a very "
            "long and tiring journey across the mountains.")
    made = cues(timed(text, step=0.1, pause=0.0), text, 5.0)
    assert made[0].lines[0].startswith("Yes, the travellers")
    assert len(" ".join(made[0].lines)) > MAX_LINE_CHARS


def test_a_pause_over_a_second_ends_the_cue():
    text = "one two three four"
    long_pause = timed(text, [(0.0, 0.3), (0.3, 0.6), (1.61, 1.9), (1.9, 2.2)])
    assert cues(long_pause, text, 3.0) == [Cue(0.0, 0.6, ("one two",)), Cue(1.61, 2.2, ("three four",))]
    one_second = timed(text, [(0.0, 0.3), (0.3, 0.6), (1.6, 1.9), (1.9, 2.2)])
    assert cues(one_second, text, 3.0) == [Cue(0.0, 2.2, ("one two three four",))]


def test_a_cue_lasts_at_most_seven_seconds():
    text = "slowly spoken words one at a time with no hurry at all today"
    words = timed(text, step=0.9, pause=0.1)
    made = cues(words, text, 20.0)
    check_layout(made, 20.0)
    assert len(made) == 2
    assert all(cue.end - cue.start <= 7.0 for cue in made)
    assert made[0] == Cue(0.0, 6.9, ("slowly spoken words one at a time",))


def test_a_word_longer_than_a_line_gets_a_line_of_its_own():
    long_word = "Pneumonoultramicroscopicsilicovolcanoconiosis" + "x" * 5
    assert len(long_word) == 50
    text = f"See {long_word} now please."
    made = cues(timed(text), text, 5.0)
    assert [cue.lines for cue in made] == [("See", long_word), ("now please.",)]
    assert cues(timed(long_word), long_word, 1.0) == [Cue(0.0, 0.3, (long_word,))]


def test_skipped_words_get_a_tenth_of_a_second_within_their_neighbours():
    text = "Hello. Um. World."
    spaced = timed(text, [(0.0, 0.5), (0.5, 0.5), (1.2, 1.8)])
    assert cues(spaced, text, 2.0) == [Cue(0.0, 0.5, ("Hello.",)), Cue(0.5, 0.6, ("Um.",)),
                                       Cue(1.2, 1.8, ("World.",))]
    crowded = timed(text, [(0.0, 0.5), (0.5, 0.5), (0.55, 1.0)])
    assert [(cue.start, cue.end) for cue in cues(crowded, text, 2.0)] == [(0.0, 0.5), (0.5, 0.55), (0.55, 1.0)]
    at_the_end = timed("Hello. Um.", [(0.0, 0.5), (0.5, 0.5)])
    assert cues(at_the_end, "Hello. Um.", 0.54)[-1] == Cue(0.5, 0.54, ("Um.",))


def test_a_skipped_word_inside_a_cue_changes_nothing():
    text = "one two three"
    words = timed(text, [(0.0, 0.3), (0.3, 0.3), (0.3, 0.7)])
    assert cues(words, text, 1.0) == [Cue(0.0, 0.7, ("one two three",))]


def test_chinese_single_character_words_are_split_at_sentences_and_wrapped_between_words():
    text = "今天天气很好。我们去公园散步吧，好不好？"
    made = cues(timed(text, pattern=r"[^\W_]", step=0.2, pause=0.0), text, 5.0)
    assert [cue.lines for cue in made] == [("今天天气很好。",), ("我们去公园散步吧，好不好？",)]
    assert made[0].start == 0.0 and made[1].start == pytest.approx(1.2)

    text = "字幕测试中文" * 17  # 102 characters, no spaces, no punctuation
    words = timed(text, pattern=r"[^\W_]", step=0.05, pause=0.0)
    made = cues(words, text, 6.0)
    check_layout(made, 6.0)
    assert "".join("".join(cue.lines) for cue in made) == text
    assert [[len(line) for line in cue.lines] for cue in made] == [[42, 42], [18]]


def test_chinese_opening_quote_goes_with_the_next_word():
    text = "他说：“你好。”"
    made = cues(timed(text, pattern=r"[^\W_]", step=0.2, pause=0.0), text, 2.0)
    assert [cue.lines for cue in made] == [("他说：“你好。”",)]
    paused = timed(text, [(0.0, 0.2), (0.2, 0.4), (1.5, 1.7), (1.7, 1.9)], pattern=r"[^\W_]")
    assert [cue.lines for cue in cues(paused, text, 2.0)] == [("他说：",), ("“你好。”",)]


def long_story():
    text = ("It was late. The rain had stopped, & the streets were empty <mostly>. A cat crossed the road, "
            "looked at the moon, and disappeared behind the bakery where the bread was still warm.")
    words = timed(text)
    return words, text, words[-1].end + 0.25


def test_vtt_reads_back_the_same_cues():
    made = cues(*long_story())
    content = to_vtt(made)
    assert content.startswith("WEBVTT\n")
    assert "stopped, &amp; the" in content and "&lt;mostly&gt;" in content
    read = read_vtt(content)
    assert len(read) == len(made) >= 3
    for caption, cue in zip(read, made):
        assert (stamp(caption.start), stamp(caption.end)) == pytest.approx((cue.start, cue.end), abs=1e-9)
        assert html.unescape(caption.raw_text) == "\n".join(cue.lines)


def test_srt_reads_back_the_same_cues():
    made = cues(*long_story())
    read = list(srt.parse(to_srt(made)))
    assert [sub.index for sub in read] == list(range(1, len(made) + 1))
    for sub, cue in zip(read, made):
        assert (sub.start.total_seconds(), sub.end.total_seconds()) == pytest.approx((cue.start, cue.end), abs=1e-9)
        assert sub.content == "\n".join(cue.lines)


def test_a_cue_left_no_time_joins_its_neighbour():
    """No cue of zero length (WebVTT forbids it): "Um." has no time of its own, so it joins
    the cue before it; where that one is full, the cue after it."""
    text = "Hello. Um. World."
    made = cues(timed(text, [(0.0, 0.5), (0.5, 0.5), (0.5, 1.0)]), text, 2.0)
    assert made == [Cue(0.0, 0.5, ("Hello. Um.",)), Cue(0.5, 1.0, ("World.",))]
    assert len(read_vtt(to_vtt(made))) == len(list(srt.parse(to_srt(made)))) == 2
    full = "x" * 40 + " " + "y" * 40 + "."
    text = f"{full} Um. World."
    made = cues(timed(text, [(0.0, 0.4), (0.4, 0.5), (0.5, 0.5), (0.5, 1.0)]), text, 2.0)
    assert made == [Cue(0.0, 0.5, ("x" * 40, "y" * 40 + ".")), Cue(0.5, 1.0, ("Um. World.",))]


@pytest.mark.parametrize("suffix", FORMATS)
def test_write_picks_the_format_from_the_extension(tmp_path, suffix):
    words, text, duration = long_story()
    path = tmp_path / f"story.{suffix.upper()}"
    write(path, words, text, duration)
    made = cues(words, text, duration)
    assert path.read_text(encoding="utf-8") == (to_vtt(made) if suffix == "vtt" else to_srt(made))


def test_write_webvtt_reads_back_from_a_file(tmp_path):
    words, text, duration = long_story()
    write(tmp_path / "story.vtt", words, text, duration)
    read = webvtt.read(str(tmp_path / "story.vtt"))
    assert [html.unescape(caption.raw_text) for caption in read] == [
        "\n".join(cue.lines) for cue in cues(words, text, duration)]


@pytest.mark.parametrize("name", ["story.txt", "story"])
def test_write_refuses_other_extensions(tmp_path, name):
    with pytest.raises(OptionError, match=r"\.vtt, \.srt") as raised:
        write(tmp_path / name, *long_story())
    assert raised.value.reason == "format"
    assert raised.value.details == {"value": name[5:], "choices": ["vtt", "srt"]}
    assert not (tmp_path / name).exists()
