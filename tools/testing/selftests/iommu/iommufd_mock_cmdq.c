// SPDX-License-Identifier: GPL-2.0-only
/*
 * The command queue of the mock pSMMUs, on its own: commands put on a queue
 * with MOCK_SMMU_CMDQ_RAW (no dispatcher, no checks) and their effect read
 * back from the cache model (MOCK_SMMU_CACHE_FILL/READ), the log of
 * executed commands (MOCK_SMMU_CMDQ_LOG) and the counters.
 *
 * Covered: what every implemented opcode invalidates; CERROR_ILL for every
 * RES0 bit of every implemented opcode, SSec, unknown or unimplemented
 * opcodes and the reserved CMD_SYNC CS, each time with the queue recovered
 * (the failed command skipped, the rest executed, the sync failing with
 * EIO) and working afterwards; both injected faults; exact log contents
 * and wrap-around; the cache model's bound, order and errors; two threads
 * sharing a queue, with and without illegal commands; the CMD_SYNC latency
 * (sync_latency_us) and its time-out.
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "kselftest_harness.h"
#include "iommufd_viommu_utils.h"

/* The CMD_SYNC the mock's queue driver appends (CS = SEV) */
#define SYNC0			(SMMU_OP_CMD_SYNC | \
				 SMMU_CMD_SYNC_CS(SMMU_SYNC_CS_SEV))
#define SYNC1			0ULL

#define RAW_MAX			256
#define LOG_SIZE		MOCK_SMMU_CMDQ_LOG_SIZE
#define CACHE_KIND_MAX		4096

#define PARAM_LATENCY		"/sys/module/mock_smmu/parameters/sync_latency_us"
#define PARAM_TIMEOUT		"/sys/module/mock_smmu/parameters/sync_timeout_ms"

/* A module parameter's value, or -errno */
static long param_get(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (!f)
		return -errno;
	if (fscanf(f, "%ld", &v) != 1)
		v = -EINVAL;
	fclose(f);
	return v;
}

static int param_set(const char *path, long v)
{
	FILE *f = fopen(path, "w");
	int rc = 0;

	if (!f)
		return -errno;
	if (fprintf(f, "%ld\n", v) < 0)
		rc = -EIO;
	if (fclose(f))
		rc = -errno;
	return rc;
}

static int raw1(int mfd, uint32_t psmmu, uint64_t w0, uint64_t w1)
{
	struct smmu_cmd c = { { w0, w1 } };

	return mock_cmdq_raw(mfd, psmmu, &c, 1);
}

static struct smmu_cmd log_buf[LOG_SIZE];

/* The log holds exactly @cmds (@num of them) and was cleared before them */
static void assert_log(struct __test_metadata *_metadata, int mfd,
		       uint32_t psmmu, const struct smmu_cmd *cmds, int num)
{
	uint64_t total = ~0ULL;
	int i;

	ASSERT_EQ(num, mock_cmdq_log_num(mfd, psmmu, 0, log_buf, LOG_SIZE, &total));
	ASSERT_EQ(num, total);
	for (i = 0; i < num; i++) {
		ASSERT_EQ(cmds[i].w[0], log_buf[i].w[0]) TH_LOG("entry %d", i);
		ASSERT_EQ(cmds[i].w[1], log_buf[i].w[1]) TH_LOG("entry %d", i);
	}
}

FIXTURE(cmdq)
{
	int mfd;
	int nr;
	/* The pSMMU under test: the last one, so that it is not always 0 */
	uint32_t p;
	struct mock_smmu_counters cnt;
	/* sync_timeout_ms at the start, if the test changed the parameters */
	long timeout_ms;
};

FIXTURE_SETUP(cmdq)
{
	self->mfd = mock_open();
	ASSERT_LE(0, self->mfd);
	self->nr = mock_num_psmmus(self->mfd);
	ASSERT_LE(1, self->nr);
	self->p = self->nr - 1;
	ASSERT_EQ(0, mock_inject_fault(self->mfd, self->p, 0));
	ASSERT_EQ(0, mock_cache_fill(self->mfd, self->p, NULL, 0));
	ASSERT_EQ(0, mock_cmdq_log_clear(self->mfd, self->p));
	ASSERT_EQ(0, mock_get_counters(self->mfd, self->p, &self->cnt));
	self->timeout_ms = -1;
}

FIXTURE_TEARDOWN(cmdq)
{
	if (self->timeout_ms >= 0) {
		param_set(PARAM_LATENCY, 0);
		param_set(PARAM_TIMEOUT, self->timeout_ms);
	}
	mock_inject_fault(self->mfd, self->p, 0);
	mock_cache_fill(self->mfd, self->p, NULL, 0);
	close(self->mfd);
}

/* Counters of pSMMU @p changed by @cmds, @syncs and @ill since @base */
static void assert_counted_since(struct __test_metadata *_metadata, int mfd,
				 uint32_t p,
				 const struct mock_smmu_counters *base,
				 uint64_t cmds, uint64_t syncs, uint64_t ill)
{
	struct mock_smmu_counters now;

	ASSERT_EQ(0, mock_get_counters(mfd, p, &now));
	ASSERT_EQ(cmds, now.cmds - base->cmds);
	ASSERT_EQ(syncs, now.syncs - base->syncs);
	ASSERT_EQ(ill, now.cerror_ill - base->cerror_ill);
}

/* In a TEST_F(cmdq): counters changed that much since the set-up */
#define assert_counted(cmds, syncs, ill)				\
	assert_counted_since(_metadata, self->mfd, self->p, &self->cnt,	\
			     cmds, syncs, ill)

TEST_F(cmdq, raw_log_counters)
{
	struct smmu_cmd cmds[3] = {
		{ { SMMU_OP_TLBI_NH_ALL | SMMU_CMD_VMID(7), 0 } },
		{ { SMMU_OP_CFGI_CD | SMMU_CMD_SID(0x1234) | SMMU_CMD_SSID(3),
		    SMMU_CMD1_LEAF } },
		{ { SMMU_OP_TLBI_NH_VA | SMMU_CMD_VMID(7) | SMMU_CMD_ASID(9),
		    0x5000 | SMMU_CMD1_LEAF } },
	};
	struct smmu_cmd expect[4] = { cmds[0], cmds[1], cmds[2], { { SYNC0, SYNC1 } } };

	ASSERT_EQ(0, mock_cmdq_raw(self->mfd, self->p, cmds, 3));
	assert_log(_metadata, self->mfd, self->p, expect, 4);
	assert_counted(3, 1, 0);

	/* A sync alone */
	ASSERT_EQ(0, mock_cmdq_log_clear(self->mfd, self->p));
	ASSERT_EQ(0, mock_cmdq_raw(self->mfd, self->p, NULL, 0));
	assert_log(_metadata, self->mfd, self->p, &expect[3], 1);
	assert_counted(3, 2, 0);

	/* Other pSMMUs saw nothing of it */
	if (self->nr > 1) {
		uint64_t total = 0;

		ASSERT_EQ(0, mock_cmdq_log_clear(self->mfd, 0));
		ASSERT_EQ(0, mock_cmdq_raw(self->mfd, self->p, cmds, 1));
		ASSERT_EQ(0, mock_cmdq_log_num(self->mfd, 0, 0, log_buf, LOG_SIZE,
					       &total));
		ASSERT_EQ(0, total);
	}
}

