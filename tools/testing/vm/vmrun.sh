#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot Debian's 6.12 kernel under QEMU with iommufd.ko and mock_smmu.ko
# loaded, run something inside, and judge the result from the console log.
#
# See --help. The verdict never trusts QEMU's exit code: it needs the
# guest's markers, a clean module unload, and a console free of kernel
# WARN/BUG/Oops/KFENCE/slub reports.
#
# Every run gets its own directory, --work/run.XXXXXX, so that runs started
# at the same time (by several people, or by make test next to make shell)
# do not share an initramfs or a console log. --work/console.log is a link
# to the console log of the run that started last; each run prints the
# path of its own.
set -uo pipefail

usage() {
	cat <<EOM
Usage: vmrun.sh [options] --kernel VMLINUZ --modules DIR MODE [-- ARG...]

Modes:
  test           run every binary of --tests in turn (kselftest TAP), then
                 print "N passed, N failed"
  run            run the program --run names (from --bin-dir)
  exec           copy --prog (static binary or #!/bin/sh script) and
                 --files in, run it with --args and the ARGs after --, stream
                 its stdout and stderr to ours, exit with its status
  shell          interactive busybox shell on the console; leave it with
                 'poweroff' or Ctrl-D (Ctrl-A x kills QEMU)

Options:
  --kernel F        vmlinuz to boot (any kernel the modules were built for)
  --modules DIR     directory holding iommufd.ko and mock_smmu.ko; its
                    VFIO modules (make modules builds them: vfio.ko,
                    vfio_iommu_type1.ko, vfio-pci-core.ko, vfio-pci.ko, with
                    Debian's irqbypass.ko), if there, are loaded too
  --bin-dir DIR     directory of test binaries, copied to /tests (on PATH)
  --tests "A B"     binaries of --bin-dir to run in test mode
  --run NAME        binary of --bin-dir to run in run mode
  --prog F          program for exec mode (must be statically linked); in
                    shell mode it is available too, on PATH
  --args "..."      its arguments, split and unquoted like a shell command
                    line (by the guest's sh), e.g. --args "-v 'a b'";
                    ARGs after -- are passed exactly as given, after them
  --files "F ..."   extra files or directories copied into the guest's /tmp,
                    the program's working directory
  --mock-param P    module parameter for mock_smmu.ko (repeatable),
                    e.g. --mock-param num_psmmus=2
  --iommufd-param P module parameter for iommufd.ko (repeatable)
  --no-mock         do not load mock_smmu.ko (a VM with an IOMMU of its own)
  --qemu-arg A      one more argument for QEMU's command line (repeatable),
                    e.g. --qemu-arg -device --qemu-arg edu
  --timeout S       host-side limit for the whole boot (default 900; none
                    in shell mode)
  --accel A         kvm, tcg or auto (default: auto = kvm only if a probe
                    boot with KVM succeeds, remembered in --work)
  --work DIR        scratch and cache directory (default build/vm); each run
                    uses a new DIR/run.XXXXXX, the newest $KEEP_RUNS are kept
  --memory M        guest memory in MiB (default 1024)
  --allocator A     debug (default: slub_debug=FZPU, KFENCE sampling every
                    allocation) or production (Debian's defaults: no slub
                    debugging, KFENCE off), for benchmarks
  --debug           the kernel is a debug kernel (make test-debug's: KASAN,
                    kmemleak, lockdep): boot without quiet, with the console
                    at warning level, so that lockdep and RCU reports reach
                    it; after unloading the modules, wait 6 s and run a
                    kmemleak scan; fail on any kmemleak suspect and unless
                    lockdep is still on (debug_locks 1) at the end
  -h, --help        this text

Exit status: test mode 0 if every test passed and the run was clean; run
and exec mode the program's exit status, or 1 if it exited 0 but the run
was not clean (kernel WARNING/BUG/Oops/KFENCE/slub/KASAN/lockdep/kmemleak
report, module unload failure, timeout: the reason is printed); shell mode
0 if the run was clean, else 1. 2 for a usage error (missing or dynamically linked
program, missing file, ...), before anything boots.

In exec and shell mode the program's stdin is /dev/null (exec) or the
console (shell). In exec mode its stdout is ours, its stderr our stderr
(raw: no line-ending translation); kernel messages and the runner's own
messages go to our stderr. Each run prints where its console log is.

Example (make vm-exec PROG=./a.out ARGS=-v PSMMUS=2 does the same):
  vmrun.sh --kernel build/cache/image-*/vmlinuz --modules build/modules \\
          --mock-param num_psmmus=2 --prog ./a.out --args -v exec
EOM
}

TOP=$(cd "$(dirname "$0")/../../.." && pwd)
KERNEL="" MODDIR="" BINDIR="" TESTS="" RUN="" PROG="" ARGS="" FILES=""
MOCK_PARAMS="" IOMMUFD_PARAMS="" TIMEOUT=900 ACCEL=auto MEM=1024
WORK=$TOP/build/vm MODE="" ALLOCATOR=debug DEBUG=0 NO_MOCK=0
QEMU_EXTRA=()
KEEP_RUNS=10

# Quote one argument for the guest's sh: 'it'\''s'
sh_quote() {
	local q=\'\\\'\'
	printf "'%s'" "${1//\'/$q}"
}

while [ $# -gt 0 ]; do
	case $1 in
	--kernel|--modules|--bin-dir|--tests|--run|--prog|--args|--files|\
	--mock-param|--iommufd-param|--timeout|--accel|--work|--memory|\
	--allocator|--qemu-arg)
		if [ $# -lt 2 ]; then
			echo "vmrun: $1 needs a value (see --help)" >&2
			exit 2
		fi
		;;
	esac
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
	--allocator) ALLOCATOR=$2; shift ;;
	--debug) DEBUG=1 ;;
	--no-mock) NO_MOCK=1 ;;
	--qemu-arg) QEMU_EXTRA+=("$2"); shift ;;
	-h|--help) usage; exit 0 ;;
	test|run|exec|shell) MODE=$1 ;;
	--)
		shift
		for a in "$@"; do
			ARGS="$ARGS $(sh_quote "$a")"
		done
		break
		;;
	*) echo "vmrun: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done

