#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the test VM. Mounts the pseudo file systems, loads iommufd.ko,
# the VFIO modules and mock_smmu.ko (those vmrun.sh copied in), runs what
# the kernel command line asks for, unloads the modules and powers off. Every step prints a "VMTEST:" marker that the host
# side (vmrun.sh) reads to decide the verdict.

/bin/busybox --install -s /bin
export PATH=/bin:/tests:/exec
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

# iommufd.ko, then the VFIO modules vmrun.sh copied in (VFIO with device
# cdevs, built against it), then the mock, unless vmrun.sh left it out
# (--no-mock: a VM with an IOMMU of its own).
VFIO_MODS="irqbypass vfio vfio_iommu_type1 vfio-pci-core vfio-pci"
load_modules() {
	local m rc

	insmod /modules/iommufd.ko allow_unsafe_interrupts=1 $(cat /etc/iommufd.params 2>/dev/null)
	rc=$?
	for m in $VFIO_MODS; do
		[ $rc = 0 ] && [ -f /modules/$m.ko ] || continue
		insmod /modules/$m.ko
		rc=$?
	done
	if [ $rc = 0 ] && [ -f /modules/mock_smmu.ko ]; then
		insmod /modules/mock_smmu.ko $(cat /etc/mock_smmu.params 2>/dev/null)
		rc=$?
	fi
	echo "VMTEST: LOAD rc=$rc"
}

# vfio-pci first (it releases the devices it bound), then the mock (its
# devices leave their groups), the rest of VFIO, iommufd.ko last.
unload_modules() {
	local m rc=0

	for m in vfio-pci mock_smmu vfio-pci-core vfio_iommu_type1 vfio \
		 irqbypass iommufd; do
		[ -f /modules/$m.ko ] || continue
		rmmod "$(echo $m | tr - _)" || { rc=$?; break; }
	done
	echo "VMTEST: UNLOAD rc=$rc"
}

# The console shows only errors (quiet): a WARN(), printed as a warning,
# does not appear there. After each step, new kernel reports are counted:
# warnings and oopses by the kernel's own counters, bad pages (slub_debug,
# KFENCE: taint B), machine checks (M) and soft lockups (L) by the taint
# flags. New ones print a marker, which fails the run, and the warnings
# the kernel log has kept since the last report (it holds 128 KiB: a
# warning followed by much output may be gone from it).
#
# A lockdep report neither taints nor counts as a warning: on a kernel with
# lockdep (make test-debug's), it turns debug_locks off, which is counted
# as a fourth number.
REPORT_TAINTS=$(( (1 << 4) | (1 << 5) | (1 << 14) ))
count() {
	cat "/sys/kernel/$1" 2>/dev/null || echo 0
}
locks_off() {
	local on

	on=$(sed -n 's/^ *debug_locks: *//p' /proc/lockdep_stats 2>/dev/null)
	[ "${on:-1}" = 1 ] && echo 0 || echo 1
}
kernel_state() {
	echo "$(count warn_count) $(count oops_count)" \
		"$(( $(cat /proc/sys/kernel/tainted) & REPORT_TAINTS ))" \
		"$(locks_off)"
}
# Print the WARN() reports of the kernel log newer than the last printed
kernel_warnings() {
	dmesg | awk -v since="$(cat /etc/vmtest.ts 2>/dev/null || echo -1)" '
		function ts(l) {
			if (!match(l, /^\[ *[0-9]+\.[0-9]+\]/))
				return -1
			return substr(l, 2, RLENGTH - 2) + 0
		}
		/-\[ cut here \]-/ { t = ts($0); if (t > since) { p = 1; last = t } }
		p { print }
		/---\[ end trace/ { p = 0 }
		END { if (last != "") print last > "/etc/vmtest.ts" }'
}
check_kernel() {
	local now w o t l what=""

	now=$(kernel_state)
	[ "$now" = "$state" ] && return
	set -- "$1" $state $now
	state=$now
	w=$(( $6 - $2 )) o=$(( $7 - $3 )) t=$(( $8 & ~$4 )) l=$(( $9 & ~$5 ))
	[ $w = 0 ] || what="$what $w warning(s),"
	[ $o = 0 ] || what="$what $o oops(es),"
	[ $l = 0 ] || what="$what lockdep report (debug_locks now 0),"
	[ $((t & 32)) = 0 ] || what="$what B (bad page: slub/KFENCE),"
	[ $((t & 16)) = 0 ] || what="$what M (machine check),"
	[ $((t & 16384)) = 0 ] || what="$what L (soft lockup),"
	[ -n "$what" ] || return
	echo "VMTEST: KERNEL-REPORT${what%,} after $1 (taint $(cat /proc/sys/kernel/tainted))"
	kernel_warnings
}

# Reports from before the modules were loaded are not theirs: noted only
state=$(kernel_state)
case $state in
"0 0 0 0") ;;
*) echo "VMTEST: NOTE kernel reports during boot (warnings, oopses, taint):" \
	"$state; see dmesg" ;;
