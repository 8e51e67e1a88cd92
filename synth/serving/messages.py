"""synth's errors and model states worded for a person in a browser, in English or Korean:
plain sentences, no markup, and advice only where the visitor can act on it."""
from __future__ import annotations

from synth import catalog
from synth.errors import SynthError

LANGUAGES = ("en", "ko")
_ON_THE_SERVER = {"en": " (Whoever runs this demo can fetch it with: synth download {name}.)",
                  "ko": " (데모를 실행하는 컴퓨터에서 다음 명령으로 받을 수 있습니다: synth download {name})"}

# (error class, reason) -> message per language, formatted with the error's details and
# `label` (the model's name in that language).
_ERRORS = {
    ("TextError", "empty"): {"en": "Type some text to speak.", "ko": "읽을 문장을 입력하세요."},
    ("TextError", "too_long"): {
        "en": "The text is {length:,} characters long; this demo speaks at most {limit:,} at a time. Shorten it.",
        "ko": "문장이 {length:,}자입니다. 이 데모는 한 번에 {limit:,}자까지 읽습니다. 줄여 주세요."},
    ("TextError", "nothing_speakable"): {
        "en": "This voice cannot say any of these characters. Try another voice, or text in its language.",
        "ko": "이 목소리는 입력한 글자를 하나도 읽을 수 없습니다. 다른 목소리를 고르거나 그 언어로 입력하세요."},
    ("OptionError", "speed"): {"en": "Speed {value} is out of range: choose {low} to {high}.",
                               "ko": "속도 {value}은(는) 범위를 벗어났습니다. {low}에서 {high} 사이로 고르세요."},
    ("OptionError", "pitch"): {"en": "Pitch {value} is out of range: choose {low} to {high}.",
                               "ko": "음높이 {value}은(는) 범위를 벗어났습니다. {low}에서 {high} 사이로 고르세요."},
    ("OptionError", "energy"): {"en": "Energy {value} is out of range: choose {low} to {high}.",
                                "ko": "세기 {value}은(는) 범위를 벗어났습니다. {low}에서 {high} 사이로 고르세요."},
    ("OptionError", "no_pitch"): {
        "en": "This voice has no pitch control: leave pitch at 1, or pick a FastSpeech2 voice.",
        "ko": "이 목소리는 음높이를 바꿀 수 없습니다. 음높이를 1로 두거나 FastSpeech2 목소리를 고르세요."},
    ("OptionError", "no_energy"): {
        "en": "This voice has no energy control: leave energy at 1, or pick a FastSpeech2 voice.",
        "ko": "이 목소리는 세기를 바꿀 수 없습니다. 세기를 1로 두거나 FastSpeech2 목소리를 고르세요."},
    ("LexiconError", "unknown_symbols"): {
        "en": "These pronunciations use symbols this voice does not have: {entries}. Write English as ARPAbet "
              "in braces, e.g. {{T AH0 M EY1 T OW2}}, Mandarin as pinyin with tone numbers (ni3 hao3), or respell "
              "the word in the voice's own letters.",
        "ko": "다음 발음에는 이 목소리에 없는 기호가 있습니다: {entries}. 영어는 중괄호 안의 ARPAbet(예: "
              "{{T AH0 M EY1 T OW2}}), 중국어는 성조 숫자를 붙인 병음(ni3 hao3)으로 쓰거나, 그 목소리의 글자로 "
              "바꿔 쓰세요."},
    ("Busy", "busy"): {"en": "The server is busy: {waiting} requests are waiting. Try again in a moment.",
                       "ko": "서버가 바쁩니다. 요청 {waiting}개가 기다리고 있습니다. 잠시 뒤에 다시 시도하세요."},
    ("ImageError", "not_image"): {
        "en": "This file could not be read as an image. Try a JPEG, PNG, WebP or GIF.",
        "ko": "이 파일은 이미지로 읽을 수 없습니다. JPEG, PNG, WebP, GIF 파일을 올려 주세요."},
    ("ImageError", "no_images"): {"en": "None of the files for {domain} could be read as an image.",
                                  "ko": "{domain}에 올린 파일 중 이미지로 읽을 수 있는 것이 없습니다."},
    ("ImageError", "damaged"): {"en": "The image data is damaged or incomplete. Try another copy of the photo.",
                                "ko": "이미지 데이터가 손상되었거나 잘렸습니다. 다른 사진을 올려 주세요."},
    ("ImageError", "too_large_file"): {"en": "The file is {megabytes} MB; the limit is {limit} MB.",
                                       "ko": "파일이 {megabytes}MB입니다. {limit}MB까지 올릴 수 있습니다."},
    ("ImageError", "too_many_pixels"): {
        "en": "The image is larger than {limit} megapixels. Scale it down first.",
        "ko": "이미지가 {limit}메가픽셀보다 큽니다. 크기를 줄여서 올려 주세요."},
    ("ModelUnavailable", "offline"): {
        "en": "{label} is not downloaded on this server, and the server is working offline.",
        "ko": "{label} 모델이 이 서버에 없고, 서버가 오프라인으로 동작하고 있습니다."},
    ("ModelUnavailable", "unreachable"): {
        "en": "{label} is not downloaded on this server, and the Hugging Face Hub cannot be reached right now. "
              "Pick another model, or try again later.",
        "ko": "{label} 모델이 이 서버에 없고, 지금은 Hugging Face Hub에 연결할 수 없습니다. "
              "다른 모델을 고르거나 나중에 다시 시도하세요."},
    ("ModelUnavailable", "not_found"): {
        "en": "{label} was not found on the Hugging Face Hub.",
        "ko": "Hugging Face Hub에서 {label} 모델을 찾을 수 없습니다."},
    ("ModelUnavailable", "denied"): {
        "en": "The Hugging Face Hub refused to hand out {label}.",
        "ko": "Hugging Face Hub가 {label} 모델을 내려받지 못하게 했습니다."},
    # no path, no command: the file and the fix (synth doctor) are in the server's log
    ("ModelDamaged", "damaged"): {
        "en": "{label} is damaged on this server and cannot be used until it is repaired. Pick another model.",
        "ko": "이 서버에 있는 {label} 모델 파일이 손상되어, 복구하기 전에는 쓸 수 없습니다. 다른 모델을 고르세요."},
    ("ModelUnavailable", "incomplete"): {
        "en": "The download of {label} stopped before the end. Try again: what arrived is kept.",
        "ko": "{label} 모델을 내려받다가 끊겼습니다. 다시 시도하면 이어서 받습니다."},
}
_FALLBACK = {"en": "Something went wrong: {message}", "ko": "문제가 생겼습니다: {message}"}
_FETCH_ADVICE = ("offline", "unreachable")  # where downloading on the server is the fix

