// SPDX-License-Identifier: GPL-2.0-only
/*
 * The vSMMU invalidation dispatcher: IOMMU_HWPT_INVALIDATE on a vIOMMU with
 * IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3, checked against what each mock
 * pSMMU really executed (MOCK_SMMU_CMDQ_LOG), its counters and its cache
 * model.
 *
 * The rules under test are those of iommufd_vsmmu_contract.h: each pSMMU
 * executes exactly the rewritten commands it needs, in the guest's order,
 * and a CMD_SYNC after them; how many syncs come between them is the
 * kernel's choice.
 *
 * Covered: a routing table of every accepted opcode for several placements
 * of stage-1 and bypass nested HWPTs; the fan-out under attach, replace,
 * detach and moves to another vIOMMU; every CMD_SYNC of a call written
 * before any is waited for; the exact per-pSMMU order in batches
 * of many lengths; which cache model entries disappear where; 2^19 commands
 * in one call; invalidations racing with vDEVICE destroy/recreate; vSIDs
 * reused by another device and failed vDEVICE allocations (the route
 * table).
 *
 * The fixture runs with 1, 2 and 4 pSMMUs carrying devices (skipped when
 * the module has fewer). Each of them gets two devices whose physical SIDs
 * are the same on every pSMMU, so only the routing tells them apart; their
 * vSIDs are all different and use the top bit of the 32-bit vSID. With
 * more than one pSMMU the vIOMMU spans every pSMMU of the module
 * (IOMMU_VIOMMU_ALLOC_FLAG_SPAN), including any without devices, which
 * must then receive nothing.
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "iommufd_vsmmu_contract.h"

#define MAX_PSMMUS		VSMMU_MAX_PSMMUS
#define VMAX			4	/* pSMMUs with devices, at most */
#define DEVS			2	/* devices per pSMMU */
#define LOG_SIZE		MOCK_SMMU_CMDQ_LOG_SIZE
/* IOMMU_HWPT_INVALIDATE's entry_num cap (Debian 6.12) */
#define MAX_ENTRIES		0x80000U	/* 2^19 */

/* Physical SIDs: the same on every pSMMU */
#define PSID(j)			(0x40 + (j))
#define PSID_OTHER		0x999	/* no device uses it */
/* Virtual SIDs: one per device, with the top bit of the field set */
#define VSID(p, j)		(0x8000a000U + (p) * 0x10 + (j))
/* Guest CD table of a device's stage-1 STE */
#define CDPTR(p, j)		(0x40000000ULL + (p) * 0x10000 + (j) * 0x1000)

/* How a device is attached */
enum {
	AT_NONE,	/* detached (abort STE) */
	AT_S2,		/* the plain nesting parent */
	AT_S1,		/* a stage-1 nested HWPT of the fixture's vIOMMU */
	AT_BYP,		/* a bypass nested HWPT of the fixture's vIOMMU */
	AT_OTHER,	/* a stage-1 nested HWPT of another vIOMMU */
};

static struct smmu_cmd log_buf[LOG_SIZE];

static void clear_logs(struct __test_metadata *_metadata, int mfd, int nr)
{
	int p;

	for (p = 0; p < nr; p++)
		ASSERT_EQ(0, mock_cmdq_log_clear(mfd, p));
}

/* FIXTURE_DATA(dispatch) is struct _test_data_dispatch */
FIXTURE(dispatch)
{
	int fd;
	int mfd;
	int nr;			/* pSMMUs of the module */
	int n;			/* pSMMUs with devices: 0..n-1 */
	uint32_t ioas_id;
	uint32_t parent;	/* the nesting parent (stage 2) */
	uint32_t viommu;	/* spanning when n > 1 */
	uint32_t dev[VMAX][DEVS];
	uint32_t dev_id[VMAX][DEVS];
	uint32_t vdev[VMAX][DEVS];
	uint32_t s1[VMAX][DEVS];	/* stage-1 nested HWPT of viommu */
	uint32_t byp[VMAX][DEVS];	/* bypass nested HWPT of viommu */
	int att[VMAX][DEVS];		/* AT_* */
	uint16_t vmid[VMAX];		/* viommu's VMID on each pSMMU */
	struct vsmmu_expect x;		/* what the pSMMUs must execute */
};

FIXTURE_VARIANT(dispatch)
{
	int psmmus;
};

FIXTURE_VARIANT_ADD(dispatch, psmmus_1)
{
	.psmmus = 1,
};

FIXTURE_VARIANT_ADD(dispatch, psmmus_2)
{
	.psmmus = 2,
};

FIXTURE_VARIANT_ADD(dispatch, psmmus_4)
{
	.psmmus = 4,
};

static void attach(struct __test_metadata *_metadata,
		   struct _test_data_dispatch *self, int p, int j, int how)
{
	uint32_t pt = how == AT_S1 ? self->s1[p][j] :
		      how == AT_BYP ? self->byp[p][j] : self->parent;
	uint32_t out = 0;

	ASSERT_NE(AT_OTHER, how);
	if (how == AT_NONE) {
		ASSERT_EQ(0, mock_dev_detach(self->mfd, self->dev[p][j]));
	} else {
		ASSERT_EQ(0, mock_dev_attach(self->mfd, self->dev[p][j], pt,
					     &out))
			TH_LOG("pSMMU %d device %d to %u", p, j, pt);
		ASSERT_EQ(pt, out);
	}
	self->att[p][j] = how;
}

/* A device of pSMMU @p is attached to a stage-1 HWPT of the vIOMMU */
static int s1_on(struct _test_data_dispatch *self, int p)
{
	int j;

	if (p >= self->n)
		return 0;
	for (j = 0; j < DEVS; j++)
		if (self->att[p][j] == AT_S1)
			return 1;
	return 0;
}

/* nested_attached of every pSMMU matches the attachments */
static void assert_nested_counters(struct __test_metadata *_metadata,
				   struct _test_data_dispatch *self)
{
	struct mock_smmu_counters cnt;
	uint64_t want;
	int p, j;

	for (p = 0; p < self->nr; p++) {
		want = 0;
		for (j = 0; p < self->n && j < DEVS; j++)
			want += self->att[p][j] == AT_S1 ||
				self->att[p][j] == AT_OTHER;
		ASSERT_EQ(0, mock_get_counters(self->mfd, p, &cnt));
		ASSERT_EQ(want, cnt.nested_attached) TH_LOG("pSMMU %d", p);
	}
}

/*
 * Guest command @gidx for device (@p, @j), from its words without the
 * StreamID: the guest names the device by its vSID, pSMMU @p must execute
 * the command with its physical SID.
 */
static struct smmu_cmd expect_dev(struct _test_data_dispatch *self,
				  uint32_t gidx, int p, int j, uint64_t w0,
				  uint64_t w1)
{
	vsmmu_expect_add(&self->x, p, gidx,
			 SMMU_CMD(w0 | SMMU_CMD_SID(PSID(j)), w1));
	return SMMU_CMD(w0 | SMMU_CMD_SID(VSID(p, j)), w1);
}

/*
 * Guest TLBI @g at @gidx: each pSMMU with a stage-1 device of the vIOMMU
 * must execute (@e0, @e1) with the vIOMMU's VMID there.
 */
static struct smmu_cmd expect_tlbi(struct _test_data_dispatch *self,
				   uint32_t gidx, struct smmu_cmd g,
				   uint64_t e0, uint64_t e1)
{
	int q;

	for (q = 0; q < self->n; q++) {
		if (s1_on(self, q))
			vsmmu_expect_add(&self->x, q, gidx,
					 SMMU_CMD(e0 |
						  SMMU_CMD_VMID(self->vmid[q]),
						  e1));
	}
	return g;
}

