#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench-profile: one boot of the bench VM (production allocator) with
# the benchmark program run under perf, sampling every CPU with the
# cpu-clock software event, then perf's report by symbol.
#
#   bench-profile.sh --prog BIN --wrapper PERF_RUN --out FILE [--psmmus N]
#                    [--args "..."] -- VMRUN-OPTION...
#
# The host's own perf (Debian's linux-perf) goes into the VM with the
# shared libraries ldd lists for it and their loader; perf-run, a static
# program, starts it there. The VM's kernel symbols come from its
# /proc/kallsyms, the modules' included. Samples land at the start of
# QEMU translation blocks, so a symbol's share is a good measure, an
# instruction's is not.
set -uo pipefail

PROG="" WRAPPER="" OUT="" PSMMUS=1 ARGS=""
while [ $# -gt 0 ]; do
	case $1 in
	--prog) PROG=$2; shift 2 ;;
	--wrapper) WRAPPER=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--psmmus) PSMMUS=$2; shift 2 ;;
	--args) ARGS=$2; shift 2 ;;
	--) shift; break ;;
	*) echo "bench-profile: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
[ -n "$PROG" ] && [ -n "$WRAPPER" ] && [ -n "$OUT" ] ||
	{ echo "bench-profile: needs --prog, --wrapper and --out" >&2; exit 2; }

PERF=$(command -v perf) || {
	echo "bench-profile: perf is not installed (Debian: apt-get install linux-perf)" >&2
	exit 1
}
# Debian's /usr/bin/perf may be a wrapper script choosing perf_<version>
if ! file -L "$PERF" | grep -q ELF; then
	PERF=$(ls /usr/bin/perf_* 2>/dev/null | sort -V | tail -n 1)
	[ -n "$PERF" ] || { echo "bench-profile: no perf binary found" >&2; exit 1; }
fi

ROOT=$(dirname "$OUT")/perf-root
rm -rf "$ROOT"
mkdir -p "$ROOT/lib" || exit 1
cp -L "$PERF" "$ROOT/perf" || exit 1
cp "$PROG" "$ROOT/" || exit 1
# Every library perf links, and the loader (the line without "=>")
libs=$(ldd "$PERF" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }
			  $1 ~ /^\/.*ld-linux/ { print $1 }')
for l in $libs; do
	cp -L "$l" "$ROOT/lib/" || exit 1
done
[ -e "$ROOT/lib/ld-linux-x86-64.so.2" ] ||
	{ echo "bench-profile: ldd named no x86-64 loader for $PERF" >&2; exit 1; }

echo "bench-profile: $(basename "$PROG") $ARGS under $("$PERF" --version), num_psmmus=$PSMMUS"
"$(dirname "$0")/vmrun.sh" "$@" --allocator production \
	--mock-param "num_psmmus=$PSMMUS" --prog "$WRAPPER" --files "$ROOT" \
	--args "$(basename "$PROG") $ARGS" exec >"$OUT"
rc=$?
# perf colours its report even into a file; the escapes go
sed 's/\x1b\[[0-9;]*m//g' "$OUT" | grep -v '^csv,'
rm -rf "$ROOT"
echo "bench-profile: report in $OUT"
exit $rc
