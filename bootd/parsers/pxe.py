"""PXE: which configuration a DHCP lease points at, and its boot options.

Pure (layer L1): no I/O.  :func:`config_candidates` lists the URLs to try, in
order, as pxelinux does:

1. a ``pxeconffile`` (option 209) that is a full URL is the only candidate;
2. the *prefix* is ``pxepathprefix`` (option 210) when it is a full URL, else
   ``tftp://<server>/<pathprefix>``, else ``tftp://<server>/<bootfile's
   directory>``; the server is option 66, else ``siaddr``, else the DHCP
   server id;
3. a relative ``pxeconffile`` is looked for under the prefix;
4. without one: ``pxelinux.cfg/01-<mac>``, the IPv4 address in upper-case hex
   shortened one digit at a time (``C0A8025B``, ``C0A8025``, … ``C``), then
   ``pxelinux.cfg/default``.

The first candidate found is parsed with the SYSLINUX parser; relative kernel,
initrd, FDT and INCLUDE paths resolve against the prefix (pxelinux's working
directory).  A lease with a boot file and no configuration gives one option
that boots that file (:func:`bootfile_option`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from bootd.model import N_, BootOption, Diagnostic, ParseResult, Resource, Severity, Source
from bootd.parsers import option_id
from bootd.parsers.view import normalize

PXELINUX_DIR = "pxelinux.cfg/"


@dataclass(frozen=True)
class Candidate:
    """A configuration URL to try, and the prefix its relative paths resolve against."""

    url: str
    base: str


@dataclass(frozen=True)
class Lease:
    """The lease facts PXE resolution uses (from an event's params)."""

    interface: str = ""
    mac: str = ""
    ip: str = ""
    server: str = ""
    bootfile: str = ""
    conffile: str = ""
    pathprefix: str = ""
    router: str = ""
    subnet: str = ""
    reboottime: int | None = None

    @staticmethod
    def from_params(params: Mapping[str, str]) -> Lease:
        def get(*keys: str) -> str:
            for k in keys:
                v = params.get(k, "").strip()
                if v:
                    return v.split()[0] if k in ("tftp", "siaddr", "serverid", "router") else v
            return ""

        server = get("tftp", "siaddr", "serverid")
        if server == "0.0.0.0":
            server = get("serverid")
        reboot: int | None = None
        raw = params.get("reboottime", "").strip()
        if raw.isdigit():
            reboot = int(raw)
        return Lease(
            interface=params.get("interface", ""),
            mac=params.get("mac", "").lower(),
            ip=get("ip"),
            server=server,
            bootfile=get("bootfile", "boot_file"),
            conffile=get("pxeconffile"),
            pathprefix=get("pxepathprefix"),
            router=get("router"),
            subnet=get("subnet"),
            reboottime=reboot,
        )


def is_url(text: str) -> bool:
    scheme, sep, _ = text.partition("://")
    return bool(sep) and scheme.isalnum() and bool(scheme)


def _host(server: str) -> str:
    return f"[{server}]" if ":" in server and not server.startswith("[") else server


def _split(url: str) -> tuple[str, str]:
    """``scheme://authority`` and the path (starting with ``/``, maybe empty)."""
    scheme, _, rest = url.partition("://")
    slash = rest.find("/")
    if slash < 0:
        return f"{scheme}://{rest}", "/"
    return f"{scheme}://{rest[:slash]}", rest[slash:]


def _normalize(path: str) -> str:
    """``normalize`` for URL paths: a trailing ``/`` (a directory) is kept."""
    clean = str(normalize(path))
    return clean + "/" if path.endswith("/") and clean != "/" else clean


def join(prefix: str, name: str) -> str:
    """``name`` as written in a config, made absolute against ``prefix``.

    A full URL stays; ``/path`` and pxelinux's ``::path`` are absolute on the
    prefix's server; ``host::path`` names another TFTP server; anything else is
    appended to the prefix (a prefix is a string prefix, as in pxelinux)."""
    name = name.strip()
    if is_url(name):
        return name
    root, path = _split(prefix)
    if "::" in name:
        host, _, rest = name.partition("::")
        if host:
            return f"tftp://{_host(host)}{_normalize('/' + rest)}"
        return root + _normalize("/" + rest)
    if name.startswith("/"):
        return root + _normalize(name)
    return root + _normalize(path + name)


def directory_of(url_or_path: str) -> str:
    return url_or_path[: url_or_path.rfind("/") + 1] if "/" in url_or_path else ""


def prefix_of(lease: Lease) -> str | None:
    """The URL relative names resolve against; None without a server."""
    if is_url(lease.pathprefix):
        return lease.pathprefix
    if is_url(lease.bootfile) and not lease.pathprefix:
        return directory_of(lease.bootfile)
    if not lease.server:
        return None
    path = lease.pathprefix or directory_of(lease.bootfile)
    return f"tftp://{_host(lease.server)}/{path.lstrip('/')}"


def mac_name(mac: str) -> str:
    """``01-aa-bb-cc-dd-ee-ff`` (ARP type 1 and the MAC in lower-case hex)."""
    return "01-" + mac.lower().replace(":", "-")


def ip_names(ip: str) -> list[str]:
    """The IPv4 address in upper-case hex, then shortened one digit at a time."""
    try:
        octets = [int(p) for p in ip.split(".")]
    except ValueError:
        return []
    if len(octets) != 4 or not all(0 <= o <= 255 for o in octets):
        return []
    full = "".join(f"{o:02X}" for o in octets)
    return [full[:n] for n in range(8, 0, -1)]


def search_names(lease: Lease) -> list[str]:
    names: list[str] = []
    if lease.mac:
        names.append(mac_name(lease.mac))
    names.extend(ip_names(lease.ip))
    names.append("default")
    return [PXELINUX_DIR + n for n in names]


def config_candidates(lease: Lease) -> tuple[list[Candidate], list[Diagnostic]]:
    """The configuration URLs to try for this lease, in order."""
    diags: list[Diagnostic] = []
    prefix = prefix_of(lease)
    if is_url(lease.conffile):
        return [Candidate(lease.conffile, prefix if lease.pathprefix and prefix else directory_of(lease.conffile))], []
    if prefix is None:
        if lease.conffile or lease.bootfile or lease.pathprefix:
            diags.append(
                Diagnostic.of(Severity.WARNING, N_("the lease names PXE files but no server to fetch them from"))
            )
        return [], diags
    if lease.conffile:
        return [Candidate(join(prefix, lease.conffile), prefix)], diags
    return [Candidate(join(prefix, name), prefix) for name in search_names(lease)], diags


def url_candidates(url: str, lease: Lease | None = None) -> list[Candidate]:
    """Candidates for "retrieve config from URL": a URL ending in ``/`` is a path
    prefix (searched as for a lease, with the lease's MAC and address when one
    is known); any other URL is the configuration itself."""
    if url.endswith("/"):
        names = search_names(lease) if lease is not None else [PXELINUX_DIR + "default"]
        return [Candidate(join(url, name), url) for name in names]
    return [Candidate(url, directory_of(url))]


def _ipappend(bits: str, lease: Lease) -> str:
    try:
        mask = int(bits.split()[0], 0)
    except (ValueError, IndexError):
        return ""
    words: list[str] = []
    if mask & 1 and lease.ip:
        words.append(f"ip={lease.ip}:{lease.server}:{lease.router or '0.0.0.0'}:{lease.subnet or '255.255.255.0'}")
    if mask & 2 and lease.mac:
        words.append(f"BOOTIF={mac_name(lease.mac)}")
    return " ".join(words)


def parse_config(
    text: str,
    candidate: Candidate,
    *,
    device: str,
    read: Callable[[str], str | None],
    lease: Lease | None = None,
    key_prefix: str = "",
) -> ParseResult:
    """Parse a PXE (SYSLINUX-syntax) config fetched from ``candidate.url``.

    ``read(url)`` returns an INCLUDEd file's text (None when unavailable).
    Options get source ``pxe``, ids ``<device>/pxe/<key_prefix><label>``, and
    the IPAPPEND/SYSAPPEND bits 1 and 2 as kernel arguments."""
    try:
        from bootd.parsers.syslinux import parse_text
    except ImportError:  # pragma: no cover - the SYSLINUX parser ships with bootd
        return ParseResult(diagnostics=(Diagnostic.of(Severity.ERROR, N_("the SYSLINUX parser is not available")),))
    base = candidate.base

    def resolve(name: str) -> Resource:
        return Resource.remote(join(base, name))

    def include(name: str) -> str | None:
        return read(join(base, name))

    result = parse_text(text, config_path=candidate.url, read=include, resolve=resolve)
    options: list[BootOption] = []
    seen: dict[str, int] = {}
    for opt in result.options:
        key = key_prefix + (opt.entry_id or opt.name or "entry")
        oid = option_id(device, Source.PXE, key)
        n = seen.get(oid, 0)
        seen[oid] = n + 1
        if n:
            oid = f"{oid}#{n + 1}"
        args = opt.args
        bits = opt.prop("sysappend")
        if bits and lease is not None:
            extra = _ipappend(bits, lease)
            args = f"{args} {extra}".strip() if extra else args
        options.append(replace(opt, id=oid, device=device, source=Source.PXE, order=len(options), args=args))
    return ParseResult(options=tuple(options), diagnostics=result.diagnostics, timeout=result.timeout)


def bootfile_option(lease: Lease, *, device: str) -> BootOption | None:
    """One option that boots the lease's boot file, for a lease without a config."""
    if not lease.bootfile:
        return None
    prefix = prefix_of(lease)
    if is_url(lease.bootfile):
        url = lease.bootfile
    elif prefix is not None and lease.server:
        url = f"tftp://{_host(lease.server)}{_normalize('/' + lease.bootfile)}"
    else:
        return None
    name = url.rsplit("/", 1)[-1] or url
    return BootOption(
        id=option_id(device, Source.PXE, "bootfile"),
        device=device,
        name=f"{name} ({lease.interface or device})",
        kernel=Resource.remote(url),
        default=True,
        source=Source.PXE,
        entry_id="bootfile",
    )


def url_key(url: str) -> str:
    """A short stable key for options retrieved from ``url``."""
    return hashlib.sha256(url.encode()).hexdigest()[:8] + "/"