FIXTURE_SETUP(dispatch)
{
	int p, j, vmid;

	if (!viommu_fixture_open(_metadata, &self->fd, &self->mfd,
				 &self->nr, MAX_PSMMUS, variant->psmmus))
		return;
	self->n = variant->psmmus;

	ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas_id));
	for (p = 0; p < self->n; p++) {
		for (j = 0; j < DEVS; j++) {
			ASSERT_EQ(0, mock_dev_create_bind(self->mfd, self->fd,
							  p, PSID(j),
							  &self->dev[p][j],
							  &self->dev_id[p][j]));
		}
	}
	ASSERT_EQ(0, hwpt_alloc_nest_parent(self->fd, self->dev_id[0][0],
					    self->ioas_id, &self->parent));
	for (p = 0; p < self->n; p++)
		for (j = 0; j < DEVS; j++)
			attach(_metadata, self, p, j, AT_S2);

	ASSERT_EQ(0, viommu_alloc_smmu(self->fd, self->n > 1,
				       self->dev_id[0][0], self->parent,
				       &self->viommu));
	for (p = 0; p < self->n; p++) {
		for (j = 0; j < DEVS; j++) {
			ASSERT_EQ(0, vdevice_alloc(self->fd, self->viommu,
						   self->dev_id[p][j],
						   VSID(p, j),
						   &self->vdev[p][j]));
			ASSERT_EQ(0, hwpt_alloc_nested_s1(self->fd,
							  self->dev_id[p][j],
							  self->viommu,
							  CDPTR(p, j),
							  &self->s1[p][j]));
			ASSERT_EQ(0, hwpt_alloc_nested_bypass(self->fd,
							      self->dev_id[p][j],
							      self->viommu,
							      &self->byp[p][j]));
		}
		/* The vIOMMU's VMID there, from a nested STE */
		attach(_metadata, self, p, 0, AT_BYP);
		vmid = mock_ste_vmid(self->mfd, p, PSID(0));
		ASSERT_LT(0, vmid);
		self->vmid[p] = vmid;
		attach(_metadata, self, p, 0, AT_S2);
	}
	for (p = 0; p < self->nr; p++) {
		ASSERT_EQ(0, mock_cmdq_log_clear(self->mfd, p));
		ASSERT_EQ(0, mock_cache_fill(self->mfd, p, NULL, 0));
	}
	ASSERT_EQ(0, vsmmu_expect_init(&self->x, self->nr, LOG_SIZE));
}

FIXTURE_TEARDOWN(dispatch)
{
	vsmmu_expect_free(&self->x);
	close(self->mfd);
	close(self->fd);
}

/* ---- Routing table ------------------------------------------------------ */

/* Device-scoped commands: word 0 without the SID, which names the device */
static const struct {
	const char *name;
	uint64_t w0;
	uint64_t w1;
} route_dev[] = {
	{ "CFGI_CD", SMMU_OP_CFGI_CD | SMMU_CMD_SSID(0x123), SMMU_CMD1_LEAF },
	{ "CFGI_CD SSID 0", SMMU_OP_CFGI_CD, 0 },
	{ "CFGI_CD_ALL", SMMU_OP_CFGI_CD_ALL, 0 },
	{ "ATC_INV SSV", SMMU_OP_ATC_INV | SMMU_CMD0_SSV | SMMU_CMD_SSID(0xfffff),
	  0x10000 | SMMU_CMD_ATC_SIZE(4) },
	{ "ATC_INV GLOBAL", SMMU_OP_ATC_INV | SMMU_CMD0_GLOBAL, SMMU_CMD_ATC_SIZE(52) },
};

/*
 * VMID-scoped commands as the guest writes them (any VMID), and what a
 * pSMMU must execute, before its VMID is put in.
 */
static const struct {
	const char *name;
	uint64_t g0, g1;
	uint64_t e0, e1;
} route_tlbi[] = {
	{ "TLBI_NH_ALL", SMMU_OP_TLBI_NH_ALL | SMMU_CMD_VMID(0x77), 0,
	  SMMU_OP_TLBI_NH_ALL, 0 },
	{ "TLBI_NH_ASID", SMMU_OP_TLBI_NH_ASID | SMMU_CMD_VMID(1) | SMMU_CMD_ASID(0xbeef), 0,
	  SMMU_OP_TLBI_NH_ASID | SMMU_CMD_ASID(0xbeef), 0 },
	{ "TLBI_NH_VA", SMMU_OP_TLBI_NH_VA | SMMU_CMD_ASID(0x42),
	  0x12345000 | SMMU_CMD1_LEAF,
	  SMMU_OP_TLBI_NH_VA | SMMU_CMD_ASID(0x42), 0x12345000 | SMMU_CMD1_LEAF },
	{ "TLBI_NH_VA range",
	  SMMU_OP_TLBI_NH_VA | SMMU_CMD_VMID(0xffff) | SMMU_CMD_ASID(7) | SMMU_CMD_NUM(3) |
	  SMMU_CMD_SCALE(2), 0x40000000 | SMMU_CMD_TG(1) | SMMU_CMD_TTL(3),
	  SMMU_OP_TLBI_NH_VA | SMMU_CMD_ASID(7) | SMMU_CMD_NUM(3) | SMMU_CMD_SCALE(2),
	  0x40000000 | SMMU_CMD_TG(1) | SMMU_CMD_TTL(3) },
	{ "TLBI_NH_VAA range", SMMU_OP_TLBI_NH_VAA | SMMU_CMD_VMID(5) | SMMU_CMD_NUM(1),
	  0xfff000000ULL | SMMU_CMD_TG(3) | SMMU_CMD_TTL(1) | SMMU_CMD1_LEAF,
	  SMMU_OP_TLBI_NH_VAA | SMMU_CMD_NUM(1),
	  0xfff000000ULL | SMMU_CMD_TG(3) | SMMU_CMD_TTL(1) | SMMU_CMD1_LEAF },
	{ "TLBI_NH_VAA", SMMU_OP_TLBI_NH_VAA, 0x8000, SMMU_OP_TLBI_NH_VAA, 0x8000 },
	{ "TLBI_NSNH_ALL", SMMU_OP_TLBI_NSNH_ALL, 0, SMMU_OP_TLBI_NH_ALL, 0 },
};

#define ROUTE_DEV	ARRAY_SIZE(route_dev)
#define ROUTE_TLBI	ARRAY_SIZE(route_tlbi)
#define ROUTE_MAX	(ROUTE_DEV * VMAX * DEVS + ROUTE_TLBI)

struct route {
	char name[48];
	struct smmu_cmd g;
	int p;			/* pSMMU of the device, -1: VMID-scoped */
	struct smmu_cmd e;	/* exact, or without VMID when VMID-scoped */
};

/* What the table says entry @r, guest command @gidx, becomes */
static void route_expect(struct _test_data_dispatch *self,
			 const struct route *r, uint32_t gidx)
{
	if (r->p >= 0)
		vsmmu_expect_add(&self->x, r->p, gidx, r->e);
	else
		expect_tlbi(self, gidx, r->g, r->e.w[0], r->e.w[1]);
}

/*
 * Each accepted opcode, for devices on every pSMMU and as TLBIs, under
 * several placements of stage-1 nested HWPTs: one command per call, then
 * the whole table as one call. The logs must hold exactly the rewritten
 * words on exactly the right pSMMUs, in order, and a CMD_SYNC after them.
 */
