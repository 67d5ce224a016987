"""A sandbox machine: a directory that describes a computer bootd can run on
without touching this one (``bootd demo``, ``bootd serve --sandbox DIR``, tests).

Layout of a machine directory::

    machine.toml          what the machine is (schema below)
    devices/<id>/...      one directory per filesystem, standing in for it
    <dts or dtb file>     the live device tree, when the machine has one

``machine.toml``::

    [machine]
    arch = "ppc64le"            # uname -m
    firmware = "ieee1275"       # grub_platform
    description = "..."
    device_tree = "machine.dts" # relative; .dts is compiled with dtc, .dtb read as is
    lockdown = "none"           # none | integrity | confidentiality
    kexec_signature = "accept"  # accept | reject: what the kernel's own signature
                                # check (kexec -s under lockdown) makes of an image
    systemd = false             # systemd is PID 1: kexec executes via systemctl

    [[device]]
    id = "sda2"
    type = "disk"               # disk | usb | optical | network
    dir = "devices/sda2"        # default: devices/<id>
    node = "/dev/sda2"
    uuid = "…"
    label = "…"
    fstype = "ext4"
    plug_after = 4.0            # seconds after start; absent = present at start
    unplug_after = 30.0         # optional
    scan_delay = 0.5            # seconds "mounting" it takes: a slow device
                                # finishes scanning later (default 0)

    [[console]]
    name = "hvc0"
    kind = "hvc"                # serial | hvc | vga | other
    dt_path = "/ibm,opal/consoles/serial@0"
    description = "…"

    [[framebuffer]]
    name = "fb0"
    width = 1024
    height = 768
    depth = 32
    stride = 4096
    address = 0x3fe000000000
    size = 3145728
    dt_path = "/pciex@…/vga@0"  # the display node, when the tree has one

    [[interface]]
    name = "eth0"
    mac = "52:54:00:12:34:56"

    [ipmi]                      # the machine's BMC (see _ipmi below)
    interface = "lanplus"       # lanplus (host, port, user, password) | open (in-band)
    host = "127.0.0.1"          # loopback only
    valid_bit = true            # false: the BMC keeps only the device selector
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from bootd.errors import ConfigError
from bootd.model import N_, Console, ConsoleKind, DeviceType, Framebuffer, Record, record
from bootd.platform.bmc import BmcTarget

_set = object.__setattr__


@record
class SandboxDevice(Record):
    id: str
    type: DeviceType
    dir: Path
    node: str | None
    uuid: str | None
    label: str | None
    fstype: str | None
    plug_after: float | None
    unplug_after: float | None
    scan_delay: float = 0.0

    def __init__(
        self,
        id: str,
        type: DeviceType,
        dir: Path,
        node: str | None,
        uuid: str | None,
        label: str | None,
        fstype: str | None,
        plug_after: float | None,
        unplug_after: float | None,
        scan_delay: float = 0.0,
    ) -> None:
        _set(self, "id", id)
        _set(self, "type", type)
        _set(self, "dir", dir)
        _set(self, "node", node)
        _set(self, "uuid", uuid)
        _set(self, "label", label)
        _set(self, "fstype", fstype)
        _set(self, "plug_after", plug_after)
        _set(self, "unplug_after", unplug_after)
        _set(self, "scan_delay", scan_delay)


@record
class SandboxFramebuffer(Record):
    fb: Framebuffer
    dt_path: str | None

    def __init__(
        self,
        fb: Framebuffer,
        dt_path: str | None,
    ) -> None:
        _set(self, "fb", fb)
        _set(self, "dt_path", dt_path)


@record
class SandboxInterface(Record):
    name: str
    mac: str

    def __init__(
        self,
        name: str,
        mac: str,
    ) -> None:
        _set(self, "name", name)
        _set(self, "mac", mac)


@record
class MachineSpec(Record):
    root: Path
    arch: str
    firmware: str
    description: str
    device_tree: Path | None
    lockdown: str
    devices: tuple[SandboxDevice, ...]
    consoles: tuple[Console, ...]
    framebuffers: tuple[SandboxFramebuffer, ...]
    interfaces: tuple[SandboxInterface, ...]
    systemd: bool = False
    """Whether the machine runs systemd as PID 1 (``systemctl kexec``)."""
    kexec_signature: str = "accept"
    """``reject``: under lockdown, ``kexec -s`` fails as the kernel's own signature
    check fails an image (EKEYREJECTED)."""
    ipmi: BmcTarget | None = None
    """The machine's BMC (``[ipmi]``): ipmitool over lanplus on loopback, or in-band."""

    def __init__(
        self,
        root: Path,
        arch: str,
        firmware: str,
        description: str,
        device_tree: Path | None,
        lockdown: str,
        devices: tuple[SandboxDevice, ...],
        consoles: tuple[Console, ...],
        framebuffers: tuple[SandboxFramebuffer, ...],
        interfaces: tuple[SandboxInterface, ...],
        systemd: bool = False,
        kexec_signature: str = "accept",
        ipmi: BmcTarget | None = None,
    ) -> None:
        _set(self, "root", root)
        _set(self, "arch", arch)
        _set(self, "firmware", firmware)
        _set(self, "description", description)
        _set(self, "device_tree", device_tree)
        _set(self, "lockdown", lockdown)
        _set(self, "devices", devices)
        _set(self, "consoles", consoles)
        _set(self, "framebuffers", framebuffers)
        _set(self, "interfaces", interfaces)
        _set(self, "systemd", systemd)
        _set(self, "kexec_signature", kexec_signature)
        _set(self, "ipmi", ipmi)


