// SPDX-License-Identifier: GPL-2.0-only
/*
 * make bench: the vSMMU dispatcher's performance on the mock pSMMUs.
 *
 * Not a test: it is not in make test's list and judges nothing but the
 * success of its ioctls and the commands the pSMMUs executed. Every figure
 * it prints is a ratio of two times measured in this run, in turns, the
 * median of REPS repetitions with their min and max, each repetition
 * running one case long enough (>= --min-ms) to be above timer noise.
 * Beside each ratio: the commands and CMD_SYNCs each pSMMU executed for
 * one call of each case (MOCK_SMMU_GET_COUNTERS deltas, deterministic).
 *
 * Workloads (all on the num_psmmus pSMMUs the mock was loaded with):
 *  W1  batching: per-command cost of a batch of B guest commands on the
 *      spanning vIOMMU, relative to the 1-command call;
 *  W2  (a) one spanning vIOMMU, one ioctl; (b) one vIOMMU per pSMMU, the
 *      batch routed here as a VMM must, one ioctl per pSMMU; (c) one
 *      ioctl per command and target; ratios (b)/(a) and (c)/(a);
 *  W3  scale: per-command cost of device-scoped commands with random vSIDs
 *      on a vIOMMU of N vDEVICEs relative to N=16, with the dispatcher's
 *      route table and with iommufd's vdev_id table (vsmmu_route_table 1
 *      and 0), the queue modelled and free;
 *  W4  memory: kernel memory and xarray nodes per device, vDEVICE and
 *      vIOMMU, for dense vSIDs and for one device per PCI bus;
 *  W5  fan-out: a TLBI on a spanning vIOMMU where k of n pSMMUs hold
 *      stage-1 attachments issues exactly k TLBIs (and k syncs); then with
 *      each CMD_SYNC taking the mock's sync_latency_us (-L) to complete,
 *      the library writing every CMD_SYNC before waiting (its
 *      vsmmu_sync_overlap=1) and waiting for each in turn (=0); the same
 *      for a stage-2 flush: an IOAS_MAP and IOAS_UNMAP of one page on a
 *      paging domain that devices on k of n pSMMUs are attached to;
 *  W6  fixed and per-command costs in units of a null ioctl
 *      (IOMMU_HWPT_INVALIDATE with entry_num 0), with the mock's queue
 *      execution on and free (its cmdq_model parameter).
 *
 * The readable report goes to stdout; each figure is also printed as a
 * line "csv,<fields>" that make bench gathers into build/bench/bench.csv.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "kselftest.h"
#include "iommufd_viommu_utils.h"

#define MAX_PSMMUS	64
#define DEVS		4	/* devices per pSMMU and way */
#define BATCH_MAX	1024
#define MAX_CASES	4
#define MAX_REPS	64

#define PSID_SPAN(j)	(0x10 + (j))
#define PSID_SPLIT(j)	(0x20 + (j))
#define PSID_FAN	0x30
#define PSID_NONE	0x31
#define PSID_S2		0x32
#define S2_IOVA		0x10000000ULL
#define S2_LEN		4096UL
#define GVSID_BASE	0x100
#define GVSID(p, j)	(GVSID_BASE + (p) * 0x10 + (j))
#define GVSID_SLOTS	(MAX_PSMMUS * 0x10)
#define FAN_VSID(p)	(0x8000 + (p))

/* Lines of the machine-readable report start with it */
#define CSV_TAG		"csv"

#define MOCK_PARAMS	"/sys/module/mock_smmu/parameters/"
/* The mock queue's execution: 1 modelled, 0 free */
#define CMDQ_MODEL	MOCK_PARAMS "cmdq_model"
/* The dispatcher's working memory: 1 kept per vIOMMU, 0 allocated per call */
#define ROUND_CACHE	MOCK_PARAMS "vsmmu_round_cache"
/* The syncs of a round: 1 all written before any wait, 0 one at a time */
#define SYNC_OVERLAP	MOCK_PARAMS "vsmmu_sync_overlap"
/* The time a mock CMD_SYNC takes to complete, in us */
#define SYNC_LATENCY	MOCK_PARAMS "sync_latency_us"
/* The dispatcher's vSID lookup: 1 its route table, 0 iommufd's vdev_id table */
#define ROUTE_TABLE	MOCK_PARAMS "vsmmu_route_table"
/* The route table's key for new vIOMMUs: 0 the vSID, 1 bus and devfn swapped */
#define ROUTE_KEY	MOCK_PARAMS "vsmmu_route_key"

static int reps = 9;
static double min_s = 0.010;
/* W5's CMD_SYNC latency, in us */
static int sync_latency_us = 100;

static int fd, mfd, n;
static uint32_t first_id0;	/* dev_id of a device behind pSMMU 0 */
static uint32_t parent, vspan, vnone, vfan, vp[MAX_PSMMUS];
static uint32_t fan_dev[MAX_PSMMUS], fan_s1[MAX_PSMMUS], fan_byp[MAX_PSMMUS];
/* W5's stage-2 flush: a paging domain of an IOAS of its own, a device per pSMMU */
static uint32_t s2_ioas, s2_dom, s2_dev[MAX_PSMMUS];
static void *s2_buf;
static int8_t vsid_psmmu[GVSID_SLOTS];
static uint64_t s1_mask;

static struct smmu_cmd guest[BATCH_MAX];
static uint32_t guest_num;
static struct smmu_cmd split[MAX_PSMMUS][BATCH_MAX];
static uint32_t split_num[MAX_PSMMUS];

static void die(const char *what, int rc)
{
	printf("FAIL: %s: %s\n", what, strerror(rc < 0 ? -rc : rc));
	exit(1);
}

#define CHECK(call) do {					\
	int __rc = (call);					\
	if (__rc)						\
		die(#call, __rc);				\
} while (0)

/* --- the ways of executing guest[] --------------------------------------- */

static uint64_t vmm_targets(const struct smmu_cmd *c)
{
	uint32_t slot;

	if (!smmu_op_sid_scoped(smmu_cmd_op(c->w)))
		return s1_mask;
	slot = smmu_field_get(SMMU_CMD0_SID, c->w[0]) - GVSID_BASE;
	if (slot >= GVSID_SLOTS || vsid_psmmu[slot] < 0)
		return 0;
	return 1ULL << vsid_psmmu[slot];
}

static void inval(uint32_t viommu, const struct smmu_cmd *c, uint32_t num)
{
	uint32_t done;
	int rc = viommu_invalidate_smmu(fd, viommu, c, num, &done);

	if (rc || done != num)
		die("IOMMU_HWPT_INVALIDATE", rc ? rc : EIO);
}

