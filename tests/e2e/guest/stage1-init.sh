#!/bin/busybox sh
# Stage 1 of the kexec proof: the boot-menu environment.  Runs bootd's loader
# on the BLS entry in /stage2 with the console named by proof.console= on the
# kernel command line; bootd kexecs into stage 2, so nothing after it runs
# unless the boot failed.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin PYTHONPATH=/opt/bootd PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
echo "STAGE1-UP $(cut -d' ' -f1 /proc/uptime)"
CONSOLE=
UUID=
NAME="bootd kexec proof"
for word in $(cat /proc/cmdline); do
    case $word in
        proof.console=*) CONSOLE=${word#*=} ;;
        proof.uuid=*) UUID=${word#*=} ;;
        proof.entry=*) NAME=${word#*=} ;;
    esac
done
[ -c /dev/fb0 ] && echo "STAGE1-FB0 $(cat /sys/class/graphics/fb0/name) $(cat /sys/class/graphics/fb0/virtual_size)"
cd /opt/bootd
echo "STAGE1-BOOT console=$CONSOLE"
python3 -m bootd -v boot --scan "/stage2,uuid=$UUID,label=PROOF" --name "$NAME" --console "$CONSOLE" 2>&1 |
    sed 's/^/STAGE1-BOOTD /'
echo "STAGE1-BOOT-RETURNED"
poweroff -f
