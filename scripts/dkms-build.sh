#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# DKMS support of iommufd-viommu (see dkms.conf).
#
# Usage: scripts/dkms-build.sh COMMAND [ARGS]
#
#   check KERNELVER [KDIR]    Check that KERNELVER can be built for: its
#                             headers, linux-source-6.12 and the tools. Prints
#                             the apt-get command for what is missing and
#                             fails. dkms.conf's PRE_BUILD.
#   modules KERNELVER [KDIR]  Build iommufd.ko and mock_smmu.ko for KERNELVER
#                             in build/ of this tree: check, then unpack the
#                             sources with scripts/prepare-src.sh and run
#                             Kbuild against KDIR (default
#                             /lib/modules/KERNELVER/build). dkms.conf's MAKE.
#   install [KERNELVER...]    As root: copy this tree (its git files) to
#                             /usr/src/iommufd-viommu-VERSION, then dkms add,
#                             build and install for each KERNELVER (default:
#                             every kernel whose 6.12 headers are installed).
#   uninstall                 As root: dkms remove --all, delete the copy.
#   ci [KERNELVER...]         As root, for CI: install dkms if it is missing,
#                             run dkms add, build and install for each
#                             KERNELVER (same default) from a copy of this
#                             tree into a temporary DKMS tree and module tree
#                             (/lib/modules is not touched), check the
#                             modules, remove them, then install the
#                             uAPI header with `make headers_install` into a
#                             temporary path and compile a program against
#                             it alone. Cleans up after itself.
#
# make dkms-install, dkms-uninstall and dkms-check call the last three.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
NAME=iommufd-viommu
VERSION=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$TOP/dkms.conf")
KSRC_TAR=${KSRC_TAR:-/usr/src/linux-source-6.12.tar.xz}

log() { printf '[dkms] %s\n' "$*" >&2; }
die() { printf '[dkms] ERROR: %s\n' "$*" >&2; exit 1; }

usage() {
	sed -n '4,29p' "$0" | sed 's/^# \{0,1\}//'
}

kdir_of() {
	local kver=$1 kdir=${2:-}

	if [ -z "$kdir" ]; then
		kdir=/lib/modules/$kver/build
		[ -e "$kdir/Makefile" ] || kdir=/usr/src/linux-headers-$kver
	fi
	echo "$kdir"
}

pkg_version() {
	dpkg-query -W -f='${Status} ${Version}\n' "$1" 2>/dev/null |
		sed -n 's/^install ok installed //p'
}

# check KERNELVER [KDIR]
cmd_check() {
	local kver=${1:?kernel version}
	local kdir pkgs="" what="" t src_ver hdr_ver

	kdir=$(kdir_of "$kver" "${2:-}")
	case $kver in
	6.12.*) ;;
	*) die "kernel $kver is not a 6.12 kernel: this port is for Debian's Linux 6.12 only" ;;
	esac
	if [ ! -f "$kdir/Makefile" ]; then
		pkgs="$pkgs linux-headers-$kver"
		what="$what, the kernel headers ($kdir)"
	fi
	if [ ! -f "$KSRC_TAR" ]; then
		pkgs="$pkgs linux-source-6.12"
		what="$what, the kernel sources ($KSRC_TAR)"
	fi
	for t in make:make gcc:gcc patch:patch tar:tar xz:xz-utils \
		 md5sum:coreutils; do
		if ! command -v "${t%%:*}" >/dev/null; then
			pkgs="$pkgs ${t#*:}"
			what="$what, ${t%%:*}"
		fi
	done
	if [ -n "$pkgs" ]; then
		printf '[dkms] %s cannot be built for kernel %s: missing %s.\n' \
			"$NAME" "$kver" "${what#, }" >&2
		printf '[dkms] Install them with:\n\n    apt-get install%s\n\n' \
			"$pkgs" >&2
		exit 1
	fi

	# The iommufd sources come from the tarball and must match the kernel
	# they are built for; Debian's headers and source packages of one
	# release share a version.
	src_ver=$(pkg_version linux-source-6.12)
	hdr_ver=$(pkg_version "linux-headers-$kver")
	if [ -n "$src_ver" ] && [ -n "$hdr_ver" ] && [ "$src_ver" != "$hdr_ver" ]; then
		log "WARNING: linux-source-6.12 is $src_ver but linux-headers-$kver is $hdr_ver;"
		log "WARNING: the iommufd sources should match the kernel:"
		log "WARNING:     apt-get install linux-source-6.12=$hdr_ver"
	fi
	return 0
}

