"""The page as visitors meet it, in Debian's Chromium: all in Korean for a Korean browser,
readable on a phone and on a projector, and without serious accessibility problems (axe-core).
One app and one browser serve the whole module; screenshots land in test-artifacts/."""
import re
import sys
from pathlib import Path

import pytest
from conftest import free_port

from synth import catalog
from synth.serving import figures, messages

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
PHONE = dict(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, device_scale_factor=3)
PROJECTOR = dict(viewport={"width": 1280, "height": 720})
TABS = {"en": ("Image", "Speech", "About"), "ko": ("이미지", "음성", "소개")}
SPEECH = {"en": ("English (LJSpeech) · Tacotron2", "Hello there. Good day."),
          "ko": ("한국어 (KSS) · FastSpeech2", "안녕하세요. 좋은 아침입니다.")}  # both families, both languages

# Latin-script words a Korean page may show: names of the models and their data sets, of
# software, formats, units and licences, which Korean writing keeps in Latin letters
# ("API를 통해 사용" is Gradio's own Korean for its footer link).
ALLOWED_WORDS = {
    "synth", "CycleGAN", "Tacotron2", "FastSpeech2", "Multi-band", "MelGAN", "Hugging", "Face", "Hub", "TensorFlow", "LiteRT", "Gradio",
    "LJSpeech", "KSS", "Thorsten", "SynPaFlex", "Baker", "API",
    "JPEG", "PNG", "WebP", "GIF", "WAV", "MP3", "FLAC", "Opus", "txt", "WebVTT", "SRT", "MCP", "GPU", "CPU", "Hz", "ms", "px", "KB",
    "MB", "fp32", "int8",
}
# Whole tokens: the files the page offers (kss-ko-20261126-071200.wav, shown also as its stem and
# extension apart), commit SHAs, licences, and the catalog's names and Hub repo ids (whole, and
# their owner and name apart: About lets a repo id break after its "/").
REPO_IDS = {r.display for m in catalog.models() for r in m.repos.values()}
NAMES = {m.name for m in catalog.models()} | REPO_IDS | {part for r in REPO_IDS for part in r.split("/")}
ALLOWED_TOKENS = re.compile("|".join([
    r"[\w-]+-\d{8}-\d{6}(\.\w+)?", r"^\.(png|wav|vtt|srt)$", r"\b[0-9a-f]{7,40}\b", r"Apache-2\.0", r"CC0-1\.0", r"BSD-2-Clause",
    *(re.escape(name) for name in sorted(NAMES, key=len, reverse=True))]))
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*")

# Every visible text node, and the placeholder, aria-label, alt and title of visible elements
# (with the id of the nearest element that has one, to say where).
VISIBLE_TEXT = """() => {
  const visible = (element) => element && element.getClientRects().length > 0 &&
    element.checkVisibility({checkOpacity: true, checkVisibilityCSS: true});
  const where = (element) => (element.closest("[id]") || {}).id || element.tagName;
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!["SCRIPT", "STYLE", "TEXTAREA"].includes(parent.tagName) && node.textContent.trim() && visible(parent))
      found.push({text: node.textContent.trim(), where: where(parent)});
  }
  for (const element of document.body.querySelectorAll("[placeholder], [aria-label], [alt], [title], input")) {
    if (!visible(element)) continue;
    for (const name of ["placeholder", "aria-label", "alt", "title"]) {
      const value = (element.getAttribute(name) || "").trim();
      if (value) found.push({text: value, where: `${where(element)} @${name}`});
    }
    if (element.tagName === "INPUT" && ["text", "search", ""].includes(element.getAttribute("type") || "")
        && element.value.trim())
      found.push({text: element.value.trim(), where: `${where(element)} value`});
  }
  return found;
}"""


def english_words(text: str, where: str) -> list[str]:
    if where.startswith("sentence-examples") and ": " in text:
        text = text.split(": ", 1)[0]  # "voice: sentence": the sentence is content in its own language
    return [w for w in LATIN_WORD.findall(ALLOWED_TOKENS.sub(" ", text)) if w not in ALLOWED_WORDS]


