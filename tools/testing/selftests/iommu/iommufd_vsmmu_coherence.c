// SPDX-License-Identifier: GPL-2.0-only
/*
 * TLB coherence of the mock SMMUv3 driver over the whole lifecycle of
 * paging domains, vIOMMUs and their nested HWPTs: what each pSMMU must
 * execute, and what must be gone from its TLB, before the ioctl that ends
 * a translation returns.
 *
 * A VMID is live on pSMMU p while a device on p is attached directly to a
 * paging domain (the domain's VMID there) or to a stage-1 or bypass nested
 * HWPT of a vIOMMU (the vIOMMU's VMID there). The rules:
 *
 * - R1: removing mappings of a paging domain (IOMMU_IOAS_UNMAP of part or
 *   all of the IOAS): on every pSMMU, one TLBI_S12_VMALL per live VMID
 *   that translates through the domain, in any order, then one CMD_SYNC;
 *   nothing at all on a pSMMU without one. That is one round per change
 *   the driver is told of: iommufd unmaps area by area, so the unmap_all_*
 *   tests, which remove two areas, see two rounds or more, and the
 *   unmap_partial test removes them one at a time. The CMD_SYNCs of a
 *   round are all written before the first wait (unmap_syncs_overlap).
 * - R2: the last STE on p that references VMID v goes away (detach,
 *   replace, unbind, device removal): TLBI_S12_VMALL(v), CMD_SYNC on p.
 * - R2b: the last stage-1 nested STE of a vIOMMU on p goes away while
 *   bypass STEs of it remain there: TLBI_NH_ALL(v), CMD_SYNC on p.
 * - R3: IOMMU_DESTROY of a vIOMMU: TLBI_S12_VMALL of its VMID, CMD_SYNC
 *   on every pSMMU it spans.
 * - R4: IOMMU_DESTROY of a paging HWPT: TLBI_S12_VMALL of its VMID,
 *   CMD_SYNC on every pSMMU where it ever got one.
 * - R5: a guest TLBI_NH_* reaches p only while a device on p is attached
 *   to a stage-1 nested HWPT of the vIOMMU.
 *
 * Each step seeds TLB entries (MOCK_SMMU_CACHE_FILL) of the VMIDs at stake
 * and one of an unrelated VMID on every pSMMU, clears the command logs,
 * does one lifecycle operation, then checks the exact commands each pSMMU
 * executed (nothing where nothing is needed), that the seeded entries of
 * the affected VMIDs are gone and that the unrelated one survived. The
 * checks are EXPECTs, so a test reports every rule it breaks.
 *
 * The fixture runs with 1, 2 and 4 pSMMUs carrying devices (skipped when
 * the module has fewer): two devices on each. With more than one, the
 * vIOMMUs span every pSMMU of the module, including any without such
 * devices. Every pSMMU also gets a probe device, attached to a bypass
 * nested HWPT only to read a vIOMMU's VMID there from its STE.
 */
#include <stdlib.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "iommufd_viommu_utils.h"

#define MAX_PSMMUS		64
#define VMAX			4	/* pSMMUs with devices, at most */
#define DEVS			2	/* devices per pSMMU */
#define VSET_MAX		8	/* VMIDs at stake per pSMMU */
#define EXP_MAX			16	/* commands expected per pSMMU */
#define LOG_MAX			64
#define CACHE_MAX		256

/* Physical StreamIDs: the same on every pSMMU */
#define PSID(j)			(0x100 + (j))
#define PSID_PROBE		0x1ff
/* Virtual StreamIDs on vIOMMU @k */
#define VSID(k, p, j)		(0x70000 + (k) * 0x1000 + (p) * 0x10 + (j))
/* Guest CD table of a stage-1 STE */
#define CDPTR(p, j)		(0x80000000ULL + (p) * 0x10000 + (j) * 0x1000)

/* Guest RAM: two areas of the IOAS */
#define RAM_LEN			0x10000UL
#define RAM_A			0x100000ULL
#define RAM_B			0x400000ULL

/* The entry seeded for each VMID at stake, and one nobody may touch */
#define SEED_ASID		1
#define SEED_VA			0x2000ULL
#define VMID_UNRELATED		0xfff0

/* How a device is attached */
enum {
	AT_NONE,	/* detached (abort STE) */
	AT_S2,		/* directly to a paging domain */
	AT_S1,		/* to a stage-1 nested HWPT of a vIOMMU */
	AT_BYP,		/* to a bypass nested HWPT of a vIOMMU */
};

struct cmd {
	uint64_t w[2];
};

/* Commands a pSMMU must execute before its one CMD_SYNC, in any order */
struct pexp {
	int num;
	struct cmd c[EXP_MAX];
};

/* A set of VMIDs on one pSMMU */
struct vset {
	int num;
	uint16_t v[VSET_MAX];
};

/* A paging HWPT and the VMID each pSMMU gave it (0: none seen yet) */
struct dom {
	uint32_t id;
	uint16_t vmid[MAX_PSMMUS];
};

/* A vIOMMU spanning pSMMUs 0..span-1, and its nested HWPTs */
struct vio {
	uint32_t id;
	int span;
	uint16_t vmid[MAX_PSMMUS];
	uint32_t vdev[VMAX][DEVS];
	uint32_t s1[VMAX][DEVS];
	uint32_t byp[VMAX][DEVS];
};

static struct pexp expected[MAX_PSMMUS];
static struct cmd log_buf[LOG_MAX];
static struct mock_smmu_cache_entry cache_buf[CACHE_MAX];