TEST_F(cmdq, bad_arguments)
{
	struct mock_smmu_cmdq_log lg = { .psmmu = self->p };
	struct mock_smmu_cache_entry e = { .kind = MOCK_SMMU_CACHE_TLB };
	struct smmu_cmd cmds[RAW_MAX + 1] = {};
	uint32_t bad = self->nr;

	ASSERT_EQ(-EINVAL, mock_cmdq_raw(self->mfd, bad, cmds, 1));
	ASSERT_EQ(-EINVAL, mock_cmdq_log_num(self->mfd, bad, 0, NULL, 0, NULL));
	ASSERT_EQ(-EINVAL, mock_cache_fill(self->mfd, bad, &e, 1));
	ASSERT_EQ(-EINVAL, mock_cache_read_num(self->mfd, bad, &e, 1, NULL));
	ASSERT_EQ(-EINVAL, mock_inject_fault(self->mfd, bad, 0));

	ASSERT_EQ(-EINVAL, mock_cmdq_raw(self->mfd, self->p, cmds, RAW_MAX + 1));
	ASSERT_EQ(-EFAULT, mock_cmdq_raw(self->mfd, self->p, (void *)8, 1));
	ASSERT_EQ(-EINVAL, mock_inject_fault(self->mfd, self->p, 3));
	lg.__reserved = 1;
	ASSERT_EQ(-EINVAL, ioctl_errno(self->mfd, MOCK_SMMU_CMDQ_LOG, &lg));
	lg.__reserved = 0;
	lg.flags = 2;
	ASSERT_EQ(-EOPNOTSUPP, ioctl_errno(self->mfd, MOCK_SMMU_CMDQ_LOG, &lg));
	/* A log with something to copy out */
	ASSERT_EQ(0, mock_cmdq_raw(self->mfd, self->p, NULL, 0));
	ASSERT_EQ(-EFAULT, mock_cmdq_log_num(self->mfd, self->p, 0, (void *)8,
					     1, NULL));

	/* Cache entries: kind, unused fields, alignment, SSID width */
	e.kind = 4;
	ASSERT_EQ(-EINVAL, mock_cache_fill(self->mfd, self->p, &e, 1));
	e = (struct mock_smmu_cache_entry){ .kind = MOCK_SMMU_CACHE_TLB,
					    .addr = 0x1800 };
	ASSERT_EQ(-EINVAL, mock_cache_fill(self->mfd, self->p, &e, 1));
	e = (struct mock_smmu_cache_entry){ .kind = MOCK_SMMU_CACHE_TLB,
					    .sid = 1 };
	ASSERT_EQ(-EINVAL, mock_cache_fill(self->mfd, self->p, &e, 1));
	e = (struct mock_smmu_cache_entry){ .kind = MOCK_SMMU_CACHE_CD,
					    .addr = 0x1000 };
	ASSERT_EQ(-EINVAL, mock_cache_fill(self->mfd, self->p, &e, 1));
	e = (struct mock_smmu_cache_entry){ .kind = MOCK_SMMU_CACHE_ATC,
					    .ssid = 1 << 20 };
	ASSERT_EQ(-EINVAL, mock_cache_fill(self->mfd, self->p, &e, 1));
	e = (struct mock_smmu_cache_entry){ .kind = MOCK_SMMU_CACHE_ATC,
					    .vmid = 1 };
	ASSERT_EQ(-EINVAL, mock_cache_fill(self->mfd, self->p, &e, 1));
	ASSERT_EQ(-EFAULT, mock_cache_fill(self->mfd, self->p, (void *)8, 1));
	ASSERT_EQ(0, mock_cache_read_num(self->mfd, self->p, NULL, 0, NULL));
	/* Nothing of that reached the queue but the one sync */
	assert_counted(0, 1, 0);
}

/* The entries every model test starts from, in the order READ gives */
enum {
	T_V1A1_1000, T_V1A1_5000, T_V1A1_7000, T_V1A1_40000, T_V1A1_TOP,
	T_V1A2_1000, T_V2A1_1000,
	C_S10_0, C_S10_5, C_S11_0, C_S20_0,
	A_S10_0_1000, A_S10_5_1000, A_S10_5_3000, A_S10_5_100000,
	A_S11_0_1000,
	NR_FILL
};

#define TLB(v, a, x) { .kind = MOCK_SMMU_CACHE_TLB, .vmid = v, .asid = a, \
		       .addr = x }
#define CD(s, ss) { .kind = MOCK_SMMU_CACHE_CD, .sid = s, .ssid = ss }
#define ATC(s, ss, x) { .kind = MOCK_SMMU_CACHE_ATC, .sid = s, .ssid = ss, \
			.addr = x }

static const struct mock_smmu_cache_entry fill[NR_FILL] = {
	[T_V1A1_1000] = TLB(1, 1, 0x1000),
	[T_V1A1_5000] = TLB(1, 1, 0x5000),
	[T_V1A1_7000] = TLB(1, 1, 0x7000),
	[T_V1A1_40000] = TLB(1, 1, 0x40000),
	[T_V1A1_TOP] = TLB(1, 1, 0xfffffffffffff000ULL),
	[T_V1A2_1000] = TLB(1, 2, 0x1000),
	[T_V2A1_1000] = TLB(2, 1, 0x1000),
	[C_S10_0] = CD(0x10, 0),
	[C_S10_5] = CD(0x10, 5),
	[C_S11_0] = CD(0x11, 0),
	[C_S20_0] = CD(0x20, 0),
	[A_S10_0_1000] = ATC(0x10, 0, 0x1000),
	[A_S10_5_1000] = ATC(0x10, 5, 0x1000),
	[A_S10_5_3000] = ATC(0x10, 5, 0x3000),
	[A_S10_5_100000] = ATC(0x10, 5, 0x100000),
	[A_S11_0_1000] = ATC(0x11, 0, 0x1000),
};

#define B(x)		(1U << (x))
#define T_V1A1		(B(T_V1A1_1000) | B(T_V1A1_5000) | B(T_V1A1_7000) | \
			 B(T_V1A1_40000) | B(T_V1A1_TOP))
#define T_V1		(T_V1A1 | B(T_V1A2_1000))
#define T_ALL		(T_V1 | B(T_V2A1_1000))
#define C_S10		(B(C_S10_0) | B(C_S10_5))
#define C_ALL		(C_S10 | B(C_S11_0) | B(C_S20_0))
#define A_S10		(B(A_S10_0_1000) | B(A_S10_5_1000) | B(A_S10_5_3000) | \
			 B(A_S10_5_100000))

