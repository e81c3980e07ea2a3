// SPDX-License-Identifier: GPL-2.0-only
/*
 * Benchmark: the kernel-side split of a guest's SMMUv3 command batch
 * against the VMM-side split upstream chose, on the mock pSMMUs.
 *
 * One guest vSMMU fronts devices behind 2 or 4 pSMMUs. Its command queue
 * holds a batch of device-scoped commands (CFGI_CD, CFGI_CD_ALL, ATC_INV)
 * for devices on every pSMMU mixed with TLBIs, every device being attached
 * to a stage-1 nested HWPT. The same batch is executed three ways:
 *
 *  (a) kernel-side split (this project): one IOMMU_HWPT_INVALIDATE on one
 *      vIOMMU spanning every pSMMU; the kernel routes each command;
 *  (b) VMM-side split (upstream model): one non-spanning vIOMMU per pSMMU;
 *      the program decodes each command itself, sends device-scoped ones to
 *      the vIOMMU of the device's pSMMU and replicates each TLBI to every
 *      vIOMMU with a stage-1 device, then makes one call per vIOMMU;
 *  (c) QEMU today: the same per-pSMMU vIOMMUs, one call per guest command
 *      and target vIOMMU.
 *
 * Each way runs on devices of its own (same pSMMUs, same guest vSIDs) and
 * executes the same commands on every pSMMU, which is checked with the
 * pSMMUs' counters. Times are medians of several runs (CLOCK_MONOTONIC,
 * decoding included) and the result is the ratios (b)/(a) and (c)/(a),
 * printed as TAP comments. The program fails only if an ioctl fails or the
 * ways do not do the same work; it never judges the timing.
 */
#include <stdlib.h>

#include "kselftest_harness.h"
#include "iommufd_viommu_utils.h"

#define MAX_PSMMUS	64
#define VMAX		4
#define DEVS		4	/* devices per pSMMU and way */
#define REPS		9	/* timed runs of each way */
#define BATCH_MAX	4096

/* Devices of way (a) and of ways (b)/(c), with the same guest vSIDs */
#define PSID_SPAN(j)	(0x10 + (j))
#define PSID_SPLIT(j)	(0x20 + (j))
#define GVSID_BASE	0x100
#define GVSID(p, j)	(GVSID_BASE + (p) * 0x10 + (j))
#define GVSID_SLOTS	(VMAX * 0x10)

enum { WAY_KERNEL, WAY_VMM, WAY_PER_CMD, WAYS };

static const char * const way_name[WAYS] = {
	"(a) kernel-side split, 1 spanning vIOMMU",
	"(b) VMM-side split, 1 vIOMMU per pSMMU",
	"(c) 1 call per command, 1 vIOMMU per pSMMU",
};

/* FIXTURE_DATA(bench) is struct _test_data_bench */
FIXTURE(bench)
{
	int fd;
	int mfd;
	int nr;
	int n;
	uint32_t ioas_id;
	uint32_t parent;
	uint32_t vspan;		/* way (a) */
	uint32_t vp[VMAX];	/* ways (b), (c): the vIOMMU of pSMMU p */
	/* The VMM's tables for ways (b) and (c) */
	int8_t vsid_psmmu[GVSID_SLOTS];
	uint64_t s1_mask;
	/* Scratch of way (b): the commands for each vIOMMU */
	struct smmu_cmd split[VMAX][BATCH_MAX];
	uint32_t split_num[VMAX];
	unsigned long calls[WAYS];
};

FIXTURE_VARIANT(bench)
{
	int psmmus;
};

FIXTURE_VARIANT_ADD(bench, psmmus_2)
{
	.psmmus = 2,
};

FIXTURE_VARIANT_ADD(bench, psmmus_4)
{
	.psmmus = 4,
};

/* A device behind @p with a vDEVICE @vsid on @viommu and a stage 1 there */
static void add_device(struct __test_metadata *_metadata,
		       struct _test_data_bench *self, int p, uint32_t psid,
		       uint32_t viommu, uint32_t vsid)
{
	uint32_t dev, dev_id, hwpt, out;

	ASSERT_EQ(0, mock_dev_create_bind(self->mfd, self->fd, p, psid, &dev,
					  &dev_id));
	ASSERT_EQ(0, mock_dev_attach(self->mfd, dev, self->parent, NULL));
	ASSERT_EQ(0, vdevice_alloc(self->fd, viommu, dev_id, vsid, NULL));
	ASSERT_EQ(0, hwpt_alloc_nested_s1(self->fd, dev_id, viommu,
					  0x40000000ULL + vsid * 0x1000,
					  &hwpt));
	ASSERT_EQ(0, mock_dev_attach(self->mfd, dev, hwpt, &out));
	ASSERT_EQ(hwpt, out);
}

