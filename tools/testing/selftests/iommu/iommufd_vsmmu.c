// SPDX-License-Identifier: GPL-2.0-only
/*
 * Nested HWPTs on a vIOMMU of the mock SMMUv3 driver, and the rules of the
 * vSMMU invalidation dispatcher (IOMMU_HWPT_INVALIDATE on a vIOMMU) about
 * arguments, illegal commands and failing pSMMUs:
 *
 * - IOMMU_HWPT_ALLOC with a vIOMMU pt_id: the guest STE check (allowed-bit
 *   masks, Config, EATS, V = 0), argument errors, the references a nested
 *   HWPT holds (EBUSY), the vDEVICE an attach of a stage-1 STE needs, the
 *   physical STE each guest STE gives (fields, MEV, EATS, the vIOMMU's VMID
 *   on that pSMMU), replace and detach, the nested_attached counter.
 * - IOMMU_HWPT_INVALIDATE on the vIOMMU: errors of the arguments; every
 *   disallowed bit of every accepted opcode, every other opcode, range
 *   rules, unknown and destroyed vSIDs, unreadable memory: each rejected at
 *   its index i with entry_num i, exactly the commands before it executed
 *   (read back from the pSMMUs' command logs), none from i on and no
 *   CERROR_ILL; injected sync time-outs and command errors with the exact
 *   entry_num, every command before it executed and nothing issued to the
 *   failing pSMMU after the failure, on the pSMMU waited for last and on
 *   the one waited for first.
 *
 * What the pSMMUs must execute is checked as iommufd_vsmmu_contract.h
 * says, from what each test knows of its devices: their pSMMUs, physical
 * StreamIDs and vSIDs, and the vIOMMU's VMIDs read from their STEs.
 *
 * The fixture runs with 1, 2 and 4 pSMMUs: a variant uses instances
 * 0..N-1 (skipped when the module has fewer), puts device i behind pSMMU
 * i and gives it a vDEVICE on one vIOMMU, spanning when N > 1.
 */
#include <stdlib.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "iommufd_vsmmu_contract.h"

#define MAX_PSMMUS		VSMMU_MAX_PSMMUS
#define VARIANT_MAX_PSMMUS	4

/* Physical StreamIDs, + pSMMU index */
#define SID_FIXTURE		0x100
#define SID_EXTRA		0x200
/* The guest's StreamIDs */
#define VSID_FIXTURE		0xa0000	/* + device index */
#define VSID_EXTRA		0xb0000
#define VSID_UNKNOWN		0xc0000

/* Guest commands of one call, at most */
#define BATCH_MAX		1024

/* Guest STE values (fields of smmuv3_test.h) */
#define STE0_CFG(x)		SMMU_FIELD(SMMU_STE0_CFG, x)
#define STE1_EATS(x)		SMMU_FIELD(SMMU_STE1_EATS, x)
/* The guest's stage-1 fields the physical STE takes */
#define STE0_S1_FIELDS \
	(SMMU_STE0_NESTING_ALLOWED & ~(SMMU_STE0_V | SMMU_STE0_CFG))
#define STE1_S1_FIELDS		(SMMU_STE1_NESTING_ALLOWED & ~SMMU_STE1_EATS)

/*
 * Helpers take the fixture's data as struct _test_data_vsmmu, which is what
 * FIXTURE_DATA(vsmmu) names.
 */

FIXTURE(vsmmu)
{
	int fd;
	int mfd;
	int nr_psmmus;		/* instances of the module */
	int n;			/* instances this variant uses */
	uint32_t ioas_id;
	/* Device i behind pSMMU i, SID_FIXTURE + i, vSID VSID_FIXTURE + i */
	uint32_t dev[VARIANT_MAX_PSMMUS];
	uint32_t dev_id[VARIANT_MAX_PSMMUS];
	uint32_t vdev_id[VARIANT_MAX_PSMMUS];
	/* Nesting parent; every device is attached to it after set-up */
	uint32_t s2_id;
	/* Spanning when n > 1 */
	uint32_t viommu_id;
	/* The stage-1 nested HWPT attach_s1() attached device i to */
	uint32_t nested[VARIANT_MAX_PSMMUS];
	/* Devices attached to a stage-1 of viommu_id, per pSMMU... */
	int s1[MAX_PSMMUS];
	/* ...and the VMID of viommu_id there (0: not known yet) */
	uint16_t vmid[MAX_PSMMUS];
	/* What the pSMMUs must execute */
	struct vsmmu_expect x;
	/* Counters at the end of the set-up */
	struct mock_smmu_counters cnt[MAX_PSMMUS];
};

FIXTURE_VARIANT(vsmmu)
{
	int psmmus;
};

FIXTURE_VARIANT_ADD(vsmmu, psmmus_1)
{
	.psmmus = 1,
};

FIXTURE_VARIANT_ADD(vsmmu, psmmus_2)
{
	.psmmus = 2,
};

FIXTURE_VARIANT_ADD(vsmmu, psmmus_4)
{
	.psmmus = 4,
};

static void logs_clear(struct __test_metadata *_metadata,
		       struct _test_data_vsmmu *self)
{
	int p;

	for (p = 0; p < self->nr_psmmus; p++)
		ASSERT_EQ(0, mock_cmdq_log_clear(self->mfd, p));
}

FIXTURE_SETUP(vsmmu)
{
	int i;

	if (!viommu_fixture_open(_metadata, &self->fd, &self->mfd,
				 &self->nr_psmmus, MAX_PSMMUS, variant->psmmus))
		return;
	self->n = variant->psmmus;

	ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas_id));
	for (i = 0; i < self->n; i++) {
		ASSERT_EQ(0, mock_dev_create_bind(self->mfd, self->fd, i,
						  SID_FIXTURE + i,
						  &self->dev[i],
						  &self->dev_id[i]));
	}
	ASSERT_EQ(0, hwpt_alloc_nest_parent(self->fd, self->dev_id[0],
					    self->ioas_id, &self->s2_id));
	/*
	 * As a VMM does: pSMMU 0 gives the stage 2 a VMID before the vIOMMU
	 * exists, so VMIDs of the vIOMMU differ between pSMMUs.
	 */
	ASSERT_EQ(0, mock_dev_attach(self->mfd, self->dev[0], self->s2_id,
				     NULL));
	ASSERT_EQ(0, viommu_alloc_smmu(self->fd, self->n > 1, self->dev_id[0],
				       self->s2_id, &self->viommu_id));
	for (i = 1; i < self->n; i++) {
		ASSERT_EQ(0, mock_dev_attach(self->mfd, self->dev[i],
					     self->s2_id, NULL));
	}
	for (i = 0; i < self->n; i++) {
		ASSERT_EQ(0, vdevice_alloc(self->fd, self->viommu_id,
					   self->dev_id[i], VSID_FIXTURE + i,
					   &self->vdev_id[i]));
	}
	for (i = 0; i < self->nr_psmmus; i++)
		ASSERT_EQ(0, mock_inject_fault(self->mfd, i, 0));
	logs_clear(_metadata, self);
	mock_read_counters(_metadata, self->mfd, self->nr_psmmus, self->cnt);
	ASSERT_EQ(0, vsmmu_expect_init(&self->x, self->nr_psmmus,
				       4 * BATCH_MAX));
}

FIXTURE_TEARDOWN(vsmmu)
{
	int i;

	/* A fault no command took would hit the next test */
	for (i = 0; i < self->nr_psmmus && self->n; i++)
		mock_inject_fault(self->mfd, i, 0);
	vsmmu_expect_free(&self->x);
	close(self->mfd);
	close(self->fd);
}

/* ---- Helpers ---------------------------------------------------------- */

/* A guest stage-1 STE, its fields (all within the allowed masks) from @tag */
static void ste_s1(unsigned int tag, unsigned int eats, uint64_t *ste0,
		   uint64_t *ste1)
{
	*ste0 = SMMU_STE0_V | STE0_CFG(SMMU_STE_CFG_S1_TRANS) |
		SMMU_FIELD(SMMU_STE0_S1FMT, tag % 4) |
		SMMU_FIELD(SMMU_STE0_S1CTXPTR, 0x2345670000ULL + tag * 3) |
		SMMU_FIELD(SMMU_STE0_S1CDMAX, tag * 7 + 3);
	*ste1 = SMMU_FIELD(SMMU_STE1_S1DSS, tag % 4) |
		SMMU_FIELD(SMMU_STE1_S1CIR, (tag + 1) % 4) |
		SMMU_FIELD(SMMU_STE1_S1COR, (tag + 2) % 4) |
		SMMU_FIELD(SMMU_STE1_S1CSH, (tag + 3) % 4) |
		(tag & 1 ? SMMU_STE1_S1STALLD : 0) | STE1_EATS(eats);
}

static uint32_t nested_alloc(struct __test_metadata *_metadata, int fd,
			     uint32_t dev_id, uint32_t viommu_id,
			     uint64_t ste0, uint64_t ste1)
{
	uint32_t id = 0;

	ASSERT_EQ(0, hwpt_alloc_nested_smmu(fd, dev_id, viommu_id, ste0, ste1,
					    &id))
		TH_LOG("ste 0x%016llx 0x%016llx", (unsigned long long)ste0,
		       (unsigned long long)ste1);
	ASSERT_NE(0, id);
	return id;
}

/* A guest STE of Config @cfg and nothing else */
static uint32_t nested_alloc_cfg(struct __test_metadata *_metadata, int fd,
				 uint32_t dev_id, uint32_t viommu_id,
				 unsigned int cfg)
{
	return nested_alloc(_metadata, fd, dev_id, viommu_id,
			    SMMU_STE0_V | STE0_CFG(cfg), 0);
}

static void get_ste(struct __test_metadata *_metadata, int mfd, int psmmu,
		    uint32_t sid, uint64_t ste[4])
{
	ASSERT_EQ(0, mock_get_ste(mfd, psmmu, sid, ste));
	ASSERT_EQ(SMMU_STE0_V, ste[0] & SMMU_STE0_V)
		TH_LOG("pSMMU %d SID 0x%x ste0 0x%llx", psmmu, sid,
		       (unsigned long long)ste[0]);
}

static void assert_ste_cfg(struct __test_metadata *_metadata, int mfd,
			   int psmmu, uint32_t sid, unsigned int cfg,
			   uint16_t vmid)
{
	uint64_t ste[4];

	get_ste(_metadata, mfd, psmmu, sid, ste);
	ASSERT_EQ(cfg, SMMU_STE_CFG(ste[0]))
		TH_LOG("pSMMU %d SID 0x%x ste0 0x%llx", psmmu, sid,
		       (unsigned long long)ste[0]);
	if (cfg != SMMU_STE_CFG_ABORT) {
		ASSERT_EQ(vmid, ste[2] & SMMU_STE2_S2VMID)
			TH_LOG("pSMMU %d SID 0x%x", psmmu, sid);
	}
}

/*
 * The physical STE of a device attached to a stage-1 nested HWPT made of
 * guest STE (@g0, @g1). Return its VMID.
 */
