"""fetch(): file, http (a server on loopback) and tftp protocol details."""

from __future__ import annotations

import asyncio
import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bootd.errors import NetworkError, ResourceError, ResourceNotFound, Timeout
from bootd.loader import tftp
from bootd.loader.download import fetch, set_default_proxies
from tests.unit.network.tftpserver import Behaviour, start

DATA = bytes(range(256)) * 4096  # 1 MiB


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:
        try:
            self._get()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _get(self) -> None:
        if self.path == "/data":
            self.send_response(200)
            self.send_header("Content-Length", str(len(DATA)))
            self.end_headers()
            self.wfile.write(DATA)
        elif self.path == "/nolength":
            self.send_response(200)
            self.end_headers()
            self.wfile.write(DATA)
        elif self.path == "/short":
            self.send_response(200)
            self.send_header("Content-Length", str(len(DATA) * 2))
            self.end_headers()
            self.wfile.write(DATA)
        elif self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/data")
            self.end_headers()
        elif self.path == "/stall":
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"abc")
            self.wfile.flush()
            time.sleep(3)
        elif self.path == "/error":
            self.send_error(500, "broken")
        else:
            self.send_error(404)


@pytest.fixture(scope="module")
def http_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    yield
    set_default_proxies(None)


def leftovers(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir())


async def test_http_download_with_progress(http_url: str, tmp_path: Path) -> None:
    seen: list[tuple[int, int | None]] = []
    n = await fetch(
        f"{http_url}/data",
        tmp_path / "k",
        max_bytes=10**7,
        timeout=5,
        progress=lambda t: seen.append((t.done, t.total)),
    )
    assert n == len(DATA) and (tmp_path / "k").read_bytes() == DATA
    assert seen[-1] == (len(DATA), len(DATA)) and len(seen) >= 2 and seen[0][0] < len(DATA)
    assert [a for a, _ in seen] == sorted(a for a, _ in seen)
    assert await fetch(f"{http_url}/redirect", tmp_path / "r", max_bytes=10**7, timeout=5) == len(DATA)


async def test_http_errors(http_url: str, tmp_path: Path) -> None:
    with pytest.raises(ResourceNotFound, match="HTTP 404"):
        await fetch(f"{http_url}/missing", tmp_path / "x", max_bytes=10**7, timeout=5)
    with pytest.raises(ResourceError, match="HTTP 500"):
        await fetch(f"{http_url}/error", tmp_path / "x", max_bytes=10**7, timeout=5)
    with pytest.raises(ResourceError, match="exceeds the limit of 1.0 KiB"):
        await fetch(f"{http_url}/data", tmp_path / "x", max_bytes=1024, timeout=5)
    with pytest.raises(ResourceError, match="more than the limit of 512.0 KiB"):
        await fetch(f"{http_url}/nolength", tmp_path / "x", max_bytes=512 * 1024, timeout=5)
    with pytest.raises(NetworkError):  # the body ends early
        await fetch(f"{http_url}/short", tmp_path / "x", max_bytes=10**7, timeout=5)
    with pytest.raises(NetworkError, match="connection refused"):
        await fetch("http://127.0.0.1:9/x", tmp_path / "x", max_bytes=10, timeout=5)
    with pytest.raises(Timeout, match="no data from the server for 0.5 s"):
        await fetch(f"{http_url}/stall", tmp_path / "x", max_bytes=10**7, timeout=0.5)
    with pytest.raises(ResourceError, match="unsupported URL scheme 'ftp'"):
        await fetch("ftp://h/x", tmp_path / "x", max_bytes=10, timeout=5)
    assert leftovers(tmp_path) == []


async def test_http_proxy_setting_is_used(http_url: str, tmp_path: Path) -> None:
    # the "proxy" is our server: it answers the absolute-URL request for /data? no: for the full URL path
    set_default_proxies({"http": http_url})
    with pytest.raises(ResourceNotFound):  # the proxy got "GET http://example.invalid/data" and said 404
        await fetch("http://example.invalid/data", tmp_path / "p", max_bytes=10**7, timeout=5)
    set_default_proxies(None)


async def test_file_urls(tmp_path: Path) -> None:
    src = tmp_path / "src.bin"
    src.write_bytes(DATA)
    out = tmp_path / "out"
    out.mkdir()
    assert await fetch(src.as_uri(), out / "a", max_bytes=len(DATA), timeout=1) == len(DATA)
    assert (out / "a").read_bytes() == DATA
    with pytest.raises(ResourceError, match="too large"):
        await fetch(src.as_uri(), out / "b", max_bytes=len(DATA) - 1, timeout=1)
    with pytest.raises(ResourceNotFound):
        await fetch((tmp_path / "none").as_uri(), out / "c", max_bytes=10, timeout=1)
    with pytest.raises(ResourceError, match="directory|regular"):
        await fetch(tmp_path.as_uri(), out / "d", max_bytes=10, timeout=1)
    with pytest.raises(ResourceError, match="local path"):
        await fetch("file://otherhost/x", out / "e", max_bytes=10, timeout=1)
    assert leftovers(out) == ["a"]


