// SPDX-License-Identifier: GPL-2.0-only
/*
 * Mock SMMU: the command queue of each pSMMU, both the hardware and the
 * driver side of it.
 *
 * Hardware. The queue is a ring of MOCK_CMDQ_ENTRIES commands with a
 * producer index PROD, written by the driver, and a consumer index CONS,
 * written by the pSMMU; as in SMMUv3 each holds the ring index and a wrap
 * bit above it, so a full ring (same index, different wrap bits) differs
 * from an empty one. A kernel thread per pSMMU is the pSMMU: it sleeps
 * until PROD != CONS, then takes the commands at CONS in order, decodes
 * each (mock_cmd_legal()), executes it against the cache model
 * (mock_cache_exec()), appends it to the log of executed commands, counts
 * it, and moves CONS on; a CMD_SYNC completes when CONS passes it. Log,
 * counters and model belong to the hardware, under @hw_lock.
 *
 * A command the pSMMU rejects halts the queue as GERROR.CMDQ_ERR does: CONS
 * stays on the command, CONS.ERR says why (CERROR_ILL, counted in
 * cerror_ill, or CERROR_ABT for an injected MOCK_SMMU_FAULT_CMD_ERROR,
 * which is not), GERROR and GERRORN differ, and nothing more is consumed
 * until the driver acknowledges the error. An injected
 * MOCK_SMMU_FAULT_SYNC_TIMEOUT makes the pSMMU stop on the next CMD_SYNC
 * without completing it, as if the sync could not finish. A failed or
 * stuck command is neither executed, logged nor counted (cmds/syncs). An
 * injected fault is taken by the first command it applies to: a command
 * error by whatever command comes next, CMD_SYNC included, before it is
 * decoded; a sync time-out by the next legal CMD_SYNC.
 *
 * Driver. issue() copies commands to the ring at PROD under @prod_mutex, so
 * the commands of one call stay together and in order, sleeping while the
 * ring is full, and moves PROD on, which wakes the pSMMU. sync() appends a
 * CMD_SYNC with CS = SEV and no MSI (words 0x2046, 0), as Linux does when it
 * polls CONS, and sleeps until CONS has passed it, at most sync_timeout_ms.
 * The driver tracks positions as 64-bit sequence numbers: CONS is extended
 * under @lock from the last value seen, which is exact because the pSMMU
 * can never be more than a ring ahead of it (PROD never is).
 *
 * Recovery is the driver's job and every waiter does it, whether it waits
 * for room or for a sync, and so does every issue() and sync() before it
 * writes: a queue halted on a command error is restarted by moving CONS
 * past the failed command (software may write CONS while the queue is
 * halted) and acknowledging the error (GERRORN = GERROR); a queue stuck on
 * a CMD_SYNC is restarted past that sync once its waiter has given up.
 *
 * Results. Every command written is tagged with the task that wrote it. A
 * command error is reported to the next sync() of that task, which returns
 * -EIO: so when several tasks share a queue, each sees the errors of its
 * own commands only, whatever order their commands and syncs took in the
 * ring (the dispatcher and the test interface issue and sync from the same
 * task). sync() returns -ETIMEDOUT when its CMD_SYNC did not complete
 * within sync_timeout_ms of being written, for a stuck sync or a slow
 * queue; it then drops the errors it had to report (the time-out says the
 * commands did not all complete) and marks its CMD_SYNC abandoned, and a
 * stuck abandoned CMD_SYNC is discarded by the driver without completing.
 * So after MOCK_SMMU_FAULT_SYNC_TIMEOUT the waiter of the stuck sync
 * returns -ETIMEDOUT, the queue continues behind it and the next sync
 * works; a sync queued behind the stuck one completes normally if its
 * waiter is still there, and no waiter is left behind. issue() gives up
 * with -ETIMEDOUT after twice sync_timeout_ms without any room freed.
 */
#include <linux/bitfield.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/wait.h>

