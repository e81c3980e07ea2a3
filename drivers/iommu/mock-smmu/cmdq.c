// SPDX-License-Identifier: GPL-2.0-only
/*
 * Mock SMMU: the command queue of each pSMMU, a synchronous model of one,
 * but for the time its CMD_SYNCs take.
 *
 * issue() hands the pSMMU each command in order, as if the queue were
 * consumed at once: the pSMMU decodes it (mock_cmd_legal()), executes it
 * against the cache model (mock_cache_exec()), appends it to the log of
 * executed commands and counts it. A command the pSMMU rejects is neither
 * executed, logged nor counted (cmds/syncs): CERROR_ILL for an illegal one,
 * counted in cerror_ill, or CERROR_ABT for an injected
 * MOCK_SMMU_FAULT_CMD_ERROR, which is not; the driver's recovery then skips
 * it, as Linux does when it moves CONS past a failed command, and the
 * commands after it run.
 *
 * sync_start() writes a CMD_SYNC with CS = SEV and no MSI (words 0x2046,
 * 0), as Linux does when it polls CONS, and takes the errors it is to
 * report: sync_wait() returns -EIO if a command the calling task issued
 * before that CMD_SYNC, since its previous one, was rejected; when several
 * tasks share a queue, each sees the errors of its own commands only. The
 * CMD_SYNC completes sync_latency_us after it was written (at once by
 * default), the time a pSMMU would take to consume the queue up to it and
 * complete it; sync_wait() polls for that as Linux polls CONS, spinning
 * rather than sleeping, so the CMD_SYNCs of several pSMMUs started before
 * the first wait complete together. Counters and log take a CMD_SYNC when
 * it is written. An injected MOCK_SMMU_FAULT_SYNC_TIMEOUT makes the next
 * CMD_SYNC never complete: its waiter gives up sync_timeout_ms after it
 * began to wait, with -ETIMEDOUT, and the errors it had to report are
 * dropped (the time-out says the commands did not all complete); so does a
 * wait for a CMD_SYNC whose sync_latency_us exceeds sync_timeout_ms. The
 * queue goes on behind it. An injected fault is taken by the first command
 * it applies to: a command error by whatever command comes next, CMD_SYNC
 * included, before it is decoded; a sync time-out by the next legal
 * CMD_SYNC.
 *
 * For tests, every sync_start() and every sync_wait() takes a number from
 * one sequence common to all pSMMUs; MOCK_SMMU_GET_COUNTERS gives each
 * pSMMU's last ones, which tell the order a call started and waited for
 * the CMD_SYNCs of several pSMMUs in.
 *
 * One mutex per pSMMU, @lock, serialises the hardware: model, log,
 * counters and the record of which tasks have errors to report.
 */
#include <linux/bitfield.h>
#include <linux/delay.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "../arm/arm-smmu-v3/arm-smmu-v3-vsmmu.h"
#include "mock-smmu.h"
#include "mock_smmu.h"

static unsigned int sync_timeout_ms = 1000;
module_param(sync_timeout_ms, uint, 0644);
MODULE_PARM_DESC(sync_timeout_ms, "Time a CMD_SYNC is waited for, in ms (default 1000)");

/*
 * For benchmarks: the time a pSMMU takes to complete a CMD_SYNC, from its
 * writing on, so that the waits of several pSMMUs can overlap.
 */
static unsigned int sync_latency_us;
module_param(sync_latency_us, uint, 0644);
MODULE_PARM_DESC(sync_latency_us, "Time a CMD_SYNC takes to complete after it was written, in us (default 0: at once)");

/* Waits longer than this sleep between polls rather than spin */
#define MOCK_SYNC_SPIN_NS	(2 * NSEC_PER_MSEC)

/* The sequence of sync starts and waits, common to every pSMMU */
static atomic64_t mock_sync_seq = ATOMIC64_INIT(0);

/*
 * For benchmarks: with cmdq_model=0 a legal command is only counted, not
 * executed against the cache model nor logged, so that the time of a call
 * is the driver's and the dispatcher's alone.
 */
static bool cmdq_model = true;
module_param(cmdq_model, bool, 0644);
MODULE_PARM_DESC(cmdq_model, "Execute commands against the cache model and log them (default 1; 0: count only, for benchmarks)");

/* The CMD_SYNC the driver issues: CS = SEV */
#define MOCK_CMD0_SYNC					\
	(FIELD_PREP(CMDQ_0_OP, CMDQ_OP_CMD_SYNC) |	\
	 FIELD_PREP(CMDQ_SYNC_0_CS, CMDQ_SYNC_0_CS_SEV))

/* The log is a ring */
#define MOCK_LOG_IDX(i)		((i) & (MOCK_SMMU_CMDQ_LOG_SIZE - 1))
static_assert(!(MOCK_SMMU_CMDQ_LOG_SIZE & (MOCK_SMMU_CMDQ_LOG_SIZE - 1)));

/* Tasks that can have command errors not yet reported to a sync */
#define MOCK_CMDQ_ERR_OWNERS	16

