"""Network boot benchmarks, in the test lab (two network namespaces, a real
dnsmasq for DHCP and TFTP, an HTTP server; needs root).

* ``lease_to_options``: from the DHCP lease reaching bootd (udhcpc's lease
  script has run) to the PXE options being in the inventory: config search
  over TFTP (two names missing, then found) and parsing.  Median of runs, ms.
* ``tftp_throughput`` / ``http_throughput``: bootd's :func:`fetch` of a 64 MiB
  file, MiB/s, with ``ratio`` = bootd's rate / the command-line client's rate
  on the same server: ``tftp`` (tftp-hpa, 512-byte blocks: what it supports)
  and ``curl --tftp-blksize 1468`` for TFTP, ``curl`` for HTTP.
"""

from __future__ import annotations

import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from tests.integration.network.lab import HTTP_PORT, SERVER_IP, Lab, available

SIZE = 64 * 1024 * 1024
RUNS = 3


def emit(metric: str, value: float, unit: str, **extra: object) -> None:
    print(
        json.dumps({"bench": "network", "metric": metric, "value": round(value, 3), "unit": unit, **extra}), flush=True
    )


def lease_to_options(lab: Lab) -> None:
    (lab.tftp / "pxe" / "pxelinux.cfg").mkdir(parents=True, exist_ok=True)
    labels = "".join(f"LABEL l{i}\n  KERNEL vmlinuz-{i}\n  APPEND root=/dev/nfs ip=dhcp\n" for i in range(20))
    (lab.tftp / "pxe" / "pxelinux.cfg" / "0A4D00").write_text("DEFAULT l0\n" + labels)
    lab.start_dnsmasq(["--dhcp-option=66,10.77.0.1", "--dhcp-option=67,pxe/pxelinux.0"])
    samples = []
    for _ in range(RUNS):
        events = lab.driver("--options", "20", "--release")
        lease = next(e["t"] for e in events if e["kind"] == "device-changed" and "ip" in e["props"])
        last = max(e["t"] for e in events if e["kind"] == "option-added")
        samples.append(last - lease)
    emit("lease_to_options", statistics.median(samples), "ms", runs=samples, options=20)


def _timed(lab: Lab, argv: list[str]) -> float:
    start = time.perf_counter()
    lab.client(argv, timeout=300)
    return time.perf_counter() - start


def throughput(lab: Lab) -> None:
    with open(lab.tftp / "big", "wb") as f:
        f.write(bytes(range(256)) * (SIZE // 256))
    (lab.www / "big").symlink_to(lab.tftp / "big")
    lab.start_dnsmasq(dhcp=False)
    lab.start_http()
    out = lab.tmp / "out"
    tftp_url = f"tftp://{SERVER_IP}/big"
    http_url = f"http://{SERVER_IP}:{HTTP_PORT}/big"
    events = lab.driver("--static", "10.77.0.10/24", "--no-dhcp", "--timeout", "10",
                        "--fetch", tftp_url, "--fetch", http_url, timeout=300)  # fmt: skip
    took = {e["url"]: e["seconds"] for e in events if e["kind"] == "fetched"}
    mib = SIZE / 2**20
    refs: dict[str, dict[str, float]] = {"tftp": {}, "http": {}}
    if shutil.which("tftp"):
        refs["tftp"]["tftp-hpa"] = _timed(lab, ["tftp", "-m", "binary", SERVER_IP, "-c", "get", "big", str(out)])
    if shutil.which("curl"):
        refs["tftp"]["curl"] = _timed(lab, ["curl", "-s", "--tftp-blksize", "1468", "-o", str(out), tftp_url])
        refs["http"]["curl"] = _timed(lab, ["curl", "-s", "-o", str(out), http_url])
    for proto, url in (("tftp", tftp_url), ("http", http_url)):
        if url not in took:
            print(json.dumps({"bench": "network", "metric": f"{proto}_throughput", "error": str(events[-3:])}))
            continue
        rate = mib / took[url]
        ratios = {name: round(rate / (mib / secs), 3) for name, secs in refs[proto].items()}
        emit(f"{proto}_throughput", rate, "MiB/s", size_mib=mib, ratio=ratios,
             clients_mib_s={n: round(mib / s, 1) for n, s in refs[proto].items()})  # fmt: skip


def main() -> None:
    why = available()
    if why is not None:
        print(json.dumps({"bench": "network", "error": f"skipped: {why}"}))
        return
    with tempfile.TemporaryDirectory(prefix="bootd-bench-net-") as tmp, Lab(Path(tmp)) as lab:
        lease_to_options(lab)
        throughput(lab)


if __name__ == "__main__":
    main()