def _str(d: dict[str, Any], key: str, default: str | None = None) -> str | None:
    v = d.get(key, default)
    if v is None:
        return None
    if not isinstance(v, str):
        raise ConfigError.of(N_("machine.toml: {key} must be a string, not {value}"), key=key, value=repr(v))
    return v


def _num(d: dict[str, Any], key: str) -> float | None:
    v = d.get(key)
    if v is None:
        return None
    if not isinstance(v, int | float) or isinstance(v, bool):
        raise ConfigError.of(N_("machine.toml: {key} must be a number, not {value}"), key=key, value=repr(v))
    return float(v)


def _int(d: dict[str, Any], key: str, default: int = 0) -> int:
    v = d.get(key, default)
    if not isinstance(v, int) or isinstance(v, bool):
        raise ConfigError.of(N_("machine.toml: {key} must be an integer, not {value}"), key=key, value=repr(v))
    return v


def load_machine(root: Path) -> MachineSpec:
    """Read ``root/machine.toml``; a missing or invalid file is a ConfigError."""
    path = root / "machine.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError.of(N_("{root} is not a sandbox machine: it has no machine.toml"), root=root) from None
    except OSError as e:
        raise ConfigError.of(N_("{path}: {error}"), path=path, error=e.strerror or e) from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError.of(N_("{path}: {error}"), path=path, error=e) from None
    m = data.get("machine", {})
    dt = _str(m, "device_tree")
    devices = []
    for d in data.get("device", []):
        did = _str(d, "id")
        if not did:
            raise ConfigError.of(N_("{path}: every [[device]] needs an id"), path=path)
        try:
            dtype = DeviceType(d.get("type", "disk"))
        except ValueError:
            raise ConfigError.of(
                N_("{path}: device {device}: unknown type {type}"), path=path, device=did, type=repr(d.get("type"))
            ) from None
        devices.append(
            SandboxDevice(
                id=did,
                type=dtype,
                dir=root / (_str(d, "dir") or f"devices/{did}"),
                node=_str(d, "node"),
                uuid=_str(d, "uuid"),
                label=_str(d, "label"),
                fstype=_str(d, "fstype"),
                plug_after=_num(d, "plug_after"),
                unplug_after=_num(d, "unplug_after"),
                scan_delay=max(0.0, _num(d, "scan_delay") or 0.0),
            )
        )
    consoles = []
    for c in data.get("console", []):
        try:
            kind = ConsoleKind(c.get("kind", "other"))
        except ValueError:
            raise ConfigError.of(
                N_("{path}: console {name}: unknown kind {kind}"),
                path=path,
                name=c.get("name"),
                kind=repr(c.get("kind")),
            ) from None
        consoles.append(
            Console(
                name=_str(c, "name") or "",
                kind=kind,
                dt_path=_str(c, "dt_path"),
                description=_str(c, "description", "") or "",
            )
        )
    fbs = []
    for f in data.get("framebuffer", []):
        fbs.append(
            SandboxFramebuffer(
                Framebuffer(
                    name=_str(f, "name", "fb0") or "fb0",
                    width=_int(f, "width"),
                    height=_int(f, "height"),
                    depth=_int(f, "depth", 32),
                    stride=_int(f, "stride"),
                    address=_int(f, "address"),
                    size=_int(f, "size"),
                    format=_str(f, "format", "a8r8g8b8") or "a8r8g8b8",
                ),
                _str(f, "dt_path"),
            )
        )
    ifaces = [SandboxInterface(_str(i, "name") or "", _str(i, "mac") or "") for i in data.get("interface", [])]
    return MachineSpec(
        root=root,
        arch=_str(m, "arch", "x86_64") or "x86_64",
        firmware=_str(m, "firmware", "efi") or "efi",
        description=_str(m, "description", "") or "",
        device_tree=root / dt if dt else None,
        lockdown=_str(m, "lockdown", "none") or "none",
        devices=tuple(devices),
        consoles=tuple(consoles),
        framebuffers=tuple(fbs),
        interfaces=tuple(ifaces),
        systemd=m.get("systemd", False) is True,
        kexec_signature=_kexec_signature(m),
        ipmi=_ipmi(path, data.get("ipmi")),
    )


