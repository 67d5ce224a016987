"""Fetch a file named by a URL: ``file://``, ``http://``, ``https://``, ``tftp://``.

One entry point, :func:`fetch`, used by the loader (kernels, initrds, DTBs) and
by network discovery (PXE configs).  Every transfer

* streams into ``dest`` through a ``.part`` file that is renamed on success and
  removed on any failure, so a half-written file is never left behind;
* enforces ``max_bytes`` while streaming (and up front when the server says the
  size), so a 2 GB "kernel" is refused without filling the disk;
* gives up after ``timeout`` seconds without progress (a stalled server), with
  a message that says which URL and why;
* reports progress as ``progress(Transfer(done, total, rate, eta))`` on the
  event loop, at most every :data:`PROGRESS_STEP` bytes and once at the end
  (the end's report has the size, the average rate and no time left).

HTTP(S) runs the standard library client in a worker thread and honours the
``http_proxy``/``https_proxy``/``no_proxy`` environment, or proxies given by
:func:`set_default_proxies` (the daemon's settings) or per call.  TFTP is
:mod:`bootd.loader.tftp`, an asyncio client.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import stat
import threading
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from bootd import __version__
from bootd.errors import NetworkError, ResourceError, ResourceNotFound
from bootd.loader.transfer import Progress, ProgressMeter, describe_size, too_large
from bootd.model import N_
from bootd.platform import sockets

log = logging.getLogger(__name__)

CHUNK = 256 * 1024
SCHEMES = ("file", "http", "https", "tftp")
USER_AGENT = f"bootd/{__version__}"

_default_proxies: dict[str, str] | None = None


class _Readable(Protocol):
    def read(self, n: int, /) -> bytes: ...


def set_default_proxies(proxies: Mapping[str, str] | None) -> None:
    """Proxies for every later :func:`fetch`: ``{"http": URL, "https": URL}``.

    ``None`` (the default) means: take them from the environment."""
    global _default_proxies
    _default_proxies = dict(proxies) if proxies is not None else None


def scheme_of(url: str) -> str:
    return urllib.parse.urlsplit(url).scheme.lower()


async def fetch(
    url: str,
    dest: Path,
    *,
    max_bytes: int,
    timeout: float,
    progress: Progress | None = None,
    proxies: Mapping[str, str] | None = None,
) -> int:
    """Download ``url`` to ``dest``; returns the number of bytes written.

    Raises :class:`ResourceNotFound` (a :class:`ResourceError`) when the file is
    not there, :class:`ResourceError` for other refusals (too large, HTTP
    error, bad URL), :class:`NetworkError` when the server cannot be reached,
    and :class:`Timeout` after ``timeout`` seconds without progress.
    """
    if max_bytes < 0:
        raise ResourceError.of(N_("invalid size limit {limit}"), limit=max_bytes)
    if timeout <= 0:
        raise ResourceError.of(N_("invalid timeout {timeout}"), timeout=timeout)
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 -- a port out of range or not a number raises here
    except ValueError as e:
        raise ResourceError.of(N_("cannot fetch {url}: not a valid URL ({error})"), url=url, error=e) from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise ResourceError.of(
            N_("cannot fetch {url}: unsupported URL scheme {scheme}"), url=url, scheme=repr(scheme or "(none)")
        )
    part = dest.with_name(dest.name + ".part")
    try:
        if scheme == "tftp":
            from bootd.loader.tftp import tftp_fetch

            meter = ProgressMeter(progress)
            n = await tftp_fetch(url, part, max_bytes=max_bytes, timeout=timeout, meter=meter)
        else:
            meter = ProgressMeter(progress, asyncio.get_running_loop())
            n = await _in_thread(url, part, max_bytes, timeout, meter, proxies)
        await asyncio.to_thread(os.replace, part, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            part.unlink()
        raise
    log.info("fetched %s (%d bytes)", url, n)
    if progress is not None:
        # deliver queued thread-side reports before returning
        await asyncio.sleep(0)
    return n


async def _in_thread(
    url: str,
    part: Path,
    max_bytes: int,
    timeout: float,
    meter: ProgressMeter,
    proxies: Mapping[str, str] | None,
) -> int:
    cancel = threading.Event()
    try:
        return await asyncio.to_thread(_fetch_blocking, url, part, max_bytes, timeout, meter, proxies, cancel)
    finally:
        cancel.set()


def _fetch_blocking(
    url: str,
    part: Path,
    max_bytes: int,
    timeout: float,
    meter: ProgressMeter,
    proxies: Mapping[str, str] | None,
    cancel: threading.Event,
) -> int:
    if scheme_of(url) == "file":
        return _fetch_file(url, part, max_bytes, meter, cancel)
    return _fetch_http(url, part, max_bytes, timeout, meter, proxies, cancel)


def _copy(src: _Readable, part: Path, url: str, max_bytes: int, meter: ProgressMeter, cancel: threading.Event) -> int:
    n = 0
    if cancel.is_set():  # cancelled while waiting for the server: leave no file behind
        raise ResourceError.of(N_("download of {url} was cancelled"), url=url)
    with open(part, "wb") as out:
        while True:
            if cancel.is_set():
                with contextlib.suppress(OSError):
                    part.unlink()
                raise ResourceError.of(N_("download of {url} was cancelled"), url=url)
            chunk = src.read(CHUNK)
            if not chunk:
                break
            n += len(chunk)
            if n > max_bytes:
                raise ResourceError.of(
                    N_("{url} is too large: more than the limit of {limit}"), url=url, limit=describe_size(max_bytes)
                )
            out.write(chunk)
            meter.update(n)
    meter.update(n, final=True)
    return n


def _fetch_file(url: str, part: Path, max_bytes: int, meter: ProgressMeter, cancel: threading.Event) -> int:
    parts = urllib.parse.urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise ResourceError.of(N_("cannot fetch {url}: file URLs must name a local path"), url=url)
    path = Path(urllib.parse.unquote(parts.path))
    try:
        with open(path, "rb") as src:
            st = os.fstat(src.fileno())
            if not _is_regular(st.st_mode):
                raise ResourceError.of(N_("cannot fetch {url}: not a regular file"), url=url)
            meter.total = st.st_size
            if st.st_size > max_bytes:
                raise too_large(url, st.st_size, max_bytes)
            return _copy(src, part, url, max_bytes, meter, cancel)
    except FileNotFoundError:
        raise ResourceNotFound.of(N_("{url}: no such file"), url=url) from None
    except IsADirectoryError:
        raise ResourceError.of(N_("cannot fetch {url}: it is a directory"), url=url) from None
    except PermissionError:
        raise ResourceError.of(N_("cannot fetch {url}: permission denied"), url=url) from None


def _is_regular(mode: int) -> bool:
    return stat.S_ISREG(mode)


def _fetch_http(
    url: str,
    part: Path,
    max_bytes: int,
    timeout: float,
    meter: ProgressMeter,
    proxies: Mapping[str, str] | None,
    cancel: threading.Event,
) -> int:
    chosen = proxies if proxies is not None else _default_proxies
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    with sockets.http_get(url, headers=headers, timeout=timeout, proxies=chosen) as body:
        if body.length is not None:
            meter.total = body.length
            if meter.total > max_bytes:
                raise too_large(url, meter.total, max_bytes)
        n = _copy(body, part, url, max_bytes, meter, cancel)
        if meter.total is not None and n != meter.total:
            raise NetworkError.of(
                N_("cannot fetch {url}: the connection ended after {got} of {total} bytes"),
                url=url,
                got=n,
                total=meter.total,
            )
        return n
