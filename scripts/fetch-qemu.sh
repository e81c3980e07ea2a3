#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fetch Debian's qemu-system-x86 from bookworm-backports (10.0.x: it has
# the iommufd backend, -object iommufd) without installing it, and gather
# a self-contained copy of it that runs in the test VM, which has no C
# library: the binary, the dynamic loader, the exact shared libraries the
# binary resolves to, and the firmware a -kernel boot of a pc machine
# reads.
#
#   fetch-qemu.sh [OUT]      (default $BUILD/qemu-bundle)
#
# OUT/bin/qemu-system-x86_64, OUT/lib/ (loader and libraries),
# OUT/share/ (for -L), OUT/VERSION. Run it as
#   OUT/lib/ld-linux-x86-64.so.2 --library-path OUT/lib OUT/bin/qemu-system-x86_64 -L OUT/share
# or with the loader copied to /lib64 and LD_LIBRARY_PATH=OUT/lib.
#
# The host's apt sources are never changed: bookworm-backports is read
# through a private sources list and private lists under
# $BUILD/cache/apt-bpo12. The .debs are kept in $BUILD/cache/qemu-debs;
# a rerun with them present touches no network. Libraries the host lacks
# are fetched as .debs too (from backports, else from the host's own
# sources) and unpacked beside the binary, never installed.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
CACHE=$BUILD/cache
APT=$CACHE/apt-bpo12
DEBS=$CACHE/qemu-debs
ROOT=$BUILD/qemu-root
OUT=${1:-$BUILD/qemu-bundle}
SUITE=bookworm-backports
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# From backports: the binary, its option ROMs (linuxboot_dma.bin,
# kvmvapic.bin) and the SeaBIOS it requires (>> 1.16.3-1, newer than
# bookworm's).
PKGS="qemu-system-x86 qemu-system-data seabios"
# What a -kernel boot of a pc/q35 machine with -nographic -vga none
# -nic none reads from -L
FIRMWARE="bios-256k.bin linuxboot_dma.bin kvmvapic.bin"