#include "../arm/arm-smmu-v3/arm-smmu-v3-vsmmu.h"
#include "mock-smmu.h"
#include "mock_smmu.h"

static unsigned int sync_timeout_ms = 1000;
module_param(sync_timeout_ms, uint, 0644);
MODULE_PARM_DESC(sync_timeout_ms, "Time a CMD_SYNC is waited for, in ms (default 1000)");

#define MOCK_CMDQ_SHIFT		8
#define MOCK_CMDQ_ENTRIES	BIT(MOCK_CMDQ_SHIFT)
/* PROD and CONS: ring index and wrap bit */
#define MOCK_CMDQ_IDX		GENMASK(MOCK_CMDQ_SHIFT - 1, 0)
#define MOCK_CMDQ_WRP		BIT(MOCK_CMDQ_SHIFT)
#define MOCK_CMDQ_PTR		(MOCK_CMDQ_WRP | MOCK_CMDQ_IDX)
/* CONS.ERR, valid while GERROR.CMDQ_ERR is active */
#define MOCK_CMDQ_CONS_ERR	GENMASK(30, 24)
#define MOCK_CERROR_ILL		1
#define MOCK_CERROR_ABT		2
#define MOCK_GERROR_CMDQ_ERR	BIT(0)

/* The CMD_SYNC the driver appends: CS = SEV */
#define MOCK_CMD0_SYNC					\
	(FIELD_PREP(CMDQ_0_OP, CMDQ_OP_CMD_SYNC) |	\
	 FIELD_PREP(CMDQ_SYNC_0_CS, CMDQ_SYNC_0_CS_SEV))

/* The log is a ring too */
#define MOCK_LOG_IDX(i)		((i) & (MOCK_SMMU_CMDQ_LOG_SIZE - 1))
static_assert(!(MOCK_SMMU_CMDQ_LOG_SIZE & (MOCK_SMMU_CMDQ_LOG_SIZE - 1)));

/* Commands the pSMMU takes between two updates of CONS */
#define MOCK_CMDQ_BATCH		32

/* Tasks that can have command errors not yet reported to a sync */
#define MOCK_CMDQ_ERR_OWNERS	16

/* What became of a command the pSMMU took */
enum mock_cmd_result {
	MOCK_CMD_DONE,
	MOCK_CMD_ILL,		/* CERROR_ILL */
	MOCK_CMD_ABT,		/* injected command error */
	MOCK_CMD_STUCK,		/* injected sync time-out */
};

/* Driver bookkeeping of a ring entry, while it is in the ring */
struct mock_cmdq_slot {
	/* The task that wrote the command, only compared */
	const struct task_struct *owner;
	/* A CMD_SYNC whose waiter gave up */
	bool abandoned;
};

/**
 * struct mock_cmdq - the command queue of a pSMMU
 * @psmmu: The pSMMU
 * @ring: The queue's memory, MOCK_CMDQ_ENTRIES commands of two words
 * @lock: The registers below and the driver's state after them
 * @prod: SMMU_CMDQ_PROD: index and wrap bit
 * @cons: SMMU_CMDQ_CONS: index, wrap bit and ERR
 * @gerror: SMMU_GERROR, only CMDQ_ERR
 * @gerrorn: SMMU_GERRORN, only CMDQ_ERR
 * @stuck: The pSMMU stopped on the CMD_SYNC at @cons (injected fault)
 * @events: Changes of @cons and of the halt state, for the driver's waits
 * @prod_mutex: Serialises the producers; @prod_seq is written under both
 *              locks
 * @prod_seq: Sequence number of the next command written
 * @cons_seq: @cons extended to 64 bits
 * @slot: Per ring entry: see struct mock_cmdq_slot
 * @err_owner: Tasks that have command errors to report to their next sync
 * @err_lost: A command error did not fit in @err_owner: the next sync of
 *            any task reports it
 * @drv_wq: The driver's waiters, woken by every change of @events
 * @worker: The thread that is the pSMMU
 * @hw_wq: The pSMMU waits there for commands
 * @fault: Pending enum mock_smmu_fault_kind, 0 if none
 * @hw_lock: The pSMMU's state below; the pSMMU holds it while it executes
 * @cache: The cache model
 * @log: The last MOCK_SMMU_CMDQ_LOG_SIZE executed commands; entry i % SIZE
 *       is the i-th since the log was cleared
 * @log_total: Commands executed since the log was cleared
 * @nr_cmds: Commands executed, CMD_SYNC excluded
 * @nr_syncs: CMD_SYNC completed
 * @nr_cerror_ill: CERROR_ILL raised
 */
