"""Korean text normalisation for the KSS voice: numbers and Latin letters read out in
Hangul, then every syllable split into its jamo (lead consonant, vowel, tail consonant),
which are the symbols the voice was trained on (tensorflow-tts `korean_cleaners`).
"""
from __future__ import annotations

import re

# Latin letters, read one by one when a word is all capitals ("GPU" -> 지피유).
LETTER_NAMES = dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                        ["에이", "비", "씨", "디", "이", "에프", "지", "에이치", "아이", "제이", "케이", "엘", "엠",
                         "엔", "오", "피", "큐", "알", "에스", "티", "유", "브이", "더블유", "엑스", "와이", "지"]))
# Words said differently from their spelling, as in the KSS transcripts.
ENGLISH_WORDS = {"TV": "티비", "KIA": "기아", "STOP": "스탑", "PRESS": "프레스", "Z": "제트", "DNA": "디엔에이",
                 "idol": "아이돌", "track": "트랙", "up": "업", "down": "다운", "Santa": "산타"}
UNITS = [("%", "퍼센트"), ("cm", "센치미터"), ("mm", "밀리미터"), ("km", "킬로미터"), ("kg", "킬로그람"), ("m", "미터")]
# Counters that take native Korean numbers (세 개, 스물 살); other numbers are Sino-Korean.
COUNTERS = ("시|명|가지|살|마리|포기|송이|수|톨|통|점|개|벌|척|채|다발|그루|자루|줄|켤레|그릇|잔|마디|상자|사람|"
            "곡|병|판")
SINO_DIGITS = ["", "일", "이", "삼", "사", "오", "육", "칠", "팔", "구"]
NATIVE_DIGITS = ["", "한", "두", "세", "네", "다섯", "여섯", "일곱", "여덟", "아홉"]
NATIVE_TENS = {"십": "열", "두십": "스물", "세십": "서른", "네십": "마흔", "다섯십": "쉰", "여섯십": "예순",
               "일곱십": "일흔", "여덟십": "여든", "아홉십": "아흔"}
SPOKEN_DIGITS = dict(zip("0123456789", ["영", "일", "이", "삼", "사", "오", "육", "칠", "팔", "구"]))
PLACES = ["", "십", "백", "천"]            # within a group of four digits
GROUPS = ["", "만", "억", "조", "경", "해"]  # groups of four digits

_NUMBER = r"([+-]?\d[\d,]*)[.]?\d*"
_NUMBER_WITH_COUNTER = re.compile(_NUMBER + f"({COUNTERS})")
_QUOTED = re.compile("([`\"'＂“‘])(.+?)([`\"'＂”’])")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_HANJA_IN_PARENS = re.compile(r"\([⺀-⺙⺛-⻳⼀-⿕々〇〡-〩〸-〺〻㐀-䶵一-鿃豈-鶴侮-頻並-龎]+\)")


def read_number(text: str, counter: str = "") -> str:
    """'2023' -> 이천이십삼; with a counter, ('20', '살') -> 스물살; '3.5' -> 삼쩜 오."""
    sign = {"+": "플러스 ", "-": "마이너스 "}.get(text[:1], "")
    digits, point, decimals = text.lstrip("+-").replace(",", "").partition(".")
    if int(digits) == 0 and not decimals.strip("0"):
        return "영"  # the reference drops sign and counter here; the voice learned that
    names = NATIVE_DIGITS if counter else SINO_DIGITS
    words, group = "", ""
    for position, digit in enumerate(digits):
        place = len(digits) - 1 - position
        if digit != "0":
            group += names[int(digit)] + PLACES[place % 4]
        if place % 4 == 0 and group:
            words += group + GROUPS[place // 4]
            group = ""
    if counter:
        if words.startswith("한") and len(words) > 1:  # 열한 개, not 한열한 개
            words = words[1:]
        words = re.sub("|".join(sorted(NATIVE_TENS, key=len, reverse=True)), lambda m: NATIVE_TENS[m.group()], words)
    elif words.startswith("일") and len(words) > 1:  # 십, 백, 천, 만: no leading 일
        words = words[1:]
    if point and not counter:  # as trained: a sentence-final "1522." is read "천오백이십이쩜"
        words += "쩜 " + "".join(SPOKEN_DIGITS[d] for d in decimals)
    return sign + words + counter


def _spell_capitals(match: re.Match) -> str:
    word = match.group()
    return "".join(LETTER_NAMES[c] for c in word) if word.isupper() else word


def _quote_sentences(match: re.Match) -> str:
    return " ".join(f"'{s}'" for s in _SENTENCE_END.split(match.group(2)))


def normalize(text: str) -> str:
    """Numbers, units and Latin letters as Hangul, as they are read aloud."""
    text = re.sub(r"\(\d+일\)", "", text.strip())
    text = _HANJA_IN_PARENS.sub("", text)
    text = re.sub("[A-Za-z]+", lambda m: ENGLISH_WORDS.get(m.group(), m.group()), text)
    text = re.sub("[A-Za-z]+", _spell_capitals, text)
    text = _QUOTED.sub(_quote_sentences, text)
    for unit, spoken in UNITS:
        text = text.replace(unit, spoken)
    text = _NUMBER_WITH_COUNTER.sub(lambda m: read_number(m.group(1), m.group(2)), text)
    return re.sub(_NUMBER, lambda m: read_number(m.group()), text)


def to_jamo(text: str) -> str:
    """Each precomposed Hangul syllable -> its conjoining jamo; other characters unchanged."""
    out = []
    for char in text:
        index = ord(char) - 0xAC00
        if 0 <= index < 11172:
            lead, rest = divmod(index, 588)
            vowel, tail = divmod(rest, 28)
            out += [chr(0x1100 + lead), chr(0x1161 + vowel)] + ([chr(0x11A7 + tail)] if tail else [])
        else:
            out.append(char)
    return "".join(out)


def korean_cleaners(text: str) -> str:
    return to_jamo(normalize(text))
