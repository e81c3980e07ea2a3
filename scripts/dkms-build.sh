#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# DKMS support of iommufd-viommu (see dkms.conf) and of its optional mock
# SMMU driver package, iommufd-viommu-mock (see dkms-mock.conf).
#
# Usage: scripts/dkms-build.sh COMMAND [ARGS]
#
#   check KERNELVER [KDIR]    Check that KERNELVER can be built for: its
#                             headers, linux-source-6.12 and the tools. Prints
#                             the apt-get command for what is missing and
#                             fails. PRE_BUILD of both packages.
#   modules [--with-mock] KERNELVER [KDIR]
#                             Build iommufd.ko and VFIO with device cdevs
#                             (drivers/vfio/Kbuild) for KERNELVER in build/
#                             of this tree, or with --with-mock iommufd.ko
#                             and mock_smmu.ko against it: check, then unpack the sources with
#                             scripts/prepare-src.sh and run Kbuild against
#                             KDIR (default /lib/modules/KERNELVER/build).
#                             MAKE of both packages.
#   install [--with-mock] [KERNELVER...]
#                             As root: copy this tree (its git files) to
#                             /usr/src/iommufd-viommu-VERSION, then dkms add,
#                             build and install iommufd-viommu for each
#                             KERNELVER (default: every kernel whose 6.12
#                             headers are installed). With --with-mock, the
#                             same for iommufd-viommu-mock (a second copy,
#                             /usr/src/iommufd-viommu-mock-VERSION); without
#                             it, a mock package registered before is
#                             removed, since it must match iommufd.ko. A
#                             package already installed from this same tree
#                             for each KERNELVER is kept as it is.
#   uninstall                 As root: dkms remove --all of both packages,
#                             delete the copies.
#   ci [KERNELVER...]         As root, for CI: install dkms if it is missing,
#                             then do what install does for each KERNELVER
#                             (same default), into temporary DKMS, source
#                             and module trees (/usr/src, /var/lib/dkms and
#                             /lib/modules are not touched): without the
#                             mock (iommufd.ko alone is installed), with it
#                             (mock_smmu.ko is added and matches iommufd.ko's
#                             symbol versions), without it again (the mock
#                             goes), then uninstall (nothing is left). Then
#                             install the uAPI header with `make
#                             headers_install` into a temporary path and
#                             compile a program against it alone. Cleans up
#                             after itself.
#
# make dkms-install (DKMS_WITH_MOCK=1 for --with-mock), dkms-uninstall and
# dkms-check call the last three.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
NAME="iommufd-viommu"
MOCK_NAME="iommufd-viommu-mock"
VERSION=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$TOP/dkms.conf")
KSRC_TAR=${KSRC_TAR:-/usr/src/linux-source-6.12.tar.xz}

log() { printf '[dkms] %s\n' "$*" >&2; }
die() { printf '[dkms] ERROR: %s\n' "$*" >&2; exit 1; }

usage() {
	# The comment at the top, from its fourth line on
	awk 'NR >= 4 && !/^#/ { exit } NR >= 4' "$0" | sed 's/^# \{0,1\}//'
}

# Both packages are built from one tree: their versions must agree.
MOCK_VERSION=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$TOP/dkms-mock.conf")
[ "$MOCK_VERSION" = "$VERSION" ] ||
	die "dkms-mock.conf has version '$MOCK_VERSION', dkms.conf '$VERSION': they must be the same"

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

