#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot Debian's 6.12 kernel under QEMU with iommufd.ko and mock_smmu.ko
# loaded, run something inside, and judge the result from the console log.
#
# See --help. The verdict never trusts QEMU's exit code: it needs the
# guest's markers, a clean module unload, and a console free of kernel
# WARN/BUG/Oops/KFENCE/slub reports.
set -uo pipefail

usage() {
	cat <<EOM
Usage: vmrun.sh [options] --kernel VMLINUZ --modules DIR MODE

Modes:
  test           run every binary of --tests in turn (kselftest TAP), then
                 print "N passed, N failed"
  run            run the program --run names (from --bin-dir)
  exec           copy --prog (static binary) and --files in, run it with
                 --args, exit with its status
  shell          interactive busybox shell on the console

Options:
  --kernel F        vmlinuz to boot
  --modules DIR     directory holding iommufd.ko and mock_smmu.ko
  --bin-dir DIR     directory of test binaries, copied to /tests (on PATH)
  --tests "A B"     binaries of --bin-dir to run in test mode
  --run NAME        binary of --bin-dir to run in run mode
  --prog F          program for exec mode (must be statically linked)
  --args "..."      its arguments
  --files "F ..."   extra files copied next to it (guest cwd /tmp)
  --mock-param P    module parameter for mock_smmu.ko (repeatable),
                    e.g. --mock-param num_psmmus=2
  --iommufd-param P module parameter for iommufd.ko (repeatable)
  --timeout S       host-side limit for the whole boot (default 900)
  --accel A         kvm, tcg or auto (default: auto = kvm only if a probe
                    boot with KVM succeeds, remembered in --work)
  --work DIR        scratch and cache directory (default build/vm)
  --memory M        guest memory in MiB (default 1024)
  -h, --help        this text
EOM
}

TOP=$(cd "$(dirname "$0")/../../.." && pwd)
KERNEL="" MODDIR="" BINDIR="" TESTS="" RUN="" PROG="" ARGS="" FILES=""
MOCK_PARAMS="" IOMMUFD_PARAMS="" TIMEOUT=900 ACCEL=auto MEM=1024
WORK=$TOP/build/vm MODE=""

while [ $# -gt 0 ]; do
	case $1 in
	--kernel) KERNEL=$2; shift ;;
	--modules) MODDIR=$2; shift ;;
	--bin-dir) BINDIR=$2; shift ;;
	--tests) TESTS=$2; shift ;;
	--run) RUN=$2; shift ;;
	--prog) PROG=$2; shift ;;
	--args) ARGS=$2; shift ;;
	--files) FILES=$2; shift ;;
	--mock-param) MOCK_PARAMS="$MOCK_PARAMS $2"; shift ;;
	--iommufd-param) IOMMUFD_PARAMS="$IOMMUFD_PARAMS $2"; shift ;;
	--timeout) TIMEOUT=$2; shift ;;
	--accel) ACCEL=$2; shift ;;
	--work) WORK=$2; shift ;;
	--memory) MEM=$2; shift ;;
	-h|--help) usage; exit 0 ;;
	test|run|exec|shell) MODE=$1 ;;
	*) echo "vmrun: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done

die() { echo "vmrun: $*" >&2; exit 2; }
log() { echo "[vm] $*" >&2; }

[ -n "$MODE" ] || { usage >&2; exit 2; }
[ -f "$KERNEL" ] || die "kernel '$KERNEL' not found"
for m in iommufd mock_smmu; do
	[ -f "$MODDIR/$m.ko" ] || die "module '$MODDIR/$m.ko' not found"
done

is_static() {
	# A dynamic ELF has a program interpreter; a static one does not.
	! LC_ALL=C readelf -l "$1" 2>/dev/null | grep -q 'Requesting program interpreter'
}

