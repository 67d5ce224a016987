#!/bin/busybox sh
# Init of the discovery guest: load the few modules the guest needs, mount the
# host's root filesystem read-only over virtio-9p, give it writable /run and
# /tmp, and run the guest script (named on the kernel command line) in it.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /modules.list); do
    insmod "/modules/$m.ko" || echo "GUEST-WARN insmod $m failed"
done
SCRIPT= ROOT= PY=
for word in $(cat /proc/cmdline); do
    case $word in
        guest.script=*) SCRIPT=${word#*=} ;;
        guest.root=*) ROOT=${word#*=} ;;
        guest.python=*) PY=${word#*=} ;;
    esac
done
mkdir -p /host
if mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 hostroot /host; then
    mount -t tmpfs -o mode=0755 tmpfs /host/run
    for d in tmp var/tmp; do
        # a checkout (or interpreter) under /tmp stays visible: that directory then stays read-only
        case "$ROOT/ $PY" in "/$d/"* | *" /$d/"*) continue ;; esac
        mount -t tmpfs -o mode=1777 tmpfs "/host/$d"
    done
    mount --move /proc /host/proc
    mount --move /sys /host/sys
    mount --move /dev /host/dev
    chroot /host /bin/sh "$SCRIPT" < /host/dev/console > /host/dev/console 2>&1
    echo "GUEST-SCRIPT-EXIT $?" > /host/dev/console
else
    echo "GUEST-FAIL no host root over 9p"
fi
poweroff -f