async def test_tftp_lost_packets_tiny_blocks_and_wraparound(tmp_path: Path) -> None:
    # 8-byte blocks: 70000 blocks, so the 16-bit block number wraps around
    data = bytes((i * 7) % 251 for i in range(8 * 70000 + 3))
    b = Behaviour(files={"boot/k": data}, blksize=8, drop_data_once={2, 65536, 65537})
    transport, port = await start(b)
    try:
        seen: list[tuple[int, int | None]] = []
        n = await fetch(
            f"tftp://127.0.0.1:{port}/boot/k", tmp_path / "k", max_bytes=10**7, timeout=5,
            progress=lambda t: seen.append((t.done, t.total)),
        )  # fmt: skip
        assert n == len(data) and (tmp_path / "k").read_bytes() == data
        assert seen[-1] == (len(data), len(data))
        assert b.requests[0][0] == "boot/k"
        assert b.requests[0][1] == {"blksize": "1468", "tsize": "0", "windowsize": str(tftp.WINDOWSIZE)}
    finally:
        transport.close()


async def test_tftp_without_options_and_errors(tmp_path: Path) -> None:
    data = b"x" * 1024  # a multiple of 512: ends with an empty block
    b = Behaviour(files={"k": data}, options=False)
    transport, port = await start(b)
    try:
        assert await fetch(f"tftp://127.0.0.1:{port}/k", tmp_path / "k", max_bytes=2000, timeout=5) == 1024
        with pytest.raises(ResourceError, match="more than the limit"):
            await fetch(f"tftp://127.0.0.1:{port}/k", tmp_path / "y", max_bytes=1000, timeout=5)
        with pytest.raises(ResourceNotFound, match="File not found"):
            await fetch(f"tftp://127.0.0.1:{port}/none", tmp_path / "z", max_bytes=10, timeout=5)
    finally:
        transport.close()
    assert leftovers(tmp_path) == ["k"]


async def test_tftp_options_refused_retries_without(tmp_path: Path) -> None:
    b = Behaviour(files={"k": DATA[:5000]}, refuse_options=True)
    transport, port = await start(b)
    try:
        assert await fetch(f"tftp://127.0.0.1:{port}/k", tmp_path / "k", max_bytes=10**6, timeout=5) == 5000
        assert (tmp_path / "k").read_bytes() == DATA[:5000]
        assert [opts for _, opts in b.requests][1] == {}
    finally:
        transport.close()


async def test_tftp_no_server(tmp_path: Path) -> None:
    with pytest.raises((NetworkError, Timeout)):
        await fetch("tftp://127.0.0.1:9/k", tmp_path / "k", max_bytes=10, timeout=1)
    with pytest.raises(ResourceError, match="names no file"):
        await fetch("tftp://127.0.0.1/", tmp_path / "k", max_bytes=10, timeout=1)
    assert leftovers(tmp_path) == []


def test_tftp_url_parsing() -> None:
    assert tftp.parse_tftp_url("tftp://h/a/b%20c") == tftp.TftpUrl("h", 69, "a/b c")
    assert tftp.parse_tftp_url("tftp://[fd00::1]:1069/x;mode=octet") == tftp.TftpUrl("fd00::1", 1069, "x")
    for bad in ("http://h/x", "tftp:///x", "tftp://h:99999/x"):
        with pytest.raises(ResourceError):
            tftp.parse_tftp_url(bad)


@given(st.binary(max_size=200))
def test_oack_parser_never_raises(data: bytes) -> None:
    opts = tftp.parse_oack(data)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in opts.items())


async def test_cancel_removes_partial(http_url: str, tmp_path: Path) -> None:
    task = asyncio.create_task(fetch(f"{http_url}/stall", tmp_path / "x", max_bytes=10**7, timeout=10))
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.1)
    assert leftovers(tmp_path) == []


def test_describe_size() -> None:
    from bootd.loader.transfer import describe_size

    assert [describe_size(n) for n in (0, 1023, 1024, 1536, 64 * 2**20, 2 * 2**30)] == [
        "0 bytes", "1023 bytes", "1.0 KiB", "1.5 KiB", "64.0 MiB", "2.0 GiB",
    ]  # fmt: skip


@pytest.fixture(scope="module")
def https_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    import shutil
    import ssl
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("needs openssl to make a certificate")
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(d / "key.pem"),
         "-out", str(d / "cert.pem"), "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(d / "cert.pem", d / "key.pem")
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}", d / "cert.pem"
    server.shutdown()
    server.server_close()


async def test_https(https_url: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url, cert = https_url
    # a certificate nobody vouches for is refused, with a clear message
    with pytest.raises(NetworkError, match="TLS error.*certificate verify failed"):
        await fetch(f"{url}/data", tmp_path / "x", max_bytes=10**7, timeout=5)
    assert leftovers(tmp_path) == []
    # trusted through the standard OpenSSL variable, the download works
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    assert await fetch(f"{url}/data", tmp_path / "k", max_bytes=10**7, timeout=5) == len(DATA)
    assert (tmp_path / "k").read_bytes() == DATA


@pytest.mark.parametrize(
    "url", ["http://[::1/x", "tftp://[zz/x", "https://[::1]:x/a", "http://h:99999/x", "tftp://h:-1/x"]
)
async def test_malformed_urls_are_a_clear_error(url: str, tmp_path: Path) -> None:
    with pytest.raises(ResourceError, match=r"not a valid URL \(.+\)"):
        await fetch(url, tmp_path / "out", max_bytes=1000, timeout=1)
    assert list(tmp_path.iterdir()) == []
