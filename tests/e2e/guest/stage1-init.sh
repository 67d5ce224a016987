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
# bootd prints its plan, then runs kexec -e: the loop that prefixes its lines
# gets a second to pass the last ones on before the kernel goes (busybox sed
# would hold the last line back until its input ends, which it never does)
mkdir -p /run/proof-bin
printf '#!/bin/sh\n[ "$1" = -e ] && sleep 1\nexec /sbin/kexec "$@"\n' >/run/proof-bin/kexec
chmod 755 /run/proof-bin/kexec
export PATH=/run/proof-bin:$PATH
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
if [ -c /dev/fb0 ]; then
    # what the kernel says about fb0, to hold bootd's FBIOGET_* findings against
    g=/sys/class/graphics/fb0
    echo "STAGE1-FB0 name=$(cat $g/name) size=$(cat $g/virtual_size) stride=$(cat $g/stride) bpp=$(cat $g/bits_per_pixel)"
    node=$(readlink -f $g/device/of_node) && echo "STAGE1-FB0-NODE ${node#/sys/firmware/devicetree/base}"
    grep -e offb -e framebuffer /proc/iomem | while read -r line; do echo "STAGE1-IOMEM $line"; done
fi
cd /opt/bootd
echo "STAGE1-BOOT console=$CONSOLE"
python3 -m bootd -v boot --scan "/stage2,uuid=$UUID,label=PROOF" --name "$NAME" --console "$CONSOLE" 2>&1 |
    while IFS= read -r line; do echo "STAGE1-BOOTD $line"; done
echo "STAGE1-BOOT-RETURNED"
poweroff -f
