# SPDX-License-Identifier: GPL-2.0
#
# The harness shared by the VM runner's own tests (run.sh, debug.sh):
# sourced, never run. scratch() and test_modules() set a run up; a case
# runs one command with run(), then check()
# evaluates check strings, each of which prints a problem or nothing, and
# prints the case's TAP line. The caller sets $T (scratch directory) and
# may set $TAIL_LINES (stderr lines shown for a failed case).

n=0 passed=0 failed=0
TAIL_LINES=${TAIL_LINES:-15}

# scratch PREFIX: a new scratch directory in $T, removed at exit unless
# $KEEP is 1, holding a --work directory $T/work that starts with what the
# default one (build/vm) learned about KVM, or with $ACCEL if given, so
# that no case pays for the probe boot
scratch() {
	T=$(mktemp -d "/tmp/$1.XXXXXX") || exit 1
	if [ "$KEEP" = 1 ]; then
		echo "# scratch directory: $T"
	else
		trap 'rm -rf "$T"' EXIT
	fi
	mkdir -p "$T/work" || exit 1
	if [ -n "$ACCEL" ]; then
		echo "$ACCEL" >"$T/work/accel"
	elif [ -f "$TOP/build/vm/accel" ]; then
		cp "$TOP/build/vm/accel" "$T/work/accel"
	fi
}

# test_modules DIR KDIR: build the modules of tools/testing/vm/tests/DIR
# against the kernel tree KDIR, in $MODS. Kbuild writes next to its
# sources, so they build in a copy, build/vm-tests/DIR, whose files are
# replaced only when they change (make then rebuilds only what changed).
test_modules() {
	local f

	MODS=$TOP/build/vm-tests/$1
	mkdir -p "$MODS" || exit 1
	for f in "$TOP/tools/testing/vm/tests/$1"/*; do
		cmp -s "$f" "$MODS/${f##*/}" || cp "$f" "$MODS/" || exit 1
	done
	if ! make -s -C "$2" M="$MODS" modules >"$T/$1.build" 2>&1; then
		cat "$T/$1.build" >&2
		echo "${0##*/}: building $1 against $2 failed" >&2
		exit 1
	fi
}

# run NAME CMD...: stdout to $T/NAME.out, stderr to $T/NAME.err, exit
# status in $rc, seconds taken in $secs; $T/NAME.log links to the console
# log the runner names on stderr, if it names one
run() {
	local name=$1 start=$SECONDS log

	shift
	"$@" >"$T/$name.out" 2>"$T/$name.err"
	rc=$?
	secs=$((SECONDS - start))
	log=$(sed -n 's/.*console log: //p' "$T/$name.err" | head -n 1)
	[ -z "$log" ] || ln -sf "$log" "$T/$name.log"
}

# result NAME PROBLEM...: ok if no problem was given
result() {
	local name=$1 p

	shift
	n=$((n + 1))
	if [ $# -eq 0 ]; then
		passed=$((passed + 1))
		echo "ok $n $name (${secs}s)"
		return
	fi
	failed=$((failed + 1))
	echo "not ok $n $name (${secs}s)"
	for p in "$@"; do
		echo "#   $p"
	done
	echo "#   exit status $rc; stderr:"
	tail -n "$TAIL_LINES" "$T/$name.err" | sed 's/^/#     /'
}

# The checks: has/lacks take a fixed string, has_re/lacks_re an extended
# regular expression; NAME STREAM (out, err or log) PATTERN
want_rc() { [ "$rc" = "$1" ] || echo "exit status $rc, expected $1"; }
want_fail() { [ "$rc" != 0 ] || echo "exit status 0, expected a failure"; }
has() { grep -q -F -e "$3" "$T/$1.$2" || echo "$2 lacks '$3'"; }
lacks() { ! grep -q -F -e "$3" "$T/$1.$2" || echo "$2 has '$3'"; }
has_re() { grep -q -E -e "$3" "$T/$1.$2" || echo "$2 lacks /$3/"; }
lacks_re() { ! grep -q -E -e "$3" "$T/$1.$2" || echo "$2 has /$3/"; }

# check NAME CHECK...: evaluate each check, collect what they print
check() {
	local name=$1 c out problems=()

	shift
	for c in "$@"; do
		out=$(eval "$c")
		[ -z "$out" ] || problems+=("$out")
	done
	result "$name" "${problems[@]}"
}
