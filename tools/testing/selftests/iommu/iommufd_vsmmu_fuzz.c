// SPDX-License-Identifier: GPL-2.0-only
/*
 * A seeded fuzzer of the guest commands IOMMU_HWPT_INVALIDATE takes on an
 * ARM SMMUv3 vIOMMU that spans every pSMMU of the mock.
 *
 * Set-up: the fuzzed vIOMMU A spans all pSMMUs and has NDEV devices on each
 * of the first (up to) four, every one with two stage-1, a bypass and an
 * abort nested HWPT; a second spanning vIOMMU B on the same nesting parent
 * has one device on every pSMMU, attached to a stage-1 nested HWPT, with a
 * vDEVICE whose vSID comes from the same pool as A's. B's VMIDs are live
 * everywhere and B's vSIDs may be unknown to A: neither may ever leak into
 * what A's commands do.
 *
 * Each round, the test first churns A (attach, replace, detach, vDEVICE
 * destroy and re-alloc, stage-1 HWPT destroy and re-alloc), then sends a
 * batch of 1 to 512 guest commands: valid commands of every opcode a guest
 * may use with random fields and vSIDs, one-bit mutations of them, every
 * opcode byte 0..255 in turn with random fields, and random 128-bit words.
 * When a call fails with EIO the test goes on after the rejected command,
 * as a VMM does after raising CERROR_ILL in its guest's queue.
 *
 * The oracles are the test's own, written from
 * Documentation/userspace-api/iommufd-viommu.rst and the coherence table of
 * Documentation/driver-api/iommufd-viommu.rst, not from the kernel's code:
 *
 * - doc_cmd_class() re-states the per-opcode rules; the vSID table is the
 *   test's model of A's vDEVICEs. A call must succeed exactly when all its
 *   commands are valid, and otherwise fail with EIO and entry_num at the
 *   first invalid one (the commands before it executed).
 * - The exact commands each pSMMU must execute, in order, with a CMD_SYNC
 *   after the last, from the test's model of where each vSID lives and
 *   which pSMMUs hold a stage-1 STE of A; the churn's own physical
 *   commands (TLBI_S12_VMALL/TLBI_NH_ALL when a VMID's last STE or A's
 *   last stage-1 STE leaves a pSMMU) from the same model.
 * - Independently of that, no physical command names a StreamID or a VMID
 *   that is not A's on that pSMMU (B's and foreign ones included; the
 *   parent's VMID only in what the churn issues).
 * - The counters of every pSMMU: commands and CMD_SYNCs equal to what its
 *   log showed, 0 CERROR_ILL, and the stage-1 attachments and vDEVICEs of
 *   the model.
 *
 * The seed is printed ("# seed: N"); "-s N" (or IOMMUFD_FUZZ_SEED=N)
 * replays it. "-n N" sets the number of guest commands (default 1000000),
 * "-T S" a time budget in seconds after which the run stops early, but not
 * before "-m N" commands. On a kernel with fault injection (the debug
 * kernel, much slower) the default is a budget of DEBUG_BUDGET_S seconds.
 */
#include <stdio.h>
#include <stdlib.h>

#include "kselftest_harness.h"
#include "iommufd_viommu_utils.h"

#define MAX_PSMMUS		64
#define VMAX			4	/* pSMMUs with devices of A */
#define NDEV			4	/* devices of A on each of them */
#define NVSID			40	/* the guest's pool of vSIDs */
#define MAX_BATCH		512
#define LOG_SIZE		MOCK_SMMU_CMDQ_LOG_SIZE

#define DEFAULT_CMDS		1000000ULL
#define DEBUG_BUDGET_S		150
#define DEBUG_MIN_CMDS		100000ULL

/* Physical StreamIDs, all different, so a misrouted command shows */
#define PSID_A(p, j)		(0x100 + (p) * 0x10 + (j))
#define PSID_B(p)		(0x800 + (p))
#define CDPTR(p, j, k)		(0x40000000ULL + (p) * 0x100000 + \
				 (j) * 0x10000 + (k) * 0x1000)

/* What a device of A is attached to */
enum {
	AT_NONE,	/* detached: abort STE */
	AT_PARENT,	/* the nesting parent */
	AT_S1_0,	/* its first stage-1 nested HWPT */
	AT_S1_1,	/* its second one */
	AT_BYP,		/* its bypass nested HWPT */
	AT_ABRT,	/* its abort nested HWPT */
	AT_NUM,
};

static const char * const at_name[AT_NUM] = {
	"none", "parent", "s1_0", "s1_1", "bypass", "abort",
};

/* ---- The documented rules of guest commands ------------------------------ */

/* What every spanned pSMMU implements (IOMMU_GET_HW_INFO) */
struct doc_feat {
	bool asid16;	/* IDR0.ASID16 */
	bool ats;	/* IDR0.ATS */
	bool ssid;	/* IDR1.SSIDSIZE != 0 */
	bool ril;	/* IDR3.RIL */
};

enum { G_BAD, G_DEV, G_TLBI };

/*
 * The class of a guest command by the per-opcode rules of
 * Documentation/userspace-api/iommufd-viommu.rst: G_BAD if it must be
 * rejected whatever the vSID table holds, else G_DEV (names a vSID) or
 * G_TLBI (VMID-scoped).
 */