struct mock_cmdq {
	struct mock_psmmu *psmmu;
	u64 *ring;

	spinlock_t lock;	/* registers, driver state */
	u32 prod;
	u32 cons;
	u32 gerror;
	u32 gerrorn;
	bool stuck;
	u32 events;

	struct mutex prod_mutex;	/* producers */
	u64 prod_seq;
	u64 cons_seq;
	struct mock_cmdq_slot slot[MOCK_CMDQ_ENTRIES];
	const struct task_struct *err_owner[MOCK_CMDQ_ERR_OWNERS];
	bool err_lost;
	wait_queue_head_t drv_wq;

	struct task_struct *worker;
	wait_queue_head_t hw_wq;
	atomic_t fault;
	struct mutex hw_lock;	/* model, log, counters */
	struct mock_cache *cache;
	u64 (*log)[CMDQ_ENT_DWORDS];
	u64 log_total;
	u64 nr_cmds;
	u64 nr_syncs;
	u64 nr_cerror_ill;
};

/* --- The pSMMU ----------------------------------------------------------- */

static bool mock_cmdq_halted(struct mock_cmdq *q)
{
	lockdep_assert_held(&q->lock);
	return ((q->gerror ^ q->gerrorn) & MOCK_GERROR_CMDQ_ERR) || q->stuck;
}

static bool mock_cmdq_runnable(struct mock_cmdq *q)
{
	bool ret;

	spin_lock(&q->lock);
	ret = !mock_cmdq_halted(q) && q->prod != (q->cons & MOCK_CMDQ_PTR);
	spin_unlock(&q->lock);
	return ret;
}

/* Publish CONS and wake the driver. Under @hw_lock. */
static void mock_cmdq_set_cons(struct mock_cmdq *q, u32 cons,
			       enum mock_cmd_result res)
{
	spin_lock(&q->lock);
	switch (res) {
	case MOCK_CMD_DONE:
		q->cons = cons;
		break;
	case MOCK_CMD_ILL:
	case MOCK_CMD_ABT:
		q->cons = cons | FIELD_PREP(MOCK_CMDQ_CONS_ERR,
					    res == MOCK_CMD_ILL ?
					    MOCK_CERROR_ILL : MOCK_CERROR_ABT);
		q->gerror ^= MOCK_GERROR_CMDQ_ERR;
		break;
	case MOCK_CMD_STUCK:
		q->cons = cons;
		q->stuck = true;
		break;
	}
	q->events++;
	spin_unlock(&q->lock);
	wake_up_all(&q->drv_wq);
}

/* Take one command. Under @hw_lock. */
static enum mock_cmd_result mock_cmdq_exec(struct mock_cmdq *q, u64 w0, u64 w1)
{
	u64 *entry;

	/* An injected command error hits whatever command comes next */
	if (atomic_cmpxchg(&q->fault, MOCK_SMMU_FAULT_CMD_ERROR, 0) ==
	    MOCK_SMMU_FAULT_CMD_ERROR)
		return MOCK_CMD_ABT;
	if (!mock_cmd_legal(w0, w1)) {
		q->nr_cerror_ill++;
		return MOCK_CMD_ILL;
	}
	if (FIELD_GET(CMDQ_0_OP, w0) == CMDQ_OP_CMD_SYNC) {
		if (atomic_cmpxchg(&q->fault, MOCK_SMMU_FAULT_SYNC_TIMEOUT, 0) ==
		    MOCK_SMMU_FAULT_SYNC_TIMEOUT)
			return MOCK_CMD_STUCK;
		q->nr_syncs++;
	} else {
		mock_cache_exec(q->cache, w0, w1);
		q->nr_cmds++;
	}
	entry = q->log[MOCK_LOG_IDX(q->log_total)];
	entry[0] = w0;
	entry[1] = w1;
	q->log_total++;
	return MOCK_CMD_DONE;
}

