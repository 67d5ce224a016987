"""The one door to the network: every socket bootd opens for a transfer is
opened here (the D-Bus connection is dbus-fast's own, in
:mod:`bootd.dbus.transport`).

* :func:`http_get` -- an HTTP(S) GET through the standard library client (proxies
  as given, TLS verified against the system's CAs), as a context manager whose
  failures, while connecting or while the body is read, arrive as
  :class:`~bootd.errors.BootdError` with a message that names the URL;
* :func:`resolve_udp` and :func:`open_udp` -- the address and the asyncio UDP
  endpoint of the TFTP client.

The transfer logic (limits, progress, retries, the TFTP protocol) stays in
:mod:`bootd.loader`; this module only opens and classifies.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from bootd.errors import BootdError, NetworkError, ResourceError, ResourceNotFound, Timeout
from bootd.model import N_

log = logging.getLogger(__name__)

P = TypeVar("P", bound=asyncio.DatagramProtocol)


@dataclass
class HttpBody:
    """The response being read: its announced length and its bytes."""

    length: int | None
    """``Content-Length`` when the server sent a number."""
    read: Callable[[int], bytes]


def _opener(proxies: Mapping[str, str] | None) -> urllib.request.OpenerDirector:
    handlers: list[urllib.request.BaseHandler] = []
    if proxies is not None:
        handlers.append(urllib.request.ProxyHandler({k: v for k, v in proxies.items() if k in ("http", "https") and v}))
    handlers.append(urllib.request.HTTPSHandler(context=ssl.create_default_context()))
    return urllib.request.build_opener(*handlers)


@contextmanager
def http_get(
    url: str, *, headers: Mapping[str, str], timeout: float, proxies: Mapping[str, str] | None
) -> Iterator[HttpBody]:
    """GET ``url`` (blocking: run it in a thread); ``proxies`` None means the environment's."""
    request = urllib.request.Request(url, headers=dict(headers))
    try:
        with _opener(proxies).open(request, timeout=timeout) as resp:
            length = resp.headers.get("Content-Length")
            yield HttpBody(int(length) if length is not None and length.strip().isdigit() else None, resp.read)
    except BootdError:
        raise
    except urllib.error.HTTPError as e:
        if e.code in (404, 410):
            raise ResourceNotFound.of(
                N_("{url}: not found on the server (HTTP {code})"), url=url, code=e.code
            ) from None
        raise ResourceError.of(
            N_("cannot fetch {url}: HTTP {code} {reason}"), url=url, code=e.code, reason=e.reason
        ) from None
    except urllib.error.URLError as e:
        raise network_error(url, e.reason, timeout) from None
    except (TimeoutError, OSError) as e:
        raise network_error(url, e, timeout) from None
    except ValueError as e:  # malformed URL or response
        raise ResourceError.of(CANNOT_FETCH, url=url, error=e) from None
    except Exception as e:  # http.client.HTTPException and friends
        raise NetworkError.of(CANNOT_FETCH, url=url, error=f"{type(e).__name__}: {e}") from None


CANNOT_FETCH = N_("cannot fetch {url}: {error}")


def network_error(url: str, reason: object, timeout: float) -> BootdError:
    """What went wrong reaching ``url``, in words."""
    if isinstance(reason, TimeoutError | socket.timeout):
        return Timeout.of(
            N_("{url}: no data from the server for {seconds} s; giving up"), url=url, seconds=f"{timeout:g}"
        )
    if isinstance(reason, socket.gaierror):
        host = urllib.parse.urlsplit(url).hostname or "?"
        return NetworkError.of(N_("cannot fetch {url}: cannot resolve host {host}"), url=url, host=repr(host))
    if isinstance(reason, ssl.SSLError):
        return NetworkError.of(N_("cannot fetch {url}: TLS error: {error}"), url=url, error=reason)
    if isinstance(reason, ConnectionRefusedError):
        return NetworkError.of(N_("cannot fetch {url}: connection refused"), url=url)
    if isinstance(reason, OSError):
        return NetworkError.of(CANNOT_FETCH, url=url, error=reason.strerror or reason)
    return NetworkError.of(CANNOT_FETCH, url=url, error=reason)


async def resolve_udp(host: str, port: int) -> tuple[int, tuple[str, int]]:
    """The address family and the (address, port) of a UDP server; OSError when it cannot be resolved."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    family, _, _, _, sockaddr = infos[0]
    return family, (str(sockaddr[0]), int(sockaddr[1]))


async def open_udp(factory: Callable[[], P], family: int) -> tuple[asyncio.DatagramTransport, P]:
    """A UDP endpoint on an ephemeral port, driven by the protocol ``factory`` makes."""
    return await asyncio.get_running_loop().create_datagram_endpoint(factory, family=family)
