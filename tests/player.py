"""How a streamed <audio> player really plays, recorded in the browser: media events with the
position and the buffered end at each, so a test can tell "the player ran out of audio"
from a seek or a decoder hiccup; and the position every 100 ms, which shows a stall however
the player reports it (Gradio's player seeks by 10 ms when it stands still for 0.75 s)."""
import time

# Media events do not bubble: a capturing listener on the document sees every element's.
RECORD_MEDIA = r"""
(() => {
  if (window.__media) return;
  const log = window.__media = [], samples = window.__positions = [];
  const ids = new WeakMap(); let next = 0;
  const ahead = el => { const b = el.buffered; return b && b.length ? b.end(b.length - 1) - el.currentTime : 0; };
  for (const type of ["playing", "waiting", "seeking", "ended"]) {
    document.addEventListener(type, e => {
      const el = e.target;
      if (!(el instanceof HTMLMediaElement)) return;
      if (!ids.has(el)) ids.set(el, ++next);
      log.push({t: performance.now() / 1000, type, el: ids.get(el), position: el.currentTime,
                ahead: ahead(el), duration: el.duration});
    }, true);
  }
  setInterval(() => document.querySelectorAll("audio").forEach(el => ids.has(el) && samples.push(
    {t: performance.now() / 1000, el: ids.get(el), position: el.currentTime, paused: el.paused})), 100);
})();
"""
SEEK_NUDGE_S = 0.02   # Gradio's player nudges currentTime by +10 ms when it has not moved for 0.75 s
STARVED_S = 0.3       # a `waiting` with less than this buffered ahead: the player ran out of audio
FROZEN_S = 0.4        # the position standing still this long while playing: a stall (4 samples)


def play_and_record(page, click_selector: str, timeout_s: float) -> dict:
    """Click, wait for the first element that plays to end; its events and what they mean."""
    page.evaluate(RECORD_MEDIA)
    page.evaluate("window.__media.length = 0; window.__positions.length = 0")
    page.click(click_selector)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not page.evaluate("window.__media.some(e => e.type === 'ended')"):
        page.wait_for_timeout(100)
    events, samples = page.evaluate("window.__media"), page.evaluate("window.__positions")
    playing = [e for e in events if e["type"] == "playing"]
    mine = [e for e in events if playing and e["el"] == playing[0]["el"]]
    ended = next((e for e in mine if e["type"] == "ended"), None)
    seeks = [e["t"] for e in mine if e["type"] == "seeking"]
    starved = [e for e in mine if e["type"] == "waiting" and e["t"] > playing[0]["t"] and e["ahead"] < STARVED_S
               and not any(abs(e["t"] - s) < SEEK_NUDGE_S for s in seeks)] if playing else []
    return {"events": events, "played": bool(playing), "ended": ended is not None, "starved": starved,
            "frozen": _frozen(samples, playing[0] if playing else None, ended),
            "played_s": ended["position"] if ended else None}


def _frozen(samples: list, first_playing, ended) -> list[tuple[float, float]]:
    """(time, position) where the position stood still >= FROZEN_S between the first
    `playing` and `ended`, the element not paused."""
    if first_playing is None:
        return []
    end = ended["t"] if ended else float("inf")
    mine = [s for s in samples if s["el"] == first_playing["el"] and first_playing["t"] < s["t"] < end]
    frozen, since = [], None
    for before, now in zip(mine, mine[1:]):
        if now["position"] == before["position"] and not now["paused"]:
            since = since or before
            if now["t"] - since["t"] >= FROZEN_S and (not frozen or frozen[-1][1] != since["position"]):
                frozen.append((round(since["t"] - first_playing["t"], 2), since["position"]))
        else:
            since = None
    return frozen


PARAGRAPH = "The first sentence is here. A second one follows it. Then comes a third. And this is the last."


def speak_paragraph(page, url: str) -> dict:
    """PARAGRAPH spoken, streamed, by the English Tacotron2 voice on the page at `url`:
    `play_and_record`'s result (the browser test checks what was played, benchmarks/streaming.py
    whether the player ran out of audio)."""
    page.goto(url)
    page.get_by_role("tab", name="Speech").click()
    page.locator("#voice input").click()
    page.get_by_role("option", name="English (LJSpeech) · Tacotron2").click()
    page.locator("#text textarea").fill(PARAGRAPH)
    return play_and_record(page, "#speak", timeout_s=120)