_STATUS = {
    "ready": {"en": "ready", "ko": "준비됨"},
    "download": {"en": "downloads on first use", "ko": "처음 쓸 때 내려받음"},
    "missing": {"en": "not downloaded, and the Hub cannot be reached",
                "ko": "내려받지 않았고 Hub에 연결할 수 없음"},
    "damaged": {"en": "damaged: cannot be loaded", "ko": "손상되어 불러올 수 없음"},
}


def label(name: str, language: str) -> str:
    """A catalog model's name for people, in `language`; anything else as it is."""
    model = catalog.MODELS.get(name)
    return model.display(language) if model else name


def describe(error: SynthError, language: str = "en") -> str:
    """The message a person sees for `error`."""
    language = language if language in LANGUAGES else "en"
    template = _ERRORS.get((type(error).__name__, error.reason))
    if template is None:
        return _FALLBACK[language].format(message=error)
    name = error.details.get("model") or ""
    message = template[language].format(label=label(name, language), **error.details)
    if error.reason in _FETCH_ADVICE and name in catalog.MODELS:
        message += _ON_THE_SERVER[language].format(name=name)
    return message


def status_word(state: str, language: str = "en") -> str:
    """'ready', 'download', 'missing' or 'damaged' (see ModelCache / hub state) in `language`."""
    return _STATUS[state][language if language in LANGUAGES else "en"]
