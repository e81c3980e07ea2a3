// SPDX-License-Identifier: GPL-2.0-only
/*
 * The vSMMU invalidation dispatcher: IOMMU_HWPT_INVALIDATE on a vIOMMU with
 * IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3, checked against what each mock
 * pSMMU really executed (MOCK_SMMU_CMDQ_LOG), its counters and its cache
 * model.
 *
 * The rule under test: ATC_INV, CFGI_CD and CFGI_CD_ALL have their vSID
 * replaced by the device's physical SID and go to that device's pSMMU only;
 * TLBI_NH_* have their VMID replaced by the vIOMMU's VMID on the target
 * pSMMU (TLBI_NSNH_ALL becomes TLBI_NH_ALL of that VMID with word 1 clear)
 * and go to every spanned pSMMU where a device is attached to a stage-1
 * translating nested HWPT of this vIOMMU, and nowhere else. Per pSMMU the
 * guest's order is kept; a round of guest commands ends once a pSMMU has
 * 128 commands pending, and every pSMMU the round touched then gets one
 * CMD_SYNC after them.
 *
 * Covered: a routing table of every accepted opcode for several placements
 * of stage-1 and bypass nested HWPTs; the fan-out under attach, replace,
 * detach and moves to another vIOMMU; the exact per-pSMMU order over
 * several rounds; which cache model entries disappear where; 2^19 commands
 * in one call; invalidations racing with vDEVICE destroy/recreate.
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

#include "kselftest_harness.h"
#include "iommufd_vsmmu_dispatch.h"

#define MAX_PSMMUS		64
#define VMAX			4	/* pSMMUs with devices, at most */
#define DEVS			2	/* devices per pSMMU */
#define LOG_SIZE		MOCK_SMMU_CMDQ_LOG_SIZE

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

static struct vd_cmd log_buf[LOG_SIZE];

/* What the pSMMUs must have executed, built by the model below */
struct expect {
	int nr;
	uint32_t cap;			/* ring entries kept per pSMMU */
	struct vd_cmd *log[MAX_PSMMUS];	/* entry i at i % cap */
	uint64_t num[MAX_PSMMUS];	/* entries, CMD_SYNC included */
	uint64_t cmds[MAX_PSMMUS];	/* CMD_SYNC excluded */
	uint64_t syncs[MAX_PSMMUS];
};

static int expect_init(struct expect *e, int nr, uint32_t cap)
{
	int p;

	memset(e, 0, sizeof(*e));
	e->nr = nr;
	e->cap = cap;
	for (p = 0; p < nr; p++) {
		e->log[p] = calloc(cap, sizeof(struct vd_cmd));
		if (!e->log[p])
			return -ENOMEM;
	}
	return 0;
}

static void expect_reset(struct expect *e)
{
	memset(e->num, 0, sizeof(e->num));
	memset(e->cmds, 0, sizeof(e->cmds));
	memset(e->syncs, 0, sizeof(e->syncs));
}

static void expect_free(struct expect *e)
{
	int p;

	for (p = 0; p < e->nr; p++)
		free(e->log[p]);
}

static void expect_emit(struct expect *e, int p, struct vd_cmd c)
{
	e->log[p][e->num[p] % e->cap] = c;
	e->num[p]++;
	if (vd_is_sync(&c))
		e->syncs[p]++;
	else
		e->cmds[p]++;
}

/* One CMD_SYNC on each pSMMU of @touched */
static void expect_syncs(struct expect *e, uint64_t touched)
{
	int p;

	for (p = 0; p < e->nr; p++)
		if (touched & (1ULL << p))
			expect_emit(e, p, vd_cmd(VD_SYNC0, VD_SYNC1));
}

/*
 * Every pSMMU's log holds exactly what @e expects (its last LOG_SIZE
 * entries when more ran), and is cleared.
 */