/* FIXTURE_DATA(coh) is struct _test_data_coh */
FIXTURE(coh)
{
	int fd;
	int mfd;
	int nr;			/* pSMMUs of the module */
	int n;			/* pSMMUs with devices: 0..n-1 */
	uint32_t ioas_id;
	void *ram;
	uint32_t dev[VMAX][DEVS];
	uint32_t dev_id[VMAX][DEVS];
	uint32_t probe[MAX_PSMMUS];
	uint32_t probe_id[MAX_PSMMUS];
	/* A nesting parent on the IOAS, for the vIOMMUs */
	struct dom parent;
	/* What each device is attached to */
	int how[VMAX][DEVS];
	struct dom *dom[VMAX][DEVS];
	struct vio *vio[VMAX][DEVS];
};

FIXTURE_VARIANT(coh)
{
	int psmmus;
};

FIXTURE_VARIANT_ADD(coh, psmmus_1)
{
	.psmmus = 1,
};

FIXTURE_VARIANT_ADD(coh, psmmus_2)
{
	.psmmus = 2,
};

FIXTURE_VARIANT_ADD(coh, psmmus_4)
{
	.psmmus = 4,
};

static void map_ram(struct __test_metadata *_metadata,
		    struct _test_data_coh *self)
{
	ASSERT_EQ(0, ioas_map(self->fd, self->ioas_id, self->ram, RAM_LEN,
			      RAM_A));
	ASSERT_EQ(0, ioas_map(self->fd, self->ioas_id,
			      (char *)self->ram + RAM_LEN, RAM_LEN, RAM_B));
}

static void logs_clear(struct __test_metadata *_metadata,
		       struct _test_data_coh *self)
{
	int q;

	for (q = 0; q < self->nr; q++)
		ASSERT_EQ(0, mock_cmdq_log_clear(self->mfd, q));
}

FIXTURE_SETUP(coh)
{
	int p, j, q;

	if (!viommu_fixture_open(_metadata, &self->fd, &self->mfd, &self->nr,
				 MAX_PSMMUS, variant->psmmus))
		return;
	self->n = variant->psmmus;

	self->ram = mmap(NULL, 2 * RAM_LEN, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->ram);
	ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas_id));
	map_ram(_metadata, self);
	for (p = 0; p < self->n; p++) {
		for (j = 0; j < DEVS; j++) {
			ASSERT_EQ(0, mock_dev_create_bind(self->mfd, self->fd,
							  p, PSID(j),
							  &self->dev[p][j],
							  &self->dev_id[p][j]));
		}
	}
	for (q = 0; q < self->nr; q++) {
		ASSERT_EQ(0, mock_dev_create_bind(self->mfd, self->fd, q,
						  PSID_PROBE, &self->probe[q],
						  &self->probe_id[q]));
	}
	ASSERT_EQ(0, hwpt_alloc_nest_parent(self->fd, self->dev_id[0][0],
					    self->ioas_id, &self->parent.id));
	for (q = 0; q < self->nr; q++)
		ASSERT_EQ(0, mock_cache_fill(self->mfd, q, NULL, 0));
	logs_clear(_metadata, self);
}

FIXTURE_TEARDOWN(coh)
{
	close(self->mfd);
	close(self->fd);
	munmap(self->ram, 2 * RAM_LEN);
}

/* ---- STEs, vIOMMUs, attachments ----------------------------------------- */

/* The S2VMID of the STE of @sid on @psmmu, whose Config must be @cfg */
static uint16_t ste_vmid(struct __test_metadata *_metadata,
			 struct _test_data_coh *self, int psmmu, uint32_t sid,
			 unsigned int cfg)
{
	uint64_t ste[4];
	uint16_t vmid;

	ASSERT_EQ(0, mock_get_ste(self->mfd, psmmu, sid, ste));
	ASSERT_EQ(SMMU_STE0_V, ste[0] & SMMU_STE0_V);
	ASSERT_EQ(cfg, smmu_field_get(SMMU_STE0_CFG, ste[0]))
		TH_LOG("pSMMU %d SID 0x%x ste0 0x%016llx", psmmu, sid,
		       (unsigned long long)ste[0]);
	if (cfg == SMMU_STE_CFG_ABORT)
		return 0;
	vmid = smmu_field_get(SMMU_STE2_S2VMID, ste[2]);
	ASSERT_NE(0, vmid) TH_LOG("pSMMU %d SID 0x%x", psmmu, sid);
	return vmid;
}

static uint32_t nested_alloc(struct __test_metadata *_metadata, int fd,
			     uint32_t dev_id, uint32_t viommu_id,
			     unsigned int cfg, uint64_t cdptr)
{
	uint64_t ste0 = SMMU_STE0_V | smmu_field_prep(SMMU_STE0_CFG, cfg);
	uint32_t id = 0;

	if (cfg == SMMU_STE_CFG_S1_TRANS)
		ste0 |= cdptr & SMMU_STE0_S1CTXPTR;
	ASSERT_EQ(0, hwpt_alloc_nested_smmu(fd, dev_id, viommu_id, ste0, 0,
					    &id));
	ASSERT_NE(0, id);
	return id;
}

/*
 * The VMID of vIOMMU @viommu_id on pSMMU @q, from the STE of the probe
 * device attached to a bypass nested HWPT. With @keep the probe stays
 * attached; else it is detached and the HWPT destroyed again.
 */
static uint16_t probe_vmid(struct __test_metadata *_metadata,
			   struct _test_data_coh *self, uint32_t viommu_id,
			   int q, bool keep)
{
	uint32_t hwpt, out = 0;
	uint16_t vmid;

	hwpt = nested_alloc(_metadata, self->fd, self->probe_id[q], viommu_id,
			    SMMU_STE_CFG_BYPASS, 0);
	ASSERT_EQ(0, mock_dev_attach(self->mfd, self->probe[q], hwpt, &out));
	ASSERT_EQ(hwpt, out);
	vmid = ste_vmid(_metadata, self, q, PSID_PROBE, SMMU_STE_CFG_S2_TRANS);
	if (!keep) {
		ASSERT_EQ(0, mock_dev_detach(self->mfd, self->probe[q]));
		ASSERT_EQ(0, iommufd_destroy(self->fd, hwpt));
	}
	return vmid;
}

