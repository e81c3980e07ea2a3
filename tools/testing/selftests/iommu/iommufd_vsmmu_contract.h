/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The contract of IOMMU_HWPT_INVALIDATE on an ARM SMMUv3 vIOMMU, checked
 * against what each mock pSMMU executed (MOCK_SMMU_CMDQ_LOG):
 *
 * - ATC_INV, CFGI_CD and CFGI_CD_ALL go to the pSMMU of the device their
 *   virtual StreamID names, with its physical StreamID instead, and
 *   nowhere else;
 * - TLBI_NH_* go, with the vIOMMU's VMID on that pSMMU instead of the
 *   guest's, to every pSMMU where a device is attached to a stage-1 nested
 *   HWPT of the vIOMMU, and nowhere else; TLBI_NSNH_ALL becomes TLBI_NH_ALL
 *   of that VMID;
 * - each pSMMU executes its commands in the guest's order, followed by a
 *   CMD_SYNC; a pSMMU that needs nothing gets nothing, not even a sync;
 * - entry_num is the number of leading guest commands that were executed:
 *   after a rejected command nothing more runs; after a pSMMU failed, the
 *   commands past entry_num may have run in part.
 *
 * How the kernel groups commands between syncs is not part of it: a test
 * lists the commands each pSMMU must execute (struct vsmmu_expect, written
 * from the test's own set-up) and vsmmu_assert_logs() accepts any number
 * of CMD_SYNCs between them, and at least one after the last.
 */
#ifndef __IOMMUFD_VSMMU_CONTRACT_H
#define __IOMMUFD_VSMMU_CONTRACT_H

#include <stdlib.h>

#include "iommufd_viommu_utils.h"

#define VSMMU_MAX_PSMMUS	64
#define VSMMU_LOG_SIZE		MOCK_SMMU_CMDQ_LOG_SIZE

/* A command a pSMMU must execute for the guest command at index @gidx */
struct vsmmu_exp_cmd {
	struct smmu_cmd c;
	uint32_t gidx;
};

/*
 * The commands each of @nr pSMMUs must execute, CMD_SYNC aside, in order:
 * num[p] of them, of which the last @cap are kept (entry k at k % cap).
 */
struct vsmmu_expect {
	int nr;
	uint32_t cap;
	uint64_t num[VSMMU_MAX_PSMMUS];
	struct vsmmu_exp_cmd *e[VSMMU_MAX_PSMMUS];
};

static inline int vsmmu_expect_init(struct vsmmu_expect *x, int nr,
				    uint32_t cap)
{
	int p;

	memset(x, 0, sizeof(*x));
	if (nr > VSMMU_MAX_PSMMUS)
		return -EINVAL;
	x->nr = nr;
	x->cap = cap;
	for (p = 0; p < nr; p++) {
		x->e[p] = calloc(cap, sizeof(*x->e[p]));
		if (!x->e[p])
			return -ENOMEM;
	}
	return 0;
}

static inline void vsmmu_expect_reset(struct vsmmu_expect *x)
{
	memset(x->num, 0, sizeof(x->num));
}

static inline void vsmmu_expect_free(struct vsmmu_expect *x)
{
	int p;

	for (p = 0; p < x->nr; p++)
		free(x->e[p]);
}

/* pSMMU @p must execute @c for the guest command at @gidx */
static inline void vsmmu_expect_add(struct vsmmu_expect *x, int p,
				    uint32_t gidx, struct smmu_cmd c)
{
	struct vsmmu_exp_cmd *e = &x->e[p][x->num[p] % x->cap];

	e->c = c;
	e->gidx = gidx;
	x->num[p]++;
}

static inline const struct vsmmu_exp_cmd *
vsmmu_expect_at(const struct vsmmu_expect *x, int p, uint64_t k)
{
	return &x->e[p][k % x->cap];
}

/* How the call whose logs are checked ended */
struct vsmmu_end {
	/* entry_num: the commands of guest index below it all executed */
	uint32_t done;
	/*
	 * A pSMMU failed (an injected fault), -1 if none. Then the commands
	 * past @done may have run too, on each pSMMU in order from the
	 * first one past @done on, and on the failing pSMMU nothing is
	 * issued after the sync that failed. Else nothing past @done ran.
	 */
	int failed_psmmu;
	/* A guest command that must not have executed there, or ~0U */
	uint32_t not_run;
};

#ifdef __KSELFTEST_HARNESS_H
static struct smmu_cmd vsmmu_log_buf[VSMMU_LOG_SIZE];

static inline void vsmmu_log_entry(struct __test_metadata *_metadata,
				   const char *what, int p, int i,
				   const struct smmu_cmd *got,
				   const struct smmu_cmd *want)
{
	TH_LOG("%s: pSMMU %d log entry %d: %016llx %016llx, expected %016llx %016llx",
	       what, p, i, (unsigned long long)got->w[0],
	       (unsigned long long)got->w[1],
	       want ? (unsigned long long)want->w[0] : 0ULL,
	       want ? (unsigned long long)want->w[1] : 0ULL);
}

/*
 * The log of pSMMU @p against @x for a call that ended as @end says; the
 * log is cleared. When more ran than the log keeps, its commands must be
 * the last ones expected.
 */
static inline void vsmmu_assert_log(struct __test_metadata *_metadata,
				    int mfd, const struct vsmmu_expect *x,
				    int p, const struct vsmmu_end *end,
				    const char *what)
{
	const struct smmu_cmd *log = vsmmu_log_buf;
	bool failing = end->failed_psmmu == p;
	bool partial = end->failed_psmmu >= 0;
	uint64_t total = 0, m = 0, k, first = 0, cmds = 0;
	int i, e, n, last_cmd = -1, sync_after = -1;
	bool complete;

	n = mock_cmdq_log_num(mfd, p, MOCK_SMMU_CMDQ_LOG_CLEAR,
			      vsmmu_log_buf, VSMMU_LOG_SIZE, &total);
	ASSERT_LE(0, n) TH_LOG("%s: pSMMU %d", what, p);
	complete = total == (uint64_t)n;
	for (i = 0; i < n; i++)
		cmds += !smmu_is_sync(&log[i]);
	/* The expected commands of the executed prefix: [0, m) */
	if (x->num[p] > x->cap) {
		m = x->num[p];
		ASSERT_GT(end->done, vsmmu_expect_at(x, p, m - 1)->gidx);
	}
	while (m < x->num[p] && vsmmu_expect_at(x, p, m)->gidx < end->done)
		m++;

	if (!complete) {
		/* The log lost its oldest entries: its commands must be... */
		ASSERT_EQ(VSMMU_LOG_SIZE, n) TH_LOG("%s: pSMMU %d", what, p);
		ASSERT_FALSE(partial);
		ASSERT_EQ(x->num[p], m) TH_LOG("%s: pSMMU %d", what, p);
		ASSERT_GE(m, cmds) TH_LOG("%s: pSMMU %d", what, p);
		/* ...the last ones expected */
		first = m - cmds;
	}
	ASSERT_GE(first + x->cap, x->num[p]) TH_LOG("%s: pSMMU %d", what, p);

	k = first;
	for (i = 0; i < n; i++) {
		const struct vsmmu_exp_cmd *want;

		if (smmu_is_sync(&log[i])) {
			/* No sync before the first command (but a failed one) */
			ASSERT_TRUE(!complete || failing || last_cmd >= 0)
				vsmmu_log_entry(_metadata, what, p, i, &log[i],
						NULL);
			if (sync_after < 0)
				sync_after = i;
			continue;
		}
		/* Past the prefix, more of them in order, if a pSMMU failed */
		while (failing && k < x->num[p] &&
		       vsmmu_expect_at(x, p, k)->gidx == end->not_run)
			k++;
		ASSERT_GT(partial ? x->num[p] : m, k)
			vsmmu_log_entry(_metadata, what, p, i, &log[i], NULL);
		want = vsmmu_expect_at(x, p, k);
		ASSERT_TRUE(want->c.w[0] == log[i].w[0] &&
			    want->c.w[1] == log[i].w[1])
			vsmmu_log_entry(_metadata, what, p, i, &log[i],
					&want->c);
		if (k < m)
			sync_after = -1;
		if (k >= m && failing) {
			/* Nothing issued after the sync that failed */
			for (e = i + 1; e < n - 1; e++) {
				ASSERT_FALSE(smmu_is_sync(&log[e]))
					vsmmu_log_entry(_metadata, what, p, e,
							&log[e], NULL);
			}
		}
		last_cmd = i;
		k++;
	}
	/* Every command of the prefix ran, and a sync after the last one */
	ASSERT_LE(m, k) TH_LOG("%s: pSMMU %d executed %llu of its %llu commands",
			       what, p, (unsigned long long)(k - first),
			       (unsigned long long)(m - first));
	ASSERT_TRUE(m == first || sync_after >= 0)
		TH_LOG("%s: pSMMU %d: no CMD_SYNC after its last command",
		       what, p);
	/* A pSMMU with nothing to do got nothing */
	ASSERT_TRUE((partial ? x->num[p] : m) || !total)
		TH_LOG("%s: pSMMU %d executed %llu commands, needing none",
		       what, p, (unsigned long long)total);
}

/* Every pSMMU of @x: see vsmmu_assert_log() */
static inline void vsmmu_assert_logs(struct __test_metadata *_metadata,
				     int mfd, const struct vsmmu_expect *x,
				     const struct vsmmu_end *end,
				     const char *what)
{
	int p;

	for (p = 0; p < x->nr; p++)
		vsmmu_assert_log(_metadata, mfd, x, p, end, what);
}

/* A call that executed guest commands [0, @done) and nothing else */
static inline void vsmmu_assert_logs_done(struct __test_metadata *_metadata,
					  int mfd,
					  const struct vsmmu_expect *x,
					  uint32_t done, const char *what)
{
	struct vsmmu_end end = {
		.done = done,
		.failed_psmmu = -1,
		.not_run = ~0U,
	};

	vsmmu_assert_logs(_metadata, mfd, x, &end, what);
}
#endif /* __KSELFTEST_HARNESS_H */

#endif /* __IOMMUFD_VSMMU_CONTRACT_H */