static void assert_expect(struct __test_metadata *_metadata, int mfd,
			  const struct expect *e)
{
	uint64_t total = 0;
	int p, i, n;

	for (p = 0; p < e->nr; p++) {
		n = mock_cmdq_log_num(mfd, p, MOCK_SMMU_CMDQ_LOG_CLEAR, log_buf,
				      LOG_SIZE, &total);
		ASSERT_LE(0, n);
		ASSERT_EQ(e->num[p], total) TH_LOG("pSMMU %d", p);
		ASSERT_EQ(total < LOG_SIZE ? total : LOG_SIZE, n);
		ASSERT_GE(e->cap, n);
		for (i = 0; i < n; i++) {
			const struct vd_cmd *want =
				&e->log[p][(total - n + i) % e->cap];

			ASSERT_TRUE(want->w[0] == log_buf[i].w[0] &&
				    want->w[1] == log_buf[i].w[1])
				TH_LOG("pSMMU %d entry %llu: %016llx %016llx, want %016llx %016llx",
				       p, (unsigned long long)(total - n + i),
				       (unsigned long long)log_buf[i].w[0],
				       (unsigned long long)log_buf[i].w[1],
				       (unsigned long long)want->w[0],
				       (unsigned long long)want->w[1]);
		}
	}
}

static void clear_logs(struct __test_metadata *_metadata, int mfd, int nr)
{
	int p;

	for (p = 0; p < nr; p++)
		ASSERT_EQ(0, mock_cmdq_log_clear(mfd, p));
}

static void read_counters(struct __test_metadata *_metadata, int mfd, int nr,
			  struct mock_smmu_counters *cnt)
{
	int p;

	for (p = 0; p < nr; p++)
		ASSERT_EQ(0, mock_get_counters(mfd, p, &cnt[p]));
}

static uint32_t rnd_state;

static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
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
 * The model of the dispatcher: emit what guest command @g becomes on each
 * pSMMU into @e and add those pSMMUs to *@touched. Return -1 for a vSID
 * without vDEVICE.
 */
static int model_cmd(struct _test_data_dispatch *self, const struct vd_cmd *g,
		     struct expect *e, uint64_t *touched)
{
	int p, j;

	if (smmu_op_sid_scoped(vd_op(g))) {
		for (p = 0; p < self->n; p++) {
			for (j = 0; j < DEVS; j++) {
				if (!self->vdev[p][j] || VSID(p, j) != vd_sid(g))
					continue;
				expect_emit(e, p, vd_sid_for(g, PSID(j)));
				*touched |= 1ULL << p;
				return 0;
			}
		}
		return -1;
	}
	for (p = 0; p < self->n; p++) {
		if (!s1_on(self, p))
			continue;
		expect_emit(e, p, vd_tlbi_for(g, self->vmid[p]));
		*touched |= 1ULL << p;
	}
	return 0;
}

/*
 * The model for a whole successful call: a round ends once a pSMMU has
 * VD_ROUND commands pending, or at the end, and each pSMMU it touched then
 * gets a CMD_SYNC.
 */
static void model_batch(struct _test_data_dispatch *self, struct expect *e,
			const struct vd_cmd *guest, uint32_t num)
{
	uint64_t touched = 0, round_start[MAX_PSMMUS];
	bool full;
	uint32_t i;
	int p;

	memcpy(round_start, e->cmds, sizeof(round_start));
	for (i = 0; i < num; i++) {
		model_cmd(self, &guest[i], e, &touched);
		full = false;
		for (p = 0; p < e->nr; p++)
			full |= e->cmds[p] - round_start[p] == VD_ROUND;
		if (full || i == num - 1) {
			expect_syncs(e, touched);
			touched = 0;
			memcpy(round_start, e->cmds, sizeof(round_start));
		}
	}
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
			ASSERT_EQ(0, vd_nested_alloc_s1(self->fd,
							self->dev_id[p][j],
							self->viommu,
							CDPTR(p, j),
							&self->s1[p][j]));
			ASSERT_EQ(0, vd_nested_alloc_bypass(self->fd,
							    self->dev_id[p][j],
							    self->viommu,
							    &self->byp[p][j]));
		}
		/* The vIOMMU's VMID there, from a nested STE */
		attach(_metadata, self, p, 0, AT_BYP);
		vmid = vd_ste_vmid(self->mfd, p, PSID(0));
		ASSERT_LT(0, vmid);
		self->vmid[p] = vmid;
		attach(_metadata, self, p, 0, AT_S2);
	}
	for (p = 0; p < self->nr; p++) {
		ASSERT_EQ(0, mock_cmdq_log_clear(self->mfd, p));
		ASSERT_EQ(0, mock_cache_fill(self->mfd, p, NULL, 0));
	}
}

