"""``bootd dtb show FILE`` and ``bootd dtb patch IN -o OUT --console C [--framebuffer …]``:
the loader's device-tree step on its own, for debugging and for scripts.

FILE/IN is a DTB file or a device-tree directory (``/proc/device-tree``).
Offline, a console name resolves through ``/aliases`` (``serial0``), OPAL's
``hvcN`` nodes, or is given as a DT path (``/pl011@9000000:115200n8``).
The patched tree gets fresh ``kaslr-seed`` and ``rng-seed`` from the kernel's
RNG, as the loader's does; ``show`` marks the seeds.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from bootd.cli import N_
from bootd.cli.i18n import _
from bootd.errors import BootdError, InvalidArgument
from bootd.model import Framebuffer

_FB_SPEC = re.compile(r"(\d+)x(\d+)x(\d+)@(0x[0-9a-fA-F]+|\d+)((?:,[a-z]+=[0-9a-zA-Zx]+)*)")


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="dtb_command", metavar="ACTION", required=True)
    show = sub.add_parser("show", help=N_("print a device tree as .dts-like text"))
    show.add_argument("file", type=Path, help=N_("DTB file or device-tree directory"))
    p = sub.add_parser("patch", help=N_("patch a device tree for the next kernel, print what changed"))
    p.add_argument("input", type=Path, metavar="IN", help=N_("DTB file or device-tree directory"))
    p.add_argument("-o", "--output", type=Path, required=True, metavar="OUT", help=N_("where to write the patched DTB"))
    p.add_argument("--console", help=N_("console name (hvc0, serial0, tty0) or DT path, optionally with :options"))
    p.add_argument(
        "--framebuffer",
        metavar="fbN|WxHxDEPTH@ADDR,stride=S",
        help=N_("hand on a framebuffer: one of this machine's, or described (extra keys: size=, format=)"),
    )
    p.add_argument("--display-node", metavar="PATH", help=N_("the framebuffer's Open Firmware display node"))
    p.add_argument("--args", dest="bootargs", help=N_("write /chosen/bootargs"))
    p.add_argument(
        "--no-add-seeds",
        dest="add_seeds",
        action="store_false",
        help=N_("do not add kaslr-seed and rng-seed to a tree that has none (a tree's own seeds are always refreshed)"),
    )
    p.add_argument("-q", "--quiet", action="store_true", help=N_("do not print the changes"))


def parse_framebuffer(text: str) -> Framebuffer:
    """``WxHxDEPTH@ADDR[,stride=S][,size=N][,format=F]`` → Framebuffer."""
    m = _FB_SPEC.fullmatch(text)
    if m is None:
        raise InvalidArgument(
            _("--framebuffer {spec}: expected fbN or WxHxDEPTH@ADDR,stride=S").format(spec=repr(text))
        )
    width, height, depth = int(m.group(1)), int(m.group(2)), int(m.group(3))
    extra = dict(kv.split("=", 1) for kv in m.group(5).split(",") if kv)
    unknown = set(extra) - {"stride", "size", "format"}
    if unknown:
        raise InvalidArgument(_("--framebuffer: unknown key(s) {keys}").format(keys=", ".join(sorted(unknown))))
    try:
        stride = int(extra.get("stride", str(width * ((depth + 7) // 8))), 0)
        size = int(extra.get("size", str(stride * height)), 0)
    except ValueError:
        raise InvalidArgument(_("--framebuffer {spec}: stride and size are numbers").format(spec=repr(text))) from None
    formats = {32: "a8r8g8b8", 24: "r8g8b8", 16: "r5g6b5"}
    fmt = extra.get("format") or formats.get(depth)
    if fmt is None:
        raise InvalidArgument(_("--framebuffer: give format= for depth {depth}").format(depth=depth))
    if not (width and height and stride >= width * depth // 8 and size >= stride * height):
        raise InvalidArgument(_("--framebuffer {spec}: stride/size too small for the mode").format(spec=repr(text)))
    return Framebuffer("fb", width, height, depth, stride, int(m.group(4), 0), size, fmt)


def _machine_framebuffer(name: str) -> tuple[Framebuffer, str | None]:
    from bootd.composition import machine_boot

    boot = machine_boot()
    fb = next((f for f in boot.framebuffers() if f.name == name), None)
    if fb is None:
        raise InvalidArgument(_("--framebuffer {name}: this machine has no such framebuffer").format(name=name))
    return fb, boot.display_node(name)


def read_tree(path: Path) -> bytes:
    if path.is_dir():
        from bootd.composition import tree_blob

        return tree_blob(path)
    try:
        return path.read_bytes()
    except OSError as e:
        raise BootdError(f"{path}: {e.strerror}") from None


def run(args: argparse.Namespace) -> int:
    from bootd.loader import dtb

    if args.dtb_command == "show":
        sys.stdout.write("\n".join(dtb.show(read_tree(args.file))) + "\n")
        return 0
    source = read_tree(args.input)
    fb: Framebuffer | None = None
    display = args.display_node
    if args.framebuffer:
        if re.fullmatch(r"fb\d+", args.framebuffer):
            fb, node = _machine_framebuffer(args.framebuffer)
            display = display or node
        else:
            fb = parse_framebuffer(args.framebuffer)
    from bootd.composition import machine_boot
    from bootd.model import ChosenConsole

    spec = dtb.PatchSpec(
        console=ChosenConsole.parse(args.console) if args.console else None,
        framebuffer=fb,
        display_node=display,
        bootargs=args.bootargs,
        seeds=dtb.Seeds.fresh(machine_boot().random_bytes, add=args.add_seeds),
    )
    patched = dtb.patch(source, spec)
    try:
        args.output.write_bytes(patched.blob)
    except OSError as e:
        raise BootdError(f"{args.output}: {e.strerror}") from None
    if not args.quiet:
        lines = dtb.diff(source, patched.blob) + [_("note: {note}").format(note=n) for n in patched.notes]
        sys.stdout.write("".join(line + "\n" for line in lines))
    return 0
