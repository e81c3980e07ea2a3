#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make test-qemu: Debian's QEMU (bookworm-backports, 10.0.x) as a client of
# this project's iommufd, inside the test VM. Host side: gathers the QEMU
# copy (scripts/fetch-qemu.sh), builds the nested guest's initramfs (busybox,
# edu_dma, l2-init.sh) and boots the test VM with vmrun.sh in exec mode,
# running l1-run.sh there; then judges the run.
#
#   test-qemu.sh --kernel VMLINUZ --modules DIR [--work DIR] [--timeout S]
#                [--emulated] [-- VMRUN-ARG...]
#
# VMRUN-ARGs go to vmrun.sh as they are: the VM configuration (e.g.
# --no-mock --qemu-arg "-machine q35,kernel-irqchip=split" ...).
# --emulated runs l1-run.sh's control instead: QEMU's own emulated edu in
# L2, no passthrough, no IOMMU needed in the VM.
#
# Passes when vmrun.sh's verdict is clean (no kernel report, modules
# unloaded, the program exited 0) and l1-run.sh printed "L1: PASS". The
# output of the VM's program is kept in $BUILD/qemu-client/run.log. The last
# line is "test-qemu: N passed, N failed".
set -uo pipefail

TOP=$(cd "$(dirname "$0")/../../../.." && pwd)
BUILD=${BUILD:-$TOP/build}
HERE=$TOP/tools/testing/vm/qemu-client
KERNEL="" MODDIR="" WORK="" TIMEOUT=2400 EMULATED=""
VMRUN_ARGS=()

while [ $# -gt 0 ]; do
	case $1 in
	--kernel) KERNEL=$2; shift ;;
	--modules) MODDIR=$2; shift ;;
	--work) WORK=$2; shift ;;
	--timeout) TIMEOUT=$2; shift ;;
	--emulated) EMULATED=--emulated ;;
	--) shift; VMRUN_ARGS=("$@"); break ;;
	*) echo "test-qemu: unknown argument '$1'" >&2; exit 2 ;;
	esac
	shift
done
[ -f "$KERNEL" ] || { echo "test-qemu: --kernel '$KERNEL' not found" >&2; exit 2; }
[ -d "$MODDIR" ] || { echo "test-qemu: --modules '$MODDIR' not found" >&2; exit 2; }

log() { echo "[test-qemu] $*" >&2; }
START=$(date +%s.%N)
secs() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# What is copied into the VM's /tmp: the QEMU copy, the L2 kernel (the
# same Debian 6.12 image) and the L2 initramfs
OUT=$BUILD/qemu-client
mkdir -p "$OUT"
"$TOP/scripts/fetch-qemu.sh" "$OUT/qemu" || exit 1
cp "$KERNEL" "$OUT/vmlinuz"

L2=$BUILD/qemu-l2
if [ ! -f "$L2/edu_dma" ] || [ "$HERE/edu_dma.c" -nt "$L2/edu_dma" ]; then
	mkdir -p "$L2"
	log "building edu_dma (static)"
	gcc -static -O2 -Wall -Wextra -o "$L2/edu_dma" "$HERE/edu_dma.c" || exit 1
fi
rm -rf "$L2/root" && mkdir -p "$L2/root"/{bin,dev,proc,sys}
cp /bin/busybox "$L2/root/bin/" || exit 1
cp "$L2/edu_dma" "$L2/root/"
cp "$HERE/l2-init.sh" "$L2/root/init" && chmod +x "$L2/root/init"
(cd "$L2/root" && find . | cpio -o -H newc --quiet | gzip -9) \
	>"$OUT/l2-initramfs.cpio.gz" || exit 1
log "copied into the VM: $(du -sh "$OUT" | cut -f1) (QEMU $(cat "$OUT/qemu/VERSION"))"

# The program's output, on our stdout, is kept for the record
RUNLOG=$OUT/run.log
"${VMRUN:-$TOP/tools/testing/vm/vmrun.sh}" --kernel "$KERNEL" --modules "$MODDIR" \
	${WORK:+--work "$WORK"} --memory 2048 --timeout "$TIMEOUT" \
	--prog "$HERE/l1-run.sh" --files "$OUT" "${VMRUN_ARGS[@]}" \
	exec -- $EMULATED --timeout $((TIMEOUT - 300)) | tee "$RUNLOG"
rc=${PIPESTATUS[0]}

fail=0
if [ "$rc" != 0 ]; then
	log "FAIL: vmrun.sh exited $rc"
	fail=1
elif ! grep -q '^L1: PASS$' "$RUNLOG"; then
	log "FAIL: no 'L1: PASS' from the VM"
	fail=1
fi
log "the whole target took $(secs "$START") s; the VM's output is in ${RUNLOG#"$TOP"/}"
echo "test-qemu: $((1 - fail)) passed, $fail failed"
exit $fail