static int doc_cmd_class(const struct doc_feat *f, uint64_t w0, uint64_t w1)
{
	const uint64_t asid = f->asid16 ? SMMU_CMD0_ASID : SMMU_GENMASK(55, 48);
	const uint64_t range0 = f->ril ? SMMU_CMD0_NUM | SMMU_CMD0_SCALE : 0;
	const uint64_t range1 = f->ril ? SMMU_CMD1_TTL | SMMU_CMD1_TG : 0;
	const uint64_t va1 = SMMU_CMD1_LEAF | SMMU_CMD1_ADDR | range1;
	unsigned int op = smmu_field_get(SMMU_CMD0_OP, w0);
	uint64_t may0 = SMMU_CMD0_OP, may1 = 0;
	int cls = G_TLBI;

	switch (op) {
	case SMMU_OP_TLBI_NH_ALL:
		may0 |= SMMU_CMD0_VMID;
		break;
	case SMMU_OP_TLBI_NH_ASID:
		may0 |= SMMU_CMD0_VMID | asid;
		break;
	case SMMU_OP_TLBI_NH_VA:
		may0 |= SMMU_CMD0_VMID | asid | range0;
		may1 = va1;
		break;
	case SMMU_OP_TLBI_NH_VAA:
		may0 |= SMMU_CMD0_VMID | range0;
		may1 = va1;
		break;
	case SMMU_OP_TLBI_NSNH_ALL:
		break;
	case SMMU_OP_ATC_INV:
		if (!f->ats)
			return G_BAD;
		may0 |= SMMU_CMD0_SID;
		if (f->ssid)
			may0 |= SMMU_CMD0_SSV | SMMU_CMD0_SSID |
				SMMU_CMD0_GLOBAL;
		may1 = SMMU_CMD1_ATC_SIZE | SMMU_CMD1_ADDR;
		cls = G_DEV;
		break;
	case SMMU_OP_CFGI_CD:
		may0 |= SMMU_CMD0_SID;
		if (f->ssid)
			may0 |= SMMU_CMD0_SSID;
		may1 = SMMU_CMD1_LEAF;
		cls = G_DEV;
		break;
	case SMMU_OP_CFGI_CD_ALL:
		may0 |= SMMU_CMD0_SID;
		cls = G_DEV;
		break;
	default:
		return G_BAD;
	}
	if ((w0 & ~may0) || (w1 & ~may1))
		return G_BAD;

	if (op == SMMU_OP_ATC_INV &&
	    smmu_field_get(SMMU_CMD1_ATC_SIZE, w1) > SMMU_ATC_SIZE_ALL)
		return G_BAD;
	if (f->ril && (op == SMMU_OP_TLBI_NH_VA || op == SMMU_OP_TLBI_NH_VAA)) {
		uint64_t tg = smmu_field_get(SMMU_CMD1_TG, w1);
		uint64_t ttl = smmu_field_get(SMMU_CMD1_TTL, w1);
		bool any = ttl || (w0 & (SMMU_CMD0_NUM | SMMU_CMD0_SCALE));

		if (!tg && any)
			return G_BAD;
		if (tg == SMMU_TG_16K && ttl == 1)
			return G_BAD;	/* needs IDR5.DS */
		if (tg && !any)
			return G_BAD;	/* reserved */
	}
	return cls;
}

/* ---- The test's model --------------------------------------------------- */

struct fdev {
	uint32_t dev, dev_id;
	int p;
	uint32_t psid;
	uint32_t hwpt[AT_NUM];	/* by AT_*; [AT_NONE] and [AT_PARENT] unused */
	int at;
	bool has_vdev;
	uint32_t vdev_id;	/* the current one, or the last destroyed */
	uint32_t vsid;
};

/* Counts, unsigned long long to print them with %llu */
struct fstats {
	unsigned long long cmds, batches, calls, accepted, rej_rule, rej_vsid;
	unsigned long long gen[4];	/* valid, mutated, opcode byte, random */
	unsigned long long op_acc[256];
	unsigned long long opbyte_seen[256];
	unsigned long long churn, churn_err;
	unsigned long long phys[MAX_PSMMUS], syncs[MAX_PSMMUS];
	unsigned long long phys_churn[MAX_PSMMUS];
};

/* A command word, to print with %016llx */
#define W(x)			((unsigned long long)(x))

/* FIXTURE_DATA(fuzz) is struct _test_data_fuzz */
FIXTURE(fuzz)
{
	int fd, mfd;
	int nr;			/* pSMMUs of the module, all spanned */
	int n;			/* pSMMUs with devices of A: 0..n-1 */
	struct doc_feat feat;
	uint32_t ioas, parent, va, vb;
	struct fdev d[VMAX * NDEV];
	int nd;
	uint32_t bdev[MAX_PSMMUS], bdev_id[MAX_PSMMUS], bvdev[MAX_PSMMUS];
	uint32_t bs1[MAX_PSMMUS], bvsid[MAX_PSMMUS];
	int vmid_a[MAX_PSMMUS], vmid_b[MAX_PSMMUS], vmid_p[MAX_PSMMUS];
	/* A's STEs using its VMID (stage 1 and bypass), its stage-1 ones */
	int a_users[MAX_PSMMUS], a_s1[MAX_PSMMUS];
	int par_users[MAX_PSMMUS];
	uint32_t pool[NVSID];
	/* What each pSMMU must execute until its log is next read */
	struct smmu_cmd (*exp)[LOG_SIZE];
	uint32_t exp_n[MAX_PSMMUS];
	struct mock_smmu_counters cnt[MAX_PSMMUS];
	uint64_t cerror0[MAX_PSMMUS];	/* CERROR_ILL before the run */
	struct smmu_cmd *log;
	struct fstats *st;
	uint32_t opbyte;	/* the next opcode byte in turn */
};

/* The run's parameters, from the command line or the environment */
static uint32_t fuzz_seed;
static unsigned long long fuzz_cmds = DEFAULT_CMDS;
static unsigned long long fuzz_min_cmds = DEFAULT_CMDS;
static double fuzz_budget_s;
static bool fuzz_cmds_given, fuzz_budget_given;
/* --trace or IOMMUFD_FUZZ_TRACE=1: print every churn operation */
static bool fuzz_trace;

static uint64_t rnd64(void)
{
	uint64_t hi = rnd();

	return hi << 32 | rnd();
}

/* 0 with probability 1/2, else random bits of density 1/2, 1/4 or 1/8 */
static uint64_t rnd_bits(void)
{
	uint64_t v = rnd64();
	int k = rnd() % 4;

	while (k--)
		v &= rnd64();
	return v;
}

static void expect(struct _test_data_fuzz *self, int p, uint64_t w0,
		   uint64_t w1)
{
	self->exp[p][self->exp_n[p] % LOG_SIZE] = SMMU_CMD(w0, w1);
	self->exp_n[p]++;
}

static struct fdev *dev_by_vsid(struct _test_data_fuzz *self, uint32_t vsid)
{
	int i;

	for (i = 0; i < self->nd; i++)
		if (self->d[i].has_vdev && self->d[i].vsid == vsid)
			return &self->d[i];
	return NULL;
}

static bool at_s1(int at)
{
	return at == AT_S1_0 || at == AT_S1_1;
}

