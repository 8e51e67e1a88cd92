"""Pronunciations a person can fix: whole words, any case, from the built-in list, a file and
a caller; bad files and entries named with what is wrong, good entries kept."""
import json
import logging

import pytest

from conftest import FIXTURES
from synth.errors import LexiconError
from synth.speech import SpeechOptions, Voice
from synth.speech.text import lexicon
from synth.speech.text.lexicon import Lexicon


@pytest.fixture
def english(processors):
    return processors["en"]


@pytest.fixture
def mandarin(processors):
    return processors["zh"]


@pytest.fixture
def korean(processors):
    return processors["ko"]


def test_an_arpabet_entry_gives_the_ids_of_typing_the_braces(english):
    words = Lexicon("en", {"tomato": "{T AH0 M EY1 T OW2}"})
    encoded = english.encode("I like Tomato soup.", words)
    assert encoded.ids == english.text_to_ids("I like {T AH0 M EY1 T OW2} soup.")
    tomato = encoded.words[2]
    assert (tomato.text, english.symbols(encoded.ids)[tomato.first:tomato.last]) == (
        "Tomato", ["@T", "@AH0", "@M", "@EY1", "@T", "@OW2"])
    assert english.readable(english.symbols(encoded.ids)[tomato.first:tomato.last]) == "{T AH0 M EY1 T OW2}"


def test_matching_is_whole_word_and_case_insensitive(english):
    words = Lexicon("en", {"cat": "kat", "New York": "noo york"})
    said = english.encode("Cat, CAT and cats in new york.", words)
    assert said.ids == english.text_to_ids("kat, kat and cats in noo york.")
    assert [w.text for w in said.words] == ["Cat", "CAT", "and", "cats", "in", "new york"]


def test_a_mandarin_entry_is_pinyin_with_tone_numbers(mandarin):
    words = Lexicon("zh", {"行": "xing2"})
    encoded = mandarin.encode("银行", words)
    symbols = mandarin.symbols(encoded.ids)
    assert [(w.text, mandarin.readable(symbols[w.first:w.last])) for w in encoded.words] == [
        ("银", "yin2"), ("行", "xing2")]
    assert mandarin.unknown_symbols("{xx9}") == ["xx9"]


def test_a_korean_respelling(korean):
    words = Lexicon("ko", {"GPU": "지피유"})
    assert korean.encode("GPU 좋다", words).ids == korean.text_to_ids("지피유 좋다")
    assert korean.unknown_symbols("gpu") == ["g", "p", "u"]


def test_unknown_symbols_are_named(english):
    assert english.unknown_symbols("{T AH0 QQ}") == ["QQ"]
    assert english.unknown_symbols("tah★") == ["★"]
    assert english.unknown_symbols("{T AH0} mato") == []


def test_a_bad_file_is_named_and_its_good_entries_kept(tmp_path, monkeypatch, caplog, english):
    path = tmp_path / "lexicon.json"
    path.write_text(json.dumps({"en": {"tomato": "{T AH0 M EY1 T OW2}", "bad": "{T QQ1}", "empty": ""},
                                "xx": {"a": "b"}, "ko": ["not", "a", "mapping"]}), encoding="utf-8")
    monkeypatch.setenv("SYNTH_LEXICON", str(path))
    with caplog.at_level(logging.WARNING, logger="synth.speech.text.lexicon"):
        words, dropped = lexicon.configured("en", english.unknown_symbols)
    assert words.entries["tomato"] == "{T AH0 M EY1 T OW2}" and "bad" not in words.entries
    assert "Tacotron" in words.entries  # the built-in entries stay
    assert len(dropped) == 4 and all(str(path) in message for message in dropped)
    assert [message.split(": ", 1)[1] for message in dropped] == [
        "the entry 'empty' -> '' is not a word and a reading",
        "unknown language 'xx'; expected one of en, ko, de, fr, zh",
        "'ko' must map words to readings, not list",
        "symbols the en voice does not have: 'bad' -> '{T QQ1}' (QQ1)"]
    assert len(caplog.records) == 4


@pytest.mark.parametrize("content, message", [
    ("{not json", "not a readable JSON lexicon"),
    ("[1, 2]", "a lexicon is a JSON object of languages"),
])
def test_a_file_that_is_not_a_lexicon_is_refused_whole(tmp_path, monkeypatch, content, message, english):
    path = tmp_path / "lexicon.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(LexiconError, match=message):
        lexicon.read_file(path)
    monkeypatch.setenv("SYNTH_LEXICON", str(path))
    words, dropped = lexicon.configured("en", english.unknown_symbols)
    assert words.entries == lexicon.BUILT_IN["en"] and len(dropped) == 1 and str(path) in dropped[0]


def test_a_voice_takes_a_callers_entries_and_refuses_bad_ones(monkeypatch):
    monkeypatch.delenv("SYNTH_LEXICON", raising=False)
    voice = Voice.from_pretrained(str(FIXTURES / "fastspeech2_tiny" / "fastspeech2"),
                                  vocoder=str(FIXTURES / "tts_tiny" / "mb_melgan"))
    assert voice.lexicon_problems == []
    speech = voice.speak("I like tomato.", SpeechOptions(seed=0, pronunciations={"TOMATO": "{T AH0 M AA1 T OW2}"}))
    assert speech.words[2].symbols == ("@T", "@AH0", "@M", "@AA1", "@T", "@OW2")
    assert voice.readings(speech.words)[2] == "{T AH0 M AA1 T OW2}"
    with pytest.raises(LexiconError, match=r"'tomato' -> '\{T ZZ9\}' \(ZZ9\)") as refused:
        voice.speak("I like tomato.", SpeechOptions(pronunciations={"tomato": "{T ZZ9}"}))
    assert refused.value.reason == "unknown_symbols"


def test_a_mandarin_entry_stays_one_utterance(mandarin):
    """The pinyin reading joins the syllables around it with #0, as any syllable does: no
    silence is added where the entry stands."""
    plain = mandarin.symbols(mandarin.encode("我爱北京天安门").ids)
    fixed = mandarin.symbols(mandarin.encode("我爱北京天安门", Lexicon("zh", {"北京": "bei3 jing1"})).ids)
    assert fixed == plain and fixed.count("sil") == 2
    encoded = mandarin.encode("我用AI。", Lexicon("zh", {"AI": "ai4 ai4"}))  # a Latin word between Han
    assert [w.text for w in encoded.words] == ["我", "用", "AI"]
    assert mandarin.readable(mandarin.symbols(encoded.ids)[encoded.words[2].first:encoded.words[2].last]) == "ai4 ai4"


def test_a_korean_entry_takes_its_particle(korean):
    assert korean.text_to_ids("사과를 먹다", Lexicon("ko", {"사과": "사가"})) == korean.text_to_ids("사가를 먹다")
    assert korean.text_to_ids("배사과", Lexicon("ko", {"사과": "사가"})) == korean.text_to_ids("배사과")


def test_text_in_braces_is_left_alone(english):
    words = Lexicon("en", {"hh": "{K AE1 T}"})
    assert english.text_to_ids("Say {HH AH0} hh", words) == english.text_to_ids("Say {HH AH0} {K AE1 T}")


def test_the_lexicon_makes_a_word_speakable(korean):
    """Latin letters mean nothing to the Korean voice; an entry that respells them does."""
    words = Lexicon("ko", {"hello": "헬로"})
    assert not korean.is_speakable("hello.") and korean.is_speakable("hello.", words)
    assert korean.unspeakable("hello 친구") == ["e", "h", "l", "o"] and korean.unspeakable("hello 친구", words) == []
