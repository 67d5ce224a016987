#!/bin/busybox sh
# The IPMI guest: the BMC reached in-band (/dev/ipmi0), bootd serve on a sandbox
# machine whose BMC is real.  For each phase of ipmi.phases=: ask the test for a
# boot device (IPMI-WANT), wait until the BMC holds it, run the daemon until it
# autoboots (or, for safe/bios, until it said it will not), report what it did.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin PYTHONPATH=/opt/bootd PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mount -t tmpfs run /run
echo "IPMI-UP $(cut -d' ' -f1 /proc/uptime)"
PHASES=
for word in $(cat /proc/cmdline); do
    case $word in ipmi.phases=*) PHASES=$(echo "${word#*=}" | tr ',' ' ') ;; esac
done
for m in ipmi_msghandler ipmi_devintf ipmi_si; do
    insmod /lib/modules/*/$m.ko 2>&1 | sed "s/^/IPMI-INSMOD $m /"
done
for i in $(seq 1 40); do [ -c /dev/ipmi0 ] && break; sleep 0.25; done
echo "IPMI-DEVICE $(ls /dev/ipmi* 2>&1 | tr '\n' ' ')"

flags() {  # the BMC's boot flags (parameter 5), as bootd reads them
    ipmitool -I open chassis bootparam get 5 2>&1 | sed -n 's/.*Boot parameter data: *//p'
}
selector() {  # ipmitool's device name -> parameter 5's byte 2
    case $1 in pxe) echo 04 ;; disk) echo 08 ;; safe) echo 0c ;; cdrom) echo 14 ;; bios) echo 18 ;; *) echo 00 ;; esac
}

mkdir -p /run/dbus
dbus-daemon --config-file=/etc/dbus-1/bus.conf --fork --nopidfile 2>&1 | sed 's/^/IPMI-BUS /'
cd /opt/bootd
for phase in $PHASES; do
    echo "IPMI-WANT $phase"
    want=$(selector "$phase")
    for i in $(seq 1 120); do
        got=$(flags)
        [ "$(echo "$got" | cut -c3-4)" = "$want" ] && break
        sleep 0.5
    done
    echo "IPMI-BEFORE $phase $got"
    state=/run/state-$phase
    python3 -m bootd serve --bus "unix:path=/run/bootd-bus" --sandbox /machine --state-dir "$state" \
        --config-root /cfg > "/run/bootd-$phase.log" 2>&1 &
    pid=$!
    for i in $(seq 1 240); do
        [ -s "$state/kexec.log" ] && break
        if grep -q "no autoboot" "/run/bootd-$phase.log" 2>/dev/null; then
            sleep 3  # longer than the timeout: nothing may boot
            break
        fi
        kill -0 $pid 2>/dev/null || break
        sleep 0.25
    done
    kill -TERM $pid 2>/dev/null
    wait $pid
    echo "IPMI-EXIT $phase $?"
    sed "s/^/IPMI-BOOTD $phase /" "/run/bootd-$phase.log"
    [ -f "$state/kexec.log" ] && sed "s/^/IPMI-KEXEC $phase /" "$state/kexec.log"
    echo "IPMI-AFTER $phase $(flags)"
done
echo "IPMI-DONE"
poweroff -f