esac
dmesg | tail -n 1 | sed -n 's/^\[ *\([0-9]*\.[0-9]*\)\].*/\1/p' >/etc/vmtest.ts

# The debug kernel (vmtest.debug=1, make test-debug): what kmemleak
# suspects from the boot is not the modules'. Scanned and cleared here; the
# scan after the modules are unloaded then shows only new suspects.
KMEMLEAK=/sys/kernel/debug/kmemleak
debug=$(arg debug)
if [ "$debug" = 1 ]; then
	if [ -w $KMEMLEAK ]; then
		echo scan >$KMEMLEAK
		n=$(grep -c '^unreferenced object' $KMEMLEAK)
		[ "$n" = 0 ] ||
			echo "VMTEST: NOTE kmemleak: $n suspect(s) from the boot, cleared"
		echo clear >$KMEMLEAK
	else
		echo "VMTEST: NOTE kmemleak is not available"
	fi
fi

# After the modules are unloaded: kmemleak's suspects, and whether lockdep
# is still on (a report turns it off). An object younger than 5 s is never
# reported, and a stale copy of a pointer can hide an object from one scan:
# wait, then scan twice.
debug_checks() {
	local n on

	if [ -w $KMEMLEAK ]; then
		sleep 6
		echo scan >$KMEMLEAK
		echo scan >$KMEMLEAK
		n=$(grep -c '^unreferenced object' $KMEMLEAK)
		cat $KMEMLEAK
		echo "VMTEST: KMEMLEAK suspects=$n"
		[ "$n" = 0 ] ||
			echo "VMTEST: KERNEL-REPORT kmemleak: $n suspect(s) after unloading the modules"
	fi
	on=$(sed -n 's/^ *debug_locks: *//p' /proc/lockdep_stats 2>/dev/null)
	[ -z "$on" ] || echo "VMTEST: DEBUG-LOCKS $on"
}

# What a program or the shell left running (a background child holding
# /dev/iommu open) would keep the modules from unloading: end it first.
kill_leftovers() {
	if kill -KILL -1 2>/dev/null; then
		sleep 1
	fi
}

load_modules
check_kernel "loading the modules"

# --files land in /exec/files (the tmpfs above hides the initramfs' /tmp)
cp -a /exec/files/. /tmp/ 2>/dev/null

case "$mode" in
test)
	for t in $(cat /etc/tests); do
		echo "VMTEST: RUN $t"
		/tests/$t
		echo "VMTEST: RESULT $t rc=$?"
		check_kernel "$t"
	done
	;;
run)
	echo "VMTEST: RUN $(cat /etc/run)"
	/tests/$(cat /etc/run)
	echo "VMTEST: RESULT $(cat /etc/run) rc=$?"
	check_kernel "$(cat /etc/run)"
	;;
exec)
	# stdout on ttyS1 and stderr on ttyS2, raw, each read by the host
	# into its own stream. The arguments are split by this sh; a subshell
	# keeps a quoting error from ending /init.
	cd /tmp
	echo "VMTEST: RUN exec"
	(
		exec </dev/null >/dev/ttyS1 2>/dev/ttyS2
		stty -F /dev/ttyS1 raw -echo
		stty -F /dev/ttyS2 raw -echo
		eval "set -- $(cat /etc/exec.args)" &&
		exec "/exec/$(cat /etc/exec.prog)" "$@"
	)
	echo "VMTEST: RESULT exec rc=$?"
	check_kernel "$(cat /etc/exec.prog)"
	kill_leftovers
	;;
shell)
	rows=$(arg rows)
	cols=$(arg cols)
	[ -n "$rows" ] && [ -n "$cols" ] &&
		stty -F /dev/ttyS0 rows "$rows" cols "$cols"
	# busybox's poweroff, halt and reboot signal PID 1, this script,
	# which is waiting for the shell and would act only once it ended.
	# These functions end the shell's session instead (its leader is the
	# login shell), and the script carries on below. (Functions, because
	# busybox sh runs its applets before looking at PATH.)
	cat >/etc/profile <<-'EOF'
		export PATH=/bin:/tests:/exec ENV=/etc/profile
		PS1='vm:\w# '
		vm_leave() {
			local sid

			[ "$1" = -f ] && busybox poweroff -f
			sid=$(cut -d ' ' -f 6 /proc/$$/stat)
			[ "$sid" = $$ ] && exit 0
			kill -HUP "$sid"
		}
		poweroff() { vm_leave "$@"; }
		halt() { vm_leave "$@"; }
		reboot() { vm_leave "$@"; }
	EOF
	cd /tmp
	echo "Modules loaded (lsmod); on PATH: $(ls /tests /exec | grep -v -e '^files$' -e : -e '^$' | tr '\n' ' ')"
	echo "Leave with 'poweroff' or Ctrl-D: the modules are then unloaded and checked."
	setsid cttyhack sh -l
	check_kernel "the shell"
	kill_leftovers
	;;
esac

unload_modules
check_kernel "unloading the modules"
[ "$debug" != 1 ] || debug_checks
echo "VMTEST: END"
sync
poweroff -f
