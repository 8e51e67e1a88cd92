"""One text-to-mel model shared by every visitor: what waits for it is decoded together.

A Tacotron2 batch of five sentences costs about twice one sentence on a CPU, so when a class
asks at once, decoding the sentences of different visitors in one batch serves them about
2.5x faster than taking them in turn. Each request still gets its own mels back, and still
streams its own audio (vocoding stays in the request's thread).

How: the first caller to find the model idle decodes, for everyone, the oldest waiting
request together with the waiting ones that ask for the same options (speed, pitch,
energy, steps, seed), up to `max_items` sentences; the others wait for their turn or their
result. Requests are served oldest first.
"""
from __future__ import annotations

import threading
from typing import Callable

from synth.speech.mel import MelOutput, SpeechOptions

ToMel = Callable[[list[list[int]], SpeechOptions], MelOutput]


class _Request:
    def __init__(self, ids: list[list[int]], options: SpeechOptions):
        self.ids, self.options = ids, options
        self.output: MelOutput | None = None
        self.error: BaseException | None = None
        self.done = False

    @property
    def key(self) -> tuple:
        """Options that must be equal for two requests to share a model call."""
        o = self.options
        return o.speed, o.pitch, o.energy, o.max_steps, o.seed


class Batcher:
    """A model's `to_mel`, callable from many threads at once (same signature)."""

    def __init__(self, to_mel: ToMel, max_items: int):
        self._to_mel, self.max_items = to_mel, max_items
        self._waiting: list[_Request] = []
        self._changed = threading.Condition()
        self._decoding = False
        self.calls = 0  # model calls made: fewer than requests when batching helped

    def __call__(self, ids: list[list[int]], options: SpeechOptions) -> MelOutput:
        request = _Request(list(ids), options)
        with self._changed:
            self._waiting.append(request)
        while True:
            with self._changed:
                while self._decoding and not request.done:
                    self._changed.wait()
                if request.done:
                    if request.error is not None:
                        raise request.error
                    return request.output
                self._decoding = True
                batch = self._take()
            try:
                self._decode(batch)
            finally:
                with self._changed:
                    self._decoding = False
                    self._changed.notify_all()

    def _take(self) -> list[_Request]:
        """The oldest request, and the later ones that can join it, out of the line."""
        first = self._waiting[0]
        batch, items = [], 0
        for request in list(self._waiting):
            if request.key == first.key and (not batch or items + len(request.ids) <= self.max_items):
                batch.append(request)
                items += len(request.ids)
                self._waiting.remove(request)
        return batch

    def _decode(self, batch: list[_Request]) -> None:
        self.calls += 1
        try:
            out = self._to_mel([ids for request in batch for ids in request.ids], batch[0].options)
        except BaseException as e:  # every request of the batch hears of it
            for request in batch:
                request.error, request.done = e, True
            return
        start = 0
        for request in batch:
            end = start + len(request.ids)
            request.output = MelOutput(out.mels[start:end],
                                       out.alignments[start:end] if out.alignments is not None else None,
                                       out.durations[start:end] if out.durations is not None else None)
            request.done, start = True, end