def _ipmi(path: Path, table: Any) -> BmcTarget | None:
    """The machine's BMC, one of two ways:

    ``[ipmi] host = "127.0.0.1"  port = 9001  user = "admin"  password = "…"
    valid_bit = false``: a BMC simulator (OpenIPMI's ipmi_sim, which keeps only
    the boot device, not the valid and persistent bits) over lanplus, on
    loopback only;

    ``[ipmi] interface = "open"``: the BMC behind this machine's own IPMI
    device (/dev/ipmi0, in-band, as on real firmware): only for a sandbox
    machine inside a virtual machine whose BMC belongs to the test."""
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError.of(N_("{path}: [ipmi] must be a table"), path=path)
    interface = _str(table, "interface", "lanplus") or "lanplus"
    valid_bit = table.get("valid_bit", True) is not False
    if interface == "open":
        extra = sorted(set(table) & {"host", "port", "user", "password"})
        if extra:
            raise ConfigError.of(
                N_('{path}: [ipmi] interface = "open" takes no {keys}'), path=path, keys=", ".join(extra)
            )
        return BmcTarget(interface="open", valid_bit=valid_bit)
    if interface != "lanplus":
        raise ConfigError.of(
            N_("{path}: [ipmi] interface must be open or lanplus, not {value}"), path=path, value=repr(interface)
        )
    host = _str(table, "host", "127.0.0.1") or "127.0.0.1"
    if host not in ("127.0.0.1", "::1", "localhost"):
        raise ConfigError.of(
            N_("{path}: [ipmi] host must be a loopback address, not {value}"), path=path, value=repr(host)
        )
    return BmcTarget(
        interface="lanplus",
        host=host,
        port=_int(table, "port", 623),
        user=_str(table, "user", "") or "",
        password=_str(table, "password", "") or "",
        valid_bit=valid_bit,
    )


def _kexec_signature(m: dict[str, Any]) -> str:
    value = _str(m, "kexec_signature", "accept") or "accept"
    if value not in ("accept", "reject"):
        raise ConfigError.of(
            N_("machine.toml: kexec_signature must be accept or reject, not {value}"), value=repr(value)
        )
    return value