static const struct model_case {
	const char *name;
	uint64_t w0, w1;
	uint32_t gone;		/* B() of the entries of fill[] it drops */
} model_cases[] = {
	{ "NH_ALL vmid 1", SMMU_OP_TLBI_NH_ALL | SMMU_CMD_VMID(1), 0, T_V1 },
	{ "NH_ALL vmid 3", SMMU_OP_TLBI_NH_ALL | SMMU_CMD_VMID(3), 0, 0 },
	{ "S12_VMALL vmid 1", SMMU_OP_TLBI_S12_VMALL | SMMU_CMD_VMID(1), 0, T_V1 },
	{ "S12_VMALL vmid 2", SMMU_OP_TLBI_S12_VMALL | SMMU_CMD_VMID(2), 0,
	  B(T_V2A1_1000) },
	{ "NH_ASID 1/1", SMMU_OP_TLBI_NH_ASID | SMMU_CMD_VMID(1) | SMMU_CMD_ASID(1), 0, T_V1A1 },
	{ "NH_ASID 1/3", SMMU_OP_TLBI_NH_ASID | SMMU_CMD_VMID(1) | SMMU_CMD_ASID(3), 0, 0 },
	{ "NH_VA page", SMMU_OP_TLBI_NH_VA | SMMU_CMD_VMID(1) | SMMU_CMD_ASID(1),
	  0x1000 | SMMU_CMD1_LEAF, B(T_V1A1_1000) },
	{ "NH_VA page, other ASID", SMMU_OP_TLBI_NH_VA | SMMU_CMD_VMID(1) | SMMU_CMD_ASID(2),
	  0x1000, B(T_V1A2_1000) },
	{ "NH_VA TG 0 ignores NUM", SMMU_OP_TLBI_NH_VA | SMMU_CMD_VMID(1) | SMMU_CMD_ASID(1) |
	  SMMU_CMD_NUM(3), 0x1000, B(T_V1A1_1000) },
	{ "NH_VA 4K x4", SMMU_OP_TLBI_NH_VA | SMMU_CMD_VMID(1) | SMMU_CMD_ASID(1) | SMMU_CMD_NUM(3),
	  0x1000 | SMMU_CMD_TG(SMMU_TG_4K), B(T_V1A1_1000) },
	{ "NH_VA 4K x5", SMMU_OP_TLBI_NH_VA | SMMU_CMD_VMID(1) | SMMU_CMD_ASID(1) | SMMU_CMD_NUM(4),
	  0x1000 | SMMU_CMD_TG(SMMU_TG_4K), B(T_V1A1_1000) | B(T_V1A1_5000) },
	{ "NH_VA 4K x2x2^1", SMMU_OP_TLBI_NH_VA | SMMU_CMD_VMID(1) | SMMU_CMD_ASID(1) |
	  SMMU_CMD_NUM(1) | SMMU_CMD_SCALE(1), 0x4000 | SMMU_CMD_TG(SMMU_TG_4K) | SMMU_CMD_TTL(3),
	  B(T_V1A1_5000) | B(T_V1A1_7000) },
	{ "NH_VA 16K", SMMU_OP_TLBI_NH_VA | SMMU_CMD_VMID(1) | SMMU_CMD_ASID(1),
	  0x4000 | SMMU_CMD_TG(SMMU_TG_16K) | SMMU_CMD_TTL(3),
	  B(T_V1A1_5000) | B(T_V1A1_7000) },
	{ "NH_VA 16K, unaligned", SMMU_OP_TLBI_NH_VA | SMMU_CMD_VMID(1) | SMMU_CMD_ASID(1),
	  0x5000 | SMMU_CMD_TG(SMMU_TG_16K) | SMMU_CMD_TTL(3),
	  B(T_V1A1_5000) | B(T_V1A1_7000) },
	{ "NH_VA 64K", SMMU_OP_TLBI_NH_VA | SMMU_CMD_VMID(1) | SMMU_CMD_ASID(1),
	  0x1000 | SMMU_CMD_TG(SMMU_TG_64K) | SMMU_CMD_TTL(3),
	  B(T_V1A1_1000) | B(T_V1A1_5000) | B(T_V1A1_7000) },
	{ "NH_VA 64K x2^2", SMMU_OP_TLBI_NH_VA | SMMU_CMD_VMID(1) | SMMU_CMD_ASID(1) |
	  SMMU_CMD_SCALE(2), 0x30000 | SMMU_CMD_TG(SMMU_TG_64K) | SMMU_CMD_TTL(2),
	  B(T_V1A1_40000) },
	{ "NH_VA to the top", SMMU_OP_TLBI_NH_VA | SMMU_CMD_VMID(1) | SMMU_CMD_ASID(1) |
	  SMMU_CMD_NUM(31) | SMMU_CMD_SCALE(31), 0xfffffffffff00000ULL | SMMU_CMD_TG(SMMU_TG_4K),
	  B(T_V1A1_TOP) },
	{ "NH_VAA page", SMMU_OP_TLBI_NH_VAA | SMMU_CMD_VMID(1), 0x1000,
	  B(T_V1A1_1000) | B(T_V1A2_1000) },
	{ "NH_VAA 64K", SMMU_OP_TLBI_NH_VAA | SMMU_CMD_VMID(1),
	  SMMU_CMD_TG(SMMU_TG_64K) | SMMU_CMD_TTL(3),
	  B(T_V1A1_1000) | B(T_V1A1_5000) | B(T_V1A1_7000) |
	  B(T_V1A2_1000) },
	{ "NSNH_ALL", SMMU_OP_TLBI_NSNH_ALL, 0, T_ALL },
	{ "CFGI_CD 0x10/5", SMMU_OP_CFGI_CD | SMMU_CMD_SID(0x10) | SMMU_CMD_SSID(5), SMMU_CMD1_LEAF,
	  B(C_S10_5) },
	{ "CFGI_CD 0x10/0", SMMU_OP_CFGI_CD | SMMU_CMD_SID(0x10), 0, B(C_S10_0) },
	{ "CFGI_CD_ALL 0x10", SMMU_OP_CFGI_CD_ALL | SMMU_CMD_SID(0x10), 0, C_S10 },
	{ "CFGI_STE 0x11", SMMU_OP_CFGI_STE | SMMU_CMD_SID(0x11), SMMU_CMD1_LEAF, B(C_S11_0) },
	{ "CFGI_STE 0x12", SMMU_OP_CFGI_STE | SMMU_CMD_SID(0x12), 0, 0 },
	{ "CFGI_STE_RANGE 0x10/2", SMMU_OP_CFGI_STE_RANGE | SMMU_CMD_SID(0x10),
	  SMMU_CMD_RANGE(0), C_S10 | B(C_S11_0) },
	{ "CFGI_STE_RANGE 0x11/2", SMMU_OP_CFGI_STE_RANGE | SMMU_CMD_SID(0x11),
	  SMMU_CMD_RANGE(0), C_S10 | B(C_S11_0) },
	{ "CFGI_STE_RANGE 0/32", SMMU_OP_CFGI_STE_RANGE, SMMU_CMD_RANGE(4),
	  C_S10 | B(C_S11_0) },
	{ "CFGI_STE_RANGE all", SMMU_OP_CFGI_STE_RANGE | SMMU_CMD_SID(0x1234),
	  SMMU_CMD_RANGE(31), C_ALL },
	{ "ATC_INV no SSV", SMMU_OP_ATC_INV | SMMU_CMD_SID(0x10), 0x1000 | SMMU_CMD_ATC_SIZE(0),
	  B(A_S10_0_1000) | B(A_S10_5_1000) },
	{ "ATC_INV SSV", SMMU_OP_ATC_INV | SMMU_CMD_SID(0x10) | SMMU_CMD0_SSV | SMMU_CMD_SSID(5),
	  0x1000 | SMMU_CMD_ATC_SIZE(0), B(A_S10_5_1000) },
	{ "ATC_INV 8K", SMMU_OP_ATC_INV | SMMU_CMD_SID(0x10) | SMMU_CMD0_SSV | SMMU_CMD_SSID(5),
	  0x2000 | SMMU_CMD_ATC_SIZE(1), B(A_S10_5_3000) },
	{ "ATC_INV 8K, unaligned", SMMU_OP_ATC_INV | SMMU_CMD_SID(0x10) | SMMU_CMD0_SSV |
	  SMMU_CMD_SSID(5), 0x3000 | SMMU_CMD_ATC_SIZE(1), B(A_S10_5_3000) },
	{ "ATC_INV 1M", SMMU_OP_ATC_INV | SMMU_CMD_SID(0x10) | SMMU_CMD0_SSV | SMMU_CMD_SSID(5),
	  SMMU_CMD_ATC_SIZE(8), B(A_S10_5_1000) | B(A_S10_5_3000) },
	{ "ATC_INV all of an SSID", SMMU_OP_ATC_INV | SMMU_CMD_SID(0x10) | SMMU_CMD0_SSV |
	  SMMU_CMD_SSID(5), SMMU_CMD_ATC_SIZE(52),
	  B(A_S10_5_1000) | B(A_S10_5_3000) | B(A_S10_5_100000) },
	{ "ATC_INV all of a SID", SMMU_OP_ATC_INV | SMMU_CMD_SID(0x10), 0x7000 |
	  SMMU_CMD_ATC_SIZE(52), A_S10 },
	{ "ATC_INV GLOBAL", SMMU_OP_ATC_INV | SMMU_CMD_SID(0x10) | SMMU_CMD0_SSV |
	  SMMU_CMD_SSID(5) | SMMU_CMD0_GLOBAL, SMMU_CMD_ATC_SIZE(52), A_S10 },
	{ "ATC_INV SIZE 63", SMMU_OP_ATC_INV | SMMU_CMD_SID(0x10), SMMU_CMD_ATC_SIZE(63), A_S10 },
	{ "ATC_INV other SID", SMMU_OP_ATC_INV | SMMU_CMD_SID(0x12), SMMU_CMD_ATC_SIZE(52), 0 },
	{ "CMD_SYNC", SMMU_OP_CMD_SYNC, 0, 0 },
};

