#!/bin/busybox sh
# Stage 2 of the kexec proof: report what the kexec'd kernel was given, on
# the serial port (also when its console is the screen), then power off.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for tty in ttyAMA0 hvc0 ttyS0; do
    # -c: redirecting to a missing node would create a plain file on devtmpfs
    if [ -c /dev/$tty ]; then exec >/dev/$tty 2>&1; break; fi
done
dt() { if [ -e "/proc/device-tree/$1" ]; then tr -d '\000' <"/proc/device-tree/$1"; else echo '<absent>'; fi; }
hex() { od -An -tx1 "$1" | tr -d ' \n'; }
echo "PROOF-STAGE2 $(cut -d' ' -f1 /proc/uptime)"
# what this kernel said about its KASLR seed and its RNG (arm64: "KASLR disabled
# due to lack of seed" when the tree it was handed had none and the CPU has no RNG)
echo "PROOF-DMESG-LINES $(dmesg | wc -l)"
dmesg | grep -i -e kaslr -e 'random: crng' -e 'frame buffer' -e 'Using unsupported' | while read -r line; do echo "PROOF-KLOG $line"; done
echo "PROOF-CMDLINE $(cat /proc/cmdline)"
for p in stdout-path linux,stdout-path bootargs; do echo "PROOF-DT chosen/$p=$(dt chosen/$p)"; done
for p in linux,initrd-start linux,initrd-end; do
    [ -e /proc/device-tree/chosen/$p ] && echo "PROOF-DT chosen/$p=0x$(hex /proc/device-tree/chosen/$p)"
done
while read -r line; do echo "PROOF-PROC-CONSOLE $line"; done </proc/consoles
echo "PROOF-CONSOLE $(cat /sys/class/tty/console/active)"
for n in /proc/device-tree/chosen/framebuffer*; do
    [ -e "$n/width" ] && echo "PROOF-FB-DT ${n#/proc/device-tree/} width=0x$(hex $n/width) height=0x$(hex $n/height) format=$(dt ${n#/proc/device-tree/}/format)"
done
if [ -e /sys/class/graphics/fb0 ]; then
    echo "PROOF-FB0 name=$(cat /sys/class/graphics/fb0/name) size=$(cat /sys/class/graphics/fb0/virtual_size) mode=$(cat /sys/class/graphics/fb0/modes)"
    g=/sys/class/graphics/fb0
    echo "PROOF-FB0-GEOMETRY stride=$(cat $g/stride) bpp=$(cat $g/bits_per_pixel)"
    node=$(readlink -f $g/device/of_node) && node=${node#/sys/firmware/devicetree/base} && echo "PROOF-FB0-NODE $node"
    # an Open Firmware display node: what offb read, and the flags that made it bind
    if [ -n "$node" ] && [ "$(dt ${node#/}/device_type)" = display ]; then
        flags=
        for f in linux,opened linux,boot-display little-endian big-endian; do [ -e "/proc/device-tree$node/$f" ] && flags="$flags $f"; done
        echo "PROOF-DISPLAY-DT width=0x$(hex /proc/device-tree$node/width) height=0x$(hex /proc/device-tree$node/height)" \
            "depth=0x$(hex /proc/device-tree$node/depth) linebytes=0x$(hex /proc/device-tree$node/linebytes) flags=${flags# }"
    fi
else
    echo "PROOF-FB0 none"
fi
while read -r line; do echo "PROOF-PROC-FB $line"; done </proc/fb
grep -e offb -e framebuffer /proc/iomem | while read -r line; do echo "PROOF-IOMEM $line"; done
echo "PROOF-DONE"
sleep 1
poweroff -f