/* (a): one call on the spanning vIOMMU */
static unsigned int way_kernel(void *arg)
{
	inval(*(uint32_t *)arg, guest, guest_num);
	return 1;
}

/* (b): decode, route, one call per pSMMU */
static unsigned int way_vmm(void *arg)
{
	unsigned int calls = 0;
	uint32_t i;
	uint64_t m;
	int p;

	memset(split_num, 0, sizeof(split_num));
	for (i = 0; i < guest_num; i++) {
		m = vmm_targets(&guest[i]);
		for (p = 0; p < n; p++)
			if (m & (1ULL << p))
				split[p][split_num[p]++] = guest[i];
	}
	for (p = 0; p < n; p++) {
		if (!split_num[p])
			continue;
		inval(vp[p], split[p], split_num[p]);
		calls++;
	}
	return calls;
}

/* (c): one call per command and target, as QEMU does */
static unsigned int way_per_cmd(void *arg)
{
	unsigned int calls = 0;
	uint32_t i;
	uint64_t m;
	int p;

	for (i = 0; i < guest_num; i++) {
		m = vmm_targets(&guest[i]);
		for (p = 0; p < n; p++) {
			if (!(m & (1ULL << p)))
				continue;
			inval(vp[p], &guest[i], 1);
			calls++;
		}
	}
	return calls;
}

/* The null ioctl: IOMMU_HWPT_INVALIDATE of no entry */
static unsigned int way_null(void *arg)
{
	uint32_t done;
	int rc;

	rc = hwpt_invalidate_raw(fd, *(uint32_t *)arg,
				 IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
				 sizeof(struct iommu_viommu_arm_smmuv3_invalidate),
				 guest, 0, 0, &done);
	if (rc)
		die("null IOMMU_HWPT_INVALIDATE", rc);
	return 1;
}

/* --- guest batches ------------------------------------------------------- */

enum mix { MIX_TLBI, MIX_DEV, MIX_MIXED, MIXES };

static const char * const mix_name[MIXES] = { "tlbi", "dev", "mixed" };

static void make_tlbi(struct smmu_cmd *c)
{
	uint64_t page = (uint64_t)(rnd() & 0xfffff) << 12;

	switch (rnd() % 4) {
	case 0:
	case 1:
		smmu_cmd_nh_va(c->w, 0, rnd() & 0xffff, page, 1, 0, 0, 0, 0);
		break;
	case 2:
		smmu_cmd_nh_asid(c->w, 0, rnd());
		break;
	default:
		smmu_cmd_nh_all(c->w, 0);
		break;
	}
}

static void make_dev(struct smmu_cmd *c)
{
	uint32_t vsid = GVSID(rnd() % n, rnd() % DEVS);
	uint64_t page = (uint64_t)(rnd() & 0xfffff) << 12;

	switch (rnd() % 4) {
	case 0:
	case 1:
		smmu_cmd_cfgi_cd(c->w, vsid, rnd() & 0xfffff, 1);
		break;
	case 2:
		smmu_cmd_cfgi_cd_all(c->w, vsid);
		break;
	default:
		smmu_cmd_atc_inv(c->w, vsid, -1, 0, page, 0);
		break;
	}
}

static void make_batch(enum mix mix, uint32_t num)
{
	uint32_t i;

	rnd_state = 0xc0ffee;
	for (i = 0; i < num; i++) {
		if (mix == MIX_TLBI || (mix == MIX_MIXED && i % 4 == 3))
			make_tlbi(&guest[i]);
		else
			make_dev(&guest[i]);
	}
	guest_num = num;
}

/* --- measuring ----------------------------------------------------------- */

struct bcase {
	const char *name;
	unsigned int (*fn)(void *arg);
	void *arg;
	/* Out: calls of fn per repetition, ioctls of one fn, time per fn */
	unsigned long iters;
	unsigned int calls;
	/* Run with the dispatcher's working memory allocated per call */
	bool uncached;
	/* Run with every sync of a round waited for right after its start */
	bool serial;
	/* 1 + the k of fan_set(k) to run with, 0 to leave the W5 devices */
	int fan;
	/* 1 + the k of s2_set(k) to run with, 0 to leave them */
	int s2;
	/* Run with the vSID lookup in iommufd's vdev_id table (no route table) */
	bool find_vdev;
	double t[MAX_REPS];
	/* Out: per pSMMU, commands and syncs of one fn */
	uint64_t cmds[MAX_PSMMUS], syncs[MAX_PSMMUS];
};

static void counters(uint64_t *cmds, uint64_t *syncs)
{
	struct mock_smmu_counters c;
	int p;

	for (p = 0; p < n; p++) {
		CHECK(mock_get_counters(mfd, p, &c));
		cmds[p] = c.cmds;
		syncs[p] = c.syncs;
		if (c.cerror_ill)
			die("a pSMMU raised CERROR_ILL", EIO);
	}
}

static int set_param(const char *path, int on);
static void fan_set(int k);
static void s2_set(int k);

/* Set the parameters and W5 attachments of @c, outside the timed part */
static void prep(const struct bcase *c)
{
	static int cached = 1, overlap = 1, route = 1;

	if (c->fan)
		fan_set(c->fan - 1);
	if (c->s2)
		s2_set(c->s2 - 1);
	if (overlap == c->serial) {
		overlap = !c->serial;
		if (set_param(SYNC_OVERLAP, overlap))
			die("writing " SYNC_OVERLAP, errno);
	}
	if (cached != !c->uncached) {
		cached = !c->uncached;
		if (set_param(ROUND_CACHE, cached))
			die("writing " ROUND_CACHE, errno);
	}
	if (route != !c->find_vdev) {
		route = !c->find_vdev;
		if (set_param(ROUTE_TABLE, route))
			die("writing " ROUTE_TABLE, errno);
	}
}

static double run_for(struct bcase *c, unsigned long iters)
{
	unsigned long i;
	double t;

	prep(c);
	t = now_s();

	for (i = 0; i < iters; i++)
		c->fn(c->arg);
	return now_s() - t;
}

/*
 * Count one call of each case, size each case's repetition to min_s, then
 * run reps rounds of all cases in turn; t[] is the time of one fn.
 */
