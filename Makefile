# bootd — make test: set up everything on a fresh Debian machine (as root) and run every check.
#         make demo: set up and run the whole product on the bundled sandbox machine.
#         make bench: run the benchmarks (JSON lines).
#         make fuzz: generated hostile configs against the parse limits (FUZZ_COUNT=100000 per parser).

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# System packages, one line per area (the tests use the real programs).
APT_CORE := python3 python3-venv python3-dev gcc make git
APT_PARSERS := systemd-boot-efi binutils
APT_GRUB := grub-common grub2-common grub-emu e2fsprogs util-linux fdisk debootstrap xorriso
APT_DISCOVERY := udev util-linux fdisk e2fsprogs btrfs-progs squashfs-tools xfsprogs dosfstools mtools fusefat genisoimage fuseiso lvm2 kmod qemu-system-x86
APT_LOADER := device-tree-compiler qemu-system-arm qemu-system-ppc cpio binutils busybox-static
APT_DAEMON := dbus dbus-daemon systemd libglib2.0-bin passwd util-linux
APT_UI := tmux gettext
APT_IPMI := openipmi ipmitool
APT_TRUST := gpgv gnupg tpm2-tools swtpm swtpm-tools
APT_NET := iproute2 dnsmasq-base busybox-static tftp-hpa curl
APT_DEB := dpkg-dev fakeroot zstd kmod e2fsprogs debhelper dh-python pybuild-plugin-pyproject python3-all python3-setuptools \
	python3-argparse-manpage python3-shtab lintian
APT_PACKAGES := $(APT_CORE) $(APT_PARSERS) $(APT_GRUB) $(APT_DISCOVERY) $(APT_LOADER) $(APT_DAEMON) $(APT_UI) $(APT_NET) $(APT_IPMI) $(APT_TRUST) \
	$(APT_DEB)
APT_DEMO := python3 python3-venv python3-dev gcc device-tree-compiler dbus-daemon gettext

.PHONY: test demo bench fuzz venv apt apt-demo locale lint typecheck imports pytest services services-stop clean deb image settings-docs

# The device tests need udevd.  Where none runs (a container, a machine without
# systemd as PID 1), `make test` starts one, says so, and stops it when the tests end.
UDEVD_PIDFILE := $(VENV)/udevd.pid

test: apt venv
	@$(MAKE) --no-print-directory services
	@rc=0; $(MAKE) --no-print-directory pytest || rc=$$?; $(MAKE) --no-print-directory services-stop; exit $$rc

demo: apt-demo venv locale
	$(VENV)/bin/bootd demo

bench: apt venv
	@$(MAKE) --no-print-directory services
	@rc=0; $(PY) -m bench || rc=$$?; $(MAKE) --no-print-directory services-stop; exit $$rc

# Generated hostile configs, 100,000 per parser, against the parse limits (not part of make test).
fuzz: venv
	$(PY) -m bench.fuzz_parsers $(FUZZ_COUNT)

apt:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "missing system packages (install as root): $$missing" >&2; exit 1; fi; \
	  echo "apt-get install $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@# Nothing here installs kexec-tools on this machine (the guests get their own copy) and
	@# nothing edits /etc/default/kexec; an armed kexec-on-reboot is only pointed out.
	@if grep -qs '^LOAD_KEXEC=true' /etc/default/kexec; then \
	  echo "note: /etc/default/kexec has LOAD_KEXEC=true (a reboot of this machine goes through kexec); the tests never load a kernel here" >&2; fi

