"""Mandarin front end for the Baker voice: characters -> tone-numbered pinyin (pypinyin, neutral
tone as 5) -> initial + final phonemes from the voice's own `pinyin_dict`, with `#0` between
syllables and `sil` at both ends, as the Baker processor produced them for training.

Numbers are first written in Chinese characters (`normalize_numbers`): the reference front
end dropped digits, so "我有3只猫" lost its 3, while the voice knows every character a number
is read with. The reader is our own, a few lines: cn2an (PyPI) reads "2个" as 二个 and
"1,000" as 一,零, leaves "¥3.5" and phone numbers to us, and its wheel installs top-level
`build`, `src` and `example` packages. The rules:

- cardinals: "12" -> 十二, "105" -> 一百零五, "10000" -> 一万, "100000000" -> 一亿; "1,000" -> 一千;
- 2 is 两 as the first digit before 百/千/万/亿 (两千, 两万) and alone before a measure word or
  after a currency symbol (两个, 两年, "¥2" -> 两元), but 二 after 第 (第二个) and elsewhere
  (十二, 一万二千, 二月, 二号, 二年级);
- decimals digit by digit: "3.14" -> 三点一四; percentages: "50%" -> 百分之五十;
- "-5" -> 负五, unless the minus follows a Latin letter or a digit ("12-15" is a range);
- years, four digits before 年, digit by digit: "2023年" -> 二零二三年;
- money: "¥3.5" -> 三点五元, "$10" -> 十美元 (also € 欧元, £ 英镑); "3.5元" is just a number;
- codes digit by digit, with 一 for 1: a number with a leading zero ("010") or 11 digits and
  more in a row (phone numbers); quantities that large are written with 万/亿 anyway;
- full-width digits and ％ are read like ASCII ones.

Latin letters and punctuation are still skipped (the voice was trained that way).

Each symbol keeps the span of the original text it reads (synth.speech.text.traced): an
initial and final, their character ("3" for the 三 of "3只"; all of "¥3.5" for 三点五元);
`#0` and `sil` are pauses, zero wide, at the boundary between characters.
"""
from __future__ import annotations

import re

from pypinyin import Style
from pypinyin.contrib.neutral_tone import NeutralToneWith5Mixin
from pypinyin.converter import DefaultConverter
from pypinyin.core import Pinyin

from synth.speech.text.traced import Symbol, Traced

class _ToneFiveConverter(NeutralToneWith5Mixin, DefaultConverter):
    """pypinyin's converter with the neutral tone written as 5 (ma5), as in the Baker labels."""


_CONVERTER = _ToneFiveConverter()
_PINYIN = Pinyin(_CONVERTER)

_DIGITS = "零一二三四五六七八九"
_FULL_WIDTH = str.maketrans("０１２３４５６７８９％", "0123456789%")
_NUMBER = re.compile(r"(?:(?<![0-9A-Za-z])(?P<sign>[-−]))?(?P<currency>[¥￥$€£])?"
                     r"(?P<integer>[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])|[0-9]+)"
                     r"(?:\.(?P<fraction>[0-9]+))?(?P<percent>%)?")
_CURRENCIES = {"¥": "元", "￥": "元", "$": "美元", "€": "欧元", "£": "英镑"}
# Measure words after which a lone 2 is read 两 (两个); 二年级 is a school year, not two years.
_MEASURE_WORD = re.compile("个|只|本|张|位|条|件|次|天|岁|块|元|头|辆|台|双|对|杯|瓶|人|名|种|家|点|周|倍|份|斤|"
                           "百|千|万|亿|公里|小时|分钟|秒|年(?!级)")
_LONGEST_QUANTITY = 10  # digits in a row; more are a code (a phone number), read digit by digit
_TIME = re.compile(r"(?<![0-9:])([01]?[0-9]|2[0-3]):([0-5][0-9])(?![0-9:])")  # 10:30 -> 十点三十分
_YEAR_RANGE = re.compile(r"(?<![0-9])([0-9]{4})\s*[-–~～至到]\s*([0-9]{4})(?=\s*年)")  # 2019-2020年


def _digit_by_digit(digits: str) -> str:
    return "".join(_DIGITS[int(d)] for d in digits)


def _below_10000(number: int) -> str:
    """1..9999, with 零 for a gap: 1005 -> 一千零五, 1050 -> 一千零五十."""
    words, gap = "", False
    for digit, unit in zip(f"{number:04d}", ("千", "百", "十", "")):
        if digit == "0":
            gap = bool(words)
        else:
            words += ("零" if gap else "") + _DIGITS[int(digit)] + unit
            gap = False
    return words