/* Physical command @c on pSMMU @p names only A's StreamIDs and VMIDs */
static bool phys_cmd_ours(struct _test_data_fuzz *self, int p,
			  const struct smmu_cmd *c, bool parent_ok)
{
	unsigned int op = smmu_cmd_op(c->w);
	uint32_t sid = smmu_field_get(SMMU_CMD0_SID, c->w[0]);
	int vmid = smmu_field_get(SMMU_CMD0_VMID, c->w[0]);
	int i;

	if (smmu_op_sid_scoped(op)) {
		for (i = 0; i < self->nd; i++)
			if (self->d[i].p == p && self->d[i].psid == sid)
				return true;
		return false;
	}
	if (op == SMMU_OP_TLBI_NH_ALL || op == SMMU_OP_TLBI_NH_ASID ||
	    op == SMMU_OP_TLBI_NH_VA || op == SMMU_OP_TLBI_NH_VAA)
		return vmid == self->vmid_a[p];
	if (op == SMMU_OP_TLBI_S12_VMALL)
		return vmid == self->vmid_a[p] ||
		       (parent_ok && vmid == self->vmid_p[p]);
	return false;
}

/*
 * Every pSMMU's log against what it had to execute since the last check:
 * exactly those commands in order, a CMD_SYNC after the last, none of them
 * naming anything but A's (or, for the churn, the parent's VMID), and the
 * counters agreeing.
 */
static void check_logs(struct __test_metadata *_metadata,
		       struct _test_data_fuzz *self, bool churn,
		       const char *what, unsigned long long round)
{
	struct mock_smmu_counters cnt;
	uint64_t total = 0;
	int p, i, n;

	for (p = 0; p < self->nr; p++) {
		unsigned long long k = 0, syncs = 0;
		bool pending = false;

		n = mock_cmdq_log_num(self->mfd, p, MOCK_SMMU_CMDQ_LOG_CLEAR,
				      self->log, LOG_SIZE, &total);
		ASSERT_LE(0, n);
		ASSERT_EQ(total, (uint64_t)n)
			TH_LOG("%s %llu: pSMMU %d log overflowed", what,
			       round, p);
		for (i = 0; i < n; i++) {
			const struct smmu_cmd *c = &self->log[i];
			const struct smmu_cmd *w;

			if (smmu_is_sync(c)) {
				syncs++;
				pending = false;
				continue;
			}
			/* Not A's StreamID or VMID on that pSMMU */
			ASSERT_TRUE(phys_cmd_ours(self, p, c, churn))
				TH_LOG("%s %llu: pSMMU %d foreign %016llx %016llx",
				       what, round, p, W(c->w[0]), W(c->w[1]));
			ASSERT_GT(self->exp_n[p], k)
				TH_LOG("%s %llu: pSMMU %d extra %016llx %016llx",
				       what, round, p, W(c->w[0]), W(c->w[1]));
			w = &self->exp[p][k];
			ASSERT_TRUE(w->w[0] == c->w[0] && w->w[1] == c->w[1]) {
				TH_LOG("%s %llu: pSMMU %d cmd %llu: %016llx %016llx",
				       what, round, p, k, W(c->w[0]),
				       W(c->w[1]));
				TH_LOG("expected %016llx %016llx", W(w->w[0]),
				       W(w->w[1]));
			}
			k++;
			pending = true;
		}
		ASSERT_EQ(self->exp_n[p], k)
			TH_LOG("%s %llu: pSMMU %d executed %llu of %u commands",
			       what, round, p, k, self->exp_n[p]);
		/* A CMD_SYNC after its last command */
		ASSERT_FALSE(pending)
			TH_LOG("%s %llu: pSMMU %d: no sync", what, round, p);

		ASSERT_EQ(0, mock_get_counters(self->mfd, p, &cnt));
		/* Other tests raise CERROR_ILL on purpose: none since */
		ASSERT_EQ(self->cerror0[p], cnt.cerror_ill)
			TH_LOG("pSMMU %d", p);
		ASSERT_EQ(self->cnt[p].cmds + k, cnt.cmds)
			TH_LOG("%s %llu: pSMMU %d", what, round, p);
		ASSERT_EQ(self->cnt[p].syncs + syncs, cnt.syncs)
			TH_LOG("%s %llu: pSMMU %d", what, round, p);
		self->cnt[p] = cnt;
		if (churn)
			self->st->phys_churn[p] += k;
		else
			self->st->phys[p] += k;
		self->st->syncs[p] += syncs;
		self->exp_n[p] = 0;
	}
}

/* The model's stage-1 attachments and vDEVICEs per pSMMU, as counted */
static void check_counters(struct __test_metadata *_metadata,
			   struct _test_data_fuzz *self)
{
	struct mock_smmu_counters cnt;
	uint64_t s1, vdevs;
	int p, i;

	for (p = 0; p < self->nr; p++) {
		s1 = 1;		/* B's device */
		vdevs = 1;
		for (i = 0; i < self->nd; i++) {
			if (self->d[i].p != p)
				continue;
			s1 += at_s1(self->d[i].at);
			vdevs += self->d[i].has_vdev;
		}
		ASSERT_EQ(0, mock_get_counters(self->mfd, p, &cnt));
		ASSERT_EQ(s1, cnt.nested_attached) TH_LOG("pSMMU %d", p);
		ASSERT_EQ(vdevs, cnt.vdevices) TH_LOG("pSMMU %d", p);
		ASSERT_EQ(2, cnt.viommus) TH_LOG("pSMMU %d", p);
	}
}

/* ---- Churn ---------------------------------------------------------------- */

/* An STE of A on pSMMU @p leaves state @at (coherence table rows 2 and 3) */
static void model_put(struct _test_data_fuzz *self, int p, int at)
{
	if (at_s1(at) || at == AT_BYP) {
		bool s1_gone = at_s1(at) && !--self->a_s1[p];

		if (!--self->a_users[p])
			expect(self, p, SMMU_OP_TLBI_S12_VMALL |
			       SMMU_CMD_VMID(self->vmid_a[p]), 0);
		else if (s1_gone)
			expect(self, p, SMMU_OP_TLBI_NH_ALL |
			       SMMU_CMD_VMID(self->vmid_a[p]), 0);
	} else if (at == AT_PARENT) {
		if (!--self->par_users[p])
			expect(self, p, SMMU_OP_TLBI_S12_VMALL |
			       SMMU_CMD_VMID(self->vmid_p[p]), 0);
	}
}

static void model_get(struct _test_data_fuzz *self, int p, int at)
{
	if (at_s1(at) || at == AT_BYP) {
		self->a_users[p]++;
		self->a_s1[p] += at_s1(at);
	} else if (at == AT_PARENT) {
		self->par_users[p]++;
	}
}