TEST_F(dispatch, routing_table)
{
	static struct route table[ROUTE_MAX];
	static struct smmu_cmd batch[ROUTE_MAX];
	uint64_t all = (1ULL << self->n) - 1, masks[4];
	uint64_t ill[MAX_PSMMUS];
	struct mock_smmu_counters cnt;
	unsigned int k, m, num_masks = 0, num;
	uint32_t done;
	uint64_t ste[4];
	int p, j;

	/* CERROR_ILL counts since load; other programs raise some on purpose */
	for (p = 0; p < self->nr; p++) {
		ASSERT_EQ(0, mock_get_counters(self->mfd, p, &cnt));
		ill[p] = cnt.cerror_ill;
	}
	masks[num_masks++] = all;
	masks[num_masks++] = 0;
	if (self->n > 1) {
		masks[num_masks++] = all & 0x5555;
		masks[num_masks++] = 1ULL << (self->n - 1);
	}

	for (m = 0; m < num_masks; m++) {
		/*
		 * pSMMUs of the mask: a stage-1 device and a bypass one;
		 * the others: a bypass device and a plain stage-2 one.
		 */
		for (p = 0; p < self->n; p++) {
			if (masks[m] & (1ULL << p)) {
				attach(_metadata, self, p, 0, AT_S1);
				attach(_metadata, self, p, 1, AT_BYP);
			} else {
				attach(_metadata, self, p, 0, AT_BYP);
				attach(_metadata, self, p, 1, AT_S2);
			}
			ASSERT_EQ(!!(masks[m] & (1ULL << p)), s1_on(self, p));
		}
		assert_nested_counters(_metadata, self);
		for (p = 0; p < self->n; p++) {
			ASSERT_EQ(0, mock_get_ste(self->mfd, p, PSID(0), ste));
			ASSERT_EQ(self->vmid[p], ste[2] & SMMU_STE2_S2VMID);
			ASSERT_EQ(masks[m] & (1ULL << p) ?
				  SMMU_STE_CFG_NESTED : SMMU_STE_CFG_S2_TRANS,
				  SMMU_STE_CFG(ste[0]));
		}

		num = 0;
		for (p = 0; p < self->n; p++) {
			for (j = 0; j < DEVS; j++) {
				for (k = 0; k < ROUTE_DEV; k++) {
					struct route *r = &table[num++];

					snprintf(r->name, sizeof(r->name),
						 "%s pSMMU %d dev %d",
						 route_dev[k].name, p, j);
					r->p = p;
					r->g = SMMU_CMD(route_dev[k].w0 |
							SMMU_CMD_SID(VSID(p, j)),
							route_dev[k].w1);
					r->e = SMMU_CMD(route_dev[k].w0 |
							SMMU_CMD_SID(PSID(j)),
							route_dev[k].w1);
				}
			}
		}
		for (k = 0; k < ROUTE_TLBI; k++) {
			struct route *r = &table[num++];

			snprintf(r->name, sizeof(r->name), "%s",
				 route_tlbi[k].name);
			r->p = -1;
			r->g = SMMU_CMD(route_tlbi[k].g0, route_tlbi[k].g1);
			r->e = SMMU_CMD(route_tlbi[k].e0, route_tlbi[k].e1);
		}

		/* One command per call */
		clear_logs(_metadata, self->mfd, self->nr);
		for (k = 0; k < num; k++) {
			vsmmu_expect_reset(&self->x);
			route_expect(self, &table[k], 0);
			ASSERT_EQ(0, viommu_invalidate_smmu(self->fd, self->viommu,
							    &table[k].g, 1, &done))
				TH_LOG("%s, S1 mask 0x%llx", table[k].name,
				       (unsigned long long)masks[m]);
			ASSERT_EQ(1, done);
			vsmmu_assert_logs_done(_metadata, self->mfd, &self->x,
					       1, table[k].name);
		}

		/* The whole table in one call */
		vsmmu_expect_reset(&self->x);
		for (k = 0; k < num; k++) {
			batch[k] = table[k].g;
			route_expect(self, &table[k], k);
		}
		ASSERT_EQ(0, viommu_invalidate_smmu(self->fd, self->viommu,
						    batch, num, &done));
		ASSERT_EQ(num, done);
		vsmmu_assert_logs_done(_metadata, self->mfd, &self->x, num,
				       "whole table");
	}

	for (p = 0; p < self->nr; p++) {
		ASSERT_EQ(0, mock_get_counters(self->mfd, p, &cnt));
		ASSERT_EQ(ill[p], cnt.cerror_ill) TH_LOG("pSMMU %d", p);
	}
}

/* ---- Fan-out under attach/detach/replace -------------------------------- */

/*
 * Send TLBI_NSNH_ALL and TLBI_NH_ASID to @viommu: exactly the pSMMUs of
 * @mask must execute them, as TLBI_NH_ALL and TLBI_NH_ASID of @vmid[q].
 */
static void probe_fanout(struct __test_metadata *_metadata,
			 struct _test_data_dispatch *self, uint32_t viommu,
			 uint64_t mask, const uint16_t *vmid, int line)
{
	const struct smmu_cmd g[2] = {
		SMMU_CMD(SMMU_OP_TLBI_NSNH_ALL, 0),
		SMMU_CMD(SMMU_OP_TLBI_NH_ASID | SMMU_CMD_ASID(3) |
			 SMMU_CMD_VMID(0x3333), 0),
	};
	char what[32];
	uint32_t done;
	int q;

	vsmmu_expect_reset(&self->x);
	for (q = 0; q < self->nr; q++) {
		if (!(mask & (1ULL << q)))
			continue;
		vsmmu_expect_add(&self->x, q, 0,
				 SMMU_CMD(SMMU_OP_TLBI_NH_ALL |
					  SMMU_CMD_VMID(vmid[q]), 0));
		vsmmu_expect_add(&self->x, q, 1,
				 SMMU_CMD(SMMU_OP_TLBI_NH_ASID |
					  SMMU_CMD_ASID(3) |
					  SMMU_CMD_VMID(vmid[q]), 0));
	}
	clear_logs(_metadata, self->mfd, self->nr);
	ASSERT_EQ(0, viommu_invalidate_smmu(self->fd, viommu, g, 2, &done))
		TH_LOG("line %d", line);
	ASSERT_EQ(2, done);
	snprintf(what, sizeof(what), "line %d", line);
	vsmmu_assert_logs_done(_metadata, self->mfd, &self->x, 2, what);
}

/* Fan-out of the fixture's vIOMMU and of @v2 must be @m1 and @m2 */
#define CHECK(m1, m2) do {						\
	probe_fanout(_metadata, self, self->viommu, m1, self->vmid,	\
		     __LINE__);						\
	probe_fanout(_metadata, self, v2, m2, vmid2, __LINE__);		\
	assert_nested_counters(_metadata, self);			\
} while (0)

/*
 * The set of pSMMUs a TLBI goes to follows every change of attachment:
 * a pSMMU is in while at least one of its devices is attached to a
 * stage-1 nested HWPT of this vIOMMU, whether through attach, replace from
 * bypass, plain stage 2, detached or another vIOMMU, and leaves when the
 * last one goes, whatever it goes to. A second pSMMU keeps a stage-1
 * device throughout, which must not be disturbed.
 */
TEST_F(dispatch, fanout)
{
	uint16_t vmid2[VMAX] = {};
	uint32_t v2, vdev2, s1v2, out;
	uint64_t bg, pm;
	int p, q, vmid;

	ASSERT_EQ(0, viommu_alloc_smmu(self->fd, self->n > 1,
				       self->dev_id[0][0], self->parent, &v2));

	for (p = 0; p < self->n; p++) {
		q = (p + 1) % self->n;
		pm = 1ULL << p;
		bg = 0;
		if (q != p) {
			attach(_metadata, self, q, 1, AT_S1);
			bg = 1ULL << q;
		}
		CHECK(bg, 0);

		/* attach, S1 -> bypass, bypass -> S1 */
		attach(_metadata, self, p, 0, AT_S1);
		CHECK(bg | pm, 0);
		attach(_metadata, self, p, 0, AT_BYP);
		CHECK(bg, 0);
		attach(_metadata, self, p, 0, AT_S1);
		CHECK(bg | pm, 0);

		/* Two devices: out only when both left */
		attach(_metadata, self, p, 1, AT_S1);
		CHECK(bg | pm, 0);
		attach(_metadata, self, p, 0, AT_BYP);
		CHECK(bg | pm, 0);
		attach(_metadata, self, p, 1, AT_S2);
		CHECK(bg, 0);

		/* Detach, re-attach */
		attach(_metadata, self, p, 0, AT_S1);
		attach(_metadata, self, p, 1, AT_S1);
		CHECK(bg | pm, 0);
		attach(_metadata, self, p, 0, AT_NONE);
		CHECK(bg | pm, 0);
		attach(_metadata, self, p, 1, AT_NONE);
		CHECK(bg, 0);
		attach(_metadata, self, p, 1, AT_S1);
		CHECK(bg | pm, 0);
		attach(_metadata, self, p, 1, AT_NONE);
		CHECK(bg, 0);
		attach(_metadata, self, p, 0, AT_S1);
		CHECK(bg | pm, 0);

		/* Its vDEVICE gone, the device still is on the stage 1 */
		ASSERT_EQ(0, iommufd_destroy(self->fd, self->vdev[p][0]));
		self->vdev[p][0] = 0;
		CHECK(bg | pm, 0);

		/* S1 of this vIOMMU -> S1 of another one */
		ASSERT_EQ(0, vdevice_alloc(self->fd, v2, self->dev_id[p][0],
					   VSID(p, 0), &vdev2));
		ASSERT_EQ(0, hwpt_alloc_nested_s1(self->fd, self->dev_id[p][0],
						  v2, CDPTR(p, 0), &s1v2));
		ASSERT_EQ(0, mock_dev_attach(self->mfd, self->dev[p][0], s1v2,
					     &out));
		ASSERT_EQ(s1v2, out);
		self->att[p][0] = AT_OTHER;
		vmid = mock_ste_vmid(self->mfd, p, PSID(0));
		ASSERT_LT(0, vmid);
		ASSERT_NE(self->vmid[p], vmid);
		vmid2[p] = vmid;
		CHECK(bg, pm);

		/* Both vIOMMUs on the pSMMU */
		attach(_metadata, self, p, 1, AT_S1);
		CHECK(bg | pm, pm);
		attach(_metadata, self, p, 1, AT_S2);
		CHECK(bg, pm);

		/* Back needs a vDEVICE on this vIOMMU: refused, nothing moves */
		ASSERT_EQ(-ENOENT, mock_dev_attach(self->mfd, self->dev[p][0],
						   self->s1[p][0], NULL));
		CHECK(bg, pm);
		ASSERT_EQ(0, iommufd_destroy(self->fd, vdev2));
		ASSERT_EQ(0, vdevice_alloc(self->fd, self->viommu,
					   self->dev_id[p][0], VSID(p, 0),
					   &self->vdev[p][0]));
		attach(_metadata, self, p, 0, AT_S1);
		CHECK(bg | pm, 0);

		attach(_metadata, self, p, 0, AT_S2);
		ASSERT_EQ(0, iommufd_destroy(self->fd, s1v2));
		if (q != p)
			attach(_metadata, self, q, 1, AT_S2);
		CHECK(0, 0);
	}
}

