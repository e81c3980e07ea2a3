#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make test-upstream: upstream's own iommufd selftests, compiled unmodified
# from Debian's source packages, against a test build of iommufd.ko.
#
#   upstream-tests.sh [stock] [debug]     (default: both)
#
# stock: Debian's 6.12 kernel runs 6.12's iommufd.c and 7.3's iommufd.c
#        restricted to its iommufd_viommu fixture (-f iommufd_viommu)
# debug: the debug kernel of make test-debug runs 6.12's iommufd_fail_nth.c
#        (it skips on Debian's kernel, which has no CONFIG_FAULT_INJECTION)
#
# The test build (build/test-kmod, build/test-modules; build/test-debug-*
# for the debug kernel) is iommufd.ko with 6.12's selftest mock compiled in
# (Kbuild's IOMMUFD_VIOMMU_TEST=1, i.e. CONFIG_IOMMUFD_TEST) plus
# patches/iommufd-test/, and mock_smmu.ko built against it. It is never
# what users get.
#
# Every test result is compared with tools/testing/selftests/iommu/
# upstream/expected.txt: the run fails on a test that does not pass and is
# not listed, on a listed test whose outcome differs (one that starts
# passing included), on a listed test that did not run, and on a program
# that did not finish.
#
# 7.3's sources come from linux-source-7.3 of trixie-backports, fetched
# once into build/cache with a private apt sources list (the machine's
# apt configuration is not touched).
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
# From the Makefile (build/env.mk)
KSRC_TAR=${KSRC_TAR:-/usr/src/linux-source-6.12.tar.xz}
: "${KDIR:?KDIR not set: run make deps}"
: "${VMLINUZ:?VMLINUZ not set: run make deps}"
CACHE=$BUILD/cache
UP=$BUILD/upstream
OURS=$TOP/tools/testing/selftests/iommu/upstream
EXPECTED=$OURS/expected.txt
VMRUN=$TOP/tools/testing/vm/vmrun.sh
DEBUG_KDIR=${DEBUG_KDIR:-$BUILD/debug-kernel/obj}
UP_TIMEOUT=${UP_TIMEOUT:-1500}
UP_DEBUG_TIMEOUT=${UP_DEBUG_TIMEOUT:-3600}
# 2 MiB huge pages reserved in the guest for the MAP_HUGETLB tests
HUGEPAGES=${HUGEPAGES:-80}

log() { printf '[upstream] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

PARTS=${*:-stock debug}
for p in $PARTS; do
	case $p in stock|debug) ;; *) die "unknown part '$p' (stock, debug)" ;; esac
done

# --- host packages -----------------------------------------------------------
# 7.3's iommufd.c uses libcap; the tests are linked statically.
if [ ! -f /usr/lib/x86_64-linux-gnu/libcap.a ]; then
	log "apt-get install libcap-dev"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends libcap-dev >"$CACHE/apt-install-up.log" 2>&1 ||
		{ tail -n 30 "$CACHE/apt-install-up.log" >&2; exit 1; }
fi

# --- upstream sources ----------------------------------------------------------
# Only the files the tests compile from; never committed.
MEMBERS="
tools/testing/selftests/iommu
tools/testing/selftests/kselftest_harness.h
tools/testing/selftests/kselftest.h
drivers/iommu/iommufd/iommufd_test.h
include/uapi/linux/iommufd.h
"

# extract DIR STAMP TOPDIR: MEMBERS of the tarball on stdin into DIR
extract() {
	local dir=$1 stamp=$2 top=$3
	rm -rf "$dir" "$dir.tmp" && mkdir -p "$dir.tmp"
	# shellcheck disable=SC2046
	tar -xJ -C "$dir.tmp" --strip-components=1 \
		$(for m in $MEMBERS; do echo "$top/$m"; done)
	echo "$stamp" >"$dir.tmp/.stamp"
	mv "$dir.tmp" "$dir"
}

src_612() {
	local stamp
	stamp="$(stat -c '%s %Y' "$KSRC_TAR") $(echo "$MEMBERS" | md5sum)"
	[ "$(cat "$UP/6.12/.stamp" 2>/dev/null)" = "$stamp" ] && return
	log "unpacking 6.12's selftests from $KSRC_TAR"
	extract "$UP/6.12" "$stamp" linux-source-6.12 <"$KSRC_TAR"
}