FIXTURE_SETUP(bench)
{
	uint32_t dev, dev_id;
	int p, j;

	if (!viommu_fixture_open(_metadata, &self->fd, &self->mfd,
				 &self->nr, MAX_PSMMUS, variant->psmmus))
		return;
	self->n = variant->psmmus;

	ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas_id));
	/* The nesting parent, for a device that serves no other purpose */
	ASSERT_EQ(0, mock_dev_create_bind(self->mfd, self->fd, 0, 0x7f, &dev,
					  &dev_id));
	ASSERT_EQ(0, hwpt_alloc_nest_parent(self->fd, dev_id, self->ioas_id,
					    &self->parent));
	ASSERT_EQ(0, viommu_alloc_smmu(self->fd, 1, dev_id, self->parent,
				       &self->vspan));

	memset(self->vsid_psmmu, -1, sizeof(self->vsid_psmmu));
	for (p = 0; p < self->n; p++) {
		/* Way (b)/(c)'s vIOMMU of pSMMU p, on its first device */
		uint32_t first, first_id;

		ASSERT_EQ(0, mock_dev_create_bind(self->mfd, self->fd, p,
						  0x7e, &first, &first_id));
		ASSERT_EQ(0, viommu_alloc_smmu(self->fd, 0, first_id,
					       self->parent, &self->vp[p]));
		for (j = 0; j < DEVS; j++) {
			add_device(_metadata, self, p, PSID_SPAN(j),
				   self->vspan, GVSID(p, j));
			add_device(_metadata, self, p, PSID_SPLIT(j),
				   self->vp[p], GVSID(p, j));
			self->vsid_psmmu[GVSID(p, j) - GVSID_BASE] = p;
		}
		self->s1_mask |= 1ULL << p;
	}
}

FIXTURE_TEARDOWN(bench)
{
	close(self->mfd);
	close(self->fd);
}

/*
 * A guest batch: 3 in 4 commands device-scoped, for random devices on
 * every pSMMU, the others TLBIs. Return the number of TLBIs.
 */
static uint32_t make_batch(struct _test_data_bench *self, struct smmu_cmd *guest,
			   uint32_t num)
{
	uint32_t i, tlbis = 0;

	rnd_state = 0xc0ffee;
	for (i = 0; i < num; i++) {
		uint32_t vsid = GVSID(rnd() % self->n, rnd() % DEVS);
		uint64_t page = (uint64_t)(rnd() & 0xfffff) << 12;

		switch (rnd() % 8) {
		case 0:
		case 1:
		case 2:
			smmu_cmd_cfgi_cd(guest[i].w, vsid, rnd() & 0xfffff, 1);
			break;
		case 3:
			smmu_cmd_cfgi_cd_all(guest[i].w, vsid);
			break;
		case 4:
		case 5:
			smmu_cmd_atc_inv(guest[i].w, vsid, -1, 0, page, 0);
			break;
		case 6:
			smmu_cmd_nh_va(guest[i].w, 0, rnd() & 0xffff, page, 1,
				       0, 0, 0, 0);
			tlbis++;
			break;
		default:
			if (rnd() % 4)
				smmu_cmd_nh_asid(guest[i].w, 0, rnd());
			else
				smmu_cmd_nsnh_all(guest[i].w);
			tlbis++;
			break;
		}
	}
	return tlbis;
}

/*
 * The VMM's decoder of ways (b) and (c): the pSMMUs a guest command goes
 * to, as a mask. Device-scoped commands by the vSID's device, the others
 * to every pSMMU with a stage-1 device.
 */
static uint64_t vmm_targets(struct _test_data_bench *self, const struct smmu_cmd *c)
{
	uint32_t slot;

	if (!smmu_op_sid_scoped(smmu_cmd_op(c->w)))
		return self->s1_mask;
	slot = smmu_field_get(SMMU_CMD0_SID, c->w[0]) - GVSID_BASE;
	if (slot >= GVSID_SLOTS || self->vsid_psmmu[slot] < 0)
		return 0;	/* the VMM would report CERROR_ILL */
	return 1ULL << self->vsid_psmmu[slot];
}