TEST_F(cmdq, model_opcodes)
{
	struct mock_smmu_cache_entry out[NR_FILL + 1];
	unsigned int c;

	for (c = 0; c < ARRAY_SIZE(model_cases); c++) {
		const struct model_case *mc = &model_cases[c];
		struct smmu_cmd expect[2] = {
			{ { mc->w0, mc->w1 } }, { { SYNC0, SYNC1 } }
		};
		uint64_t total = 0;
		int i, n = 0;

		ASSERT_EQ(0, mock_cache_fill(self->mfd, self->p, NULL, 0));
		ASSERT_EQ(0, mock_cache_fill(self->mfd, self->p, fill, NR_FILL));
		ASSERT_EQ(0, mock_cmdq_log_clear(self->mfd, self->p));
		ASSERT_EQ(0, raw1(self->mfd, self->p, mc->w0, mc->w1))
			TH_LOG("%s", mc->name);
		assert_log(_metadata, self->mfd, self->p, expect, 2);

		memset(out, 0xff, sizeof(out));
		ASSERT_EQ(NR_FILL - __builtin_popcount(mc->gone),
			  mock_cache_read_num(self->mfd, self->p, out, NR_FILL + 1,
					      &total)) TH_LOG("%s", mc->name);
		ASSERT_EQ(NR_FILL - __builtin_popcount(mc->gone), total);
		for (i = 0; i < NR_FILL; i++) {
			if (mc->gone & B(i))
				continue;
			ASSERT_EQ(0, memcmp(&fill[i], &out[n], sizeof(out[n])))
				TH_LOG("%s: entry %d missing", mc->name, i);
			n++;
		}
	}
	assert_counted(c - 1, c + 1, 0);
}

TEST_F(cmdq, model_fill_read)
{
	static struct mock_smmu_cache_entry many[CACHE_KIND_MAX + 1];
	struct mock_smmu_cache_entry rev[NR_FILL], out[NR_FILL];
	uint64_t total = 0;
	int i;

	/* Filled in any order, read in key order; duplicates are one entry */
	for (i = 0; i < NR_FILL; i++)
		rev[i] = fill[NR_FILL - 1 - i];
	ASSERT_EQ(0, mock_cache_fill(self->mfd, self->p, rev, NR_FILL));
	ASSERT_EQ(0, mock_cache_fill(self->mfd, self->p, fill, NR_FILL));
	ASSERT_EQ(NR_FILL, mock_cache_read_num(self->mfd, self->p, out, NR_FILL,
					       &total));
	ASSERT_EQ(NR_FILL, total);
	ASSERT_EQ(0, memcmp(fill, out, sizeof(out)));

	/* Less room: the first entries, and the total */
	memset(out, 0, sizeof(out));
	ASSERT_EQ(3, mock_cache_read_num(self->mfd, self->p, out, 3, &total));
	ASSERT_EQ(NR_FILL, total);
	ASSERT_EQ(0, memcmp(fill, out, 3 * sizeof(out[0])));

	/* Each kind holds CACHE_KIND_MAX; a FILL beyond is undone whole */
	for (i = 0; i <= CACHE_KIND_MAX; i++)
		many[i] = (struct mock_smmu_cache_entry)TLB(9, 0, 0x1000ULL * i);
	ASSERT_EQ(-ENOSPC, mock_cache_fill(self->mfd, self->p, many,
					   CACHE_KIND_MAX + 1));
	ASSERT_EQ(NR_FILL, mock_cache_read_num(self->mfd, self->p, out, NR_FILL,
					       &total));
	ASSERT_EQ(NR_FILL, total);
	ASSERT_EQ(0, memcmp(fill, out, sizeof(out)));
	/* fill[] has 7 TLB entries: room for CACHE_KIND_MAX - 7 more */
	ASSERT_EQ(-ENOSPC, mock_cache_fill(self->mfd, self->p, many,
					   CACHE_KIND_MAX - 6));
	ASSERT_EQ(0, mock_cache_fill(self->mfd, self->p, many, CACHE_KIND_MAX - 7));
	ASSERT_EQ(0, mock_cache_read_num(self->mfd, self->p, NULL, 0, &total));
	ASSERT_EQ(NR_FILL + CACHE_KIND_MAX - 7, total);
	/* Other kinds still have room; present entries need none */
	ASSERT_EQ(0, mock_cache_fill(self->mfd, self->p, fill, NR_FILL));
	ASSERT_EQ(-ENOSPC, mock_cache_fill(self->mfd, self->p,
					   &many[CACHE_KIND_MAX - 7], 1));
	/* One TLBI empties them all: the model is not just a list */
	ASSERT_EQ(0, raw1(self->mfd, self->p, SMMU_OP_TLBI_NH_ALL | SMMU_CMD_VMID(9), 0));
	ASSERT_EQ(NR_FILL, mock_cache_read_num(self->mfd, self->p, out, NR_FILL,
					       &total));
	ASSERT_EQ(NR_FILL, total);

	/* num 0 empties */
	ASSERT_EQ(0, mock_cache_fill(self->mfd, self->p, NULL, 0));
	ASSERT_EQ(0, mock_cache_read_num(self->mfd, self->p, out, NR_FILL, &total));
	ASSERT_EQ(0, total);
}