static uint16_t assert_ste_nested(struct __test_metadata *_metadata, int mfd,
				  int psmmu, uint32_t sid, uint64_t g0,
				  uint64_t g1)
{
	unsigned int eats = smmu_field_get(SMMU_STE1_EATS, g1);
	uint64_t ste[4];

	get_ste(_metadata, mfd, psmmu, sid, ste);
	ASSERT_EQ(SMMU_STE_CFG_NESTED, SMMU_STE_CFG(ste[0]))
		TH_LOG("pSMMU %d SID 0x%x ste0 0x%llx", psmmu, sid,
		       (unsigned long long)ste[0]);
	ASSERT_EQ(g0 & STE0_S1_FIELDS, ste[0] & STE0_S1_FIELDS)
		TH_LOG("pSMMU %d SID 0x%x", psmmu, sid);
	ASSERT_EQ(g1 & STE1_S1_FIELDS, ste[1] & STE1_S1_FIELDS)
		TH_LOG("pSMMU %d SID 0x%x", psmmu, sid);
	ASSERT_EQ(SMMU_STE1_MEV, ste[1] & SMMU_STE1_MEV);
	ASSERT_EQ(STE1_EATS(eats == SMMU_STE_EATS_TRANS ? SMMU_STE_EATS_TRANS :
			    SMMU_STE_EATS_ABT), ste[1] & SMMU_STE1_EATS)
		TH_LOG("pSMMU %d SID 0x%x guest EATS %u", psmmu, sid, eats);
	ASSERT_NE(0, ste[2] & SMMU_STE2_S2VMID);
	return ste[2] & SMMU_STE2_S2VMID;
}

/*
 * Attach device @i to a new stage-1 nested HWPT of the fixture's vIOMMU and
 * teach the model: TLBIs now go to pSMMU i, with the VMID of its STE.
 */
static void attach_s1(struct __test_metadata *_metadata,
		      struct _test_data_vsmmu *self, int i)
{
	uint64_t g0, g1;
	uint32_t out = 0;

	ste_s1(i, 0, &g0, &g1);
	self->nested[i] = nested_alloc(_metadata, self->fd, self->dev_id[i],
				       self->viommu_id, g0, g1);
	ASSERT_EQ(0, mock_dev_attach(self->mfd, self->dev[i], self->nested[i],
				     &out));
	ASSERT_EQ(self->nested[i], out);
	self->vmid[i] = assert_ste_nested(_metadata, self->mfd, i,
					  SID_FIXTURE + i, g0, g1);
	self->s1[i]++;
}

static void attach_s1_all(struct __test_metadata *_metadata,
			  struct _test_data_vsmmu *self)
{
	int i;

	for (i = 0; i < self->n; i++)
		attach_s1(_metadata, self, i);
}

static int inv(struct _test_data_vsmmu *self, const struct smmu_cmd *cmds,
	       uint32_t num, uint32_t *done)
{
	return viommu_invalidate_smmu(self->fd, self->viommu_id,
				      (const uint64_t *)cmds, num, done);
}

/* Guest command @gidx of device @i: pSMMU i must execute @c */
static void exp_dev(struct _test_data_vsmmu *self, uint32_t gidx, int i,
		    struct smmu_cmd c)
{
	vsmmu_expect_add(&self->x, i, gidx, c);
}

/*
 * Guest TLBI @gidx: every pSMMU with a stage-1 device of the vIOMMU must
 * execute (@e0, @e1) with the vIOMMU's VMID there.
 */
static void exp_tlbi(struct __test_metadata *_metadata,
		     struct _test_data_vsmmu *self, uint32_t gidx,
		     uint64_t e0, uint64_t e1)
{
	int p;

	ASSERT_EQ(0, e0 & SMMU_CMD0_VMID);
	for (p = 0; p < self->nr_psmmus; p++) {
		if (!self->s1[p])
			continue;
		ASSERT_NE(0, self->vmid[p]) TH_LOG("pSMMU %d", p);
		vsmmu_expect_add(&self->x, p, gidx,
				 SMMU_CMD(e0 | SMMU_CMD_VMID(self->vmid[p]),
					  e1));
	}
}

/* Guest commands [0, @done) executed as expected, nothing else */
static void assert_logs(struct __test_metadata *_metadata,
			struct _test_data_vsmmu *self, uint32_t done,
			const char *what)
{
	vsmmu_assert_logs_done(_metadata, self->mfd, &self->x, done, what);
}

/* No CERROR_ILL since the set-up, on any pSMMU */
static void assert_no_cerror(struct __test_metadata *_metadata,
			     struct _test_data_vsmmu *self)
{
	struct mock_smmu_counters now[MAX_PSMMUS];
	int p;

	mock_read_counters(_metadata, self->mfd, self->nr_psmmus, now);
	for (p = 0; p < self->nr_psmmus; p++) {
		ASSERT_EQ(self->cnt[p].cerror_ill, now[p].cerror_ill)
			TH_LOG("pSMMU %d", p);
	}
}

/* nested_attached of every pSMMU moved by @delta[p] since @before */
static void assert_nested_attached(struct __test_metadata *_metadata,
				   struct _test_data_vsmmu *self,
				   const struct mock_smmu_counters *before,
				   const int *delta, const char *what)
{
	struct mock_smmu_counters now[MAX_PSMMUS];
	int p;

	mock_read_counters(_metadata, self->mfd, self->nr_psmmus, now);
	for (p = 0; p < self->nr_psmmus; p++) {
		ASSERT_EQ(before[p].nested_attached + delta[p],
			  now[p].nested_attached)
			TH_LOG("%s: pSMMU %d", what, p);
	}
}

/*
 * The @k-th command of a mixed valid batch: every accepted opcode in turn,
 * the SID-scoped ones on devices 0..@ndev-1 (TLBI_NH_ASID instead when
 * @ndev is 0), with fields taken from @k. Guest VMIDs are set, to be
 * overwritten. What the pSMMUs must execute for it goes to self->x, as
 * guest command @k.
 */
static struct smmu_cmd gen_cmd(struct __test_metadata *_metadata,
			       struct _test_data_vsmmu *self, unsigned int k,
			       int ndev)
{
	int d = ndev ? (k / 8) % ndev : 0;
	uint32_t vsid = VSID_FIXTURE + d, psid = SID_FIXTURE + d;
	uint64_t addr = (uint64_t)(k + 1) << 12;
	unsigned int kind = k % 8;
	struct smmu_cmd c, e;

	/* No device: the TLBI that follows instead */
	if (!ndev && (kind == 0 || kind == 2 || kind == 4))
		kind++;
	switch (kind) {
	case 0:
		smmu_cmd_cfgi_cd(c.w, vsid, k & 0xfffff, k & 1);
		smmu_cmd_cfgi_cd(e.w, psid, k & 0xfffff, k & 1);
		exp_dev(self, k, d, e);
		break;
	case 1:
		smmu_cmd_nh_asid(c.w, 0x5a5a, k & 0xffff);
		smmu_cmd_nh_asid(e.w, 0, k & 0xffff);
		exp_tlbi(_metadata, self, k, e.w[0], e.w[1]);
		break;
	case 2:
		smmu_cmd_atc_inv(c.w, vsid, k & 2 ? (int)k : -1, k & 4, addr,
				 k % 13);
		smmu_cmd_atc_inv(e.w, psid, k & 2 ? (int)k : -1, k & 4, addr,
				 k % 13);
		exp_dev(self, k, d, e);
		break;
	case 3:
		smmu_cmd_nh_va(c.w, 0xffff, k & 0xffff, addr, k & 1, 0, 0, 0,
			       0);
		smmu_cmd_nh_va(e.w, 0, k & 0xffff, addr, k & 1, 0, 0, 0, 0);
		exp_tlbi(_metadata, self, k, e.w[0], e.w[1]);
		break;
	case 4:
		smmu_cmd_cfgi_cd_all(c.w, vsid);
		smmu_cmd_cfgi_cd_all(e.w, psid);
		exp_dev(self, k, d, e);
		break;
	case 5:
		smmu_cmd_nh_va(c.w, 0x1234, -1, addr, 0, 1, 3, k % 32, k % 3);
		smmu_cmd_nh_va(e.w, 0, -1, addr, 0, 1, 3, k % 32, k % 3);
		exp_tlbi(_metadata, self, k, e.w[0], e.w[1]);
		break;
	case 6:
		smmu_cmd_nh_all(c.w, 0x77);
		exp_tlbi(_metadata, self, k, SMMU_OP_TLBI_NH_ALL, 0);
		break;
	default:
		smmu_cmd_nsnh_all(c.w);
		exp_tlbi(_metadata, self, k, SMMU_OP_TLBI_NH_ALL, 0);
		break;
	}
	return c;
}

static struct smmu_cmd batch[BATCH_MAX];

/*
 * Submit batch[0..@i-1] (valid), @bad at index @i and two valid commands
 * after it: EIO with entry_num @i, exactly the first @i executed.
 */
static void assert_rejected_at(struct __test_metadata *_metadata,
			       struct _test_data_vsmmu *self, unsigned int i,
			       int ndev, const struct smmu_cmd *bad,
			       const char *what)
{
	uint32_t done = ~0U;
	unsigned int k;

	ASSERT_GT(ARRAY_SIZE(batch), i + 2);
	vsmmu_expect_reset(&self->x);
	for (k = 0; k < i + 3; k++)
		batch[k] = k == i ? *bad : gen_cmd(_metadata, self, k, ndev);
	logs_clear(_metadata, self);
	ASSERT_EQ(-EIO, inv(self, batch, i + 3, &done))
		TH_LOG("%s (0x%016llx 0x%016llx) at %u", what,
		       (unsigned long long)bad->w[0],
		       (unsigned long long)bad->w[1], i);
	ASSERT_EQ(i, done)
		TH_LOG("%s (0x%016llx 0x%016llx) at %u", what,
		       (unsigned long long)bad->w[0],
		       (unsigned long long)bad->w[1], i);
	assert_logs(_metadata, self, i, what);
}

/*
 * A batch of @num valid commands completes and executes exactly what
 * self->x says
 */
static void assert_accepted(struct __test_metadata *_metadata,
			    struct _test_data_vsmmu *self,
			    const struct smmu_cmd *g, unsigned int num,
			    const char *what)
{
	uint32_t done = ~0U;

	logs_clear(_metadata, self);
	ASSERT_EQ(0, inv(self, g, num, &done))
		TH_LOG("%s (0x%016llx 0x%016llx)", what,
		       (unsigned long long)g[0].w[0],
		       (unsigned long long)g[0].w[1]);
	ASSERT_EQ(num, done) TH_LOG("%s", what);
	assert_logs(_metadata, self, num, what);
}

/* One TLBI accepted: pSMMUs with a stage 1 execute @e with their VMID */
static void assert_accepted_tlbi(struct __test_metadata *_metadata,
				 struct _test_data_vsmmu *self,
				 const struct smmu_cmd *g,
				 const struct smmu_cmd *e, const char *what)
{
	vsmmu_expect_reset(&self->x);
	exp_tlbi(_metadata, self, 0, e->w[0], e->w[1]);
	assert_accepted(_metadata, self, g, 1, what);
}

/* One command for device @i accepted: pSMMU i executes @e */
static void assert_accepted_dev(struct __test_metadata *_metadata,
				struct _test_data_vsmmu *self, int i,
				const struct smmu_cmd *g,
				const struct smmu_cmd *e, const char *what)
{
	vsmmu_expect_reset(&self->x);
	exp_dev(self, 0, i, *e);
	assert_accepted(_metadata, self, g, 1, what);
}

/* ---- Nested HWPT allocation --------------------------------------------- */