/* pSMMUs a vIOMMU of this variant spans: all of them when it spans */
static int viommu_span(struct _test_data_coh *self)
{
	return self->n > 1 ? self->nr : 1;
}

/*
 * vIOMMU number @k on the nesting parent, spanning when n > 1, with its
 * VMID on each pSMMU it spans; a stage-1 and a bypass nested HWPT for each
 * device, and a vDEVICE for devices j in @jmask.
 */
static void vio_alloc(struct __test_metadata *_metadata,
		      struct _test_data_coh *self, struct vio *v, int k,
		      unsigned int jmask)
{
	int p, j, q;

	memset(v, 0, sizeof(*v));
	v->span = viommu_span(self);
	ASSERT_EQ(0, viommu_alloc_smmu(self->fd, self->n > 1,
				       self->dev_id[0][0], self->parent.id,
				       &v->id));
	for (q = 0; q < v->span; q++)
		v->vmid[q] = probe_vmid(_metadata, self, v->id, q, false);
	for (p = 0; p < self->n; p++) {
		for (j = 0; j < DEVS; j++) {
			if (jmask & (1U << j)) {
				ASSERT_EQ(0, vdevice_alloc(self->fd, v->id,
							   self->dev_id[p][j],
							   VSID(k, p, j),
							   &v->vdev[p][j]));
			}
			v->s1[p][j] = nested_alloc(_metadata, self->fd,
						   self->dev_id[p][j], v->id,
						   SMMU_STE_CFG_S1_TRANS,
						   CDPTR(p, j));
			v->byp[p][j] = nested_alloc(_metadata, self->fd,
						    self->dev_id[p][j], v->id,
						    SMMU_STE_CFG_BYPASS, 0);
		}
	}
}

/*
 * Attach device (@p, @j) as @how: to paging HWPT @d, or to a nested HWPT
 * of @v; check its STE and learn the VMID of @d.
 */
static void set_att(struct __test_metadata *_metadata,
		    struct _test_data_coh *self, int p, int j, int how,
		    struct dom *d, struct vio *v)
{
	uint32_t pt = 0, out = 0;
	uint16_t vmid;

	if (how == AT_S2)
		pt = d->id;
	else if (how == AT_S1)
		pt = v->s1[p][j];
	else if (how == AT_BYP)
		pt = v->byp[p][j];

	if (how == AT_NONE) {
		ASSERT_EQ(0, mock_dev_detach(self->mfd, self->dev[p][j]));
	} else {
		ASSERT_EQ(0, mock_dev_attach(self->mfd, self->dev[p][j], pt,
					     &out))
			TH_LOG("pSMMU %d device %d to %u", p, j, pt);
		ASSERT_EQ(pt, out);
	}
	self->how[p][j] = how;
	self->dom[p][j] = d;
	self->vio[p][j] = v;

	switch (how) {
	case AT_NONE:
		ste_vmid(_metadata, self, p, PSID(j), SMMU_STE_CFG_ABORT);
		break;
	case AT_S2:
		vmid = ste_vmid(_metadata, self, p, PSID(j),
				SMMU_STE_CFG_S2_TRANS);
		if (!d->vmid[p])
			d->vmid[p] = vmid;
		ASSERT_EQ(d->vmid[p], vmid) TH_LOG("pSMMU %d", p);
		break;
	case AT_S1:
		vmid = ste_vmid(_metadata, self, p, PSID(j),
				SMMU_STE_CFG_NESTED);
		ASSERT_EQ(v->vmid[p], vmid) TH_LOG("pSMMU %d", p);
		break;
	case AT_BYP:
		vmid = ste_vmid(_metadata, self, p, PSID(j),
				SMMU_STE_CFG_S2_TRANS);
		ASSERT_EQ(v->vmid[p], vmid) TH_LOG("pSMMU %d", p);
		break;
	}
}

/* ---- VMID sets, seeds and expectations ----------------------------------- */

static void vset_clear(struct vset *s)
{
	memset(s, 0, sizeof(*s) * MAX_PSMMUS);
}

static void vset_add(struct vset *s, uint16_t vmid)
{
	int i;

	for (i = 0; i < s->num; i++)
		if (s->v[i] == vmid)
			return;
	if (s->num < VSET_MAX)
		s->v[s->num++] = vmid;
}

static bool vset_has(const struct vset *s, uint16_t vmid)
{
	int i;

	for (i = 0; i < s->num; i++)
		if (s->v[i] == vmid)
			return true;
	return false;
}

/* The live VMIDs of each pSMMU, from the attachments */
static void live_vmids(struct _test_data_coh *self, struct vset *s)
{
	int p, j;

	vset_clear(s);
	for (p = 0; p < self->n; p++) {
		for (j = 0; j < DEVS; j++) {
			if (self->how[p][j] == AT_S2)
				vset_add(&s[p], self->dom[p][j]->vmid[p]);
			else if (self->how[p][j] != AT_NONE)
				vset_add(&s[p], self->vio[p][j]->vmid[p]);
		}
	}
}

/* Add the VMIDs @v has on each pSMMU it spans */
static void vset_add_vio(struct vset *s, const struct vio *v)
{
	int q;

	for (q = 0; q < v->span; q++)
		vset_add(&s[q], v->vmid[q]);
}

/* Add the VMIDs @d got */
static void vset_add_dom(struct vset *s, const struct dom *d)
{
	int q;

	for (q = 0; q < MAX_PSMMUS; q++)
		if (d->vmid[q])
			vset_add(&s[q], d->vmid[q]);
}

