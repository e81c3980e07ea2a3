#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unpack the parts of Debian's linux-source-6.12 this project builds on and
# lay out the module build trees under $BUILD/kmod:
#
#   kmod/drivers/iommu/iommufd/  the kernel's iommufd sources, patched with
#                                patches/iommufd/*.patch, plus our files
#   kmod/drivers/iommu/mock-smmu the mock SMMU driver (our files)
#   kmod/include/uapi/linux/     iommufd.h patched with patches/uapi/*.patch
#   kmod/drivers/vfio/           the kernel's drivers/vfio, unmodified, plus
#                                our Kbuild (device cdevs and iommufd)
#
# kmod/ has the kernel tree's layout, so the patches (git format-patch,
# with full paths such as a/drivers/iommu/iommufd/main.c) apply to it with
# patch -p1.
#
# The kernel's files are never committed; they are re-extracted whenever the
# tarball or a patch changes.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
KSRC_TAR=${KSRC_TAR:-/usr/src/linux-source-6.12.tar.xz}
SRC=$BUILD/linux-6.12
# KMOD: where to assemble (make debug-modules uses a tree of its own)
KMOD=${KMOD:-$BUILD/kmod}
# PATCH_DIRS: the subdirectories of patches/ to apply, in order. The test
# build of make test-upstream adds iommufd-test (scripts/upstream-tests.sh).
PATCH_DIRS=${PATCH_DIRS:-uapi iommufd}

log() { printf '[src] %s\n' "$*" >&2; }

# The top-level Makefile, scripts/ and the headers are what the kernel's
# own coccicheck target needs (Debian's headers package lacks
# scripts/coccinelle); scripts/ also has checkpatch.pl and kernel-doc.
MEMBERS="
drivers/iommu/iommufd
drivers/iommu/iommu-priv.h
drivers/vfio
lib/interval_tree.c
include
arch/x86/include
arch/x86/Makefile
Makefile
scripts
tools/testing/selftests/kselftest.h
tools/testing/selftests/kselftest_harness.h
"

stamp="$(stat -c '%s %Y' "$KSRC_TAR") $(echo "$MEMBERS" | md5sum)"
if [ "$(cat "$SRC/.stamp" 2>/dev/null)" != "$stamp" ]; then
	log "unpacking 6.12 sources from $KSRC_TAR (~10 s)"
	rm -rf "$SRC" "$SRC.tmp" && mkdir -p "$SRC.tmp"
	# shellcheck disable=SC2086
	tar -xJf "$KSRC_TAR" -C "$SRC.tmp" --strip-components=1 \
		$(for m in $MEMBERS; do echo "linux-source-6.12/$m"; done)
	echo "$stamp" >"$SRC.tmp/.stamp"
	mv "$SRC.tmp" "$SRC"
fi

# Rebuild the assembled tree when the sources or any patch changed; the
# object files of an unchanged tree are kept for incremental builds.
pstamp="$stamp $PATCH_DIRS $(for d in $PATCH_DIRS; do
	cat "$TOP/patches/$d"/*.patch 2>/dev/null || true; done | md5sum)"
if [ "$(cat "$KMOD/.stamp" 2>/dev/null)" != "$pstamp" ]; then
	log "assembling module trees and applying patches/"
	rm -rf "$KMOD"
	mkdir -p "$KMOD/drivers/iommu" "$KMOD/include/uapi/linux"
	cp -r "$SRC/drivers/iommu/iommufd" "$KMOD/drivers/iommu/"
	cp "$SRC/drivers/iommu/iommu-priv.h" "$KMOD/drivers/iommu/"
	rm -f "$KMOD/drivers/iommu/iommufd/Makefile" \
		"$KMOD/drivers/iommu/iommufd/Kconfig"
	cp "$SRC/include/uapi/linux/iommufd.h" "$KMOD/include/uapi/linux/"
	cp -r "$SRC/drivers/vfio" "$KMOD/drivers/"

	# lib/interval_tree.c's span iterator is not in Debian's vmlinux
	# (CONFIG_INTERVAL_TREE_SPAN_ITER=n): carry just that part, with
	# module-local linkage instead of exports.
	{
		echo '// SPDX-License-Identifier: GPL-2.0-only'
		echo '/* Generated from lib/interval_tree.c by scripts/prepare-src.sh */'
		echo '#include <linux/interval_tree.h>'
		sed -n '/^#ifdef CONFIG_INTERVAL_TREE_SPAN_ITER/,/^#endif/p' \
			"$SRC/lib/interval_tree.c" |
			sed -e '1d;$d' -e '/^EXPORT_SYMBOL/d'
	} >"$KMOD/drivers/iommu/iommufd/interval_tree_span.c"

	# git format-patch files with the kernel tree's paths: the uAPI
	# header first, then the iommufd sources that use it.
	for p in $(for d in $PATCH_DIRS; do echo "$TOP/patches/$d"/*.patch; done); do
		[ -e "$p" ] || continue
		log "  patch $(basename "$p")"
		patch -s -p1 -d "$KMOD" --no-backup-if-mismatch <"$p"
	done
	echo "$pstamp" >"$KMOD/.stamp"
fi

# Our own files are linked, not copied, so edits need no re-assembly.
link_dir() {
	local from=$1 to=$2 f
	mkdir -p "$to"
	for f in "$from"/*; do
		if [ -f "$f" ]; then
			ln -sf "$f" "$to/$(basename "$f")"
		fi
	done
}
link_dir "$TOP/drivers/iommu/iommufd" "$KMOD/drivers/iommu/iommufd"
link_dir "$TOP/drivers/iommu/mock-smmu" "$KMOD/drivers/iommu/mock-smmu"
link_dir "$TOP/drivers/iommu/arm/arm-smmu-v3" "$KMOD/drivers/iommu/arm/arm-smmu-v3"
link_dir "$TOP/drivers/vfio" "$KMOD/drivers/vfio"