/* The physical STE of @d matches its attachment */
static void check_ste(struct __test_metadata *_metadata,
		      struct _test_data_fuzz *self, struct fdev *d)
{
	uint64_t ste[4];
	int cfg, vmid;

	ASSERT_EQ(0, mock_get_ste(self->mfd, d->p, d->psid, ste));
	ASSERT_TRUE(ste[0] & SMMU_STE0_V);
	cfg = SMMU_STE_CFG(ste[0]);
	vmid = smmu_field_get(SMMU_STE2_S2VMID, ste[2]);
	switch (d->at) {
	case AT_S1_0:
	case AT_S1_1:
		ASSERT_EQ(SMMU_STE_CFG_NESTED, cfg);
		ASSERT_EQ(self->vmid_a[d->p], vmid);
		break;
	case AT_BYP:
		ASSERT_EQ(SMMU_STE_CFG_S2_TRANS, cfg);
		ASSERT_EQ(self->vmid_a[d->p], vmid);
		break;
	case AT_PARENT:
		ASSERT_EQ(SMMU_STE_CFG_S2_TRANS, cfg);
		if (self->vmid_p[d->p] < 0) {
			/* The parent's VMID there, from its first STE */
			ASSERT_NE(self->vmid_a[d->p], vmid);
			ASSERT_NE(self->vmid_b[d->p], vmid);
			self->vmid_p[d->p] = vmid;
		}
		ASSERT_EQ(self->vmid_p[d->p], vmid);
		break;
	default:
		ASSERT_EQ(SMMU_STE_CFG_ABORT, cfg);
	}
}

/* Attach @d to @at (or detach it), as the model predicts */
static void churn_attach(struct __test_metadata *_metadata,
			 struct _test_data_fuzz *self, struct fdev *d, int at)
{
	uint32_t pt = at == AT_PARENT ? self->parent : d->hwpt[at];
	uint32_t out = 0;
	int rc, old = d->at;

	if (fuzz_trace)
		ksft_print_msg("device %ld (pSMMU %d, vDEVICE %d): %s -> %s\n",
			       (long)(d - self->d), d->p, d->has_vdev,
			       at_name[old], at_name[at]);
	if (at == AT_NONE) {
		ASSERT_EQ(0, mock_dev_detach(self->mfd, d->dev));
	} else {
		rc = mock_dev_attach(self->mfd, d->dev, pt, &out);
		/*
		 * A stage-1 STE needs a vDEVICE of the device on A, but
		 * replacing an attachment with itself does nothing
		 */
		if (at_s1(at) && !d->has_vdev && at != old) {
			ASSERT_EQ(-ENOENT, rc)
				TH_LOG("attach %s -> %s without vDEVICE",
				       at_name[old], at_name[at]);
			self->st->churn_err++;
			return;
		}
		ASSERT_EQ(0, rc) TH_LOG("attach %s -> %s", at_name[old],
					at_name[at]);
		ASSERT_EQ(pt, out);
	}
	/* Replacing an attachment with itself changes nothing */
	if (at != old) {
		model_get(self, d->p, at);
		d->at = at;
		model_put(self, d->p, old);
	}
	check_ste(_metadata, self, d);
}

/* @id names an object the test holds */
static bool id_live(struct _test_data_fuzz *self, uint32_t id)
{
	int i, k;

	if (id == self->ioas || id == self->parent || id == self->va ||
	    id == self->vb)
		return true;
	for (i = 0; i < self->nr; i++)
		if (id == self->bdev_id[i] || id == self->bvdev[i] ||
		    id == self->bs1[i])
			return true;
	for (i = 0; i < self->nd; i++) {
		if (id == self->d[i].dev_id ||
		    (self->d[i].has_vdev && id == self->d[i].vdev_id))
			return true;
		for (k = AT_S1_0; k < AT_NUM; k++)
			if (id == self->d[i].hwpt[k])
				return true;
	}
	return false;
}

static uint32_t pick_vsid(struct _test_data_fuzz *self)
{
	return self->pool[rnd() % NVSID];
}

static void churn_one(struct __test_metadata *_metadata,
		      struct _test_data_fuzz *self)
{
	struct fdev *d = &self->d[rnd() % self->nd];
	uint32_t vsid, id = 0;
	int k, rc;

	self->st->churn++;
	switch (rnd() % 10) {
	case 0 ... 4:
		churn_attach(_metadata, self, d, rnd() % AT_NUM);
		break;
	case 5 ... 6:
		/* A stale ID may have gone to a new object since */
		if (!d->has_vdev && id_live(self, d->vdev_id))
			break;
		if (fuzz_trace)
			ksft_print_msg("device %ld: destroy vDEVICE %u (%s)\n",
				       (long)(d - self->d), d->vdev_id,
				       d->has_vdev ? "live" : "stale");
		rc = iommufd_destroy(self->fd, d->vdev_id);
		if (!d->has_vdev) {
			ASSERT_EQ(-ENOENT, rc);
			self->st->churn_err++;
			break;
		}
		ASSERT_EQ(0, rc);
		d->has_vdev = false;
		break;
	case 7 ... 8:
		vsid = pick_vsid(self);
		if (fuzz_trace)
			ksft_print_msg("device %ld: vDEVICE for vSID %#x\n",
				       (long)(d - self->d), vsid);
		rc = vdevice_alloc(self->fd, self->va, d->dev_id, vsid, &id);
		if (d->has_vdev || dev_by_vsid(self, vsid)) {
			ASSERT_EQ(-EEXIST, rc);
			self->st->churn_err++;
			break;
		}
		ASSERT_EQ(0, rc);
		d->has_vdev = true;
		d->vdev_id = id;
		d->vsid = vsid;
		break;
	default:
		/* A new stage-1 HWPT in place of one not attached */
		k = rnd() % 2 ? AT_S1_1 : AT_S1_0;
		if (fuzz_trace)
			ksft_print_msg("device %ld: new %s HWPT\n",
				       (long)(d - self->d), at_name[k]);
		rc = iommufd_destroy(self->fd, d->hwpt[k]);
		if (d->at == k) {
			ASSERT_EQ(-EBUSY, rc);
			self->st->churn_err++;
			break;
		}
		ASSERT_EQ(0, rc);
		ASSERT_EQ(0, hwpt_alloc_nested_s1(self->fd, d->dev_id, self->va,
						  CDPTR(d->p, d - self->d,
							k - AT_S1_0 + rnd() % 8 * 2),
						  &d->hwpt[k]));
		break;
	}
}