/*
 * The guest STE check: V = 0 accepted whatever else is set; with V = 1,
 * a bit outside the allowed masks, Config other than abort/bypass/stage-1,
 * or EATS 2/3 -> EIO.
 */
TEST_F(vsmmu, nested_ste_table)
{
	static const struct {
		const char *what;
		uint64_t ste0, ste1;
		int rc;
	} table[] = {
		{ "V=0", 0, 0, 0 },
		{ "V=0, all else set", ~SMMU_STE0_V, ~0ULL, 0 },
		{ "V=0, Config nested, EATS 3", STE0_CFG(7), STE1_EATS(3), 0 },
		{ "V=0, Config 1, RES0 bits", STE0_CFG(1) | (1ULL << 52),
		  1ULL << 63, 0 },
		{ "abort", SMMU_STE0_V | STE0_CFG(0), 0, 0 },
		{ "bypass", SMMU_STE0_V | STE0_CFG(4), 0, 0 },
		{ "stage-1", SMMU_STE0_V | STE0_CFG(5), 0, 0 },
		{ "Config 1", SMMU_STE0_V | STE0_CFG(1), 0, -EIO },
		{ "Config 2", SMMU_STE0_V | STE0_CFG(2), 0, -EIO },
		{ "Config 3", SMMU_STE0_V | STE0_CFG(3), 0, -EIO },
		{ "Config 6 (stage-2)", SMMU_STE0_V | STE0_CFG(6), 0, -EIO },
		{ "Config 7 (nested)", SMMU_STE0_V | STE0_CFG(7), 0, -EIO },
		{ "stage-1, every allowed field",
		  (SMMU_STE0_NESTING_ALLOWED & ~STE0_CFG(7)) | STE0_CFG(5),
		  (SMMU_STE1_NESTING_ALLOWED & ~SMMU_STE1_EATS) | STE1_EATS(1), 0 },
		{ "bypass, every allowed field",
		  (SMMU_STE0_NESTING_ALLOWED & ~STE0_CFG(7)) | STE0_CFG(4),
		  (SMMU_STE1_NESTING_ALLOWED & ~SMMU_STE1_EATS) | STE1_EATS(1), 0 },
		{ "abort, every allowed field",
		  SMMU_STE0_NESTING_ALLOWED & ~STE0_CFG(7),
		  SMMU_STE1_NESTING_ALLOWED & ~SMMU_STE1_EATS, 0 },
		{ "stage-1, EATS 1", SMMU_STE0_V | STE0_CFG(5), STE1_EATS(1),
		  0 },
		{ "stage-1, EATS 2", SMMU_STE0_V | STE0_CFG(5), STE1_EATS(2),
		  -EIO },
		{ "stage-1, EATS 3", SMMU_STE0_V | STE0_CFG(5), STE1_EATS(3),
		  -EIO },
		{ "abort, EATS 2", SMMU_STE0_V | STE0_CFG(0), STE1_EATS(2),
		  -EIO },
		{ "bypass, EATS 3", SMMU_STE0_V | STE0_CFG(4), STE1_EATS(3),
		  -EIO },
		{ "stage-1, word 0 all ones", ~STE0_CFG(7) | STE0_CFG(5), 0,
		  -EIO },
		{ "stage-1, word 1 all ones", SMMU_STE0_V | STE0_CFG(5),
		  ~SMMU_STE1_EATS, -EIO },
	};
	static const unsigned int cfgs[] = { 0, 4, 5 };
	unsigned int t, c, b, e;
	int cases = 0;

	for (t = 0; t < ARRAY_SIZE(table); t++) {
		uint32_t dev_id = self->dev_id[t % self->n], id = 0;
		int rc = hwpt_alloc_nested_smmu(self->fd, dev_id,
						self->viommu_id,
						table[t].ste0, table[t].ste1,
						&id);

		ASSERT_EQ(table[t].rc, rc) TH_LOG("%s", table[t].what);
		if (!rc)
			ASSERT_EQ(0, iommufd_destroy(self->fd, id));
		cases++;
	}

	/* Each single bit, with each valid Config */
	for (c = 0; c < ARRAY_SIZE(cfgs); c++) {
		uint64_t base0 = SMMU_STE0_V | STE0_CFG(cfgs[c]);

		for (b = 0; b < 128; b++) {
			uint64_t bit = 1ULL << (b % 64), s0 = base0, s1 = 0;
			uint32_t id = 0;
			int want, rc;

			if (b < 64) {
				/* V and Config are the base */
				if (b < 4)
					continue;
				s0 |= bit;
				want = SMMU_STE0_NESTING_ALLOWED & bit ? 0 : -EIO;
			} else {
				s1 = bit;
				/* EATS 2 */
				want = SMMU_STE1_NESTING_ALLOWED & bit && b != 64 + 29 ?
				       0 : -EIO;
			}
			rc = hwpt_alloc_nested_smmu(self->fd,
						    self->dev_id[b % self->n],
						    self->viommu_id, s0, s1,
						    &id);
			ASSERT_EQ(want, rc)
				TH_LOG("Config %u, word %u bit %u", cfgs[c],
				       b / 64, b % 64);
			if (!rc)
				ASSERT_EQ(0, iommufd_destroy(self->fd, id));
			/* V = 0 takes anything */
			ASSERT_EQ(0, hwpt_alloc_nested_smmu(self->fd,
							    self->dev_id[0],
							    self->viommu_id,
							    s0 & ~SMMU_STE0_V,
							    s1, &id))
				TH_LOG("V=0, Config %u, word %u bit %u",
				       cfgs[c], b / 64, b % 64);
			ASSERT_EQ(0, iommufd_destroy(self->fd, id));
			cases += 2;
		}
	}

	/* Every Config with every EATS */
	for (c = 0; c < 8; c++) {
		for (e = 0; e < 4; e++) {
			bool ok = (c == 0 || c == 4 || c == 5) && e < 2;
			uint32_t id = 0;
			int rc;

			rc = hwpt_alloc_nested_smmu(self->fd,
						    self->dev_id[c % self->n],
						    self->viommu_id,
						    SMMU_STE0_V | STE0_CFG(c),
						    STE1_EATS(e), &id);
			ASSERT_EQ(ok ? 0 : -EIO, rc)
				TH_LOG("Config %u EATS %u", c, e);
			if (!rc)
				ASSERT_EQ(0, iommufd_destroy(self->fd, id));
			cases++;
		}
	}
	TH_LOG("%d guest STEs checked", cases);
}

/* IOMMU_HWPT_ALLOC argument errors with a vIOMMU pt_id */
TEST_F(vsmmu, nested_alloc_args)
{
	static const uint32_t bad_flags[] = {
		1U << 31, IOMMU_HWPT_ALLOC_NEST_PARENT,
		IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
		IOMMU_HWPT_ALLOC_NEST_PARENT | IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
		IOMMU_HWPT_FAULT_ID_VALID | 1U << 31,
		IOMMU_HWPT_FAULT_ID_VALID | IOMMU_HWPT_ALLOC_NEST_PARENT,
	};
	uint64_t data[4] = { SMMU_STE0_V | STE0_CFG(SMMU_STE_CFG_BYPASS), 0,
			     0, 0 };
	uint32_t d0 = self->dev_id[0], v = self->viommu_id, id, nest;
	unsigned int i;

	/* Length and type */
	ASSERT_EQ(-EINVAL, hwpt_alloc(self->fd, d0, v, 0,
				      IOMMU_HWPT_DATA_ARM_SMMUV3, data, 8,
				      NULL));
	ASSERT_EQ(-EINVAL, hwpt_alloc(self->fd, d0, v, 0,
				      IOMMU_HWPT_DATA_ARM_SMMUV3, data, 15,
				      NULL));
	ASSERT_EQ(-EINVAL, hwpt_alloc(self->fd, d0, v, 0,
				      IOMMU_HWPT_DATA_ARM_SMMUV3, data, 17,
				      NULL));
	ASSERT_EQ(-EINVAL, hwpt_alloc(self->fd, d0, v, 0,
				      IOMMU_HWPT_DATA_ARM_SMMUV3, data, 24,
				      NULL));
	ASSERT_EQ(-EINVAL, hwpt_alloc(self->fd, d0, v, 0,
				      IOMMU_HWPT_DATA_ARM_SMMUV3, data, 0,
				      NULL));
	ASSERT_EQ(-EINVAL, hwpt_alloc(self->fd, d0, v, 0,
				      IOMMU_HWPT_DATA_VTD_S1, data, 16, NULL));
	ASSERT_EQ(-EINVAL, hwpt_alloc(self->fd, d0, v, 0, 0xdead, data, 16,
				      NULL));
	ASSERT_EQ(-EINVAL, hwpt_alloc(self->fd, d0, v, 0,
				      IOMMU_HWPT_DATA_NONE, data, 16, NULL));
	/* No data: a vIOMMU only makes nested HWPTs */
	ASSERT_EQ(-EOPNOTSUPP, hwpt_alloc(self->fd, d0, v, 0,
					  IOMMU_HWPT_DATA_NONE, NULL, 0,
					  NULL));

	/* Flags */
	for (i = 0; i < ARRAY_SIZE(bad_flags); i++) {
		ASSERT_EQ(-EOPNOTSUPP,
			  hwpt_alloc(self->fd, d0, v, bad_flags[i],
				     IOMMU_HWPT_DATA_ARM_SMMUV3, data, 16,
				     NULL))
			TH_LOG("flags 0x%x", bad_flags[i]);
	}
	/* FAULT_ID_VALID is the core's: fault_id 0 is no fault object */
	ASSERT_EQ(-ENOENT, hwpt_alloc(self->fd, d0, v,
				      IOMMU_HWPT_FAULT_ID_VALID,
				      IOMMU_HWPT_DATA_ARM_SMMUV3, data, 16,
				      NULL));

	/* pt_id: a failed lookup is EINVAL, as any other object type */
	nest = nested_alloc_cfg(_metadata, self->fd, d0, v,
				SMMU_STE_CFG_ABORT);
	{
		const uint32_t bad_pt[] = { 0, 0x7fffffff, d0,
					    self->vdev_id[0], nest };

		for (i = 0; i < ARRAY_SIZE(bad_pt); i++) {
			ASSERT_EQ(-EINVAL,
				  hwpt_alloc_nested_smmu(self->fd, d0,
							 bad_pt[i], data[0],
							 data[1], NULL))
				TH_LOG("pt_id %u", bad_pt[i]);
		}
	}
	/* dev_id */
	ASSERT_EQ(-ENOENT, hwpt_alloc_nested_smmu(self->fd, 0x7fffffff, v,
						  data[0], data[1], NULL));
	ASSERT_EQ(-ENOENT, hwpt_alloc_nested_smmu(self->fd, self->ioas_id, v,
						  data[0], data[1], NULL));
	ASSERT_EQ(0, iommufd_destroy(self->fd, nest));

	/* Good data on every device after all that */
	for (i = 0; i < (unsigned int)self->n; i++) {
		ASSERT_EQ(0, hwpt_alloc_nested_smmu(self->fd, self->dev_id[i],
						    v, data[0], data[1], &id));
		ASSERT_EQ(0, iommufd_destroy(self->fd, id));
	}
}