/* ---- The syncs of a call overlap ---------------------------------------- */

/*
 * One call of @num commands @g that must touch exactly the pSMMUs of @mask,
 * in one round: each of them gets one CMD_SYNC, all written before the call
 * waits for any.
 */
static void assert_syncs_overlap(struct __test_metadata *_metadata,
				 struct _test_data_dispatch *self,
				 const struct smmu_cmd *g, uint32_t num,
				 uint64_t mask, const char *what)
{
	struct mock_smmu_counters a[MAX_PSMMUS], b[MAX_PSMMUS];
	uint32_t done;

	mock_read_counters(_metadata, self->mfd, self->nr, a);
	ASSERT_EQ(0, viommu_invalidate_smmu(self->fd, self->viommu, g, num,
					    &done)) TH_LOG("%s", what);
	ASSERT_EQ(num, done) TH_LOG("%s", what);
	mock_read_counters(_metadata, self->mfd, self->nr, b);
	mock_assert_syncs_overlap(_metadata, a, b, self->nr, mask, what);
}

/*
 * Every pSMMU an IOMMU_HWPT_INVALIDATE call touches has its CMD_SYNC
 * written before the call waits for any of them, so that the pSMMUs
 * complete them concurrently: device-scoped commands for every pSMMU, for
 * the first and the last only, a TLBI fanned out to every pSMMU with a
 * stage 1, and the two kinds mixed.
 */
TEST_F(dispatch, syncs_overlap)
{
	struct smmu_cmd g[2 * VMAX + 1];
	uint64_t all = (1ULL << self->n) - 1, ends;
	uint32_t num = 0;
	int p;

	if (self->n < 2)
		SKIP(return, "needs 2 pSMMUs");
	ends = 1ULL | 1ULL << (self->n - 1);

	for (p = 0; p < self->n; p++)
		smmu_cmd_cfgi_cd(g[num++].w, VSID(p, p % DEVS), p, 1);
	assert_syncs_overlap(_metadata, self, g, num, all, "CFGI_CD each");

	num = 0;
	smmu_cmd_cfgi_cd_all(g[num++].w, VSID(self->n - 1, 1));
	smmu_cmd_cfgi_cd_all(g[num++].w, VSID(0, 0));
	assert_syncs_overlap(_metadata, self, g, num, ends, "first and last");

	for (p = 0; p < self->n; p++)
		attach(_metadata, self, p, 1, AT_S1);
	num = 0;
	smmu_cmd_nh_asid(g[num++].w, 0, 0x55);
	assert_syncs_overlap(_metadata, self, g, num, all, "TLBI fan-out");

	attach(_metadata, self, 0, 1, AT_BYP);
	num = 0;
	smmu_cmd_nh_all(g[num++].w, 0);
	smmu_cmd_cfgi_cd(g[num++].w, VSID(0, 0), 0, 0);
	assert_syncs_overlap(_metadata, self, g, num, all, "mixed");
}

/* ---- Order within a pSMMU ----------------------------------------------- */

enum gen_kind {
	GEN_ANY,	/* any accepted command */
	GEN_DEV,	/* device-scoped, for the devices of one pSMMU */
	GEN_TLBI,	/* VMID-scoped */
};

/*
 * A random legal guest command at @gidx, and what the pSMMUs must execute
 * for it into self->x; @p is the pSMMU for GEN_DEV.
 */
static struct smmu_cmd gen_cmd(struct _test_data_dispatch *self,
			       uint32_t gidx, enum gen_kind kind, int p)
{
	uint64_t page = (uint64_t)(rnd() & 0xfffff) << 12;
	uint32_t r = rnd();
	int j = rnd() % DEVS;
	uint64_t w0, w1, vmid, asid;

	if (kind == GEN_ANY)
		kind = r % 3 ? GEN_DEV : GEN_TLBI;
	if (kind == GEN_DEV) {
		if (p < 0)
			p = rnd() % self->n;
		switch (rnd() % 4) {
		case 0:
			w0 = SMMU_OP_CFGI_CD | SMMU_CMD_SSID(rnd());
			w1 = rnd() & SMMU_CMD1_LEAF;
			break;
		case 1:
			w0 = SMMU_OP_CFGI_CD_ALL;
			w1 = 0;
			break;
		case 2:
			w0 = SMMU_OP_ATC_INV | SMMU_CMD0_SSV |
			     SMMU_CMD_SSID(rnd());
			w1 = page | SMMU_CMD_ATC_SIZE(rnd() % 53);
			break;
		default:
			w0 = SMMU_OP_ATC_INV;
			w1 = page;
			break;
		}
		return expect_dev(self, gidx, p, j, w0, w1);
	}
	/* The guest's VMID is any: the pSMMUs get their own */
	vmid = SMMU_CMD_VMID(rnd());
	asid = SMMU_CMD_ASID(rnd());
	switch (rnd() % 6) {
	case 0:
		w0 = SMMU_OP_TLBI_NH_ALL;
		w1 = 0;
		break;
	case 1:
		w0 = SMMU_OP_TLBI_NH_ASID | asid;
		w1 = 0;
		break;
	case 2:
		w0 = SMMU_OP_TLBI_NH_VA | asid;
		w1 = page | SMMU_CMD1_LEAF;
		break;
	case 3:
		w0 = SMMU_OP_TLBI_NH_VA | asid | SMMU_CMD_NUM(1 + rnd() % 31) |
		     SMMU_CMD_SCALE(rnd() % 32);
		w1 = page | SMMU_CMD_TG(rnd() % 2 ? SMMU_TG_4K : SMMU_TG_64K) |
		     SMMU_CMD_TTL(rnd() % 4);
		break;
	case 4:
		w0 = SMMU_OP_TLBI_NH_VAA;
		w1 = page;
		break;
	default:
		return expect_tlbi(self, gidx,
				   SMMU_CMD(SMMU_OP_TLBI_NSNH_ALL, 0),
				   SMMU_OP_TLBI_NH_ALL, 0);
	}
	return expect_tlbi(self, gidx, SMMU_CMD(w0 | vmid, w1), w0, w1);
}

#define ORDER_NUM	1100

/*
 * A mixed batch with long stretches that leave pSMMUs out (only devices
 * of pSMMU 0, only TLBIs), the last pSMMU carrying no stage 1 when there
 * are several: each pSMMU's log must be exactly the in-order subsequence
 * of translated commands for it, followed by a CMD_SYNC. Prefixes of it
 * too, of lengths around powers of two, wherever the kernel may cut its
 * batches.
 */
