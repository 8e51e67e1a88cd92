"""What a stranger can ask of the server and must not get (issue #15), against the real app
on a local port (models from the fake Hugging Face cache, offline), over plain HTTP:

- no file outside Gradio's own folders through any file route (traversal, encoded
  traversal, absolute paths, the app's own files, model weights, a temporary file): 403;
- uploads named `../…` are stored under their base name, inside Gradio's upload folder;
- a FileData URL (or an MCP photo URL) pointing at this machine is refused, and nothing
  reaches the local listener it names; `file://` too;
- an upload over the app's size limit is answered 413 (a streamed body, never all read);
- a decompression bomb is refused before it is decoded, and the server goes on serving;
- 100,000 characters to speak are refused with the sentence saying how long they were.
"""
import asyncio
import http.client
import http.server
import io
import os
import secrets
import struct
import sys
import tempfile
import threading
import urllib.parse
import urllib.request
import zlib
from pathlib import Path

import httpx
import pytest
from conftest import HF_HOME, free_port
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image, ImageFile

ROOT = Path(__file__).parent.parent
NOT_SERVED = b"root:x:0:0"  # the first line of /etc/passwd


@pytest.fixture(scope="module")
def app_url():
    sys.path.insert(0, str(ROOT))
    import app

    _, url, _ = app.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(), quiet=True)
    yield url.rstrip("/")
    app.demo.close()


@pytest.fixture(scope="module")
def port(app_url):
    return int(app_url.rsplit(":", 1)[1])


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False)


@pytest.fixture(scope="module")
def upload_dir():
    from gradio import utils

    return Path(utils.get_upload_folder()).resolve()


