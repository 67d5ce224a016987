#!/bin/busybox sh
# Stage 2 of the measured-boot proof: print the PCR values this kernel reads
# (sysfs where the kernel has it, and tpm2_pcrread) and its command line.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin TPM2TOOLS_TCTI=device:/dev/tpmrm0
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
[ -c /dev/ttyS0 ] && exec >/dev/ttyS0 2>&1
echo "PROOF-STAGE2 $(cut -d' ' -f1 /proc/uptime)"
echo "PROOF-CMDLINE $(cat /proc/cmdline)"
for i in 1 2 3 4 5 6 7 8 9 10; do [ -c /dev/tpmrm0 ] && break; sleep 0.5; done
for n in 4 9 11 12; do
    f=/sys/class/tpm/tpm0/pcr-sha256/$n
    [ -r $f ] && echo "PROOF-PCR-SYSFS $n $(cat $f)"
done
tpm2_pcrread sha256:4,9,11,12 2>&1 | sed 's/^/PROOF-PCRREAD /'
echo "PROOF-DONE"
sleep 1
poweroff -f
