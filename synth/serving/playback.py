"""Feeding a streamed player (Gradio's `gr.Audio(streaming=True)`, HLS in the browser) so
that, once it plays, it never waits for audio that is already made.

Why it stalled when each sentence was yielded whole (measured in Chromium): Gradio's encoder
publishes only what it has finished encoding when the next piece of audio arrives, so a
sentence reached the playlist one yield late (the last one only after the WAV and figures
were made); and hls.js re-reads the playlist about once per last-segment length, so a
player that had one long sentence waited up to that long for the next. Hence: small pieces
(each yield publishes the one before), a tick while the next sentence is being made (it
publishes the tail), a short lead before the rest (hls.js does not open on a one-sentence
playlist), and a stream that ends as soon as the audio is out.
"""
from __future__ import annotations

import queue
import threading
import time
from typing import Iterable, Iterator

import numpy as np

from synth.speech import SpeechChunk

PIECE_SECONDS = 0.25  # audio per yield
LEAD_SECONDS = 0.1    # the first yield: this much of the first sentence, ...
HOLD_SECONDS = 0.3    # ... then a pause, so that the player's first playlist holds almost nothing
TICK_SECONDS = 0.1    # while the next sentence is being made, a tick this often, ...
MAX_TICKS = 5         # ... at most this many after each sentence
TICK = np.zeros(1, np.int16)  # one sample of silence (45 µs): makes the encoder publish its tail


def _made_aside(chunks: Iterable[SpeechChunk]) -> Iterator[SpeechChunk | None]:
    """The chunks, made on a worker thread; None every TICK_SECONDS while one is being made."""
    made: queue.Queue = queue.Queue()
    stop, done = threading.Event(), object()

    def work():
        try:
            for chunk in chunks:
                made.put(chunk)
                if stop.is_set():
                    break
        except BaseException as e:  # raised again in the caller's thread
            made.put(e)
        made.put(done)

    threading.Thread(target=work, name="synth-playback", daemon=True).start()
    try:
        while True:
            try:
                item = made.get(timeout=TICK_SECONDS)
            except queue.Empty:
                yield None
                continue
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()


def _cuts(samples: int, rate: int, first: bool) -> list[tuple[int, int]]:
    step = int(PIECE_SECONDS * rate)
    cuts = [*range(0, samples, step), samples]
    if first:
        lead = min(int(LEAD_SECONDS * rate), samples)
        cuts = sorted({0, lead, *(c for c in cuts if c > lead)})
    return list(zip(cuts, cuts[1:]))


def feed(chunks: Iterable[SpeechChunk], spoken: list[SpeechChunk]) -> Iterator[tuple[int, np.ndarray]]:
    """(sample rate, PCM16 piece) to hand to the player, in order. Each chunk is appended to
    `spoken` as it arrives, so the caller has the whole speech when this ends."""
    ticks = MAX_TICKS
    for chunk in _made_aside(chunks):
        if chunk is None:
            # never before the first audio: a stream opened empty costs hls.js a 1 s retry
            if spoken and ticks < MAX_TICKS:
                ticks += 1
                yield spoken[-1].sample_rate, TICK
            continue
        spoken.append(chunk)
        ticks = 0
        pcm = chunk.pcm16()  # PCM16: Gradio would scale each float piece to its own peak
        first = len(spoken) == 1
        for start, end in _cuts(len(pcm), chunk.sample_rate, first):
            yield chunk.sample_rate, pcm[start:end]
            if first and start == 0:
                time.sleep(HOLD_SECONDS)