# modules KERNELVER [KDIR]
cmd_modules() {
	local kver=${1:?kernel version} kdir build kmod

	kdir=$(kdir_of "$kver" "${2:-}")
	cmd_check "$kver" "$kdir"
	build=$TOP/build
	kmod=$build/kmod
	log "building $NAME for $kver against $kdir"
	BUILD=$build KSRC_TAR=$KSRC_TAR "$TOP/scripts/prepare-src.sh"
	# The same Kbuild invocations as the Makefile's modules target.
	make -C "$kdir" IOMMUFD_VIOMMU_TOP="$TOP" KERNELRELEASE="$kver" \
		M="$kmod/drivers/iommu/iommufd" modules
	make -C "$kdir" IOMMUFD_VIOMMU_TOP="$TOP" KERNELRELEASE="$kver" \
		M="$kmod/drivers/iommu/mock-smmu" \
		KBUILD_EXTRA_SYMBOLS="$kmod/drivers/iommu/iommufd/Module.symvers" \
		modules
}

# Kernels with installed 6.12 headers, e.g. 6.12.117+deb12-amd64.
installed_kernels() {
	local d

	for d in /usr/src/linux-headers-6.12.*; do
		[ -f "$d/.config" ] && [ -f "$d/Makefile" ] &&
			echo "${d#/usr/src/linux-headers-}"
	done
	return 0
}

need_root() {
	[ "$(id -u)" = 0 ] || die "$1 needs root"
}

need_dkms() {
	command -v dkms >/dev/null && return 0
	if [ "${1:-}" != install ]; then
		die "dkms is not installed: apt-get install --no-install-recommends dkms"
	fi
	# Without recommends: they would pull in linux-headers-amd64, the
	# headers of Debian 12's default 6.1 kernel.
	log "apt-get install --no-install-recommends dkms"
	if ! { apt-get update -q &&
	       DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends dkms; } >"$WORK/apt.log" 2>&1; then
		tail -n 20 "$WORK/apt.log" >&2
		die "installing dkms failed"
	fi
}

# Copy the tree DKMS needs (git's files, not build/) to $1.
stage_tree() {
	local dest=$1 list

	mkdir -p "$dest"
	if ! list=$(git -C "$TOP" ls-files --cached --others --exclude-standard \
		    2>/dev/null); then
		list=$(cd "$TOP" && find . \( -path ./build -o -path ./.git \) \
			-prune -o -type f -print | sed 's@^\./@@')
	fi
	printf '%s\n' "$list" | (cd "$TOP" && while IFS= read -r f; do
		[ -f "$f" ] && printf '%s\n' "$f"
	done) | tar -C "$TOP" -cf - -T - | tar -C "$dest" -xf -
	[ -f "$dest/dkms.conf" ] || die "staging the tree failed"
}