/*
 * Empty pSMMU @q's TLB model and fill it with {vmid, SEED_ASID, SEED_VA}
 * for each VMID of @s, and the unrelated entry.
 */
static void seed_one(struct __test_metadata *_metadata,
		     struct _test_data_coh *self, int q, const struct vset *s)
{
	struct mock_smmu_cache_entry ents[VSET_MAX + 1] = {};
	int i;

	for (i = 0; i < s->num; i++) {
		ents[i].kind = MOCK_SMMU_CACHE_TLB;
		ents[i].vmid = s->v[i];
		ents[i].asid = SEED_ASID;
		ents[i].addr = SEED_VA;
	}
	ents[i].kind = MOCK_SMMU_CACHE_TLB;
	ents[i].vmid = VMID_UNRELATED;
	ents[i].asid = SEED_ASID;
	ents[i].addr = SEED_VA;
	ASSERT_EQ(0, mock_cache_fill(self->mfd, q, NULL, 0));
	ASSERT_EQ(0, mock_cache_fill(self->mfd, q, ents, s->num + 1));
}

/* Seed every pSMMU with @s, clear the logs and the expectations */
static void seed(struct __test_metadata *_metadata,
		 struct _test_data_coh *self, const struct vset *s)
{
	int q;

	for (q = 0; q < self->nr; q++)
		seed_one(_metadata, self, q, &s[q]);
	logs_clear(_metadata, self);
	memset(expected, 0, sizeof(expected));
}

static void exp_add(struct __test_metadata *_metadata, int q, uint64_t w0,
		    uint64_t w1)
{
	struct pexp *e = &expected[q];

	ASSERT_GT(EXP_MAX, e->num);
	e->c[e->num].w[0] = w0;
	e->c[e->num].w[1] = w1;
	e->num++;
}

static void exp_s12_vmall(struct __test_metadata *_metadata, int q,
			  uint16_t vmid)
{
	exp_add(_metadata, q, SMMU_OP_TLBI_S12_VMALL |
		smmu_field_prep(SMMU_CMD0_VMID, vmid), 0);
}

/* TLBI_S12_VMALL of each VMID of @s on its pSMMU */
static void exp_s12_vmall_set(struct __test_metadata *_metadata,
			      struct _test_data_coh *self,
			      const struct vset *s)
{
	int q, i;

	for (q = 0; q < self->nr; q++)
		for (i = 0; i < s[q].num; i++)
			exp_s12_vmall(_metadata, q, s[q].v[i]);
}

static void exp_nh_all(struct __test_metadata *_metadata, int q,
		       uint16_t vmid)
{
	uint64_t c[2];

	smmu_cmd_nh_all(c, vmid);
	exp_add(_metadata, q, c[0], c[1]);
}

static void dump_log(struct __test_metadata *_metadata, int q, int num)
{
	int i;

	for (i = 0; i < num; i++)
		TH_LOG("  pSMMU %d ran %016llx %016llx", q,
		       (unsigned long long)log_buf[i].w[0],
		       (unsigned long long)log_buf[i].w[1]);
}

/*
 * Each pSMMU executed rounds of exactly what expected[] holds, in any
 * order, each followed by one CMD_SYNC; nothing at all where it holds
 * nothing. There is one round per change the driver was told of: iommufd
 * unmaps an IOAS area by area (and a large area in several calls), and
 * each unmap must leave no stale entry behind, so an IOAS_UNMAP of both
 * guest RAM areas yields at least two rounds. Clears the logs.
 */
static void check_logs(struct __test_metadata *_metadata,
		       struct _test_data_coh *self, int line)
{
	bool used[EXP_MAX];
	uint64_t total = 0;
	int q, i, k, num, len, r;

	for (q = 0; q < self->nr; q++) {
		const struct pexp *e = &expected[q];

		num = mock_cmdq_log_num(self->mfd, q, MOCK_SMMU_CMDQ_LOG_CLEAR,
					log_buf, LOG_MAX, &total);
		ASSERT_LE(0, num);
		ASSERT_EQ(total, num);
		len = e->num + 1;
		if (!e->num) {
			EXPECT_EQ(0, total)
				TH_LOG("line %d: pSMMU %d ran %llu commands, want none",
				       line, q, (unsigned long long)total);
		} else {
			EXPECT_TRUE(total && !(total % len))
				TH_LOG("line %d: pSMMU %d ran %llu commands, want rounds of %d",
				       line, q, (unsigned long long)total, len);
		}
		if (!e->num || !total || total % len) {
			for (i = 0; i < e->num; i++)
				TH_LOG("  pSMMU %d wants %016llx %016llx", q,
				       (unsigned long long)e->c[i].w[0],
				       (unsigned long long)e->c[i].w[1]);
			dump_log(_metadata, q, num);
			continue;
		}
		for (r = 0; r < num; r += len) {
			const struct cmd *round = &log_buf[r];

			memset(used, 0, sizeof(used));
			for (i = 0; i < e->num; i++) {
				for (k = 0; k < e->num; k++) {
					if (!used[k] &&
					    round[k].w[0] == e->c[i].w[0] &&
					    round[k].w[1] == e->c[i].w[1])
						break;
				}
				EXPECT_GT(e->num, k)
					TH_LOG("line %d: pSMMU %d round %d lacks %016llx %016llx",
					       line, q, r,
					       (unsigned long long)e->c[i].w[0],
					       (unsigned long long)e->c[i].w[1]);
				if (k < e->num)
					used[k] = true;
				else
					dump_log(_metadata, q, num);
			}
			EXPECT_EQ(SMMU_OP_CMD_SYNC, smmu_cmd_op(round[e->num].w))
				TH_LOG("line %d: pSMMU %d round %d ends %016llx %016llx",
				       line, q, r,
				       (unsigned long long)round[e->num].w[0],
				       (unsigned long long)round[e->num].w[1]);
		}
	}
}