FIXTURE_TEARDOWN(dispatch)
{
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
	{ "CFGI_CD", SMMU_OP_CFGI_CD | VD_SSID(0x123), VD_LEAF },
	{ "CFGI_CD SSID 0", SMMU_OP_CFGI_CD, 0 },
	{ "CFGI_CD_ALL", SMMU_OP_CFGI_CD_ALL, 0 },
	{ "ATC_INV SSV", SMMU_OP_ATC_INV | VD_SSV | VD_SSID(0xfffff),
	  0x10000 | VD_ATC_SIZE(4) },
	{ "ATC_INV GLOBAL", SMMU_OP_ATC_INV | VD_GLOBAL, VD_ATC_SIZE(52) },
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
	{ "TLBI_NH_ALL", SMMU_OP_TLBI_NH_ALL | VD_VMID(0x77), 0,
	  SMMU_OP_TLBI_NH_ALL, 0 },
	{ "TLBI_NH_ASID", SMMU_OP_TLBI_NH_ASID | VD_VMID(1) | VD_ASID(0xbeef), 0,
	  SMMU_OP_TLBI_NH_ASID | VD_ASID(0xbeef), 0 },
	{ "TLBI_NH_VA", SMMU_OP_TLBI_NH_VA | VD_ASID(0x42),
	  0x12345000 | VD_LEAF,
	  SMMU_OP_TLBI_NH_VA | VD_ASID(0x42), 0x12345000 | VD_LEAF },
	{ "TLBI_NH_VA range",
	  SMMU_OP_TLBI_NH_VA | VD_VMID(0xffff) | VD_ASID(7) | VD_NUM(3) |
	  VD_SCALE(2), 0x40000000 | VD_TG(1) | VD_TTL(3),
	  SMMU_OP_TLBI_NH_VA | VD_ASID(7) | VD_NUM(3) | VD_SCALE(2),
	  0x40000000 | VD_TG(1) | VD_TTL(3) },
	{ "TLBI_NH_VAA range", SMMU_OP_TLBI_NH_VAA | VD_VMID(5) | VD_NUM(1),
	  0xfff000000ULL | VD_TG(3) | VD_TTL(1) | VD_LEAF,
	  SMMU_OP_TLBI_NH_VAA | VD_NUM(1),
	  0xfff000000ULL | VD_TG(3) | VD_TTL(1) | VD_LEAF },
	{ "TLBI_NH_VAA", SMMU_OP_TLBI_NH_VAA, 0x8000, SMMU_OP_TLBI_NH_VAA, 0x8000 },
	{ "TLBI_NSNH_ALL", SMMU_OP_TLBI_NSNH_ALL, 0, SMMU_OP_TLBI_NH_ALL, 0 },
};

#define ROUTE_DEV	ARRAY_SIZE(route_dev)
#define ROUTE_TLBI	ARRAY_SIZE(route_tlbi)
#define ROUTE_MAX	(ROUTE_DEV * VMAX * DEVS + ROUTE_TLBI)

struct route {
	char name[48];
	struct vd_cmd g;
	int p;			/* pSMMU of the device, -1: VMID-scoped */
	struct vd_cmd e;	/* exact, or without VMID when VMID-scoped */
};

/* Emit what the table says entry @r becomes (written out, not the model) */
static void route_expect(struct _test_data_dispatch *self, const struct route *r,
			 struct expect *e, uint64_t *touched)
{
	int q;

	for (q = 0; q < self->nr; q++) {
		if (r->p == q) {
			expect_emit(e, q, r->e);
		} else if (r->p < 0 && s1_on(self, q)) {
			expect_emit(e, q, vd_cmd(r->e.w[0] |
						 VD_VMID(self->vmid[q]),
						 r->e.w[1]));
		} else {
			continue;
		}
		*touched |= 1ULL << q;
	}
}

/*
 * Each accepted opcode, for devices on every pSMMU and as TLBIs, under
 * several placements of stage-1 nested HWPTs: one command per call, then
 * the whole table as one call. The logs must hold exactly the rewritten
 * words on exactly the right pSMMUs, each followed by one CMD_SYNC.
 */
