# SPDX-License-Identifier: GPL-2.0
#
# The harness shared by the VM runner's own tests (run.sh, debug.sh):
# sourced, never run. A case runs one command with run(), then check()
# evaluates check strings, each of which prints a problem or nothing, and
# prints the case's TAP line. The caller sets $T (scratch directory) and
# may set $TAIL_LINES (stderr lines shown for a failed case).

n=0 passed=0 failed=0
TAIL_LINES=${TAIL_LINES:-15}

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
