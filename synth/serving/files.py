"""Files handed out to people: named for what they hold, removed after a while."""
from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

MAX_AGE_SECONDS = 3600  # a page keeps its links this long


class OutputFiles:
    """A private folder of result files, each in its own subfolder so two requests never
    share a name, pruned of anything older than `max_age` whenever a file is added."""

    def __init__(self, prefix: str = "synth-", max_age: float = MAX_AGE_SECONDS):
        self.directory = Path(tempfile.mkdtemp(prefix=prefix))
        self.max_age = max_age

    def path(self, what: str, suffix: str) -> Path:
        """A new file path named `<what>-<date>-<time><suffix>`, e.g. kss-ko-20261126-0712.wav."""
        now = time.time()
        for old in self.directory.iterdir():
            if now - old.stat().st_mtime > self.max_age:
                shutil.rmtree(old, ignore_errors=True)
        folder = Path(tempfile.mkdtemp(dir=self.directory))
        return folder / f"{what}-{time.strftime('%Y%m%d-%H%M%S', time.localtime(now))}{suffix}"
