"""The words of the original text, with the symbols that read each (`TextProcessor.encode`),
in all five languages: "1995", "$3.50" or "Dr." is one typed word, read by all the symbols
of its expansion; punctuation is no word unless it is read; a sign read with the number next
to it ("1 000 €", "50 %") makes one word with it."""
import json

import pytest

from conftest import FIXTURES, PROCESSORS
from synth.speech.text.korean import to_jamo
from synth.speech.text.mandarin import MandarinFrontEnd
from synth.speech.text.traced import Symbol, Traced


# (language, text, its words in order, what some of them read). The readings are the voice's
# symbols joined: characters as they are; phonemes (Mandarin, ARPAbet) with spaces. Korean
# readings are written as syllables and compared as jamo. A list of readings gives every word's.
CASES = [
    # English: the example of the issue.
    ("en", "On 3 May 1995, Dr. Smith paid $5.", ["On", "3", "May", "1995", "Dr.", "Smith", "paid", "$5"],
     {"$5": "five dollars", "1995": "nineteen ninety-five", "Dr.": "doctor", "3": "three", "Smith": "smith"}),
    ("en", "Say {HH AH0 L OW1} to me 😀 now!", ["Say", "{HH AH0 L OW1}", "to", "me", "😀", "now"],
     {"{HH AH0 L OW1}": "@HH @AH0 @L @OW1", "😀": "", "now": "now"}),
    ("en", "Mr. Jones owes £12 and $3.50, i.e. 2,000 cents.",
     ["Mr.", "Jones", "owes", "£12", "and", "$3.50", "i.e.", "2,000", "cents"],
     # unidecode makes "£" "PS" before numbers are read (as the voice was trained)
     {"Mr.": "mister", "£12": "pstwelve", "$3.50": "three dollars, fifty cents", "2,000": "two thousand"}),
    ("en", "The U.S. team won 21st place.", ["The", "U.S.", "team", "won", "21st", "place"],
     {"U.S.": "u.s.", "21st": "twenty-first"}),
    ("en", "It's 3.14 — café (really).", ["It's", "3.14", "café", "really"],
     {"It's": "it's", "3.14": "three point fourteen", "café": "cafe"}),
    ("en", "Mrs. Brown met Capt. Hook at 10 Downing St.",
     ["Mrs.", "Brown", "met", "Capt.", "Hook", "at", "10", "Downing", "St."],
     {"Mrs.": "misess", "Capt.": "captain", "10": "ten", "St.": "saint"}),
    ("en", "We sold 1,000,000 units in 2005!", ["We", "sold", "1,000,000", "units", "in", "2005"],
     {"1,000,000": "one million", "2005": "two thousand five"}),
    # "%" and "&" are not read by this voice (no symbol for them): no part of any word
    ("en", "Is it 100% true? Yes & no.", ["Is", "it", "100", "true", "Yes", "no"], {"100": "one hundred"}),

    # Korean: numbers with counters read with what they count, units, Latin capitals spelled.
    ("ko", "사과 3개를 샀어요.", ["사과", "3개를", "샀어요"], {"3개를": "세개를", "사과": "사과"}),
    ("ko", "GPU 가격이 50% 올랐다.", ["GPU", "가격이", "50%", "올랐다"], {"GPU": "지피유", "50%": "오십퍼센트"}),
    ("ko", "그는 \"가자. 빨리.\" 하고 말했다.", ["그는", "가자", "빨리", "하고", "말했다"],
     {"가자": "가자", "빨리": "빨리"}),
    ("ko", "2023년 5월 3일에 TV를 샀다.", ["2023년", "5월", "3일에", "TV를", "샀다"],
     {"2023년": "이천이십삼년", "5월": "오월", "3일에": "삼일에", "TV를": "티비를"}),
    ("ko", "키가 180cm이고 몸무게는 70kg이다.", ["키가", "180cm이고", "몸무게는", "70kg이다"],
     {"180cm이고": "백팔십센치미터이고", "70kg이다": "칠십킬로그람이다"}),
    ("ko", "1,000,000원이 있다!", ["1,000,000원이", "있다"], {"1,000,000원이": "백만원이"}),
    ("ko", "20살, 11명이 왔다.", ["20살", "11명이", "왔다"], {"20살": "스물살", "11명이": "열한명이"}),
    ("ko", "-3.25도의 날씨입니다.", ["-3.25도의", "날씨입니다"], {"-3.25도의": "마이너스 삼쩜 이오도의"}),
    # Hanja in brackets are dropped, as in training: words that say nothing (each Han
    # character is a word of its own, as in Chinese)
    ("ko", "한국(韓國)의 DNA 연구", ["한국", "韓", "國", "의", "DNA", "연구"],
     ["한국", "", "", "의", "디엔에이", "연구"]),

    # French: a number and its sign, even apart, are one word.
    ("fr", "Le 1er mai, j'ai payé 1 000 € !", ["Le", "1er", "mai", "j'ai", "payé", "1 000 €"],
     {"1er": "premier", "1 000 €": "mille euros", "j'ai": "j'ai", "payé": "payé"}),
    ("fr", "Ça coûte 3,50 € et 50 % de plus.", ["Ça", "coûte", "3,50 €", "et", "50 %", "de", "plus"],
     {"3,50 €": "trois euros cinquante", "50 %": "cinquante pour cent", "Ça": "ça"}),
    ("fr", "Rendez-vous à 10h30, M. Dupont.", ["Rendez-vous", "à", "10h30", "M", "Dupont"],
     {"10h30": "dix heures trente", "Rendez-vous": "rendez-vous", "M": "m"}),
    ("fr", "En 1998, la France a gagné.", ["En", "1998", "la", "France", "a", "gagné"],
     {"1998": "mille neuf cent quatre-vingt-dix-huit"}),
    ("fr", "J'ai 3 chats et 2 chiens.", ["J'ai", "3", "chats", "et", "2", "chiens"], {"3": "trois", "2": "deux"}),
    ("fr", "Le 21e siècle commence en 2001.", ["Le", "21e", "siècle", "commence", "en", "2001"],
     {"21e": "vingt et unième", "2001": "deux mille un"}),
    ("fr", "Appelez le 06 12 34 56 78 !", ["Appelez", "le", "06", "12", "34", "56", "78"],
     {"06": "zéro six", "78": "soixante-dix-huit"}),
    ("fr", "Il fait -5 degrés, soit 23 °F.", ["Il", "fait", "-5", "degrés", "soit", "23", "°F"],
     {"-5": "moins cinq", "23": "vingt-trois", "°F": "f"}),
    ("fr", "« Bonjour », dit-elle.", ["Bonjour", "dit-elle"], {"Bonjour": "bonjour"}),

    # Mandarin: each Han character is a word. A digit before a measure word ("3只") is a word of
    # its own reading 三: 三 replaces "3" alone, so no symbol reads across "3" and 只. A number
    # read as several characters ("2023", "¥3.5") is one word, "#0" pauses inside it included.
    ("zh", "我有3只猫。", ["我", "有", "3", "只", "猫"], ["^ uo3", "^ iou3", "s an1", "zh iii3", "m ao1"]),
    ("zh", "价格是¥3.5，很便宜！", ["价", "格", "是", "¥3.5", "很", "便", "宜"],
     {"¥3.5": "s an1 #0 d ian3 #0 ^ u3 #0 ^ van2", "便": "p ian2"}),
    ("zh", "2023年，你好。", ["2023", "年", "你", "好"], ["^ er4 #0 l ing2 #0 ^ er4 #0 s an1", "n ian2", "n i3", "h ao3"]),
    ("zh", "今天10:30开会。", ["今", "天", "10:30", "开", "会"],
     {"10:30": "sh iii2 #0 d ian3 #0 s an1 #0 sh iii2 #0 f en1", "会": "h uei4"}),
    ("zh", "他说：hello 你好。", ["他", "说", "hello", "你", "好"], ["t a1", "sh uo1", "", "n i3", "h ao3"]),
    ("zh", "第2个和2个", ["第", "2", "个", "和", "2", "个"], ["d i4", "^ er4", "g e4", "h e2", "l iang3", "g e4"]),
    ("zh", "增长了50%！", ["增", "长", "了", "50%"], {"50%": "b ai3 #0 f en1 #0 zh iii1 #0 ^ u3 #0 sh iii2"}),
    ("zh", "你好，世界。", ["你", "好", "世", "界"], ["n i3", "h ao3", "sh iii4", "j ie4"]),

    # German: the reader (german-transliterate) is a black box over the whole text; the words'
    # symbols are found by alignment (synth.speech.text.german.clean_german). The readings
    # below are those where the alignment is exact. The voice has no "ä ö ü ß": dropped.
    ("de", "Am 3. Mai 1995 kam Dr. Müller.", ["Am", "3.", "Mai", "1995", "kam", "Dr.", "Müller"],
     # "3." alone is "drei", "1995" alone "eintausend...": in the sentence, "dritten" and a year
     {"3.": "dritten", "Mai": "mai", "1995": "neunzehnhundertfnfundneunzig", "Dr.": "doktor", "Müller": "mller"}),
    ("de", "Das kostet 5 €.", ["Das", "kostet", "5", "€"], {"5": "fnf", "€": "euro"}),
    ("de", "Wir essen z. B. Äpfel, ca. 3 Stück.", ["Wir", "essen", "z", "B", "Äpfel", "ca.", "3", "Stück"],
     # "z. B." is not expanded with spaces: two letters, each read as it is
     {"z": "z", "B": "b", "Äpfel": "pfel", "ca.": "circa", "3": "drei"}),
    # "3,50 €" is read "drei euro fünfzig": the cents moved past the euro sign, so the amount is
    # one word; "%" is not in the voice's symbols, so "12%" says only "zwölf" and the word is "12"
    ("de", "Er hat 3,50 € und 12% Rabatt.", ["Er", "hat", "3,50 €", "und", "12", "Rabatt"],
     {"3,50 €": "drei euro fnfzig", "12": "zwlf"}),
    ("de", "Um 10:30 Uhr geht es los!", ["Um", "10:30", "Uhr", "geht", "es", "los"],
     {"10:30": "zehn stunden dreiig minuten", "Uhr": "uhr"}),
    ("de", "Der 1. FC Köln gewann.", ["Der", "1.", "FC", "Köln", "gewann"], {"1.": "erste", "FC": "f -- c"}),
    ("de", "Am 24.12.2023 war Weihnachten.", ["Am", "24.12.2023", "war", "Weihnachten"],
     {"24.12.2023": "vierundzwanzigsten dezember zweitausenddreiundzwanzig"}),
    # "€ 5" is read "fünf euro" (moved): one word
    ("de", "Ich zahle € 5 bar.", ["Ich", "zahle", "€ 5", "bar"], {"€ 5": "fnf euro"}),
    # Approximate: the reader swallows the sentence's full stop after "kg", so that full stop
    # is read with "kg" and stays in its word
    ("de", "Es waren 20 km/h, ca. 5 kg.", ["Es", "waren", "20", "km/h", "ca.", "5", "kg."],
     {"20": "zwanzig", "ca.": "circa", "5": "fnf", "kg.": "kilogramm"}),
    ("de", "Der Preis: 5 Euro; danach (morgens) Pause.", ["Der", "Preis", "5", "Euro", "danach", "(morgens)", "Pause"],
     # the reader says brackets: "(morgens)" is one word that reads them
     {"Preis": "preis", "5": "fnf", "(morgens)": "-- in klammern -- morgens --"}),
]


