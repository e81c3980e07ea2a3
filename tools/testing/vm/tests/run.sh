#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-side tests of the VM runner (tools/testing/vm/vmrun.sh) and of
# make vm-exec: exit statuses, output streams, kernel report detection,
# refused inputs, the shell mode. Each case that boots takes one VM run
# (about 5 s under TCG). Prints TAP; exits 0 if every case passed.
#
#   tools/testing/vm/tests/run.sh [--kernel F] [--modules DIR]
#           [--kdir DIR] [--bin-dir DIR] [--accel A] [--no-make] [--keep]
#
# The kernel defaults to VMLINUZ of build/env.mk and the modules to
# build/modules (make modules builds them). The kernel warning case loads
# a test module of its own, warn_mod.ko, built with Kbuild against --kdir
# (default KDIR of build/env.mk: the kernel's headers or build tree) in
# build/vm-tests/warn_mod. --no-make skips the cases that run make
# vm-exec; --keep keeps the scratch directory.
set -uo pipefail

TOP=$(cd "$(dirname "$0")/../../../.." && pwd)
VMRUN=$TOP/tools/testing/vm/vmrun.sh
KERNEL="" MODDIR=$TOP/build/modules BINDIR=$TOP/build/selftests ACCEL=""
KDIR=""
USE_MAKE=1 KEEP=0

while [ $# -gt 0 ]; do
	case $1 in
	--kernel) KERNEL=$2; shift ;;
	--modules) MODDIR=$2; shift ;;
	--kdir) KDIR=$2; shift ;;
	--bin-dir) BINDIR=$2; shift ;;
	--accel) ACCEL=$2; shift ;;
	--no-make) USE_MAKE=0 ;;
	--keep) KEEP=1 ;;
	-h|--help) sed -n '3,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "run.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
	shift
done

if [ -f "$TOP/build/env.mk" ]; then
	[ -n "$KERNEL" ] || KERNEL=$(sed -n 's/^VMLINUZ := //p' "$TOP/build/env.mk")
	[ -n "$KDIR" ] || KDIR=$(sed -n 's/^KDIR := //p' "$TOP/build/env.mk")
fi
if [ ! -f "$KERNEL" ] || [ ! -f "$MODDIR/mock_smmu.ko" ]; then
	echo "run.sh: no kernel or modules: run make modules first (or see --help)" >&2
	exit 2
fi
if [ ! -f "$KDIR/Makefile" ]; then
	echo "run.sh: no kernel build tree to build warn_mod.ko against: run make modules first (or see --kdir)" >&2
	exit 2
fi

# shellcheck source=tools/testing/vm/tests/lib.sh
. "$TOP/tools/testing/vm/tests/lib.sh"
scratch vmrun-tests
VM=("$VMRUN" --kernel "$KERNEL" --modules "$MODDIR" --bin-dir "$BINDIR"
    --work "$T/work" --timeout 300)

# --- the programs ----------------------------------------------------------
CFLAGS=(-static -O2 -Wall -Werror)
for p in args exit3; do
	if ! gcc "${CFLAGS[@]}" -o "$T/$p" "$TOP/tools/testing/vm/tests/$p.c"; then
		echo "run.sh: building $p failed" >&2
		exit 1
	fi
done
gcc -O2 -o "$T/dynamic" "$TOP/tools/testing/vm/tests/args.c" || exit 1
# The test module, for the WARN case
test_modules warn_mod "$KDIR"
echo "first line of data" >"$T/data.txt"
for b in $(seq 0 255); do
	printf "\\$(printf %03o "$b")"
done >"$T/bytes.256"
for i in $(seq 64); do
	cat "$T/bytes.256"
done >"$T/exit3.expected"

# --- the harness -----------------------------------------------------------
CASES=9
[ "$USE_MAKE" = 1 ] && CASES=$((CASES + 2))
echo "TAP version 13"
echo "1..$CASES"

no_boot() { lacks "$1" err "booting"; }

# 1: exit 0; arguments (quoted, after --), --files and module parameters
# arrive, stdout and stderr stay apart, the console does not leak into
# stdout
NUM_PSMMUS=/sys/module/mock_smmu/parameters/num_psmmus
run exit0 "${VM[@]}" --prog "$T/args" --files "$T/data.txt" \
	--mock-param num_psmmus=3 \
	--args "data.txt 'two words' $NUM_PSMMUS" exec -- "it's" '$HOME'
check exit0 "want_rc 0" \
	"has exit0 out 'arg1=<data.txt>'" \
	"has exit0 out 'file data.txt: first line of data'" \
	"has exit0 out 'arg2=<two words>'" \
	"has exit0 out 'file $NUM_PSMMUS: 3'" \
	"has exit0 out \"arg4=<it's>\"" \
	"has exit0 out 'arg5=<\$HOME>'" \
	"lacks exit0 out 'this line goes to stderr'" \
	"has exit0 err 'args: this line goes to stderr'" \
	"lacks exit0 out VMTEST" "lacks exit0 out 'reboot:'"

