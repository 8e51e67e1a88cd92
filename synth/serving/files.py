"""Files handed out to people: named for what they hold, removed after a while, bounded in
total size, and gone when the app exits."""
from __future__ import annotations

import atexit
import shutil
import tempfile
import time
from pathlib import Path

MAX_AGE_SECONDS = 3600       # a page keeps its links this long...
MAX_BYTES = 512 * 1024 ** 2  # ... unless the folder grows past this: the oldest go first


class OutputFiles:
    """A private folder of result files, each in its own subfolder so two requests never
    share a path, pruned whenever a file is added of what is older than `max_age` and, oldest
    first, of what makes it larger than `max_bytes`; removed when the process exits (the web
    server has copied what it serves into its own cache by then)."""

    def __init__(self, prefix: str = "synth-", max_age: float = MAX_AGE_SECONDS, max_bytes: int = MAX_BYTES):
        self.directory = Path(tempfile.mkdtemp(prefix=prefix))
        self.max_age, self.max_bytes = max_age, max_bytes
        atexit.register(self.remove)

    def path(self, what: str, suffix: str) -> Path:
        """A new file path named `<what>-<date>-<time><suffix>`, e.g. kss-ko-20261126-0712.wav."""
        now = time.time()
        self._prune(now)
        folder = Path(tempfile.mkdtemp(dir=self.directory))
        return folder / f"{what}-{time.strftime('%Y%m%d-%H%M%S', time.localtime(now))}{suffix}"

    def _prune(self, now: float) -> None:
        folders = []
        for folder in self.directory.iterdir():
            try:
                stat = folder.stat()
                size = sum(f.stat().st_size for f in folder.iterdir())
            except OSError:  # removed meanwhile by another request's pruning
                continue
            if now - stat.st_mtime > self.max_age:
                shutil.rmtree(folder, ignore_errors=True)
            else:
                folders.append((stat.st_mtime, size, folder))
        total = sum(size for _, size, _ in folders)
        for _, size, folder in sorted(folders):
            if total <= self.max_bytes:
                break
            shutil.rmtree(folder, ignore_errors=True)
            total -= size

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)
