#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Positive controls of make test-debug's judges: the VM runner in --debug
# mode on the debug kernel must pass a clean run, and fail a run that loads
# a module leaking one object (kmemleak) or taking two mutexes in both
# orders (lockdep). The modules (debug_mods/) are built against the debug
# kernel's tree and are never part of the suite. One VM boot per case
# (about a minute each under TCG). Prints TAP; exits 0 if every case
# passed.
#
#   tools/testing/vm/tests/debug.sh [--kernel F] [--modules DIR]
#           [--kdir DIR] [--accel A] [--keep]
#
# The defaults are what make test-debug builds: the kernel
# build/debug-kernel/obj/arch/x86/boot/bzImage, its build tree
# build/debug-kernel/obj and the modules build/debug-modules.
set -uo pipefail

TOP=$(cd "$(dirname "$0")/../../../.." && pwd)
VMRUN=$TOP/tools/testing/vm/vmrun.sh
KDIR=$TOP/build/debug-kernel/obj
KERNEL=$KDIR/arch/x86/boot/bzImage
MODDIR=$TOP/build/debug-modules
ACCEL="" KEEP=0

while [ $# -gt 0 ]; do
	case $1 in
	--kernel) KERNEL=$2; shift ;;
	--modules) MODDIR=$2; shift ;;
	--kdir) KDIR=$2; shift ;;
	--accel) ACCEL=$2; shift ;;
	--keep) KEEP=1 ;;
	-h|--help) sed -n '3,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "debug.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
	shift
done

if [ ! -f "$KERNEL" ] || [ ! -f "$MODDIR/mock_smmu.ko" ] ||
   [ ! -f "$KDIR/Makefile" ]; then
	echo "debug.sh: no debug kernel or modules: run make debug-modules first (or see --help)" >&2
	exit 2
fi

TAIL_LINES=25
# shellcheck source=tools/testing/vm/tests/lib.sh
. "$TOP/tools/testing/vm/tests/lib.sh"
scratch vmrun-debug-tests
VM=("$VMRUN" --kernel "$KERNEL" --modules "$MODDIR" --work "$T/work"
    --debug --memory 2048 --timeout 600)

# The test modules, never part of the suite
test_modules debug_mods "$KDIR"

# The guest's programs: scripts for its busybox sh
printf '#!/bin/sh\necho clean: nothing to do\n' >"$T/clean.sh"
for m in leak_mod lock_order_mod; do
	printf '#!/bin/sh\ninsmod %s.ko || exit 1\nrmmod %s || exit 1\necho "%s: loaded and unloaded"\n' \
		"$m" "$m" "$m" >"$T/$m.sh"
done

echo "TAP version 13"
echo "1..3"

# 1: a clean run on the debug kernel passes, after a kmemleak scan that
# found nothing and with lockdep still on (no false positive)
run clean "${VM[@]}" --prog "$T/clean.sh" exec
check clean "want_rc 0" "has_re clean out 'clean: nothing to do'" \
	"lacks_re clean err FAIL" \
	"has_re clean log '^VMTEST: KMEMLEAK suspects=0$'" \
	"has_re clean log '^VMTEST: DEBUG-LOCKS 1$'"

# 2: one leaked object: kmemleak reports it after the unload, and the run
# fails although the program succeeded
run leak "${VM[@]}" --prog "$T/leak_mod.sh" --files "$MODS/leak_mod.ko" exec
check leak "want_rc 1" "has_re leak out 'leak_mod: loaded and unloaded'" \
	"has_re leak err 'FAIL: kernel report: kmemleak: 1 suspect\\(s\\)'" \
	"has_re leak log '^VMTEST: KMEMLEAK suspects=1$'" \
	"has_re leak log 'unreferenced object 0x[0-9a-f]+ \\(size 96\\)'" \
	"has_re leak log 'leak_mod'" \
	"has_re leak err 'the program exited 0, but the run is not clean'"

# 3: a lock order inversion: lockdep reports it on the console, turns
# itself off, and the run fails
run lock_order "${VM[@]}" --prog "$T/lock_order_mod.sh" \
	--files "$MODS/lock_order_mod.ko" exec
check lock_order "want_rc 1" \
	"has_re lock_order out 'lock_order_mod: loaded and unloaded'" \
	"has_re lock_order err 'WARNING: possible circular locking dependency detected'" \
	"has_re lock_order err 'lock_order_[ab]'" \
	"has_re lock_order err 'lockdep report \\(debug_locks now 0\\) after lock_order_mod.sh'" \
	"has_re lock_order err 'FAIL: lockdep is off at the end'" \
	"has_re lock_order err 'the program exited 0, but the run is not clean'"

echo "# $passed passed, $failed failed"
[ "$failed" = 0 ]