/* Fields each implemented opcode defines, besides the opcode itself */
static const struct {
	uint8_t op;
	uint64_t ok0, ok1;
} fields[] = {
	{ SMMU_OP_CFGI_STE, SMMU_CMD0_SID, SMMU_CMD1_LEAF },
	{ SMMU_OP_CFGI_STE_RANGE, SMMU_CMD0_SID, SMMU_CMD1_RANGE },
	{ SMMU_OP_CFGI_CD, SMMU_CMD0_SSID | SMMU_CMD0_SID, SMMU_CMD1_LEAF },
	{ SMMU_OP_CFGI_CD_ALL, SMMU_CMD0_SID, 0 },
	{ SMMU_OP_TLBI_NH_ALL, SMMU_CMD0_VMID, 0 },
	{ SMMU_OP_TLBI_NH_ASID, SMMU_CMD0_VMID | SMMU_CMD0_ASID, 0 },
	{ SMMU_OP_TLBI_NH_VA,
	  SMMU_CMD0_NUM | SMMU_CMD0_SCALE | SMMU_CMD0_VMID | SMMU_CMD0_ASID,
	  SMMU_CMD1_LEAF | SMMU_CMD1_TTL | SMMU_CMD1_TG | SMMU_CMD1_ADDR },
	{ SMMU_OP_TLBI_NH_VAA, SMMU_CMD0_NUM | SMMU_CMD0_SCALE | SMMU_CMD0_VMID,
	  SMMU_CMD1_LEAF | SMMU_CMD1_TTL | SMMU_CMD1_TG | SMMU_CMD1_ADDR },
	{ SMMU_OP_TLBI_S12_VMALL, SMMU_CMD0_VMID, 0 },
	{ SMMU_OP_TLBI_NSNH_ALL, 0, 0 },
	{ SMMU_OP_ATC_INV,
	  SMMU_CMD0_GLOBAL | SMMU_CMD0_SSV | SMMU_CMD0_SSID | SMMU_CMD0_SID,
	  SMMU_CMD1_ATC_SIZE | SMMU_CMD1_ADDR },
	{ SMMU_OP_CMD_SYNC,
	  SMMU_CMD0_SYNC_CS | SMMU_CMD0_SYNC_MSH | SMMU_CMD0_SYNC_MSIATTR |
	  SMMU_CMD0_SYNC_MSIDATA, SMMU_CMD1_SYNC_MSIADDR },
};

#define NR_FIELDS	ARRAY_SIZE(fields)

/*
 * Every bit outside an opcode's fields raises CERROR_ILL: the bad commands
 * are skipped, the good ones around them still run, the sync fails with EIO
 * and the queue works afterwards. Every defined bit alone is accepted.
 */
TEST_F(cmdq, cerror_ill_res0)
{
	static struct smmu_cmd cmds[RAW_MAX], expect[RAW_MAX];
	uint64_t ill = 0, ok = 0, syncs = 0;
	unsigned int f;

	for (f = 0; f < NR_FIELDS; f++) {
		int n = 0, e = 0, bad = 0, b, w;

		ASSERT_EQ(0, mock_cmdq_log_clear(self->mfd, self->p));
		for (w = 0; w < 2; w++) {
			uint64_t okw = w ? fields[f].ok1 : fields[f].ok0 | 0xff;

			for (b = 0; b < 64; b++) {
				if (okw & (1ULL << b))
					continue;
				/* A good command, then one with bit b set */
				cmds[n].w[0] = SMMU_OP_TLBI_NH_ALL | SMMU_CMD_VMID(b);
				cmds[n].w[1] = 0;
				expect[e++] = cmds[n++];
				cmds[n].w[0] = fields[f].op;
				cmds[n].w[1] = 0;
				cmds[n++].w[w] |= 1ULL << b;
				bad++;
			}
		}
		expect[e].w[0] = SYNC0;
		expect[e++].w[1] = SYNC1;
		ASSERT_EQ(-EIO, mock_cmdq_raw(self->mfd, self->p, cmds, n))
			TH_LOG("opcode 0x%x", fields[f].op);
		assert_log(_metadata, self->mfd, self->p, expect, e);
		ill += bad;
		ok += e - 1;
		syncs++;

		/* The same opcode with one defined bit set is accepted */
		n = 0;
		for (w = 0; w < 2; w++) {
			uint64_t okw = w ? fields[f].ok1 : fields[f].ok0;

			for (b = 0; b < 64; b++) {
				if (!(okw & (1ULL << b)))
					continue;
				cmds[n].w[0] = fields[f].op;
				cmds[n].w[1] = 0;
				cmds[n++].w[w] |= 1ULL << b;
			}
		}
		cmds[n].w[0] = fields[f].op;
		cmds[n++].w[1] = 0;
		ASSERT_EQ(0, mock_cmdq_raw(self->mfd, self->p, cmds, n))
			TH_LOG("opcode 0x%x", fields[f].op);
		syncs++;
		if (fields[f].op == SMMU_OP_CMD_SYNC)
			syncs += n;
		else
			ok += n;
		assert_counted(ok, syncs, ill);
	}
}

/* SSec is RES0 on the Non-secure queue, whatever the opcode */
TEST_F(cmdq, cerror_ill_ssec)
{
	struct smmu_cmd c[NR_FIELDS];
	unsigned int f;

	for (f = 0; f < NR_FIELDS; f++) {
		c[f].w[0] = fields[f].op | SMMU_CMD0_SSEC;
		c[f].w[1] = 0;
		ASSERT_EQ(-EIO, mock_cmdq_raw(self->mfd, self->p, &c[f], 1));
	}
	ASSERT_EQ(-EIO, mock_cmdq_raw(self->mfd, self->p, c, NR_FIELDS));
	assert_counted(0, NR_FIELDS + 1, 2 * NR_FIELDS);
}

