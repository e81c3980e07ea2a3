#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the test VM. Mounts the pseudo file systems, loads iommufd.ko and
# mock_smmu.ko, runs what the kernel command line asks for, unloads both
# modules and powers off. Every step prints a "VMTEST:" marker that the host
# side (vmrun.sh) reads to decide the verdict.

/bin/busybox --install -s /bin
export PATH=/bin:/tests
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tmpfs tmpfs /tmp

arg() {
	sed -n "s/.*\<vmtest\.$1=\([^ ]*\).*/\1/p" /proc/cmdline
}

mode=$(arg mode)
echo "VMTEST: BOOTED mode=$mode"

if [ "$mode" = probe ]; then
	echo "VMTEST: PROBE-OK"
	poweroff -f
fi

load_modules() {
	insmod /modules/iommufd.ko allow_unsafe_interrupts=1 $(cat /etc/iommufd.params 2>/dev/null) &&
	insmod /modules/mock_smmu.ko $(cat /etc/mock_smmu.params 2>/dev/null)
	echo "VMTEST: LOAD rc=$?"
}

unload_modules() {
	rmmod mock_smmu && rmmod iommufd
	echo "VMTEST: UNLOAD rc=$?"
}

load_modules

case "$mode" in
test)
	for t in $(cat /etc/tests); do
		echo "VMTEST: RUN $t"
		/tests/$t
		echo "VMTEST: RESULT $t rc=$?"
	done
	;;
run)
	echo "VMTEST: RUN $(cat /etc/run)"
	/tests/$(cat /etc/run)
	echo "VMTEST: RESULT $(cat /etc/run) rc=$?"
	;;
exec)
	cd /tmp
	echo "VMTEST: RUN exec"
	/exec/prog $(cat /etc/exec.args)
	echo "VMTEST: RESULT exec rc=$?"
	;;
shell)
	echo "Modules loaded; tests and demo are on PATH. 'poweroff' or Ctrl-D to leave."
	setsid cttyhack sh -l
	;;
esac

unload_modules
echo "VMTEST: END"
sync
poweroff -f