/* Run @guest one way; return the time taken or a negative errno */
static double run_way(struct _test_data_bench *self, int way,
		      const struct smmu_cmd *guest, uint32_t num)
{
	uint32_t i, done;
	uint64_t mask;
	double t;
	int p, rc;

	t = now_s();
	switch (way) {
	case WAY_KERNEL:
		rc = viommu_invalidate_smmu(self->fd, self->vspan, guest, num, &done);
		if (rc || done != num)
			return rc ? rc : -EIO;
		self->calls[way]++;
		break;
	case WAY_VMM:
		memset(self->split_num, 0, sizeof(self->split_num));
		for (i = 0; i < num; i++) {
			mask = vmm_targets(self, &guest[i]);
			for (p = 0; p < self->n; p++)
				if (mask & (1ULL << p))
					self->split[p][self->split_num[p]++] =
						guest[i];
		}
		for (p = 0; p < self->n; p++) {
			if (!self->split_num[p])
				continue;
			rc = viommu_invalidate_smmu(self->fd, self->vp[p],
						    self->split[p],
						    self->split_num[p], &done);
			if (rc || done != self->split_num[p])
				return rc ? rc : -EIO;
			self->calls[way]++;
		}
		break;
	default:
		for (i = 0; i < num; i++) {
			mask = vmm_targets(self, &guest[i]);
			for (p = 0; p < self->n; p++) {
				if (!(mask & (1ULL << p)))
					continue;
				rc = viommu_invalidate_smmu(self->fd, self->vp[p],
							    &guest[i], 1, &done);
				if (rc || done != 1)
					return rc ? rc : -EIO;
				self->calls[way]++;
			}
		}
		break;
	}
	return now_s() - t;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void bench(struct __test_metadata *_metadata, struct _test_data_bench *self,
		  uint32_t num)
{
	static struct smmu_cmd guest[BATCH_MAX];
	struct mock_smmu_counters c0, c1;
	uint64_t ill[MAX_PSMMUS];
	uint64_t cmds[WAYS][VMAX], syncs[WAYS][VMAX];
	double t[WAYS][REPS], med[WAYS];
	unsigned long calls[WAYS];
	uint32_t tlbis;
	int w, r, p;

	ASSERT_GE(BATCH_MAX, num);
	tlbis = make_batch(self, guest, num);

	/* A first run of each way: what the pSMMUs execute */
	for (w = 0; w < WAYS; w++) {
		for (p = 0; p < self->n; p++) {
			ASSERT_EQ(0, mock_get_counters(self->mfd, p, &c0));
			cmds[w][p] = c0.cmds;
			syncs[w][p] = c0.syncs;
			ill[p] = c0.cerror_ill;
		}
		self->calls[w] = 0;
		ASSERT_LE(0, run_way(self, w, guest, num))
			TH_LOG("%s", way_name[w]);
		calls[w] = self->calls[w];
		for (p = 0; p < self->n; p++) {
			ASSERT_EQ(0, mock_get_counters(self->mfd, p, &c1));
			ASSERT_EQ(ill[p], c1.cerror_ill);
			cmds[w][p] = c1.cmds - cmds[w][p];
			syncs[w][p] = c1.syncs - syncs[w][p];
		}
	}
	/* The same work on every pSMMU */
	for (w = 1; w < WAYS; w++) {
		for (p = 0; p < self->n; p++) {
			ASSERT_EQ(cmds[0][p], cmds[w][p])
				TH_LOG("%s, pSMMU %d", way_name[w], p);
		}
	}

	/* The timed runs, the ways taking turns */
	for (r = 0; r < REPS; r++) {
		for (w = 0; w < WAYS; w++) {
			t[w][r] = run_way(self, w, guest, num);
			ASSERT_LE(0, t[w][r]) TH_LOG("%s", way_name[w]);
		}
	}
	for (w = 0; w < WAYS; w++) {
		qsort(t[w], REPS, sizeof(t[w][0]), cmp_double);
		med[w] = t[w][REPS / 2];
	}

	ksft_print_msg("%d pSMMUs, %u guest commands (%u device-scoped, %u TLBIs), median of %d:\n",
		       self->n, num, num - tlbis, tlbis, REPS);
	for (w = 0; w < WAYS; w++) {
		uint64_t c = 0, s = 0;

		for (p = 0; p < self->n; p++) {
			c += cmds[w][p];
			s += syncs[w][p];
		}
		ksft_print_msg("  %-44s %6lu ioctls, %llu commands + %llu CMD_SYNC executed\n",
			       way_name[w], calls[w], (unsigned long long)c,
			       (unsigned long long)s);
	}
	ksft_print_msg("  ratio (b)/(a), VMM-side split over kernel-side split: %.2f\n",
		       med[WAY_VMM] / med[WAY_KERNEL]);
	ksft_print_msg("  ratio (c)/(a), one call per command over kernel-side split: %.2f\n",
		       med[WAY_PER_CMD] / med[WAY_KERNEL]);
	ksft_print_msg("  (context, this machine only: medians %.3f / %.3f / %.3f ms)\n",
		       med[WAY_KERNEL] * 1e3, med[WAY_VMM] * 1e3,
		       med[WAY_PER_CMD] * 1e3);
}

TEST_F_TIMEOUT(bench, batch_4096, 600)
{
	bench(_metadata, self, 4096);
}

/* A batch of the size a Linux guest's command queue batches at most */
TEST_F_TIMEOUT(bench, batch_64, 300)
{
	bench(_metadata, self, 64);
}

TEST_HARNESS_MAIN