def _get_raw(port: int, path: str) -> tuple[int, bytes]:
    """GET `path` exactly as written: http.client neither normalises `..` nor re-encodes."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


# -- the upload limit (first in the module: the app's per-client upload quota lets a client's
# first upload through whatever its size) ---------------------------------------------------
BOUNDARY = "synth-security-boundary"


def _multipart(size: int, filename: str, field: str = "files"):
    """A multipart body carrying `size` zero bytes as one file, made as it is sent (never all
    in memory), and its length (declared, so the server can count it)."""
    head = (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
            f"Content-Type: image/jpeg\r\n\r\n").encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()

    def body():
        yield head
        chunk, sent = bytes(1 << 20), 0
        while sent < size:
            piece = chunk[:min(len(chunk), size - sent)]
            sent += len(piece)
            yield piece
        yield tail

    return body(), len(head) + size + len(tail)


def _post_file(app_url: str, route: str, size: int, filename: str, field: str = "files") -> httpx.Response:
    body, length = _multipart(size, filename, field)
    return httpx.post(app_url + route, content=body, timeout=60,
                      headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                               "Content-Length": str(length)})


@pytest.mark.parametrize("route, field", [("/gradio_api/upload", "files"), ("/gradio_api/process_recording", "video")])
@pytest.mark.parametrize("over", [1, 25 * 2**20], ids=["one-byte-over", "25MB"])
def test_upload_over_the_limit_is_413(app_url, upload_dir, route, field, over):
    import app
    from gradio.utils import _parse_file_size

    limit = app.demo.max_file_size
    # app.MAX_FILE_SIZE ("20mb" by default, 2 MB in the tests: conftest) is what Gradio enforces
    assert limit == _parse_file_size(app.MAX_FILE_SIZE) > 0
    name = f"too-big-{secrets.token_hex(6)}.jpg"
    response = _post_file(app_url, route, limit + over, name, field)
    assert response.status_code == 413
    assert response.text == f"File size exceeded maximum allowed size of {limit} bytes."
    assert not list(upload_dir.glob(f"*/{name}"))  # nothing of it kept


def test_upload_under_the_limit_is_stored(app_url, upload_dir):
    import app

    name = f"just-under-{secrets.token_hex(6)}.jpg"
    response = _post_file(app_url, "/gradio_api/upload", app.demo.max_file_size - 4096, name)
    assert response.status_code == 200
    (stored,) = response.json()
    assert Path(stored).parent.parent == upload_dir and Path(stored).name == name
    assert Path(stored).stat().st_size == app.demo.max_file_size - 4096


# -- uploads named to escape -----------------------------------------------------------------
@pytest.mark.parametrize("name, stored_as", [
    ("../../../{x}.png", "{x}.png"),
    ("a/../../{x}.png", "{x}.png"),
    ("....//{x}.png", "{x}.png"),
    ("/tmp/{x}.png", "{x}.png"),
    ("~/{x}.png", "{x}.png"),
    ("..\\..\\{x}.png", "....{x}.png"),  # backslashes are dropped, not read as folders
    ("..%2F..%2F{x}.png", "..%2F..%2F{x}.png"),  # a name, not a path: kept as written
])
def test_upload_named_with_dot_dot_is_stored_by_base_name(app_url, upload_dir, name, stored_as):
    x = f"synth-escape-{secrets.token_hex(6)}"
    content = f"upload {x}".encode()
    response = httpx.post(app_url + "/gradio_api/upload", files={"files": (name.format(x=x), content, "image/png")})
    assert response.status_code == 200
    (stored,) = map(Path, response.json())
    assert stored.name == stored_as.format(x=x)
    assert stored.parent.parent == upload_dir and len(stored.parent.name) == 64  # <upload dir>/<sha256>/<name>
    assert stored.read_bytes() == content
    for elsewhere in {upload_dir, upload_dir.parent, Path(tempfile.gettempdir()), Path("/tmp"), Path.cwd(), ROOT,
                      Path.home()}:
        assert not list(elsewhere.glob(f"*{x}*")), elsewhere
    # and it is served back from there (so the 403s below are refusals, not a broken route)
    served = httpx.get(app_url + "/gradio_api/file=" + urllib.parse.quote(str(stored)))
    assert served.status_code == 200 and served.content == content


@pytest.mark.parametrize("name", ["..", "foo/.."])
def test_upload_named_dot_dot_alone_is_refused(app_url, name):
    response = httpx.post(app_url + "/gradio_api/upload", files={"files": (name, b"x", "image/png")})
    assert response.status_code == 400 and response.json() == {"detail": "Invalid file name: .."}


# -- file routes -----------------------------------------------------------------------------
FILE_ROUTES = ["/gradio_api/file=", "/gradio_api/file/"]       # serve files by path
STATIC_ROUTES = ["/static/", "/assets/", "/svelte/"]           # serve Gradio's own front end
TRAVERSALS = {
    "absolute": "/etc/passwd",
    "absolute-encoded": "%2Fetc%2Fpasswd",
    "double-slash": "//etc/passwd",
    "dot-dot": "../../../../../../../../etc/passwd",
    "dot-dot-encoded-slash": "..%2F..%2F..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "dot-dot-encoded-dots": "%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "dot-dot-backslash": "..%5C..%5C..%5C..%5C..%5C..%5C..%5C..%5Cetc%5Cpasswd",
    "through-the-upload-dir": "{upload_dir}/../../../../../../../etc/passwd",
    "proc": "/proc/self/environ",
}


def _expand(target: str, upload_dir: Path) -> str:
    return target.format(upload_dir=upload_dir)


@pytest.mark.parametrize("route", FILE_ROUTES + STATIC_ROUTES)
@pytest.mark.parametrize("target", TRAVERSALS.values(), ids=TRAVERSALS.keys())
def test_file_routes_refuse_traversal_and_absolute_paths(port, upload_dir, route, target):
    status, body = _get_raw(port, route + _expand(target, upload_dir))
    if target == TRAVERSALS["dot-dot-backslash"] and route in STATIC_ROUTES:
        assert status == 404  # on Linux a backslash is part of a name: no such file in the folder
    else:
        assert status == 403, body
    assert NOT_SERVED not in body and b"PATH=" not in body
    if route in FILE_ROUTES:
        assert body.startswith(b'{"detail":"File not allowed: ')


@pytest.mark.parametrize("route", FILE_ROUTES)
def test_file_routes_refuse_double_encoded_traversal(port, route):
    status, body = _get_raw(port, route + "..%252F..%252F..%252F..%252Fetc%252Fpasswd")
    assert status == 403 and NOT_SERVED not in body


def test_the_old_file_route_is_gone(port):
    status, body = _get_raw(port, "/file=/etc/passwd")
    assert status == 404 and NOT_SERVED not in body


def _secrets(tmp_path: Path) -> dict[str, Path]:
    """Files a visitor must not read: the app's own code, a model's weights, a file in the
    system's temporary folder (which Gradio's upload folder sits in)."""
    weights = next(p for p in (HF_HOME / "hub").rglob("*") if p.is_file() and "blobs" in p.parts)
    secret = tmp_path / "secret.txt"
    secret.write_text("synth-secret")
    return {"app.py": ROOT / "app.py", "weights": weights, "temp file": secret,
            "hf token": HF_HOME / "token"}


@pytest.mark.parametrize("route", FILE_ROUTES)
@pytest.mark.parametrize("which", ["app.py", "weights", "temp file", "hf token"])
def test_file_routes_refuse_files_outside_gradios_folders(port, tmp_path, route, which):
    path = _secrets(tmp_path)[which]
    if which == "hf token":
        path.write_text("hf_not_a_real_token")
    try:
        for written in (str(path), urllib.parse.quote(str(path), safe=""), os.path.relpath(path, ROOT)):
            status, body = _get_raw(port, route + written)
            assert status == 403, (written, body)
            assert body.startswith(b'{"detail":"File not allowed: ')
            assert b"synth-secret" not in body and b"hf_not_a_real_token" not in body
    finally:
        if which == "hf token":
            path.unlink()


# -- SSRF --------------------------------------------------------------------------------------
class _Listener:
    """A local HTTP server that answers every GET with a small PNG and records the paths."""

    def __init__(self):
        buffer = io.BytesIO()
        Image.new("RGB", (16, 16), (200, 30, 30)).save(buffer, "PNG")
        png, self.hits = buffer.getvalue(), []
        hits = self.hits

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(png)))
                self.end_headers()
                self.wfile.write(png)

            do_HEAD = do_GET

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener():
    server = _Listener()
    with urllib.request.urlopen(server.url + "/alive.png") as response:  # it answers whoever asks
        assert response.status == 200
    assert server.hits == ["/alive.png"]
    server.hits.clear()
    yield server
    server.close()


def _call(app_url: str, api_name: str, data: list) -> str:
    """The raw queue API: POST the inputs, then read the event stream to its end."""
    posted = httpx.post(f"{app_url}/gradio_api/call/{api_name}", json={"data": data}, timeout=30)
    assert posted.status_code == 200, posted.text
    events = httpx.get(f"{app_url}/gradio_api/call/{api_name}/{posted.json()['event_id']}", timeout=120)
    assert events.status_code == 200
    return events.text


def _file_data(path=None, url=None) -> dict:
    return {"path": path, "url": url, "meta": {"_type": "gradio.FileData"}}


SSRF_INPUTS = {
    "path-is-local-url": lambda local: _file_data(local + "/photo.png", local + "/photo.png"),
    "url-only": lambda local: _file_data(url=local + "/photo.png"),
    "url-beside-a-name": lambda local: _file_data("photo.png", local + "/photo.png"),
    "localhost-name": lambda local: _file_data(local.replace("127.0.0.1", "localhost") + "/photo.png"),
    "file-url": lambda local: _file_data("file:///etc/passwd", "file:///etc/passwd"),
    "server-path": lambda local: _file_data("/etc/passwd"),
    "app-file": lambda local: _file_data(str(ROOT / "assets" / "chelsea.jpg")),
}


@pytest.mark.parametrize("make", SSRF_INPUTS.values(), ids=SSRF_INPUTS.keys())
def test_stylize_refuses_local_urls_and_server_files_in_file_data(app_url, listener, make):
    events = _call(app_url, "stylize", [make(listener.url), "horse2zebra"])
    assert events.startswith("event: error") and "event: complete" not in events, events
    assert listener.hits == []


def test_gradio_client_with_a_local_url_is_refused(client, listener):
    with pytest.raises(AppError):
        client.predict(handle_file(listener.url + "/photo.png"), "horse2zebra", api_name="/stylize")
    assert listener.hits == []


def test_mcp_stylize_with_a_local_url_is_refused(app_url, listener):
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async def run():
        async with streamable_http_client(app_url + "/gradio_api/mcp/") as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                return await session.call_tool("stylize", {"photo": listener.url + "/photo.png",
                                                           "style": "horse2zebra"})

    result = asyncio.run(run())
    assert result.isError and not any(c.type == "image" for c in result.content)
    assert listener.hits == []


@pytest.mark.parametrize("route, status", [("/gradio_api/file=", 403), ("/gradio_api/proxy=", 400)])
def test_file_and_proxy_routes_do_not_fetch_local_urls(port, listener, route, status):
    code, body = _get_raw(port, route + listener.url + "/photo.png")
    assert code == status and b"PNG" not in body
    assert listener.hits == []


# -- decompression bombs -----------------------------------------------------------------------
def _png(width: int, height: int, bit_depth: int, colour_type: int) -> bytes:
    """A whole, valid PNG of one colour (zeros), compressed row by row as it is made: a few
    hundred KB on disk, any size once decoded."""
    channels = {0: 1, 2: 3}[colour_type]
    row = bytes(1 + (width * channels * bit_depth + 7) // 8)  # filter byte 0, then the pixels

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def test_the_bomb_maker_makes_real_pngs():
    with Image.open(io.BytesIO(_png(300, 200, 1, 0))) as small:
        small.load()
        assert small.size == (300, 200) and small.mode == "1" and small.getextrema() == (0, 0)
    with Image.open(io.BytesIO(_png(40, 30, 8, 2))) as rgb:
        assert rgb.mode == "RGB" and rgb.getpixel((39, 29)) == (0, 0, 0)


@pytest.fixture
def decoded(monkeypatch):
    """The sizes of the images the server decodes while the test runs (same process)."""
    sizes, real_load = [], ImageFile.ImageFile.load

    def load(self):
        sizes.append(self.size)
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    return sizes


# 30000 x 30000 (900 MP, 2.7 GB as RGB) trips Pillow's own bomb check when Gradio opens the
# upload; 8000 x 8000 RGB (64 MP, 192 MB decoded) is under Pillow's hard limit (2 x 50 MP) and is
# stopped by synth's 50 MP limit, from the header.
BOMBS = {"900MP-1bit": (30000, 30000, 1, 0), "64MP-rgb": (8000, 8000, 8, 2)}
NOT_IMAGE = "This file could not be read as an image. Try a JPEG, PNG, WebP or GIF."
TOO_MANY_PIXELS = "The image is larger than 50 megapixels. Scale it down first."


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # Pillow's, for the 64 MP one
@pytest.mark.parametrize("shape", BOMBS.values(), ids=BOMBS.keys())
def test_decompression_bomb_is_refused_before_decoding(client, tmp_path, decoded, shape):
    import app

    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png(*shape))
    assert bomb.stat().st_size < min(app.demo.max_file_size, 400_000)  # small: under the upload limit
    with pytest.raises(AppError) as refused:
        client.predict(handle_file(str(bomb)), "horse2zebra", api_name="/stylize")
    message = str(refused.value)
    if shape[0] == 30000:  # Pillow refuses it inside Gradio's preprocessing: the app's "not an image"
        assert message.startswith(NOT_IMAGE) or message == TOO_MANY_PIXELS, message
    else:
        assert message == TOO_MANY_PIXELS
    assert all(w * h <= 50_000_000 for w, h in decoded), decoded
    # and the server goes on: a real photo is restyled next
    decoded.clear()
    result = client.predict(handle_file(str(ROOT / "assets" / "chelsea.jpg")), "horse2zebra", api_name="/stylize")
    with Image.open(result) as image:
        assert image.format == "PNG" and image.size == (451, 300)
    assert (451, 300) in decoded  # the spy sees what the server decodes


# -- long text -------------------------------------------------------------------------------
LONG_TEXT = "Hello there. " * 7692 + "Hi a"  # 100,000 characters of speakable sentences


def test_100k_characters_to_speak_are_refused_with_their_length(client):
    import app

    assert len(LONG_TEXT) == 100_000
    with pytest.raises(AppError) as refused:
        client.predict(LONG_TEXT, "ljspeech-en", api_name="/speak")
    assert str(refused.value) == (f"The text is 100,000 characters long; this demo speaks at most "
                                  f"{app.MAX_TEXT_CHARS:,} at a time. Shorten it.")


def test_100k_characters_on_the_raw_api_and_the_openai_route(app_url):
    events = _call(app_url, "speak", [LONG_TEXT, "ljspeech-en", 1.0, 1.0, 1.0, "wav"])
    assert events.startswith("event: error") and "100,000 characters long" in events
    response = httpx.post(app_url + "/v1/audio/speech", json={"model": "tts-1", "voice": "ljspeech-en",
                                                             "input": LONG_TEXT}, timeout=60)
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "input_too_long" and error["param"] == "input"
    assert error["message"].startswith("The text is 100,000 characters long")