/*
 * No TLB entry of a VMID of @gone[q] is visible on pSMMU q, and the
 * unrelated entry is.
 */
static void check_cache(struct __test_metadata *_metadata,
			struct _test_data_coh *self, const struct vset *gone,
			int line)
{
	uint64_t total = 0;
	bool unrelated;
	int q, i, num;

	for (q = 0; q < self->nr; q++) {
		num = mock_cache_read_num(self->mfd, q, cache_buf, CACHE_MAX,
					  &total);
		ASSERT_LE(0, num);
		ASSERT_EQ(total, num);
		unrelated = false;
		for (i = 0; i < num; i++) {
			const struct mock_smmu_cache_entry *c = &cache_buf[i];

			if (c->kind != MOCK_SMMU_CACHE_TLB)
				continue;
			if (c->vmid == VMID_UNRELATED &&
			    c->asid == SEED_ASID && c->addr == SEED_VA)
				unrelated = true;
			EXPECT_FALSE(vset_has(&gone[q], c->vmid))
				TH_LOG("line %d: pSMMU %d still holds VMID %u ASID %u VA 0x%llx",
				       line, q, c->vmid, c->asid,
				       (unsigned long long)c->addr);
		}
		EXPECT_TRUE(unrelated)
			TH_LOG("line %d: pSMMU %d lost the entry of VMID 0x%x",
			       line, q, VMID_UNRELATED);
	}
}

/* The logs match expected[] and the entries of @gone are gone */
#define CHECK(gone) do {					\
	check_logs(_metadata, self, __LINE__);			\
	check_cache(_metadata, self, gone, __LINE__);		\
} while (0)

/* ---- R1: unmapping the IOAS ---------------------------------------------- */

/*
 * Seed the live VMIDs, unmap [@iova, @iova + @len) and check R1: every
 * live VMID flushed on its pSMMU, one CMD_SYNC there, nothing elsewhere.
 */
static void unmap_check(struct __test_metadata *_metadata,
			struct _test_data_coh *self, uint64_t iova,
			uint64_t len, int line)
{
	struct vset live[MAX_PSMMUS];

	live_vmids(self, live);
	seed(_metadata, self, live);
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, iova, len))
		TH_LOG("line %d", line);
	exp_s12_vmall_set(_metadata, self, live);
	check_logs(_metadata, self, line);
	check_cache(_metadata, self, live, line);
}

/* Scenario 1: a device on every pSMMU on a stage-1 nested HWPT */
TEST_F(coh, unmap_all_s1)
{
	struct vio v;
	int p;

	vio_alloc(_metadata, self, &v, 0, 3);
	for (p = 0; p < self->n; p++)
		set_att(_metadata, self, p, 0, AT_S1, NULL, &v);
	unmap_check(_metadata, self, 0, UINT64_MAX, __LINE__);
}

/* Scenario 2: devices directly on the nesting parent; a vIOMMU unused */
TEST_F(coh, unmap_all_s2)
{
	struct vio v;
	int p;

	vio_alloc(_metadata, self, &v, 0, 3);
	for (p = 0; p < self->n; p++)
		set_att(_metadata, self, p, 0, AT_S2, &self->parent, NULL);
	unmap_check(_metadata, self, 0, UINT64_MAX, __LINE__);
}

/*
 * Both kinds live on each pSMMU: one device on the parent, the other on a
 * stage-1 (even pSMMUs) or bypass (odd ones) nested HWPT: two flushes
 * there, in any order, and one CMD_SYNC.
 */
TEST_F(coh, unmap_all_mixed)
{
	struct vio v;
	int p;

	vio_alloc(_metadata, self, &v, 0, 3);
	for (p = 0; p < self->n; p++) {
		set_att(_metadata, self, p, 0, AT_S2, &self->parent, NULL);
		set_att(_metadata, self, p, 1, p % 2 ? AT_BYP : AT_S1, NULL,
			&v);
	}
	unmap_check(_metadata, self, 0, UINT64_MAX, __LINE__);
}

/* Two vIOMMUs nesting on the same parent: both VMIDs flushed */
TEST_F(coh, unmap_two_viommus)
{
	struct vio v1, v2;
	int p;

	vio_alloc(_metadata, self, &v1, 0, 1);
	vio_alloc(_metadata, self, &v2, 1, 2);
	for (p = 0; p < self->n; p++) {
		set_att(_metadata, self, p, 0, AT_S1, NULL, &v1);
		set_att(_metadata, self, p, 1, p % 2 ? AT_BYP : AT_S1, NULL,
			&v2);
	}
	unmap_check(_metadata, self, 0, UINT64_MAX, __LINE__);
}

/*
 * Unmapping one area of two, then the other, each flushes; unmapping what
 * is not mapped fails with ENOENT and issues nothing.
 */
TEST_F(coh, unmap_partial)
{
	struct vset live[MAX_PSMMUS];
	struct vio v;
	int p;

	vio_alloc(_metadata, self, &v, 0, 3);
	for (p = 0; p < self->n; p++) {
		set_att(_metadata, self, p, 0, AT_S1, NULL, &v);
		set_att(_metadata, self, p, 1, AT_S2, &self->parent, NULL);
	}
	unmap_check(_metadata, self, RAM_A, RAM_LEN, __LINE__);
	unmap_check(_metadata, self, RAM_B, RAM_LEN, __LINE__);

	live_vmids(self, live);
	seed(_metadata, self, live);
	ASSERT_EQ(-ENOENT, ioas_unmap(self->fd, self->ioas_id, RAM_A,
				      RAM_LEN));
	vset_clear(live);
	CHECK(live);
}