/* Consume up to MOCK_CMDQ_BATCH commands */
static void mock_cmdq_consume(struct mock_cmdq *q)
{
	enum mock_cmd_result res = MOCK_CMD_DONE;
	u32 cons, prod, published;
	unsigned int n;

	spin_lock(&q->lock);
	if (mock_cmdq_halted(q)) {
		spin_unlock(&q->lock);
		return;
	}
	/* The commands up to PROD were written before PROD: see the lock */
	prod = q->prod;
	cons = q->cons & MOCK_CMDQ_PTR;
	spin_unlock(&q->lock);
	published = cons;

	mutex_lock(&q->hw_lock);
	for (n = 0; cons != prod && n != MOCK_CMDQ_BATCH; n++) {
		const u64 *cmd = &q->ring[(cons & MOCK_CMDQ_IDX) *
					  CMDQ_ENT_DWORDS];

		res = mock_cmdq_exec(q, cmd[0], cmd[1]);
		if (res != MOCK_CMD_DONE)
			break;
		cons = (cons + 1) & MOCK_CMDQ_PTR;
		/* Complete a sync at once, not at the end of the batch */
		if (FIELD_GET(CMDQ_0_OP, cmd[0]) == CMDQ_OP_CMD_SYNC) {
			mock_cmdq_set_cons(q, cons, res);
			published = cons;
		}
	}
	if (res != MOCK_CMD_DONE || cons != published)
		mock_cmdq_set_cons(q, cons, res);
	mutex_unlock(&q->hw_lock);
}

static int mock_cmdq_worker(void *data)
{
	struct mock_cmdq *q = data;

	while (!kthread_should_stop()) {
		wait_event_idle(q->hw_wq,
				kthread_should_stop() || mock_cmdq_runnable(q));
		mock_cmdq_consume(q);
		cond_resched();
	}
	return 0;
}

/* --- The driver ------------------------------------------------------------ */

static struct mock_cmdq *to_mock_cmdq(struct arm_vsmmu_smmu *smmu)
{
	return container_of(smmu, struct mock_psmmu, vsmmu)->cmdq;
}

static unsigned long mock_cmdq_timeout(void)
{
	return msecs_to_jiffies(max(READ_ONCE(sync_timeout_ms), 1U));
}

/* Extend CONS to a sequence number: it is at most a ring ahead of the last */
static u64 mock_cmdq_cons_seq(struct mock_cmdq *q)
{
	lockdep_assert_held(&q->lock);
	q->cons_seq += (q->cons - (u32)q->cons_seq) & MOCK_CMDQ_PTR;
	return q->cons_seq;
}

static void mock_cmdq_err_add(struct mock_cmdq *q,
			      const struct task_struct *owner)
{
	unsigned int i, free = MOCK_CMDQ_ERR_OWNERS;

	for (i = 0; i != MOCK_CMDQ_ERR_OWNERS; i++) {
		if (q->err_owner[i] == owner)
			return;
		if (!q->err_owner[i] && free == MOCK_CMDQ_ERR_OWNERS)
			free = i;
	}
	if (free == MOCK_CMDQ_ERR_OWNERS)
		q->err_lost = true;
	else
		q->err_owner[free] = owner;
}

/* Take the command errors to report to @owner's sync */
static bool mock_cmdq_err_take(struct mock_cmdq *q,
			       const struct task_struct *owner)
{
	bool err = q->err_lost;
	unsigned int i;

	q->err_lost = false;
	for (i = 0; i != MOCK_CMDQ_ERR_OWNERS; i++) {
		if (q->err_owner[i] == owner) {
			q->err_owner[i] = NULL;
			err = true;
		}
	}
	return err;
}

