"""A small inventory, as the daemon would report it."""

from __future__ import annotations

from bootd.model import BootOption, Console, ConsoleKind, Device, DeviceType, Resource, Source

DISK = Device("sda2", DeviceType.DISK, node="/dev/sda2", uuid="1111-aaaa", fstype="ext4", mountpoint=None)
USB = Device("sdb1", DeviceType.USB, node="/dev/sdb1", label="STICK", fstype="vfat")


def opt(
    oid: str, name: str, order: int, *, device: str = "sda2", group: str | None = None, default: bool = False
) -> BootOption:
    return BootOption(
        id=oid,
        device=device,
        name=name,
        kernel=Resource.local("/boot/vmlinuz"),
        initrds=(Resource.local("/boot/initrd.img"),),
        args="root=/dev/sda2 ro quiet",
        default=default,
        source=Source.GRUB2,
        order=order,
        group=group,
    )


UBUNTU = opt("sda2/ubuntu", "Ubuntu", 0, default=True)
ADVANCED = opt("sda2/ubuntu-adv", "Ubuntu, with Linux 6.8", 1, group="Advanced options for Ubuntu")
RECOVERY = opt("sda2/ubuntu-rec", "Ubuntu, with Linux 6.8 (recovery mode)", 2, group="Advanced options for Ubuntu")
STICK = opt("sdb1/live", "Live system", 0, device="sdb1")

CONSOLES = [
    Console("hvc0", ConsoleKind.HVC, "/ibm,opal/consoles/serial@0", "OPAL console"),
    Console("tty1", ConsoleKind.VGA, "/pciex@600c3c0000000/pci@0/vga@0", "VGA"),
]