/* ---- Guest commands ------------------------------------------------------- */

/* A vSID for a device-scoped command: mostly one A knows */
static uint32_t gen_vsid(struct _test_data_fuzz *self)
{
	int r = rnd() % 100, i, live = 0;

	if (r < 80) {
		for (i = 0; i < self->nd; i++)
			live += self->d[i].has_vdev;
		if (live) {
			live = rnd() % live;
			for (i = 0; i < self->nd; i++)
				if (self->d[i].has_vdev && !live--)
					return self->d[i].vsid;
		}
	}
	if (r < 85)
		return self->bvsid[rnd() % self->nr];	/* B's */
	if (r < 95)
		return pick_vsid(self);
	return rnd();
}

/* A command valid by the rules, but for its vSID */
static struct smmu_cmd gen_valid(struct _test_data_fuzz *self)
{
	static const uint8_t ops[] = {
		SMMU_OP_TLBI_NH_ALL, SMMU_OP_TLBI_NH_ASID, SMMU_OP_TLBI_NH_VA,
		SMMU_OP_TLBI_NH_VAA, SMMU_OP_TLBI_NSNH_ALL, SMMU_OP_ATC_INV,
		SMMU_OP_CFGI_CD, SMMU_OP_CFGI_CD_ALL,
	};
	const struct doc_feat *f = &self->feat;
	unsigned int op = ops[rnd() % ARRAY_SIZE(ops)];
	unsigned int tg = 0, ttl = 0, num = 0, scale = 0;
	uint16_t asid = f->asid16 ? rnd() : rnd() & 0xff;
	uint64_t c[2] = { op, 0 };

	switch (op) {
	case SMMU_OP_TLBI_NH_ALL:
		smmu_cmd_nh_all(c, rnd());
		break;
	case SMMU_OP_TLBI_NH_ASID:
		smmu_cmd_nh_asid(c, rnd(), asid);
		break;
	case SMMU_OP_TLBI_NH_VA:
	case SMMU_OP_TLBI_NH_VAA:
		if (f->ril && rnd() % 2) {
			tg = 1 + rnd() % 3;
			do {
				ttl = rnd() % 4;
				num = rnd() % 2 ? rnd() % 32 : 0;
				scale = rnd() % 2 ? rnd() % 32 : 0;
			} while ((!ttl && !num && !scale) ||
				 (tg == SMMU_TG_16K && ttl == 1));
		}
		smmu_cmd_nh_va(c, rnd(), op == SMMU_OP_TLBI_NH_VA ? asid : -1,
			       rnd64(), rnd() % 2, tg, ttl, num, scale);
		break;
	case SMMU_OP_TLBI_NSNH_ALL:
		smmu_cmd_nsnh_all(c);
		break;
	case SMMU_OP_ATC_INV:
		smmu_cmd_atc_inv(c, gen_vsid(self),
				 f->ssid && rnd() % 2 ?
				 (int)(rnd() & 0xfffff) : -1,
				 f->ssid && rnd() % 4 == 0, rnd64(),
				 rnd() % (SMMU_ATC_SIZE_ALL + 1));
		break;
	case SMMU_OP_CFGI_CD:
		smmu_cmd_cfgi_cd(c, gen_vsid(self),
				 f->ssid ? rnd() & 0xfffff : 0, rnd() % 2);
		break;
	case SMMU_OP_CFGI_CD_ALL:
		smmu_cmd_cfgi_cd_all(c, gen_vsid(self));
		break;
	}
	return SMMU_CMD(c[0], c[1]);
}

static struct smmu_cmd gen_cmd(struct _test_data_fuzz *self)
{
	int r = rnd() % 1000;
	struct smmu_cmd c;
	unsigned int bit;

	if (r < 940) {
		self->st->gen[0]++;
		return gen_valid(self);
	}
	if (r < 960) {
		self->st->gen[1]++;
		c = gen_valid(self);
		bit = rnd() % 128;
		c.w[bit / 64] ^= 1ULL << (bit % 64);
		return c;
	}
	if (r < 980) {
		self->st->gen[2]++;
		bit = self->opbyte++ & 0xff;
		self->st->opbyte_seen[bit]++;
		c.w[0] = (rnd_bits() & ~SMMU_CMD0_OP) | bit;
		c.w[1] = rnd_bits();
		/* Now and then a vSID A knows, for the SID-scoped ones */
		if (rnd() % 2)
			c.w[0] = (c.w[0] & ~SMMU_CMD0_SID) |
				 SMMU_CMD_SID(gen_vsid(self));
		return c;
	}
	self->st->gen[3]++;
	return SMMU_CMD(rnd64(), rnd64());
}

/*
 * How command @c must fare: 0 if it is executed (and what each pSMMU then
 * executes is added to the expectations when @run), 1 if it breaks a rule,
 * 2 if its vSID is unknown to A.
 */
static int judge(struct _test_data_fuzz *self, const struct smmu_cmd *c,
		 bool run)
{
	uint64_t w0 = c->w[0], w1 = c->w[1];
	unsigned int op = smmu_cmd_op(c->w);
	struct fdev *d;
	int p;

	switch (doc_cmd_class(&self->feat, w0, w1)) {
	case G_DEV:
		d = dev_by_vsid(self, smmu_field_get(SMMU_CMD0_SID, w0));
		if (!d)
			return 2;
		if (run)
			expect(self, d->p, (w0 & ~SMMU_CMD0_SID) |
			       SMMU_CMD_SID(d->psid), w1);
		break;
	case G_TLBI:
		if (op == SMMU_OP_TLBI_NSNH_ALL) {
			w0 = SMMU_OP_TLBI_NH_ALL;
			w1 = 0;
		}
		w0 &= ~SMMU_CMD0_VMID;
		for (p = 0; run && p < self->nr; p++)
			if (self->a_s1[p])
				expect(self, p, w0 |
				       SMMU_CMD_VMID(self->vmid_a[p]), w1);
		break;
	default:
		return 1;
	}
	if (run)
		self->st->op_acc[op]++;
	return 0;
}

