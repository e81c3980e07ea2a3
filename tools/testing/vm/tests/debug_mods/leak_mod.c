// SPDX-License-Identifier: GPL-2.0
/*
 * A module that leaks one kmalloc()ed object when it is loaded: the positive
 * control of the debug kernel's kmemleak check, for the VM runner's tests
 * (tools/testing/vm/tests/debug.sh). A run that loads it must fail. Built
 * against the debug kernel's tree and never installed.
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

#define LEAK_MOD_SIZE 96

static int __init leak_mod_init(void)
{
	char *p = kmalloc(LEAK_MOD_SIZE, GFP_KERNEL);

	if (!p)
		return -ENOMEM;
	strscpy(p, "leak_mod: leaked on purpose", LEAK_MOD_SIZE);
	pr_info("leak_mod: leaked one %d-byte object\n", LEAK_MOD_SIZE);
	return 0;
}
module_init(leak_mod_init);

static void __exit leak_mod_exit(void)
{
}
module_exit(leak_mod_exit);

MODULE_DESCRIPTION("One memory leak on load, to test the debug VM runner");
MODULE_LICENSE("GPL");
