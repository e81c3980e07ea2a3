#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Checks and builds Documentation/ (make docs-check, make htmldocs).
#
# Usage: Documentation/sphinx/docs.sh check|html
#
#   check  every `.. kernel-doc::` directive of Documentation/**/*.rst must
#          name an existing file and, with :identifiers:, existing
#          identifiers; :export:, :internal: and plain directives must
#          produce something; and `kernel-doc -none -Wall` must report
#          nothing on those files (for a kernel file patched by patches/,
#          nothing its pristine 6.12 copy does not report already).
#   html   render Documentation/ with Sphinx and the 6.12 tree's kerneldoc
#          extension into build/htmldocs; installs python3-sphinx if it is
#          missing (as root).
#
# Paths in the directives are relative to the top of the repository (the
# docs build's srctree). The uAPI header is build/kmod/include/uapi/linux/
# iommufd.h, which `make src` assembles: run that first (make docs-check
# and make htmldocs do).
set -euo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
KSRC=$BUILD/linux-6.12
KDOC=$KSRC/scripts/kernel-doc
KSRC_TAR=${KSRC_TAR:-/usr/src/linux-source-6.12.tar.xz}

log() { printf '[docs] %s\n' "$*" >&2; }

# One line per directive: FILE<TAB>RST:LINE<TAB>OPTION<TAB>VALUE, OPTION
# being identifiers, export, internal, doc or "all".
directives() {
	local rst

	find "$TOP/Documentation" -name '*.rst' | sort | while read -r rst; do
		awk -v rst="${rst#"$TOP"/}" '
			function flush() {
				if (path != "")
					printf "%s\t%s:%d\t%s\t%s\n", path, rst, at,
					       opt == "" ? "all" : opt, val
				path = ""; opt = ""; val = ""
			}
			/^\.\. kernel-doc::/ {
				flush(); path = $3; at = NR; next
			}
			path != "" && /^[ \t]+:[a-z-]+:/ {
				o = $0; sub(/^[ \t]+:/, "", o)
				v = o; sub(/:.*/, "", o); sub(/^[^:]*:[ \t]*/, "", v)
				if (o != "no-identifiers") { opt = o; val = v }
				next
			}
			path != "" && /^[ \t]+[^ \t]/ {
				v = $0; sub(/^[ \t]+/, "", v); val = val " " v; next
			}
			{ flush() }
			END { flush() }' "$rst"
	done
}

# kernel-doc's -Wall warnings of FILE without the line numbers.
warnings() {
	perl "$KDOC" -none -Wall "$1" 2>&1 >/dev/null |
		grep -v '^Warning: Sphinx version' |
		sed -E 's/^[^ :]+:[0-9]+: //' || true
}

cmd_check() {
	local errors=0 n=0 file where opt val out id rel pristine files=()
	local -A seen=()

	[ -f "$KDOC" ] || { log "$KDOC missing: run make src"; exit 1; }
	err() { echo "$where: $*"; errors=$((errors + 1)); }

	while IFS=$'\t' read -r file where opt val; do
		n=$((n + 1))
		if [ ! -f "$TOP/$file" ]; then
			err "kernel-doc file $file does not exist"
			continue
		fi
		[ -n "${seen[$file]:-}" ] || files+=("$file")
		seen[$file]=1
		case $opt in
		identifiers|functions)
			for id in $val; do
				out=$(cd "$TOP" && perl "$KDOC" -rst -function "$id" \
					"$file" 2>&1)
				if grep -q "'$id' not found" <<<"$out" ||
				   ! grep -q '^\.\. c:' <<<"$out"; then
					err "$id is not documented in $file"
				fi
			done
			;;
		export|internal)
			out=$(cd "$TOP" && perl "$KDOC" -rst "-$opt" "$file" 2>/dev/null)
			grep -q '^\.\. c:' <<<"$out" ||
				err "no documented $opt symbol in $file"
			;;
		doc)
			out=$(cd "$TOP" && perl "$KDOC" -rst -function "$val" \
				"$file" 2>/dev/null)
			[ -n "$out" ] || err "no DOC: section '$val' in $file"
			;;
		all)
			out=$(cd "$TOP" && perl "$KDOC" -rst "$file" 2>/dev/null)
			grep -q '^\.\. c:' <<<"$out" ||
				err "no kernel-doc comment in $file"
			;;
		*)
			err "unknown kernel-doc option :$opt:"
			;;
		esac
	done < <(directives)

	for file in "${files[@]}"; do
		where=$file
		rel=${file#build/kmod/}
		pristine=""
		[ "$rel" != "$file" ] && [ -f "$KSRC/$rel" ] && pristine=$KSRC/$rel
		while IFS= read -r out; do
			[ -n "$out" ] && err "kernel-doc: $out"
		done < <(cd "$TOP" && if [ -n "$pristine" ]; then
				# What 6.12 itself reports is not ours
				grep -vxF -f <(warnings "$pristine") \
					<(warnings "$file") || true
			 else
				warnings "$file"
			 fi)
	done

	if [ "$errors" != 0 ]; then
		log "FAILED: $errors problem(s) in $n kernel-doc directives"
		exit 1
	fi
	log "OK: $n kernel-doc directives, ${#files[@]} files, kernel-doc -Wall clean"
}

cmd_html() {
	local sphinx_dir=$BUILD/docs/sphinx
	# Debian's python3-sphinx is for Debian's python3, whatever is on PATH
	local py=/usr/bin/python3

	[ -x "$py" ] || py=python3
	if ! "$py" -c 'import sphinx' 2>/dev/null; then
		[ "$(id -u)" = 0 ] ||
			{ log "python3-sphinx is missing: apt-get install python3-sphinx"; exit 1; }
		log "apt-get install python3-sphinx"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			--no-install-recommends python3-sphinx >/dev/null
	fi
	# The kernel's Sphinx extensions (kerneldoc.py and its helpers)
	if [ ! -f "$sphinx_dir/kerneldoc.py" ]; then
		log "unpacking Documentation/sphinx of $KSRC_TAR"
		rm -rf "$sphinx_dir" && mkdir -p "$sphinx_dir"
		tar -xJf "$KSRC_TAR" -C "$sphinx_dir" --strip-components=3 \
			linux-source-6.12/Documentation/sphinx/
	fi
	cmd_check
	KERNELDOC_EXT_DIR=$sphinx_dir KERNELDOC_BIN=$KDOC \
		"$py" -m sphinx -q -W --keep-going -b html \
		-d "$BUILD/docs/doctrees" "$TOP/Documentation" "$BUILD/htmldocs"
	log "HTML in $BUILD/htmldocs/index.html"
}

case ${1:-} in
check) cmd_check ;;
html) cmd_html ;;
*) sed -n '4,21p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