/* A vIOMMU that does not span a device's pSMMU refuses it: EINVAL */
TEST_F(vsmmu, nested_other_psmmu)
{
	uint64_t g0 = SMMU_STE0_V | STE0_CFG(SMMU_STE_CFG_ABORT);
	uint32_t v0, nest, out;
	int i;

	if (self->n < 2)
		SKIP(return, "needs 2 pSMMUs");
	/* Spans pSMMU 0 only */
	ASSERT_EQ(0, viommu_alloc_smmu(self->fd, 0, self->dev_id[0],
				       self->s2_id, &v0));
	for (i = 1; i < self->n; i++) {
		ASSERT_EQ(-EINVAL, hwpt_alloc_nested_smmu(self->fd,
							  self->dev_id[i], v0,
							  g0, 0, NULL))
			TH_LOG("pSMMU %d", i);
		ASSERT_EQ(-EINVAL,
			  hwpt_alloc_nested_smmu(self->fd, self->dev_id[i], v0,
						 SMMU_STE0_V | STE0_CFG(4), 0,
						 NULL))
			TH_LOG("pSMMU %d", i);
	}
	/* Made for a device it spans, then attached to one it does not */
	nest = nested_alloc(_metadata, self->fd, self->dev_id[0], v0, g0, 0);
	for (i = 1; i < self->n; i++) {
		uint64_t before[4], after[4];

		get_ste(_metadata, self->mfd, i, SID_FIXTURE + i, before);
		ASSERT_EQ(-EINVAL, mock_dev_attach(self->mfd, self->dev[i],
						   nest, &out))
			TH_LOG("pSMMU %d", i);
		get_ste(_metadata, self->mfd, i, SID_FIXTURE + i, after);
		ASSERT_EQ(0, memcmp(before, after, sizeof(after)));
	}
	ASSERT_EQ(0, iommufd_destroy(self->fd, nest));
	ASSERT_EQ(0, iommufd_destroy(self->fd, v0));
}

/* ---- References: EBUSY ----------------------------------------------- */

TEST_F(vsmmu, nested_ebusy)
{
	uint32_t v2, devx, devx_id, ha, hb, out;
	int i, last = self->n - 1;

	ASSERT_EQ(0, mock_dev_create_bind(self->mfd, self->fd, last,
					  SID_EXTRA + last, &devx, &devx_id));
	ASSERT_EQ(0, viommu_alloc_smmu(self->fd, self->n > 1, self->dev_id[0],
				       self->s2_id, &v2));

	/* A nested HWPT holds its vIOMMU, attached or not */
	ha = nested_alloc_cfg(_metadata, self->fd, devx_id, v2,
			      SMMU_STE_CFG_ABORT);
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, v2));
	ASSERT_EQ(0, iommufd_destroy(self->fd, ha));
	ASSERT_EQ(-ENOENT, iommufd_destroy(self->fd, ha));

	/* Attached: the HWPT is busy, and so is the vIOMMU */
	ha = nested_alloc_cfg(_metadata, self->fd, devx_id, v2,
			      SMMU_STE_CFG_ABORT);
	hb = nested_alloc_cfg(_metadata, self->fd, devx_id, v2,
			      SMMU_STE_CFG_BYPASS);
	ASSERT_EQ(0, mock_dev_attach(self->mfd, devx, ha, &out));
	ASSERT_EQ(ha, out);
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, ha));
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, v2));
	/* Replaced: the old one is free, the new one busy */
	ASSERT_EQ(0, mock_dev_attach(self->mfd, devx, hb, &out));
	ASSERT_EQ(hb, out);
	ASSERT_EQ(0, iommufd_destroy(self->fd, ha));
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, hb));
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, v2));
	/* The stage 2 under it too */
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, self->s2_id));
	ASSERT_EQ(0, mock_dev_detach(self->mfd, devx));
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, v2));
	ASSERT_EQ(0, iommufd_destroy(self->fd, hb));
	ASSERT_EQ(0, iommufd_destroy(self->fd, v2));

	/* A stage-1 nested HWPT of the fixture's vIOMMU */
	attach_s1(_metadata, self, last);
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, self->nested[last]));
	for (i = 0; i < last; i++)
		ASSERT_EQ(0, iommufd_destroy(self->fd, self->vdev_id[i]));
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, self->viommu_id));
	ASSERT_EQ(0, mock_dev_attach(self->mfd, self->dev[last], self->s2_id,
				     NULL));
	ASSERT_EQ(0, iommufd_destroy(self->fd, self->vdev_id[last]));
	/* Only the detached nested HWPT holds it now */
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, self->viommu_id));
	ASSERT_EQ(0, iommufd_destroy(self->fd, self->nested[last]));
	ASSERT_EQ(0, iommufd_destroy(self->fd, self->viommu_id));
}

/* ---- Attach and the physical STE ------------------------------------- */

/*
 * A stage-1 STE needs a vDEVICE of the device on the nested HWPT's vIOMMU
 * (ENOENT, nothing changed); abort and bypass do not.
 */
TEST_F(vsmmu, nested_attach_needs_vdevice)
{
	struct mock_smmu_counters before[MAX_PSMMUS];
	int delta[MAX_PSMMUS] = {};
	uint32_t devx, devx_id, v2, vd, hs1, hab, hby, hv0, out;
	int last = self->n - 1;
	uint64_t g0, g1, s2ste[4], ste[4];
	uint16_t vmid;

	ASSERT_EQ(0, mock_dev_create_bind(self->mfd, self->fd, last,
					  SID_EXTRA + last, &devx, &devx_id));
	ASSERT_EQ(0, mock_dev_attach(self->mfd, devx, self->s2_id, NULL));
	get_ste(_metadata, self->mfd, last, SID_EXTRA + last, s2ste);
	ASSERT_EQ(SMMU_STE_CFG_S2_TRANS, SMMU_STE_CFG(s2ste[0]));
	mock_read_counters(_metadata, self->mfd, self->nr_psmmus, before);

	ste_s1(9, 1, &g0, &g1);
	hs1 = nested_alloc(_metadata, self->fd, devx_id, self->viommu_id, g0,
			   g1);
	ASSERT_EQ(-ENOENT, mock_dev_attach(self->mfd, devx, hs1, &out));
	get_ste(_metadata, self->mfd, last, SID_EXTRA + last, ste);
	ASSERT_EQ(0, memcmp(s2ste, ste, sizeof(ste)));
	assert_nested_attached(_metadata, self, before, delta, "ENOENT");

	/* Abort and bypass need no vDEVICE */
	hab = nested_alloc_cfg(_metadata, self->fd, devx_id, self->viommu_id,
			       SMMU_STE_CFG_ABORT);
	hby = nested_alloc_cfg(_metadata, self->fd, devx_id, self->viommu_id,
			       SMMU_STE_CFG_BYPASS);
	ASSERT_EQ(0, mock_dev_attach(self->mfd, devx, hab, &out));
	ASSERT_EQ(hab, out);
	assert_ste_cfg(_metadata, self->mfd, last, SID_EXTRA + last,
		       SMMU_STE_CFG_ABORT, 0);
	ASSERT_EQ(0, mock_dev_attach(self->mfd, devx, hby, &out));
	ASSERT_EQ(hby, out);
	get_ste(_metadata, self->mfd, last, SID_EXTRA + last, ste);
	ASSERT_EQ(SMMU_STE_CFG_S2_TRANS, SMMU_STE_CFG(ste[0]));
	vmid = ste[2] & SMMU_STE2_S2VMID;
	ASSERT_NE(0, vmid);
	/* V = 0 aborts, whatever its Config says: no vDEVICE needed */
	hv0 = nested_alloc(_metadata, self->fd, devx_id, self->viommu_id,
			   ~SMMU_STE0_V, ~0ULL);
	ASSERT_EQ(0, mock_dev_attach(self->mfd, devx, hv0, &out));
	ASSERT_EQ(hv0, out);
	assert_ste_cfg(_metadata, self->mfd, last, SID_EXTRA + last,
		       SMMU_STE_CFG_ABORT, 0);
	assert_nested_attached(_metadata, self, before, delta, "V=0");
	ASSERT_EQ(0, mock_dev_attach(self->mfd, devx, hby, &out));
	/* Still refused from bypass, which stays */
	ASSERT_EQ(-ENOENT, mock_dev_attach(self->mfd, devx, hs1, &out));
	assert_ste_cfg(_metadata, self->mfd, last, SID_EXTRA + last,
		       SMMU_STE_CFG_S2_TRANS, vmid);
	assert_nested_attached(_metadata, self, before, delta, "bypass");

	/* A vDEVICE on another vIOMMU does not count */
	ASSERT_EQ(0, viommu_alloc_smmu(self->fd, self->n > 1, self->dev_id[0],
				       self->s2_id, &v2));
	ASSERT_EQ(0, vdevice_alloc(self->fd, v2, devx_id, VSID_EXTRA, &vd));
	ASSERT_EQ(-ENOENT, mock_dev_attach(self->mfd, devx, hs1, &out));
	assert_ste_cfg(_metadata, self->mfd, last, SID_EXTRA + last,
		       SMMU_STE_CFG_S2_TRANS, vmid);
	ASSERT_EQ(0, iommufd_destroy(self->fd, vd));
	ASSERT_EQ(0, iommufd_destroy(self->fd, v2));

	/* With its vDEVICE it attaches */
	ASSERT_EQ(0, vdevice_alloc(self->fd, self->viommu_id, devx_id,
				   VSID_EXTRA, &vd));
	ASSERT_EQ(0, mock_dev_attach(self->mfd, devx, hs1, &out));
	ASSERT_EQ(hs1, out);
	ASSERT_EQ(vmid, assert_ste_nested(_metadata, self->mfd, last,
					  SID_EXTRA + last, g0, g1));
	delta[last] = 1;
	assert_nested_attached(_metadata, self, before, delta, "stage-1");
	ASSERT_EQ(0, mock_dev_detach(self->mfd, devx));
	assert_ste_cfg(_metadata, self->mfd, last, SID_EXTRA + last,
		       SMMU_STE_CFG_ABORT, 0);
	delta[last] = 0;
	assert_nested_attached(_metadata, self, before, delta, "detached");
	ASSERT_EQ(0, iommufd_destroy(self->fd, hs1));
	ASSERT_EQ(0, iommufd_destroy(self->fd, hab));
	ASSERT_EQ(0, iommufd_destroy(self->fd, hby));
	ASSERT_EQ(0, iommufd_destroy(self->fd, hv0));
	ASSERT_EQ(0, iommufd_destroy(self->fd, vd));
}

/*
 * A device stays on its stage-1 nested HWPT when its vDEVICE is destroyed.
 * A replace to another stage-1 HWPT then fails with ENOENT and must leave
 * it there: the IOMMU core puts the old domain back, which the driver may
 * not refuse for the missing vDEVICE (it did, and the core then blocked
 * the device behind iommufd's back, with a kernel warning).
 */