/*
 * Only some pSMMUs have devices attached (all, none, the even ones, the
 * last one): the others get nothing.
 */
TEST_F(coh, unmap_some_psmmus)
{
	uint64_t all = (1ULL << self->n) - 1, masks[4];
	struct vio v;
	int m, p;

	masks[0] = all;
	masks[1] = 0;
	masks[2] = all & 0x5555;
	masks[3] = 1ULL << (self->n - 1);
	vio_alloc(_metadata, self, &v, 0, 3);
	for (m = 0; m < 4; m++) {
		if (m)
			map_ram(_metadata, self);
		for (p = 0; p < self->n; p++) {
			if (masks[m] & (1ULL << p)) {
				set_att(_metadata, self, p, 0, AT_S1, NULL, &v);
				set_att(_metadata, self, p, 1, AT_S2,
					&self->parent, NULL);
			} else {
				set_att(_metadata, self, p, 0, AT_NONE, NULL,
					NULL);
				set_att(_metadata, self, p, 1, AT_NONE, NULL,
					NULL);
			}
		}
		TH_LOG("pSMMUs with devices attached: 0x%llx",
		       (unsigned long long)masks[m]);
		unmap_check(_metadata, self, 0, UINT64_MAX, __LINE__);
	}
}

/*
 * R1's CMD_SYNCs overlap: the unmap of one area (one change the driver is
 * told of) writes the CMD_SYNC of every pSMMU with a live VMID before it
 * waits for any, so that the pSMMUs complete them together. Devices on the
 * parent (even pSMMUs) and on a stage-1 nested HWPT (odd ones) put both
 * kinds of VMID in the flush; pSMMUs without devices get no CMD_SYNC.
 */
TEST_F(coh, unmap_syncs_overlap)
{
	struct mock_smmu_counters a[MAX_PSMMUS], b[MAX_PSMMUS];
	struct vio v;
	int p;

	if (self->n < 2)
		SKIP(return, "needs 2 pSMMUs");
	vio_alloc(_metadata, self, &v, 0, 1);
	for (p = 0; p < self->n; p++) {
		if (p % 2)
			set_att(_metadata, self, p, 0, AT_S1, NULL, &v);
		else
			set_att(_metadata, self, p, 0, AT_S2, &self->parent,
				NULL);
	}
	mock_read_counters(_metadata, self->mfd, self->nr, a);
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, RAM_A, RAM_LEN));
	mock_read_counters(_metadata, self->mfd, self->nr, b);
	mock_assert_syncs_overlap(_metadata, a, b, self->nr,
				  (1ULL << self->n) - 1, "unmap");
}

/* ---- R2, R2b, R5: the last STE of a VMID goes away ------------------------ */

/* The VMIDs of the nesting parent and of @v on every pSMMU */
static void seed_parent_vio(struct __test_metadata *_metadata,
			    struct _test_data_coh *self, const struct vio *v)
{
	struct vset s[MAX_PSMMUS];

	vset_clear(s);
	vset_add_dom(s, &self->parent);
	vset_add_vio(s, v);
	seed(_metadata, self, s);
}

/*
 * Only the last STE of a VMID on a pSMMU flushes it: with both devices of
 * each pSMMU on the same HWPT, detaching the first issues nothing, the
 * second flushes. For the parent, then for a stage-1 nested HWPT.
 */
TEST_F(coh, detach_last_only)
{
	struct vset gone[MAX_PSMMUS];
	struct vio v;
	int p, round;

	vio_alloc(_metadata, self, &v, 0, 3);
	for (round = 0; round < 2; round++) {
		for (p = 0; p < self->n; p++) {
			set_att(_metadata, self, p, 0, round ? AT_S1 : AT_S2,
				&self->parent, &v);
			set_att(_metadata, self, p, 1, round ? AT_S1 : AT_S2,
				&self->parent, &v);
		}
		for (p = 0; p < self->n; p++) {
			uint16_t vmid = round ? v.vmid[p] :
					self->parent.vmid[p];

			seed_parent_vio(_metadata, self, &v);
			set_att(_metadata, self, p, 0, AT_NONE, NULL, NULL);
			vset_clear(gone);
			CHECK(gone);

			seed_parent_vio(_metadata, self, &v);
			set_att(_metadata, self, p, 1, AT_NONE, NULL, NULL);
			exp_s12_vmall(_metadata, p, vmid);
			vset_clear(gone);
			vset_add(&gone[p], vmid);
			CHECK(gone);
		}
	}
}

/*
 * Replace from the parent to a stage-1 nested HWPT flushes the parent's
 * VMID there; replacing back flushes the vIOMMU's.
 */
TEST_F(coh, replace_s2_s1)
{
	struct vset gone[MAX_PSMMUS];
	struct vio v;
	int p;

	vio_alloc(_metadata, self, &v, 0, 3);
	for (p = 0; p < self->n; p++)
		set_att(_metadata, self, p, 0, AT_S2, &self->parent, NULL);
	for (p = 0; p < self->n; p++) {
		seed_parent_vio(_metadata, self, &v);
		set_att(_metadata, self, p, 0, AT_S1, NULL, &v);
		exp_s12_vmall(_metadata, p, self->parent.vmid[p]);
		vset_clear(gone);
		vset_add(&gone[p], self->parent.vmid[p]);
		CHECK(gone);
	}
	for (p = 0; p < self->n; p++) {
		seed_parent_vio(_metadata, self, &v);
		set_att(_metadata, self, p, 0, AT_S2, &self->parent, NULL);
		exp_s12_vmall(_metadata, p, v.vmid[p]);
		vset_clear(gone);
		vset_add(&gone[p], v.vmid[p]);
		CHECK(gone);
	}
}

