#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: boot the test VM with the production allocator once per
# pSMMU count and run the benchmark program (iommufd_vsmmu_perf) there.
#
#   bench.sh --prog BIN --out DIR [--psmmus "1 2 4 8"] [--full-at 4]
#            [--args "..."] -- VMRUN-OPTION...
#
# Workloads 1, 2, 5 and 6 run in every boot; 3 and 4 (scale and memory,
# which create thousands of devices) only in the boot with --full-at
# pSMMUs. --args go to the program after that choice, so "-w ..." in
# them wins.
#
# The readable report is printed and kept in DIR/report.txt; every figure
# is also in DIR/bench.csv (one header line, then one line per figure).
# Figures are ratios within one boot: nothing here compares two boots, and
# the exit status says only whether every run completed cleanly.
set -uo pipefail

PROG="" OUT="" PSMMUS="1 2 4 8" ARGS="" FULL_AT=4
while [ $# -gt 0 ]; do
	case $1 in
	--prog) PROG=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--psmmus) PSMMUS=$2; shift 2 ;;
	--args) ARGS=$2; shift 2 ;;
	--full-at) FULL_AT=$2; shift 2 ;;
	--) shift; break ;;
	*) echo "bench: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
[ -n "$PROG" ] && [ -n "$OUT" ] || { echo "bench: needs --prog and --out" >&2; exit 2; }
VMRUN=$(dirname "$0")/vmrun.sh

mkdir -p "$OUT"
rm -f "$OUT"/run-*.txt
REPORT=$OUT/report.txt
CSV=$OUT/bench.csv
host_load() {
	echo "host load (/proc/loadavg) $1: $(cat /proc/loadavg), $(nproc) CPUs"
}

{
	echo "make bench: $(date -u '+%Y-%m-%d %H:%M UTC'), $(git -C "$(dirname "$0")" describe --always --dirty 2>/dev/null || echo '?')"
	echo "Production allocator (no slub_debug, KFENCE off), QEMU TCG. Every figure is"
	echo "a ratio of times taken in turns in the same VM boot: median [min max] of"
	echo "the repetitions. Commands and syncs per pSMMU are counted by the mock."
} | tee "$REPORT"

rc=0
for n in $PSMMUS; do
	{
		echo
		echo "######## boot with num_psmmus=$n ########"
		host_load "before"
	} | tee -a "$REPORT"
	w=1256
	[ "$n" != "$FULL_AT" ] || w=123456
	"$VMRUN" "$@" --allocator production --mock-param "num_psmmus=$n" \
		--prog "$PROG" --args "-w $w $ARGS" exec >"$OUT/run-$n.txt"
	r=$?
	grep -v '^csv,' "$OUT/run-$n.txt" | tee -a "$REPORT"
	host_load "after" | tee -a "$REPORT"
	if [ "$r" != 0 ]; then
		echo "bench: the run with num_psmmus=$n failed (exit $r)" | tee -a "$REPORT"
		rc=1
	fi
done

# One CSV: the header once, then every figure of every boot
{
	grep -h -m1 '^csv,workload,' "$OUT"/run-*.txt | head -n 1
	grep -h '^csv,' "$OUT"/run-*.txt | grep -v '^csv,workload,'
} | sed 's/^csv,//' >"$CSV"
echo
echo "bench: report in $REPORT, figures in $CSV ($(($(wc -l <"$CSV") - 1)) lines)"
exit $rc