TEST_F(vsmmu, nested_replace_after_vdevice_destroy)
{
	struct mock_smmu_counters before[MAX_PSMMUS];
	int delta[MAX_PSMMUS] = {};
	uint32_t devx, devx_id, vd, hs1a, hs1b, hby, out;
	int last = self->n - 1;
	uint64_t g0, g1, ste[4], ste_s1a[4];
	uint64_t total;
	uint16_t vmid;

	ASSERT_EQ(0, mock_dev_create_bind(self->mfd, self->fd, last,
					  SID_EXTRA + last, &devx, &devx_id));
	ASSERT_EQ(0, vdevice_alloc(self->fd, self->viommu_id, devx_id,
				   VSID_EXTRA, &vd));
	ste_s1(3, 0, &g0, &g1);
	hs1a = nested_alloc(_metadata, self->fd, devx_id, self->viommu_id, g0,
			    g1);
	hs1b = nested_alloc(_metadata, self->fd, devx_id, self->viommu_id,
			    g0 ^ SMMU_FIELD(SMMU_STE0_S1CTXPTR, 1), g1);
	hby = nested_alloc_cfg(_metadata, self->fd, devx_id, self->viommu_id,
			       SMMU_STE_CFG_BYPASS);
	mock_read_counters(_metadata, self->mfd, self->nr_psmmus, before);
	ASSERT_EQ(0, mock_dev_attach(self->mfd, devx, hs1a, &out));
	ASSERT_EQ(hs1a, out);
	vmid = assert_ste_nested(_metadata, self->mfd, last, SID_EXTRA + last,
				 g0, g1);
	get_ste(_metadata, self->mfd, last, SID_EXTRA + last, ste_s1a);
	delta[last] = 1;
	assert_nested_attached(_metadata, self, before, delta, "stage-1");

	/* The vDEVICE goes, the attachment stays */
	ASSERT_EQ(0, iommufd_destroy(self->fd, vd));
	logs_clear(_metadata, self);
	ASSERT_EQ(-ENOENT, mock_dev_attach(self->mfd, devx, hs1b, &out));
	get_ste(_metadata, self->mfd, last, SID_EXTRA + last, ste);
	ASSERT_EQ(0, memcmp(ste_s1a, ste, sizeof(ste)));
	assert_nested_attached(_metadata, self, before, delta, "ENOENT");
	/* Nothing was flushed: the STE never left the vIOMMU's VMID */
	ASSERT_EQ(0, mock_cmdq_log_num(self->mfd, last, 1, NULL, 0, &total));
	ASSERT_EQ(0, total);
	/* iommufd still has it on hs1a: destroying that is refused */
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, hs1a));

	/* It can move on to what needs no vDEVICE */
	ASSERT_EQ(0, mock_dev_attach(self->mfd, devx, hby, &out));
	ASSERT_EQ(hby, out);
	assert_ste_cfg(_metadata, self->mfd, last, SID_EXTRA + last,
		       SMMU_STE_CFG_S2_TRANS, vmid);
	delta[last] = 0;
	assert_nested_attached(_metadata, self, before, delta, "bypass");
	ASSERT_EQ(-ENOENT, mock_dev_attach(self->mfd, devx, hs1a, &out));
	ASSERT_EQ(0, mock_dev_detach(self->mfd, devx));
	ASSERT_EQ(0, iommufd_destroy(self->fd, hs1a));
	ASSERT_EQ(0, iommufd_destroy(self->fd, hs1b));
	ASSERT_EQ(0, iommufd_destroy(self->fd, hby));
}

/*
 * The physical STEs: stage-1 -> nested with the guest's fields, MEV, EATS
 * as the guest asked and the vIOMMU's VMID on that pSMMU, the VMID the
 * TLBIs logged there carry; bypass -> stage-2 only with that VMID; abort
 * and V = 0 -> abort.
 */
TEST_F(vsmmu, nested_ste_physical)
{
	uint32_t hid[VARIANT_MAX_PSMMUS][2], out, v2, devx, devx_id, vd, h2;
	uint64_t g0[VARIANT_MAX_PSMMUS][2], g1[VARIANT_MAX_PSMMUS][2];
	uint16_t vmid[VARIANT_MAX_PSMMUS];
	struct smmu_cmd c, want;
	int i, e, last = self->n - 1;

	for (i = 0; i < self->n; i++) {
		for (e = 0; e < 2; e++) {
			ste_s1(0x10 * i + e, e, &g0[i][e], &g1[i][e]);
			hid[i][e] = nested_alloc(_metadata, self->fd,
						 self->dev_id[i],
						 self->viommu_id, g0[i][e],
						 g1[i][e]);
		}
		ASSERT_EQ(0, mock_dev_attach(self->mfd, self->dev[i],
					     hid[i][0], &out));
		ASSERT_EQ(hid[i][0], out);
		vmid[i] = assert_ste_nested(_metadata, self->mfd, i,
					    SID_FIXTURE + i, g0[i][0],
					    g1[i][0]);
		/* Replace, EATS 1 */
		ASSERT_EQ(0, mock_dev_attach(self->mfd, self->dev[i],
					     hid[i][1], &out));
		ASSERT_EQ(hid[i][1], out);
		ASSERT_EQ(vmid[i],
			  assert_ste_nested(_metadata, self->mfd, i,
					    SID_FIXTURE + i, g0[i][1],
					    g1[i][1]));
		self->s1[i] = 1;
		self->vmid[i] = vmid[i];
	}
	/* The TLBIs of the guest carry those VMIDs on those pSMMUs */
	smmu_cmd_nh_all(c.w, 0xbeef);
	smmu_cmd_nh_all(want.w, 0);
	assert_accepted_tlbi(_metadata, self, &c, &want, "TLBI_NH_ALL");
	smmu_cmd_nsnh_all(c.w);
	assert_accepted_tlbi(_metadata, self, &c, &want, "TLBI_NSNH_ALL");

	/* Bypass: stage 2 only, same VMID; abort and V = 0: abort */
	for (i = 0; i < self->n; i++) {
		uint32_t hby, hab, hv0;

		hby = nested_alloc_cfg(_metadata, self->fd, self->dev_id[i],
				       self->viommu_id, SMMU_STE_CFG_BYPASS);
		hab = nested_alloc_cfg(_metadata, self->fd, self->dev_id[i],
				       self->viommu_id, SMMU_STE_CFG_ABORT);
		hv0 = nested_alloc(_metadata, self->fd, self->dev_id[i],
				   self->viommu_id, g0[i][1] & ~SMMU_STE0_V,
				   g1[i][1]);
		ASSERT_EQ(0, mock_dev_attach(self->mfd, self->dev[i], hby,
					     NULL));
		assert_ste_cfg(_metadata, self->mfd, i, SID_FIXTURE + i,
			       SMMU_STE_CFG_S2_TRANS, vmid[i]);
		ASSERT_EQ(0, mock_dev_attach(self->mfd, self->dev[i], hab,
					     NULL));
		assert_ste_cfg(_metadata, self->mfd, i, SID_FIXTURE + i,
			       SMMU_STE_CFG_ABORT, 0);
		ASSERT_EQ(0, mock_dev_attach(self->mfd, self->dev[i],
					     hid[i][0], NULL));
		ASSERT_EQ(vmid[i],
			  assert_ste_nested(_metadata, self->mfd, i,
					    SID_FIXTURE + i, g0[i][0],
					    g1[i][0]));
		ASSERT_EQ(0, mock_dev_attach(self->mfd, self->dev[i], hv0,
					     NULL));
		assert_ste_cfg(_metadata, self->mfd, i, SID_FIXTURE + i,
			       SMMU_STE_CFG_ABORT, 0);
		/* Detach: abort */
		ASSERT_EQ(0, mock_dev_attach(self->mfd, self->dev[i],
					     hid[i][1], NULL));
		ASSERT_EQ(0, mock_dev_detach(self->mfd, self->dev[i]));
		assert_ste_cfg(_metadata, self->mfd, i, SID_FIXTURE + i,
			       SMMU_STE_CFG_ABORT, 0);
		ASSERT_EQ(0, iommufd_destroy(self->fd, hby));
		ASSERT_EQ(0, iommufd_destroy(self->fd, hab));
		ASSERT_EQ(0, iommufd_destroy(self->fd, hv0));
	}

	/* Another vIOMMU has VMIDs of its own */
	ASSERT_EQ(0, mock_dev_create_bind(self->mfd, self->fd, last,
					  SID_EXTRA + last, &devx, &devx_id));
	ASSERT_EQ(0, viommu_alloc_smmu(self->fd, self->n > 1, self->dev_id[0],
				       self->s2_id, &v2));
	ASSERT_EQ(0, vdevice_alloc(self->fd, v2, devx_id, VSID_EXTRA, &vd));
	h2 = nested_alloc(_metadata, self->fd, devx_id, v2, g0[last][0],
			  g1[last][0]);
	ASSERT_EQ(0, mock_dev_attach(self->mfd, devx, h2, NULL));
	ASSERT_NE(vmid[last], assert_ste_nested(_metadata, self->mfd, last,
						SID_EXTRA + last, g0[last][0],
						g1[last][0]));
	ASSERT_EQ(0, mock_dev_detach(self->mfd, devx));
}

/*
 * nested_attached counts the devices behind a pSMMU attached to a stage-1
 * nested HWPT, exactly, through attach, replace (both halves) and detach;
 * the TLBIs follow it.
 */
