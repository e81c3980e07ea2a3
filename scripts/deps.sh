#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install what the build needs from Debian's archive and fetch Debian's
# 6.12 kernel image into the build folder (never installed on the host).
# Writes $BUILD/env.mk with the resolved versions for the Makefile.
#
# Idempotent: packages already present and files already downloaded are
# reused, so a warm run only checks.
set -euo pipefail

BUILD=${BUILD:-$(pwd)/build}
mkdir -p "$BUILD/cache"

log() { printf '[deps] %s\n' "$*" >&2; }

PKGS="qemu-system-x86 busybox-static cpio sparse coccinelle linux-source-6.12
      xz-utils gcc make libc6-dev ocaml-nox"

need_update=1
apt_update() {
	if [ "$need_update" = 1 ]; then
		log "apt-get update"
		apt-get update -q >"$BUILD/cache/apt-update.log" 2>&1 ||
			{ cat "$BUILD/cache/apt-update.log" >&2; exit 1; }
		need_update=0
	fi
}

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done

# Resolve the newest 6.12 headers/image pair Debian offers. A cached answer
# is kept for a day so a warm run does not hit the archive.
ver_file="$BUILD/cache/kver"
if [ -s "$ver_file" ] && [ -z "$(find "$ver_file" -mmin +1440)" ] &&
   [ -z "${DEPS_REFRESH:-}" ]; then
	KVER=$(cat "$ver_file")
else
	apt_update
	KVER=$(apt-cache search --names-only \
		'^linux-image-6\.12\.[0-9]+\+deb[0-9]+-amd64-unsigned$' |
		sed -n 's/^linux-image-\(6\.12\.[0-9]*+deb[0-9]*-amd64\)-unsigned .*/\1/p' |
		sort -V | tail -n 1)
	[ -n "$KVER" ] || { log "no linux-image-6.12.*-amd64-unsigned in apt"; exit 1; }
	apt-cache show "linux-headers-$KVER" >/dev/null 2>&1 ||
		{ log "linux-headers-$KVER not in apt"; exit 1; }
	echo "$KVER" >"$ver_file"
fi
log "kernel $KVER"

dpkg-query -W -f='${Status}' "linux-headers-$KVER" 2>/dev/null |
	grep -q "ok installed" || missing="$missing linux-headers-$KVER"

if [ -n "$missing" ]; then
	apt_update
	log "apt-get install$missing (a few minutes on a bare machine)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends $missing >"$BUILD/cache/apt-install.log" 2>&1 ||
		{ tail -n 30 "$BUILD/cache/apt-install.log" >&2; exit 1; }
fi

# The kernel image: downloaded as a .deb and unpacked, not installed.
img_dir="$BUILD/cache/image-$KVER"
# From its modules, irqbypass.ko: vfio-pci-core.ko (built by make modules,
# loaded in the VM) needs it, and the VM has no other module of Debian's.
if [ ! -s "$img_dir/vmlinuz" ] || [ ! -s "$img_dir/modules/irqbypass.ko" ]; then
	apt_update
	rm -rf "$img_dir.tmp" && mkdir -p "$img_dir.tmp"
	log "apt-get download linux-image-$KVER-unsigned"
	(cd "$img_dir.tmp" && apt-get download -q "linux-image-$KVER-unsigned" \
		>download.log 2>&1) || { cat "$img_dir.tmp/download.log" >&2; exit 1; }
	log "unpacking kernel image"
	dpkg-deb -x "$img_dir.tmp"/linux-image-*.deb "$img_dir.tmp/root"
	mkdir -p "$img_dir"
	cp "$img_dir.tmp/root/boot/vmlinuz-$KVER" "$img_dir/vmlinuz"
	mkdir -p "$img_dir/modules"
	xz -dc "$img_dir.tmp/root/lib/modules/$KVER/kernel/virt/lib/irqbypass.ko.xz" \
		>"$img_dir/modules/irqbypass.ko"
	rm -rf "$img_dir.tmp"
fi

cat >"$BUILD/env.mk.tmp" <<EOM
KVER := $KVER
KDIR := /usr/src/linux-headers-$KVER
KSRC_TAR := /usr/src/linux-source-6.12.tar.xz
VMLINUZ := $img_dir/vmlinuz
IMAGE_MODULES := $img_dir/modules
EOM
mv "$BUILD/env.mk.tmp" "$BUILD/env.mk"