@pytest.fixture(scope="module")
def app_url():
    sys.path.insert(0, str(ROOT))
    import app

    _, url, _ = app.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(), quiet=True)
    yield url
    app.demo.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def open_page(browser, url, lang, device):
    context = browser.new_context(locale="ko-KR" if lang == "ko" else "en-US", **device)
    page = context.new_page()
    page.goto(url)
    page.wait_for_function("document.querySelector('#image-status')?.innerText.trim()")
    # The menu's names come with the status line but settle a moment later (English until then).
    page.wait_for_function("label => document.querySelector('#style input')?.value === label",
                           arg=messages.label("horse2zebra", lang))
    return page


def tab(page, lang, index):
    page.get_by_role("tab", name=TABS[lang][index], exact=True).click()
    page.evaluate("window.scrollTo(0, 0)")


def restyle(page):
    page.locator("#photo input[type=file]").set_input_files(str(ROOT / "assets" / "coffee.jpg"))
    page.locator("#photo img").first.wait_for()
    page.locator("#restyle").click()
    page.locator("#png a").first.wait_for(timeout=60000)
    page.locator("#comparison img").first.wait_for()


def speak(page, lang):
    voice, text = SPEECH[lang]
    page.wait_for_function("document.querySelector('#speech-status')?.innerText.trim()")
    page.locator("#voice input").click()
    page.get_by_role("option", name=voice, exact=True).click()
    page.locator("#text textarea").fill(text)
    page.locator("#speak").click()
    page.locator("#wav a").first.wait_for(timeout=60000)
    page.locator("#subtitles-srt").wait_for()
    page.locator("#read-along .synth-word").first.wait_for()
    page.wait_for_function("document.querySelector('#speech-info')?.innerText.trim()")
    for plot in ("#mel img", "#alignment img"):
        page.locator(plot).wait_for()
        page.wait_for_function(f"document.querySelector('{plot}').naturalWidth > 0")
    page.evaluate("window.scrollTo(0, 0)")


def test_korean_page_has_no_english_left(app_url, browser):
    page = open_page(browser, app_url, "ko", dict(viewport={"width": 1280, "height": 900}))
    seen = page.evaluate(VISIBLE_TEXT)  # the empty page: upload area, empty results
    restyle(page)
    seen += page.evaluate(VISIBLE_TEXT)
    tab(page, "ko", 1)
    page.wait_for_function("document.querySelector('#speech-status')?.innerText.trim()")
    seen += page.evaluate(VISIBLE_TEXT)
    speak(page, "ko")
    seen += page.evaluate(VISIBLE_TEXT)
    tab(page, "ko", 2)
    page.locator("#about .synth-card").first.wait_for()
    seen += page.evaluate(VISIBLE_TEXT)
    page.context.close()

    texts = {item["text"] for item in seen}
    assert "변환" in texts and "말하기" in texts and "모델" in texts  # the walk saw all three tabs
    assert any(t.startswith("한국어 (KSS) · Tacotron2: ") for t in texts)  # example labels name the voice in Korean
    assert {"음높이", "세기 (소리 크기)", "길이: FastSpeech2가 각 기호에 준 프레임 수"} <= texts  # its controls and plot
    assert {"변환 전 사진", "변환된 사진"} <= texts  # the before/after pair has alt text
    english = sorted({f"{item['where']}: {item['text']!r}" for item in seen
                      if english_words(item["text"], item["where"])})
    assert not english, "English left on the Korean page:\n" + "\n".join(english)


