"""A fake Hugging Face Hub on 127.0.0.1: the endpoints snapshot_download uses, serving repos
from local folders, so that downloads are tested without the network."""
import hashlib
import json
import re
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

SHA = "0123456789abcdef0123456789abcdef01234567"


class FakeHub(ThreadingHTTPServer):
    """The endpoints snapshot_download uses (model info, tree listing, file HEAD/GET), serving
    repos from local folders. It records every request and can refuse or break on demand."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _FakeHubHandler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.repos: dict[str, tuple[str, Path]] = {}    # repo id -> (commit, folder)
        self.requests: list[tuple[str, str, str | None]] = []  # (method, path, Range header)
        self.refuse: int | None = None  # answer every API request with this status (401, 403)
        self.break_file: str | None = None  # cut this file's first GET half way, then answer 503
        self.delay = 0.0  # seconds before each file's body: a slow network, for progress to show

    def add(self, repo_id: str, folder: Path, commit: str = SHA) -> None:
        self.repos[repo_id] = (commit, folder)

    def fetched(self) -> set[str]:
        """Files downloaded (GET) since the requests were last cleared."""
        return {path.split("/resolve/")[1].split("/", 1)[1] for method, path, _ in self.requests
                if method == "GET" and "/resolve/" in path}


class _FakeHubHandler(BaseHTTPRequestHandler):
    server: FakeHub

    def log_message(self, *args):  # quiet: the test output is the assertions
        pass

    def do_HEAD(self):
        self._answer(with_body=False)

    def do_GET(self):
        self._answer(with_body=True)

    def _send(self, status: int, headers: dict, body: bytes = b"") -> None:
        self.send_response(status)
        for key, value in {"Content-Length": str(len(body)), **headers}.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command == "GET":
            self.wfile.write(body)

    def _json(self, data) -> None:
        self._send(200, {"Content-Type": "application/json"}, json.dumps(data).encode())

    def _answer(self, with_body: bool) -> None:
        hub_ = self.server
        path = unquote(urlsplit(self.path).path)
        hub_.requests.append((self.command, path, self.headers.get("Range")))
        api = re.fullmatch(r"/api/models/([^/]+/[^/]+)/(revision|tree)/([^/]+)", path)
        resolve = re.fullmatch(r"/([^/]+/[^/]+)/resolve/([^/]+)/(.+)", path)
        repo_id, revision = (api or resolve).group(1, 3 if api else 2)
        if api and hub_.refuse:
            # the Hub's own error codes, which huggingface_hub turns into its typed errors
            return self._send(hub_.refuse, {"X-Error-Code": "GatedRepo"} if hub_.refuse == 401 else {})
        if repo_id not in hub_.repos:
            return self._send(404, {"X-Error-Code": "RepoNotFound"})  # what a signed-in user gets
        commit, folder = hub_.repos[repo_id]
        if revision not in (commit, "main"):
            return self._send(404, {"X-Error-Code": "RevisionNotFound"})
        files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
        if api and api.group(2) == "revision":
            return self._json({"id": repo_id, "sha": commit, "siblings": [{"rfilename": f} for f in files]})
        if api:
            return self._json([{"type": "file", "path": f, "size": (folder / f).stat().st_size,
                                "oid": hashlib.sha1((folder / f).read_bytes()).hexdigest()} for f in files])
        name = resolve.group(3)
        if name not in files:
            return self._send(404, {"X-Error-Code": "EntryNotFound", "X-Repo-Commit": commit})
        body = (folder / name).read_bytes()
        headers = {"ETag": f'"{hashlib.sha256(body).hexdigest()}"', "X-Repo-Commit": commit}
        if not with_body:
            return self._send(200, {**headers, "Content-Length": str(len(body))})
        if name == hub_.break_file:
            if any(m == "GET" and p == path for m, p, _ in hub_.requests[:-1]):
                return self._send(503, {})  # the retry within the same call fails too
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[:len(body) // 2])  # then the connection closes (HTTP/1.0)
            return
        time.sleep(hub_.delay)
        start = int(re.fullmatch(r"bytes=(\d+)-", self.headers["Range"]).group(1)) if self.headers["Range"] else 0
        if start:
            headers["Content-Range"] = f"bytes {start}-{len(body) - 1}/{len(body)}"
        self._send(206 if start else 200, headers, body[start:])