static void measure(struct bcase *cs, int ncs)
{
	uint64_t c0[MAX_PSMMUS], s0[MAX_PSMMUS];
	int i, r, p;

	for (i = 0; i < ncs; i++) {
		struct bcase *c = &cs[i];

		prep(c);
		counters(c0, s0);
		c->calls = c->fn(c->arg);
		counters(c->cmds, c->syncs);
		for (p = 0; p < n; p++) {
			c->cmds[p] -= c0[p];
			c->syncs[p] -= s0[p];
		}
		c->iters = 1;
		while (run_for(c, c->iters) < min_s)
			c->iters *= 2;
		/* Twice the time that reached min_s: safely above it */
		c->iters *= 2;
	}
	for (r = 0; r < reps; r++)
		for (i = 0; i < ncs; i++)
			cs[i].t[r] = run_for(&cs[i], cs[i].iters) / cs[i].iters;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct ratio {
	double med, min, max;
};

/* The median time of one fn of @c */
static double median_t(const struct bcase *c)
{
	double v[MAX_REPS];

	memcpy(v, c->t, reps * sizeof(v[0]));
	qsort(v, reps, sizeof(v[0]), cmp_double);
	return v[reps / 2];
}

/* Per repetition (num_t / num_div) / (den_t / den_div) */
static struct ratio ratio(const struct bcase *num, double num_div,
			  const struct bcase *den, double den_div)
{
	double v[MAX_REPS];
	struct ratio q;
	int r;

	for (r = 0; r < reps; r++)
		v[r] = (num->t[r] / num_div) / (den->t[r] / den_div);
	qsort(v, reps, sizeof(v[0]), cmp_double);
	q.med = v[reps / 2];
	q.min = v[0];
	q.max = v[reps - 1];
	return q;
}

/* "a/b/c/d" of @v for each pSMMU */
static const char *per_psmmu(const uint64_t *v)
{
	static char buf[4][MAX_PSMMUS * 8];
	static int which;
	char *s = buf[which++ % 4];
	int p, len = 0;

	for (p = 0; p < n; p++)
		len += snprintf(s + len, sizeof(buf[0]) - len, "%s%llu",
				p ? "/" : "", (unsigned long long)v[p]);
	return s;
}

static void put_csv(const char *workload, const char *mix, uint32_t batch,
		    const char *metric, struct ratio q, const struct bcase *c)
{
	printf("%s,%s,%d,%s,%u,\"%s\",%.4f,%.4f,%.4f,%d,%.1f,%u,%s,%s\n",
	       CSV_TAG, workload, n, mix, batch, metric, q.med, q.min, q.max, reps,
	       c->t[reps / 2] * c->iters * 1e3, c->calls, per_psmmu(c->cmds),
	       per_psmmu(c->syncs));
}

static void print_ratio(struct ratio q)
{
	printf(" %7.3f [%7.3f %7.3f]", q.med, q.min, q.max);
}

/* --- set-up ---------------------------------------------------------------- */

static void add_device(int p, uint32_t psid, uint32_t viommu, uint32_t vsid)
{
	uint32_t dev, dev_id, hwpt;

	CHECK(mock_dev_create_bind(mfd, fd, p, psid, &dev, &dev_id));
	CHECK(mock_dev_attach(mfd, dev, parent, NULL));
	CHECK(vdevice_alloc(fd, viommu, dev_id, vsid, NULL));
	CHECK(hwpt_alloc_nested_s1(fd, dev_id, viommu,
				   0x40000000ULL + vsid * 0x1000, &hwpt));
	CHECK(mock_dev_attach(mfd, dev, hwpt, NULL));
}

static void setup(void)
{
	uint32_t ioas, dev, dev_id, first, first_id;
	int p, j;

	fd = iommufd_open();
	mfd = mock_open();
	if (fd < 0 || mfd < 0)
		die("open /dev/iommu or " MOCK_SMMU_DEV_PATH, errno);
	n = mock_num_psmmus(mfd);
	if (n < 1 || n > MAX_PSMMUS)
		die("MOCK_SMMU_GET_INFO", n < 0 ? n : EINVAL);

	CHECK(ioas_alloc(fd, &ioas));
	CHECK(mock_dev_create_bind(mfd, fd, 0, 0x7f, &dev, &dev_id));
	CHECK(hwpt_alloc_nest_parent(fd, dev_id, ioas, &parent));
	CHECK(viommu_alloc_smmu(fd, 1, dev_id, parent, &vspan));
	CHECK(viommu_alloc_smmu(fd, 1, dev_id, parent, &vfan));

	memset(vsid_psmmu, -1, sizeof(vsid_psmmu));
	for (p = 0; p < n; p++) {
		CHECK(mock_dev_create_bind(mfd, fd, p, 0x7e, &first,
					   &first_id));
		CHECK(viommu_alloc_smmu(fd, 0, first_id, parent, &vp[p]));
		if (!p) {
			CHECK(viommu_alloc_smmu(fd, 0, first_id, parent,
						&vnone));
			first_id0 = first_id;
		}
		for (j = 0; j < DEVS; j++) {
			add_device(p, PSID_SPAN(j), vspan, GVSID(p, j));
			add_device(p, PSID_SPLIT(j), vp[p], GVSID(p, j));
			vsid_psmmu[GVSID(p, j) - GVSID_BASE] = p;
		}
		s1_mask |= 1ULL << p;

		/* W5: a device per pSMMU, stage 1 or bypass on vfan */
		CHECK(mock_dev_create_bind(mfd, fd, p, PSID_FAN, &fan_dev[p],
					   &dev_id));
		CHECK(mock_dev_attach(mfd, fan_dev[p], parent, NULL));
		CHECK(vdevice_alloc(fd, vfan, dev_id, FAN_VSID(p), NULL));
		CHECK(hwpt_alloc_nested_s1(fd, dev_id, vfan,
					   0x80000000ULL + p * 0x1000,
					   &fan_s1[p]));
		CHECK(hwpt_alloc_nested_bypass(fd, dev_id, vfan,
					       &fan_byp[p]));
		CHECK(mock_dev_attach(mfd, fan_dev[p], fan_byp[p], NULL));

		/* W5's stage-2 flush: detached until s2_set() */
		CHECK(mock_dev_create_bind(mfd, fd, p, PSID_S2, &s2_dev[p],
					   &dev_id));
		if (!p) {
			CHECK(ioas_alloc(fd, &s2_ioas));
			CHECK(hwpt_alloc_nest_parent(fd, dev_id, s2_ioas,
						     &s2_dom));
		}
	}
	s2_buf = mmap(NULL, S2_LEN, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s2_buf == MAP_FAILED)
		die("mmap", errno);
}

static void print_load(const char *what)
{
	char buf[128] = "?";
	FILE *f = fopen("/proc/loadavg", "r");

	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			snprintf(buf, sizeof(buf), "?\n");
		fclose(f);
	}
	printf("VM load (/proc/loadavg) %s: %s", what, buf);
}

static int set_param(const char *path, int on)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fprintf(f, "%d\n", on);
	return fclose(f) ? -errno : 0;
}