TEST_F(dispatch, ordering)
{
	static const uint32_t lens[] = {
		1, 2, 3, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257,
		511, 512, 513, 1023, 1024, 1025, ORDER_NUM,
	};
	static struct smmu_cmd guest[ORDER_NUM];
	uint32_t i, done;
	unsigned int k;
	char what[32];
	int p;

	for (p = 0; p < self->n; p++) {
		attach(_metadata, self, p, 0,
		       self->n == 1 || p < self->n - 1 ? AT_S1 : AT_BYP);
		attach(_metadata, self, p, 1, AT_BYP);
	}
	/* Leaving the parent flushed its VMIDs: not part of what is checked */
	clear_logs(_metadata, self->mfd, self->nr);

	rnd_state = 0x1234567;
	vsmmu_expect_reset(&self->x);
	for (i = 0; i < ORDER_NUM; i++) {
		if (i >= 150 && i < 450)
			guest[i] = gen_cmd(self, i, GEN_DEV, 0);
		else if (i >= 600 && i < 900)
			guest[i] = gen_cmd(self, i, GEN_TLBI, -1);
		else
			guest[i] = gen_cmd(self, i, GEN_ANY, -1);
	}

	for (k = 0; k < ARRAY_SIZE(lens); k++) {
		ASSERT_EQ(0, viommu_invalidate_smmu(self->fd, self->viommu, guest,
						    lens[k], &done));
		ASSERT_EQ(lens[k], done);
		snprintf(what, sizeof(what), "%u commands", lens[k]);
		vsmmu_assert_logs_done(_metadata, self->mfd, &self->x, lens[k],
				       what);
	}
}

/* ---- Cache model -------------------------------------------------------- */

#define CACHE_MAX	32

struct cache_set {
	struct mock_smmu_cache_entry ent[CACHE_MAX];
	int num;
};

static int cache_cmp(const void *a, const void *b)
{
	const struct mock_smmu_cache_entry *x = a, *y = b;
	uint32_t xa = x->kind == MOCK_SMMU_CACHE_TLB ? x->vmid : x->sid;
	uint32_t ya = y->kind == MOCK_SMMU_CACHE_TLB ? y->vmid : y->sid;
	uint32_t xb = x->kind == MOCK_SMMU_CACHE_TLB ? x->asid : x->ssid;
	uint32_t yb = y->kind == MOCK_SMMU_CACHE_TLB ? y->asid : y->ssid;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (xa != ya)
		return xa < ya ? -1 : 1;
	if (xb != yb)
		return xb < yb ? -1 : 1;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return 0;
}

static void cache_add(struct cache_set *s, uint32_t kind, uint32_t a,
		      uint32_t b, uint64_t addr)
{
	struct mock_smmu_cache_entry *e = &s->ent[s->num++];

	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->addr = addr;
	if (kind == MOCK_SMMU_CACHE_TLB) {
		e->vmid = a;
		e->asid = b;
	} else {
		e->sid = a;
		e->ssid = b;
	}
}

/* Remove the entries @match (kind, a, b, addr; ~0 = any) says */
static void cache_drop(struct cache_set *s, uint32_t kind, uint32_t a,
		       uint32_t b, uint64_t addr)
{
	int i, k = 0;

	for (i = 0; i < s->num; i++) {
		const struct mock_smmu_cache_entry *e = &s->ent[i];
		uint32_t ea = kind == MOCK_SMMU_CACHE_TLB ? e->vmid : e->sid;
		uint32_t eb = kind == MOCK_SMMU_CACHE_TLB ? e->asid : e->ssid;

		if (e->kind == kind && (a == ~0U || ea == a) &&
		    (b == ~0U || eb == b) && (addr == ~0ULL || e->addr == addr))
			continue;
		s->ent[k++] = *e;
	}
	s->num = k;
}

static void assert_cache(struct __test_metadata *_metadata, int mfd, int p,
			 struct cache_set *s, const char *step)
{
	struct mock_smmu_cache_entry got[CACHE_MAX];
	uint64_t total = 0;
	int i, n;

	qsort(s->ent, s->num, sizeof(s->ent[0]), cache_cmp);
	n = mock_cache_read_num(mfd, p, got, CACHE_MAX, &total);
	ASSERT_EQ(s->num, n) TH_LOG("%s: pSMMU %d", step, p);
	ASSERT_EQ(s->num, total);
	for (i = 0; i < n; i++) {
		const struct mock_smmu_cache_entry *w = &s->ent[i];

		ASSERT_TRUE(w->kind == got[i].kind && w->sid == got[i].sid &&
			    w->ssid == got[i].ssid && w->vmid == got[i].vmid &&
			    w->asid == got[i].asid && w->addr == got[i].addr)
			TH_LOG("%s: pSMMU %d entry %d: kind %u %x/%u %u/%u 0x%llx",
			       step, p, i, got[i].kind, got[i].sid,
			       got[i].ssid, got[i].vmid, got[i].asid,
			       (unsigned long long)got[i].addr);
	}
}

/* Invalidate @cmds; every pSMMU's cache model must then equal its set */
static void inv_step(struct __test_metadata *_metadata,
		     struct _test_data_dispatch *self, struct cache_set *set,
		     const char *what, const struct smmu_cmd *cmds, uint32_t num)
{
	uint32_t done;
	int p;

	ASSERT_EQ(0, viommu_invalidate_smmu(self->fd, self->viommu, cmds, num, &done))
		TH_LOG("%s", what);
	ASSERT_EQ(num, done);
	for (p = 0; p < self->nr; p++)
		assert_cache(_metadata, self->mfd, p, &set[p], what);
}

/*
 * Entries of the cache model of every pSMMU: TLB entries of the vIOMMU's
 * VMID there and of an unrelated VMID, CD and ATC entries of the devices'
 * physical SIDs (the same on every pSMMU) and of an unused SID. Each guest
 * command must remove exactly its entries on exactly its pSMMUs: the SID
 * ones on the device's pSMMU only, the TLBIs those of the vIOMMU's VMID on
 * the pSMMUs with a stage-1 device only (pSMMUs 0, 2 with several, bypass
 * on the others), TLBI_NSNH_ALL no other VMID's.
 */