fetch_73() {
	local apt=$CACHE/apt-bpo opts deb
	deb=$(ls "$CACHE"/linux-source-7.3_*_all.deb 2>/dev/null | tail -n 1)
	if [ -n "$deb" ]; then
		echo "$deb"
		return
	fi
	log "fetching linux-source-7.3 from trixie-backports into $CACHE"
	mkdir -p "$apt/lists/partial"
	echo 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie-backports main' \
		>"$apt/sources.list"
	opts=(-o "Dir::Etc::sourcelist=$apt/sources.list"
	      -o "Dir::Etc::sourceparts=-" -o "Dir::State::Lists=$apt/lists"
	      -o "APT::Get::List-Cleanup=0")
	apt-get "${opts[@]}" update >"$apt/update.log" 2>&1 ||
		{ cat "$apt/update.log" >&2; die "apt-get update of trixie-backports failed"; }
	(cd "$CACHE" && apt-get "${opts[@]}" download linux-source-7.3) \
		>"$apt/download.log" 2>&1 ||
		{ cat "$apt/download.log" >&2; die "downloading linux-source-7.3 failed"; }
	deb=$(ls "$CACHE"/linux-source-7.3_*_all.deb 2>/dev/null | tail -n 1)
	[ -n "$deb" ] || die "linux-source-7.3 was not downloaded"
	echo "$deb"
}

src_73() {
	local deb stamp
	deb=$(fetch_73)
	stamp="$(basename "$deb") $(stat -c '%s' "$deb") $(echo "$MEMBERS" | md5sum)"
	[ "$(cat "$UP/7.3/.stamp" 2>/dev/null)" = "$stamp" ] && return
	log "unpacking 7.3's selftests from $(basename "$deb")"
	dpkg-deb --fsys-tarfile "$deb" |
		tar -xO ./usr/src/linux-source-7.3.tar.xz |
		extract "$UP/7.3" "$stamp" linux-source-7.3
}

# --- the test build of the modules ---------------------------------------------
# test_modules KDIR KMOD OUT
test_modules() {
	local kdir=$1 kmod=$2 out=$3
	KMOD=$kmod PATCH_DIRS="uapi iommufd iommufd-test" KSRC_TAR=$KSRC_TAR \
		"$TOP/scripts/prepare-src.sh"
	log "building the test iommufd.ko and mock_smmu.ko in ${kmod#"$TOP"/}"
	make -s -C "$kdir" IOMMUFD_VIOMMU_TOP="$TOP" IOMMUFD_VIOMMU_TEST=1 \
		M="$kmod/drivers/iommu/iommufd" modules
	make -s -C "$kdir" IOMMUFD_VIOMMU_TOP="$TOP" IOMMUFD_VIOMMU_TEST=1 \
		M="$kmod/drivers/iommu/mock-smmu" \
		KBUILD_EXTRA_SYMBOLS="$kmod/drivers/iommu/iommufd/Module.symvers" modules
	mkdir -p "$out"
	cp "$kmod/drivers/iommu/iommufd/iommufd.ko" \
		"$kmod/drivers/iommu/mock-smmu/mock_smmu.ko" "$out/"
}

# --- the test programs ---------------------------------------------------------
BIN=$UP/bin
CFLAGS_UP=(-static -D_GNU_SOURCE -Wall -O2 -Wno-unused-function)

# cc_test OUT SRC [CFLAGS...]: compile one test file, unmodified
cc_test() {
	local out=$1 src=$2
	shift 2
	mkdir -p "$BIN"
	if [ -f "$out" ] && [ -z "$(find "$(dirname "$src")" "$OURS" \
			-newer "$out" -print -quit)" ]; then
		return
	fi
	log "compiling ${src#"$UP"/}"
	gcc "${CFLAGS_UP[@]}" "$@" -o "$out" "$src" -lcap -lpthread
}