TEST_F(vsmmu, nested_attached_counter)
{
	struct mock_smmu_counters before[MAX_PSMMUS];
	int delta[MAX_PSMMUS] = {};
	uint32_t s1a[VARIANT_MAX_PSMMUS], s1b[VARIANT_MAX_PSMMUS];
	uint32_t by[VARIANT_MAX_PSMMUS], ab[VARIANT_MAX_PSMMUS];
	uint32_t devx, devx_id, vdx, s1x;
	uint64_t g0, g1;
	struct smmu_cmd c;
	int i, last = self->n - 1;

	mock_read_counters(_metadata, self->mfd, self->nr_psmmus, before);
	for (i = 0; i < self->nr_psmmus; i++) {
		ASSERT_EQ(self->cnt[i].nested_attached,
			  before[i].nested_attached);
	}
	for (i = 0; i < self->n; i++) {
		ste_s1(i, 0, &g0, &g1);
		s1a[i] = nested_alloc(_metadata, self->fd, self->dev_id[i],
				      self->viommu_id, g0, g1);
		ste_s1(i + 100, 1, &g0, &g1);
		s1b[i] = nested_alloc(_metadata, self->fd, self->dev_id[i],
				      self->viommu_id, g0, g1);
		by[i] = nested_alloc_cfg(_metadata, self->fd, self->dev_id[i],
					 self->viommu_id, SMMU_STE_CFG_BYPASS);
		ab[i] = nested_alloc_cfg(_metadata, self->fd, self->dev_id[i],
					 self->viommu_id, SMMU_STE_CFG_ABORT);
	}
	smmu_cmd_nh_asid(c.w, 0, 0x42);

	for (i = 0; i < self->n; i++) {
		uint64_t ste[4];

		/* S2 -> bypass -> abort: no stage 1 */
		ASSERT_EQ(0, mock_dev_attach(self->mfd, self->dev[i], by[i],
					     NULL));
		get_ste(_metadata, self->mfd, i, SID_FIXTURE + i, ste);
		ASSERT_NE(0, ste[2] & SMMU_STE2_S2VMID);
		self->vmid[i] = ste[2] & SMMU_STE2_S2VMID;
		ASSERT_EQ(0, mock_dev_attach(self->mfd, self->dev[i], ab[i],
					     NULL));
		assert_nested_attached(_metadata, self, before, delta,
				       "bypass, abort");
		assert_accepted_tlbi(_metadata, self, &c, &c, "no stage 1");

		/* abort -> S1: +1 */
		ASSERT_EQ(0, mock_dev_attach(self->mfd, self->dev[i], s1a[i],
					     NULL));
		delta[i] = 1;
		self->s1[i] = 1;
		assert_nested_attached(_metadata, self, before, delta,
				       "abort -> S1");
		assert_accepted_tlbi(_metadata, self, &c, &c, "abort -> S1");
		/* S1 -> S1: the same */
		ASSERT_EQ(0, mock_dev_attach(self->mfd, self->dev[i], s1b[i],
					     NULL));
		assert_nested_attached(_metadata, self, before, delta,
				       "S1 -> S1");
		assert_accepted_tlbi(_metadata, self, &c, &c, "S1 -> S1");
	}
	/* A second device on the last pSMMU: 2 there */
	ASSERT_EQ(0, mock_dev_create_bind(self->mfd, self->fd, last,
					  SID_EXTRA + last, &devx, &devx_id));
	ASSERT_EQ(0, vdevice_alloc(self->fd, self->viommu_id, devx_id,
				   VSID_EXTRA, &vdx));
	ste_s1(77, 0, &g0, &g1);
	s1x = nested_alloc(_metadata, self->fd, devx_id, self->viommu_id, g0,
			   g1);
	ASSERT_EQ(0, mock_dev_attach(self->mfd, devx, s1x, NULL));
	delta[last] = 2;
	assert_nested_attached(_metadata, self, before, delta, "two on last");

	for (i = 0; i < self->n; i++) {
		/* S1 -> bypass: -1 */
		ASSERT_EQ(0, mock_dev_attach(self->mfd, self->dev[i], by[i],
					     NULL));
		delta[i]--;
		assert_nested_attached(_metadata, self, before, delta,
				       "S1 -> bypass");
		/* bypass -> S1 -> S2 paging: +1 -1 */
		ASSERT_EQ(0, mock_dev_attach(self->mfd, self->dev[i], s1a[i],
					     NULL));
		delta[i]++;
		assert_nested_attached(_metadata, self, before, delta,
				       "bypass -> S1");
		ASSERT_EQ(0, mock_dev_attach(self->mfd, self->dev[i],
					     self->s2_id, NULL));
		delta[i]--;
		assert_nested_attached(_metadata, self, before, delta,
				       "S1 -> S2");
		/* S1 -> detach: -1 */
		ASSERT_EQ(0, mock_dev_attach(self->mfd, self->dev[i], s1b[i],
					     NULL));
		delta[i]++;
		ASSERT_EQ(0, mock_dev_detach(self->mfd, self->dev[i]));
		delta[i]--;
		assert_nested_attached(_metadata, self, before, delta,
				       "S1 -> detached");
		self->s1[i] = 0;
	}
	/* TLBIs still reach the last pSMMU, for devx */
	self->s1[last] = 1;
	assert_accepted_tlbi(_metadata, self, &c, &c, "devx only");
	/* Unbinding a device attached to a stage 1 leaves it too */
	ASSERT_EQ(0, mock_dev_unbind(self->mfd, devx));
	delta[last] = 0;
	self->s1[last] = 0;
	assert_nested_attached(_metadata, self, before, delta, "unbind");
	assert_accepted_tlbi(_metadata, self, &c, &c, "none");
	ASSERT_EQ(0, iommufd_destroy(self->fd, s1x));
}

/* ---- IOMMU_HWPT_INVALIDATE: arguments ----------------------------------- */

TEST_F(vsmmu, inv_args)
{
	static const uint32_t bad_types[] = {
		IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, 2, 0xdeadbeef, 0xdadbeef,
		~0U,
	};
	static const uint32_t bad_lens[] = { 1, 8, 15, 17, 24, 32, 4096 };
	static const uint32_t enoent[] = { 0, 0x7fffffff, ~0U };
	const uint32_t type = IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3;
	const uint32_t einval[] = { self->s2_id, self->ioas_id,
				    self->dev_id[0], self->vdev_id[0] };
	static uint64_t buf[4096 / 8 * 3];
	uint32_t v = self->viommu_id, done, nest;
	unsigned int i, k;

	attach_s1_all(_metadata, self);
	for (k = 0; k < ARRAY_SIZE(buf) / 2; k++)
		smmu_cmd_nh_all(&buf[2 * k], 1);
	vsmmu_expect_reset(&self->x);
	logs_clear(_metadata, self);

	/* entry_num 0 with the right type: nothing to do */
	done = 5;
	ASSERT_EQ(0, hwpt_invalidate_raw(self->fd, v, type, 16, buf, 0, 0,
					 &done));
	ASSERT_EQ(0, done);
	ASSERT_EQ(0, hwpt_invalidate_raw(self->fd, v, type, 16, NULL, 0, 0,
					 &done));
	ASSERT_EQ(0, done);

	/* Wrong type, with and without entries */
	for (i = 0; i < ARRAY_SIZE(bad_types); i++) {
		done = 5;
		ASSERT_EQ(-EINVAL, hwpt_invalidate_raw(self->fd, v,
						       bad_types[i], 16, buf,
						       0, 0, &done))
			TH_LOG("type 0x%x", bad_types[i]);
		ASSERT_EQ(0, done);
		done = 5;
		ASSERT_EQ(-EINVAL, hwpt_invalidate_raw(self->fd, v,
						       bad_types[i], 16, buf,
						       3, 0, &done))
			TH_LOG("type 0x%x", bad_types[i]);
		ASSERT_EQ(0, done);
	}
	/* entry_len */
	for (i = 0; i < ARRAY_SIZE(bad_lens); i++) {
		done = 5;
		ASSERT_EQ(-EINVAL, hwpt_invalidate_raw(self->fd, v, type,
						       bad_lens[i], buf, 2, 0,
						       &done))
			TH_LOG("entry_len %u", bad_lens[i]);
		ASSERT_EQ(0, done);
	}
	/* Over the caps */
	done = 5;
	ASSERT_EQ(-EINVAL, hwpt_invalidate_raw(self->fd, v, type, 4097, buf,
					       1, 0, &done));
	ASSERT_EQ(0, done);
	done = 5;
	ASSERT_EQ(-EINVAL, hwpt_invalidate_raw(self->fd, v, type, 16, buf,
					       (1U << 19) + 1, 0, &done));
	ASSERT_EQ(0, done);
	done = 5;
	ASSERT_EQ(-EINVAL, hwpt_invalidate_raw(self->fd, v, type, 16, buf,
					       ~0U, 0, &done));
	ASSERT_EQ(0, done);
	/* No array */
	done = 5;
	ASSERT_EQ(-EINVAL, hwpt_invalidate_raw(self->fd, v, type, 16, NULL, 1,
					       0, &done));
	ASSERT_EQ(0, done);
	done = 5;
	ASSERT_EQ(-EINVAL, hwpt_invalidate_raw(self->fd, v, type, 0, buf, 1,
					       0, &done));
	ASSERT_EQ(0, done);
	/* __reserved */
	done = 5;
	ASSERT_EQ(-EOPNOTSUPP, hwpt_invalidate_raw(self->fd, v, type, 16, buf,
						   1, 1, &done));
	ASSERT_EQ(0, done);
	done = 5;
	ASSERT_EQ(-EOPNOTSUPP, hwpt_invalidate_raw(self->fd, v, type, 16, buf,
						   0, 1U << 31, &done));
	ASSERT_EQ(0, done);

	/* hwpt_id: not a vIOMMU or nested HWPT, unknown, nested */
	for (i = 0; i < ARRAY_SIZE(einval); i++) {
		done = 5;
		ASSERT_EQ(-EINVAL, hwpt_invalidate_raw(self->fd, einval[i],
						       type, 16, buf, 1, 0,
						       &done))
			TH_LOG("hwpt_id %u", einval[i]);
		ASSERT_EQ(0, done);
	}
	for (i = 0; i < ARRAY_SIZE(enoent); i++) {
		done = 5;
		ASSERT_EQ(-ENOENT, hwpt_invalidate_raw(self->fd, enoent[i],
						       type, 16, buf, 1, 0,
						       &done))
			TH_LOG("hwpt_id %u", enoent[i]);
		ASSERT_EQ(0, done);
	}
	for (i = 0; i < (unsigned int)self->n; i++) {
		done = 5;
		ASSERT_EQ(-EOPNOTSUPP,
			  hwpt_invalidate_raw(self->fd, self->nested[i], type,
					      16, buf, 1, 0, &done))
			TH_LOG("nested HWPT of device %u", i);
		ASSERT_EQ(0, done);
	}
	nest = nested_alloc_cfg(_metadata, self->fd, self->dev_id[0], v,
				SMMU_STE_CFG_ABORT);
	done = 5;
	ASSERT_EQ(-EOPNOTSUPP, hwpt_invalidate_raw(self->fd, nest, type, 16,
						   buf, 1, 0, &done));
	ASSERT_EQ(0, done);
	ASSERT_EQ(0, iommufd_destroy(self->fd, nest));

	/* None of it reached a queue */
	assert_logs(_metadata, self, 0, "argument errors");
	assert_no_cerror(_metadata, self);

	/* And the same array is fine */
	for (k = 0; k < 3; k++)
		exp_tlbi(_metadata, self, k, SMMU_OP_TLBI_NH_ALL, 0);
	assert_accepted(_metadata, self, (struct smmu_cmd *)buf, 3, "valid");
}

/* ---- IOMMU_HWPT_INVALIDATE: rejected commands ---------------------------- */

/*
 * Each accepted opcode, the opcode a pSMMU executes for it, and the
 * fields it may have set
 */
static const struct {
	const char *name;
	unsigned int op, psmmu_op;
	uint64_t ok0, ok1;
} accepted[] = {
	{ "TLBI_NSNH_ALL", SMMU_OP_TLBI_NSNH_ALL, SMMU_OP_TLBI_NH_ALL,
	  SMMU_CMD0_OP, 0 },
	{ "TLBI_NH_ALL", SMMU_OP_TLBI_NH_ALL, SMMU_OP_TLBI_NH_ALL,
	  SMMU_CMD0_OP | SMMU_CMD0_VMID, 0 },
	{ "TLBI_NH_ASID", SMMU_OP_TLBI_NH_ASID, SMMU_OP_TLBI_NH_ASID,
	  SMMU_CMD0_OP | SMMU_CMD0_VMID | SMMU_CMD0_ASID, 0 },
	{ "TLBI_NH_VA", SMMU_OP_TLBI_NH_VA, SMMU_OP_TLBI_NH_VA,
	  SMMU_CMD0_OP | SMMU_CMD0_VMID | SMMU_CMD0_ASID | SMMU_CMD0_NUM |
	  SMMU_CMD0_SCALE,
	  SMMU_CMD1_LEAF | SMMU_CMD1_TTL | SMMU_CMD1_TG | SMMU_CMD1_ADDR },
	{ "TLBI_NH_VAA", SMMU_OP_TLBI_NH_VAA, SMMU_OP_TLBI_NH_VAA,
	  SMMU_CMD0_OP | SMMU_CMD0_VMID | SMMU_CMD0_NUM | SMMU_CMD0_SCALE,
	  SMMU_CMD1_LEAF | SMMU_CMD1_TTL | SMMU_CMD1_TG | SMMU_CMD1_ADDR },
	{ "ATC_INV", SMMU_OP_ATC_INV, SMMU_OP_ATC_INV,
	  SMMU_CMD0_OP | SMMU_CMD0_GLOBAL | SMMU_CMD0_SSV | SMMU_CMD0_SSID |
	  SMMU_CMD0_SID, SMMU_CMD1_ATC_SIZE | SMMU_CMD1_ADDR },
	{ "CFGI_CD", SMMU_OP_CFGI_CD, SMMU_OP_CFGI_CD,
	  SMMU_CMD0_OP | SMMU_CMD0_SSID | SMMU_CMD0_SID, SMMU_CMD1_LEAF },
	{ "CFGI_CD_ALL", SMMU_OP_CFGI_CD_ALL, SMMU_OP_CFGI_CD_ALL,
	  SMMU_CMD0_OP | SMMU_CMD0_SID, 0 },
};