TEST_F(dispatch, cache_model)
{
	struct cache_set *set;
	struct smmu_cmd g[VMAX];
	uint32_t unrel;
	int p, num, last = self->n - 1;

	set = calloc(self->nr, sizeof(*set));
	ASSERT_NE(NULL, set);
	for (p = 0; p < self->n; p++) {
		attach(_metadata, self, p, 0, p % 2 ? AT_BYP : AT_S1);
		attach(_metadata, self, p, 1, AT_BYP);
	}

	for (p = 0; p < self->nr; p++) {
		struct cache_set *s = &set[p];

		unrel = p < self->n ? self->vmid[p] ^ 0x8000 : 0x8000;
		if (p < self->n) {
			uint32_t v = self->vmid[p];

			cache_add(s, MOCK_SMMU_CACHE_TLB, v, 1, 0x1000);
			cache_add(s, MOCK_SMMU_CACHE_TLB, v, 1, 0x2000);
			cache_add(s, MOCK_SMMU_CACHE_TLB, v, 2, 0x1000);
			cache_add(s, MOCK_SMMU_CACHE_TLB, v, 2, 0x3000);
		}
		cache_add(s, MOCK_SMMU_CACHE_TLB, unrel, 1, 0x1000);
		cache_add(s, MOCK_SMMU_CACHE_TLB, unrel, 2, 0x3000);
		cache_add(s, MOCK_SMMU_CACHE_CD, PSID(0), 0, 0);
		cache_add(s, MOCK_SMMU_CACHE_CD, PSID(0), 3, 0);
		cache_add(s, MOCK_SMMU_CACHE_CD, PSID(1), 0, 0);
		cache_add(s, MOCK_SMMU_CACHE_CD, PSID(1), 5, 0);
		cache_add(s, MOCK_SMMU_CACHE_CD, PSID_OTHER, 3, 0);
		cache_add(s, MOCK_SMMU_CACHE_ATC, PSID(0), 0, 0x4000);
		cache_add(s, MOCK_SMMU_CACHE_ATC, PSID(0), 1, 0x4000);
		cache_add(s, MOCK_SMMU_CACHE_ATC, PSID(0), 0, 0x9000);
		cache_add(s, MOCK_SMMU_CACHE_ATC, PSID(1), 0, 0x4000);
		cache_add(s, MOCK_SMMU_CACHE_ATC, PSID_OTHER, 0, 0x4000);
		ASSERT_EQ(0, mock_cache_fill(self->mfd, p, s->ent, s->num));
		assert_cache(_metadata, self->mfd, p, s, "fill");
	}

	/* CFGI_CD: SSID 3 of device 0 on even pSMMUs, 5 of 1 on odd ones */
	for (p = 0; p < self->n; p++) {
		if (p % 2)
			smmu_cmd_cfgi_cd(g[p].w, VSID(p, 1), 5, 1);
		else
			smmu_cmd_cfgi_cd(g[p].w, VSID(p, 0), 3, 0);
		cache_drop(&set[p], MOCK_SMMU_CACHE_CD, PSID(p % 2),
			   p % 2 ? 5 : 3, ~0ULL);
	}
	inv_step(_metadata, self, set, "CFGI_CD", g, self->n);

	/* CFGI_CD_ALL of device 1 of the last pSMMU */
	g[0] = SMMU_CMD(SMMU_OP_CFGI_CD_ALL | SMMU_CMD_SID(VSID(last, 1)), 0);
	cache_drop(&set[last], MOCK_SMMU_CACHE_CD, PSID(1), ~0U, ~0ULL);
	inv_step(_metadata, self, set, "CFGI_CD_ALL", g, 1);

	/* ATC_INV without SSV: every SSID of the 4K page */
	g[0] = SMMU_CMD(SMMU_OP_ATC_INV | SMMU_CMD_SID(VSID(0, 0)), 0x4000);
	cache_drop(&set[0], MOCK_SMMU_CACHE_ATC, PSID(0), ~0U, 0x4000);
	inv_step(_metadata, self, set, "ATC_INV", g, 1);

	/* ATC_INV with SSV 0 */
	smmu_cmd_atc_inv(g[0].w, VSID(last, 0), 0, 0, 0x9000, 0);
	cache_drop(&set[last], MOCK_SMMU_CACHE_ATC, PSID(0), 0, 0x9000);
	inv_step(_metadata, self, set, "ATC_INV SSV", g, 1);

	/* The TLBIs, with a guest VMID that matches nothing */
	num = 0;
	smmu_cmd_nh_va(g[num++].w, 0x1234, 2, 0x3000, 0, 0, 0, 0, 0);
	for (p = 0; p < self->n; p++)
		if (s1_on(self, p))
			cache_drop(&set[p], MOCK_SMMU_CACHE_TLB, self->vmid[p],
				   2, 0x3000);
	inv_step(_metadata, self, set, "TLBI_NH_VA", g, num);

	g[0] = SMMU_CMD(SMMU_OP_TLBI_NH_VAA, 0x2000);
	for (p = 0; p < self->n; p++)
		if (s1_on(self, p))
			cache_drop(&set[p], MOCK_SMMU_CACHE_TLB, self->vmid[p],
				   ~0U, 0x2000);
	inv_step(_metadata, self, set, "TLBI_NH_VAA", g, 1);

	g[0] = SMMU_CMD(SMMU_OP_TLBI_NH_ASID | SMMU_CMD_ASID(1), 0);
	for (p = 0; p < self->n; p++)
		if (s1_on(self, p))
			cache_drop(&set[p], MOCK_SMMU_CACHE_TLB, self->vmid[p],
				   1, ~0ULL);
	inv_step(_metadata, self, set, "TLBI_NH_ASID", g, 1);

	g[0] = SMMU_CMD(SMMU_OP_TLBI_NSNH_ALL, 0);
	for (p = 0; p < self->n; p++)
		if (s1_on(self, p))
			cache_drop(&set[p], MOCK_SMMU_CACHE_TLB, self->vmid[p],
				   ~0U, ~0ULL);
	inv_step(_metadata, self, set, "TLBI_NSNH_ALL", g, 1);

	for (p = 0; p < self->nr; p++)
		ASSERT_EQ(0, mock_cache_fill(self->mfd, p, NULL, 0));
	free(set);
}

/* ---- 2^19 commands in one call ----------------------------------------- */

/*
 * The most IOMMU_HWPT_INVALIDATE accepts, in one call: device-scoped
 * commands for devices on every pSMMU and TLBIs, with every 16th stretch
 * of 1000 commands only for the devices of one pSMMU, and the last pSMMU
 * without a stage 1 when there are several. The command counters must
 * grow by exactly the commands each pSMMU needs, the sync counters by at
 * least one where there were any (by none elsewhere), and the logs' last
 * entries must be the last commands expected.
 */
TEST_F_TIMEOUT(dispatch, max_entries, 600)
{
	struct mock_smmu_counters before[MAX_PSMMUS], after[MAX_PSMMUS];
	const uint32_t num = MAX_ENTRIES;
	struct smmu_cmd *guest, g;
	uint32_t i, r, done;
	uint64_t syncs;
	double t;
	int p, j, rc;

	guest = malloc(num * sizeof(*guest));
	ASSERT_NE(NULL, guest);
	for (p = 0; p < self->n; p++) {
		attach(_metadata, self, p, 0,
		       self->n == 1 || p < self->n - 1 ? AT_S1 : AT_BYP);
		attach(_metadata, self, p, 1, AT_BYP);
	}

	vsmmu_expect_reset(&self->x);
	for (i = 0; i < num; i++) {
		uint32_t k = i % (self->n * DEVS);

		/* Device k / DEVS, k % DEVS, unless the stretch says else */
		p = k / DEVS;
		j = k % DEVS;
		r = i / 1000;
		if (r % 16 == 5) {
			p = (r / 16) % self->n;
			guest[i] = expect_dev(self, i, p, i % DEVS,
					      SMMU_OP_CFGI_CD_ALL, 0);
		} else if (i % 4 == 3) {
			switch (i / 4 % 3) {
			case 0:
				smmu_cmd_nh_asid(g.w, 0, i);
				break;
			case 1:
				smmu_cmd_nh_va(g.w, 0, i >> 16,
					       (uint64_t)i << 12, 0, 0, 0, 0,
					       0);
				break;
			default:
				smmu_cmd_nh_all(g.w, 0);
				guest[i] = expect_tlbi(self, i,
						       SMMU_CMD(SMMU_OP_TLBI_NSNH_ALL, 0),
						       g.w[0], g.w[1]);
				continue;
			}
			guest[i] = expect_tlbi(self, i, g, g.w[0], g.w[1]);
		} else if (i % 4 == 1) {
			guest[i] = expect_dev(self, i, p, j,
					      SMMU_OP_CFGI_CD |
					      SMMU_CMD_SSID(i),
					      SMMU_CMD1_LEAF);
		} else {
			guest[i] = expect_dev(self, i, p, j,
					      SMMU_OP_CFGI_CD_ALL, 0);
		}
	}

	clear_logs(_metadata, self->mfd, self->nr);
	mock_read_counters(_metadata, self->mfd, self->nr, before);
	t = now_s();
	rc = viommu_invalidate_smmu(self->fd, self->viommu, guest, num, &done);
	t = now_s() - t;
	ASSERT_EQ(0, rc);
	ASSERT_EQ(num, done);
	mock_read_counters(_metadata, self->mfd, self->nr, after);

	for (p = 0; p < self->nr; p++) {
		syncs = after[p].syncs - before[p].syncs;
		ASSERT_EQ(self->x.num[p], after[p].cmds - before[p].cmds)
			TH_LOG("pSMMU %d", p);
		ASSERT_EQ(!!self->x.num[p], !!syncs) TH_LOG("pSMMU %d", p);
		ASSERT_EQ(before[p].cerror_ill, after[p].cerror_ill);
		ksft_print_msg("pSMMU %d: %llu commands, %llu CMD_SYNC\n", p,
			       (unsigned long long)self->x.num[p],
			       (unsigned long long)syncs);
	}
	vsmmu_assert_logs_done(_metadata, self->mfd, &self->x, num,
			       "2^19 commands");
	ksft_print_msg("%u commands in one call, %d pSMMU(s): %.3f s, %.2f us a command\n",
		       num, self->n, t, t * 1e6 / num);
	free(guest);
}

/* ---- Invalidations racing with vDEVICE destroy/recreate ----------------- */

/*
 * Thread 0 sends short batches, thread 1 long ones. Both name X at the
 * indexes of race_x_at (below each batch's length).
 */
#define RACE_SHORT	32
#define RACE_LONG	428
static const uint32_t race_x_at[] = { 10, 25, 140, 300, 400 };
#define RACE_X_NUM	ARRAY_SIZE(race_x_at)
/*
 * The most one call can put on X's pSMMU: all its commands, each with a
 * CMD_SYNC of its own at worst
 */