static void run_batch(struct __test_metadata *_metadata,
		      struct _test_data_fuzz *self, struct smmu_cmd *g,
		      uint32_t num, unsigned long long round)
{
	uint32_t start = 0, done, i;
	int rc, why;

	while (start < num) {
		done = ~0U;
		rc = viommu_invalidate_smmu(self->fd, self->va, g + start,
					    num - start, &done);
		self->st->calls++;
		ASSERT_TRUE(rc == 0 || rc == -EIO)
			TH_LOG("round %llu: errno %d", round, -rc);
		if (!rc)
			ASSERT_EQ(num - start, done);
		ASSERT_GE(num - start - !!rc, done)
			TH_LOG("round %llu: entry_num %u of %u", round,
			       done, num - start);
		/* Every command before entry_num valid, and executed */
		for (i = start; i < start + done; i++) {
			why = judge(self, &g[i], true);
			ASSERT_EQ(0, why) {
				TH_LOG("round %llu: command %u of %u executed",
				       round, i, num);
				TH_LOG("%016llx %016llx: %s", W(g[i].w[0]),
				       W(g[i].w[1]), why == 1 ?
				       "against the rules" : "unknown vSID");
			}
			self->st->accepted++;
		}
		start += done;
		if (!rc)
			break;
		/* The one at entry_num invalid */
		why = judge(self, &g[start], false);
		ASSERT_NE(0, why) {
			TH_LOG("round %llu: command %u of %u rejected", round,
			       start, num);
			TH_LOG("but %016llx %016llx is valid",
			       W(g[start].w[0]), W(g[start].w[1]));
		}
		if (why == 1)
			self->st->rej_rule++;
		else
			self->st->rej_vsid++;
		start++;	/* CERROR_ILL for it, on with the next */
	}
}

/* ---- Set-up -------------------------------------------------------------- */

static void read_feat(struct __test_metadata *_metadata,
		      struct _test_data_fuzz *self, uint32_t dev_id, bool first)
{
	struct iommu_hw_info_arm_smmuv3 info = {};
	uint32_t type = 0;

	ASSERT_EQ(0, get_hw_info(self->fd, dev_id, &info, sizeof(info),
				 &type));
	ASSERT_EQ(IOMMU_HW_INFO_TYPE_ARM_SMMUV3, type);
	if (first) {
		self->feat.asid16 = true;
		self->feat.ats = true;
		self->feat.ssid = true;
		self->feat.ril = true;
	}
	self->feat.asid16 &= !!(info.idr[0] & SMMU_BIT(12));
	self->feat.ats &= !!(info.idr[0] & SMMU_BIT(10));
	self->feat.ssid &= !!smmu_field_get(SMMU_GENMASK(10, 6), info.idr[1]);
	self->feat.ril &= !!(info.idr[3] & SMMU_BIT(10));
}

FIXTURE_SETUP(fuzz)
{
	int p, j, i, vmid;
	struct fdev *d;

	if (!viommu_fixture_open(_metadata, &self->fd, &self->mfd, &self->nr,
				 MAX_PSMMUS, 1))
		return;
	self->n = self->nr;
	if (self->n > VMAX)
		self->n = VMAX;
	rnd_state = fuzz_seed;
	/* Too big for the stack the fixture lives on */
	self->exp = calloc(self->nr, sizeof(*self->exp));
	self->log = calloc(LOG_SIZE, sizeof(*self->log));
	self->st = calloc(1, sizeof(*self->st));
	ASSERT_TRUE(self->exp && self->log && self->st);

	/* The guest's vSIDs: some small, some with the top bits set */
	for (i = 0; i < NVSID; i++) {
		do {
			self->pool[i] = i % 2 ? rnd() : rnd() % 0x400;
			for (j = 0; j < i; j++)
				if (self->pool[j] == self->pool[i])
					break;
		} while (j < i);
	}

	ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas));
	for (p = 0; p < self->n; p++) {
		for (j = 0; j < NDEV; j++) {
			d = &self->d[self->nd++];
			d->p = p;
			d->psid = PSID_A(p, j);
			ASSERT_EQ(0, mock_dev_create_bind(self->mfd, self->fd,
							  p, d->psid, &d->dev,
							  &d->dev_id));
		}
	}
	for (p = 0; p < self->nr; p++) {
		ASSERT_EQ(0, mock_dev_create_bind(self->mfd, self->fd, p,
						  PSID_B(p), &self->bdev[p],
						  &self->bdev_id[p]));
		read_feat(_metadata, self, self->bdev_id[p], !p);
		self->vmid_p[p] = -1;
		self->vmid_a[p] = -1;
	}
	ksft_print_msg("pSMMUs: %d spanned, %d with devices\n", self->nr,
		       self->n);
	ksft_print_msg("features: asid16 %d ats %d ssid %d ril %d\n",
		       self->feat.asid16, self->feat.ats, self->feat.ssid,
		       self->feat.ril);

	ASSERT_EQ(0, hwpt_alloc_nest_parent(self->fd, self->d[0].dev_id,
					    self->ioas, &self->parent));
	ASSERT_EQ(0, viommu_alloc_smmu(self->fd, 1, self->d[0].dev_id,
				       self->parent, &self->va));
	ASSERT_EQ(0, viommu_alloc_smmu(self->fd, 1, self->bdev_id[0],
				       self->parent, &self->vb));

	/* B: a stage-1 device on every pSMMU, its vSIDs from the pool */
	for (p = 0; p < self->nr; p++) {
		/* Distinct on B, when the pool has enough */
		do {
			self->bvsid[p] = pick_vsid(self);
			for (j = 0; j < p; j++)
				if (self->bvsid[j] == self->bvsid[p])
					break;
		} while (j < p && p < NVSID);
		if (j < p)
			self->bvsid[p] = 0xfff00000 + p;
		ASSERT_EQ(0, vdevice_alloc(self->fd, self->vb, self->bdev_id[p],
					   self->bvsid[p], &self->bvdev[p]));
		ASSERT_EQ(0, hwpt_alloc_nested_s1(self->fd, self->bdev_id[p],
						  self->vb, CDPTR(p, 15, 0),
						  &self->bs1[p]));
		ASSERT_EQ(0, mock_dev_attach(self->mfd, self->bdev[p],
					     self->bs1[p], NULL));
		vmid = mock_ste_vmid(self->mfd, p, PSID_B(p));
		ASSERT_LT(0, vmid);
		self->vmid_b[p] = vmid;
	}

	/* A: vDEVICEs with distinct vSIDs, nested HWPTs, VMIDs */
	for (i = 0; i < self->nd; i++) {
		d = &self->d[i];
		do {
			d->vsid = pick_vsid(self);
		} while (dev_by_vsid(self, d->vsid));
		ASSERT_EQ(0, vdevice_alloc(self->fd, self->va, d->dev_id,
					   d->vsid, &d->vdev_id));
		d->has_vdev = true;
		ASSERT_EQ(0, hwpt_alloc_nested_s1(self->fd, d->dev_id, self->va,
						  CDPTR(d->p, i, 0),
						  &d->hwpt[AT_S1_0]));
		ASSERT_EQ(0, hwpt_alloc_nested_s1(self->fd, d->dev_id, self->va,
						  CDPTR(d->p, i, 1),
						  &d->hwpt[AT_S1_1]));
		ASSERT_EQ(0, hwpt_alloc_nested_bypass(self->fd, d->dev_id,
						      self->va,
						      &d->hwpt[AT_BYP]));
		ASSERT_EQ(0, hwpt_alloc_nested_smmu(self->fd, d->dev_id,
						    self->va, SMMU_STE0_V, 0,
						    &d->hwpt[AT_ABRT]));
	}
	for (p = 0; p < self->n; p++) {
		d = &self->d[p * NDEV];
		ASSERT_EQ(0, mock_dev_attach(self->mfd, d->dev,
					     d->hwpt[AT_BYP], NULL));
		vmid = mock_ste_vmid(self->mfd, p, d->psid);
		ASSERT_LT(0, vmid);
		ASSERT_NE(self->vmid_b[p], vmid);
		self->vmid_a[p] = vmid;
		ASSERT_EQ(0, mock_dev_detach(self->mfd, d->dev));
	}
	/* From here on, every physical command is predicted */
	for (p = 0; p < self->nr; p++) {
		ASSERT_EQ(0, mock_cmdq_log_clear(self->mfd, p));
		ASSERT_EQ(0, mock_get_counters(self->mfd, p, &self->cnt[p]));
		self->cerror0[p] = self->cnt[p].cerror_ill;
	}
	check_counters(_metadata, self);
}