/* --- workloads ------------------------------------------------------------- */

static const uint32_t sizes[] = { 1, 2, 4, 8, 16, 64, 256, 1024 };
#define NSIZES	ARRAY_SIZE(sizes)

/*
 * W1 needs the 1-command call and the B-command call in turns, each with
 * its own batch: a case's arg selects the batch.
 */
struct batch_arg {
	uint32_t viommu;
	uint32_t num;
	struct smmu_cmd cmds[BATCH_MAX];
};

static unsigned int way_kernel_own(void *arg)
{
	struct batch_arg *b = arg;

	inval(b->viommu, b->cmds, b->num);
	return 1;
}

static void batch_arg_init(struct batch_arg *b, uint32_t viommu,
			   enum mix mix, uint32_t num)
{
	b->viommu = viommu;
	b->num = num;
	make_batch(mix, num);
	memcpy(b->cmds, guest, num * sizeof(guest[0]));
}

/*
 * W1, with the mock queue's execution modelled and then free (cmdq_model):
 * the model's work per command runs in the caller's thread, which a real
 * pSMMU's does not; free leaves the driver's and the dispatcher's own work,
 * as upstream's selftest mock, whose per-command action is trivial, does.
 */
static void w1_batching(void)
{
	static struct batch_arg one_arg, b_arg;
	struct bcase cs[2];
	enum mix mix;
	unsigned int s;
	int free;

	printf("\n== W1 batching, spanning vIOMMU, %d pSMMUs: %s ==\n", n,
	       "per-command cost of a B-command call over a 1-command call");
	printf("queue: the mock queue's execution modelled or free (cmdq_model=1/0)\n");
	printf("%-6s %5s %-5s  %s  %s\n", "mix", "B", "queue",
	       "  median [    min     max]", "cmds/pSMMU | syncs/pSMMU of one call");
	for (free = 0; free < 2; free++) {
		if (set_param(CMDQ_MODEL, !free))
			die("writing " CMDQ_MODEL, errno);
		for (mix = MIX_TLBI; mix <= MIX_DEV; mix++) {
			batch_arg_init(&one_arg, vspan, mix, 1);
			for (s = 1; s < NSIZES; s++) {
				struct ratio q;

				batch_arg_init(&b_arg, vspan, mix, sizes[s]);
				memset(cs, 0, sizeof(cs));
				cs[0].fn = way_kernel_own;
				cs[0].arg = &one_arg;
				cs[1].fn = way_kernel_own;
				cs[1].arg = &b_arg;
				measure(cs, 2);
				q = ratio(&cs[1], sizes[s], &cs[0], 1);
				printf("%-6s %5u %-5s", mix_name[mix], sizes[s],
				       free ? "free" : "model");
				print_ratio(q);
				printf("  %s | %s\n", per_psmmu(cs[1].cmds),
				       per_psmmu(cs[1].syncs));
				put_csv("W1", mix_name[mix], sizes[s],
					free ? "per_cmd_vs_1cmd_call_free" :
					"per_cmd_vs_1cmd_call", q, &cs[1]);
			}
		}
	}
	set_param(CMDQ_MODEL, 1);
}

static void w2_split(void)
{
	struct bcase cs[3];
	enum mix mix;
	unsigned int s;
	int w;

	printf("\n== W2 %d pSMMUs: %s ==\n", n,
	       "kernel-side (a) vs VMM-side split (b) vs 1 ioctl per command (c)");
	printf("%-6s %5s  %-27s %-27s %s\n", "mix", "B", "(b)/(a) median [min max]",
	       "(c)/(a) median [min max]",
	       "ioctls a/b/c; cmds/pSMMU (same each way); syncs/pSMMU a | b | c");
	for (mix = MIX_TLBI; mix < MIXES; mix++) {
		for (s = 0; s < NSIZES; s++) {
			struct ratio qb, qc;

			make_batch(mix, sizes[s]);
			memset(cs, 0, sizeof(cs));
			cs[0].fn = way_kernel;
			cs[0].arg = &vspan;
			cs[1].fn = way_vmm;
			cs[2].fn = way_per_cmd;
			measure(cs, 3);
			for (w = 1; w < 3; w++)
				if (memcmp(cs[0].cmds, cs[w].cmds,
					   n * sizeof(cs[0].cmds[0])))
					die("the ways executed different commands",
					    EIO);
			qb = ratio(&cs[1], 1, &cs[0], 1);
			qc = ratio(&cs[2], 1, &cs[0], 1);
			printf("%-6s %5u ", mix_name[mix], sizes[s]);
			print_ratio(qb);
			print_ratio(qc);
			printf("  %u/%u/%u; %s; %s | %s | %s\n", cs[0].calls,
			       cs[1].calls, cs[2].calls, per_psmmu(cs[0].cmds),
			       per_psmmu(cs[0].syncs), per_psmmu(cs[1].syncs),
			       per_psmmu(cs[2].syncs));
			put_csv("W2", mix_name[mix], sizes[s], "b_over_a", qb,
				&cs[1]);
			put_csv("W2", mix_name[mix], sizes[s], "c_over_a", qc,
				&cs[2]);
		}
	}
}

/* Attach the W5 devices of the first @k pSMMUs to stage 1, the rest bypass */
static void fan_set(int k)
{
	static int cur = -1;
	int p;

	if (k == cur)
		return;
	for (p = 0; p < n; p++)
		CHECK(mock_dev_attach(mfd, fan_dev[p],
				      p < k ? fan_s1[p] : fan_byp[p], NULL));
	cur = k;
}

/* Attach the stage-2 devices of the first @k pSMMUs to s2_dom, detach the rest */
static void s2_set(int k)
{
	static int cur;
	int p;

	if (k == cur)
		return;
	for (p = 0; p < n; p++) {
		if (p < k)
			CHECK(mock_dev_attach(mfd, s2_dev[p], s2_dom, NULL));
		else if (p < cur)
			CHECK(mock_dev_detach(mfd, s2_dev[p]));
	}
	cur = k;
}

/* W5's stage-2 flush: map a page, unmap it, which flushes s2_dom */
static unsigned int way_unmap(void *arg)
{
	CHECK(ioas_map(fd, s2_ioas, s2_buf, S2_LEN, S2_IOVA));
	CHECK(ioas_unmap(fd, s2_ioas, S2_IOVA, S2_LEN));
	return 2;
}

/* Exactly one TLBI and one sync on each of the first @k pSMMUs */
static int fan_exact(const struct bcase *c, int k)
{
	int ok = 1, p;

	for (p = 0; p < n; p++)
		ok &= c->cmds[p] == (p < k) && c->syncs[p] == (p < k);
	return ok;
}