/*
 * Unbinding a device on the parent flushes the parent's VMID; removing a
 * device on a bypass nested HWPT flushes the vIOMMU's.
 */
TEST_F(coh, unbind_and_remove)
{
	struct vset gone[MAX_PSMMUS];
	struct vio v;
	int p;

	vio_alloc(_metadata, self, &v, 0, 0);
	for (p = 0; p < self->n; p++) {
		set_att(_metadata, self, p, 0, AT_S2, &self->parent, NULL);
		set_att(_metadata, self, p, 1, AT_BYP, NULL, &v);
	}
	for (p = 0; p < self->n; p++) {
		seed_parent_vio(_metadata, self, &v);
		ASSERT_EQ(0, mock_dev_unbind(self->mfd, self->dev[p][0]));
		self->how[p][0] = AT_NONE;
		exp_s12_vmall(_metadata, p, self->parent.vmid[p]);
		vset_clear(gone);
		vset_add(&gone[p], self->parent.vmid[p]);
		CHECK(gone);

		seed_parent_vio(_metadata, self, &v);
		ASSERT_EQ(0, mock_dev_destroy(self->mfd, self->dev[p][1]));
		self->how[p][1] = AT_NONE;
		ASSERT_EQ(-ENOENT, mock_get_ste(self->mfd, p, PSID(1), NULL));
		exp_s12_vmall(_metadata, p, v.vmid[p]);
		vset_clear(gone);
		vset_add(&gone[p], v.vmid[p]);
		CHECK(gone);
	}
}

enum {
	DROP_DETACH,		/* detached, nothing of the vIOMMU left: R2 */
	DROP_TO_BYPASS,		/* replaced to bypass: R2b */
	DROP_BYPASS_LEFT,	/* detached, another device on bypass: R2b */
};

/*
 * Scenario 5: the last stage-1 attachment of the vIOMMU on the last pSMMU
 * t goes away (@mode). Then a guest TLBI must reach every other pSMMU and
 * not t; then the device attaches again, and nothing the guest could not
 * invalidate on t in between may be visible there.
 */
static void s1_drop(struct __test_metadata *_metadata,
		    struct _test_data_coh *self, int mode)
{
	struct vset s[MAX_PSMMUS], gone[MAX_PSMMUS];
	int p, t = self->n - 1;
	uint64_t g[2], c[2];
	uint32_t done = 0;
	struct vio v;

	vio_alloc(_metadata, self, &v, 0, 3);
	for (p = 0; p < self->n; p++)
		set_att(_metadata, self, p, 0, AT_S1, NULL, &v);
	if (mode == DROP_BYPASS_LEFT)
		set_att(_metadata, self, t, 1, AT_BYP, NULL, &v);

	vset_clear(s);
	vset_add_vio(s, &v);
	seed(_metadata, self, s);
	set_att(_metadata, self, t, 0, mode == DROP_TO_BYPASS ? AT_BYP : AT_NONE,
		NULL, &v);
	if (mode == DROP_DETACH)
		exp_s12_vmall(_metadata, t, v.vmid[t]);
	else
		exp_nh_all(_metadata, t, v.vmid[t]);
	vset_clear(gone);
	vset_add(&gone[t], v.vmid[t]);
	CHECK(gone);

	/*
	 * Reseed all but t: its entries could only have been refilled by a
	 * stage 1 it no longer has.
	 */
	for (p = 0; p < self->nr; p++)
		if (p != t)
			seed_one(_metadata, self, p, &s[p]);
	logs_clear(_metadata, self);
	memset(expected, 0, sizeof(expected));
	smmu_cmd_nh_asid(g, 0x7777, SEED_ASID);
	ASSERT_EQ(0, viommu_invalidate_smmu(self->fd, v.id, g, 1, &done));
	ASSERT_EQ(1, done);
	vset_clear(gone);
	for (p = 0; p < self->n; p++) {
		if (p == t)
			continue;
		smmu_cmd_nh_asid(c, v.vmid[p], SEED_ASID);
		exp_add(_metadata, p, c[0], c[1]);
		vset_add(&gone[p], v.vmid[p]);
	}
	CHECK(gone);

	/* Back on the stage 1: the guest believes its TLBI covered t too */
	set_att(_metadata, self, t, 0, AT_S1, NULL, &v);
	vset_clear(gone);
	vset_add(&gone[t], v.vmid[t]);
	check_cache(_metadata, self, gone, __LINE__);
}

TEST_F(coh, s1_drop_detach)
{
	s1_drop(_metadata, self, DROP_DETACH);
}

TEST_F(coh, s1_drop_to_bypass)
{
	s1_drop(_metadata, self, DROP_TO_BYPASS);
}

TEST_F(coh, s1_drop_bypass_left)
{
	s1_drop(_metadata, self, DROP_BYPASS_LEFT);
}

/* ---- R3, R4: destroying a vIOMMU or a paging HWPT ------------------------- */

/*
 * Scenario 3: the whole teardown of a vIOMMU, one step at a time: each
 * detach flushes its pSMMU (R2); destroying the nested HWPTs and the
 * vDEVICEs issues nothing; destroying the vIOMMU flushes its VMID on every
 * pSMMU it spans (R3), although R2 did already where devices were. The
 * next vIOMMU then sees no entry of the old one under its VMIDs.
 */
