import json
from pathlib import Path

import pytest

from synth import catalog
from synth.errors import ConfigError
from synth.speech.text.sentences import MAX_SENTENCE_CHARS, shorten, split_sentences

APP_EXAMPLE = "On the 21st of March, 2024, Dr. Smith paid $3.50 for 2 coffees at 7:30 a.m. on Main St."

# (text, sentences) per language: where a human reading aloud would pause for a new sentence.
CASES = {
    "en": [
        (APP_EXAMPLE, [APP_EXAMPLE]),
        ("Deep learning turns text into speech. This voice was trained on public domain audiobooks.",
         ["Deep learning turns text into speech.", "This voice was trained on public domain audiobooks."]),
        ("On the 21st of March, 2024, Dr. Smith paid $3.50 for a coffee.",
         ["On the 21st of March, 2024, Dr. Smith paid $3.50 for a coffee."]),
        ("The quick brown fox jumps over the lazy dog.", ["The quick brown fox jumps over the lazy dog."]),
        ("FastSpeech2 predicts how long every sound lasts, so even a long sentence never loses its place.",
         ["FastSpeech2 predicts how long every sound lasts, so even a long sentence never loses its place."]),
        ("Mr. Brown met Mrs. Green at 5 p.m. on Main St. today.",
         ["Mr. Brown met Mrs. Green at 5 p.m. on Main St. today."]),
        ("Ms. Lee and Prof. Stone met in St. Louis. They talked.",
         ["Ms. Lee and Prof. Stone met in St. Louis.", "They talked."]),
        ("Martin Luther King Jr. Day and John Smith Sr. Park are near Mt. Hood on Fifth Ave. North.",
         ["Martin Luther King Jr. Day and John Smith Sr. Park are near Mt. Hood on Fifth Ave. North."]),
        ("Team A vs. Team B, e.g. Arsenal vs. Chelsea, i.e. London teams. Who won?",
         ["Team A vs. Team B, e.g. Arsenal vs. Chelsea, i.e. London teams.", "Who won?"]),
        ("Acme Inc. Chairman and Widgets Ltd. Director met at Smith & Co. Headquarters.",
         ["Acme Inc. Chairman and Widgets Ltd. Director met at Smith & Co. Headquarters."]),
        ("We walked approx. 5 miles. The U.S. Army and the U.K. Government met at 9 a.m. Sharp.",
         ["We walked approx. 5 miles.", "The U.S. Army and the U.K. Government met at 9 a.m. Sharp."]),
        ("We sold apples, pears, etc. Then we closed.", ["We sold apples, pears, etc. Then we closed."]),
        ("See No. 5 on the list. No. That is wrong.", ["See No. 5 on the list.", "No.", "That is wrong."]),
        ("J. R. R. Tolkien wrote it. George W. Bush read it. I. M. Pei did not. So did I. Then we left.",
         ["J. R. R. Tolkien wrote it.", "George W. Bush read it.", "I. M. Pei did not.", "So did I.",
          "Then we left."]),
        ("It costs 3.50 dollars. Pi is about 3.14159. He was born in 1990. Then he grew up.",
         ["It costs 3.50 dollars.", "Pi is about 3.14159.", "He was born in 1990.", "Then he grew up."]),
        ("Wait... what? Wait... What? Well… \"Fine.\"", ["Wait... what?", "Wait...", "What?", "Well…", "\"Fine.\""]),
        ('He said "Go." Then he left. She asked, \'Why?\' He smiled. "Stop!" she cried.',
         ['He said "Go."', "Then he left.", "She asked, 'Why?'", "He smiled.", '"Stop!" she cried.']),
        ("Really?! Yes!? No!!! Fine?! ok.", ["Really?!", "Yes!?", "No!!!", "Fine?! ok."]),
        ("1. Open the lid. 2. Close it.", ["1. Open the lid.", "2. Close it."]),
        ("Note: this is one sentence; it has clauses.", ["Note: this is one sentence; it has clauses."]),
        ("He left. (He was tired.) Then he slept. I saw the Dr.",
         ["He left.", "(He was tired.)", "Then he slept.", "I saw the Dr."]),
        ("  Hello \n\t world.   How   are\u00a0you?  ", ["Hello world.", "How are you?"]),
        ("", []),
        (" \n\t ", []),
    ],
    "ko": [
        ("안녕하세요. 딥러닝을 활용한 음성 합성입니다.", ["안녕하세요.", "딥러닝을 활용한 음성 합성입니다."]),
        ("오늘은 날씨가 좋네요.", ["오늘은 날씨가 좋네요."]),
        ("정말요? 네, 정말이에요!", ["정말요?", "네, 정말이에요!"]),
        ("네. 알겠습니다.", ["네.", "알겠습니다."]),
        ("가격은 3.5달러입니다. 비싸네요.", ["가격은 3.5달러입니다.", "비싸네요."]),
        ("음... 글쎄요. 정말... 그래요? 네.", ["음... 글쎄요.", "정말... 그래요?", "네."]),
        ("왜?! 그럴 리가!", ["왜?!", "그럴 리가!"]),
        ('그가 "가자."라고 말했다. 우리는 갔다.', ['그가 "가자."라고 말했다.', "우리는 갔다."]),
        ('그는 "가자!" 하고 떠났다. 그녀는 "왜?" 라며 울었다.', ['그는 "가자!" 하고 떠났다.', '그녀는 "왜?" 라며 울었다.']),
        ('"가자!" 그는 떠났다.', ['"가자!"', "그는 떠났다."]),
        ("김 박사는 Dr. Kim이라고 불린다. 그렇다.", ["김 박사는 Dr. Kim이라고 불린다.", "그렇다."]),
        ("J. K. 롤링이 썼다. 재미있다.", ["J. K. 롤링이 썼다.", "재미있다."]),
        ("안녕하세요。반가워요！", ["안녕하세요。", "반가워요！"]),
        ("3월 1일은 삼일절입니다. 2024년 3월 1일! 좋아요.", ["3월 1일은 삼일절입니다.", "2024년 3월 1일!", "좋아요."]),
        ("  안녕하세요.\n\n  반가워요.  ", ["안녕하세요.", "반가워요."]),
        ("마침표가 없는 문장", ["마침표가 없는 문장"]),
        ("", []),
    ],
    "de": [
        ("Der schnelle braune Fuchs springt über den faulen Hund.",
         ["Der schnelle braune Fuchs springt über den faulen Hund."]),
        ("Am 21. März 2024 war es kalt. Danach wurde es warm.",
         ["Am 21. März 2024 war es kalt.", "Danach wurde es warm."]),
        ("Ich habe 3. Danach ging ich.", ["Ich habe 3. Danach ging ich."]),
        ("Die 2. Auflage erschien am 1. Mai. Er kam 1990. Danach blieb er.",
         ["Die 2. Auflage erschien am 1. Mai.", "Er kam 1990.", "Danach blieb er."]),
        ("Obst, z.B. Äpfel, und Gemüse, z. B. Karotten, sind gesund.",
         ["Obst, z.B. Äpfel, und Gemüse, z. B. Karotten, sind gesund."]),
        ("Dr. Müller und Prof. Schmidt wohnen in der Berliner Str. 4 bzw. Hauptstr. 7.",
         ["Dr. Müller und Prof. Schmidt wohnen in der Berliner Str. 4 bzw. Hauptstr. 7."]),
        ("Zimmer Nr. 12 gehört Hr. Meier und Fr. Schulz. Sie sind nett.",
         ["Zimmer Nr. 12 gehört Hr. Meier und Fr. Schulz.", "Sie sind nett."]),
        ("Es kostet ca. 3,50 Euro. Das ist billig.", ["Es kostet ca. 3,50 Euro.", "Das ist billig."]),
        ("Wir kauften Äpfel, Birnen usw. Dann gingen wir. Er mag Hunde, Katzen etc. Und Vögel.",
         ["Wir kauften Äpfel, Birnen usw. Dann gingen wir.", "Er mag Hunde, Katzen etc. Und Vögel."]),
        ("Siehe S. 12 im Buch. Lies es.", ["Siehe S. 12 im Buch.", "Lies es."]),
        ("Viele kamen, u.a. Anna und Ben, d.h. Freunde.", ["Viele kamen, u.a. Anna und Ben, d.h. Freunde."]),
        ("Er sagte: „Geh!“ Dann ging er. »Komm.« Sie kam.",
         ["Er sagte: „Geh!“", "Dann ging er.", "»Komm.«", "Sie kam."]),
        ("Warte... was? Warte... Was?", ["Warte... was?", "Warte...", "Was?"]),
        ("Wirklich?! Ja!? Gut.", ["Wirklich?!", "Ja!?", "Gut."]),
        ("J. W. von Goethe schrieb viel. Er starb 1832.", ["J. W. von Goethe schrieb viel.", "Er starb 1832."]),
        ("Es kostet 3.50 Euro. Das Datum ist der 21.03.2024. Gut.",
         ["Es kostet 3.50 Euro.", "Das Datum ist der 21.03.2024.", "Gut."]),
        ("Achtung: der Hund beißt; bleib ruhig.", ["Achtung: der Hund beißt; bleib ruhig."]),
        (" Guten\tMorgen.\n\nWie geht's? ", ["Guten Morgen.", "Wie geht's?"]),
        ("", []),
    ],
    "fr": [
        ("Le 3 janv. nous partons. Tél. 01 23 45 67 89 pour réserver.",
         ["Le 3 janv. nous partons.", "Tél. 01 23 45 67 89 pour réserver."]),
        ("Le renard brun rapide saute par-dessus le chien paresseux.",
         ["Le renard brun rapide saute par-dessus le chien paresseux."]),
        ("M. Dupont est arrivé. Il est fatigué. Bonjour M.",
         ["M. Dupont est arrivé.", "Il est fatigué.", "Bonjour M."]),
        ("Mme. Curie et Mlle. Dubois ont vu MM. Martin et Durand.",
         ["Mme. Curie et Mlle. Dubois ont vu MM. Martin et Durand."]),
        ("Le Dr. Roux habite av. Foch, près de St. Germain et Ste. Anne.",
         ["Le Dr. Roux habite av. Foch, près de St. Germain et Ste. Anne."]),
        ("Des villes, p. ex. Paris et Lyon, sont grandes.", ["Des villes, p. ex. Paris et Lyon, sont grandes."]),
        ("Il a marché env. 3 km. Puis il s'est reposé.", ["Il a marché env. 3 km.", "Puis il s'est reposé."]),
        ("Des pommes, des poires, etc. Tout était frais.", ["Des pommes, des poires, etc. Tout était frais."]),
        ("Il coûte 3,50 euros. Pi vaut 3.14. Voilà.", ["Il coûte 3,50 euros.", "Pi vaut 3.14.", "Voilà."]),
        ("« Va-t'en ! » Puis il partit.", ["« Va-t'en ! »", "Puis il partit."]),
        ("Elle a dit : « Je viens. » Il a souri. Il a dit « oui ». Puis il est parti.",
         ["Elle a dit : « Je viens. »", "Il a souri.", "Il a dit « oui ».", "Puis il est parti."]),
        ("Quoi ? Vraiment ! Oui.", ["Quoi ?", "Vraiment !", "Oui."]),
        ("Attends... quoi ? Attends... Quoi ?", ["Attends... quoi ?", "Attends...", "Quoi ?"]),
        ("J. R. R. Tolkien est né en 1892. Il est mort en 1973.",
         ["J. R. R. Tolkien est né en 1892.", "Il est mort en 1973."]),
        ("Vraiment ?! Oui !? Bon.", ["Vraiment ?!", "Oui !?", "Bon."]),
        ("Attention : le chien mord ; restez calme.", ["Attention : le chien mord ; restez calme."]),
        ("Le 21 mars, c'était le 1er jour. Ensuite, il a plu.",
         ["Le 21 mars, c'était le 1er jour.", "Ensuite, il a plu."]),
        ("  Bonjour,\n\tle monde.  Ça va ?  ", ["Bonjour, le monde.", "Ça va ?"]),
        ("", []),
    ],
    "zh": [
        ("你好，深度学习语音合成。", ["你好，深度学习语音合成。"]),
        ("你好。我是小明。", ["你好。", "我是小明。"]),
        ("你好！我很好？真的吗？！是的。", ["你好！", "我很好？", "真的吗？！", "是的。"]),
        ("他说：“你好。”然后走了。", ["他说：“你好。”", "然后走了。"]),
        ("她说：「再见！」我哭了。", ["她说：「再见！」", "我哭了。"]),
        ("他写道：『完了。』然后睡了。", ["他写道：『完了。』", "然后睡了。"]),
        ("价格是3.5元。很便宜。", ["价格是3.5元。", "很便宜。"]),
        ("第３．５节很长．我读完了．", ["第３．５节很长．", "我读完了．"]),
        ("你好! 我很好. 你呢?我也好.", ["你好!", "我很好.", "你呢?", "我也好."]),
        ("等等……然后呢？等等...然后呢?", ["等等……然后呢？", "等等...然后呢?"]),
        ("你好。 我是小明。", ["你好。", "我是小明。"]),
        ("我爱北京（中国的首都）。你呢？", ["我爱北京（中国的首都）。", "你呢？"]),
        ("《红楼梦》很好看。我读过。", ["《红楼梦》很好看。", "我读过。"]),
        ("Dr. Smith来了。他很高兴。", ["Dr. Smith来了。", "他很高兴。"]),
        ("我们、你们；他们：都来了。", ["我们、你们；他们：都来了。"]),
        ("  你好。\n 我很好。 ", ["你好。", "我很好。"]),
        ("", []),
    ],
}

