// SPDX-License-Identifier: GPL-2.0
/*
 * A module that takes two mutexes in both orders when it is loaded: the
 * positive control of the debug kernel's lockdep check, for the VM runner's
 * tests (tools/testing/vm/tests/debug.sh). One thread never deadlocks on
 * it, but lockdep must report the inversion, and a run that loads the
 * module must fail. Built against the debug kernel's tree and never
 * installed.
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/mutex.h>

static DEFINE_MUTEX(lock_order_a);
static DEFINE_MUTEX(lock_order_b);

static int __init lock_order_mod_init(void)
{
	mutex_lock(&lock_order_a);
	mutex_lock(&lock_order_b);
	mutex_unlock(&lock_order_b);
	mutex_unlock(&lock_order_a);

	mutex_lock(&lock_order_b);
	mutex_lock(&lock_order_a);
	mutex_unlock(&lock_order_a);
	mutex_unlock(&lock_order_b);
	pr_info("lock_order_mod: took two mutexes in both orders\n");
	return 0;
}
module_init(lock_order_mod_init);

static void __exit lock_order_mod_exit(void)
{
}
module_exit(lock_order_mod_exit);

MODULE_DESCRIPTION("A lock order inversion on load, to test the debug VM runner");
MODULE_LICENSE("GPL");