TEST_F(coh, viommu_teardown)
{
	struct vset all[MAX_PSMMUS], gone[MAX_PSMMUS];
	uint32_t viommu2;
	uint16_t vmid;
	struct vio v;
	int p, j, q;

	vio_alloc(_metadata, self, &v, 0, 3);
	for (p = 0; p < self->n; p++)
		set_att(_metadata, self, p, 0, AT_S1, NULL, &v);
	vset_clear(all);
	vset_add_vio(all, &v);

	for (p = 0; p < self->n; p++) {
		seed(_metadata, self, all);
		set_att(_metadata, self, p, 0, AT_NONE, NULL, NULL);
		exp_s12_vmall(_metadata, p, v.vmid[p]);
		vset_clear(gone);
		vset_add(&gone[p], v.vmid[p]);
		CHECK(gone);
	}

	seed(_metadata, self, all);
	for (p = 0; p < self->n; p++) {
		for (j = 0; j < DEVS; j++) {
			ASSERT_EQ(0, iommufd_destroy(self->fd, v.s1[p][j]));
			ASSERT_EQ(0, iommufd_destroy(self->fd, v.byp[p][j]));
		}
	}
	vset_clear(gone);
	CHECK(gone);

	seed(_metadata, self, all);
	for (p = 0; p < self->n; p++)
		for (j = 0; j < DEVS; j++)
			ASSERT_EQ(0, iommufd_destroy(self->fd, v.vdev[p][j]));
	CHECK(gone);

	seed(_metadata, self, all);
	ASSERT_EQ(0, iommufd_destroy(self->fd, v.id));
	ASSERT_EQ(-ENOENT, iommufd_destroy(self->fd, v.id));
	exp_s12_vmall_set(_metadata, self, all);
	CHECK(all);

	/* The next vIOMMU, its VMIDs read while a probe uses each */
	ASSERT_EQ(0, viommu_alloc_smmu(self->fd, self->n > 1,
				       self->dev_id[0][0], self->parent.id,
				       &viommu2));
	vset_clear(gone);
	for (q = 0; q < v.span; q++) {
		vmid = probe_vmid(_metadata, self, viommu2, q, true);
		if (vmid == v.vmid[q])
			TH_LOG("pSMMU %d: VMID %u used again", q, vmid);
		vset_add(&gone[q], vmid);
	}
	check_cache(_metadata, self, gone, __LINE__);
}

/*
 * Scenario 4: a paging HWPT on every pSMMU. Destroying the nesting parent,
 * which never got a VMID, issues nothing; each detach flushes its pSMMU
 * (R2); the destroy flushes on every pSMMU where the HWPT got a VMID (R4);
 * the next HWPT, which may get the same VMIDs, sees no old entry.
 */
TEST_F(coh, s2_destroy_realloc)
{
	struct vset all[MAX_PSMMUS], gone[MAX_PSMMUS];
	struct dom d = {}, d2 = {};
	int p;

	ASSERT_EQ(0, hwpt_alloc(self->fd, self->dev_id[0][0], self->ioas_id,
				0, IOMMU_HWPT_DATA_NONE, NULL, 0, &d.id));
	for (p = 0; p < self->n; p++)
		set_att(_metadata, self, p, 0, AT_S2, &d, NULL);
	vset_clear(all);
	vset_add_dom(all, &d);

	seed(_metadata, self, all);
	ASSERT_EQ(0, iommufd_destroy(self->fd, self->parent.id));
	vset_clear(gone);
	CHECK(gone);

	for (p = 0; p < self->n; p++) {
		seed(_metadata, self, all);
		set_att(_metadata, self, p, 0, AT_NONE, NULL, NULL);
		exp_s12_vmall(_metadata, p, d.vmid[p]);
		vset_clear(gone);
		vset_add(&gone[p], d.vmid[p]);
		CHECK(gone);
	}

	seed(_metadata, self, all);
	ASSERT_EQ(0, iommufd_destroy(self->fd, d.id));
	ASSERT_EQ(-ENOENT, iommufd_destroy(self->fd, d.id));
	exp_s12_vmall_set(_metadata, self, all);
	CHECK(all);

	/* No new seed: what is visible now was there before the destroy */
	ASSERT_EQ(0, hwpt_alloc(self->fd, self->dev_id[0][0], self->ioas_id,
				0, IOMMU_HWPT_DATA_NONE, NULL, 0, &d2.id));
	for (p = 0; p < self->n; p++) {
		set_att(_metadata, self, p, 0, AT_S2, &d2, NULL);
		if (d2.vmid[p] == d.vmid[p])
			TH_LOG("pSMMU %d: VMID %u used again", p, d2.vmid[p]);
	}
	vset_clear(gone);
	vset_add_dom(gone, &d2);
	check_cache(_metadata, self, gone, __LINE__);
}

/*
 * A paging HWPT that only the last pSMMU gave a VMID, used by a device
 * there that is still attached when the IOAS is unmapped and detached
 * before the destroy: the flushes go to that pSMMU alone.
 */
TEST_F(coh, s2_destroy_one_psmmu)
{
	struct vset all[MAX_PSMMUS];
	int t = self->n - 1;
	struct dom d = {};

	ASSERT_EQ(0, hwpt_alloc(self->fd, self->dev_id[0][0], self->ioas_id,
				0, IOMMU_HWPT_DATA_NONE, NULL, 0, &d.id));
	set_att(_metadata, self, t, 1, AT_S2, &d, NULL);
	vset_clear(all);
	vset_add_dom(all, &d);

	unmap_check(_metadata, self, RAM_B, RAM_LEN, __LINE__);

	seed(_metadata, self, all);
	set_att(_metadata, self, t, 1, AT_NONE, NULL, NULL);
	exp_s12_vmall(_metadata, t, d.vmid[t]);
	CHECK(all);

	seed(_metadata, self, all);
	ASSERT_EQ(0, iommufd_destroy(self->fd, d.id));
	exp_s12_vmall(_metadata, t, d.vmid[t]);
	CHECK(all);
}

TEST_HARNESS_MAIN
