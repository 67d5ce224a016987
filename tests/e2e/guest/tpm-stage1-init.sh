#!/bin/busybox sh
# Stage 1 of the measured-boot proof: read the PCRs as firmware left them,
# then run bootd's loader with measured boot on the BLS entry in /stage2;
# bootd extends the TPM and kexecs into stage 2.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin PYTHONPATH=/opt/bootd PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
export TPM2TOOLS_TCTI=device:/dev/tpmrm0
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
echo "STAGE1-UP $(cut -d' ' -f1 /proc/uptime)"
CONSOLE=
UUID=
for word in $(cat /proc/cmdline); do
    case $word in
        proof.console=*) CONSOLE=${word#*=} ;;
        proof.uuid=*) UUID=${word#*=} ;;
    esac
done
for i in 1 2 3 4 5 6 7 8 9 10; do [ -c /dev/tpmrm0 ] && break; sleep 0.5; done
echo "STAGE1-TPM $(ls /dev/tpm* 2>&1 | tr '\n' ' ')"
tpm2_pcrread sha256:4,9,11,12 2>&1 | sed 's/^/STAGE1-PCRREAD /'
cd /opt/bootd
python3 -m bootd -v boot --scan "/stage2,uuid=$UUID,label=PROOF" --name "bootd measured boot proof" \
    --console "$CONSOLE" --measured-boot "$TPM2TOOLS_TCTI" 2>&1 | sed 's/^/STAGE1-BOOTD /'
echo "STAGE1-BOOT-RETURNED"
poweroff -f