FIXTURE_TEARDOWN(fuzz)
{
	free(self->st);
	free(self->log);
	free(self->exp);
	close(self->mfd);
	close(self->fd);
}

static void print_stats(struct _test_data_fuzz *self, double secs)
{
	const struct fstats *st = self->st;
	unsigned int op, seen = 0;
	int p;

	for (op = 0; op < 256; op++)
		seen += !!st->opbyte_seen[op];
	ksft_print_msg("%llu guest commands, %llu batches, %llu calls, %.1f s\n",
		       st->cmds, st->batches, st->calls, secs);
	ksft_print_msg("%llu executed, rejected: %llu by the rules, %llu vSID\n",
		       st->accepted, st->rej_rule, st->rej_vsid);
	ksft_print_msg("generated: %llu valid, %llu one-bit mutations\n",
		       st->gen[0], st->gen[1]);
	ksft_print_msg("generated: %llu by opcode byte (%u of 256), %llu random\n",
		       st->gen[2], seen, st->gen[3]);
	ksft_print_msg("executed: NH_ALL %llu NH_ASID %llu NH_VA %llu NH_VAA %llu\n",
		       st->op_acc[SMMU_OP_TLBI_NH_ALL],
		       st->op_acc[SMMU_OP_TLBI_NH_ASID],
		       st->op_acc[SMMU_OP_TLBI_NH_VA],
		       st->op_acc[SMMU_OP_TLBI_NH_VAA]);
	ksft_print_msg("executed: NSNH_ALL %llu ATC_INV %llu CFGI_CD %llu CFGI_CD_ALL %llu\n",
		       st->op_acc[SMMU_OP_TLBI_NSNH_ALL],
		       st->op_acc[SMMU_OP_ATC_INV], st->op_acc[SMMU_OP_CFGI_CD],
		       st->op_acc[SMMU_OP_CFGI_CD_ALL]);
	ksft_print_msg("churn: %llu operations, %llu refused as predicted\n",
		       st->churn, st->churn_err);
	for (p = 0; p < self->nr; p++)
		ksft_print_msg("pSMMU %d: %llu + %llu churn cmds, %llu syncs, %llu CERROR_ILL\n",
			       p, st->phys[p], st->phys_churn[p], st->syncs[p],
			       (unsigned long long)(self->cnt[p].cerror_ill -
						    self->cerror0[p]));
}

TEST_F_TIMEOUT(fuzz, guest_commands, 900)
{
	static struct smmu_cmd g[MAX_BATCH];
	double t0 = now_s(), secs;
	uint64_t round = 0;
	uint32_t num, i;
	int k;

	while (self->st->cmds < fuzz_cmds) {
		secs = now_s() - t0;
		if (fuzz_budget_s && secs > fuzz_budget_s &&
		    self->st->cmds >= fuzz_min_cmds) {
			ksft_print_msg("time budget of %.0f s reached\n",
				       fuzz_budget_s);
			break;
		}
		round++;
		for (k = rnd() % 4; k; k--)
			churn_one(_metadata, self);
		check_logs(_metadata, self, true, "churn", round);
		if (round % 64 == 0)
			check_counters(_metadata, self);

		num = 1 + rnd() % MAX_BATCH;
		if (num > fuzz_cmds - self->st->cmds)
			num = fuzz_cmds - self->st->cmds;
		for (i = 0; i < num; i++)
			g[i] = gen_cmd(self);
		run_batch(_metadata, self, g, num, round);
		check_logs(_metadata, self, false, "batch", round);
		self->st->cmds += num;
		self->st->batches++;
	}
	check_counters(_metadata, self);
	print_stats(self, now_s() - t0);
	ksft_print_msg("replay: iommufd_vsmmu_fuzz -s %u -n %llu\n",
		       fuzz_seed, self->st->cmds);
}

/*
 * The oracle itself, on commands whose fate the documentation spells out,
 * so that a mistake in it cannot pass for the kernel's.
 */