# 2: exit 3 is the host's exit status; 16 KiB of every byte value come
# through unchanged
run exit3 "${VM[@]}" --prog "$T/exit3" exec
check exit3 "want_rc 3" \
	"cmp -s '$T/exit3.out' '$T/exit3.expected' || echo 'stdout is not the 16 KiB the program wrote'"

# 3: the program, a #! script, succeeds, but the module it loaded made a
# kernel WARN
run warn "${VM[@]}" --prog "$TOP/tools/testing/vm/tests/warn.sh" \
	--files "$MODS/warn_mod.ko" exec
check warn "want_rc 1" \
	"has warn out 'warn: warn_mod.ko loaded and unloaded'" \
	"has warn err 'FAIL: kernel report'" \
	"has warn err '1 warning(s) after warn.sh'" \
	"has warn err 'WARNING: CPU'" \
	"has warn err \"warn_mod: warning requested by the VM runner's tests\"" \
	"has warn err 'the program exited 0, but the run is not clean'"

# 4, 5: a missing program or file is refused before anything boots
run missing_prog "${VM[@]}" --prog "$T/no-such-program" exec
check missing_prog "want_rc 2" "no_boot missing_prog" \
	"has missing_prog err \"program '$T/no-such-program' not found\""
run missing_file "${VM[@]}" --prog "$T/args" --files "$T/data.txt $T/no-such-file" exec
check missing_file "want_rc 2" "no_boot missing_file" \
	"has missing_file err \"file '$T/no-such-file' not found\""

# 6: a dynamically linked program is refused
run dynamic "${VM[@]}" --prog "$T/dynamic" exec
check dynamic "want_rc 2" "no_boot dynamic" \
	"has dynamic err 'is dynamically linked'" "has dynamic err 'gcc -static'"

# 7: unbalanced quotes in --args are refused
run bad_args "${VM[@]}" --prog "$T/args" --args "'oops" exec
check bad_args "want_rc 2" "no_boot bad_args" "has bad_args err 'unbalanced quotes'"

# shell_case NAME INPUT...: shell mode with its console on a FIFO; each
# INPUT is written once the shell is ready (after the previous one)
shell_case() {
	local name=$1 i

	shift
	mkfifo "$T/$name.in"
	(
		exec 5>"$T/$name.in"
		for i in $(seq 600); do
			grep -q "Leave with" "$T/$name.out" 2>/dev/null && break
			sleep 0.2
		done
		sleep 0.5
		for i in "$@"; do
			printf '%b' "$i" >&5
			sleep 0.5
		done
		# Keep the console's input open until the VM is gone
		for i in $(seq 600); do
			grep -q "VMTEST: END" "$T/$name.out" 2>/dev/null && break
			sleep 0.2
		done
	) &
	run "$name" timeout -k 5 180 "${VM[@]}" shell <"$T/$name.in"
	wait
}

# 8: the shell: modules loaded, tests on PATH, poweroff ends it cleanly
shell_case shell_poweroff \
	'test -c /dev/iommu && test -c /dev/mock_smmu && echo devs=ok\n' \
	'which iommufd_viommu vmm-demo\n' \
	'poweroff\n'
check shell_poweroff "want_rc 0" \
	"has shell_poweroff out 'devs=ok'" \
	"has shell_poweroff out '/tests/iommufd_viommu'" \
	"has shell_poweroff out '/tests/vmm-demo'" \
	"has shell_poweroff out 'VMTEST: UNLOAD rc=0'"

# 9: Ctrl-D ends it as well
shell_case shell_ctrl_d 'echo sum=$((40 + 2))\n' '\004'
check shell_ctrl_d "want_rc 0" "has shell_ctrl_d out 'sum=42'" \
	"has shell_ctrl_d out 'VMTEST: UNLOAD rc=0'"

if [ "$USE_MAKE" = 1 ]; then
	# 10: make vm-exec passes ARGS (quotes intact) and the module
	# parameters; make cannot exit 3 itself, it reports "Error 3"
	run make_exit3 make -s -C "$TOP" vm-exec PROG="$T/args" \
		ARGS="'a b' $NUM_PSMMUS --exit=3" PSMMUS=1 \
		MOCK_PARAMS="num_psmmus=2" VM_WORK="$T/work"
	check make_exit3 "want_fail" "has make_exit3 err 'Error 3'" \
		"has make_exit3 out 'arg1=<a b>'" \
		"has make_exit3 out 'file $NUM_PSMMUS: 2'"
	# 11: make vm-exec without PROG stops before building anything
	run make_no_prog make -C "$TOP" vm-exec
	check make_no_prog "want_fail" "has make_no_prog err 'make vm-exec needs PROG='"
fi

echo "# vmrun.sh tests: $passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$n" = "$CASES" ]