/*
 * Restart a halted queue: past a failed command, acknowledging the error,
 * or past a stuck CMD_SYNC nobody waits for any more.
 */
static void mock_cmdq_recover(struct mock_cmdq *q)
{
	u32 cons = q->cons & MOCK_CMDQ_PTR;
	struct mock_cmdq_slot *slot = &q->slot[cons & MOCK_CMDQ_IDX];

	lockdep_assert_held(&q->lock);
	if ((q->gerror ^ q->gerrorn) & MOCK_GERROR_CMDQ_ERR) {
		pr_err_ratelimited("mock-smmu.%u: CMDQ error (cons 0x%08x): %s\n",
				   q->psmmu->idx, q->cons,
				   FIELD_GET(MOCK_CMDQ_CONS_ERR, q->cons) ==
				   MOCK_CERROR_ILL ? "CERROR_ILL" :
						     "CERROR_ABT");
		mock_cmdq_err_add(q, slot->owner);
		q->gerrorn = q->gerror;
	} else if (!q->stuck || !slot->abandoned) {
		return;
	}
	q->stuck = false;
	/* Skip the command, as software may while the queue is halted */
	q->cons = (cons + 1) & MOCK_CMDQ_PTR;
	q->events++;
	wake_up(&q->hw_wq);
	wake_up_all(&q->drv_wq);
}

/* Sleep until @events changes or @deadline. Return false at the deadline. */
static bool mock_cmdq_wait(struct mock_cmdq *q, u32 events,
			   unsigned long deadline)
{
	long left = (long)(deadline - jiffies);

	if (left <= 0)
		return false;
	wait_event_timeout(q->drv_wq, READ_ONCE(q->events) != events, left);
	return true;
}

/*
 * Copy @num commands to the ring and move PROD past them, sleeping while
 * the ring is full. Set *@last to the sequence number of the last one.
 */
static int mock_cmdq_write(struct mock_cmdq *q, const u64 *cmds,
			   unsigned int num, u64 *last)
{
	unsigned long deadline = jiffies + 2 * mock_cmdq_timeout();
	int rc = 0;

	mutex_lock(&q->prod_mutex);
	while (num) {
		unsigned int room, n, i;
		u32 events;

		spin_lock(&q->lock);
		mock_cmdq_recover(q);
		room = MOCK_CMDQ_ENTRIES - (q->prod_seq - mock_cmdq_cons_seq(q));
		events = q->events;
		spin_unlock(&q->lock);
		if (!room) {
			if (!mock_cmdq_wait(q, events, deadline)) {
				rc = -ETIMEDOUT;
				break;
			}
			continue;
		}

		/* The entries from PROD on are the driver's until PROD moves */
		n = min(room, num);
		for (i = 0; i != n; i++) {
			u64 *cmd = &q->ring[((q->prod_seq + i) & MOCK_CMDQ_IDX) *
					    CMDQ_ENT_DWORDS];

			cmd[0] = *cmds++;
			cmd[1] = *cmds++;
		}
		spin_lock(&q->lock);
		for (i = 0; i != n; i++) {
			struct mock_cmdq_slot *slot =
				&q->slot[(q->prod_seq + i) & MOCK_CMDQ_IDX];

			slot->owner = current;
			slot->abandoned = false;
		}
		q->prod_seq += n;
		q->prod = q->prod_seq & MOCK_CMDQ_PTR;
		spin_unlock(&q->lock);
		wake_up(&q->hw_wq);

		num -= n;
		deadline = jiffies + 2 * mock_cmdq_timeout();
	}
	*last = q->prod_seq - 1;
	mutex_unlock(&q->prod_mutex);
	return rc;
}

static int mock_cmdq_issue(struct arm_vsmmu_smmu *smmu, const u64 *cmds,
			   unsigned int num)
{
	u64 last;

	return mock_cmdq_write(to_mock_cmdq(smmu), cmds, num, &last);
}

