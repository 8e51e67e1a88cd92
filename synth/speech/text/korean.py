"""Korean text normalisation for the KSS voice: numbers and Latin letters read out in
Hangul, then every syllable split into its jamo (lead consonant, vowel, tail consonant),
which are the symbols the voice was trained on (tensorflow-tts `korean_cleaners`).

Each jamo keeps the span of the original text it reads (synth.speech.text.traced): a
syllable's jamo, that syllable; a reading, all it reads ("3개" -> 세개, "GPU" -> 지피유).
"""
from __future__ import annotations

import re

from synth.speech.text.traced import Traced

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


def _slice(text: Traced, start: int, end: int) -> Traced:
    return Traced(text.text[start:end], text.origins[start:end])


def _join(parts: list[Traced]) -> Traced:
    return Traced("".join(part.text for part in parts), [origin for part in parts for origin in part.origins])


def _strip(text: Traced) -> Traced:
    stripped = text.text.strip()
    start = len(text.text) - len(text.text.lstrip())
    return _slice(text, start, start + len(stripped))


def _quote(text: Traced) -> Traced:
    """Each sentence inside quotes quoted on its own: '"가자. 빨리."' -> "'가자.' '빨리.'". Done
    piece by piece so that the words inside keep their own origins (a plain `sub` would give
    every character the span of the whole quotation)."""
    parts, last = [], 0
    for match in _QUOTED.finditer(text.text):
        parts += [_slice(text, last, match.start()),
                  Traced("'", text.origins[match.start(1):match.end(1)]),
                  _slice(text, match.start(2), match.end(2)).sub(_SENTENCE_END, "' '"),
                  Traced("'", text.origins[match.start(3):match.end(3)])]
        last = match.end()
    return _join(parts + [_slice(text, last, len(text))])


def normalize_traced(text: Traced) -> Traced:
    """Numbers, units and Latin letters as Hangul, as they are read aloud; each reading points
    at what it reads ("3개" -> 세개, "GPU" -> 지피유)."""
    text = _strip(text).sub(r"\(\d+일\)", "")
    text = text.sub(_HANJA_IN_PARENS, "")
    text = text.sub("[A-Za-z]+", lambda m: ENGLISH_WORDS.get(m.group(), m.group()))
    text = text.sub("[A-Za-z]+", _spell_capitals)
    text = _quote(text)
    for unit, spoken in UNITS:
        text = text.replace(unit, spoken)
    text = text.sub(_NUMBER_WITH_COUNTER, lambda m: read_number(m.group(1), m.group(2)))
    return text.sub(_NUMBER, lambda m: read_number(m.group()))


def normalize(text: str) -> str:
    """Numbers, units and Latin letters as Hangul, as they are read aloud."""
    return normalize_traced(Traced(text)).text


def _jamo(char: str) -> str:
    """A precomposed Hangul syllable -> its conjoining jamo; another character unchanged."""
    index = ord(char) - 0xAC00
    if not 0 <= index < 11172:
        return char
    lead, rest = divmod(index, 588)
    vowel, tail = divmod(rest, 28)
    return chr(0x1100 + lead) + chr(0x1161 + vowel) + (chr(0x11A7 + tail) if tail else "")


def to_jamo(text: str) -> str:
    """Each precomposed Hangul syllable -> its conjoining jamo; other characters unchanged."""
    return "".join(map(_jamo, text))


def clean_korean(text: Traced) -> Traced:
    """`korean_cleaners`, keeping origins: each jamo points at what its syllable reads."""
    return normalize_traced(text).map(_jamo)


def korean_cleaners(text: str) -> str:
    return clean_korean(Traced(text)).text