TEST_F(dispatch, routing_table)
{
	static struct route table[ROUTE_MAX];
	static struct vd_cmd batch[ROUTE_MAX];
	uint64_t all = (1ULL << self->n) - 1, masks[4], touched;
	uint64_t ill[MAX_PSMMUS];
	struct mock_smmu_counters cnt;
	unsigned int k, m, num_masks = 0, num;
	struct expect e;
	uint32_t done;
	uint64_t ste[4];
	int p, j;

	/* CERROR_ILL counts since load; other programs raise some on purpose */
	for (p = 0; p < self->nr; p++) {
		ASSERT_EQ(0, mock_get_counters(self->mfd, p, &cnt));
		ill[p] = cnt.cerror_ill;
	}
	ASSERT_EQ(0, expect_init(&e, self->nr, LOG_SIZE));
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
			ASSERT_EQ(self->vmid[p], ste[2] & MOCK_STE2_VMID_MASK);
			ASSERT_EQ(masks[m] & (1ULL << p) ?
				  MOCK_STE_CFG_NESTED : MOCK_STE_CFG_S2_TRANS,
				  MOCK_STE_CFG(ste[0]));
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
					r->g = vd_cmd(route_dev[k].w0 |
						      VD_SID(VSID(p, j)),
						      route_dev[k].w1);
					r->e = vd_cmd(route_dev[k].w0 |
						      VD_SID(PSID(j)),
						      route_dev[k].w1);
				}
			}
		}
		for (k = 0; k < ROUTE_TLBI; k++) {
			struct route *r = &table[num++];

			snprintf(r->name, sizeof(r->name), "%s",
				 route_tlbi[k].name);
			r->p = -1;
			r->g = vd_cmd(route_tlbi[k].g0, route_tlbi[k].g1);
			r->e = vd_cmd(route_tlbi[k].e0, route_tlbi[k].e1);
		}

		/* One command per call */
		clear_logs(_metadata, self->mfd, self->nr);
		for (k = 0; k < num; k++) {
			expect_reset(&e);
			touched = 0;
			route_expect(self, &table[k], &e, &touched);
			expect_syncs(&e, touched);
			ASSERT_EQ(0, viommu_invalidate_smmu(self->fd, self->viommu,
							    &table[k].g, 1, &done))
				TH_LOG("%s, S1 mask 0x%llx", table[k].name,
				       (unsigned long long)masks[m]);
			ASSERT_EQ(1, done);
			assert_expect(_metadata, self->mfd, &e);
		}

		/* The whole table in one call: one round, one sync each */
		expect_reset(&e);
		touched = 0;
		for (k = 0; k < num; k++) {
			batch[k] = table[k].g;
			route_expect(self, &table[k], &e, &touched);
		}
		expect_syncs(&e, touched);
		ASSERT_EQ(0, viommu_invalidate_smmu(self->fd, self->viommu,
						    batch, num, &done));
		ASSERT_EQ(num, done);
		assert_expect(_metadata, self->mfd, &e);
	}

	for (p = 0; p < self->nr; p++) {
		ASSERT_EQ(0, mock_get_counters(self->mfd, p, &cnt));
		ASSERT_EQ(ill[p], cnt.cerror_ill) TH_LOG("pSMMU %d", p);
	}
	expect_free(&e);
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
	const struct vd_cmd g[2] = {
		vd_cmd(SMMU_OP_TLBI_NSNH_ALL, 0),
		vd_cmd(SMMU_OP_TLBI_NH_ASID | VD_ASID(3) | VD_VMID(0x3333), 0),
	};
	struct vd_cmd want[3];
	uint64_t total;
	uint32_t done;
	int q, n, i;

	clear_logs(_metadata, self->mfd, self->nr);
	ASSERT_EQ(0, viommu_invalidate_smmu(self->fd, viommu, g, 2, &done))
		TH_LOG("line %d", line);
	ASSERT_EQ(2, done);
	for (q = 0; q < self->nr; q++) {
		n = mock_cmdq_log_num(self->mfd, q, MOCK_SMMU_CMDQ_LOG_CLEAR,
				      log_buf, LOG_SIZE, &total);
		if (!(mask & (1ULL << q))) {
			ASSERT_EQ(0, n) TH_LOG("line %d: pSMMU %d got %d", line,
					       q, n);
			continue;
		}
		want[0] = vd_cmd(SMMU_OP_TLBI_NH_ALL | VD_VMID(vmid[q]), 0);
		want[1] = vd_cmd(SMMU_OP_TLBI_NH_ASID | VD_ASID(3) |
				 VD_VMID(vmid[q]), 0);
		want[2] = vd_cmd(VD_SYNC0, VD_SYNC1);
		ASSERT_EQ(3, n) TH_LOG("line %d: pSMMU %d", line, q);
		for (i = 0; i < 3; i++) {
			ASSERT_TRUE(want[i].w[0] == log_buf[i].w[0] &&
				    want[i].w[1] == log_buf[i].w[1])
				TH_LOG("line %d: pSMMU %d entry %d: %016llx %016llx",
				       line, q, i,
				       (unsigned long long)log_buf[i].w[0],
				       (unsigned long long)log_buf[i].w[1]);
		}
	}
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
		ASSERT_EQ(0, vd_nested_alloc_s1(self->fd, self->dev_id[p][0],
						v2, CDPTR(p, 0), &s1v2));
		ASSERT_EQ(0, mock_dev_attach(self->mfd, self->dev[p][0], s1v2,
					     &out));
		ASSERT_EQ(s1v2, out);
		self->att[p][0] = AT_OTHER;
		vmid = vd_ste_vmid(self->mfd, p, PSID(0));
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

