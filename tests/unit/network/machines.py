"""Sandbox machines with network interfaces, for the network unit tests: the
machine.toml text, and a machine folder with a TFTP root."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

HEAD = '[machine]\narch = "x86_64"\nfirmware = "efi"\n'
LEASED_MAC = "52:54:00:00:00:01"


def machine_text(lease_after: float, lease: Mapping[str, str], others: Sequence[tuple[str, str]]) -> str:
    """eth0 (whose sandbox DHCP client reports ``lease`` after ``lease_after``
    seconds; ``{machine}`` in a value stays for the machine's folder) and the
    interfaces ``others`` (name, MAC) that get no lease."""
    text = (
        f'{HEAD}\n[[interface]]\nname = "eth0"\nmac = "{LEASED_MAC}"\nlease_after = {lease_after}\n[interface.lease]\n'
    )
    text += "".join(f'{key} = "{value}"\n' for key, value in lease.items())
    for name, mac in others:
        text += f'\n[[interface]]\nname = "{name}"\nmac = "{mac}"\n'
    return text


def make_machine(root: Path, text: str) -> Path:
    """A machine folder at ``root``: ``text`` as its machine.toml, an empty ``tftp/pxelinux.cfg``."""
    (root / "tftp" / "pxelinux.cfg").mkdir(parents=True)
    (root / "machine.toml").write_text(text)
    return root
