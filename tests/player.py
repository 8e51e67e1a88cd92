"""How a streamed <audio> player really plays, recorded in the browser: media events with the
position and the buffered end at each, so a test can tell "the player ran out of audio"
from a seek or a decoder hiccup."""
import time

# Media events do not bubble: a capturing listener on the document sees every element's.
RECORD_MEDIA = r"""
(() => {
  if (window.__media) return;
  const log = window.__media = [];
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
})();
"""
SEEK_NUDGE_S = 0.02   # Gradio's player nudges currentTime by +10 ms when it has not moved for 0.75 s
STARVED_S = 0.3       # a `waiting` with less than this buffered ahead: the player ran out of audio


def play_and_record(page, click_selector: str, timeout_s: float) -> dict:
    """Click, wait for the first element that plays to end; its events and what they mean."""
    page.evaluate(RECORD_MEDIA)
    page.evaluate("window.__media.length = 0")
    page.click(click_selector)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not page.evaluate("window.__media.some(e => e.type === 'ended')"):
        page.wait_for_timeout(100)
    events = page.evaluate("window.__media")
    playing = [e for e in events if e["type"] == "playing"]
    mine = [e for e in events if playing and e["el"] == playing[0]["el"]]
    ended = next((e for e in mine if e["type"] == "ended"), None)
    seeks = [e["t"] for e in mine if e["type"] == "seeking"]
    starved = [e for e in mine if e["type"] == "waiting" and e["t"] > playing[0]["t"] and e["ahead"] < STARVED_S
               and not any(abs(e["t"] - s) < SEEK_NUDGE_S for s in seeks)] if playing else []
    return {"events": events, "played": bool(playing), "ended": ended is not None, "starved": starved,
            "played_s": ended["position"] if ended else None}