/* ---- Order within a pSMMU ----------------------------------------------- */

enum gen_kind {
	GEN_ANY,	/* any accepted command */
	GEN_DEV,	/* device-scoped, for the devices of one pSMMU */
	GEN_TLBI,	/* VMID-scoped */
};

/* A random legal guest command; @p is the pSMMU for GEN_DEV */
static struct vd_cmd gen_cmd(struct _test_data_dispatch *self, enum gen_kind kind,
			     int p)
{
	uint64_t page = (uint64_t)(rnd() & 0xfffff) << 12;
	uint32_t r = rnd();
	int j = rnd() % DEVS;

	if (kind == GEN_ANY)
		kind = r % 3 ? GEN_DEV : GEN_TLBI;
	if (kind == GEN_DEV) {
		uint32_t vsid;

		if (p < 0)
			p = rnd() % self->n;
		vsid = VSID(p, j);
		switch (rnd() % 4) {
		case 0:
			return vd_cmd(SMMU_OP_CFGI_CD | VD_SID(vsid) |
				      VD_SSID(rnd() & 0xfffff), rnd() & 1);
		case 1:
			return vd_cmd(SMMU_OP_CFGI_CD_ALL | VD_SID(vsid), 0);
		case 2:
			return vd_cmd(SMMU_OP_ATC_INV | VD_SID(vsid) | VD_SSV |
				      VD_SSID(rnd() & 0xfffff),
				      page | VD_ATC_SIZE(rnd() % 53));
		default:
			return vd_cmd(SMMU_OP_ATC_INV | VD_SID(vsid), page);
		}
	}
	switch (rnd() % 6) {
	case 0:
		return vd_cmd(SMMU_OP_TLBI_NH_ALL | VD_VMID(rnd()), 0);
	case 1:
		return vd_cmd(SMMU_OP_TLBI_NH_ASID | VD_VMID(rnd()) |
			      VD_ASID(rnd()), 0);
	case 2:
		return vd_cmd(SMMU_OP_TLBI_NH_VA | VD_ASID(rnd()), page | 1);
	case 3:
		return vd_cmd(SMMU_OP_TLBI_NH_VA | VD_ASID(rnd()) |
			      VD_NUM(1 + rnd() % 31) | VD_SCALE(rnd() % 32),
			      page | VD_TG(rnd() % 2 ? 1 : 3) |
			      VD_TTL(rnd() % 4));
	case 4:
		return vd_cmd(SMMU_OP_TLBI_NH_VAA | VD_VMID(rnd()), page);
	default:
		return vd_cmd(SMMU_OP_TLBI_NSNH_ALL, 0);
	}
}

#define ORDER_NUM	(4 * VD_ROUND + 77)

/*
 * A mixed batch of several rounds, some of which leave pSMMUs out (only
 * devices of pSMMU 0, only TLBIs), with the last pSMMU carrying no stage 1
 * when there are several: each pSMMU's log must be exactly the in-order
 * subsequence of translated commands for it, with one CMD_SYNC after its
 * share of each round. Prefixes ending around round boundaries too.
 */