/* What became of a command the pSMMU took */
enum mock_cmd_result {
	MOCK_CMD_DONE,
	MOCK_CMD_ILL,		/* CERROR_ILL */
	MOCK_CMD_ABT,		/* injected command error */
	MOCK_CMD_STUCK,		/* injected sync time-out */
};

/**
 * struct mock_cmdq - the command queue of a pSMMU
 * @lock: Everything below but @fault and @sync_wait_seq
 * @fault: Pending enum mock_smmu_fault_kind, 0 if none
 * @err_owner: Tasks that have command errors to report to their next sync
 * @err_lost: A command error did not fit in @err_owner: the next sync of
 *            any task reports it
 * @cache: The cache model
 * @log: The last MOCK_SMMU_CMDQ_LOG_SIZE executed commands; entry i % SIZE
 *       is the i-th since the log was cleared
 * @log_total: Commands executed since the log was cleared
 * @nr_cmds: Commands executed, CMD_SYNC excluded
 * @nr_syncs: CMD_SYNC completed
 * @nr_cerror_ill: CERROR_ILL raised
 * @sync_start_seq: Number of the last sync start in mock_sync_seq, 0 if none
 * @sync_wait_seq: The same for the last wait; written without @lock
 */
struct mock_cmdq {
	struct mutex lock;	/* see above */
	atomic_t fault;
	const struct task_struct *err_owner[MOCK_CMDQ_ERR_OWNERS];
	bool err_lost;
	struct mock_cache *cache;
	u64 (*log)[CMDQ_ENT_DWORDS];
	u64 log_total;
	u64 nr_cmds;
	u64 nr_syncs;
	u64 nr_cerror_ill;
	u64 sync_start_seq;
	u64 sync_wait_seq;
};

/* --- The pSMMU ----------------------------------------------------------- */

/* Take one command */
static enum mock_cmd_result mock_cmdq_exec(struct mock_cmdq *q, u64 w0, u64 w1)
{
	u64 *entry;

	lockdep_assert_held(&q->lock);
	/*
	 * An injected command error hits whatever command comes next. The
	 * plain read first keeps the usual case, no fault pending, free of an
	 * atomic read-modify-write per command.
	 */
	if (unlikely(atomic_read(&q->fault)) &&
	    atomic_cmpxchg(&q->fault, MOCK_SMMU_FAULT_CMD_ERROR, 0) ==
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
		if (READ_ONCE(cmdq_model))
			mock_cache_exec(q->cache, w0, w1);
		q->nr_cmds++;
	}
	if (!READ_ONCE(cmdq_model))
		return MOCK_CMD_DONE;
	entry = q->log[MOCK_LOG_IDX(q->log_total)];
	entry[0] = w0;
	entry[1] = w1;
	q->log_total++;
	return MOCK_CMD_DONE;
}

/* --- The driver ------------------------------------------------------------ */

static struct mock_cmdq *to_mock_cmdq(struct arm_vsmmu_smmu *smmu)
{
	return container_of(smmu, struct mock_psmmu, vsmmu)->cmdq;
}

/* Remember that the current task has an error to report */
static void mock_cmdq_err_add(struct mock_cmdq *q)
{
	unsigned int i, free = MOCK_CMDQ_ERR_OWNERS;

	lockdep_assert_held(&q->lock);
	for (i = 0; i != MOCK_CMDQ_ERR_OWNERS; i++) {
		if (q->err_owner[i] == current)
			return;
		if (!q->err_owner[i] && free == MOCK_CMDQ_ERR_OWNERS)
			free = i;
	}
	if (free == MOCK_CMDQ_ERR_OWNERS)
		q->err_lost = true;
	else
		q->err_owner[free] = current;
}

/* Take the current task's error, if it has one */
static bool mock_cmdq_err_take(struct mock_cmdq *q)
{
	bool lost = q->err_lost;
	unsigned int i;

	lockdep_assert_held(&q->lock);
	q->err_lost = false;
	for (i = 0; i != MOCK_CMDQ_ERR_OWNERS; i++) {
		if (q->err_owner[i] == current) {
			q->err_owner[i] = NULL;
			return true;
		}
	}
	return lost;
}

static int mock_cmdq_issue(struct arm_vsmmu_smmu *smmu, const u64 *cmds,
			   unsigned int num)
{
	struct mock_cmdq *q = to_mock_cmdq(smmu);
	unsigned int i;

	mutex_lock(&q->lock);
	for (i = 0; i != num; i++, cmds += CMDQ_ENT_DWORDS) {
		enum mock_cmd_result res = mock_cmdq_exec(q, cmds[0], cmds[1]);

		/* A stuck CMD_SYNC nobody waits for is discarded */
		if (res == MOCK_CMD_ILL || res == MOCK_CMD_ABT)
			mock_cmdq_err_add(q);
	}
	mutex_unlock(&q->lock);
	return 0;
}

/*
 * Write a CMD_SYNC. @tok gets the time it completes at (KTIME_MAX if
 * never) and what its wait is to report when it does.
 */