TEST(doc_rules)
{
	const struct doc_feat all = { true, true, true, true };
	const struct doc_feat none = { false, false, false, false };
	uint64_t c[2];

	ASSERT_EQ(G_TLBI, doc_cmd_class(&all, SMMU_OP_TLBI_NH_ALL |
					SMMU_CMD_VMID(0xffff), 0));
	ASSERT_EQ(G_BAD, doc_cmd_class(&all, SMMU_OP_TLBI_NH_ALL, 1));
	ASSERT_EQ(G_BAD, doc_cmd_class(&all, SMMU_OP_TLBI_NSNH_ALL |
				       SMMU_CMD_VMID(1), 0));
	ASSERT_EQ(G_BAD, doc_cmd_class(&all, SMMU_OP_CMD_SYNC, 0));
	ASSERT_EQ(G_BAD, doc_cmd_class(&all, SMMU_OP_CFGI_STE, 0));
	ASSERT_EQ(G_BAD, doc_cmd_class(&all, SMMU_OP_TLBI_S12_VMALL, 0));
	ASSERT_EQ(G_BAD, doc_cmd_class(&all, SMMU_OP_CFGI_CD |
				       SMMU_CMD0_SSEC, 0));
	ASSERT_EQ(G_DEV, doc_cmd_class(&all, SMMU_OP_CFGI_CD |
				       SMMU_CMD_SSID(0xfffff) |
				       SMMU_CMD_SID(~0U), SMMU_CMD1_LEAF));
	ASSERT_EQ(G_BAD, doc_cmd_class(&none, SMMU_OP_CFGI_CD |
				       SMMU_CMD_SSID(1), 0));
	ASSERT_EQ(G_BAD, doc_cmd_class(&all, SMMU_OP_CFGI_CD_ALL, 1));
	ASSERT_EQ(G_BAD, doc_cmd_class(&all, SMMU_OP_CFGI_CD | SMMU_CMD0_SSV,
				       0));
	/* ATC_INV: SIZE up to 52, and only with ATS */
	smmu_cmd_atc_inv(c, 5, 3, 1, 0x1000, SMMU_ATC_SIZE_ALL);
	ASSERT_EQ(G_DEV, doc_cmd_class(&all, c[0], c[1]));
	ASSERT_EQ(G_BAD, doc_cmd_class(&none, c[0], c[1]));
	smmu_cmd_atc_inv(c, 5, -1, 0, 0x1000, SMMU_ATC_SIZE_ALL + 1);
	ASSERT_EQ(G_BAD, doc_cmd_class(&all, c[0], c[1]));
	/* TLBI_NH_VA range rules */
	smmu_cmd_nh_va(c, 1, 2, 0x1000, 1, 0, 0, 0, 0);
	ASSERT_EQ(G_TLBI, doc_cmd_class(&all, c[0], c[1]));
	ASSERT_EQ(G_TLBI, doc_cmd_class(&none, c[0], c[1]));
	smmu_cmd_nh_va(c, 1, 2, 0x1000, 1, 0, 1, 0, 0);
	ASSERT_EQ(G_BAD, doc_cmd_class(&all, c[0], c[1]));
	smmu_cmd_nh_va(c, 1, 2, 0x1000, 1, SMMU_TG_4K, 0, 0, 0);
	ASSERT_EQ(G_BAD, doc_cmd_class(&all, c[0], c[1]));
	smmu_cmd_nh_va(c, 1, -1, 0x1000, 1, SMMU_TG_4K, 0, 3, 0);
	ASSERT_EQ(G_TLBI, doc_cmd_class(&all, c[0], c[1]));
	ASSERT_EQ(G_BAD, doc_cmd_class(&none, c[0], c[1]));
	smmu_cmd_nh_va(c, 1, 2, 0x1000, 1, SMMU_TG_16K, 1, 3, 0);
	ASSERT_EQ(G_BAD, doc_cmd_class(&all, c[0], c[1]));
	smmu_cmd_nh_va(c, 1, 2, 0x1000, 1, SMMU_TG_16K, 2, 0, 0);
	ASSERT_EQ(G_TLBI, doc_cmd_class(&all, c[0], c[1]));
	/* TLBI_NH_VAA has no ASID; 8-bit ASIDs stop at bit 55 */
	ASSERT_EQ(G_BAD, doc_cmd_class(&all, SMMU_OP_TLBI_NH_VAA |
				       SMMU_CMD_ASID(1), 0));
	ASSERT_EQ(G_TLBI, doc_cmd_class(&none, SMMU_OP_TLBI_NH_ASID |
					SMMU_CMD_ASID(0xff), 0));
	ASSERT_EQ(G_BAD, doc_cmd_class(&none, SMMU_OP_TLBI_NH_ASID |
				       SMMU_CMD_ASID(0x100), 0));
}

/* -s SEED, -n COMMANDS, -T SECONDS, -m MIN_COMMANDS; the rest is kselftest's */
int main(int argc, char **argv)
{
	const char *env = getenv("IOMMUFD_FUZZ_SEED");
	const char *trace = getenv("IOMMUFD_FUZZ_TRACE");
	bool debug = !access("/proc/thread-self/fail-nth", F_OK);
	int i, o = 1;

	fuzz_seed = env ? strtoul(env, NULL, 0) : 0;
	for (i = 1; i < argc; i++) {
		if (i + 1 < argc && !strcmp(argv[i], "-s")) {
			fuzz_seed = strtoul(argv[++i], NULL, 0);
		} else if (i + 1 < argc && !strcmp(argv[i], "-n")) {
			fuzz_cmds = strtoull(argv[++i], NULL, 0);
			fuzz_cmds_given = true;
		} else if (i + 1 < argc && !strcmp(argv[i], "-T")) {
			fuzz_budget_s = strtod(argv[++i], NULL);
			fuzz_budget_given = true;
		} else if (!strcmp(argv[i], "--trace")) {
			fuzz_trace = true;
		} else if (i + 1 < argc && !strcmp(argv[i], "-m")) {
			fuzz_min_cmds = strtoull(argv[++i], NULL, 0);
		} else {
			argv[o++] = argv[i];
		}
	}
	argc = o;
	fuzz_trace |= trace && *trace == '1';
	if (!fuzz_seed)
		fuzz_seed = (uint32_t)(time(NULL) ^ (getpid() << 16)) ?: 1;
	if (debug && !fuzz_budget_given && !fuzz_cmds_given) {
		fuzz_budget_s = DEBUG_BUDGET_S;
		fuzz_min_cmds = DEBUG_MIN_CMDS;
		/* fail-nth: a debug kernel, much slower */
		ksft_print_msg("debug kernel: at most %.0f s, at least %llu commands\n",
			       fuzz_budget_s, fuzz_min_cmds);
	}
	if (fuzz_min_cmds > fuzz_cmds)
		fuzz_min_cmds = fuzz_cmds;
	ksft_print_msg("seed: %u\n", fuzz_seed);
	return test_harness_run(argc, argv);
}