/* Case @c on the first @k pSMMUs: W5's stage-1 devices or stage-2 ones */
static void w5_set_k(struct bcase *c, bool s2, int k)
{
	if (s2)
		c->s2 = 1 + k;
	else
		c->fan = 1 + k;
}

/*
 * One of W5's tables with a CMD_SYNC latency: for each k, case @c on the
 * first k pSMMUs with the syncs overlapped and serial, relative to it on
 * one pSMMU, all three in turns; each must issue exactly one command and
 * one CMD_SYNC on each of the k.
 */
static void w5_latency_rows(const struct bcase *c, bool s2,
			    const char *workload, const char *metric)
{
	struct bcase cs[3];
	int k;

	printf("%3s %-27s %-27s %s\n", "k", "overlap vs k=1 med [min max]",
	       "serial vs k=1 med [min max]", "cmds/pSMMU | syncs/pSMMU");
	for (k = 0; k <= n; k++) {
		struct ratio qo, qs;

		cs[0] = *c;
		w5_set_k(&cs[0], s2, 1);
		cs[1] = cs[0];
		w5_set_k(&cs[1], s2, k);
		cs[2] = cs[1];
		cs[2].serial = true;
		measure(cs, 3);
		qo = ratio(&cs[1], 1, &cs[0], 1);
		qs = ratio(&cs[2], 1, &cs[0], 1);
		printf("%3d ", k);
		print_ratio(qo);
		print_ratio(qs);
		printf("  %s | %s\n", per_psmmu(cs[1].cmds),
		       per_psmmu(cs[1].syncs));
		put_csv(workload, "overlap", k, metric, qo, &cs[1]);
		put_csv(workload, "serial", k, metric, qs, &cs[2]);
		if (!fan_exact(&cs[1], k) || !fan_exact(&cs[2], k))
			die("W5: not one command and one sync on each of k",
			    EIO);
	}
}

/*
 * W5 with each CMD_SYNC completing sync_latency_us after it was written:
 * a TLBI fanned out to k pSMMUs, then the stage-2 flush of an unmap on a
 * paging domain with devices on k pSMMUs (one TLBI_S12_VMALL and one
 * CMD_SYNC on each; the map issues nothing).
 */
static void w5_sync_latency(struct batch_arg *tlbi, double t1)
{
	const struct bcase fan = { .fn = way_kernel_own, .arg = tlbi };
	const struct bcase unmap = { .fn = way_unmap };
	char metric[32];
	int rc;

	printf("\n== W5 sync overlap: %s %d us (sync_latency_us), k of %d pSMMUs ==\n",
	       "each CMD_SYNC completing", sync_latency_us, n);
	printf("L is %.0f times the k = 1 call at latency 0; %s\n",
	       t1 > 0 ? sync_latency_us / (t1 * 1000000) : 0,
	       "overlap/serial: vsmmu_sync_overlap=1/0");
	rc = set_param(SYNC_LATENCY, sync_latency_us);
	if (rc) {
		printf("(mock parameters not writable: %s)\n", strerror(-rc));
		return;
	}
	snprintf(metric, sizeof(metric), "time_vs_k1_L%dus", sync_latency_us);
	w5_latency_rows(&fan, false, "W5sync", metric);

	printf("\n== W5 stage-2 flush: %s, devices on k of %d pSMMUs, same latency ==\n",
	       "IOAS_MAP + IOAS_UNMAP of a page", n);
	w5_latency_rows(&unmap, true, "W5s2", metric);
	set_param(SYNC_LATENCY, 0);
	/* Back to the library's defaults: no stage 1, no stage-2 device */
	prep(&(const struct bcase){ .fan = 1 + 0, .s2 = 1 + 0 });
}

static void w5_fanout(void)
{
	static struct batch_arg tlbi;
	struct bcase cs[2];
	double t1 = 0;
	int k;

	printf("\n== W5 fan-out: %s, k of %d pSMMUs holding stage-1 attachments ==\n",
	       "1 TLBI_NH_ASID on a spanning vIOMMU", n);
	printf("%3s %-10s %-28s %s\n", "k", "verdict", "time vs k=1 median [min max]",
	       "cmds/pSMMU | syncs/pSMMU");
	tlbi.viommu = vfan;
	tlbi.num = 1;
	smmu_cmd_nh_asid(tlbi.cmds[0].w, 0, 7);
	for (k = 0; k <= n; k++) {
		struct ratio q;
		int ok;

		memset(cs, 0, sizeof(cs));
		cs[0].fn = way_kernel_own;
		cs[0].arg = &tlbi;
		cs[0].fan = 1 + 1;
		cs[1] = cs[0];
		cs[1].fan = 1 + k;
		/* The k=1 reference and this k, measured in turns */
		measure(cs, 2);
		ok = fan_exact(&cs[1], k);
		q = ratio(&cs[1], 1, &cs[0], 1);
		if (k == 1)
			t1 = median_t(&cs[1]);
		printf("%3d %-10s", k, ok ? "exact" : "WRONG");
		print_ratio(q);
		printf("  %s | %s\n", per_psmmu(cs[1].cmds),
		       per_psmmu(cs[1].syncs));
		put_csv("W5", ok ? "exact" : "wrong", k, "time_vs_k1", q, &cs[1]);
		if (!ok)
			die("fan-out is not exactly k TLBIs", EIO);
	}
	w5_sync_latency(&tlbi, t1);
	fan_set(0);
}

