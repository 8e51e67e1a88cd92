"""What one client may take of the server.

Uploads need no session, so without a bound one client could fill the disk (475 MB in 2.3 s
was measured). Each client (its address, or behind a proxy the first address the proxy
forwards) may upload `max_bytes` per `window` seconds; past that, the upload is refused with
429 and a sentence saying when to try again.

Jobs: a client holds at most so many waiting or running (`JobLimit`), and a job that nobody
reads (posted to /call/<name> and never fetched) is dropped before it runs."""
from __future__ import annotations

import collections
import json
import logging
import threading
import time
from urllib.parse import parse_qs

from gradio.server_messages import ProcessCompletedMessage

log = logging.getLogger(__name__)

UPLOAD_ROUTES = ("/upload", "/process_recording")  # Gradio's routes that take a file
MESSAGES = {
    "en": "You have uploaded {used} MB in the last {minutes} minutes; the limit is {limit} MB. "
          "Try again in {wait} s.",
    "ko": "최근 {minutes}분 동안 {used}MB를 올렸습니다. 한도는 {limit}MB입니다. {wait}초 뒤에 다시 시도하세요.",
}


class UploadQuota:
    """Bytes each client may upload in a sliding window."""

    def __init__(self, max_bytes: int, window: float):
        self.max_bytes, self.window = max_bytes, window
        self._sent: dict[str, collections.deque] = collections.defaultdict(collections.deque)
        self._lock = threading.Lock()

    def take(self, client: str, size: int, now: float | None = None) -> float:
        """0 if `client` may upload `size` bytes now (they are counted); else the seconds
        until it may."""
        now = time.monotonic() if now is None else now
        with self._lock:
            sent = self._sent[client]
            while sent and now - sent[0][0] > self.window:
                sent.popleft()
            used = sum(n for _, n in sent)
            if sent and used + size > self.max_bytes:
                return self.window - (now - sent[0][0])
            sent.append((now, size))
            return 0.0

    def used(self, client: str) -> int:
        with self._lock:
            return sum(n for _, n in self._sent.get(client, ()))


def client_of(scope: dict, behind_proxy: bool) -> str:
    """The client's address; behind a proxy (Spaces), the first one it forwards."""
    if behind_proxy:
        for name, value in scope.get("headers", ()):
            if name == b"x-forwarded-for":
                return value.decode("latin-1").split(",")[0].strip()
    return (scope.get("client") or ("unknown",))[0]