/* Opcodes the mock pSMMU does not implement, and CMD_SYNC's reserved CS */
TEST_F(cmdq, cerror_ill_opcodes)
{
	static struct smmu_cmd cmds[RAW_MAX];
	struct smmu_cmd expect[1] = { { { SYNC0, SYNC1 } } };
	int n = 0, op, f;

	for (op = 0; op < 256; op++) {
		for (f = 0; f < (int)NR_FIELDS; f++)
			if (fields[f].op == op)
				break;
		if (f != (int)NR_FIELDS)
			continue;
		cmds[n].w[0] = op;
		cmds[n++].w[1] = 0;
	}
	ASSERT_EQ(256 - NR_FIELDS, n);
	ASSERT_EQ(-EIO, mock_cmdq_raw(self->mfd, self->p, cmds, n));
	assert_log(_metadata, self->mfd, self->p, expect, 1);
	assert_counted(0, 1, n);

	/* One at a time, the queue recovering from each */
	for (op = 0; op < n; op += 17)
		ASSERT_EQ(-EIO, mock_cmdq_raw(self->mfd, self->p, &cmds[op], 1))
			TH_LOG("opcode 0x%llx", (unsigned long long)cmds[op].w[0]);

	/* CS 0b11 is reserved; 0 (none), 1 (IRQ), 2 (SEV) are fine */
	ASSERT_EQ(-EIO, raw1(self->mfd, self->p, SMMU_OP_CMD_SYNC | SMMU_CMD_SYNC_CS(3), 0));
	ASSERT_EQ(0, raw1(self->mfd, self->p, SMMU_OP_CMD_SYNC | SMMU_CMD_SYNC_CS(1), 0));
	ASSERT_EQ(0, raw1(self->mfd, self->p, SMMU_OP_CMD_SYNC | SMMU_CMD_SYNC_CS(2), 0));
	ASSERT_EQ(0, raw1(self->mfd, self->p, SMMU_OP_CMD_SYNC, 0));

	/* Every implemented opcode with no operand is accepted */
	for (f = 0; f < (int)NR_FIELDS; f++)
		ASSERT_EQ(0, raw1(self->mfd, self->p, fields[f].op, 0));
}

/* The failed commands are skipped, in order, the others run in order */
TEST_F(cmdq, cerror_ill_recovery)
{
	struct smmu_cmd cmds[6] = {
		{ { SMMU_OP_TLBI_NH_ALL | SMMU_CMD_VMID(1), 0 } },
		{ { 0xff, 0 } },
		{ { SMMU_OP_TLBI_NH_ALL | SMMU_CMD_VMID(2), 0 } },
		{ { SMMU_OP_TLBI_NH_ALL | SMMU_CMD_VMID(3), 1 } },
		{ { SMMU_OP_CFGI_CD_ALL | SMMU_CMD_SID(4) | SMMU_CMD0_SSEC, 0 } },
		{ { SMMU_OP_TLBI_NH_ALL | SMMU_CMD_VMID(5), 0 } },
	};
	struct smmu_cmd expect[4] = { cmds[0], cmds[2], cmds[5],
				 { { SYNC0, SYNC1 } } };
	struct mock_smmu_cache_entry e[2] = { TLB(5, 0, 0), TLB(6, 0, 0) };
	struct mock_smmu_cache_entry out[2];

	ASSERT_EQ(0, mock_cache_fill(self->mfd, self->p, e, 2));
	ASSERT_EQ(-EIO, mock_cmdq_raw(self->mfd, self->p, cmds, 6));
	assert_log(_metadata, self->mfd, self->p, expect, 4);
	assert_counted(3, 1, 3);
	/* The command after the failed ones did execute */
	ASSERT_EQ(1, mock_cache_read_num(self->mfd, self->p, out, 2, NULL));
	ASSERT_EQ(6, out[0].vmid);

	/* And the queue goes on */
	ASSERT_EQ(0, mock_cmdq_log_clear(self->mfd, self->p));
	ASSERT_EQ(0, mock_cmdq_raw(self->mfd, self->p, cmds, 1));
	expect[1] = expect[3];
	assert_log(_metadata, self->mfd, self->p, expect, 2);
	assert_counted(4, 2, 3);
}

TEST_F(cmdq, fault_sync_timeout)
{
	struct smmu_cmd cmds[2] = {
		{ { SMMU_OP_TLBI_NH_ALL | SMMU_CMD_VMID(1), 0 } },
		{ { SMMU_OP_TLBI_NH_ALL | SMMU_CMD_VMID(2), 0 } },
	};
	struct smmu_cmd expect[3] = { cmds[0], cmds[1], { { SYNC0, SYNC1 } } };
	double t;

	ASSERT_EQ(0, mock_inject_fault(self->mfd, self->p,
				       MOCK_SMMU_FAULT_SYNC_TIMEOUT));
	t = now_s();
	ASSERT_EQ(-ETIMEDOUT, mock_cmdq_raw(self->mfd, self->p, cmds, 1));
	t = now_s() - t;
	/* sync_timeout_ms, 1000 by default */
	ASSERT_LE(0.9, t);
	/* The command ran, the sync never completed */
	assert_log(_metadata, self->mfd, self->p, expect, 1);
	assert_counted(1, 0, 0);

	/* The queue went on past the stuck sync: the next one works */
	ASSERT_EQ(0, mock_cmdq_log_clear(self->mfd, self->p));
	t = now_s();
	ASSERT_EQ(0, mock_cmdq_raw(self->mfd, self->p, &cmds[1], 1));
	ASSERT_GT(0.9, now_s() - t);
	assert_log(_metadata, self->mfd, self->p, &expect[1], 2);
	assert_counted(2, 1, 0);

	/* A fault applies once; cancelled, it does not apply */
	ASSERT_EQ(0, mock_inject_fault(self->mfd, self->p,
				       MOCK_SMMU_FAULT_SYNC_TIMEOUT));
	ASSERT_EQ(0, mock_inject_fault(self->mfd, self->p, 0));
	ASSERT_EQ(0, mock_cmdq_raw(self->mfd, self->p, NULL, 0));
	ASSERT_EQ(0, mock_cmdq_raw(self->mfd, self->p, NULL, 0));
	assert_counted(2, 3, 0);
}