#define RACE_COST	(2 * RACE_LONG)
/* Budget of the calls that may start per window */
#define RACE_BUDGET	1024
#define RACE_CYCLES	200

struct race {
	struct _test_data_dispatch *self;
	int px;			/* X's pSMMU */
	uint32_t vsid_x;
	int stop;		/* __atomic */
	int budget;		/* __atomic */
	/* Results of each invalidating thread, read after the join */
	unsigned long ok[2];
	unsigned long eio[2];
	unsigned long eio_late[2];	/* at an X after the first one */
	int bad_rc[2];
	uint32_t bad_done[2];
};

struct race_arg {
	struct race *race;
	int id;
};

/* @i is the index of a command naming X */
static int race_is_x(uint32_t i)
{
	unsigned int k;

	for (k = 0; k < RACE_X_NUM; k++)
		if (race_x_at[k] == i)
			return 1;
	return 0;
}

static void *race_invalidate(void *data)
{
	static struct smmu_cmd batches[2][RACE_LONG];
	struct race_arg *arg = data;
	struct race *race = arg->race;
	struct _test_data_dispatch *self = race->self;
	struct smmu_cmd *batch = batches[arg->id];
	uint32_t num = arg->id ? RACE_LONG : RACE_SHORT;
	unsigned int seed = 77 + arg->id;
	uint32_t i, done, first_x = race_x_at[0];
	int rc;

	while (!__atomic_load_n(&race->stop, __ATOMIC_ACQUIRE)) {
		/* Stay within the window's share of the log (see below) */
		if (__atomic_load_n(&race->budget, __ATOMIC_ACQUIRE) >=
		    RACE_BUDGET) {
			usleep(50);
			continue;
		}
		__atomic_add_fetch(&race->budget, RACE_COST, __ATOMIC_ACQ_REL);

		for (i = 0; i < num; i++) {
			int p = rand_r(&seed) % self->n;
			int j = rand_r(&seed) % DEVS;

			/* Every device but X; TLBIs too */
			if (p == race->px && j == 0)
				j = 1;
			if (race_is_x(i))
				smmu_cmd_cfgi_cd(batch[i].w, race->vsid_x, i,
						 0);
			else if (i % 3 == 0)
				smmu_cmd_nh_asid(batch[i].w, 0, i);
			else if (i % 3 == 1)
				smmu_cmd_cfgi_cd_all(batch[i].w, VSID(p, j));
			else
				smmu_cmd_atc_inv(batch[i].w, VSID(p, j), -1, 0,
						 0, SMMU_ATC_SIZE_ALL);
		}
		rc = viommu_invalidate_smmu(self->fd, self->viommu, batch, num, &done);
		if (!rc && done == num) {
			race->ok[arg->id]++;
		} else if (rc == -EIO && race_is_x(done)) {
			/* X had no vDEVICE: a command naming it is rejected */
			race->eio[arg->id]++;
			if (done != first_x)
				race->eio_late[arg->id]++;
		} else {
			race->bad_rc[arg->id] = rc ? rc : 1;
			race->bad_done[arg->id] = done;
			break;
		}
	}
	return NULL;
}

/*
 * Two threads invalidate batches naming device X (CFGI_CD with its vSID)
 * and other devices, plus TLBIs, one thread in short calls, the other in
 * long ones, while this thread destroys X's vDEVICE and recreates it, over
 * and over. A call must succeed, or fail with EIO and entry_num at a
 * command naming X, which happens while X has no vDEVICE; in a long call
 * that can be a later one than the first (the vDEVICE went away while the
 * call ran).
 *
 * The check that nothing for X runs while its vDEVICE is gone uses the
 * position in X's pSMMU log, whose `total` counts every command the pSMMU
 * executed since the log was cleared and which keeps the last 8192:
 *
 *  - t1 = total, read right after IOMMU_DESTROY of the vDEVICE returned.
 *    Destroy returns only once every command that found the vDEVICE has
 *    executed, so every command for X the vDEVICE let through is at a
 *    position below t1.
 *  - t2 = total, read with the log itself right before the vDEVICE is
 *    recreated. Between t1 and t2 no command may carry X's physical SID
 *    (other devices on the pSMMU have other physical SIDs).
 *
 * The window [t1, t2) must still be in the log when it is read: before
 * each call the invalidating threads take RACE_COST (the most one call can
 * put on X's pSMMU) from a budget,
 * and pause while RACE_BUDGET is spent; the budget is refilled twice a
 * cycle, after t1 and after the recreate, each opening a period. Commands
 * of the window come from calls that took their budget in the window's
 * period or the one before (each at most RACE_BUDGET + 2 * RACE_COST, two
 * threads racing for the last share) or from the one call per thread
 * under way before that, so at most
 * 2 * (RACE_BUDGET + 2 * RACE_COST) + 2 * RACE_COST = 7184 commands run on
 * X's pSMMU within a window: fewer than the log keeps.
 */
TEST_F_TIMEOUT(dispatch, race_vdevice_destroy, 300)
{
	struct race race = {};
	struct race_arg args[2];
	pthread_t th[2];
	unsigned long windows = 0, eio = 0, eio_late = 0, ok = 0;
	unsigned long dead_cmds = 0;
	uint32_t vdev_x, psid_x = PSID(0), done;
	uint64_t t1 = 0, t2 = 0;
	struct smmu_cmd c;
	int i, k, n, p;

	ASSERT_GT(LOG_SIZE, 2 * (RACE_BUDGET + 2 * RACE_COST) + 2 * RACE_COST);
	race.self = self;
	race.px = self->n - 1;
	race.vsid_x = VSID(race.px, 0);
	for (p = 0; p < self->n; p++)
		attach(_metadata, self, p, 0, AT_S1);
	vdev_x = self->vdev[race.px][0];
	clear_logs(_metadata, self->mfd, self->nr);

	for (i = 0; i < 2; i++) {
		args[i].race = &race;
		args[i].id = i;
		ASSERT_EQ(0, pthread_create(&th[i], NULL, race_invalidate,
					    &args[i]));
	}

	for (k = 0; k < RACE_CYCLES; k++) {
		uint64_t first;

		ASSERT_EQ(0, iommufd_destroy(self->fd, vdev_x));
		ASSERT_EQ(0, mock_cmdq_log(self->mfd, race.px, 0, NULL, 0, NULL, &t1));
		__atomic_store_n(&race.budget, 0, __ATOMIC_RELEASE);

		/* Let the invalidating threads run into the gap */
		usleep(1000);

		n = mock_cmdq_log_num(self->mfd, race.px, 0, log_buf, LOG_SIZE, &t2);
		ASSERT_LE(0, n);
		ASSERT_EQ(0, vdevice_alloc(self->fd, self->viommu,
					   self->dev_id[race.px][0],
					   race.vsid_x, &vdev_x));
		__atomic_store_n(&race.budget, 0, __ATOMIC_RELEASE);

		/* log_buf[i] is the command at position t2 - n + i */
		first = t2 - n;
		ASSERT_LE(first, t1)
			TH_LOG("window of %llu commands overflowed the log",
			       (unsigned long long)(t2 - t1));
		for (i = t1 - first; i < n; i++) {
			const struct smmu_cmd *c = &log_buf[i];

			if (smmu_op_sid_scoped(smmu_cmd_op(c->w)) &&
			    smmu_field_get(SMMU_CMD0_SID, c->w[0]) == psid_x)
				dead_cmds++;
		}
		ASSERT_EQ(0, dead_cmds)
			TH_LOG("cycle %d: a command for the destroyed vDEVICE ran",
			       k);
		windows++;

		/* And let them find X for a while */
		usleep(1000);
	}

	__atomic_store_n(&race.stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_join(th[i], NULL));
	self->vdev[race.px][0] = vdev_x;
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, race.bad_rc[i])
			TH_LOG("thread %d: errno %d entry_num %u", i,
			       -race.bad_rc[i], race.bad_done[i]);
		ok += race.ok[i];
		eio += race.eio[i];
		eio_late += race.eio_late[i];
	}
	ksft_print_msg("%lu windows checked; calls: %lu ok, %lu EIO at X (%lu at a later X)\n",
		       windows, ok, eio, eio_late);
	ASSERT_LT(0, ok);
	ASSERT_LT(0, eio);

	/* X works as before */
	vsmmu_expect_reset(&self->x);
	c = expect_dev(self, 0, race.px, 0, SMMU_OP_CFGI_CD_ALL, 0);
	ASSERT_EQ(race.vsid_x, smmu_field_get(SMMU_CMD0_SID, c.w[0]));
	clear_logs(_metadata, self->mfd, self->nr);
	ASSERT_EQ(0, viommu_invalidate_smmu(self->fd, self->viommu, &c, 1, &done));
	ASSERT_EQ(1, done);
	vsmmu_assert_logs_done(_metadata, self->mfd, &self->x, 1, "X again");
}