def _reading(processor, ids: list[int], language: str) -> str:
    symbols = processor.symbols(ids)
    return " ".join(symbols) if language == "zh" or any(s.startswith("@") for s in symbols) else "".join(symbols)


def test_every_language_is_covered():
    for language in PROCESSORS:
        assert len([case for case in CASES if case[0] == language]) >= 8


@pytest.mark.parametrize("language, text, words, readings", CASES, ids=[case[1] for case in CASES])
def test_words_and_what_they_read(processors, language, text, words, readings):
    processor = processors[language]
    encoded = processor.encode(text)
    assert [w.text for w in encoded.words] == words
    said = [(w.text, _reading(processor, encoded.ids[w.first:w.last], language)) for w in encoded.words]
    expected = readings if isinstance(readings, dict) else dict(enumerate(readings))
    for key, reading in expected.items():
        if isinstance(readings, dict):
            [got] = [r for word, r in said if word == key]  # each word named is there once
        else:
            got = said[key][1]
        assert got == (to_jamo(reading) if language == "ko" else reading), key


@pytest.mark.parametrize("language, text", [case[:2] for case in CASES], ids=[case[1] for case in CASES])
def test_words_are_the_texts_in_order(processors, language, text):
    processor = processors[language]
    encoded = processor.encode(text)
    assert encoded.ids[-1] == processor.eos_id
    for word in encoded.words:
        assert text[word.start:word.end] == word.text
        assert 0 <= word.first <= word.last <= len(encoded.ids) - 1  # eos is no word's
    for word, following in zip(encoded.words, encoded.words[1:]):
        assert word.end <= following.start and word.last <= following.first