# --- initramfs -------------------------------------------------------------
ROOT=$WORK/root
rm -rf "$ROOT"
mkdir -p "$ROOT"/{bin,dev,proc,sys,tmp,etc,modules,tests,exec} "$WORK"
cp /bin/busybox "$ROOT/bin/busybox" || die "busybox-static is not installed"
is_static "$ROOT/bin/busybox" || die "/bin/busybox is not static (install busybox-static)"
cp "$TOP/tools/testing/vm/init.sh" "$ROOT/init"
chmod +x "$ROOT/init"
cp "$MODDIR/iommufd.ko" "$MODDIR/mock_smmu.ko" "$ROOT/modules/"
echo "$MOCK_PARAMS" >"$ROOT/etc/mock_smmu.params"
echo "$IOMMUFD_PARAMS" >"$ROOT/etc/iommufd.params"
if [ -n "$BINDIR" ]; then
	for f in "$BINDIR"/*; do
		[ -f "$f" ] && [ -x "$f" ] && cp "$f" "$ROOT/tests/"
	done
fi
echo "$TESTS" >"$ROOT/etc/tests"
echo "$RUN" >"$ROOT/etc/run"
if [ "$MODE" = exec ]; then
	[ -n "$PROG" ] || die "exec mode needs --prog"
	[ -f "$PROG" ] || die "program '$PROG' not found"
	is_static "$PROG" ||
		die "'$PROG' is dynamically linked; the guest has no C library: link it with -static"
	cp "$PROG" "$ROOT/exec/prog"
	chmod +x "$ROOT/exec/prog"
	for f in $FILES; do
		[ -e "$f" ] || die "file '$f' not found"
		cp -r "$f" "$ROOT/tmp/"
	done
	echo "$ARGS" >"$ROOT/etc/exec.args"
fi
(cd "$ROOT" && find . | cpio -o -H newc --quiet | gzip -1) >"$WORK/initramfs.cpio.gz" ||
	die "packing the initramfs failed"

# --- boot --------------------------------------------------------------------
APPEND="console=ttyS0 quiet panic=-1 oops=panic slub_debug=FZPU kfence.sample_interval=1"
qemu_cmd() {
	local accel=$1 mode=$2
	local cpu="-cpu max" acc=$accel
	# Multi-threaded TCG was seen to oops early in boot (an int3 left by
	# the kernel's live code patching): one host thread runs both vCPUs.
	[ "$accel" = tcg ] && acc="tcg,thread=single"
	[ "$accel" = kvm ] && cpu="-cpu host"
	echo qemu-system-x86_64 -accel "$acc" $cpu -m "$MEM" -smp 2 \
		-nographic -no-reboot -kernel "$KERNEL" \
		-initrd "$WORK/initramfs.cpio.gz" \
		-append "'$APPEND vmtest.mode=$mode'"
}

if [ "$ACCEL" = auto ]; then
	ACCEL=tcg
	if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
		if [ -f "$WORK/accel" ]; then
			ACCEL=$(cat "$WORK/accel")
		else
			log "probing KVM with a short boot"
			if timeout 30 bash -c "$(qemu_cmd kvm probe)" </dev/null 2>&1 |
			   grep -q "VMTEST: PROBE-OK"; then
				ACCEL=kvm
			fi
			echo "$ACCEL" >"$WORK/accel"
			log "KVM probe: using $ACCEL"
		fi
	fi
fi

LOG=$WORK/console.log
log "booting $(basename "$KERNEL") ($ACCEL, mode $MODE, timeout ${TIMEOUT}s); console log: $LOG"
if [ "$MODE" = shell ]; then
	bash -c "$(qemu_cmd "$ACCEL" shell)" 2>&1 | tee "$LOG"
else
	timeout --foreground -k 10 "$TIMEOUT" bash -c "$(qemu_cmd "$ACCEL" "$MODE")" \
		</dev/null 2>&1 | tr -d '\r' | tee "$LOG" |
		awk '/VMTEST: BOOTED/ { on = 1; next }
		     on && !/^VMTEST: (RUN exec|RESULT exec|END)/ { print; fflush() }'
	[ "${PIPESTATUS[0]}" = 124 ] && echo "VMTEST-HOST: TIMEOUT" >>"$LOG"
fi

# --- verdict ---------------------------------------------------------------
problems=()
if grep -q '^VMTEST-HOST: TIMEOUT' "$LOG"; then
	problems+=("the VM did not finish within ${TIMEOUT}s")
fi
if ! grep -q '^VMTEST: LOAD rc=0' "$LOG"; then
	problems+=("loading the modules failed")
fi
reports=$(grep -n -E 'WARNING:|BUG:|^(\[[ 0-9.]*\] )?BUG |Oops|KFENCE|Kernel panic|general protection fault|kernel BUG|UBSAN:|Call Trace:' "$LOG" | head -n 5)
if [ -n "$reports" ]; then
	problems+=("kernel report in the console log:"$'\n'"$reports")
fi
if ! grep -q '^VMTEST: UNLOAD rc=0' "$LOG"; then
	problems+=("module unload failed or did not happen")
fi
if ! grep -q '^VMTEST: END' "$LOG"; then
	problems+=("the guest did not reach its end marker")
fi

rc=0
case $MODE in
test)
	pass=$(grep -c -E '^ok [0-9]+ ' "$LOG")
	skip=$(grep -c -E '^ok [0-9]+ .*# SKIP' "$LOG")
	pass=$((pass - skip))
	fail=$(grep -c -E '^not ok [0-9]+ ' "$LOG")
	for t in $TESTS; do
		r=$(sed -n "s/^VMTEST: RESULT $t rc=\([0-9]*\)$/\1/p" "$LOG")
		if [ -z "$r" ]; then
			problems+=("$t: no verdict (crashed or never ran)")
		elif [ "$r" != 0 ] && ! grep -q "^not ok" "$LOG"; then
			problems+=("$t: exited $r without a failed test")
		fi
	done
	;;
run|exec)
	name=$RUN
	[ "$MODE" = exec ] && name=exec
	r=$(sed -n "s/^VMTEST: RESULT $name rc=\([0-9]*\)$/\1/p" "$LOG")
	[ -n "$r" ] || problems+=("the program gave no exit status")
	rc=${r:-1}
	;;
esac

if [ ${#problems[@]} -gt 0 ]; then
	echo "---- console tail ($LOG) ----"
	tail -n 40 "$LOG"
	echo "-----------------------------"
	for p in "${problems[@]}"; do
		echo "FAIL: $p"
	done
fi

case $MODE in
test)
	fail=$((fail + ${#problems[@]}))
	if [ "$skip" -gt 0 ]; then
		echo "$pass passed, $fail failed, $skip skipped"
	else
		echo "$pass passed, $fail failed"
	fi
	[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
	exit
	;;
shell)
	exit 0
	;;
*)
	[ ${#problems[@]} -eq 0 ] || exit 1
	exit "$rc"
	;;
esac