# tests_612 KMOD: against the uAPI header of that test build
tests_612() {
	local d=$UP/6.12/tools/testing/selftests/iommu t
	# 6.12's uAPI with this project's additions, and five later names
	# Debian's 6.12 selftests use (compat-6.12.h)
	for t in iommufd iommufd_fail_nth; do
		cc_test "$BIN/$t-6.12" "$d/$t.c" -I"$1/include/uapi" \
			-include "$OURS/compat-6.12.h"
	done
}

tests_73() {
	local d=$UP/7.3/tools/testing/selftests
	cc_test "$BIN/iommufd-7.3" "$d/iommu/iommufd.c" -I"$d" \
		-I"$UP/7.3/include/uapi"
}

# --- running and judging -----------------------------------------------------------
# guest_script FILE "SUITE PROGRAM ARGS" ...: the program the VM runs
guest_script() {
	local f=$1 line
	shift
	{
		echo '#!/bin/sh'
		# The debug kernel has no huge pages (and its tests need none)
		echo 'if [ -e /proc/sys/vm/nr_hugepages ]; then'
		echo "	echo $HUGEPAGES >/proc/sys/vm/nr_hugepages"
		echo '	echo "UPSTREAM: huge pages $(cat /proc/sys/vm/nr_hugepages)"'
		echo 'fi'
		for line in "$@"; do
			set -- $line
			echo "echo 'UPSTREAM-BEGIN $1'"
			echo "./${*:2} </dev/null 2>&1"
			echo "echo \"UPSTREAM-END $1 rc=\$?\""
		done
		echo 'exit 0'
	} >"$f"
	chmod +x "$f"
}