# Sentences too long for one attention run: cut at clauses, then words, then anywhere.
LONG_CASES = [
    ("en", "One, two, three, four, five, six; seven: eight.", 20,
     ["One, two, three,", "four, five, six;", "seven: eight."]),
    ("en", "The quick brown fox jumps over the lazy dog near the river bank.", 20,
     ["The quick brown fox", "jumps over the lazy", "dog near the river", "bank."]),
    ("en", "A, supercalifragilisticexpialidocious word.", 10,
     ["A,", "supercalif", "ragilistic", "expialidoc", "ious", "word."]),
    ("ko", "오늘은 날씨가 좋아서, 우리는 공원에 가서 산책을 하고, 점심을 먹었습니다.", 20,
     ["오늘은 날씨가 좋아서,", "우리는 공원에 가서 산책을 하고,", "점심을 먹었습니다."]),
    ("de", "Wir kauften 3,5 Kilo Äpfel, zwei Brote und Käse; dann gingen wir heim.", 30,
     ["Wir kauften 3,5 Kilo Äpfel,", "zwei Brote und Käse;", "dann gingen wir heim."]),
    ("fr", "Il a acheté 3,5 kilos de pommes, deux pains et du fromage ; puis il est rentré.", 40,
     ["Il a acheté 3,5 kilos de pommes,", "deux pains et du fromage ;", "puis il est rentré."]),
    ("zh", "今天天气很好，我们去公园散步，然后吃了午饭。", 12, ["今天天气很好，", "我们去公园散步，", "然后吃了午饭。"]),
    ("zh", "深度学习语音合成深度学习语音合成深度学习", 8, ["深度学习语音合成", "深度学习语音合成", "深度学习"]),
]


