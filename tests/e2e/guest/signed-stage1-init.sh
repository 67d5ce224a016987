#!/bin/busybox sh
# Stage 1 of the signed-boot proof: run bootd's loader under signed_boot =
# enforce on every BLS entry in /stage2 whose signatures have a fault (each
# must be refused, nothing loaded), then on the correctly signed one, which
# kexecs into stage 2.  Every kexec bootd runs is written to /run/kexec-calls.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin PYTHONPATH=/opt/bootd PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
echo "STAGE1-UP $(cut -d' ' -f1 /proc/uptime)"
mkdir -p /run/proof-bin
: >/run/kexec-calls
# the last lines of the plan get a second to pass before kexec -e (see stage1-init.sh)
printf '#!/bin/sh\necho "$*" >>/run/kexec-calls\n[ "$1" = -e ] && sleep 1\nexec /sbin/kexec "$@"\n' >/run/proof-bin/kexec
chmod 755 /run/proof-bin/kexec
export PATH=/run/proof-bin:$PATH
CONSOLE=
UUID=
GOOD=
for word in $(cat /proc/cmdline); do
    case $word in
        proof.console=*) CONSOLE=${word#*=} ;;
        proof.uuid=*) UUID=${word#*=} ;;
        proof.good=*) GOOD=${word#*=} ;;
    esac
done
echo "STAGE1-GPGV $(gpgv --version 2>&1 | head -n 1)"
cd /opt/bootd
boot() {
    python3 -m bootd boot --scan "/stage2,uuid=$UUID,label=PROOF" --name "$1" --console "$CONSOLE" \
        --signed-boot enforce --keyring /etc/bootd/keyring.gpg
}
for conf in /stage2/loader/entries/*.conf; do
    id=$(basename "$conf" .conf)
    [ "$id" = "$GOOD" ] && continue
    t0=$(cut -d' ' -f1 /proc/uptime)
    boot "$id" >/tmp/out 2>&1
    rc=$?
    while IFS= read -r line; do echo "STAGE1-REFUSE $id $line"; done </tmp/out
    echo "STAGE1-RESULT $id rc=$rc kexec_loaded=$(cat /sys/kernel/kexec_loaded) kexec_calls=$(wc -l </run/kexec-calls) from=$t0 to=$(cut -d' ' -f1 /proc/uptime)"
done
echo "STAGE1-BOOT $GOOD $(cut -d' ' -f1 /proc/uptime)"
boot "$GOOD" 2>&1 | while IFS= read -r line; do echo "STAGE1-BOOTD $line"; done
echo "STAGE1-BOOT-RETURNED"
poweroff -f