static bool op_accepted(unsigned int op)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(accepted); i++) {
		if (accepted[i].op == op)
			return true;
	}
	return false;
}

/*
 * A valid command of accepted[@a] with no optional field set, naming
 * StreamID @sid if it names one; @psmmu: as the pSMMU executes it.
 */
static struct smmu_cmd base_cmd(unsigned int a, uint32_t sid, bool psmmu)
{
	struct smmu_cmd c = { { psmmu ? accepted[a].psmmu_op :
				    accepted[a].op, 0 } };

	if (smmu_op_sid_scoped(accepted[a].op))
		c.w[0] |= SMMU_CMD_SID(sid);
	if (accepted[a].ok1 & SMMU_CMD1_ADDR)
		c.w[1] = 0x5000;
	return c;
}

/* The prefix length of the @c-th rejected case: mostly short, some long */
static unsigned int case_index(unsigned int c)
{
	return c % 16 == 15 ? 100 + (c * 37) % 400 : c % 6;
}

/*
 * Every bit outside the fields of an accepted opcode -> EIO at its index,
 * the commands before it executed exactly, none after, no CERROR_ILL.
 */
TEST_F_TIMEOUT(vsmmu, inv_disallowed_bits, 600)
{
	unsigned int a, b, c = 0;

	attach_s1_all(_metadata, self);
	for (a = 0; a < ARRAY_SIZE(accepted); a++) {
		int i = a % self->n;
		struct smmu_cmd ok = base_cmd(a, VSID_FIXTURE + i, false);
		struct smmu_cmd e = base_cmd(a, SID_FIXTURE + i, true);

		if (smmu_op_sid_scoped(accepted[a].op))
			assert_accepted_dev(_metadata, self, i, &ok, &e,
					    accepted[a].name);
		else
			assert_accepted_tlbi(_metadata, self, &ok, &e,
					     accepted[a].name);
		for (b = 0; b < 128; b++) {
			uint64_t bit = 1ULL << (b % 64);
			uint64_t allowed = b < 64 ? accepted[a].ok0 :
						    accepted[a].ok1;
			struct smmu_cmd bad = ok;
			char what[64];

			if (allowed & bit)
				continue;
			bad.w[b / 64] |= bit;
			snprintf(what, sizeof(what), "%s word %u bit %u",
				 accepted[a].name, b / 64, b % 64);
			assert_rejected_at(_metadata, self, case_index(c++),
					   self->n, &bad, what);
		}
	}
	assert_no_cerror(_metadata, self);
	TH_LOG("%u commands with a disallowed bit rejected", c);
}

/* Every other opcode, bare or with a valid vSID -> EIO */
TEST_F_TIMEOUT(vsmmu, inv_other_opcodes, 600)
{
	unsigned int op, c = 0;

	attach_s1_all(_metadata, self);
	for (op = 0; op < 256; op++) {
		struct smmu_cmd bad = { { op, 0 } };
		char what[64];

		if (op_accepted(op))
			continue;
		snprintf(what, sizeof(what), "opcode 0x%02x", op);
		assert_rejected_at(_metadata, self, case_index(c++), self->n,
				   &bad, what);
		bad.w[0] |= SMMU_CMD_SID(VSID_FIXTURE);
		bad.w[1] = SMMU_CMD1_LEAF;
		snprintf(what, sizeof(what), "opcode 0x%02x with vSID", op);
		assert_rejected_at(_metadata, self, case_index(c++), self->n,
				   &bad, what);
	}
	/* The very CMD_SYNC the kernel appends, and CFGI_STE(vSID) */
	{
		struct smmu_cmd sync = SMMU_CMD(SMMU_OP_CMD_SYNC |
						SMMU_CMD_SYNC_CS(SMMU_SYNC_CS_SEV),
						0);
		struct smmu_cmd ste = SMMU_CMD(SMMU_OP_CFGI_STE |
					       SMMU_CMD_SID(VSID_FIXTURE),
					       SMMU_CMD1_LEAF);

		assert_rejected_at(_metadata, self, 2, self->n, &sync,
				   "CMD_SYNC");
		assert_rejected_at(_metadata, self, 0, self->n, &sync,
				   "CMD_SYNC");
		assert_rejected_at(_metadata, self, 3, self->n, &ste,
				   "CFGI_STE");
	}
	assert_no_cerror(_metadata, self);
	TH_LOG("%u commands with other opcodes rejected", c);
}

/* Values: range rules of TLBI_NH_VA/VAA, ATC_INV SIZE, 16-bit ASIDs */
TEST_F(vsmmu, inv_range_rules)
{
	static const struct {
		unsigned int tg, ttl, num, scale;
		bool ok;
	} ranges[] = {
		{ 0, 0, 0, 0, true },
		{ 0, 1, 0, 0, false },		/* TG 0: no TTL... */
		{ 0, 3, 0, 0, false },
		{ 0, 0, 1, 0, false },		/* ...no NUM... */
		{ 0, 0, 31, 0, false },
		{ 0, 0, 0, 1, false },		/* ...no SCALE */
		{ 0, 0, 0, 31, false },
		{ 0, 3, 31, 31, false },
		{ 1, 0, 0, 0, false },		/* reserved */
		{ 2, 0, 0, 0, false },
		{ 3, 0, 0, 0, false },
		{ 2, 1, 0, 0, false },		/* 16K, TTL 1: needs DS */
		{ 2, 1, 7, 3, false },
		{ 1, 1, 0, 0, true },
		{ 1, 2, 0, 0, true },
		{ 1, 3, 0, 0, true },
		{ 2, 2, 0, 0, true },
		{ 2, 3, 0, 0, true },
		{ 3, 1, 0, 0, true },
		{ 3, 3, 0, 0, true },
		{ 1, 0, 1, 0, true },
		{ 1, 0, 0, 1, true },
		{ 2, 0, 5, 0, true },
		{ 3, 0, 0, 31, true },
		{ 1, 3, 31, 31, true },
		{ 2, 2, 31, 31, true },
	};
	unsigned int r, va, size, c = 0;

	attach_s1_all(_metadata, self);
	for (r = 0; r < ARRAY_SIZE(ranges); r++) {
		for (va = 0; va < 2; va++) {
			struct smmu_cmd cmd, e;
			char what[80];

			smmu_cmd_nh_va(cmd.w, 3, va ? 7 : -1, 0x12345000,
				       r & 1, ranges[r].tg, ranges[r].ttl,
				       ranges[r].num, ranges[r].scale);
			smmu_cmd_nh_va(e.w, 0, va ? 7 : -1, 0x12345000,
				       r & 1, ranges[r].tg, ranges[r].ttl,
				       ranges[r].num, ranges[r].scale);
			snprintf(what, sizeof(what),
				 "%s TG %u TTL %u NUM %u SCALE %u",
				 va ? "TLBI_NH_VA" : "TLBI_NH_VAA",
				 ranges[r].tg, ranges[r].ttl, ranges[r].num,
				 ranges[r].scale);
			if (ranges[r].ok)
				assert_accepted_tlbi(_metadata, self, &cmd, &e,
						     what);
			else
				assert_rejected_at(_metadata, self,
						   case_index(c++), self->n,
						   &cmd, what);
		}
	}
	for (size = 0; size < 64; size++) {
		int i = size % self->n;
		struct smmu_cmd cmd, e;
		char what[64];

		smmu_cmd_atc_inv(cmd.w, VSID_FIXTURE + i,
				 size & 1 ? (int)size : -1, size & 2,
				 0xabc000, size);
		smmu_cmd_atc_inv(e.w, SID_FIXTURE + i,
				 size & 1 ? (int)size : -1, size & 2,
				 0xabc000, size);
		snprintf(what, sizeof(what), "ATC_INV SIZE %u", size);
		if (size <= SMMU_ATC_SIZE_ALL)
			assert_accepted_dev(_metadata, self, i, &cmd, &e, what);
		else
			assert_rejected_at(_metadata, self, case_index(c++),
					   self->n, &cmd, what);
	}
	{
		struct smmu_cmd cmd, e;

		smmu_cmd_nh_asid(cmd.w, 0xffff, 0xffff);
		smmu_cmd_nh_asid(e.w, 0, 0xffff);
		assert_accepted_tlbi(_metadata, self, &cmd, &e, "ASID 0xffff");
		smmu_cmd_nh_va(cmd.w, 0, 0xffff, ~0xfffULL, 1, 0, 0, 0, 0);
		assert_accepted_tlbi(_metadata, self, &cmd, &cmd,
				     "VA ASID 0xffff");
	}
	assert_no_cerror(_metadata, self);
}

/*
 * Unknown vSIDs: none, a physical SID, one of another vIOMMU, one whose
 * vDEVICE was destroyed -> EIO at their index. Recreated, it works again.
 */