def _page_width_problems(page) -> list[str]:
    return page.evaluate("""() => {
      const problems = [];
      if (document.documentElement.scrollWidth > window.innerWidth)
        problems.push(`page scrolls sideways: ${document.documentElement.scrollWidth} > ${window.innerWidth}`);
      return problems;
    }""")


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("device_name, device", [("phone", PHONE), ("projector", PROJECTOR)])
def test_layout(app_url, browser, device_name, device, lang):
    page = open_page(browser, app_url, lang, device)
    height = device["viewport"]["height"]
    shot = lambda name: page.screenshot(path=ARTIFACTS / f"{device_name}-{lang}-{name}.png",  # noqa: E731
                                        full_page=True, scale="css")

    def in_first_screen(selector):
        bottom = page.locator(selector).evaluate("e => e.getBoundingClientRect().bottom + window.scrollY")
        assert bottom <= height, f"{selector} ends {bottom:.0f} px down, below the first screen ({height} px)"

    restyle(page)
    page.evaluate("window.scrollTo(0, 0)")
    in_first_screen("#restyle")  # with a photo in place
    assert _page_width_problems(page) == []
    shot("image")

    tab(page, lang, 1)
    in_first_screen("#text textarea")  # the old page had it 1,100 px down on a phone
    in_first_screen("#speak")
    speak(page, lang)
    assert _page_width_problems(page) == []
    if device_name == "phone":  # the columns stack: what Speak made comes before the examples
        player, examples = (page.locator(s).evaluate("e => e.getBoundingClientRect().top")
                            for s in ("#player", "#sentence-examples"))
        assert player < examples
    for plot in ("#mel img", "#alignment img"):
        shown, natural = page.locator(plot).evaluate("e => [e.clientWidth, e.naturalWidth]")
        font_px = figures.FONT_POINTS * figures.DPI / 72 * shown / natural
        assert font_px >= 10, f"{plot}: text {font_px:.1f} px tall ({shown} of {natural} px wide)"
    shot("speech")
    # The read-along with what the model read, a word marked: the first one that lasts (the tiny
    # Tacotron2's attention reads most words in no time), the player sought to its start.
    page.locator("#show-read input").check()
    page.locator("#read-along rt").first.wait_for()
    word = page.locator("#read-along .synth-word").evaluate_all(
        "words => words.map(w => [w.firstChild.firstChild.textContent, +w.dataset.start, +w.dataset.end])"
        ".find(([, start, end]) => end > start)")
    page.evaluate("t => { const a = document.querySelector('#player audio'); a.pause(); a.currentTime = t; }",
                  (word[1] + word[2]) / 2)
    page.wait_for_function("document.querySelectorAll('#read-along .synth-current').length === 1")
    assert page.locator("#read-along .synth-current ruby").evaluate("r => r.firstChild.textContent") == word[0]
    assert _page_width_problems(page) == []
    page.locator("#read-along").scroll_into_view_if_needed()
    page.screenshot(path=ARTIFACTS / f"{device_name}-{lang}-read-along.png", scale="css")

    tab(page, lang, 2)
    page.locator("#about .synth-card").first.wait_for()
    assert _page_width_problems(page) == []
    too_wide = page.locator("#about").evaluate("""about => [about, ...about.querySelectorAll('*')]
      .filter(e => { const r = e.getBoundingClientRect(); return r.width && (r.left < 0 || r.right > innerWidth); })
      .map(e => e.outerHTML.slice(0, 80))""")
    assert too_wide == []
    shot("about")
    page.context.close()


@pytest.mark.parametrize("device_name, device, lang", [
    ("desktop", dict(viewport={"width": 1280, "height": 900}), "en"), ("phone", PHONE, "en"),
    ("desktop", dict(viewport={"width": 1280, "height": 900}), "ko")])
def test_accessibility(app_url, browser, device_name, device, lang):
    """axe-core on each tab, results shown: no serious or critical problem."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    page = open_page(browser, app_url, lang, device)
    problems = []

    def audit(tab_name):
        for violation in axe.run(page).response["violations"]:
            if violation["impact"] in ("serious", "critical"):
                problems.extend(f"{tab_name}: {violation['id']} ({violation['impact']}) {node['target']}: "
                                f"{node['failureSummary']}" for node in violation["nodes"])

    restyle(page)
    audit("Image")
    tab(page, lang, 1)
    speak(page, lang)
    audit("Speech")
    tab(page, lang, 2)
    page.locator("#about .synth-card").first.wait_for()
    audit("About")
    page.context.close()
    assert not problems, "\n".join(problems)