die() { echo "vmrun: $*" >&2; exit 2; }
log() { echo "[vm] $*" >&2; }

[ -n "$MODE" ] || { usage >&2; exit 2; }
case $ALLOCATOR in
debug|production) ;;
*) die "--allocator '$ALLOCATOR': use debug or production" ;;
esac
[ -f "$KERNEL" ] || die "kernel '$KERNEL' not found"
for m in iommufd $([ "$NO_MOCK" = 1 ] || echo mock_smmu); do
	[ -f "$MODDIR/$m.ko" ] || die "module '$MODDIR/$m.ko' not found"
done
# The VFIO modules, in load order (init.sh loads what it finds)
VFIO_MODS="irqbypass vfio vfio_iommu_type1 vfio-pci-core vfio-pci"
for t in qemu-system-x86_64 cpio gzip readelf flock; do
	command -v "$t" >/dev/null || die "'$t' is not installed (make deps installs what make test needs)"
done

is_static() {
	# A dynamic ELF has a program interpreter; a static one does not.
	! LC_ALL=C readelf -l "$1" 2>/dev/null | grep -q 'Requesting program interpreter'
}

# A program the guest can run: a static x86-64 ELF, or a script for the
# guest's busybox sh. Everything is checked before anything boots.
check_prog() {
	local f=$1 machine

	[ -e "$f" ] || die "program '$f' not found"
	[ -f "$f" ] || die "program '$f' is not a regular file"
	[ -r "$f" ] || die "program '$f' is not readable"
	if [ "$(head -c 2 "$f")" = "#!" ]; then
		return 0
	fi
	machine=$(LC_ALL=C readelf -h "$f" 2>/dev/null | sed -n 's/^ *Machine: *//p')
	[ -n "$machine" ] ||
		die "'$f' is neither an ELF executable nor a #! script"
	case $machine in
	*X86-64*) ;;
	*) die "'$f' is built for '$machine'; the guest is x86-64" ;;
	esac
	is_static "$f" ||
		die "'$f' is dynamically linked; the guest has no C library: link it with -static (gcc -static ...)"
}

if [ -n "$PROG" ]; then
	[ "$MODE" = exec ] || [ "$MODE" = shell ] ||
		die "--prog is for exec and shell mode"
	check_prog "$PROG"
