#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run in the test VM (L1) by make test-qemu (vmrun.sh exec mode): start
# Debian's QEMU (copied in by test-qemu.sh, with its libraries) as a client
# of this project's iommufd, passing the VM's edu device through to a small
# guest (L2), and judge what that guest printed.
#
#   l1-run.sh [--emulated] [--timeout S] [--dir D] [--l2-append CMDLINE]
#
# Default: the edu device (1234:11e8) of this VM is bound to vfio-pci and
# given to QEMU with -object iommufd -device vfio-pci,host=BDF,iommufd=...;
# while QEMU runs, its open files must show /dev/iommu and the device's
# cdev /dev/vfio/devices/vfioN, and no VFIO container or group.
# --emulated: no passthrough, L2 gets QEMU's own emulated edu: a control
# of L2's program and of the QEMU copy, which needs no IOMMU in this VM.
#
# Prints "L1: " lines and QEMU's output prefixed with "QEMU| "; the last
# line is "L1: PASS" or "L1: FAIL <why>", and the exit status 0 or 1.

DIR=/tmp/qemu-client
TIMEOUT=1500
EMULATED=0
# Under nested TCG every piece of boot code costs: no ACPI (PCI is found
# by the PCI BIOS and config cycles; the L2 init leaves with reboot -f,
# which -no-reboot turns into QEMU's exit), no mitigation patching, no LSM
# but capabilities, no crypto self-tests, no TSC watchdog.
L2_APPEND="console=ttyS0 quiet panic=-1 acpi=off mitigations=off lsm=capability cryptomgr.notests tsc=reliable"
while [ $# -gt 0 ]; do
	case $1 in
	--emulated) EMULATED=1 ;;
	--timeout) TIMEOUT=$2; shift ;;
	--dir) DIR=$2; shift ;;
	--l2-append) L2_APPEND=$2; shift ;;
	*) echo "L1: FAIL unknown argument '$1'"; exit 2 ;;
	esac
	shift
done

B=$DIR/qemu
OUT=/tmp/qemu.out
fails=""

up() { cut -d ' ' -f 1 /proc/uptime; }
note() { echo "L1: $*"; }
bad() { fails="$fails; $*"; echo "L1: BAD $*"; }
finish() {
	if [ -z "$fails" ]; then
		note "PASS"
		exit 0
	fi
	note "FAIL ${fails#; }"
	exit 1
}
elapsed() { awk -v a="$1" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }'; }

T0=$(up)
# The copy of Debian's QEMU runs as it would on Debian: its loader where
# its binary's PT_INTERP names it, its libraries on LD_LIBRARY_PATH.
mkdir -p /lib64
cp "$B/lib/ld-linux-x86-64.so.2" /lib64/ || { bad "no loader in $B"; finish; }
export LD_LIBRARY_PATH="$B/lib"
QEMU=$B/bin/qemu-system-x86_64
note "QEMU $("$QEMU" --version | head -n 1) (package $(cat "$B/VERSION"))"

edu=""
for d in /sys/bus/pci/devices/*; do
	if [ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ]; then
		edu=${d##*/}
		break
	fi
done

PASS_ARGS=""
if [ "$EMULATED" = 1 ]; then
	note "mode emulated: L2 gets QEMU's own edu device, no passthrough"
	PASS_ARGS="-device edu"
else
	[ -n "$edu" ] || { bad "no edu device (1234:11e8) in this VM"; finish; }
	dev=/sys/bus/pci/devices/$edu
	group=$(readlink "$dev/iommu_group")
	note "edu at $edu, IOMMU group ${group##*/}, driver $(basename "$(readlink "$dev/driver" 2>/dev/null)")"
	[ -n "$group" ] || { bad "$edu is in no IOMMU group (no IOMMU in this VM?)"; finish; }
	[ -d /sys/bus/pci/drivers/vfio-pci ] || { bad "vfio-pci is not loaded"; finish; }
	[ -c /dev/iommu ] || { bad "no /dev/iommu"; finish; }
	[ ! -e "$dev/driver" ] || echo "$edu" >"$dev/driver/unbind"
	echo vfio-pci >"$dev/driver_override"
	echo "$edu" >/sys/bus/pci/drivers_probe
	drv=$(basename "$(readlink "$dev/driver" 2>/dev/null)")
	cdev=$(ls "$dev/vfio-dev" 2>/dev/null)
	note "bound to ${drv:-nothing}; cdev /dev/vfio/devices/${cdev:-none}; /dev/vfio: $(ls /dev/vfio | tr '\n' ' ')"
	[ "$drv" = vfio-pci ] || { bad "vfio-pci did not bind $edu"; finish; }
	[ -n "$cdev" ] && [ -c "/dev/vfio/devices/$cdev" ] ||
		{ bad "no VFIO device cdev for $edu"; finish; }
	PASS_ARGS="-object iommufd,id=iommufd0 -device vfio-pci,host=$edu,iommufd=iommufd0"