TEST_F(dispatch, ordering)
{
	static const uint32_t lens[] = {
		1, VD_ROUND - 1, VD_ROUND, VD_ROUND + 1, 3 * VD_ROUND,
		ORDER_NUM,
	};
	static struct vd_cmd guest[ORDER_NUM];
	struct expect e;
	uint32_t i, done;
	unsigned int k;
	int p;

	ASSERT_EQ(0, expect_init(&e, self->nr, LOG_SIZE));
	for (p = 0; p < self->n; p++) {
		attach(_metadata, self, p, 0,
		       self->n == 1 || p < self->n - 1 ? AT_S1 : AT_BYP);
		attach(_metadata, self, p, 1, AT_BYP);
	}
	/* Leaving the parent flushed its VMIDs: not part of what is checked */
	clear_logs(_metadata, self->mfd, self->nr);

	rnd_state = 0x1234567;
	for (i = 0; i < ORDER_NUM; i++) {
		switch (i / VD_ROUND) {
		case 1:
			guest[i] = gen_cmd(self, GEN_DEV, 0);
			break;
		case 2:
			guest[i] = gen_cmd(self, GEN_TLBI, -1);
			break;
		default:
			guest[i] = gen_cmd(self, GEN_ANY, -1);
			break;
		}
	}

	for (k = 0; k < ARRAY_SIZE(lens); k++) {
		expect_reset(&e);
		model_batch(self, &e, guest, lens[k]);
		ASSERT_EQ(0, viommu_invalidate_smmu(self->fd, self->viommu, guest,
						    lens[k], &done));
		ASSERT_EQ(lens[k], done);
		assert_expect(_metadata, self->mfd, &e);
	}
	expect_free(&e);
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
		     const char *what, const struct vd_cmd *cmds, uint32_t num)
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
	struct vd_cmd g[VMAX];
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
		g[p] = p % 2 ?
		       vd_cmd(SMMU_OP_CFGI_CD | VD_SID(VSID(p, 1)) | VD_SSID(5),
			      VD_LEAF) :
		       vd_cmd(SMMU_OP_CFGI_CD | VD_SID(VSID(p, 0)) | VD_SSID(3),
			      0);
		cache_drop(&set[p], MOCK_SMMU_CACHE_CD, PSID(p % 2),
			   p % 2 ? 5 : 3, ~0ULL);
	}
	inv_step(_metadata, self, set, "CFGI_CD", g, self->n);

	/* CFGI_CD_ALL of device 1 of the last pSMMU */
	g[0] = vd_cmd(SMMU_OP_CFGI_CD_ALL | VD_SID(VSID(last, 1)), 0);
	cache_drop(&set[last], MOCK_SMMU_CACHE_CD, PSID(1), ~0U, ~0ULL);
	inv_step(_metadata, self, set, "CFGI_CD_ALL", g, 1);

	/* ATC_INV without SSV: every SSID of the 4K page */
	g[0] = vd_cmd(SMMU_OP_ATC_INV | VD_SID(VSID(0, 0)), 0x4000);
	cache_drop(&set[0], MOCK_SMMU_CACHE_ATC, PSID(0), ~0U, 0x4000);
	inv_step(_metadata, self, set, "ATC_INV", g, 1);

	/* ATC_INV with SSV 0 */
	g[0] = vd_cmd(SMMU_OP_ATC_INV | VD_SID(VSID(last, 0)) | VD_SSV |
		      VD_SSID(0), 0x9000);
	cache_drop(&set[last], MOCK_SMMU_CACHE_ATC, PSID(0), 0, 0x9000);
	inv_step(_metadata, self, set, "ATC_INV SSV", g, 1);

	/* The TLBIs, with a guest VMID that matches nothing */
	num = 0;
	g[num++] = vd_cmd(SMMU_OP_TLBI_NH_VA | VD_VMID(0x1234) | VD_ASID(2),
			  0x3000);
	for (p = 0; p < self->n; p++)
		if (s1_on(self, p))
			cache_drop(&set[p], MOCK_SMMU_CACHE_TLB, self->vmid[p],
				   2, 0x3000);
	inv_step(_metadata, self, set, "TLBI_NH_VA", g, num);

	g[0] = vd_cmd(SMMU_OP_TLBI_NH_VAA, 0x2000);
	for (p = 0; p < self->n; p++)
		if (s1_on(self, p))
			cache_drop(&set[p], MOCK_SMMU_CACHE_TLB, self->vmid[p],
				   ~0U, 0x2000);
	inv_step(_metadata, self, set, "TLBI_NH_VAA", g, 1);

	g[0] = vd_cmd(SMMU_OP_TLBI_NH_ASID | VD_ASID(1), 0);
	for (p = 0; p < self->n; p++)
		if (s1_on(self, p))
			cache_drop(&set[p], MOCK_SMMU_CACHE_TLB, self->vmid[p],
				   1, ~0ULL);
	inv_step(_metadata, self, set, "TLBI_NH_ASID", g, 1);

	g[0] = vd_cmd(SMMU_OP_TLBI_NSNH_ALL, 0);
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
 * commands for devices on every pSMMU and TLBIs, with every 16th round
 * only for the devices of one pSMMU, and the last pSMMU without a stage 1
 * when there are several. Counters must grow by exactly the commands and
 * rounds the model gives each pSMMU, and the logs' last entries must be the
 * model's.
 */