static int mock_cmdq_sync(struct arm_vsmmu_smmu *smmu)
{
	struct mock_cmdq *q = to_mock_cmdq(smmu);
	const u64 sync[CMDQ_ENT_DWORDS] = { MOCK_CMD0_SYNC, 0 };
	unsigned long deadline;
	u64 seq;
	int rc;

	rc = mock_cmdq_write(q, sync, 1, &seq);
	if (rc)
		return rc;

	deadline = jiffies + mock_cmdq_timeout();
	for (;;) {
		u32 events;

		spin_lock(&q->lock);
		mock_cmdq_recover(q);
		if (mock_cmdq_cons_seq(q) > seq) {
			rc = mock_cmdq_err_take(q, current) ? -EIO : 0;
			break;
		}
		if (time_after_eq(jiffies, deadline)) {
			/* Give up; if the queue is stuck on it, discard it */
			q->slot[seq & MOCK_CMDQ_IDX].abandoned = true;
			mock_cmdq_recover(q);
			/* The time-out is all this sync reports */
			mock_cmdq_err_take(q, current);
			rc = -ETIMEDOUT;
			break;
		}
		events = q->events;
		spin_unlock(&q->lock);
		mock_cmdq_wait(q, events, deadline);
	}
	spin_unlock(&q->lock);
	return rc;
}

/*
 * The command queue callbacks of the mock pSMMUs, for the vSMMU library:
 * the pSMMU is the one mock_psmmu::vsmmu belongs to. A task's sync()
 * reports the command errors of the commands that task issued (see the top
 * of this file).
 */
const struct arm_vsmmu_smmu_ops mock_cmdq_ops = {
	.issue = mock_cmdq_issue,
	.sync = mock_cmdq_sync,
};

/* --- Test interface ---------------------------------------------------------- */

/**
 * mock_cmdq_get_counters() - Read the command queue counters of a pSMMU
 * @psmmu: The pSMMU
 * @cnt: Its cmds, syncs and cerror_ill are set
 */
void mock_cmdq_get_counters(struct mock_psmmu *psmmu,
			    struct mock_smmu_counters *cnt)
{
	struct mock_cmdq *q = psmmu->cmdq;

	mutex_lock(&q->hw_lock);
	cnt->cmds = q->nr_cmds;
	cnt->syncs = q->nr_syncs;
	cnt->cerror_ill = q->nr_cerror_ill;
	mutex_unlock(&q->hw_lock);
}

/**
 * mock_cmdq_log_read() - Read the log of executed commands of a pSMMU
 * @psmmu: The pSMMU
 * @clear: Empty the log after reading it
 * @cmds: Output, @max commands of two words
 * @max: Room in @cmds
 * @total: Output the number of commands executed since the log was cleared
 *
 * The commands read are the min(@max, kept) most recent ones the log keeps,
 * oldest first.
 *
 * Return: the number of commands stored in @cmds.
 */
unsigned int mock_cmdq_log_read(struct mock_psmmu *psmmu, bool clear,
				u64 *cmds, unsigned int max, u64 *total)
{
	struct mock_cmdq *q = psmmu->cmdq;
	unsigned int i, num;
	u64 first;

	mutex_lock(&q->hw_lock);
	num = min_t(u64, q->log_total, MOCK_SMMU_CMDQ_LOG_SIZE);
	num = min(num, max);
	first = q->log_total - num;
	for (i = 0; i != num; i++) {
		const u64 *entry = q->log[MOCK_LOG_IDX(first + i)];

		*cmds++ = entry[0];
		*cmds++ = entry[1];
	}
	*total = q->log_total;
	if (clear)
		q->log_total = 0;
	mutex_unlock(&q->hw_lock);
	return num;
}

/**
 * mock_cmdq_inject_fault() - Make a pSMMU's queue fail its next operation
 * @psmmu: The pSMMU
 * @kind: enum mock_smmu_fault_kind, or 0 to cancel a pending fault
 *
 * A fault replaces the one pending, if any.
 */