def cardinal(number: int) -> str:
    """0 <= number < 10**12: 12 -> 十二, 2000 -> 两千, 100000 -> 十万, 100001000 -> 一亿零一千."""
    if number == 0:
        return "零"
    words, gap = "", False
    for unit, section in (("亿", number // 10**8), ("万", number // 10**4 % 10**4), ("", number % 10**4)):
        if section:
            words += ("零" if words and (gap or section < 1000) else "") + _below_10000(section) + unit
            gap = False
        else:
            gap = bool(words)
    if words.startswith("一十"):  # 十, 十二, 十万: no leading 一
        words = words[1:]
    if words.startswith("二") and words[1:2] in ("百", "千", "万", "亿"):
        words = "两" + words[1:]
    return words


def _number(match: re.Match) -> str:
    sign, currency, integer, fraction, percent = match.group("sign", "currency", "integer", "fraction", "percent")
    digits = integer.replace(",", "")
    text, end = match.string, match.end()
    if len(integer) == 4 and fraction is None and text.startswith("年", end):
        words = _digit_by_digit(digits)  # a year: 二零二三年
    elif (len(digits) > 1 and digits[0] == "0") or len(digits) > _LONGEST_QUANTITY:
        words = _digit_by_digit(digits)  # a code or a phone number
    elif (digits == "2" and fraction is None and not percent and not text.endswith("第", 0, match.start())
          and (currency or _MEASURE_WORD.match(text, end))):
        words = "两"
    else:
        words = cardinal(int(digits))
    if fraction is not None:
        words += "点" + _digit_by_digit(fraction)
    if percent:
        words = "百分之" + words
    if currency:
        words += _CURRENCIES[currency]
    return ("负" if sign else "") + words


def _time(match: re.Match) -> str:
    hours, minutes = int(match.group(1)), int(match.group(2))
    return ("两" if hours == 2 else cardinal(hours)) + "点" + (
        "" if minutes == 0 else ("零" if minutes < 10 else "") + cardinal(minutes) + "分")


def normalize_numbers_traced(text: Traced) -> Traced:
    """Numbers as Chinese characters, each pointing at the number it reads ("3只" -> 三只:
    三 points at "3"; "¥3.5" -> 三点五元: every character points at "¥3.5")."""
    text = text.map(lambda char: char.translate(_FULL_WIDTH)).sub(_TIME, _time)
    text = text.sub(_YEAR_RANGE, lambda m: f"{_digit_by_digit(m.group(1))}至{_digit_by_digit(m.group(2))}")
    return text.sub(_NUMBER, _number)


def normalize_numbers(text: str) -> str:
    """Numbers as Chinese characters, as they are read aloud: "我有3只猫" -> "我有三只猫"."""
    return normalize_numbers_traced(Traced(text)).text


class MandarinFrontEnd:
    """Text -> Baker phoneme symbols, each with the span of the original text it reads."""

    def __init__(self, pinyin_dict: dict[str, list[str]]):
        self.pinyin_dict = pinyin_dict

    def syllable(self, pinyin: str) -> list[str]:
        """'hao3' -> ['h', 'ao3']; 'huar4' (erhua) -> ['h', 'ua4', 'er5']; unknown -> []."""
        base, tone = pinyin[:-1], pinyin[-1:]
        if base in self.pinyin_dict:
            initial, final = self.pinyin_dict[base]
            return [initial, final + tone]
        if base.endswith("r") and base[:-1] in self.pinyin_dict:
            initial, final = self.pinyin_dict[base[:-1]]
            return [initial, final + tone, "er5"]
        return []

    def _syllables(self, text: str) -> list[tuple[str, int, int]]:
        """The pinyin of `text`, each syllable with the characters [start, end) it reads.

        This is `Pinyin.pinyin(text, errors="ignore")` taken apart: pypinyin cuts the whole text
        into runs of Han characters and runs of others (`seg`: Han runs are cut further into
        words of its phrase dictionary, so characters are read in context), and converts each
        piece on its own. A Han piece gives one pinyin per character (a phrase's entry has one
        per character); a piece of other characters gives nothing (errors="ignore"). So each
        syllable's character is known; were a Han piece to give fewer syllables than it has
        characters (a character pypinyin has no pinyin for), its syllables read the piece.
        The symbols are those of `Pinyin.pinyin` whatever the alignment (checked on the parity
        cases, tests/test_text.py).
        """
        pieces = _PINYIN.seg(text)
        whole = "".join(pieces) != text  # never seen: the pieces are the text, cut
        syllables, start = [], 0
        for piece in pieces:
            items = _CONVERTER.convert(piece, Style.TONE3, False, "ignore", strict=True)
            one_each = len(items) == len(piece)
            for index, item in enumerate(items):
                span = (0, len(text)) if whole else (start + index, start + index + 1) if one_each else \
                    (start, start + len(piece))
                syllables.append(("".join(item), *span))
            start += len(piece)
        return syllables

    def __call__(self, text: Traced) -> list[Symbol]:
        # Initial and final point at their character; "#0" between syllables and "sil" at both
        # ends are pauses, at the boundary between characters (zero width: no word's).
        normalized = normalize_numbers_traced(text)
        symbols = [Symbol("sil", *text.span(0, 0))]
        for pinyin, start, end in self._syllables(normalized.text):
            phonemes = self.syllable(pinyin)
            if phonemes:
                span = normalized.span(start, end)
                symbols += [Symbol(phoneme, *span) for phoneme in phonemes] + [Symbol("#0", span[1], span[1])]
        if symbols[-1].symbol == "#0":
            symbols.pop()
        end = text.span(len(text), len(text))
        return symbols + [Symbol("sil", *end)]