class UploadLimit:
    """ASGI middleware: POSTs to an upload route count against the client's quota, by their
    declared length (a body without one counts as `unknown_size`)."""

    def __init__(self, app, quota: UploadQuota, behind_proxy: bool = False, unknown_size: int = 0):
        self.app, self.quota, self.behind_proxy, self.unknown_size = app, quota, behind_proxy, unknown_size

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"].endswith(UPLOAD_ROUTES):
            headers = dict(scope.get("headers", ()))
            length = headers.get(b"content-length")
            size = int(length) if length and length.isdigit() else self.unknown_size
            client = client_of(scope, self.behind_proxy)
            wait = self.quota.take(client, size)
            if wait:
                language = "ko" if headers.get(b"accept-language", b"").lower().startswith(b"ko") else "en"
                detail = MESSAGES[language].format(used=self.quota.used(client) // 10**6, limit=self.quota.max_bytes // 10**6,
                                                   minutes=round(self.quota.window / 60), wait=max(1, round(wait)))
                body = json.dumps({"detail": detail}, ensure_ascii=False).encode()
                await send({"type": "http.response.start", "status": 429,
                            "headers": [(b"content-type", b"application/json"), (b"retry-after", str(round(wait)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


JOB_MESSAGES = {
    "en": "You already have {count} requests waiting or running (at most {limit} at a time from {where}). "
          "Wait for one to finish, then try again.",
    "ko": "이미 요청 {count}개가 기다리거나 실행 중입니다 ({where}에서 한 번에 {limit}개까지). 하나가 끝난 뒤 다시 "
          "시도하세요.",
}
_WHERE = {"en": ("this page", "your address"), "ko": ("이 페이지", "같은 주소")}


class ResultReaders:
    """ASGI middleware counting the open result streams: the page's and gradio_client's
    (`/queue/data?session_hash=S`, by session) and the HTTP API's (`/call/<name>/<event id>`,
    by event), so that a job nobody waits for can be told from one somebody does."""

    def __init__(self, app, readers: collections.Counter):
        self.app, self.readers = app, readers

    async def __call__(self, scope, receive, send):
        key = _reader_key(scope) if scope["type"] == "http" and scope["method"] == "GET" else None
        if key is None:
            return await self.app(scope, receive, send)
        self.readers[key] += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.readers[key] -= 1
            if not self.readers[key]:
                del self.readers[key]


def _reader_key(scope: dict) -> str | None:
    path = scope["path"].rstrip("/")
    if path.endswith("/queue/data"):
        return parse_qs(scope.get("query_string", b"").decode("latin-1")).get("session_hash", [None])[0]
    parts = path.split("/")
    if len(parts) >= 4 and parts[-3] == "call" or len(parts) >= 5 and parts[-4:-2] == ["call", "v2"]:
        return parts[-1]
    return None


DROPPED = "Nobody read this request's result for {seconds:g} s, so it was dropped before it ran."


class JobLimit:
    """A fair share of a Gradio queue: at most `per_session` jobs waiting or running for one
    page (its session) and `per_address` for one address (a class behind one address shares
    it). A job past the limit is refused at once (503, this sentence) instead of queueing,
    so one client cannot fill the queue for everyone. A job whose result nobody has been
    reading for `unread_seconds` when its turn comes is dropped, and its slot given to the
    next (a late reader hears why)."""

    def __init__(self, per_session: int, per_address: int, behind_proxy: bool = False, unread_seconds: float = 20):
        self.per_session, self.per_address, self.behind_proxy = per_session, per_address, behind_proxy
        self.unread_seconds = unread_seconds
        self.readers: collections.Counter = collections.Counter()  # filled by a ResultReaders middleware

    def install(self, queue) -> None:
        """Check every job `queue` (a Gradio Queue) is given before it takes it, and every
        job it is about to start."""
        push, get_events = queue.push, queue.get_events

        async def fair_push(body, request, username):
            refusal = self.refusal(queue.event_ids_to_events.values(), body.session_hash, request)
            if refusal:
                return False, refusal, "queue_full"
            return await push(body, request, username)

        def read_events():
            self.drop_unread(queue)
            return get_events()

        queue.push, queue.get_events = fair_push, read_events

    def drop_unread(self, queue) -> None:
        """Take out of `queue` the waiting jobs nobody has read for `unread_seconds` (called
        under the queue's lock); each one's stream gets an error saying why."""
        now = time.monotonic()
        for waiting in queue.event_queue_per_concurrency_id.values():
            for event in list(waiting.queue):
                if now - event.enqueue_time < self.unread_seconds or self.reading(event):
                    continue
                waiting.queue.remove(event)
                queue.event_ids_to_events.pop(event._id, None)
                queue.send_message(event, ProcessCompletedMessage(
                    output={"error": DROPPED.format(seconds=self.unread_seconds)}, success=False))
                log.info("dropped a job for %s: nobody read its result for %g s", event.fn.api_name,
                         self.unread_seconds)

    def reading(self, event) -> bool:
        """Whether a stream is open for `event`'s result (by its session or its own id)."""
        return self.readers[event.session_hash] > 0 or self.readers[event._id] > 0

    def refusal(self, events, session: str | None, request) -> str | None:
        """The sentence refusing one more job from `request`'s client, or None."""
        client = client_of(request.scope, self.behind_proxy)
        events = list(events)
        same_page = sum(1 for e in events if session is not None and e.session_hash == session)
        same_address = sum(1 for e in events if client_of(e.request.scope, self.behind_proxy) == client)
        language = "ko" if request.headers.get("accept-language", "").lower().startswith("ko") else "en"
        for count, limit, where in ((same_page, self.per_session, 0), (same_address, self.per_address, 1)):
            if count >= limit:
                return JOB_MESSAGES[language].format(count=count, limit=limit, where=_WHERE[language][where])
        return None
