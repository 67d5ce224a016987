# The discovery guest's script, run as root in the host's root filesystem
# (read-only over 9p, /run and /tmp in memory): starts udevd, shows that no
# logical volume is active yet, then runs `bootd watch --json` and answers the
# host's requests on the second serial port (ttyS1) until told to stop.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 PYTHONUNBUFFERED=1
# udevadm trigger and settle do nothing in a chroot unless told this is meant
export SYSTEMD_IGNORE_CHROOT=1
ROOT= PY=
for word in $(cat /proc/cmdline); do
    case $word in
        guest.root=*) ROOT=${word#*=} ;;
        guest.python=*) PY=${word#*=} ;;
    esac
done
mkdir -p /run/udev/rules.d /run/lock /run/lvm
# as in a boot loader's initramfs, only bootd activates volume groups: lvm2's own rule is masked
ln -s /dev/null /run/udev/rules.d/69-lvm.rules
echo "GUEST-UP $(cut -d' ' -f1 /proc/uptime) $(uname -r)"
/lib/systemd/systemd-udevd --daemon --resolve-names=never
udevadm trigger --action=add --type=subsystems
udevadm trigger --action=add --type=devices
udevadm settle --timeout=120
echo "GUEST-DM-BEFORE $(ls /sys/block | grep '^dm-' | tr '\n' ' ')."
# the kernel's media events, as bootd receives them through udev
udevadm monitor --kernel --property --subsystem-match=block |
    grep --line-buffered -E '^(KERNEL\[|DISK_MEDIA_CHANGE=|DISK_EJECT_REQUEST=)' | sed -u 's/^/UEVENT /' &
# what udev made of the optical drive's events (after its rules ran: cdrom_id, blkid)
udevadm monitor --udev --property --subsystem-match=block |
    awk '/^UDEV/ { sr = ($0 ~ /\/sr0 /) } sr && /^(UDEV|ID_CDROM_MEDIA|ID_FS_LABEL=|DISK_|DISKSEQ=)/ { print "UDEV " $0; fflush() }' &
for dev in /sys/block/*; do
    echo "GUEST-BLOCK ${dev##*/} $(cat "$dev/size") $(udevadm info --query=property --property=ID_FS_TYPE,ID_CDROM --value "/dev/${dev##*/}" 2>/dev/null | tr '\n' ' ')"
done
cd "$ROOT" || exit 1
mkdir -p /run/guest
mkfifo /run/guest/watch.out /run/guest/watch.err
sed -u 's/^/WATCH /' < /run/guest/watch.out &
OUT=$!
sed -u 's/^/BOOTD-LOG /' < /run/guest/watch.err &
ERR=$!
"$PY" -m bootd -vv watch --json > /run/guest/watch.out 2> /run/guest/watch.err &
WATCH=$!
echo "GUEST-WATCH-STARTED $(cut -d' ' -f1 /proc/uptime)"
exec 3< /dev/ttyS1
stty -F /dev/ttyS1 -echo 2>/dev/null
while read -r cmd <&3; do
    case $cmd in
        mounts) grep ' /run/bootd/' /proc/mounts | sed 's/^/GUEST-MOUNT /'; echo "GUEST-MOUNTS-END" ;;
        cdrom) udevadm info --query=property /dev/sr0 | grep -E '^(ID_CDROM_MEDIA|ID_FS_)' | sed 's/^/GUEST-CDROM /'
            /lib/udev/cdrom_id /dev/sr0 2>&1 | sed 's/^/GUEST-CDROM-NOW /'; echo "GUEST-CDROM-END" ;;
        dm) echo "GUEST-DM $(ls /sys/block | grep '^dm-' | tr '\n' ' ')." ;;
        stop) break ;;
        *) echo "GUEST-UNKNOWN $cmd" ;;
    esac
done
kill -TERM "$WATCH"
wait "$WATCH"
echo "GUEST-WATCH-EXIT $?"
wait "$OUT" "$ERR"
grep ' /run/bootd/' /proc/mounts | sed 's/^/GUEST-LEFT-MOUNT /'
echo "GUEST-DONE"