TEST_F_TIMEOUT(dispatch, max_entries, 600)
{
	struct mock_smmu_counters before[MAX_PSMMUS], after[MAX_PSMMUS];
	const uint32_t num = VD_MAX_ENTRIES;
	struct vd_cmd *guest;
	struct expect e;
	uint32_t i, r, done;
	double t;
	int p, rc;

	ASSERT_EQ(0, expect_init(&e, self->nr, LOG_SIZE));
	guest = malloc(num * sizeof(*guest));
	ASSERT_NE(NULL, guest);
	for (p = 0; p < self->n; p++) {
		attach(_metadata, self, p, 0,
		       self->n == 1 || p < self->n - 1 ? AT_S1 : AT_BYP);
		attach(_metadata, self, p, 1, AT_BYP);
	}

	for (i = 0; i < num; i++) {
		uint32_t k = i % (self->n * DEVS);

		r = i / VD_ROUND;
		if (r % 16 == 5) {
			p = (r / 16) % self->n;
			guest[i] = vd_cmd(SMMU_OP_CFGI_CD_ALL |
					  VD_SID(VSID(p, i % DEVS)), 0);
		} else if (i % 4 == 3) {
			switch (i / 4 % 3) {
			case 0:
				guest[i] = vd_cmd(SMMU_OP_TLBI_NH_ASID |
						  VD_ASID(i & 0xffff), 0);
				break;
			case 1:
				guest[i] = vd_cmd(SMMU_OP_TLBI_NH_VA |
						  VD_ASID(i >> 16),
						  (uint64_t)i << 12);
				break;
			default:
				guest[i] = vd_cmd(SMMU_OP_TLBI_NSNH_ALL, 0);
				break;
			}
		} else if (i % 4 == 1) {
			guest[i] = vd_cmd(SMMU_OP_CFGI_CD |
					  VD_SID(VSID(k / DEVS, k % DEVS)) |
					  VD_SSID(i & 0xfffff), VD_LEAF);
		} else {
			guest[i] = vd_cmd(SMMU_OP_CFGI_CD_ALL |
					  VD_SID(VSID(k / DEVS, k % DEVS)), 0);
		}
	}
	model_batch(self, &e, guest, num);

	clear_logs(_metadata, self->mfd, self->nr);
	read_counters(_metadata, self->mfd, self->nr, before);
	t = now_s();
	rc = viommu_invalidate_smmu(self->fd, self->viommu, guest, num, &done);
	t = now_s() - t;
	ASSERT_EQ(0, rc);
	ASSERT_EQ(num, done);
	read_counters(_metadata, self->mfd, self->nr, after);

	for (p = 0; p < self->nr; p++) {
		ASSERT_EQ(e.cmds[p], after[p].cmds - before[p].cmds)
			TH_LOG("pSMMU %d", p);
		ASSERT_EQ(e.syncs[p], after[p].syncs - before[p].syncs)
			TH_LOG("pSMMU %d", p);
		ASSERT_EQ(before[p].cerror_ill, after[p].cerror_ill);
		ksft_print_msg("pSMMU %d: %llu commands, %llu CMD_SYNC\n", p,
			       (unsigned long long)e.cmds[p],
			       (unsigned long long)e.syncs[p]);
	}
	assert_expect(_metadata, self->mfd, &e);
	ksft_print_msg("%u commands in one call, %d pSMMU(s): %.3f s, %.2f us a command\n",
		       num, self->n, t, t * 1e6 / num);
	expect_free(&e);
	free(guest);
}

/* ---- Invalidations racing with vDEVICE destroy/recreate ----------------- */

/*
 * Thread 0 sends one-round batches, thread 1 batches of four rounds. Both
 * name X at the indexes of race_x_at (below each batch's length).
 */
