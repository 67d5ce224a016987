# bootd — make test: set up everything on a fresh Debian machine (as root) and run every check.
#         make demo: set up and run the whole product on the bundled sandbox machine.
#         make bench: run the benchmarks (JSON lines).

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# System packages, one line per area (the tests use the real programs).
APT_CORE := python3 python3-venv python3-dev gcc make git
APT_PARSERS := systemd-boot-efi binutils
APT_GRUB := grub-common grub2-common e2fsprogs util-linux
APT_DISCOVERY := udev util-linux fdisk e2fsprogs btrfs-progs squashfs-tools xfsprogs dosfstools mtools fusefat genisoimage fuseiso lvm2 kmod qemu-system-x86
APT_LOADER := device-tree-compiler qemu-system-arm qemu-system-ppc cpio binutils busybox-static
APT_DAEMON := dbus dbus-daemon systemd libglib2.0-bin passwd util-linux
APT_UI := tmux
APT_NET := iproute2 dnsmasq-base busybox-static tftp-hpa curl
APT_PACKAGES := $(APT_CORE) $(APT_PARSERS) $(APT_GRUB) $(APT_DISCOVERY) $(APT_LOADER) $(APT_DAEMON) $(APT_UI) $(APT_NET)
APT_DEMO := python3 python3-venv python3-dev gcc device-tree-compiler dbus-daemon

.PHONY: test demo bench venv apt apt-demo lint typecheck imports pytest services clean

test: apt venv services pytest

demo: apt-demo venv
	$(VENV)/bin/bootd demo

bench: apt venv services
	$(PY) -m bench

apt:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "missing system packages (install as root): $$missing" >&2; exit 1; fi; \
	  echo "apt-get install $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@# kexec-tools must never arm a kexec on this machine
	@if [ -f /etc/default/kexec ]; then sed -i 's/^LOAD_KEXEC=.*/LOAD_KEXEC=false/' /etc/default/kexec; fi

apt-demo:
	@missing=$$(for p in $(APT_DEMO); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "missing system packages (install as root): $$missing" >&2; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

services:
	@# udevd (no systemd as PID 1 here): start it by hand, wait until it answers, let it
	@# record the block devices that are already present, then wait for it to settle.
	@if ! udevadm control --ping 2>/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    for d in /lib/systemd/systemd-udevd /usr/lib/systemd/systemd-udevd; do [ -x $$d ] && { $$d --daemon; break; }; done; \
	    for i in $$(seq 50); do udevadm control --ping 2>/dev/null && break; sleep 0.1; done; \
	    udevadm control --ping 2>/dev/null && udevadm trigger --action=add --subsystem-match=block; \
	  fi; \
	fi; \
	if udevadm control --ping 2>/dev/null; then udevadm settle --timeout=30; \
	else echo "udevd could not be started; device tests will skip" >&2; fi

lint:
	$(VENV)/bin/ruff check bootd ui tests bench

typecheck:
	$(VENV)/bin/mypy

imports:
	$(VENV)/bin/lint-imports

pytest:
	$(VENV)/bin/pytest

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