void mock_cmdq_inject_fault(struct mock_psmmu *psmmu, unsigned int kind)
{
	atomic_set(&psmmu->cmdq->fault, kind);
}

/**
 * mock_cmdq_cache_fill() - Insert entries into a pSMMU's cache model
 * @psmmu: The pSMMU
 * @ents: The entries
 * @num: Their number, 0 to empty the model
 *
 * Return: see mock_cache_fill().
 */
int mock_cmdq_cache_fill(struct mock_psmmu *psmmu,
			 const struct mock_smmu_cache_entry *ents,
			 unsigned int num)
{
	struct mock_cmdq *q = psmmu->cmdq;
	int rc;

	mutex_lock(&q->hw_lock);
	rc = mock_cache_fill(q->cache, ents, num);
	mutex_unlock(&q->hw_lock);
	return rc;
}

/**
 * mock_cmdq_cache_read() - Read a pSMMU's cache model
 * @psmmu: The pSMMU
 * @ents: Output
 * @max: Room in @ents
 *
 * Return: see mock_cache_read().
 */
unsigned int mock_cmdq_cache_read(struct mock_psmmu *psmmu,
				  struct mock_smmu_cache_entry *ents,
				  unsigned int max)
{
	struct mock_cmdq *q = psmmu->cmdq;
	unsigned int total;

	mutex_lock(&q->hw_lock);
	total = mock_cache_read(q->cache, ents, max);
	mutex_unlock(&q->hw_lock);
	return total;
}

/* --- Set-up ------------------------------------------------------------------ */

static void mock_cmdq_free(struct mock_cmdq *q)
{
	mock_cache_free(q->cache);
	kvfree(q->log);
	kfree(q->ring);
	mutex_destroy(&q->hw_lock);
	mutex_destroy(&q->prod_mutex);
	kfree(q);
}

/**
 * mock_cmdq_init() - Create the command queue of a pSMMU
 * @psmmu: The pSMMU, whose @idx is set
 *
 * Starts the thread that consumes it.
 *
 * Return: 0, -ENOMEM, or the error of kthread_run().
 */
int mock_cmdq_init(struct mock_psmmu *psmmu)
{
	struct mock_cmdq *q;
	int rc;

	q = kzalloc(sizeof(*q), GFP_KERNEL);
	if (!q)
		return -ENOMEM;
	q->psmmu = psmmu;
	spin_lock_init(&q->lock);
	mutex_init(&q->prod_mutex);
	init_waitqueue_head(&q->drv_wq);
	init_waitqueue_head(&q->hw_wq);
	mutex_init(&q->hw_lock);
	atomic_set(&q->fault, 0);

	q->ring = kcalloc(MOCK_CMDQ_ENTRIES * CMDQ_ENT_DWORDS,
			  sizeof(*q->ring), GFP_KERNEL);
	q->log = kvcalloc(MOCK_SMMU_CMDQ_LOG_SIZE, sizeof(*q->log), GFP_KERNEL);
	q->cache = mock_cache_alloc();
	if (!q->ring || !q->log || !q->cache) {
		rc = -ENOMEM;
		goto err_free;
	}

	q->worker = kthread_run(mock_cmdq_worker, q, "mock-smmu%u-cmdq",
				psmmu->idx);
	if (IS_ERR(q->worker)) {
		rc = PTR_ERR(q->worker);
		goto err_free;
	}
	psmmu->cmdq = q;
	return 0;

err_free:
	mock_cmdq_free(q);
	return rc;
}

/**
 * mock_cmdq_destroy() - Stop and free the command queue of a pSMMU
 * @psmmu: The pSMMU; nothing uses its queue any more
 */
void mock_cmdq_destroy(struct mock_psmmu *psmmu)
{
	struct mock_cmdq *q = psmmu->cmdq;

	kthread_stop(q->worker);
	mock_cmdq_free(q);
	psmmu->cmdq = NULL;
}