static void w6_costs(void)
{
	static struct batch_arg one_none, one_span0, one_fan, b_dev, b_tlbi,
		b_tlbi0;
	struct bcase cs[MAX_CASES];
	struct {
		const char *name;
		struct batch_arg *b;
		uint32_t div;
	} lines[] = {
		{ "1-cmd call issuing nothing, 1-pSMMU vIOMMU", &one_none, 1 },
		{ "1-cmd call issuing nothing, spanning vIOMMU", &one_span0, 1 },
		{ "1-cmd TLBI call, 1 TLBI + 1 sync on 1 pSMMU", &one_fan, 1 },
		{ "per cmd, 256 TLBIs issuing nothing (copy+check)", &b_tlbi0, 256 },
		{ "per cmd, 256 TLBIs x n pSMMUs (+rewrite+batch)", &b_tlbi, 256 },
		{ "per cmd, 256 dev-scoped (+vSID lookup)", &b_dev, 256 },
	};
	static const struct {
		const char *name;
		int cache, model;
	} setting[] = {
		{ "before", 0, 1 },	/* working memory allocated per call */
		{ "model", 1, 1 },
		{ "free", 1, 0 },	/* the mock queue's execution free */
	};
	unsigned int l, m;
	int rc;

	printf("\n== W6 where the time goes, %d pSMMUs: %s ==\n", n,
	       "cost in null ioctls (IOMMU_HWPT_INVALIDATE of 0 entries)");
	printf("before: the dispatcher allocating its working memory %s\n",
	       "per call (vsmmu_round_cache=0)");
	printf("model/free: the mock queue's execution modelled/free (cmdq_model=1/0)\n");
	batch_arg_init(&b_dev, vspan, MIX_DEV, 256);
	batch_arg_init(&b_tlbi, vspan, MIX_TLBI, 256);
	batch_arg_init(&b_tlbi0, vfan, MIX_TLBI, 256);
	one_none.viommu = vnone;
	one_none.num = 1;
	smmu_cmd_nh_asid(one_none.cmds[0].w, 0, 7);
	one_span0 = one_none;
	one_span0.viommu = vfan;
	one_fan = one_span0;
	printf("%-50s %-6s %27s  %s\n", "", "", "median [min max]",
	       "cmds/pSMMU | syncs/pSMMU of one call");
	for (m = 0; m < ARRAY_SIZE(setting); m++) {
		rc = set_param(CMDQ_MODEL, setting[m].model);
		if (rc) {
			printf("(mock parameters not writable: %s)\n",
			       strerror(-rc));
			break;
		}
		for (l = 0; l < ARRAY_SIZE(lines); l++) {
			struct ratio q;

			fan_set(lines[l].b == &one_fan ? 1 : 0);
			memset(cs, 0, sizeof(cs));
			cs[0].fn = way_null;
			cs[0].arg = &vspan;
			cs[1].fn = way_kernel_own;
			cs[1].arg = lines[l].b;
			cs[1].uncached = !setting[m].cache;
			measure(cs, 2);
			q = ratio(&cs[1], lines[l].div, &cs[0], 1);
			printf("%-50s %-6s", lines[l].name, setting[m].name);
			print_ratio(q);
			printf("  %s | %s\n", per_psmmu(cs[1].cmds),
			       per_psmmu(cs[1].syncs));
			put_csv("W6", setting[m].name, lines[l].div,
				lines[l].name, q, &cs[1]);
		}
	}
	fan_set(0);
	set_param(CMDQ_MODEL, 1);
}

/* W2's (b)/(a) for mixed batches, before and after, in turns */
static void w2_before_after(void)
{
	static const uint32_t bsz[] = { 1, 4, 16, 64, 1024 };
	struct bcase cs[4];
	unsigned int s;

	printf("\n== W2 before/after, %d pSMMUs, mixed batches: %s ==\n", n,
	       "(b)/(a), working memory per call (before) or per vIOMMU (after)");
	printf("%5s  %-27s %-27s %s\n", "B", "before median [min max]",
	       "after median [min max]", "cmds/pSMMU");
	for (s = 0; s < ARRAY_SIZE(bsz); s++) {
		struct ratio qa, qb;

		make_batch(MIX_MIXED, bsz[s]);
		memset(cs, 0, sizeof(cs));
		cs[0].fn = way_kernel;
		cs[0].arg = &vspan;
		cs[0].uncached = true;
		cs[1].fn = way_vmm;
		cs[2].fn = way_kernel;
		cs[2].arg = &vspan;
		measure(cs, 3);
		qa = ratio(&cs[1], 1, &cs[0], 1);
		qb = ratio(&cs[1], 1, &cs[2], 1);
		printf("%5u ", bsz[s]);
		print_ratio(qa);
		print_ratio(qb);
		printf("  %s\n", per_psmmu(cs[0].cmds));
		put_csv("W2ba", "mixed", bsz[s], "b_over_a_before", qa,
			&cs[0]);
		put_csv("W2ba", "mixed", bsz[s], "b_over_a_after", qb,
			&cs[2]);
	}
}

/* --- W3 scale and W4 memory --------------------------------------------- */

static int scale_max = 65536;
static double scale_budget_s = 60;

/* Slab and MemFree of /proc/meminfo, in bytes */
static void read_mem(double *slab, double *memfree)
{
	char line[128];
	FILE *f = fopen("/proc/meminfo", "r");
	long v;

	*slab = *memfree = 0;
	if (!f)
		die("/proc/meminfo", errno);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Slab: %ld kB", &v) == 1)
			*slab = v * 1024.0;
		else if (sscanf(line, "MemFree: %ld kB", &v) == 1)
			*memfree = v * 1024.0;
	}
	fclose(f);
}

/*
 * xarray nodes in use (the radix_tree_node slab cache, never merged with
 * another one: it has a constructor), from /proc/slabinfo; -1 if unknown
 */
static double read_nodes(void)
{
	char line[256], name[64];
	FILE *f = fopen("/proc/slabinfo", "r");
	long active;
	double v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %ld", name, &active) == 2 &&
		    !strcmp(name, "radix_tree_node"))
			v = active;
	fclose(f);
	return v;
}

static void print_nodes(const char *what, double nodes, uint32_t num)
{
	printf("  %-58s %8.3f xarray nodes (576 B) per vDEVICE\n", what,
	       nodes / num);
	printf("%s,W4,%d,-,%u,\"%s: xarray nodes\",%.4f,%.4f,%.4f,1,0,0,-,-\n",
	       CSV_TAG, n, num, what, nodes / num, nodes / num, nodes / num);
}

struct scale_level {
	uint32_t num;
	uint32_t viommu;
	uint32_t first;		/* index of its first device */
	struct batch_arg *batch;
};

static uint32_t *sc_dev, *sc_devid, *sc_vdev;

/* Devices [from, to) behind pSMMU 0, bound and attached to the S2 */
static int scale_devices(uint32_t from, uint32_t to)
{
	uint32_t i;
	int rc;

	for (i = from; i < to; i++) {
		rc = mock_dev_create_bind(mfd, fd, 0, 0x100000 + i, &sc_dev[i],
					  &sc_devid[i]);
		if (!rc)
			rc = mock_dev_attach(mfd, sc_dev[i], parent, NULL);
		if (rc)
			return rc;
	}
	return 0;
}

/* vDEVICEs of devices [from, from + num) on @viommu, vSID i << @shift */
static void scale_vdevs(uint32_t viommu, uint32_t from, uint32_t num,
			int shift)
{
	uint32_t i;

	for (i = 0; i < num; i++)
		CHECK(vdevice_alloc(fd, viommu, sc_devid[from + i],
				    (uint64_t)i << shift, &sc_vdev[from + i]));
}