TEST_F(cmdq, fault_cmd_error)
{
	struct smmu_cmd cmds[2] = {
		{ { SMMU_OP_TLBI_NH_ALL | SMMU_CMD_VMID(1), 0 } },
		{ { SMMU_OP_TLBI_NH_ALL | SMMU_CMD_VMID(2), 0 } },
	};
	struct smmu_cmd expect[2] = { cmds[1], { { SYNC0, SYNC1 } } };

	/* The next command fails: not executed, not a CERROR_ILL */
	ASSERT_EQ(0, mock_inject_fault(self->mfd, self->p, MOCK_SMMU_FAULT_CMD_ERROR));
	ASSERT_EQ(-EIO, mock_cmdq_raw(self->mfd, self->p, cmds, 2));
	assert_log(_metadata, self->mfd, self->p, expect, 2);
	assert_counted(1, 1, 0);

	/* Recovered */
	ASSERT_EQ(0, mock_cmdq_log_clear(self->mfd, self->p));
	ASSERT_EQ(0, mock_cmdq_raw(self->mfd, self->p, &cmds[1], 1));
	assert_log(_metadata, self->mfd, self->p, expect, 2);
	assert_counted(2, 2, 0);

	/* The next command can be the sync itself */
	ASSERT_EQ(0, mock_cmdq_log_clear(self->mfd, self->p));
	ASSERT_EQ(0, mock_inject_fault(self->mfd, self->p, MOCK_SMMU_FAULT_CMD_ERROR));
	ASSERT_EQ(-EIO, mock_cmdq_raw(self->mfd, self->p, NULL, 0));
	assert_log(_metadata, self->mfd, self->p, NULL, 0);
	ASSERT_EQ(0, mock_cmdq_raw(self->mfd, self->p, NULL, 0));
	assert_log(_metadata, self->mfd, self->p, &expect[1], 1);
	assert_counted(2, 3, 0);

	/* The last fault injected is the one pending */
	ASSERT_EQ(0, mock_inject_fault(self->mfd, self->p,
				       MOCK_SMMU_FAULT_SYNC_TIMEOUT));
	ASSERT_EQ(0, mock_inject_fault(self->mfd, self->p, MOCK_SMMU_FAULT_CMD_ERROR));
	ASSERT_EQ(-EIO, mock_cmdq_raw(self->mfd, self->p, cmds, 1));
	ASSERT_EQ(0, mock_cmdq_raw(self->mfd, self->p, cmds, 1));
}

/* Command number i: a unique NH_ASID (VMID:ASID = i) */
static struct smmu_cmd seq_cmd(uint32_t i)
{
	struct smmu_cmd c = { { SMMU_OP_TLBI_NH_ASID | SMMU_CMD_VMID(i & 0xffff) |
			   SMMU_CMD_ASID(i >> 16), 0 } };

	return c;
}

TEST_F(cmdq, log_wrap)
{
	static struct smmu_cmd all[LOG_SIZE + 1024], cmds[RAW_MAX];
	const uint32_t total_cmds = LOG_SIZE + 300;
	uint32_t i = 0, n = 0;
	uint64_t total = 0;
	int got, j;

	/* Batches of 255 and their syncs: more than the log keeps */
	while (i < total_cmds) {
		int k = 0;

		while (k < 255 && i < total_cmds) {
			cmds[k] = seq_cmd(i++);
			all[n++] = cmds[k++];
		}
		ASSERT_EQ(0, mock_cmdq_raw(self->mfd, self->p, cmds, k));
		all[n].w[0] = SYNC0;
		all[n++].w[1] = SYNC1;
	}
	ASSERT_EQ(LOG_SIZE, mock_cmdq_log_num(self->mfd, self->p, 0, log_buf,
					      LOG_SIZE, &total));
	ASSERT_EQ(n, total);
	/* The most recent LOG_SIZE, oldest first */
	for (j = 0; j < LOG_SIZE; j++)
		ASSERT_EQ(0, memcmp(&all[n - LOG_SIZE + j], &log_buf[j],
				    sizeof(log_buf[j]))) TH_LOG("entry %d", j);

	/* Less room: the most recent ones; CLEAR empties after reading */
	got = mock_cmdq_log_num(self->mfd, self->p, MOCK_SMMU_CMDQ_LOG_CLEAR,
				log_buf, 10, &total);
	ASSERT_EQ(10, got);
	ASSERT_EQ(n, total);
	ASSERT_EQ(0, memcmp(&all[n - 10], log_buf, 10 * sizeof(log_buf[0])));
	ASSERT_EQ(0, mock_cmdq_log_num(self->mfd, self->p, 0, log_buf, LOG_SIZE,
				       &total));
	ASSERT_EQ(0, total);
	assert_counted(total_cmds, n - total_cmds, 0);
}

/*
 * Two threads sharing one file and one pSMMU. They start together and run
 * on one CPU, so that each one's commands land between the other's
 * whenever it sleeps in a sync, even in a VM that runs its vCPUs by turns.
 */
struct worker {
	int mfd;
	uint32_t psmmu;
	int id;
	int rounds;
	int per_round;
	/* A round's last command is illegal */
	int bad;
	int fails;
	int unexpected;
	pthread_barrier_t *start;
};

static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	struct smmu_cmd cmds[64];
	cpu_set_t cpus;
	int r, k;

	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus))
		w->unexpected++;
	for (r = 0; r < w->rounds; r++) {
		int rc;

		/*
		 * Both threads start each round together (they have as many
		 * rounds), so they take turns on the queue whatever the
		 * scheduler does; within a round they race.
		 */
		pthread_barrier_wait(w->start);

		for (k = 0; k < w->per_round; k++)
			cmds[k] = seq_cmd((w->id << 20) | (r << 8) | k);
		if (w->bad)
			cmds[w->per_round - 1].w[1] = 1;	/* RES0 */
		rc = mock_cmdq_raw(w->mfd, w->psmmu, cmds, w->per_round);
		if (rc)
			w->fails++;
		if (rc != (w->bad ? -EIO : 0))
			w->unexpected++;
	}
	return NULL;
}

/* Each thread's commands are in the log, in its order */
static void assert_thread_log(struct __test_metadata *_metadata,
			      const struct worker *w, int num)
{
	int r = 0, k = 0, i;

	for (i = 0; i < num; i++) {
		struct smmu_cmd c = seq_cmd((w->id << 20) | (r << 8) | k);

		if (memcmp(&c, &log_buf[i], sizeof(c)))
			continue;
		if (++k == w->per_round - w->bad) {
			k = 0;
			r++;
		}
	}
	ASSERT_EQ(w->rounds, r) TH_LOG("thread %d", w->id);
}

static void run_threads(struct __test_metadata *_metadata, int mfd,
			uint32_t p, const struct mock_smmu_counters *base,
			struct worker *w)
{
	int i, n, syncs = 0, switches = 0, last = 0;
	pthread_barrier_t start;
	uint64_t total = 0;
	pthread_t t[2];

	ASSERT_EQ(0, pthread_barrier_init(&start, NULL, 2));
	for (i = 0; i < 2; i++) {
		w[i].start = &start;
		ASSERT_EQ(0, pthread_create(&t[i], NULL, worker_fn, &w[i]));
	}
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_join(t[i], NULL));
	pthread_barrier_destroy(&start);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, w[i].unexpected) TH_LOG("thread %d", i);

	n = mock_cmdq_log_num(mfd, p, 0, log_buf, LOG_SIZE, &total);
	ASSERT_EQ(n, total);
	ASSERT_EQ(w[0].rounds * (w[0].per_round - w[0].bad + 1) +
		  w[1].rounds * (w[1].per_round - w[1].bad + 1), n);
	for (i = 0; i < n; i++) {
		int id = log_buf[i].w[0] >> 52;

		if (log_buf[i].w[0] == SYNC0 && log_buf[i].w[1] == SYNC1) {
			syncs++;
			continue;
		}
		if (last && id != last)
			switches++;
		last = id;
	}
	ASSERT_EQ(w[0].rounds + w[1].rounds, syncs);
	/* The threads did take turns on the queue */
	ksft_print_msg("%d turns of two threads on the queue\n", switches);
	ASSERT_LE(w[0].rounds / 2, switches);
	for (i = 0; i < 2; i++)
		assert_thread_log(_metadata, &w[i], n);
	assert_counted_since(_metadata, mfd, p, base, n - syncs, syncs,
			     w[0].fails + w[1].fails);
}