apt-demo:
	@missing=$$(for p in $(APT_DEMO); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "missing system packages (install as root): $$missing" >&2; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

venv: $(STAMP)

# Translations: ui/po/LANG.po (the menu) and bootd/po/LANG.po (the client commands)
# compiled into ui/locale and bootd/locale (git-ignored); the tests compile their own copy.
locale:
	@for po in ui/po/*.po; do l=$$(basename $$po .po); mkdir -p ui/locale/$$l/LC_MESSAGES; \
	  msgfmt --check-format -o ui/locale/$$l/LC_MESSAGES/bootd-menu.mo $$po; done
	@for po in bootd/po/*.po; do l=$$(basename $$po .po); mkdir -p bootd/locale/$$l/LC_MESSAGES; \
	  msgfmt --check-format -o bootd/locale/$$l/LC_MESSAGES/bootd.mo $$po; done

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
	    for d in /lib/systemd/systemd-udevd /usr/lib/systemd/systemd-udevd; do \
	      [ -x $$d ] && { setsid $$d </dev/null >/dev/null 2>&1 & echo $$! > $(UDEVD_PIDFILE); break; }; done; \
	    for i in $$(seq 50); do udevadm control --ping 2>/dev/null && break; sleep 0.1; done; \
	    if udevadm control --ping 2>/dev/null; then \
	      echo "started systemd-udevd (pid $$(cat $(UDEVD_PIDFILE))) for the device tests; it is stopped when they end" >&2; \
	      udevadm trigger --action=add --subsystem-match=block; fi; \
	  fi; \
	fi; \
	if udevadm control --ping 2>/dev/null; then udevadm settle --timeout=30; \
	else echo "udevd could not be started; device tests will skip" >&2; fi

services-stop:
	@# stop the udevd that `make services` started (by its pid), and only that one
	@if [ -f $(UDEVD_PIDFILE) ]; then \
	  pid=$$(cat $(UDEVD_PIDFILE)); rm -f $(UDEVD_PIDFILE); \
	  if kill $$pid 2>/dev/null; then \
	    for i in $$(seq 50); do kill -0 $$pid 2>/dev/null || break; sleep 0.1; done; \
	    echo "stopped the systemd-udevd started for the tests (pid $$pid)" >&2; fi; \
	fi

# The Debian package, built from a copy of the tree (dpkg-buildpackage writes
# beside the source directory) into build/deb; the libraries Debian 12 has too
# old are downloaded once (pip, debian/vendor.txt) into tests/.cache/vendor.
DEB_DIR := build/deb
VENDOR_DIR := tests/.cache/vendor
DEB := $(DEB_DIR)/bootd_$(shell sed -n 's/^__version__ = "\(.*\)"/\1/p' bootd/__init__.py)_all.deb

deb: apt venv
	@mkdir -p $(VENDOR_DIR)
	@sed -e 's/#.*//' -e '/^ *$$/d' debian/vendor.txt | while read spec kind; do \
	  name=$${spec%%==*}; ver=$${spec##*==}; file=$$(echo $$name | tr - _)-$$ver; \
	  ls $(VENDOR_DIR)/$$file[-.]* >/dev/null 2>&1 && continue; \
	  if [ $$kind = wheel ]; then fmt="--only-binary=:all: --platform any --implementation py --abi none"; \
	  else fmt="--no-binary=:all:"; fi; \
	  $(PY) -m pip download -q --no-deps $$fmt --python-version 3.11 -d $(VENDOR_DIR) $$spec || exit 1; done
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/src
	git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -C $(DEB_DIR)/src -xf -
	cd $(DEB_DIR)/src && env -u PYTHONPATH PATH=/usr/sbin:/usr/bin:/sbin:/bin BOOTD_VENDOR=$(CURDIR)/$(VENDOR_DIR) \
	  dpkg-buildpackage -b -us -uc --no-sign >../build.log 2>&1 || { tail -40 ../build.log; exit 1; }
	env PATH=/usr/sbin:/usr/bin:/sbin:/bin lintian --info $(DEB) | tee $(DEB_DIR)/lintian.txt
	@echo "built $(DEB)"

# A firmware-style image: kernel + one initramfs (systemd, udev, dbus, kexec-tools,
# bootd) from Debian 12's packages of ARCH and bootd's .deb, into build/image/ARCH.
ARCH ?= arm64
image: deb
	$(PY) -m image.build --arch $(ARCH) --deb $(DEB)

lint:
	$(VENV)/bin/ruff check bootd ui tests bench image

typecheck:
	$(VENV)/bin/mypy

imports:
	$(VENV)/bin/lint-imports

# Rewrite what the settings table documents (config/bootd.toml, the README's
# settings table, Settings1 in bootd/dbus/org.bootd.xml); a test fails while stale.
settings-docs: venv
	$(VENV)/bin/python -m tests.settings_docs

pytest:
	$(VENV)/bin/pytest

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