# modules [--with-mock] KERNELVER [KDIR]
cmd_modules() {
	local with_mock=0 kver kdir build kmod

	if [ "${1:-}" = --with-mock ]; then
		with_mock=1
		shift
	fi
	kver=${1:?kernel version}
	kdir=$(kdir_of "$kver" "${2:-}")
	cmd_check "$kver" "$kdir"
	build=$TOP/build
	kmod=$build/kmod
	log "building $NAME for $kver against $kdir"
	BUILD=$build KSRC_TAR=$KSRC_TAR "$TOP/scripts/prepare-src.sh"
	# The same Kbuild invocations as the Makefile's modules target.
	make -C "$kdir" IOMMUFD_VIOMMU_TOP="$TOP" KERNELRELEASE="$kver" \
		M="$kmod/drivers/iommu/iommufd" modules
	if [ "$with_mock" = 0 ]; then
		make -C "$kdir" IOMMUFD_VIOMMU_TOP="$TOP" KERNELRELEASE="$kver" \
			M="$kmod/drivers/vfio" \
			KBUILD_EXTRA_SYMBOLS="$kmod/drivers/iommu/iommufd/Module.symvers" \
			modules
		return 0
	fi
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

# Copy the tree DKMS needs (git's files, not build/) to $1; with a second
# argument, that file of the tree becomes the copy's dkms.conf
stage_tree() {
	local dest=$1 conf=${2:-} list

	mkdir -p "$dest"
	if ! list=$(git -C "$TOP" ls-files --cached --others --exclude-standard \
		    2>/dev/null); then
		list=$(cd "$TOP" && find . \( -path ./build -o -path ./.git \) \
			-prune -o -type f -print | sed 's@^\./@@')
	fi
	printf '%s\n' "$list" | (cd "$TOP" && while IFS= read -r f; do
		[ -f "$f" ] && printf '%s\n' "$f"
	done) | tar -C "$TOP" -cf - -T - | tar -C "$dest" -xf -
	[ -z "$conf" ] || cp "$TOP/$conf" "$dest/dkms.conf"
	[ -f "$dest/dkms.conf" ] || die "staging the tree failed"
}

kernels_or_default() {
	if [ $# -gt 0 ]; then
		printf '%s\n' "$@"
	else
		installed_kernels
	fi
}

# The DKMS calls of install, uninstall and ci. ci points them at temporary
# trees (DKMS_OPTS, SRC_ROOT, NO_DEPMOD) and keeps their output in
# $WORK/dkms.log unless one fails (QUIET).
DKMS_OPTS=()
NO_DEPMOD=()
SRC_ROOT=/usr/src
QUIET=""

# dk ARGS...: dkms ARGS..., with ci's trees
dk() {
	local f

	if [ -z "$QUIET" ]; then
		dkms "${DKMS_OPTS[@]}" "$@"
		return
	fi
	dkms "${DKMS_OPTS[@]}" "$@" >"$WORK/dkms.log" 2>&1 && return 0
	cat "$WORK/dkms.log" >&2
	# The newest make.log: the failed build's
	f=$(find "$WORK/dkms" -name make.log -printf '%T@ %p\n' 2>/dev/null |
		sort -n | tail -n 1 | cut -d ' ' -f 2-)
	[ -z "$f" ] || tail -n 40 "$f" >&2
	die "dkms $* failed"
}

# registered PACKAGE: whether DKMS knows PACKAGE/VERSION
registered() {
	dkms "${DKMS_OPTS[@]}" status -m "$1" -v "$VERSION" 2>/dev/null | grep -q .
}

# unregister PACKAGE: dkms remove --all, and its copy of the tree
unregister() {
	if registered "$1"; then
		dk remove "${NO_DEPMOD[@]}" -m "$1" -v "$VERSION" --all
	fi
	rm -rf "${SRC_ROOT:?}/$1-$VERSION"
}

# installed_for PACKAGE KERNELVER...: whether DKMS installed PACKAGE/VERSION
# for each KERNELVER
installed_for() {
	local pkg=$1 k

	shift
	for k; do
		dkms "${DKMS_OPTS[@]}" status -m "$pkg" -v "$VERSION" -k "$k" \
			2>/dev/null | grep -q ': installed' || return 1
	done
}

# install_pkg PACKAGE CONF KERNELVER...: register a copy of this tree as
# PACKAGE (CONF, if not empty, as its dkms.conf), then build and install it
# for each KERNELVER. A registered copy that is this tree already, and is
# installed for each KERNELVER, is kept.
install_pkg() {
	local pkg=$1 conf=$2 src=$SRC_ROOT/$1-$VERSION new k

	shift 2
	# Staged next to the copy, hidden, and compared with it
	new=$SRC_ROOT/.$pkg-$VERSION.new
	rm -rf "$new"
	stage_tree "$new" "$conf"
	if registered "$pkg" && diff -r -q "$new" "$src" >/dev/null 2>&1 &&
	   installed_for "$pkg" "$@"; then
		rm -rf "$new"
		log "$pkg/$VERSION: kept, installed from this tree for $*"
		return 0
	fi
	if registered "$pkg"; then
		log "replacing the registered $pkg/$VERSION"
	fi
	unregister "$pkg"
	mv "$new" "$src"
	dk add -m "$pkg" -v "$VERSION"
	for k; do
		log "dkms build and install -m $pkg -v $VERSION -k $k"
		dk build -m "$pkg" -v "$VERSION" -k "$k"
		# (ci: into the temporary install tree, not /lib/modules)
		[ ${#DKMS_OPTS[@]} = 0 ] || mkdir -p "$WORK/modules/$k"
		dk install "${NO_DEPMOD[@]}" -m "$pkg" -v "$VERSION" -k "$k"
	done
}

# install_pkgs WITH_MOCK KERNELVER...: iommufd-viommu, and the mock package
# if WITH_MOCK is 1, for each KERNELVER. Without it, a mock package
# registered before is removed: it is installed only when asked for, and
# must come from the same tree as iommufd.ko.
install_pkgs() {
	local with_mock=$1

	shift
	if [ "$with_mock" = 0 ] && registered "$MOCK_NAME"; then
		log "removing $MOCK_NAME/$VERSION, registered before (DKMS_WITH_MOCK=1 installs it again)"
		unregister "$MOCK_NAME"
	fi
	install_pkg "$NAME" "" "$@"
	[ "$with_mock" = 0 ] || install_pkg "$MOCK_NAME" dkms-mock.conf "$@"
}

# install [--with-mock] [KERNELVER...]
cmd_install() {
	local with_mock=0 kvers k

	if [ "${1:-}" = --with-mock ]; then
		with_mock=1
		shift
	fi
	need_root "install"
	need_dkms
	mapfile -t kvers < <(kernels_or_default "$@")
	[ ${#kvers[@]} -gt 0 ] ||
		die "no 6.12 kernel headers installed: apt-get install linux-headers-6.12.<N>+deb12-amd64 linux-source-6.12"
	for k in "${kvers[@]}"; do
		cmd_check "$k"
	done
	install_pkgs "$with_mock" "${kvers[@]}"
	dkms status -m "$NAME"
	[ "$with_mock" = 0 ] || dkms status -m "$MOCK_NAME"
}

uninstall_pkgs() {
	unregister "$MOCK_NAME"
	unregister "$NAME"
}

cmd_uninstall() {
	need_root "uninstall"
	need_dkms
	uninstall_pkgs
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

# ko_files KERNELVER MODULE: where ci's DKMS installed MODULE.ko[.xz|...]
ko_files() {
	find "$WORK/modules/$1" -name "$2.ko*" 2>/dev/null
}

# plain_ko FILE: FILE, or an uncompressed copy of it, for readelf
plain_ko() {
	local f=$1 out=$WORK/${1##*/}

	case $f in
	*.ko) echo "$f"; return ;;
	*.ko.xz) xz -dc "$f" ;;
	*.ko.zst) zstd -qdc "$f" ;;
	*.ko.gz) gzip -dc "$f" ;;
	*) die "$f: unknown module compression" ;;
	esac >"${out%.*}" || die "cannot uncompress $f"
	echo "${out%.*}"
}

# ci_module KERNELVER MODULE: the one MODULE.ko ci's DKMS installed for
# KERNELVER, checked to be built for it
ci_module() {
	local f vermagic

	f=$(ko_files "$1" "$2")
	[ -n "$f" ] || die "dkms installed no $2.ko for $1"
	[ "$(printf '%s\n' "$f" | wc -l)" = 1 ] ||
		die "dkms installed $2.ko more than once for $1:"$'\n'"$f"
	vermagic=$(modinfo -F vermagic "$f")
	[ "${vermagic%% *}" = "$1" ] ||
		die "$2.ko has vermagic '$vermagic', not $1"
	echo "$f"
}

# exported_crcs KO: "CRC SYMBOL" of each symbol KO exports (its __crc_*
# symbols point into its __kcrctab sections)
exported_crcs() {
	local ko=$1 ndx val sym off

	LC_ALL=C readelf -SW "$ko" | sed 's/\[ */[/' |
		awk '$2 ~ /^__kcrctab/ { gsub(/[][]/, "", $1); print $1, $5 }' \
		>"$WORK/kcrctab"
	LC_ALL=C readelf -sW "$ko" |
		awk '$8 ~ /^__crc_/ { print $7, $2, substr($8, 7) }' |
		while read -r ndx val sym; do
			off=$(awk -v n="$ndx" '$1 == n { print $2 }' "$WORK/kcrctab")
			[ -n "$off" ] || continue
			printf '0x%s %s\n' "$(od -An -tx4 -j $((0x$off + 0x$val)) \
				-N 4 "$ko" | tr -d ' ')" "$sym"
		done
}

# check_symvers USER PROVIDER: print how many symbols of module PROVIDER
# module USER imports; fail unless it imports them all with PROVIDER's
# versions (else the kernel refuses to load it: "disagrees about version of
# symbol")
check_symvers() {
	local user provider u=${1##*/} p=${2##*/} bad

	user=$(plain_ko "$1")
	provider=$(plain_ko "$2")
	u=${u%%.ko*}.ko p=${p%%.ko*}.ko
	exported_crcs "$provider" | LC_ALL=C sort -k 2 >"$WORK/exports"
	[ -s "$WORK/exports" ] || die "found no symbol versions in $2"
	modprobe --dump-modversions "$user" | awk '{ print $1, $2 }' |
		LC_ALL=C sort -k 2 >"$WORK/imports"
	LC_ALL=C join -1 2 -2 2 -o 0,1.1,2.1 "$WORK/imports" "$WORK/exports" \
		>"$WORK/joined"
	[ -s "$WORK/joined" ] || die "$u imports nothing of $p"
	bad=$(awk -v p="$p" '$2 != $3 { print "  " $1 ": " $2 ", " p " has " $3 }' \
		"$WORK/joined")
	[ -z "$bad" ] ||
		die "$u was built against other symbol versions than the installed $p's:"$'\n'"$bad"
	wc -l <"$WORK/joined"
}

# VFIO_LINKS: which installed module imports which one's symbols
VFIO_LINKS="vfio:iommufd vfio_iommu_type1:vfio vfio-pci-core:vfio
vfio-pci:vfio-pci-core vfio-pci:vfio"

# ci_only_iommufd KERNELVER...: iommufd.ko and the VFIO modules are
# installed, each linked against the installed ones, mock_smmu.ko not
ci_only_iommufd() {
	local k f l n

	for k; do
		f=$(ci_module "$k" iommufd)
		[ -z "$(ko_files "$k" mock_smmu)" ] ||
			die "a mock_smmu.ko is installed for $k: $(ko_files "$k" mock_smmu)"
		for l in $VFIO_LINKS; do
			n=$(check_symvers "$(ci_module "$k" "${l%:*}")" \
				"$(ci_module "$k" "${l#*:}")")
			log "$k: ${l%:*}.ko imports $n symbols of ${l#*:}.ko, with its versions"
		done
		log "$k: installed ${f##*/} and VFIO (vfio, vfio_iommu_type1, vfio-pci-core, vfio-pci), no mock, in ${f%/*}"
	done
	ci_status
}

ci_status() {
	dk status
	# (dkms asks readelf for a section Debian's kernels lack: noise)
	sed -e '/^readelf: Warning/d' -e 's/^/[dkms]   /' "$WORK/dkms.log" >&2
}

# ci [KERNELVER...]
cmd_ci() {
	local kvers k f iommufd n

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

	# What make dkms-install does, into temporary trees
	SRC_ROOT=$WORK/src
	DKMS_OPTS=(--dkmstree "$WORK/dkms" --sourcetree "$SRC_ROOT"
		   --installtree "$WORK/modules")
	NO_DEPMOD=(--no-depmod)
	QUIET=1
	mkdir -p "$WORK/dkms" "$WORK/modules" "$SRC_ROOT"

	# make dkms-install: iommufd.ko alone
	log "the default: make dkms-install"
	install_pkgs 0 "${kvers[@]}"
	! registered "$MOCK_NAME" || die "make dkms-install registered $MOCK_NAME"
	ci_only_iommufd "${kvers[@]}"

	# make dkms-install DKMS_WITH_MOCK=1: the mock too, iommufd.ko kept
	log "the mock when asked: make dkms-install DKMS_WITH_MOCK=1"
	install_pkgs 1 "${kvers[@]}"
	for k in "${kvers[@]}"; do
		f=$(ci_module "$k" mock_smmu)
		# Built with iommufd's Module.symvers: it links against iommufd.ko
		modinfo -F depends "$f" | grep -qw iommufd ||
			die "mock_smmu.ko does not depend on iommufd.ko"
		iommufd=$(ci_module "$k" iommufd)
		n=$(check_symvers "$f" "$iommufd")
		log "$k: installed ${f##*/} next to ${iommufd##*/}; it imports $n symbols of iommufd.ko, with its versions"
	done
	ci_status

	# make dkms-install again: the mock goes
	log "the default again: make dkms-install"
	install_pkgs 0 "${kvers[@]}"
	! registered "$MOCK_NAME" ||
		die "$MOCK_NAME is still registered after make dkms-install"
	ci_only_iommufd "${kvers[@]}"

	# make dkms-uninstall
	uninstall_pkgs
	f=$(find "$WORK/modules" -name '*.ko*')
	[ -z "$f" ] || die "modules left after dkms remove:"$'\n'"$f"
	log "make dkms-uninstall removed both packages"
	check_headers
	log "OK: dkms build for ${kvers[*]}, without and with the mock; headers_install"
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
