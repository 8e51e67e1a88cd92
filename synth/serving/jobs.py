"""Turns at the models, shared by every door into the app (the page, the OpenAI-shaped
API): at most `limit` model calls of one kind run at once, granted in the order they were
asked for, and at most `max_waiting` wait; so no door can starve another or run more
model calls than the machine was sized for."""
from __future__ import annotations

import collections
import contextlib
import threading

from synth.errors import Busy


class Slots:
    def __init__(self, limit: int, max_waiting: int):
        self.limit, self.max_waiting = limit, max_waiting
        self._changed = threading.Condition()
        self._waiting: collections.deque = collections.deque()
        self.running = 0

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def check(self) -> None:
        """Busy now if a new request would have to wait and the waiting line is full."""
        with self._changed:
            self._check()

    def _check(self) -> None:
        if self.running >= self.limit and len(self._waiting) >= self.max_waiting:
            raise Busy(f"the server is busy: {len(self._waiting)} requests are waiting; try again in a moment",
                       reason="busy", waiting=len(self._waiting))

    @contextlib.contextmanager
    def hold(self):
        """Wait for a turn (first come, first served), run, hand the turn on."""
        turn = object()
        with self._changed:
            self._check()
            self._waiting.append(turn)
            try:
                while self.running >= self.limit or self._waiting[0] is not turn:
                    self._changed.wait()
            finally:  # served, or given up: either way out of the line, and the next one looks
                self._waiting.remove(turn)
                self._changed.notify_all()
            self.running += 1
        try:
            yield
        finally:
            with self._changed:
                self.running -= 1
                self._changed.notify_all()