TEST_F(cmdq, concurrent)
{
	struct worker w[2] = {
		{ self->mfd, self->p, 1, 40, 50, 0 },
		{ self->mfd, self->p, 2, 40, 50, 0 },
	};

	run_threads(_metadata, self->mfd, self->p, &self->cnt, w);
}

/* The errors of one thread's commands fail that thread's syncs only */
TEST_F(cmdq, concurrent_errors)
{
	struct worker w[2] = {
		{ self->mfd, self->p, 1, 60, 40, 0 },
		{ self->mfd, self->p, 2, 60, 8, 1 },
	};

	run_threads(_metadata, self->mfd, self->p, &self->cnt, w);
	ASSERT_EQ(0, w[0].fails);
	ASSERT_EQ(60, w[1].fails);
}

/* Several pSMMUs: each queue executes its own commands only */
TEST_F(cmdq, psmmus_apart)
{
	struct mock_smmu_cache_entry e = TLB(1, 1, 0x1000), out;
	uint64_t total = 0;
	int i;

	if (self->nr < 2)
		SKIP(return, "needs 2 pSMMUs");
	for (i = 0; i < self->nr; i++) {
		ASSERT_EQ(0, mock_cache_fill(self->mfd, i, NULL, 0));
		ASSERT_EQ(0, mock_cache_fill(self->mfd, i, &e, 1));
		ASSERT_EQ(0, mock_cmdq_log_clear(self->mfd, i));
	}
	ASSERT_EQ(0, raw1(self->mfd, 0, SMMU_OP_TLBI_NSNH_ALL, 0));
	ASSERT_EQ(0, mock_cache_read_num(self->mfd, 0, &out, 1, &total));
	ASSERT_EQ(0, total);
	for (i = 1; i < self->nr; i++) {
		ASSERT_EQ(1, mock_cache_read_num(self->mfd, i, &out, 1, NULL));
		ASSERT_EQ(0, mock_cmdq_log_num(self->mfd, i, 0, log_buf, 1, &total));
		ASSERT_EQ(0, total);
		ASSERT_EQ(0, mock_cache_fill(self->mfd, i, NULL, 0));
	}
	/* A stuck queue does not stop another */
	ASSERT_EQ(0, mock_inject_fault(self->mfd, 0, MOCK_SMMU_FAULT_SYNC_TIMEOUT));
	ASSERT_EQ(0, mock_cmdq_raw(self->mfd, 1, NULL, 0));
	ASSERT_EQ(-ETIMEDOUT, mock_cmdq_raw(self->mfd, 0, NULL, 0));
	ASSERT_EQ(0, mock_cmdq_raw(self->mfd, 0, NULL, 0));
}

/*
 * sync_latency_us: a CMD_SYNC completes that long after it was written, its
 * wait reporting what it did before; a latency beyond sync_timeout_ms is a
 * time-out, whose errors are dropped; the queue goes on.
 */
TEST_F(cmdq, sync_latency)
{
	struct smmu_cmd cmds[2] = {
		{ { SMMU_OP_TLBI_NH_ALL | SMMU_CMD_VMID(1), 0 } },
		{ { 0xff, 0 } },
	};
	struct smmu_cmd expect[2] = { cmds[0], { { SYNC0, SYNC1 } } };
	double t;

	self->timeout_ms = param_get(PARAM_TIMEOUT);
	ASSERT_LE(100, self->timeout_ms);
	ASSERT_EQ(0, param_set(PARAM_LATENCY, 20000));

	t = now_s();
	ASSERT_EQ(0, mock_cmdq_raw(self->mfd, self->p, cmds, 1));
	ASSERT_LE(0.020, now_s() - t);
	assert_log(_metadata, self->mfd, self->p, expect, 2);
	assert_counted(1, 1, 0);

	/* CERROR_ILL: the wait fails with EIO, once the sync completed */
	ASSERT_EQ(0, mock_cmdq_log_clear(self->mfd, self->p));
	t = now_s();
	ASSERT_EQ(-EIO, mock_cmdq_raw(self->mfd, self->p, cmds, 2));
	ASSERT_LE(0.020, now_s() - t);
	assert_log(_metadata, self->mfd, self->p, expect, 2);
	assert_counted(2, 2, 1);

	/* Longer than sync_timeout_ms: a time-out, and its EIO is dropped */
	ASSERT_EQ(0, param_set(PARAM_TIMEOUT, 10));
	ASSERT_EQ(-ETIMEDOUT, mock_cmdq_raw(self->mfd, self->p, cmds, 2));
	ASSERT_EQ(0, param_set(PARAM_TIMEOUT, self->timeout_ms));
	ASSERT_EQ(0, mock_cmdq_raw(self->mfd, self->p, NULL, 0));
	assert_counted(3, 4, 2);

	/* An injected time-out still is one, after sync_timeout_ms */
	ASSERT_EQ(0, param_set(PARAM_TIMEOUT, 100));
	ASSERT_EQ(0, mock_inject_fault(self->mfd, self->p,
				       MOCK_SMMU_FAULT_SYNC_TIMEOUT));
	t = now_s();
	ASSERT_EQ(-ETIMEDOUT, mock_cmdq_raw(self->mfd, self->p, NULL, 0));
	ASSERT_LE(0.1, now_s() - t);

	ASSERT_EQ(0, param_set(PARAM_LATENCY, 0));
	ASSERT_EQ(0, mock_cmdq_raw(self->mfd, self->p, cmds, 1));
	assert_counted(4, 5, 2);
}

/* Throughput of the queue, for the record */
TEST_F(cmdq, throughput)
{
	static struct smmu_cmd cmds[250];
	const int total_cmds = 10000;
	double t;
	int i, k;

	for (k = 0; k < 250; k++)
		cmds[k] = seq_cmd(k);
	t = now_s();
	for (i = 0; i < total_cmds / 250; i++)
		ASSERT_EQ(0, mock_cmdq_raw(self->mfd, self->p, cmds, 250));
	t = now_s() - t;
	ksft_print_msg("%d commands in %d CMDQ_RAW calls: %.3f s, %.1f us per command\n",
		       total_cmds, total_cmds / 250, t, t * 1e6 / total_cmds);
	assert_counted(total_cmds, total_cmds / 250, 0);
}

TEST_HARNESS_MAIN
