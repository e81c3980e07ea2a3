#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the debug kernel of make test-debug from Debian's linux-source-6.12:
# tinyconfig plus tools/testing/vm/debug.config (KASAN, kmemleak, lockdep,
# DEBUG_OBJECTS, fault injection), in $BUILD/debug-kernel:
#
#   debug-kernel/src/    the whole source tarball, unpacked
#   debug-kernel/obj/    the O= build tree: arch/x86/boot/bzImage, and what
#                        make -C obj M=<dir> needs to build modules for it
#
# Built once: rebuilt only when the tarball or the fragment changes. Installs
# the host packages a kernel build needs (flex, bison, ...) when missing.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
KSRC_TAR=${KSRC_TAR:-/usr/src/linux-source-6.12.tar.xz}
FRAGMENT=$TOP/tools/testing/vm/debug.config
DK=$BUILD/debug-kernel
SRC=$DK/src
OBJ=$DK/obj
JOBS=${JOBS:-2}

log() { printf '[debug-kernel] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

[ -f "$KSRC_TAR" ] || die "$KSRC_TAR not found: run make deps first"

# --- host packages ---------------------------------------------------------
PKGS="flex bison bc libelf-dev libssl-dev"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	mkdir -p "$BUILD/cache"
	log "apt-get install$missing"
	apt-get update -q >"$BUILD/cache/apt-update-debug.log" 2>&1 ||
		{ cat "$BUILD/cache/apt-update-debug.log" >&2; exit 1; }
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends $missing \
		>"$BUILD/cache/apt-install-debug.log" 2>&1 ||
		{ tail -n 30 "$BUILD/cache/apt-install-debug.log" >&2; exit 1; }
fi

# --- up to date? -----------------------------------------------------------
src_stamp="$(stat -c '%s %Y' "$KSRC_TAR")"
stamp="$src_stamp $(md5sum <"$FRAGMENT")"
if [ "$(cat "$OBJ/.debug-stamp" 2>/dev/null)" = "$stamp" ] &&
   [ -f "$OBJ/arch/x86/boot/bzImage" ]; then
	exit 0
fi

# --- the sources -----------------------------------------------------------
if [ "$(cat "$SRC/.stamp" 2>/dev/null)" != "$src_stamp" ]; then
	log "unpacking $KSRC_TAR (about a minute)"
	rm -rf "$SRC" "$SRC.tmp" "$OBJ" && mkdir -p "$SRC.tmp"
	tar -xJf "$KSRC_TAR" -C "$SRC.tmp" --strip-components=1
	echo "$src_stamp" >"$SRC.tmp/.stamp"
	mv "$SRC.tmp" "$SRC"
fi

# --- the configuration -----------------------------------------------------
mkdir -p "$OBJ"
rm -f "$OBJ/.debug-stamp"
BLOG=$DK/build.log
: >"$BLOG"
kmake() {
	make -C "$SRC" O="$OBJ" "$@" >>"$BLOG" 2>&1 ||
		{ tail -n 40 "$BLOG" >&2; die "make $* failed (log: $BLOG)"; }
}
log "configuring: tinyconfig + $(basename "$FRAGMENT")"
kmake tinyconfig
(cd "$OBJ" && "$SRC/scripts/kconfig/merge_config.sh" -m -O "$OBJ" \
	"$OBJ/.config" "$FRAGMENT") >>"$BLOG" 2>&1 ||
	{ tail -n 40 "$BLOG" >&2; die "merge_config.sh failed (log: $BLOG)"; }
kmake olddefconfig

# Every line of the fragment must be in the final .config, as written.
lost=""
while IFS= read -r line; do
	case $line in
	CONFIG_*=*)
		grep -qxF -e "$line" "$OBJ/.config" || lost="$lost
  $line (got: $(grep -E "^(# )?${line%%=*}[= ]" "$OBJ/.config" || echo absent))"
		;;
	"# CONFIG_"*" is not set")
		sym=${line#\# }
		sym=${sym%% *}
		! grep -q "^$sym=" "$OBJ/.config" || lost="$lost
  $line (got: $(grep "^$sym=" "$OBJ/.config"))"
		;;
	esac
done <"$FRAGMENT"
[ -z "$lost" ] || die "olddefconfig dropped fragment lines:$lost"

# --- the build ---------------------------------------------------------------
log "building bzImage with -j$JOBS (about 20 CPU-minutes; log: $BLOG)"
start=$SECONDS
kmake -j"$JOBS" bzImage modules
echo "$stamp" >"$OBJ/.debug-stamp"
log "built $OBJ/arch/x86/boot/bzImage in $((SECONDS - start))s"