TEST_F(vsmmu, inv_unknown_vsid)
{
	static const unsigned int ops[] = {
		SMMU_OP_CFGI_CD, SMMU_OP_CFGI_CD_ALL, SMMU_OP_ATC_INV,
	};
	uint32_t devx, devx_id, v2, vdx, vd, done;
	int last = self->n - 1, i;
	unsigned int o, s, c = 0;
	struct smmu_cmd cmd;

	for (i = 0; i < last; i++)
		attach_s1(_metadata, self, i);
	ASSERT_EQ(0, mock_dev_create_bind(self->mfd, self->fd, last,
					  SID_EXTRA + last, &devx, &devx_id));
	ASSERT_EQ(0, viommu_alloc_smmu(self->fd, self->n > 1, self->dev_id[0],
				       self->s2_id, &v2));
	ASSERT_EQ(0, vdevice_alloc(self->fd, v2, devx_id, VSID_EXTRA, &vdx));

	for (o = 0; o < ARRAY_SIZE(ops); o++) {
		const uint32_t vsids[] = {
			VSID_UNKNOWN, VSID_FIXTURE + self->n, SID_FIXTURE,
			SID_FIXTURE + last, VSID_EXTRA, ~0U, 0,
		};

		for (s = 0; s < ARRAY_SIZE(vsids); s++) {
			char what[64];

			cmd.w[0] = ops[o] | SMMU_CMD_SID(vsids[s]);
			cmd.w[1] = ops[o] == SMMU_OP_ATC_INV ?
				   SMMU_ATC_SIZE_ALL : 0;
			snprintf(what, sizeof(what), "op 0x%02x vSID 0x%x",
				 ops[o], vsids[s]);
			assert_rejected_at(_metadata, self, case_index(c++),
					   self->n, &cmd, what);
		}
	}

	/* VSID_EXTRA is known on v2, for devx */
	smmu_cmd_cfgi_cd_all(cmd.w, VSID_EXTRA);
	logs_clear(_metadata, self);
	ASSERT_EQ(0, viommu_invalidate_smmu(self->fd, v2, cmd.w, 1, &done));
	ASSERT_EQ(1, done);
	vsmmu_expect_reset(&self->x);
	exp_dev(self, 0, last, SMMU_CMD(SMMU_OP_CFGI_CD_ALL |
					SMMU_CMD_SID(SID_EXTRA + last), 0));
	assert_logs(_metadata, self, 1, "vSID of v2");

	/* A destroyed vDEVICE's vSID, for each opcode */
	ASSERT_EQ(0, iommufd_destroy(self->fd, self->vdev_id[last]));
	for (o = 0; o < ARRAY_SIZE(ops); o++) {
		cmd = SMMU_CMD(ops[o] | SMMU_CMD_SID(VSID_FIXTURE + last), 0);
		assert_rejected_at(_metadata, self, case_index(c++), last,
				   &cmd, "destroyed vDEVICE");
	}
	/* As is the vSID of an unbound device */
	ASSERT_EQ(0, mock_dev_unbind(self->mfd, devx));
	smmu_cmd_cfgi_cd_all(cmd.w, VSID_EXTRA);
	logs_clear(_metadata, self);
	done = 5;
	ASSERT_EQ(-EIO, viommu_invalidate_smmu(self->fd, v2, cmd.w, 1, &done));
	ASSERT_EQ(0, done);
	vsmmu_expect_reset(&self->x);
	assert_logs(_metadata, self, 0, "unbound");

	/* Recreated, it is known again */
	ASSERT_EQ(0, vdevice_alloc(self->fd, self->viommu_id,
				   self->dev_id[last], VSID_FIXTURE + last,
				   &vd));
	for (o = 0; o < ARRAY_SIZE(ops); o++) {
		struct smmu_cmd e = SMMU_CMD(ops[o] |
					     SMMU_CMD_SID(SID_FIXTURE + last),
					     0);

		cmd = SMMU_CMD(ops[o] | SMMU_CMD_SID(VSID_FIXTURE + last), 0);
		assert_accepted_dev(_metadata, self, last, &cmd, &e,
				    "recreated");
	}
	assert_no_cerror(_metadata, self);
}

/*
 * An array whose entry i starts on an unmapped page -> EFAULT, entry_num i,
 * entries 0..i-1 executed exactly, none after.
 */
TEST_F(vsmmu, inv_efault)
{
	static const unsigned int idx[] = {
		0, 1, 7, 63, 64, 65, 127, 128, 129, 255, 256, 257, 328, 511,
		512,
	};
	long pg = sysconf(_SC_PAGESIZE);
	unsigned int t, k;
	char *map;

	attach_s1_all(_metadata, self);
	map = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, munmap(map + 2 * pg, pg));

	for (t = 0; t < ARRAY_SIZE(idx); t++) {
		struct smmu_cmd *g = (struct smmu_cmd *)(map + 2 * pg) - idx[t];
		uint32_t done = ~0U;

		ASSERT_GE(2 * pg, idx[t] * sizeof(*g));
		vsmmu_expect_reset(&self->x);
		for (k = 0; k < idx[t]; k++)
			g[k] = gen_cmd(_metadata, self, k, self->n);
		logs_clear(_metadata, self);
		ASSERT_EQ(-EFAULT, inv(self, g, idx[t] + 5, &done))
			TH_LOG("unmapped from entry %u", idx[t]);
		ASSERT_EQ(idx[t], done);
		assert_logs(_metadata, self, idx[t], "EFAULT");
	}
	/* All unmapped */
	{
		uint32_t done = ~0U;

		logs_clear(_metadata, self);
		ASSERT_EQ(-EFAULT, inv(self, (struct smmu_cmd *)(map + 2 * pg), 1,
				       &done));
		ASSERT_EQ(0, done);
		vsmmu_expect_reset(&self->x);
		assert_logs(_metadata, self, 0, "unmapped");
	}
	ASSERT_EQ(0, munmap(map, 2 * pg));
	assert_no_cerror(_metadata, self);
}

/* ---- IOMMU_HWPT_INVALIDATE: failing pSMMUs ----------------------------- */

/*
 * A batch of @num commands in which the failing pSMMU @f gets its first
 * command at @first: CFGI_CD of device @f, or with @tlbi a TLBI_NH_ASID
 * (then @f holds a stage 1, and nothing before @first is a TLBI). Before
 * @first, CFGI_CD of the other devices and (without @tlbi) TLBIs, which @f
 * does not get then. Every command carries its index in its SSID or ASID.
 * What the pSMMUs must execute for it goes to self->x.
 */
static void fault_batch(struct __test_metadata *_metadata,
			struct _test_data_vsmmu *self, struct smmu_cmd *g,
			unsigned int num, unsigned int first, bool tlbi, int f)
{
	struct smmu_cmd e;
	unsigned int k;

	vsmmu_expect_reset(&self->x);
	for (k = 0; k < num; k++) {
		/* A device other than f's, -1 if there is none */
		int d = self->n > 1 ? k % (self->n - 1) : -1;

		if (d >= f)
			d++;
		if (k == first && tlbi)
			d = -1;
		else if (k == first || (k > first && k % 3 == 0))
			d = f;
		else if (k % 2 == 0 && (k > first || !tlbi))
			d = -1;
		if (d >= 0) {
			smmu_cmd_cfgi_cd(g[k].w, VSID_FIXTURE + d, k, 0);
			smmu_cmd_cfgi_cd(e.w, SID_FIXTURE + d, k, 0);
			exp_dev(self, k, d, e);
		} else {
			smmu_cmd_nh_asid(g[k].w, 0x99, k);
			smmu_cmd_nh_asid(e.w, 0, k);
			exp_tlbi(_metadata, self, k, e.w[0], e.w[1]);
		}
	}
}

/*
 * @kind hits pSMMU @f at its first command, guest command @first of @num:
 * the call fails with entry_num @first. Every command before it executed;
 * past it some may have, in order on each pSMMU, but not the failed one,
 * and nothing after the failed sync of @f.
 */
static void run_fault_on(struct __test_metadata *_metadata,
			 struct _test_data_vsmmu *self, uint32_t kind,
			 unsigned int first, unsigned int num, bool tlbi, int f)
{
	int want = kind == MOCK_SMMU_FAULT_SYNC_TIMEOUT ? -ETIMEDOUT : -EIO;
	struct vsmmu_end end = {
		.done = first,
		.failed_psmmu = f,
		.not_run = kind == MOCK_SMMU_FAULT_CMD_ERROR ? first : ~0U,
	};
	uint32_t done = ~0U;
	char what[64];

	ASSERT_GE(ARRAY_SIZE(batch), num);
	fault_batch(_metadata, self, batch, num, first, tlbi, f);
	logs_clear(_metadata, self);
	ASSERT_EQ(0, mock_inject_fault(self->mfd, f, kind));
	ASSERT_EQ(want, inv(self, batch, num, &done))
		TH_LOG("fault %u on pSMMU %d at %u", kind, f, first);
	ASSERT_EQ(first, done) TH_LOG("fault %u on pSMMU %d", kind, f);
	snprintf(what, sizeof(what), "fault %u at %u of %u", kind, first, num);
	vsmmu_assert_logs(_metadata, self->mfd, &self->x, &end, what);

	/* The next call works */
	fault_batch(_metadata, self, batch, 16, 0, tlbi, f);
	assert_accepted(_metadata, self, batch, 16, "after the fault");
	assert_no_cerror(_metadata, self);
}

/* The fault on the last pSMMU, the last one the dispatcher waits for */
static void run_fault(struct __test_metadata *_metadata,
		      struct _test_data_vsmmu *self, uint32_t kind,
		      unsigned int first, unsigned int num, bool tlbi)
{
	run_fault_on(_metadata, self, kind, first, num, tlbi, self->n - 1);
}

/* The pSMMU under fault holds no stage 1: only CFGI_CD reaches it */
static void fault_setup_cfgi(struct __test_metadata *_metadata,
			     struct _test_data_vsmmu *self)
{
	int i;

	for (i = 0; i < self->n - 1; i++)
		attach_s1(_metadata, self, i);
}

TEST_F_TIMEOUT(vsmmu, inv_fault_cmd_error, 120)
{
	fault_setup_cfgi(_metadata, self);
	/* The first command of the call */
	run_fault(_metadata, self, MOCK_SMMU_FAULT_CMD_ERROR, 0, 10, false);
	/* Early, in the middle and at the end of longer calls */
	run_fault(_metadata, self, MOCK_SMMU_FAULT_CMD_ERROR, 37, 100, false);
	run_fault(_metadata, self, MOCK_SMMU_FAULT_CMD_ERROR, 133, 364, false);
	run_fault(_metadata, self, MOCK_SMMU_FAULT_CMD_ERROR, 256, 384, false);
	run_fault(_metadata, self, MOCK_SMMU_FAULT_CMD_ERROR, 383, 384, false);
	run_fault(_metadata, self, MOCK_SMMU_FAULT_CMD_ERROR, 700, 1000,
		  false);
}

/* A TLBI fanned out to several pSMMUs, one of which fails */
TEST_F_TIMEOUT(vsmmu, inv_fault_cmd_error_tlbi, 120)
{
	if (self->n < 2)
		SKIP(return, "needs 2 pSMMUs");
	attach_s1_all(_metadata, self);
	run_fault(_metadata, self, MOCK_SMMU_FAULT_CMD_ERROR, 11, 60, true);
	run_fault(_metadata, self, MOCK_SMMU_FAULT_CMD_ERROR, 137, 286, true);
}

/* Each time-out costs the module's sync_timeout_ms (1 s by default) */
TEST_F_TIMEOUT(vsmmu, inv_fault_sync_timeout, 120)
{
	fault_setup_cfgi(_metadata, self);
	run_fault(_metadata, self, MOCK_SMMU_FAULT_SYNC_TIMEOUT, 133, 364,
		  false);
	if (self->n > 1) {
		int i;

		for (i = 0; i < self->n; i++) {
			if (!self->s1[i])
				attach_s1(_metadata, self, i);
		}
		run_fault(_metadata, self, MOCK_SMMU_FAULT_SYNC_TIMEOUT, 40,
			  256, true);
	}
}

/*
 * The fault on pSMMU 0, whose CMD_SYNC is waited for first while those of
 * the others are outstanding: the error of the first wait must not lose
 * the others' completions, nor theirs its entry_num. A TLBI fanned out to
 * every pSMMU reaches them all in the round that fails.
 */
TEST_F_TIMEOUT(vsmmu, inv_fault_first_waited, 120)
{
	if (self->n < 2)
		SKIP(return, "needs 2 pSMMUs");
	attach_s1_all(_metadata, self);
	run_fault_on(_metadata, self, MOCK_SMMU_FAULT_CMD_ERROR, 11, 60, true,
		     0);
	run_fault_on(_metadata, self, MOCK_SMMU_FAULT_CMD_ERROR, 137, 286,
		     true, 0);
	run_fault_on(_metadata, self, MOCK_SMMU_FAULT_SYNC_TIMEOUT, 40, 256,
		     true, 0);
}

TEST_HARNESS_MAIN
