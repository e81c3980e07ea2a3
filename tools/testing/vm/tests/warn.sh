#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# vmrun.sh exec test, a script for the guest's busybox sh: load warn_mod.ko
# (copied in with --files), whose init prints a kernel warning, unload it
# and exit 0. The run must fail anyway.
insmod warn_mod.ko || exit 1
rmmod warn_mod || exit 1
echo "warn: warn_mod.ko loaded and unloaded"