fi

# iommufd charges the pinned guest RAM to RLIMIT_MEMLOCK
ulimit -l unlimited 2>/dev/null
# L2: -smp 1, 128 MiB (below edu's 28-bit DMA mask), no NIC, no display
set -- -L "$B/share" -accel tcg -m 128 -smp 1 -nographic -no-reboot \
	-vga none -nic none -kernel "$DIR/vmlinuz" -initrd "$DIR/l2-initramfs.cpio.gz" \
	-append "$L2_APPEND" $PASS_ARGS
note "starting: qemu-system-x86_64 $*"
T1=$(up)
"$QEMU" "$@" </dev/null >"$OUT" 2>&1 &
pid=$!
# QEMU's output as it comes, without the firmware's terminal controls
mkfifo /tmp/qemu.fifo
awk '{
	gsub(/\r/, ""); gsub(/\033\[[0-9;?]*[a-zA-Z]/, ""); gsub(/\033c/, "")
	print "QEMU| " $0; fflush()
}' </tmp/qemu.fifo &
shower=$!
tail -f "$OUT" >/tmp/qemu.fifo &
follower=$!

# What QEMU has open, once the device is realized (before the guest runs)
fds_checked=0
n=0
check_fds() {
	local f t list="" iommu=0 cdevs=0 legacy=""

	for f in /proc/$pid/fd/*; do
		t=$(readlink "$f" 2>/dev/null) || continue
		case $t in
		/dev/iommu) iommu=$((iommu + 1)) ;;
		/dev/vfio/devices/*) cdevs=$((cdevs + 1)) ;;
		/dev/vfio/*) legacy="$legacy $t" ;;
		*) continue ;;
		esac
		list="$list ${f##*/}->$t"
	done
	[ "$iommu" -gt 0 ] || [ -n "$legacy" ] || return 1
	note "QEMU pid $pid open files:$list"
	[ "$iommu" -gt 0 ] || bad "QEMU has no /dev/iommu open"
	[ "$cdevs" -gt 0 ] || bad "QEMU has no /dev/vfio/devices/vfioN open"
	[ -z "$legacy" ] || bad "QEMU uses VFIO's container/group interface:$legacy"
	note "QEMU uses iommufd: $iommu fd(s) of /dev/iommu, $cdevs VFIO device cdev(s), no container or group"
	fds_checked=1
}

while kill -0 "$pid" 2>/dev/null; do
	if [ "$EMULATED" = 0 ] && [ "$fds_checked" = 0 ]; then
		check_fds
	fi
	if [ "$(elapsed "$T1" | cut -d . -f 1)" -ge "$TIMEOUT" ]; then
		bad "L2 did not end within ${TIMEOUT}s: QEMU killed"
		kill -9 "$pid"
		break
	fi
	sleep 1
	n=$((n + 1))
	[ $((n % 60)) != 0 ] ||
		note "QEMU running $(elapsed "$T1") s, $(awk '{ print ($14 + $15) / 100 }' /proc/$pid/stat) s of CPU"
done
wait "$pid"
rc=$?
sleep 1
kill "$follower"
wait "$shower"
note "QEMU exited $rc after $(elapsed "$T1") s"

[ "$rc" = 0 ] || bad "QEMU exited $rc"
[ "$EMULATED" = 1 ] || [ "$fds_checked" = 1 ] ||
	bad "QEMU never had /dev/iommu open"
grep -q '^EDU: SEEN .* 1234:11e8' "$OUT" || bad "L2 did not see the edu device"
grep -q '^EDU: DMA-OK' "$OUT" || bad "no DMA-OK from L2"
grep -q '^L2: RESULT rc=0' "$OUT" || bad "L2's program failed"
grep -q '^L2: END' "$OUT" || bad "L2 did not reach its end"
reports=$(grep -E 'WARNING:|BUG:|Oops|Call Trace:|Kernel panic' "$OUT" | head -n 3)
[ -z "$reports" ] || bad "kernel report in L2: $reports"

if [ "$EMULATED" = 0 ]; then
	echo "$edu" >"$dev/driver/unbind"
	echo >"$dev/driver_override"
	note "DMAR/VFIO/iommufd kernel messages in L1:"
	dmesg | grep -E 'DMAR|[Vv][Ff][Ii][Oo]|iommufd|iommu' | tail -n 20 | sed 's/^/L1| /'
fi
note "L2 boot to END: $(sed -n 's/^L2: END uptime //p' "$OUT"); whole script $(elapsed "$T0") s"
finish
