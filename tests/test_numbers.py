"""Numbers read aloud by the French (SynPaFlex) and Mandarin (Baker) front ends, whose reference
front ends dropped digits."""
import pytest
from num2words import num2words

from conftest import FIXTURES
from synth.speech import TextProcessor
from synth.speech.text import french, mandarin


@pytest.fixture(scope="module")
def synpaflex():
    return TextProcessor.from_file(FIXTURES / "processors" / "synpaflex.json")


@pytest.fixture(scope="module")
def baker():
    return TextProcessor.from_file(FIXTURES / "processors" / "baker.json")


@pytest.mark.parametrize("text, spoken", [
    ("J'ai 3 chats.", "J'ai trois chats."),
    ("1234", "mille deux cent trente-quatre"),
    ("71 et 80", "soixante et onze et quatre-vingts"),
    ("en 1998", "en mille neuf cent quatre-vingt-dix-huit"),
    ("1 000 et 1\u202f000\u00a0000", "mille et un million"),
    ("1.000.000", "un million"),
    ("12 352 1414", "douze mille trois cent cinquante-deux mille quatre cent quatorze"),
    ("3,5 et 3.5", "trois virgule cinq et trois virgule cinq"),
    ("3,05", "trois virgule zéro cinq"),
    ("le 1er, la 1re, la 1ère", "le premier, la première, la première"),
    ("2e, 2ème, 2eme, 21e", "deuxième, deuxième, deuxième, vingt et unième"),
    ("80e, 200e, les 1ers", "quatre-vingtième, deux centième, les premiers"),
    ("50 % et 50%", "cinquante pour cent et cinquante pour cent"),
    ("3,5 %", "trois virgule cinq pour cent"),
    ("3,50 €, 3 €, 1 €, 10 $", "trois euros cinquante, trois euros, un euro, dix dollars"),
    ("$10 et €2,5", "dix dollars et deux euros cinquante"),
    ("0,50 € et 0,01 €", "cinquante centimes et un centime"),
    ("1 000 000 € et 2 000 000 $", "un million d'euros et deux millions de dollars"),
    ("-5 et −3,5 %", "moins cinq et moins trois virgule cinq pour cent"),
    ("COVID-19, 12-15", "COVID-dix-neuf, douze-quinze"),
    ("06 12 34 56 78", "zéro six douze trente-quatre cinquante-six soixante-dix-huit"),
    ("0612345678", "zéro six un deux trois quatre cinq six sept huit"),
    ("% et € seuls", "% et € seuls"),  # no number, no quantity: left alone (and skipped)
    ("Rendez-vous à 10h30, 10 h 05 ou 10:30.", "Rendez-vous à dix heures trente, dix heures cinq ou dix heures trente."),
    ("vers 1h, à 12h00", "vers une heure, à douze heures"),  # a time of day: heures, not a number
])
def test_french_numbers(text, spoken):
    assert french.normalize_numbers(text) == spoken


@pytest.mark.parametrize("text, spoken", [
    ("我有3只猫。", "我有三只猫。"),
    ("3 10 12 20", "三 十 十二 二十"),
    ("105 110 1005 1050", "一百零五 一百一十 一千零五 一千零五十"),
    ("2000 2200 12000", "两千 两千二百 一万二千"),
    ("10000 100000 100000000", "一万 十万 一亿"),
    ("100000005 100001000 101000000", "一亿零五 一亿零一千 一亿零一百万"),
    ("1,000,000", "一百万"),
    ("0 3.14 0.5", "零 三点一四 零点五"),
    ("2023年 1998年", "二零二三年 一九九八年"),
    ("2年 2个 2万 2年级 2月 2号", "两年 两个 两万 二年级 二月 二号"),
    ("第2个 第3", "第二个 第三"),
    ("50% ５０％ 3.5% 2%", "百分之五十 百分之五十 百分之三点五 百分之二"),
    ("¥3.5 3.5元 ￥2", "三点五元 三点五元 两元"),
    ("$10 €20 £2", "十美元 二十欧元 两英镑"),
    ("-5 -5% 温度-5度", "负五 负百分之五 温度负五度"),
    ("12-15", "十二-十五"),
    ("13812345678 010", "一三八一二三四五六七八 零一零"),
    ("9999999999", "九十九亿九千九百九十九万九千九百九十九"),
    ("iPhone15", "iPhone十五"),  # Latin letters stay, and are skipped
    ("10:30开会，2:05到", "十点三十分开会，两点零五分到"),  # a time of day
    ("2019-2020年和2019至2020年", "二零一九至二零二零年和二零一九至二零二零年"),  # a range of years
])
def test_mandarin_numbers(text, spoken):
    assert mandarin.normalize_numbers(text) == spoken


@pytest.mark.parametrize("with_digits, in_words", [
    ("J'ai 3 chats.", "J'ai trois chats."),
    ("Le 1er mai, 50 % des 2 000 élèves.", "Le premier mai, cinquante pour cent des deux mille élèves."),
    ("Ça coûte 3,50 €.", "Ça coûte trois euros cinquante."),
])
def test_french_ids(synpaflex, with_digits, in_words):
    assert synpaflex.text_to_ids(with_digits) == synpaflex.text_to_ids(in_words)


@pytest.mark.parametrize("with_digits, in_words", [
    ("我有3只猫。", "我有三只猫。"),
    ("2023年，价格是¥3.5。", "二零二三年，价格是三点五元。"),
    ("第2个学生有2本书。", "第二个学生有两本书。"),
])
def test_mandarin_ids(baker, with_digits, in_words):
    assert baker.text_to_ids(with_digits) == baker.text_to_ids(in_words)


def test_french_number_words_are_in_the_symbol_table(synpaflex):
    """Every character num2words writes (letters, accents, hyphens, spaces) is one the voice knows."""
    numbers = [*range(0, 1101), 1998, 2024, 10**6, 2 * 10**6, 10**9, 10**12]
    words = {num2words(n, lang="fr") for n in numbers} | {num2words(n, lang="fr", to="ordinal") for n in numbers}
    assert sorted({c for w in words for c in w} - set(synpaflex.symbol_to_id)) == []


def test_digits_are_no_longer_skipped(baker, synpaflex):
    assert baker.unspeakable("2023年 ok ２") == ["k", "o"]
    assert synpaflex.unspeakable("J'ai 3 chats, 50 %.") == []