static void print_mem(const char *what, double slab, double memfree,
		      uint32_t num)
{
	printf("  %-58s %8.0f B slab, %8.0f B MemFree  (over %u)\n", what,
	       slab / num, memfree / num, num);
	printf("%s,W4,%d,-,%u,\"%s\",%.1f,%.1f,%.1f,1,0,0,-,-\n", CSV_TAG, n, num,
	       what, slab / num, slab / num, memfree / num);
}

/* IOMMU_DESTROY of the vDEVICEs of devices [from, from + num) */
static void scale_vdevs_destroy(uint32_t from, uint32_t num)
{
	uint32_t i;

	for (i = 0; i < num; i++)
		CHECK(iommufd_destroy(fd, sc_vdev[from + i]));
}

/*
 * xarray nodes are freed after an RCU grace period: let the frees of a
 * destruction land before the next reading
 */
static void settle(void)
{
	usleep(200 * 1000);
}

/*
 * vDEVICEs of devices [from, from + num), vSID i << @shift, on a new
 * vIOMMU whose route table is keyed by vSID (@swapped 0) or by vSID with
 * bus and devfn swapped (1): what they cost, then destroyed again
 */
static void route_key_mem(uint32_t from, uint32_t num, int shift,
			  int swapped, const char *what)
{
	double s1, f1, s2, f2, x1, x2;
	uint32_t v;

	if (set_param(ROUTE_KEY, swapped))
		die("writing " ROUTE_KEY, errno);
	CHECK(viommu_alloc_smmu(fd, 0, first_id0, parent, &v));
	settle();
	read_mem(&s1, &f1);
	x1 = read_nodes();
	scale_vdevs(v, from, num, shift);
	x2 = read_nodes();
	read_mem(&s2, &f2);
	print_mem(what, s2 - s1, f1 - f2, num);
	print_nodes(what, x2 - x1, num);
	scale_vdevs_destroy(from, num);
	CHECK(iommufd_destroy(fd, v));
	set_param(ROUTE_KEY, 0);
}

static void w34_scale_memory(void)
{
	static const uint32_t want[] = { 16, 256, 4096, 65536 };
	struct scale_level lv[ARRAY_SIZE(want)];
	double s0, f0, s1, f1, s2, f2, t, x0, x1, x2;
	uint32_t total = 0, i, j, nlv = 0;
	struct bcase cs[2 * ARRAY_SIZE(want)];
	const char *stop = NULL;
	int rc;

	printf("\n== W3 scale: %s, per-command cost vs N=16 ==\n",
	       "CFGI_CD batch of 256, random vSIDs, 1-pSMMU vIOMMU of N vDEVICEs");
	for (i = 0; i < ARRAY_SIZE(want); i++)
		total += want[i];
	sc_dev = calloc(total, sizeof(*sc_dev));
	sc_devid = calloc(total, sizeof(*sc_devid));
	sc_vdev = calloc(total, sizeof(*sc_vdev));
	if (!sc_dev || !sc_devid || !sc_vdev)
		die("calloc", ENOMEM);

	total = 0;
	for (i = 0; i < ARRAY_SIZE(want) && !stop; i++) {
		struct scale_level *l = &lv[nlv];

		if (want[i] > (uint32_t)scale_max) {
			stop = "the -s limit";
			break;
		}
		l->num = want[i];
		l->first = total;
		t = now_s();
		read_mem(&s0, &f0);
		rc = scale_devices(total, total + l->num);
		if (rc) {
			printf("  creating %u more mock devices failed: %s\n",
			       l->num, strerror(-rc));
			stop = "a mock device could not be created";
			break;
		}
		read_mem(&s1, &f1);
		CHECK(viommu_alloc_smmu(fd, 0, first_id0, parent, &l->viommu));
		x1 = read_nodes();
		scale_vdevs(l->viommu, total, l->num, 0);
		x2 = read_nodes();
		read_mem(&s2, &f2);
		t = now_s() - t;
		printf("  N=%-6u set up in %.1f s\n", l->num, t);
		if (l->num >= 256) {
			print_mem("mock device + bind + attach, per device",
				  s1 - s0, f0 - f1, l->num);
			print_mem("vDEVICE, dense vSIDs (0, 1, 2, ...)",
				  s2 - s1, f1 - f2, l->num);
			print_nodes("vDEVICE, dense vSIDs (0, 1, 2, ...)",
				    x2 - x1, l->num);
		}
		total += l->num;
		l->batch = calloc(1, sizeof(*l->batch));
		if (!l->batch)
			die("calloc", ENOMEM);
		l->batch->viommu = l->viommu;
		l->batch->num = 256;
		rnd_state = 0x5eed;
		for (j = 0; j < 256; j++)
			smmu_cmd_cfgi_cd(l->batch->cmds[j].w, rnd() % l->num,
					 rnd() & 0xff, 1);
		nlv++;
		/* Creation time grows linearly at best: 16 times more next */
		if (i + 1 < ARRAY_SIZE(want) && t * want[i + 1] / want[i] >
		    scale_budget_s) {
			printf("  N=%u would take about %.0f s to set up (budget %.0f s, -b)\n",
			       want[i + 1], t * want[i + 1] / want[i],
			       scale_budget_s);
			stop = "the set-up time budget";
		}
	}
	if (stop)
		printf("  stopped at N=%u: %s\n", lv[nlv - 1].num, stop);

	/*
	 * The mock queue modelled, then free (the dispatcher's lookup alone);
	 * each N with the route table and with iommufd's vdev_id table, all
	 * in turns. Each lookup is compared with itself at N=16, and the
	 * route table with the vdev_id table at the same N.
	 */
	printf("%8s %-6s %27s %27s %27s  %s\n", "N", "queue",
	       "route table vs N=16", "vdev_id table vs N=16",
	       "route / vdev_id, same N", "cmds | syncs of one call");
	for (j = 0; j < 2; j++) {
		if (set_param(CMDQ_MODEL, !j))
			die("writing " CMDQ_MODEL, errno);
		memset(cs, 0, sizeof(cs));
		for (i = 0; i < 2 * nlv; i++) {
			cs[i].fn = way_kernel_own;
			cs[i].arg = lv[i / 2].batch;
			cs[i].find_vdev = i & 1;
		}
		measure(cs, 2 * nlv);
		for (i = 0; i < nlv; i++) {
			struct ratio qr = ratio(&cs[2 * i], 1, &cs[0], 1);
			struct ratio qf = ratio(&cs[2 * i + 1], 1, &cs[1], 1);
			struct ratio qrf = ratio(&cs[2 * i], 1, &cs[2 * i + 1], 1);
			const char *mix = j ? "free" : "model";

			printf("%8u %-6s", lv[i].num, mix);
			print_ratio(qr);
			print_ratio(qf);
			print_ratio(qrf);
			printf("  %s | %s\n", per_psmmu(cs[2 * i].cmds),
			       per_psmmu(cs[2 * i].syncs));
			put_csv("W3", mix, lv[i].num, "per_cmd_vs_16", qr,
				&cs[2 * i]);
			put_csv("W3", mix, lv[i].num, "per_cmd_vs_16_vdev_id",
				qf, &cs[2 * i + 1]);
			put_csv("W3", mix, lv[i].num, "route_over_vdev_id", qrf,
				&cs[2 * i]);
		}
	}
	set_param(CMDQ_MODEL, 1);

	printf("\n== W4 memory: kernel memory per object, /proc/meminfo deltas ==\n");
	/* The largest level again, with one device per PCI bus */
	{
		struct scale_level *l = &lv[nlv - 1];

		read_mem(&s0, &f0);
		x0 = read_nodes();
		scale_vdevs_destroy(l->first, l->num);
		settle();
		x1 = read_nodes();
		read_mem(&s1, &f1);
		print_mem("vDEVICE destroyed, dense vSIDs (freed)", s0 - s1,
			  f1 - f0, l->num);
		print_nodes("vDEVICE destroyed, dense vSIDs (freed)", x0 - x1,
			    l->num);
		scale_vdevs(l->viommu, l->first, l->num, 8);
		x2 = read_nodes();
		read_mem(&s2, &f2);
		print_mem("vDEVICE, one device per PCI bus (vSID = bus << 8)",
			  s2 - s1, f1 - f2, l->num);
		print_nodes("vDEVICE, one device per PCI bus (vSID = bus << 8)",
			    x2 - x1, l->num);
	}
	/*
	 * The route table keyed by vSID (vsmmu_route_key=0, the default) and
	 * with bus and devfn swapped (1), each on a vIOMMU of its own after
	 * the destructions settled: one device per bus, dense vSIDs over
	 * whole buses, and the 256 functions of one bus (the N=256 level's
	 * devices).
	 */
	if (!access(ROUTE_KEY, W_OK)) {
		struct scale_level *l = &lv[nlv - 1];

		scale_vdevs_destroy(l->first, l->num);
		route_key_mem(l->first, l->num, 8, 0,
			      "vSID = bus << 8, route key vSID");
		route_key_mem(l->first, l->num, 8, 1,
			      "vSID = bus << 8, route key bus/devfn swapped");
		route_key_mem(l->first, l->num, 0, 0,
			      "dense vSIDs, route key vSID");
		route_key_mem(l->first, l->num, 0, 1,
			      "dense vSIDs, route key bus/devfn swapped");
		if (nlv > 1 && lv[1].num == 256) {
			scale_vdevs_destroy(lv[1].first, lv[1].num);
			settle();
			route_key_mem(lv[1].first, lv[1].num, 0, 0,
				      "vSIDs 0-255 (one bus), route key vSID");
			route_key_mem(lv[1].first, lv[1].num, 0, 1,
				      "vSIDs 0-255 (one bus), route key bus/devfn swapped");
		}
	} else {
		printf("  no %s: the route table's key not measured\n",
		       ROUTE_KEY);
	}
	/* vIOMMUs, before and after their first invalidation */
	for (j = 0; j < 2; j++) {
		static uint32_t ids[256];
		struct smmu_cmd c;

		smmu_cmd_nh_asid(c.w, 0, 1);
		read_mem(&s0, &f0);
		for (i = 0; i < ARRAY_SIZE(ids); i++)
			CHECK(viommu_alloc_smmu(fd, j, first_id0, parent,
						&ids[i]));
		read_mem(&s1, &f1);
		for (i = 0; i < ARRAY_SIZE(ids); i++)
			inval(ids[i], &c, 1);
		read_mem(&s2, &f2);
		print_mem(j ? "vIOMMU spanning every pSMMU" :
			  "vIOMMU on 1 pSMMU", s1 - s0, f0 - f1,
			  ARRAY_SIZE(ids));
		print_mem(j ? "  + its dispatcher memory (first invalidation)" :
			  "  + its dispatcher memory (first invalidation) ",
			  s2 - s1, f1 - f2, ARRAY_SIZE(ids));
		for (i = 0; i < ARRAY_SIZE(ids); i++)
			CHECK(iommufd_destroy(fd, ids[i]));
	}
}

