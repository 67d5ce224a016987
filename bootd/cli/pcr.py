"""``bootd pcr predict``: the PCR values a measured boot of these files leaves,
from all-zero PCRs (a TPM just reset), by :mod:`bootd.loader.measure`'s rules.

``--kernel K [--initrd I]... [--dtb D] --args S`` for a kernel with its
files, ``--uki IMAGE [--args S]`` for a Unified Kernel Image (its ``.ucode``
and ``.initrd`` are the initrd; ``--args`` only when it is not the embedded
command line).  Prints ``PCR N sha256:HEX`` lines, or ``--json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bootd.cli import N_
from bootd.cli.i18n import _
from bootd.errors import BootdError, InvalidArgument


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="pcr_command", metavar="ACTION", required=True)
    p = sub.add_parser("predict", help=N_("print the PCR values a measured boot of these files leaves"))
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--kernel", type=Path, help=N_("the kernel image"))
    what.add_argument("--uki", type=Path, metavar="IMAGE", help=N_("a Unified Kernel Image"))
    p.add_argument("--initrd", type=Path, action="append", default=[], help=N_("an initrd (repeat: concatenated)"))
    p.add_argument("--dtb", type=Path, help=N_("the option's own device tree file"))
    p.add_argument("--args", help=N_("the kernel command line as booted"))
    p.add_argument("--events", action="store_true", help=N_("also print each event"))
    p.add_argument("--json", action="store_true", help=N_("print JSON"))


def run(args: argparse.Namespace) -> int:
    from bootd.loader import measure
    from bootd.parsers import _pe

    try:
        if args.uki is not None:
            parts = measure.uki_parts(args.uki)
            embedded = " ".join(parts.get(".cmdline", b"").decode("utf-8", "replace").replace("\0", " ").split())
            initrds: list[Path | bytes] = [parts[n] for n in (".ucode", ".initrd") if n in parts]
            events = measure.plan(
                uki=args.uki, initrds=[*initrds, *args.initrd], args=args.args, embedded_cmdline=embedded
            )
        else:
            if args.args is None:
                raise InvalidArgument(_("--args is needed with --kernel (the command line is always measured)"))
            dtb = args.dtb.read_bytes() if args.dtb is not None else None
            events = measure.plan(
                kernel=args.kernel, initrds=args.initrd, args=args.args, dtb=dtb, names={"dtb": str(args.dtb or "")}
            )
    except OSError as e:
        raise BootdError(f"{e.filename}: {e.strerror}") from None
    except _pe.PeError as e:
        raise BootdError(f"{args.uki}: {e}") from None
    values = measure.predict(events)
    if args.json:
        out = {
            "pcrs": {str(k): v.hex() for k, v in sorted(values.items())},
            "events": [{"pcr": ev.pcr, "sha256": ev.digest.hex(), "what": ev.description} for ev in events],
        }
        print(json.dumps(out, indent=2))
        return 0
    if args.events:
        for ev in events:
            print(f"event PCR {ev.pcr} sha256:{ev.digest.hex()} {ev.description}")
    for pcr, value in sorted(values.items()):
        print(f"PCR {pcr} sha256:{value.hex()}")
    sys.stdout.flush()
    return 0