def test_a_word_that_says_nothing_sits_where_it_stands(processors):
    encoded = processors["en"].encode("Say {HH AH0 L OW1} to me 😀 now!")
    me, emoji, now = encoded.words[-3:]
    assert emoji.text == "😀" and emoji.first == emoji.last  # the voice has no symbol for it
    assert me.last < emoji.first == now.first  # after the space after "me", where "now" begins


def test_mandarin_pauses_are_no_words_symbols():
    """Initial and final point at their character; "#0" and "sil" sit between characters, zero wide."""
    front_end = MandarinFrontEnd(json.loads((FIXTURES / "processors" / "baker.json").read_text())["pinyin_dict"])
    symbols = front_end(Traced("你好，世界"))
    assert [s.symbol for s in symbols] == ["sil", "n", "i3", "#0", "h", "ao3", "#0", "sh", "iii4", "#0", "j", "ie4",
                                           "sil"]
    assert symbols[0] == Symbol("sil", 0, 0) and symbols[-1] == Symbol("sil", 5, 5)
    assert symbols[1:4] == [Symbol("n", 0, 1), Symbol("i3", 0, 1), Symbol("#0", 1, 1)]
    assert symbols[7:9] == [Symbol("sh", 3, 4), Symbol("iii4", 3, 4)]  # "，" (2) is read by nothing
    traced = front_end(Traced("我有3只猫"))
    assert [s for s in traced if s.start < s.end and s.start == 2] == [Symbol("s", 2, 3), Symbol("an1", 2, 3)]


def test_mandarin_erhua_points_at_its_character():
    class Erhua(MandarinFrontEnd):  # pypinyin's dictionaries give no erhua syllable; as if they did
        def _syllables(self, text):
            return [("hua1", 0, 1), ("huar4", 1, 2)]

    symbols = Erhua({"hua": ["h", "ua"]})(Traced("花儿"))
    assert symbols == [Symbol("sil", 0, 0), Symbol("h", 0, 1), Symbol("ua1", 0, 1), Symbol("#0", 1, 1),
                       Symbol("h", 1, 2), Symbol("ua4", 1, 2), Symbol("er5", 1, 2), Symbol("sil", 2, 2)]