#define RACE_SHORT	32
#define RACE_LONG	(3 * VD_ROUND + 44)
static const uint32_t race_x_at[] = { 10, 25, 140, 300, 400 };
#define RACE_X_NUM	ARRAY_SIZE(race_x_at)
/* The most one call can put on X's pSMMU: all its commands, a sync a round */
#define RACE_COST	(RACE_LONG + 4)
/* Budget of the calls that may start per window */
#define RACE_BUDGET	2048
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
	unsigned long eio_late[2];	/* at an X after the first round */
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
	static struct vd_cmd batches[2][RACE_LONG];
	struct race_arg *arg = data;
	struct race *race = arg->race;
	struct _test_data_dispatch *self = race->self;
	struct vd_cmd *batch = batches[arg->id];
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
				batch[i] = vd_cmd(SMMU_OP_CFGI_CD |
						  VD_SID(race->vsid_x) |
						  VD_SSID(i), 0);
			else if (i % 3 == 0)
				batch[i] = vd_cmd(SMMU_OP_TLBI_NH_ASID |
						  VD_ASID(i), 0);
			else if (i % 3 == 1)
				batch[i] = vd_cmd(SMMU_OP_CFGI_CD_ALL |
						  VD_SID(VSID(p, j)), 0);
			else
				batch[i] = vd_cmd(SMMU_OP_ATC_INV |
						  VD_SID(VSID(p, j)),
						  VD_ATC_SIZE(52));
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
 * and other devices, plus TLBIs, one thread in calls of one round, the
 * other in calls of four rounds, while this thread destroys X's vDEVICE
 * and recreates it, over and over. A call must succeed, or fail with EIO
 * and entry_num at a command naming X, which happens while X has no
 * vDEVICE; in a call of several rounds that can be a later round.
 *
 * The check that nothing for X runs while its vDEVICE is gone uses the
 * position in X's pSMMU log, whose `total` counts every command the pSMMU
 * executed since the log was cleared and which keeps the last 8192:
 *
 *  - t1 = total, read right after IOMMU_DESTROY of the vDEVICE returned.
 *    Destroy waits for the dispatcher's rounds that may have found the
 *    vDEVICE, and a round ends only once its commands executed, so every
 *    command for X the vDEVICE let through is at a position below t1.
 *  - t2 = total, read with the log itself right before the vDEVICE is
 *    recreated. Between t1 and t2 no command may carry X's physical SID
 *    (other devices on the pSMMU have other physical SIDs).
 *
 * The window [t1, t2) must still be in the log when it is read: before
 * each call the invalidating threads take RACE_COST (the most one call can
 * put on X's pSMMU: all its commands and a sync per round) from a budget,
 * and pause while RACE_BUDGET is spent; the budget is refilled twice a
 * cycle, after t1 and after the recreate, each opening a period. Commands
 * of the window come from calls that took their budget in the window's
 * period or the one before (each at most RACE_BUDGET + 2 * RACE_COST, two
 * threads racing for the last share) or from the one call per thread
 * under way before that, so at most
 * 2 * (RACE_BUDGET + 2 * RACE_COST) + 2 * RACE_COST = 6688 commands run on
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
	struct vd_cmd c;
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
			const struct vd_cmd *c = &log_buf[i];

			if (smmu_op_sid_scoped(vd_op(c)) && vd_sid(c) == psid_x)
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
	ksft_print_msg("%lu windows checked; calls: %lu ok, %lu EIO at X (%lu past round 0)\n",
		       windows, ok, eio, eio_late);
	ASSERT_LT(0, ok);
	ASSERT_LT(0, eio);

	/* X works as before */
	clear_logs(_metadata, self->mfd, self->nr);
	c = vd_cmd(SMMU_OP_CFGI_CD_ALL | VD_SID(race.vsid_x), 0);
	ASSERT_EQ(0, viommu_invalidate_smmu(self->fd, self->viommu, &c, 1, &done));
	ASSERT_EQ(1, done);
	ASSERT_EQ(2, mock_cmdq_log_num(self->mfd, race.px, 0, log_buf, LOG_SIZE,
				       &t2));
	ASSERT_EQ(SMMU_OP_CFGI_CD_ALL | VD_SID(psid_x), log_buf[0].w[0]);
	ASSERT_EQ(0, log_buf[0].w[1]);
	ASSERT_TRUE(vd_is_sync(&log_buf[1]));
}

TEST_HARNESS_MAIN