/* ---- vSIDs changing hands ------------------------------------------------ */

/* One guest CFGI_CD_ALL naming @vsid on the fixture's vIOMMU @viommu */
static int inv_vsid(struct _test_data_dispatch *self, uint32_t viommu,
		    uint32_t vsid, uint32_t *done)
{
	struct smmu_cmd c = SMMU_CMD(SMMU_OP_CFGI_CD_ALL | SMMU_CMD_SID(vsid), 0);

	*done = ~0U;
	return viommu_invalidate_smmu(self->fd, viommu, &c, 1, done);
}

/* @vsid names no vDEVICE of @viommu: EIO, nothing executed anywhere */
static void assert_unrouted(struct __test_metadata *_metadata,
			    struct _test_data_dispatch *self, uint32_t viommu,
			    uint32_t vsid, const char *what)
{
	uint32_t done;

	clear_logs(_metadata, self->mfd, self->nr);
	vsmmu_expect_reset(&self->x);
	ASSERT_EQ(-EIO, inv_vsid(self, viommu, vsid, &done))
		TH_LOG("%s: vSID %#x", what, vsid);
	ASSERT_EQ(0, done);
	vsmmu_assert_logs_done(_metadata, self->mfd, &self->x, 0, what);
}

/* @vsid routes to device (@p, @j): its pSMMU alone executes the command */
static void assert_routes(struct __test_metadata *_metadata,
			  struct _test_data_dispatch *self, uint32_t viommu,
			  uint32_t vsid, int p, int j, const char *what)
{
	uint32_t done;

	clear_logs(_metadata, self->mfd, self->nr);
	vsmmu_expect_reset(&self->x);
	vsmmu_expect_add(&self->x, p, 0,
			 SMMU_CMD(SMMU_OP_CFGI_CD_ALL | SMMU_CMD_SID(PSID(j)), 0));
	ASSERT_EQ(0, inv_vsid(self, viommu, vsid, &done))
		TH_LOG("%s: vSID %#x", what, vsid);
	ASSERT_EQ(1, done);
	vsmmu_assert_logs_done(_metadata, self->mfd, &self->x, 1, what);
}

/*
 * A vSID given to another device right after IOMMU_DESTROY of its vDEVICE
 * routes to the new device at once, and the old device's physical SID
 * never reaches its pSMMU again; back and forth, between two pSMMUs when
 * there are several. The vSID a device left behind is unknown.
 */
TEST_F(dispatch, vsid_reuse)
{
	int px = self->n - 1, k;
	uint32_t x = VSID(0, 0), vdev = self->vdev[0][0];

	/* Device (px, 1) gives up its own vDEVICE: a device has one */
	ASSERT_EQ(0, iommufd_destroy(self->fd, self->vdev[px][1]));
	assert_unrouted(_metadata, self, self->viommu, VSID(px, 1),
			"vDEVICE destroyed");

	for (k = 0; k < 64; k++) {
		/* Even k: (0, 0) owns X and (px, 1) takes it over */
		int p_old = k & 1 ? px : 0, j_old = k & 1;
		int p_new = k & 1 ? 0 : px, j_new = !(k & 1);

		ASSERT_EQ(0, iommufd_destroy(self->fd, vdev));
		ASSERT_EQ(0, vdevice_alloc(self->fd, self->viommu,
					   self->dev_id[p_new][j_new], x,
					   &vdev));
		/* Exactly the new device's command: none for the old one */
		assert_routes(_metadata, self, self->viommu, x, p_new, j_new,
			      "vSID reused");
		ASSERT_NE(PSID(j_old) | p_old << 8, PSID(j_new) | p_new << 8);
	}
	/* Every other vSID still routes where it did */
	assert_routes(_metadata, self, self->viommu, VSID(px, 0), px, 0,
		      "untouched vSID");
	if (self->n > 1)
		assert_routes(_metadata, self, self->viommu, VSID(0, 1), 0, 1,
			      "untouched vSID");
}

/*
 * A vDEVICE allocation that fails leaves no route behind: for a vSID
 * already taken (EEXIST, before the driver is asked), for a virtual ID
 * wider than a StreamID (EINVAL, from the driver), and when the response
 * cannot be written back (EFAULT, after the driver accepted and the core
 * published the vDEVICE). Then a second vIOMMU's vDEVICE of the same vSID
 * routes on that vIOMMU only, and the vIOMMU cannot go while it has one.
 */
TEST_F(dispatch, vdevice_fail_no_route)
{
	struct iommu_vdevice_alloc *cmd;
	uint32_t v2, vdev2;

	ASSERT_EQ(0, iommufd_destroy(self->fd, self->vdev[0][1]));
	assert_unrouted(_metadata, self, self->viommu, VSID(0, 1),
			"vDEVICE destroyed");

	/* EEXIST: (0, 0)'s vSID is unchanged */
	ASSERT_EQ(-EEXIST, vdevice_alloc(self->fd, self->viommu,
					 self->dev_id[0][1], VSID(0, 0), NULL));
	assert_routes(_metadata, self, self->viommu, VSID(0, 0), 0, 0,
		      "after EEXIST");
	assert_unrouted(_metadata, self, self->viommu, VSID(0, 1),
			"after EEXIST");

	/* EINVAL: nothing at the ID's low 32 bits either */
	ASSERT_EQ(-EINVAL, vdevice_alloc(self->fd, self->viommu,
					 self->dev_id[0][1],
					 (1ULL << 32) | VSID(0, 1), NULL));
	assert_unrouted(_metadata, self, self->viommu, VSID(0, 1),
			"after EINVAL");

	/* EFAULT: the vDEVICE existed for a moment, its route must go */
	cmd = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, cmd);
	*cmd = (struct iommu_vdevice_alloc){
		.size = sizeof(*cmd),
		.viommu_id = self->viommu,
		.dev_id = self->dev_id[0][1],
		.virt_id = VSID(0, 1),
	};
	ASSERT_EQ(0, mprotect(cmd, 4096, PROT_READ));
	ASSERT_EQ(-EFAULT, ioctl_errno(self->fd, IOMMU_VDEVICE_ALLOC, cmd));
	ASSERT_EQ(0, munmap(cmd, 4096));
	assert_unrouted(_metadata, self, self->viommu, VSID(0, 1),
			"after EFAULT");

	/* The device's vDEVICE, on a second vIOMMU of pSMMU 0 */
	ASSERT_EQ(0, viommu_alloc_smmu(self->fd, 0, self->dev_id[0][1],
				       self->parent, &v2));
	ASSERT_EQ(0, vdevice_alloc(self->fd, v2, self->dev_id[0][1],
				   VSID(0, 0), &vdev2));
	assert_routes(_metadata, self, v2, VSID(0, 0), 0, 1, "second vIOMMU");
	assert_routes(_metadata, self, self->viommu, VSID(0, 0), 0, 0,
		      "first vIOMMU");
	assert_unrouted(_metadata, self, v2, VSID(0, 1), "second vIOMMU");
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, v2));
	assert_routes(_metadata, self, v2, VSID(0, 0), 0, 1,
		      "vIOMMU still in use");
	ASSERT_EQ(0, iommufd_destroy(self->fd, vdev2));
	assert_unrouted(_metadata, self, v2, VSID(0, 0), "second vIOMMU");
	ASSERT_EQ(0, iommufd_destroy(self->fd, v2));

	/* And the device's vDEVICE back on the first vIOMMU */
	ASSERT_EQ(0, vdevice_alloc(self->fd, self->viommu, self->dev_id[0][1],
				   VSID(0, 1), &self->vdev[0][1]));
	assert_routes(_metadata, self, self->viommu, VSID(0, 1), 0, 1,
		      "allocated again");
}

TEST_HARNESS_MAIN
