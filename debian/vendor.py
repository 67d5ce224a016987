#!/usr/bin/python3
"""Unpack the libraries listed in debian/vendor.txt into bootd's _vendor directory.

vendor.py DOWNLOADS DEST: DOWNLOADS holds the files ``pip download`` fetched
(``make deb`` does that); wheels are unpacked as they are, a source archive
contributes its pure-Python package (dbus-fast runs without its optional
compiled speed-ups) and its licence.
"""

import shutil
import sys
import tarfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def wanted() -> list[tuple[str, str, str]]:
    out = []
    for line in (HERE / "vendor.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            spec, kind = line.split()
            name, version = spec.split("==")
            out.append((name.replace("-", "_"), version, kind))
    return out


def main(downloads: Path, dest: Path) -> int:
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for name, version, kind in wanted():
        if kind == "wheel":
            whl = downloads / f"{name}-{version}-py3-none-any.whl"
            with zipfile.ZipFile(whl) as z:
                for member in z.namelist():
                    if member.endswith("/RECORD") or member.endswith("/INSTALLER"):
                        continue
                    z.extract(member, dest)
        else:
            top = f"{name}-{version}"
            with tarfile.open(downloads / f"{top}.tar.gz") as tar:
                for m in tar.getmembers():
                    rel = m.name.removeprefix(f"{top}/")
                    if rel.startswith(f"src/{name}/") and rel.endswith((".py", "py.typed")):
                        target = dest / rel.removeprefix("src/")
                    elif rel == "LICENSE":
                        target = dest / f"{name}-{version}.dist-info" / "LICENSE"
                    else:
                        continue
                    target.parent.mkdir(parents=True, exist_ok=True)
                    f = tar.extractfile(m)
                    assert f is not None
                    target.write_bytes(f.read())
            (dest / f"{name}-{version}.dist-info" / "METADATA").write_text(
                f"Metadata-Version: 2.1\nName: {name.replace('_', '-')}\nVersion: {version}\n"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