static int mock_cmdq_sync_start(struct arm_vsmmu_smmu *smmu,
				struct arm_vsmmu_sync *tok)
{
	struct mock_cmdq *q = to_mock_cmdq(smmu);
	enum mock_cmd_result res;
	bool err;

	mutex_lock(&q->lock);
	q->sync_start_seq = atomic64_inc_return(&mock_sync_seq);
	res = mock_cmdq_exec(q, MOCK_CMD0_SYNC, 0);
	err = mock_cmdq_err_take(q);
	mutex_unlock(&q->lock);

	if (res == MOCK_CMD_STUCK) {
		/* Its waiter gives up; the time-out is all it reports */
		tok->pos = KTIME_MAX;
		tok->ret = -ETIMEDOUT;
		return 0;
	}
	tok->pos = ktime_add_us(ktime_get(), READ_ONCE(sync_latency_us));
	tok->ret = err || res != MOCK_CMD_DONE ? -EIO : 0;
	return 0;
}

/* Poll for the completion of the CMD_SYNC of @tok, as Linux polls CONS */
static int mock_cmdq_sync_wait(struct arm_vsmmu_smmu *smmu,
			       struct arm_vsmmu_sync *tok)
{
	struct mock_cmdq *q = to_mock_cmdq(smmu);
	ktime_t now = ktime_get(), limit;

	WRITE_ONCE(q->sync_wait_seq, atomic64_inc_return(&mock_sync_seq));

	limit = ktime_add_ms(now, max(READ_ONCE(sync_timeout_ms), 1U));
	while (ktime_before(now, tok->pos)) {
		if (!ktime_before(now, limit))
			return -ETIMEDOUT;
		if (ktime_sub(min_t(ktime_t, tok->pos, limit), now) >
		    MOCK_SYNC_SPIN_NS)
			usleep_range(1000, 2000);
		else
			udelay(1);
		now = ktime_get();
	}
	return tok->ret;
}

/*
 * The command queue callbacks of the mock pSMMUs, for the vSMMU library:
 * the pSMMU is the one mock_psmmu::vsmmu belongs to.
 */
const struct arm_vsmmu_smmu_ops mock_cmdq_ops = {
	.issue = mock_cmdq_issue,
	.sync_start = mock_cmdq_sync_start,
	.sync_wait = mock_cmdq_sync_wait,
};

/* --- Test interface ---------------------------------------------------------- */

/**
 * mock_cmdq_get_counters() - Read the command queue counters of a pSMMU
 * @psmmu: The pSMMU
 * @cnt: Its cmds, syncs, cerror_ill, sync_start_seq and sync_wait_seq are
 *       set
 */
void mock_cmdq_get_counters(struct mock_psmmu *psmmu,
			    struct mock_smmu_counters *cnt)
{
	struct mock_cmdq *q = psmmu->cmdq;

	mutex_lock(&q->lock);
	cnt->cmds = q->nr_cmds;
	cnt->syncs = q->nr_syncs;
	cnt->cerror_ill = q->nr_cerror_ill;
	cnt->sync_start_seq = q->sync_start_seq;
	cnt->sync_wait_seq = READ_ONCE(q->sync_wait_seq);
	mutex_unlock(&q->lock);
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

	mutex_lock(&q->lock);
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
	mutex_unlock(&q->lock);
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

	mutex_lock(&q->lock);
	rc = mock_cache_fill(q->cache, ents, num);
	mutex_unlock(&q->lock);
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

	mutex_lock(&q->lock);
	total = mock_cache_read(q->cache, ents, max);
	mutex_unlock(&q->lock);
	return total;
}

/* --- Set-up ------------------------------------------------------------------ */

static void mock_cmdq_free(struct mock_cmdq *q)
{
	mock_cache_free(q->cache);
	kvfree(q->log);
	mutex_destroy(&q->lock);
	kfree(q);
}

/**
 * mock_cmdq_init() - Create the command queue of a pSMMU
 * @psmmu: The pSMMU
 *
 * Return: 0 or -ENOMEM.
 */
int mock_cmdq_init(struct mock_psmmu *psmmu)
{
	struct mock_cmdq *q;

	q = kzalloc(sizeof(*q), GFP_KERNEL);
	if (!q)
		return -ENOMEM;
	mutex_init(&q->lock);
	atomic_set(&q->fault, 0);
	q->log = kvcalloc(MOCK_SMMU_CMDQ_LOG_SIZE, sizeof(*q->log), GFP_KERNEL);
	q->cache = mock_cache_alloc();
	if (!q->log || !q->cache) {
		mock_cmdq_free(q);
		return -ENOMEM;
	}
	psmmu->cmdq = q;
	return 0;
}

/**
 * mock_cmdq_destroy() - Free the command queue of a pSMMU
 * @psmmu: The pSMMU; nothing uses its queue any more
 */
void mock_cmdq_destroy(struct mock_psmmu *psmmu)
{
	mock_cmdq_free(psmmu->cmdq);
	psmmu->cmdq = NULL;
}