# judge OUTPUT SUITE...: compare the TAP results with expected.txt
judge() {
	local out=$1
	shift
	awk -F'\t' -v suites="$*" -v expfile="$EXPECTED" '
	BEGIN {
		n = split(suites, s, " ")
		for (i = 1; i <= n; i++)
			want[s[i]] = 1
		while ((getline line < expfile) > 0) {
			if (line ~ /^#/ || line == "")
				continue
			split(line, f, "\t")
			if (!(f[1] in want))
				continue
			expd[f[1] SUBSEP f[2]] = f[3]
			cause[f[1] SUBSEP f[2]] = f[4]
		}
	}
	/^UPSTREAM-BEGIN / { suite = $0; sub(/^UPSTREAM-BEGIN /, "", suite); next }
	/^UPSTREAM-END / {
		split($0, w, " ")
		ended[w[2]] = 1
		if (!totals[w[2]])
			problem[++np] = w[2] ": no \"# Totals\" line: the program did not finish"
		suite = ""
		next
	}
	suite == "" { next }
	/^# Totals:/ { totals[suite] = 1; next }
	# The harness killed the test at its time limit (30 s in 6.12)
	/^# [^ ]+: Test terminated by timeout/ { timedout = 1; next }
	# A fail_nth test stopped at its own cap on the number of injection
	# points (400 in 6.12, 1000 in 7.3): ASSERT_GT(cap, iteration)
	/^# .*:Expected [0-9]+ \([0-9]+\) > nth_state->iteration \([0-9]+\)$/ {
		capped = 1
		next
	}
	/^(not )?ok [0-9]+ / {
		line = $0
		res = "pass"
		if (line ~ /^not ok/)
			res = timedout ? "timeout" : capped ? "cap" : "fail"
		timedout = capped = 0
		sub(/^(not )?ok [0-9]+ /, "", line)
		if (line ~ / # SKIP/) {
			res = "skip"
			sub(/ # SKIP.*/, "", line)
		}
		if (line ~ / # XFAIL/)
			sub(/ # XFAIL.*/, "", line)
		name = line
		k = suite SUBSEP name
		seen[k] = 1
		count[suite, res]++
		want_res = (k in expd) ? expd[k] : "pass"
		# slow: a test one of its limits may end: it passes, times out
		# or stops at its injection cap
		if (want_res == "slow" &&
		    (res == "pass" || res == "timeout" || res == "cap"))
			want_res = res
		if (want_res != res) {
			if (k in expd)
				problem[++np] = suite ": " name ": " res \
					", listed as " want_res " (" cause[k] ")"
			else
				problem[++np] = suite ": " name ": " res \
					", not listed in expected.txt"
		} else if (res != "pass") {
			listed[suite]++
		}
	}
	END {
		for (i = 1; i <= n; i++) {
			x = s[i]
			if (!(x in ended))
				problem[++np] = x ": did not run"
			printf "[upstream] %s: %d passed, %d failed, %d timed out, %d capped, %d skipped (%d of them as expected.txt lists)\n", \
				x, count[x, "pass"], count[x, "fail"], count[x, "timeout"], \
				count[x, "cap"], count[x, "skip"], listed[x]
		}
		for (k in expd)
			if (!(k in seen)) {
				split(k, p, SUBSEP)
				problem[++np] = p[1] ": " p[2] ": listed but did not run"
			}
		for (i = 1; i <= np; i++)
			print "[upstream] FAIL: " problem[i]
		exit np ? 1 : 0
	}' "$out"
}

# run_vm NAME KERNEL MODULES "SUITE PROG ARGS"... -- VMRUN OPTIONS
run_vm() {
	local name=$1 kernel=$2 mods=$3 out rc=0 files=() specs=() t0 prog
	shift 3
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		specs+=("$1")
		read -r _ prog _ <<<"$1"
		files+=("$BIN/$prog")
		shift
	done
	[ "${1:-}" = -- ] && shift
	out=$UP/$name.out
	guest_script "$UP/$name.sh" "${specs[@]}"
	log "$name: booting $(basename "$kernel") with the test build"
	t0=$SECONDS
	"$VMRUN" --kernel "$kernel" --modules "$mods" --prog "$UP/$name.sh" \
		--files "${files[*]}" "$@" exec >"$out" || rc=$?
	log "$name: VM run took $((SECONDS - t0)) s; TAP in ${out#"$TOP"/}"
	if [ "$rc" != 0 ]; then
		log "FAIL: the VM run was not clean (vmrun.sh exit $rc)"
		judge "$out" "${specs[@]%% *}" || true
		return 1
	fi
	judge "$out" "${specs[@]%% *}"
}

STOCK_RUNS=("6.12/iommufd iommufd-6.12"
	    "7.3/iommufd_viommu iommufd-7.3 -f iommufd_viommu")
DEBUG_RUNS=("6.12/iommufd_fail_nth iommufd_fail_nth-6.12")

failed=0
# UP_REJUDGE=1: judge the output of the last runs again, e.g. after an
# edit of expected.txt, without building or booting anything
if [ "${UP_REJUDGE:-0}" = 1 ]; then
	for part in $PARTS; do
		if [ "$part" = stock ]; then
			runs=("${STOCK_RUNS[@]}")
		else
			runs=("${DEBUG_RUNS[@]}")
		fi
		judge "$UP/$part.out" "${runs[@]%% *}" || failed=1
	done
	exit $failed
fi

mkdir -p "$UP"
src_612
src_73
for part in $PARTS; do
	case $part in
	stock)
		test_modules "$KDIR" "$BUILD/test-kmod" "$BUILD/test-modules"
		tests_612 "$BUILD/test-kmod"
		tests_73
		run_vm stock "$VMLINUZ" "$BUILD/test-modules" "${STOCK_RUNS[@]}" \
			-- --timeout "$UP_TIMEOUT" || failed=1
		;;
	debug)
		[ -f "$DEBUG_KDIR/arch/x86/boot/bzImage" ] ||
			die "no debug kernel in ${DEBUG_KDIR#"$TOP"/}: run make debug-kernel"
		test_modules "$DEBUG_KDIR" "$BUILD/test-debug-kmod" "$BUILD/test-debug-modules"
		tests_612 "$BUILD/test-debug-kmod"
		run_vm debug "$DEBUG_KDIR/arch/x86/boot/bzImage" \
			"$BUILD/test-debug-modules" "${DEBUG_RUNS[@]}" \
			-- --debug --memory 2048 --timeout "$UP_DEBUG_TIMEOUT" || failed=1
		;;
	esac
done
if [ "$failed" != 0 ]; then
	log "test-upstream: FAILED"
	exit 1
fi
log "test-upstream: OK"