@pytest.mark.parametrize("language, text, expected",
                         [(language, text, expected) for language, cases in CASES.items()
                          for text, expected in cases])
def test_golden(language, text, expected):
    assert split_sentences(text, language) == expected


@pytest.mark.parametrize("language", CASES)
def test_enough_cases_per_language(language):
    assert len(CASES[language]) + sum(case[0] == language for case in LONG_CASES) >= 15


def test_app_examples_are_golden_cases():
    """Every example sentence the app offers is split where a human would split it."""
    examples = json.loads((Path(__file__).parents[1] / "assets" / "sentences.json").read_text())
    for voice, sentences in examples.items():
        golden = dict(CASES[catalog.get(voice).language])
        assert all(sentence in golden for sentence in sentences), voice


@pytest.mark.parametrize("language, text, max_chars, expected", LONG_CASES)
def test_long_sentences_are_cut(language, text, max_chars, expected):
    pieces = split_sentences(text, language, max_chars)
    assert pieces == expected
    assert all(len(piece) <= max_chars for piece in pieces)
    assert "".join(pieces).replace(" ", "") == text.replace(" ", "")


def test_no_word_lost_and_default_limit():
    text = " ".join(f"word{i}," for i in range(100)) + " Next sentence. " + "x" * 450
    pieces = split_sentences(text, "en")
    assert all(len(piece) <= MAX_SENTENCE_CHARS == 200 for piece in pieces)
    assert " ".join(pieces[:-3]).split() == text.split()[:-1]
    assert pieces[-3:] == ["x" * 200, "x" * 200, "x" * 50]


def test_western_text_kept_as_typed():
    text = " Mr. Brown  paid $3.50.\n\"Fine,\" he said; then: \"Wait... Why?!\" (Really.) "
    assert " ".join(split_sentences(text, "en")).split() == text.split()


@pytest.mark.parametrize("language", ["xx", "EN", "", "ja"])
def test_unknown_language(language):
    with pytest.raises(ConfigError, match=rf"{language!r}.*en, ko, de, fr, zh"):
        split_sentences("Hello.", language)


@pytest.mark.parametrize("text, limit, expected", [
    ("One. Two three. Four five six.", 100, "One. Two three. Four five six."),
    ("One. Two three. Four five six.", 20, "One. Two three."),
    ("Wait! Really? Yes.", 14, "Wait! Really?"),
    ("안녕하세요. 반갑습니다. 좋은 아침입니다.", 15, "안녕하세요. 반갑습니다."),
    ("no sentence end in here at all", 12, "no sentence"),
    ("abcdefghijklmnop", 5, "abcde"),
])
def test_shorten_to_a_sentence_end(text, limit, expected):
    assert split_sentences(text, "en") and len(shorten(text, limit)) <= limit
    assert shorten(text, limit) == expected