log() { printf '[qemu] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

OPTS=(-o "Dir::Etc::sourcelist=$APT/sources.list" -o "Dir::Etc::sourceparts=-"
      -o "Dir::State::Lists=$APT/lists" -o "APT::Get::List-Cleanup=0")

updated=0
apt_update() {
	[ "$updated" = 0 ] || return 0
	mkdir -p "$APT/lists/partial"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR $SUITE main" \
		>"$APT/sources.list"
	log "apt-get update of $SUITE (private lists in ${APT#"$TOP"/})"
	apt-get "${OPTS[@]}" update >"$APT/update.log" 2>&1 ||
		{ cat "$APT/update.log" >&2; die "apt-get update of $SUITE failed"; }
	updated=1
}

# have PKG: a .deb of PKG is in the cache
have() {
	compgen -G "$DEBS/${1}_*.deb" >/dev/null
}

# download PKG...: from backports if it has them, else from the host's
# own sources (the libraries of bookworm); into the cache, not installed
download() {
	local p
	mkdir -p "$DEBS"
	for p in "$@"; do
		have "$p" && continue
		apt_update
		log "apt-get download $p"
		if ! (cd "$DEBS" && apt-get "${OPTS[@]}" download "$p/$SUITE") \
			>>"$DEBS/download.log" 2>&1 &&
		   ! (cd "$DEBS" && apt-get download "$p") >>"$DEBS/download.log" 2>&1; then
			tail -n 20 "$DEBS/download.log" >&2
			die "downloading $p failed"
		fi
		have "$p" || die "$p was not downloaded"
	done
}

# shellcheck disable=SC2086
download $PKGS

# Unpacked afresh whenever the set of .debs changed
unpack() {
	local stamp d
	stamp=$(cd "$DEBS" && ls -l --time-style=+ ./*.deb | md5sum)
	[ "$(cat "$ROOT/.stamp" 2>/dev/null)" = "$stamp" ] && return
	log "unpacking $(cd "$DEBS" && ls ./*.deb | wc -l) packages into ${ROOT#"$TOP"/}"
	rm -rf "$ROOT" && mkdir -p "$ROOT"
	for d in "$DEBS"/*.deb; do
		dpkg-deb -x "$d" "$ROOT"
	done
	echo "$stamp" >"$ROOT/.stamp"
}

BIN=$ROOT/usr/bin/qemu-system-x86_64
LIBPATH=$ROOT/usr/lib/x86_64-linux-gnu:$ROOT/lib/x86_64-linux-gnu

missing_libs() {
	LD_LIBRARY_PATH=$LIBPATH ldd "$BIN" | awk '/not found/ { print $1 }'
}

unpack
[ -x "$BIN" ] || die "no $BIN in the packages"
# The host lacks some libraries: fetch the Depends of qemu-system-x86 that
# are not installed, then theirs, until ldd finds everything (the
# packages are only unpacked beside the binary).
installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"
}
depends() {
	local p
	for p in "$@"; do
		apt-cache "${OPTS[@]}" depends "$p" 2>/dev/null ||
			apt-cache depends "${p%%/*}" 2>/dev/null
	done | sed -n 's/^ *Depends: \([a-z0-9][^ <>]*\)$/\1/p' | sort -u
}
from="qemu-system-x86/$SUITE"
round=0
missing=$(missing_libs)
while [ -n "$missing" ]; do
	round=$((round + 1))
	[ "$round" -le 4 ] || die "still not found: ${missing//$'\n'/ }"
	apt_update
	need=""
	# shellcheck disable=SC2086
	for p in $(depends $from); do
		installed "$p" || have "$p" || need="$need $p"
	done
	[ -n "$need" ] || die "not found, and no package to fetch: ${missing//$'\n'/ }"
	log "libraries the host lacks: ${missing//$'\n'/ }; fetching:$need"
	# shellcheck disable=SC2086
	download $need
	unpack
	from=$need
	missing=$(missing_libs)
done

# --- the bundle ------------------------------------------------------------
version=$(dpkg-deb -f "$(ls "$DEBS"/qemu-system-x86_*.deb | tail -n 1)" Version)
stamp="$(cat "$ROOT/.stamp") $(echo "$FIRMWARE" | md5sum)"
if [ "$(cat "$OUT/.stamp" 2>/dev/null)" = "$stamp" ]; then
	log "qemu-system-x86 $version bundle up to date in ${OUT#"$TOP"/}"
	exit 0
fi
rm -rf "$OUT" "$OUT.tmp" && mkdir -p "$OUT.tmp"/{bin,lib,share}
cp "$BIN" "$OUT.tmp/bin/"
# Every library as ldd resolves it (the unpacked tree first, then the
# host's), under the name the binary asks for; the loader too.
LD_LIBRARY_PATH=$LIBPATH ldd "$BIN" | awk '
	$2 == "=>" && $3 ~ /^\// { print $1, $3 }
	$1 ~ /^\// { n = split($1, p, "/"); print p[n], $1 }' |
while read -r name path; do
	cp -L "$path" "$OUT.tmp/lib/$name"
done
[ -f "$OUT.tmp/lib/ld-linux-x86-64.so.2" ] || die "no dynamic loader in ldd's answer"
for f in $FIRMWARE; do
	src=$(find "$ROOT/usr/share/qemu" "$ROOT/usr/share/seabios" -name "$f" | head -n 1)
	[ -n "$src" ] || die "firmware $f not in the packages"
	cp -L "$src" "$OUT.tmp/share/$f"
done
echo "$version" >"$OUT.tmp/VERSION"
echo "$stamp" >"$OUT.tmp/.stamp"
mv "$OUT.tmp" "$OUT"
log "qemu-system-x86 $version: $(du -sh "$OUT" | cut -f1) in ${OUT#"$TOP"/}" \
	"($(ls "$OUT/lib" | wc -l) libraries)"
