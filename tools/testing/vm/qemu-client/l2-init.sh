#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the nested guest of make test-qemu (L2): the edu device that the
# VMM in the test VM passes through must be on its PCI bus, and a DMA
# through it must work. Prints "L2: " markers on the console, which the
# test VM's script (l1-run.sh) reads from the VMM's output.

/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

echo "L2: BOOTED $(uname -r), $(sed -n 's/^MemTotal: *//p' /proc/meminfo) RAM, uptime $(cut -d ' ' -f 1 /proc/uptime) s"
for d in /sys/bus/pci/devices/*; do
	echo "L2: PCI ${d##*/} $(cat "$d/vendor"):$(cat "$d/device") class $(cat "$d/class")"
done
/edu_dma
echo "L2: RESULT rc=$?"
echo "L2: END uptime $(cut -d ' ' -f 1 /proc/uptime) s"
reboot -f
