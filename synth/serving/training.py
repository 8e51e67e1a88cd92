"""A training run followed from a page: the run works on a thread of its own and hands
over its progress (sample grid, losses) as it makes it; a page that goes away stops it."""
from __future__ import annotations

import queue
import threading
from typing import Iterator

from synth.image.train import Progress, Trainer


def follow(trainer: Trainer, minutes: float, every: int) -> Iterator[Progress]:
    """Train for `minutes` (a checkpoint, a grid and the loss curves every `every` steps and
    at the end), yielding each Progress as it comes."""
    updates: queue.Queue = queue.Queue()
    stop = threading.Event()

    def report(progress: Progress) -> bool:
        updates.put(progress)
        return not stop.is_set()

    def work():
        try:
            trainer.train(minutes=minutes, every=every, callback=report, progress=False)
        except BaseException as e:  # handed to the page, raised there
            updates.put(e)
        finally:
            updates.put(None)

    threading.Thread(target=work, name="synth-train", daemon=True).start()
    try:
        while (item := updates.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()  # the page went away: the run stops at its next report