int main(int argc, char **argv)
{
	const char *which = "1256";
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-r") && i + 1 < argc) {
			reps = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "-t") && i + 1 < argc) {
			min_s = atof(argv[++i]) / 1e3;
		} else if (!strcmp(argv[i], "-w") && i + 1 < argc) {
			which = argv[++i];
		} else if (!strcmp(argv[i], "-s") && i + 1 < argc) {
			scale_max = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "-b") && i + 1 < argc) {
			scale_budget_s = atof(argv[++i]);
		} else if (!strcmp(argv[i], "-L") && i + 1 < argc) {
			sync_latency_us = atoi(argv[++i]);
		} else {
			fprintf(stderr, "usage: %s [-r reps, 7-%d] %s %s %s\n",
				argv[0], MAX_REPS,
				"[-t ms per repetition, >= 10] [-w e.g. 123456]",
				"[-s max vDEVICEs] [-b W3 set-up budget, s]",
				"[-L W5 sync latency, us, 1-100000]");
			return 2;
		}
	}
	if (sync_latency_us < 1 || sync_latency_us > 100000) {
		fprintf(stderr, "%s: -L between 1 and 100000 us\n", argv[0]);
		return 2;
	}
	if (reps < 7 || reps > MAX_REPS || min_s < 0.010) {
		fprintf(stderr, "%s: at least 7 (at most %d) repetitions of at least 10 ms\n",
			argv[0], MAX_REPS);
		return 2;
	}
	setup();
	printf("vSMMU benchmark: %d pSMMUs, median of %d repetitions [min max], each >= %.0f ms\n",
	       n, reps, min_s * 1e3);
	print_load("at start");
	printf("csv,workload,psmmus,mix,batch,metric,median,min,max,reps,rep_ms,ioctls,%s\n",
	       "cmds_per_psmmu,syncs_per_psmmu");
	if (strchr(which, '5'))
		w5_fanout();
	if (strchr(which, '1'))
		w1_batching();
	if (strchr(which, '2'))
		w2_split();
	if (strchr(which, '3') || strchr(which, '4'))
		w34_scale_memory();
	if (strchr(which, '6')) {
		w6_costs();
		w2_before_after();
	}
	print_load("at end");
	close(mfd);
	close(fd);
	return 0;
}