kernels_or_default() {
	if [ $# -gt 0 ]; then
		printf '%s\n' "$@"
	else
		installed_kernels
	fi
}

# install [KERNELVER...]
cmd_install() {
	local src=/usr/src/$NAME-$VERSION kvers k

	need_root "install"
	need_dkms
	mapfile -t kvers < <(kernels_or_default "$@")
	[ ${#kvers[@]} -gt 0 ] ||
		die "no 6.12 kernel headers installed: apt-get install linux-headers-6.12.<N>+deb12-amd64 linux-source-6.12"
	for k in "${kvers[@]}"; do
		cmd_check "$k"
	done
	if dkms status -m "$NAME" -v "$VERSION" | grep -q .; then
		log "replacing the registered $NAME/$VERSION"
		dkms remove -m "$NAME" -v "$VERSION" --all
	fi
	rm -rf "$src"
	stage_tree "$src"
	dkms add -m "$NAME" -v "$VERSION"
	for k in "${kvers[@]}"; do
		dkms build -m "$NAME" -v "$VERSION" -k "$k"
		dkms install -m "$NAME" -v "$VERSION" -k "$k"
	done
	dkms status -m "$NAME"
}

cmd_uninstall() {
	need_root "uninstall"
	need_dkms
	if dkms status -m "$NAME" -v "$VERSION" | grep -q .; then
		dkms remove -m "$NAME" -v "$VERSION" --all
	fi
	rm -rf "/usr/src/$NAME-$VERSION"
}

# A VMM's view of the installed header: it must compile on its own (with
# the C library's <linux/types.h>) and carry upstream's layout.
UAPI_PROG='#include <linux/iommufd.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/ioctl.h>

#define LAYOUT(t, f, off) _Static_assert(offsetof(struct t, f) == (off), #t "." #f)
#define SIZE(t, sz) _Static_assert(sizeof(struct t) == (sz), #t)

SIZE(iommu_viommu_alloc, 24);
LAYOUT(iommu_viommu_alloc, out_viommu_id, 20);
SIZE(iommu_vdevice_alloc, 24);
LAYOUT(iommu_vdevice_alloc, virt_id, 16);
SIZE(iommu_hwpt_alloc, 48);
SIZE(iommu_hwpt_invalidate, 32);
SIZE(iommu_hw_info, 40);
SIZE(iommu_hw_info_arm_smmuv3, 40);
LAYOUT(iommu_hw_info_arm_smmuv3, aidr, 36);
SIZE(iommu_hwpt_arm_smmuv3, 16);
SIZE(iommu_viommu_arm_smmuv3_invalidate, 16);
_Static_assert(IOMMU_VIOMMU_ALLOC == 0x3b90, "IOMMU_VIOMMU_ALLOC");
_Static_assert(IOMMU_VDEVICE_ALLOC == 0x3b91, "IOMMU_VDEVICE_ALLOC");
_Static_assert(IOMMU_VIOMMU_SET_DEV_ID == IOMMU_VDEVICE_ALLOC, "alias");
_Static_assert(IOMMU_VIOMMU_TYPE_ARM_SMMUV3 == 1, "viommu type");
_Static_assert(IOMMU_HW_INFO_TYPE_ARM_SMMUV3 == 2, "hw info type");
_Static_assert(IOMMU_HWPT_DATA_ARM_SMMUV3 == 2, "hwpt data type");
_Static_assert(IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3 == 1, "inv type");
_Static_assert(IOMMU_VIOMMU_ALLOC_FLAG_SPAN == 1U << 31, "span flag");

int main(void)
{
	struct iommu_viommu_alloc cmd = {
		.size = sizeof(cmd),
		.type = IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
	};

	printf("IOMMU_VIOMMU_ALLOC 0x%lx, struct of %u bytes\n",
	       (unsigned long)IOMMU_VIOMMU_ALLOC, cmd.size);
	return 0;
}
'

check_headers() {
	local hdr=$WORK/usr cc

	log "make headers_install INSTALL_HDR_PATH=$hdr"
	make -s -C "$TOP" headers_install INSTALL_HDR_PATH="$hdr"
	[ -f "$hdr/include/linux/iommufd.h" ] ||
		die "headers_install did not install include/linux/iommufd.h"
	printf '%s' "$UAPI_PROG" >"$WORK/uapi-prog.c"
	# Only the installed header: no kernel tree, no build/ path.
	gcc -std=gnu11 -Wall -Wextra -Werror -I "$hdr/include" \
		-o "$WORK/uapi-prog" "$WORK/uapi-prog.c" ||
		die "a program does not compile against the installed header"
	"$WORK/uapi-prog" >&2
	for cc in g++ clang; do
		command -v "$cc" >/dev/null || continue
		echo '#include <linux/iommufd.h>' |
			"$cc" -x "$([ "$cc" = g++ ] && echo c++ || echo c)" \
			-fsyntax-only -Wall -Werror -I "$hdr/include" - ||
			die "the installed header does not compile with $cc"
		log "the installed header also compiles with $cc"
	done
	log "headers: OK"
}

# ci [KERNELVER...]
cmd_ci() {
	local kvers k dkms_opts mod f vermagic dkms_tree

	need_root "ci"
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/$NAME-dkms.XXXXXX")
	# dkms signs what it builds when the kernel wants signed modules and
	# creates a key for that on first use; a key this run created goes too.
	MOK_BEFORE=""
	[ -e /var/lib/dkms/mok.key ] && MOK_BEFORE=1
	trap 'ci_cleanup' EXIT
	need_dkms install
	mapfile -t kvers < <(kernels_or_default "$@")
	[ ${#kvers[@]} -gt 0 ] ||
		die "no 6.12 kernel headers installed (make deps installs them)"

	dkms_tree=$WORK/dkms
	dkms_opts=(--dkmstree "$dkms_tree" --sourcetree "$WORK/src"
		   --installtree "$WORK/modules")
	mkdir -p "$dkms_tree" "$WORK/modules"
	stage_tree "$WORK/src/$NAME-$VERSION"
	dkms "${dkms_opts[@]}" add -m "$NAME" -v "$VERSION" >"$WORK/add.log" 2>&1 ||
		{ cat "$WORK/add.log" >&2; die "dkms add failed"; }
	for k in "${kvers[@]}"; do
		log "dkms build -m $NAME -v $VERSION -k $k"
		if ! dkms "${dkms_opts[@]}" build -m "$NAME" -v "$VERSION" \
		     -k "$k" >"$WORK/build.log" 2>&1; then
			cat "$WORK/build.log" >&2
			f=$(find "$dkms_tree/$NAME/$VERSION" -name make.log | head -n 1)
			[ -n "$f" ] && tail -n 40 "$f" >&2
			die "dkms build failed for $k"
		fi
		# Installed into the temporary install tree, not /lib/modules
		mkdir -p "$WORK/modules/$k"
		dkms "${dkms_opts[@]}" install --no-depmod -m "$NAME" \
			-v "$VERSION" -k "$k" >"$WORK/install.log" 2>&1 || {
			cat "$WORK/install.log" >&2
			die "dkms install failed for $k"
		}
		for mod in iommufd mock_smmu; do
			f=$(find "$WORK/modules/$k/updates/dkms" -name "$mod.ko*" |
				head -n 1)
			[ -n "$f" ] || die "dkms installed no $mod.ko for $k"
			vermagic=$(modinfo -F vermagic "$f")
			[ "${vermagic%% *}" = "$k" ] ||
				die "$mod.ko has vermagic '$vermagic', not $k"
		done
		# Built with iommufd's Module.symvers: it links against iommufd.ko
		modinfo -F depends "$f" | grep -qw iommufd ||
			die "mock_smmu.ko does not depend on iommufd.ko"
		log "$k: built and installed ${f%/*}/{iommufd,mock_smmu}.ko (vermagic $k)"
	done
	# (dkms asks readelf for a section Debian's kernels lack: noise)
	dkms "${dkms_opts[@]}" status 2>&1 | grep -v '^readelf: Warning' >&2
	dkms "${dkms_opts[@]}" remove --no-depmod -m "$NAME" -v "$VERSION" \
		--all >"$WORK/remove.log" 2>&1 ||
		{ cat "$WORK/remove.log" >&2; die "dkms remove failed"; }
	check_headers
	log "OK: dkms build for ${kvers[*]}, headers_install"
}

ci_cleanup() {
	rm -rf "$WORK"
	if [ -z "$MOK_BEFORE" ]; then
		rm -f /var/lib/dkms/mok.key /var/lib/dkms/mok.pub
	fi
}

WORK=${TMPDIR:-/tmp}
cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
check) cmd_check "$@" ;;
modules) cmd_modules "$@" ;;
install) cmd_install "$@" ;;
uninstall) cmd_uninstall ;;
ci) cmd_ci "$@" ;;
-h|--help) usage ;;
*) usage >&2; exit 2 ;;
esac