elif [ "$MODE" = exec ]; then
	die "exec mode needs --prog"
fi
for f in $FILES; do
	[ -e "$f" ] || die "file '$f' not found"
done
if [ "$MODE" = exec ] && ! bash -n -c "set -- $ARGS" 2>/dev/null; then
	die "--args '$ARGS': unbalanced quotes"
fi

# --- per-run directory ---------------------------------------------------
mkdir -p "$WORK" || die "cannot create '$WORK'"
RUNDIR=$(mktemp -d "$WORK/run.XXXXXX") || die "cannot create a run directory in '$WORK'"
chmod 755 "$RUNDIR"
# Held for the whole run: the pruning below skips directories in use.
exec 9>"$RUNDIR/lock"
flock 9
for d in $(ls -dt "$WORK"/run.* 2>/dev/null | tail -n +$((KEEP_RUNS + 1))); do
	[ "$d" != "$RUNDIR" ] || continue
	( flock -n 8 && rm -rf "$d" ) 8>>"$d/lock" 2>/dev/null
done
LOG=$RUNDIR/console.log
: >"$LOG"
ln -sfn "$(basename "$RUNDIR")/console.log" "$WORK/console.log.$$" &&
	mv -Tf "$WORK/console.log.$$" "$WORK/console.log"

READERS=()
cleanup() {
	local p
	for p in "${READERS[@]}"; do
		kill "$p" 2>/dev/null
	done
	# The console log stays; the rest is rebuilt by every run.
	rm -rf "$RUNDIR/root" "$RUNDIR/initramfs.cpio.gz" "$RUNDIR"/*.fifo
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- initramfs -------------------------------------------------------------
ROOT=$RUNDIR/root
mkdir -p "$ROOT"/{bin,dev,proc,sys,tmp,etc,modules,tests,exec/files}
cp /bin/busybox "$ROOT/bin/busybox" || die "busybox-static is not installed"
is_static "$ROOT/bin/busybox" || die "/bin/busybox is not static (install busybox-static)"
cp "$TOP/tools/testing/vm/init.sh" "$ROOT/init"
chmod +x "$ROOT/init"
cp "$MODDIR/iommufd.ko" "$ROOT/modules/"
[ "$NO_MOCK" = 1 ] || cp "$MODDIR/mock_smmu.ko" "$ROOT/modules/"
for m in $VFIO_MODS; do
	[ ! -f "$MODDIR/$m.ko" ] || cp "$MODDIR/$m.ko" "$ROOT/modules/"
done
echo "$MOCK_PARAMS" >"$ROOT/etc/mock_smmu.params"
echo "$IOMMUFD_PARAMS" >"$ROOT/etc/iommufd.params"
if [ -n "$BINDIR" ]; then
	for f in "$BINDIR"/*; do
		[ -f "$f" ] && [ -x "$f" ] && cp "$f" "$ROOT/tests/"
	done
fi
echo "$TESTS" >"$ROOT/etc/tests"
echo "$RUN" >"$ROOT/etc/run"
if [ -n "$PROG" ]; then
	name=$(basename "$PROG")
	cp "$PROG" "$ROOT/exec/$name" || die "cannot copy '$PROG'"
	chmod +x "$ROOT/exec/$name"
	echo "$name" >"$ROOT/etc/exec.prog"
fi
for f in $FILES; do
	cp -r "$f" "$ROOT/exec/files/" || die "cannot copy '$f'"
done
printf '%s\n' "$ARGS" >"$ROOT/etc/exec.args"
(cd "$ROOT" && find . | cpio -o -H newc --quiet | gzip -1) >"$RUNDIR/initramfs.cpio.gz" ||
	die "packing the initramfs failed"

# --- boot --------------------------------------------------------------------
APPEND="console=ttyS0 quiet panic=-1 oops=panic"
# Lockdep and RCU reports are printed at warning level (4), which quiet
# hides: the debug kernel's console shows levels 0-4.
[ "$DEBUG" = 0 ] ||
	APPEND="console=ttyS0 loglevel=5 panic=-1 oops=panic vmtest.debug=1"
if [ "$ALLOCATOR" = debug ]; then
	APPEND="$APPEND slub_debug=FZPU kfence.sample_interval=1"
else
	# What users run: no slub debugging, and no KFENCE sampling at all
	APPEND="$APPEND kfence.sample_interval=0"
fi
# qemu_cmd ACCEL MODE [QEMU OPTION...]: the command line, in QEMU_CMD
qemu_cmd() {
	local accel=$1 mode=$2 cpu=max acc=$1
	shift 2
	# Multi-threaded TCG was seen to oops early in boot (an int3 left by
	# the kernel's live code patching): one host thread runs both vCPUs.
	[ "$accel" = tcg ] && acc="tcg,thread=single"
	[ "$accel" = kvm ] && cpu=host
	QEMU_CMD=(qemu-system-x86_64 -accel "$acc" -cpu "$cpu" -m "$MEM" -smp 2
		-nographic -no-reboot -kernel "$KERNEL"
		-initrd "$RUNDIR/initramfs.cpio.gz"
		-append "$APPEND vmtest.mode=$mode${VMTEST_EXTRA:-}"
		${QEMU_EXTRA[@]+"${QEMU_EXTRA[@]}"} "$@")
}

if [ "$ACCEL" = auto ]; then
	ACCEL=tcg
	if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
		if [ -f "$WORK/accel" ]; then
			ACCEL=$(cat "$WORK/accel")
		else
			log "probing KVM with a short boot"
			qemu_cmd kvm probe
			if timeout 30 "${QEMU_CMD[@]}" </dev/null 2>&1 |
			   grep -q "VMTEST: PROBE-OK"; then
				ACCEL=kvm
			fi
			echo "$ACCEL" >"$WORK/accel.$$" && mv -f "$WORK/accel.$$" "$WORK/accel"
			log "KVM probe: using $ACCEL"
		fi
	fi
fi

limit=", timeout ${TIMEOUT}s"
[ "$MODE" != shell ] || limit=""
log "booting $(basename "$KERNEL") ($ACCEL, mode $MODE$limit); console log: $LOG"
case $MODE in
shell)
	# The guest's console gets the size of our terminal. QEMU puts the
	# terminal in raw mode and restores it; if it is killed, we do.
	VMTEST_EXTRA=""
	tty_state=""
	if [ -t 0 ]; then
		tty_state=$(stty -g)
		read -r rows cols < <(stty size 2>/dev/null) &&
			VMTEST_EXTRA=" vmtest.rows=$rows vmtest.cols=$cols"
	fi
	qemu_cmd "$ACCEL" shell
	"${QEMU_CMD[@]}" 2>&1 | tee "$LOG.raw"
	[ -z "$tty_state" ] || stty "$tty_state"
	tr -d '\r' <"$LOG.raw" >"$LOG" && rm -f "$LOG.raw"
	;;
exec)
	# ttyS1 carries the program's stdout, ttyS2 its stderr, each through
	# a FIFO to ours; the console (ttyS0) has the kernel's messages and
	# the markers, shown on our stderr.
	mkfifo "$RUNDIR/out.fifo" "$RUNDIR/err.fifo" || die "mkfifo failed"
	cat "$RUNDIR/out.fifo" &
	READERS+=($!)
	cat "$RUNDIR/err.fifo" >&2 &
	READERS+=($!)
	qemu_cmd "$ACCEL" exec -serial mon:stdio \
		-serial "file:$RUNDIR/out.fifo" -serial "file:$RUNDIR/err.fifo"
	timeout --foreground -k 10 "$TIMEOUT" "${QEMU_CMD[@]}" \
		</dev/null 2>&1 | tr -d '\r' | tee -a "$LOG" |
		awk '/VMTEST: BOOTED/ { on = 1; next }
		     /^VMTEST: |reboot: Power down|taints kernel|module verification failed/ { next }
		     on { print; fflush() }' >&2
	[ "${PIPESTATUS[0]}" = 124 ] && echo "VMTEST-HOST: TIMEOUT" >>"$LOG"
	# If QEMU never opened a FIFO, its reader still waits in open():
	# open and close it once as a writer to give it its end of file.
	for f in out err; do
		exec 7<>"$RUNDIR/$f.fifo" && exec 7>&-
	done
	wait "${READERS[@]}"
	READERS=()
	;;
*)
	qemu_cmd "$ACCEL" "$MODE"
	timeout --foreground -k 10 "$TIMEOUT" "${QEMU_CMD[@]}" \
		</dev/null 2>&1 | tr -d '\r' | tee -a "$LOG" |
		awk '/VMTEST: BOOTED/ { on = 1; next }
		     on && !/^VMTEST: (RUN exec|RESULT exec|END)/ { print; fflush() }'
	[ "${PIPESTATUS[0]}" = 124 ] && echo "VMTEST-HOST: TIMEOUT" >>"$LOG"
	;;
esac

# --- verdict ---------------------------------------------------------------
# test and run mode report on stdout, as they always did; exec and shell
# mode keep stdout for the program and report on stderr.
case $MODE in
exec|shell) exec 3>&2 ;;
*) exec 3>&1 ;;
esac

problems=()
if grep -q '^VMTEST-HOST: TIMEOUT' "$LOG"; then
	problems+=("the VM did not finish within ${TIMEOUT}s")
fi
if ! grep -q '^VMTEST: LOAD rc=0' "$LOG"; then
	problems+=("loading the modules failed")
fi
while IFS= read -r line; do
	problems+=("kernel report: ${line#VMTEST: KERNEL-REPORT }")
done < <(grep '^VMTEST: KERNEL-REPORT' "$LOG")
# The lines that name a report, and the message line of each WARN(); the
# debug kernel's reports (KASAN, lockdep, kmemleak, DEBUG_OBJECTS,
# DEBUG_LIST, DEBUG_ATOMIC_SLEEP) have a line of their own too.
reports=$(awk '/-\[ cut here \]-/ { msg = NR + 1 }
	NR == msg || /WARNING:|BUG:|^(\[[ 0-9.]*\] )?BUG |Oops|KFENCE|Kernel panic|general protection fault|kernel BUG|UBSAN:|Call Trace:/ ||
	/KASAN|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|ODEBUG|list_(add|del) corruption|list corruption|sleeping function called from invalid context|unreferenced object 0x/ {
		print NR ":" $0
	}' "$LOG" | head -n 6)
if [ -n "$reports" ]; then
	problems+=("kernel report in the console log:"$'\n'"$reports")
fi
if ! grep -q '^VMTEST: UNLOAD rc=0' "$LOG"; then
	problems+=("module unload failed or did not happen")
fi
if [ "$DEBUG" = 1 ] && grep -q '^VMTEST: UNLOAD rc=0' "$LOG"; then
	grep -q '^VMTEST: KMEMLEAK suspects=' "$LOG" ||
		problems+=("the kmemleak scan did not happen (a kernel without kmemleak?)")
	if ! grep -q '^VMTEST: DEBUG-LOCKS ' "$LOG"; then
		problems+=("no /proc/lockdep_stats (a kernel without lockdep?)")
	elif ! grep -q '^VMTEST: DEBUG-LOCKS 1$' "$LOG"; then
		problems+=("lockdep is off at the end (debug_locks 0): it reported a problem, or gave up")
	fi
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

# exec and shell mode showed the console from the guest's first marker on:
# the tail is needed only when the guest did not get that far.
show_tail=1
case $MODE in
exec|shell) ! grep -q 'VMTEST: BOOTED' "$LOG" || show_tail=0 ;;
esac
if [ ${#problems[@]} -gt 0 ]; then
	{
		if [ "$show_tail" = 1 ]; then
			echo "---- console tail ($LOG) ----"
			tail -n 40 "$LOG"
			echo "-----------------------------"
		fi
		for p in "${problems[@]}"; do
			echo "FAIL: $p"
		done
	} >&3
fi

case $MODE in
test)
	fail=$((fail + ${#problems[@]}))
	echo "[vm] console log: $LOG" >&2
	if [ "$skip" -gt 0 ]; then
		echo "$pass passed, $fail failed, $skip skipped"
	else
		echo "$pass passed, $fail failed"
	fi
	[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
	exit
	;;
shell)
	[ ${#problems[@]} -eq 0 ] || exit 1
	exit 0
	;;
*)
	if [ ${#problems[@]} -gt 0 ]; then
		[ -z "${r:-}" ] || echo "vmrun: the program exited $r, but the run is not clean (see FAIL above)" >&3
		[ "$rc" != 0 ] || rc=1
	fi
	exit "$rc"
	;;
esac
