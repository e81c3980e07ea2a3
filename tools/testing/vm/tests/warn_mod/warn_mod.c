// SPDX-License-Identifier: GPL-2.0
/*
 * A module that prints one kernel warning when it is loaded, for the tests
 * of the VM runner (tools/testing/vm/tests/run.sh): a program that loads it
 * and exits 0 must still fail the run. It is built against the kernel the
 * VM boots and is never installed.
 */
#include <linux/bug.h>
#include <linux/init.h>
#include <linux/module.h>

static int __init warn_mod_init(void)
{
	WARN(1, "warn_mod: warning requested by the VM runner's tests\n");
	return 0;
}
module_init(warn_mod_init);

static void __exit warn_mod_exit(void)
{
}
module_exit(warn_mod_exit);

MODULE_DESCRIPTION("Kernel warning on load, to test the VM runner");
MODULE_LICENSE("GPL");
