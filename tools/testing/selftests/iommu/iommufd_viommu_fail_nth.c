// SPDX-License-Identifier: GPL-2.0-only
/*
 * The vIOMMU flow under systematic fault injection.
 *
 * A VMM's whole flow (two mock devices behind two pSMMUs, bind, IOAS, map,
 * nesting parent, a spanning vIOMMU, vDEVICEs, nested HWPTs, attach and
 * replace, an invalidation batch, tear-down in two orders, close) runs one
 * step at a time. Each step is first called with its 1st fault point
 * failed, then its 2nd, and so on, through /proc/thread-self/fail-nth
 * (every slab and page allocation, and every copy from or to user space,
 * is a fault point), until it runs with no fault left to inject. A call
 * that failed must fail with an errno the uAPI gives for it (ENOMEM or
 * EFAULT) and leave everything as it was: the pSMMUs' counters and STEs,
 * and the object IDs (iommufd hands out the lowest free ID, so an object
 * leaked by a failed call shows as a wrong ID later). A call may succeed
 * although a fault was injected, when the kernel has a fallback (kvmalloc,
 * kmemleak's and KASAN's own allocations): it must then have done all of
 * its work; it is undone and the sweep goes on. Every call runs under an
 * alarm. The debug kernel's runner then unloads both modules and scans
 * for leaks.
 *
 * Without /proc/thread-self/fail-nth (Debian's kernel), the flow runs once
 * without faults and the tests are skipped.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "iommufd_viommu_utils.h"

#define NR_DEVS		2
#define MAX_PSMMUS	8
/* Device i sits behind pSMMU i with StreamID SID_BASE + i, vSID VSID_BASE + i */
#define SID_BASE	0x40
#define VSID_BASE	0x900
#define CDPTR		0x80000000ULL
/* Two ranges of the buffer, mapped at IOVA_BASE + r * RANGE_LEN */
#define RANGE_LEN	(32 * 4096)
#define IOVA_BASE	0x100000
/* Object IDs the flow can hold at once, at most */
#define MAX_ID		64
/* Fault points of one step, at most, before the sweep gives up */
#define MAX_POINTS	2000
/* Seconds one call may take */
#define CALL_TIMEOUT	60
#define NR_INV		8
#define MAX_STEPS	64

#define FAIL_NTH	"/proc/thread-self/fail-nth"
#define DEBUGFS		"/sys/kernel/debug"

enum pt { PT_NONE, PT_S2, PT_BYPASS, PT_S1 };

enum obj { OBJ_IOAS, OBJ_S2, OBJ_VIOMMU, OBJ_VDEV0, OBJ_VDEV1, OBJ_BYPASS,
	   OBJ_S1_0, OBJ_S1_1 };

struct flow {
	int fd;
	int mfd;
	int mon;		/* a mock file of its own, to look at the pSMMUs */
	int nr_psmmus;
	uint32_t dev[NR_DEVS];
	uint32_t dev_id[NR_DEVS];
	bool bound[NR_DEVS];
	uint32_t vdev[NR_DEVS];
	bool vdev_live[NR_DEVS];
	uint32_t s1[NR_DEVS];
	enum pt att[NR_DEVS], prev_att[NR_DEVS];
	uint32_t ioas, s2, viommu, bypass;
	uint32_t out;		/* an answer a step only checks */
	uint32_t done;		/* entry_num of the invalidation */
	int last_rc;		/* what the step's call returned */
	void *buf;
	struct smmu_cmd inv[NR_INV];
	bool ids[MAX_ID];	/* iommufd object IDs taken */
};

/* The counters of a pSMMU the tests compare */
enum { CNT_DEVICES, CNT_VMIDS, CNT_VIOMMUS, CNT_VDEVICES, CNT_NESTED, NR_CNT };

static const char *const cnt_name[NR_CNT] = {
	"devices", "vmids", "viommus", "vdevices", "nested_attached",
};

/* What a failed call must leave unchanged */
struct fingerprint {
	uint64_t cnt[MAX_PSMMUS][NR_CNT];
	struct {
		int rc;
		uint64_t ste[4];
	} ste[NR_DEVS];
};

struct step {
	const char *ioctl;	/* what the points are counted under */
	const char *what;
	int arg;
	/* The call, one system call (close: two), returning 0 or -errno */
	int (*call)(struct flow *f, int arg);
	/* After a success: book-keeping and its checks */
	void (*after)(struct __test_metadata *_metadata, struct flow *f,
		      int arg);
	/* Undo a success, so that the step can run again; NULL if it cannot */
	void (*undo)(struct __test_metadata *_metadata, struct flow *f,
		     int arg);
	/* Before every attempt but the first (close: open and build again) */
	void (*prep)(struct __test_metadata *_metadata, struct flow *f,
		     int arg);
	/* After a failure: its checks */
	void (*failed)(struct __test_metadata *_metadata, struct flow *f,
		       int arg);
};

struct tally {
	unsigned int points;
	unsigned int absorbed;
	bool partial;	/* a success with a fault that could not be undone */
};

static bool have_fail_nth;
static int nth_fd = -1;
/* What the alarm handler prints */
static char alarm_msg[160];

static void on_alarm(int sig)
{
	ssize_t ret = write(2, alarm_msg, strlen(alarm_msg));

	(void)ret;
	_exit(KSFT_FAIL);
}

/* ---- /proc/thread-self/fail-nth ------------------------------------------ */

static void fail_nth_arm(struct __test_metadata *_metadata, unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	ASSERT_EQ(len, pwrite(nth_fd, buf, len, 0));
}

/*
 * Disarm and say whether the fault was injected: reading 0 means it was,
 * a positive number counts the points still to go. The read and the write
 * copy to and from user space themselves, so either may be the armed
 * point: a read failing with EFAULT means the step did not reach it, and
 * a write failing with EFAULT has disarmed all the same.
 */
static bool fail_nth_disarm(struct __test_metadata *_metadata)
{
	char buf[16];
	ssize_t len;
	bool fired;

	len = pread(nth_fd, buf, sizeof(buf) - 1, 0);
	if (len < 0) {
		ASSERT_EQ(EFAULT, errno);
		fired = false;
	} else {
		ASSERT_LT(0, len);
		buf[len] = 0;
		fired = strtoul(buf, NULL, 10) == 0;
	}
	if (pwrite(nth_fd, "0", 1, 0) != 1) {
		ASSERT_EQ(EFAULT, errno);
		ASSERT_EQ(1, pwrite(nth_fd, "0", 1, 0));
	}
	return fired;
}

/* ---- The fault-injection knobs ---------------------------------------- */

static const struct {
	const char *name;
	const char *val;
} knobs[] = {
	/* GFP_KERNEL and other sleeping allocations may fail, too */
	{ "failslab/ignore-gfp-wait", "N" },
	{ "fail_page_alloc/ignore-gfp-wait", "N" },
	{ "fail_page_alloc/ignore-gfp-highmem", "N" },
	/* Single pages as well as larger blocks */
	{ "fail_page_alloc/min-order", "0" },
	/* No message and stack dump per injected fault */
	{ "failslab/verbose", "0" },
	{ "fail_page_alloc/verbose", "0" },
	{ "fail_usercopy/verbose", "0" },
};

static char knob_saved[ARRAY_SIZE(knobs)][16];

/* The numeric knobs cannot seek: one open to read, one to write */
static int knob_rw(const char *name, char *old, size_t old_len,
		   const char *val)
{
	char path[128];
	ssize_t len;
	int kfd;

	snprintf(path, sizeof(path), DEBUGFS "/%s", name);
	if (old) {
		kfd = open(path, O_RDONLY);
		if (kfd < 0)
			return -errno;
		len = read(kfd, old, old_len - 1);
		close(kfd);
		if (len < 0)
			len = 0;
		old[len] = 0;
		old[strcspn(old, "\n")] = 0;
	}
	kfd = open(path, O_WRONLY);
	if (kfd < 0)
		return -errno;
	len = write(kfd, val, strlen(val));
	close(kfd);
	return len == (ssize_t)strlen(val) ? 0 : -EIO;
}

static void knobs_set(struct __test_metadata *_metadata)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(knobs); i++) {
		const char *name = knobs[i].name;

		ASSERT_EQ(0, knob_rw(name, knob_saved[i],
				     sizeof(knob_saved[i]), knobs[i].val))
			TH_LOG("cannot set " DEBUGFS "/%s", name);
	}
}

static void knobs_restore(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(knobs); i++)
		if (knob_saved[i][0])
			knob_rw(knobs[i].name, NULL, 0, knob_saved[i]);
}

/* ---- What the tests look at --------------------------------------------- */

static void fingerprint(struct __test_metadata *_metadata, struct flow *f,
			struct fingerprint *fp)
{
	struct mock_smmu_counters c;
	int p, i;

	memset(fp, 0, sizeof(*fp));
	for (p = 0; p < f->nr_psmmus; p++) {
		ASSERT_EQ(0, mock_get_counters(f->mon, p, &c));
		fp->cnt[p][CNT_DEVICES] = c.devices;
		fp->cnt[p][CNT_VMIDS] = c.vmids;
		fp->cnt[p][CNT_VIOMMUS] = c.viommus;
		fp->cnt[p][CNT_VDEVICES] = c.vdevices;
		fp->cnt[p][CNT_NESTED] = c.nested_attached;
	}
	for (i = 0; i < NR_DEVS; i++)
		fp->ste[i].rc = mock_get_ste(f->mon, i, SID_BASE + i,
					     fp->ste[i].ste);
}

static uint32_t id_lowest_free(struct flow *f)
{
	uint32_t id;

	for (id = 1; id < MAX_ID && f->ids[id]; id++)
		;
	return id;
}

/* A new object's ID: iommufd gives the lowest free one */
static void id_new(struct __test_metadata *_metadata, struct flow *f,
		   uint32_t id)
{
	ASSERT_EQ(id_lowest_free(f), id)
		TH_LOG("got ID %u where %u is free: an object leaked", id,
		       id_lowest_free(f));
	f->ids[id] = true;
}

static void id_put(struct flow *f, uint32_t id)
{
	f->ids[id] = false;
}

static uint32_t pt_id(struct flow *f, int i, enum pt pt)
{
	switch (pt) {
	case PT_S2:
		return f->s2;
	case PT_BYPASS:
		return f->bypass;
	case PT_S1:
		return f->s1[i];
	default:
		return 0;
	}
}

static uint32_t *obj_id(struct flow *f, int obj)
{
	switch (obj) {
	case OBJ_IOAS:
		return &f->ioas;
	case OBJ_S2:
		return &f->s2;
	case OBJ_VIOMMU:
		return &f->viommu;
	case OBJ_VDEV0:
		return &f->vdev[0];
	case OBJ_VDEV1:
		return &f->vdev[1];
	case OBJ_BYPASS:
		return &f->bypass;
	case OBJ_S1_0:
		return &f->s1[0];
	default:
		return &f->s1[1];
	}
}

/* ---- The steps ---------------------------------------------------------- */

/* arg of the close steps: which file goes first */
enum { CLOSE_MOCK_FIRST, CLOSE_IOMMUFD_FIRST };

static int call_open_iommufd(struct flow *f, int arg)
{
	f->fd = iommufd_open();
	return f->fd < 0 ? -errno : 0;
}

static int call_open_mock(struct flow *f, int arg)
{
	f->mfd = mock_open();
	return f->mfd < 0 ? -errno : 0;
}

static void undo_open_iommufd(struct __test_metadata *_metadata,
			      struct flow *f, int arg)
{
	ASSERT_EQ(0, close(f->fd));
	f->fd = -1;
}

static void undo_open_mock(struct __test_metadata *_metadata, struct flow *f,
			   int arg)
{
	ASSERT_EQ(0, close(f->mfd));
	f->mfd = -1;
}

static int call_dev_create(struct flow *f, int i)
{
	return mock_dev_create(f->mfd, i, SID_BASE + i, &f->dev[i]);
}

static void after_dev_create(struct __test_metadata *_metadata,
			     struct flow *f, int i)
{
	/* The device is behind its pSMMU, with an abort STE */
	uint64_t ste[4];

	ASSERT_EQ(0, mock_get_ste(f->mon, i, SID_BASE + i, ste));
	ASSERT_EQ(SMMU_STE_CFG_ABORT, SMMU_STE_CFG(ste[0]));
}

static void undo_dev_create(struct __test_metadata *_metadata,
			    struct flow *f, int i)
{
	ASSERT_EQ(0, mock_dev_destroy(f->mfd, f->dev[i]));
}

static int call_dev_bind(struct flow *f, int i)
{
	return mock_dev_bind(f->mfd, f->dev[i], f->fd, &f->dev_id[i]);
}

static void after_dev_bind(struct __test_metadata *_metadata, struct flow *f,
			   int i)
{
	uint32_t type = 0;

	id_new(_metadata, f, f->dev_id[i]);
	f->bound[i] = true;
	ASSERT_EQ(0, get_hw_info(f->fd, f->dev_id[i], NULL, 0, &type));
	ASSERT_EQ(IOMMU_HW_INFO_TYPE_ARM_SMMUV3, type);
}

static void undo_dev_bind(struct __test_metadata *_metadata, struct flow *f,
			  int i)
{
	ASSERT_EQ(0, mock_dev_unbind(f->mfd, f->dev[i]));
	id_put(f, f->dev_id[i]);
	f->bound[i] = false;
}

static int call_ioas_alloc(struct flow *f, int arg)
{
	return ioas_alloc(f->fd, &f->ioas);
}

/* After the steps that allocate an object, whose ID is *obj_id(f, arg) */
static void after_obj_new(struct __test_metadata *_metadata, struct flow *f,
			  int obj)
{
	id_new(_metadata, f, *obj_id(f, obj));
	if (obj == OBJ_VDEV0 || obj == OBJ_VDEV1)
		f->vdev_live[obj - OBJ_VDEV0] = true;
}

static void undo_obj_new(struct __test_metadata *_metadata, struct flow *f,
			 int obj)
{
	ASSERT_EQ(0, iommufd_destroy(f->fd, *obj_id(f, obj)));
	id_put(f, *obj_id(f, obj));
	if (obj == OBJ_VDEV0 || obj == OBJ_VDEV1)
		f->vdev_live[obj - OBJ_VDEV0] = false;
}

static int call_ioas_map(struct flow *f, int r)
{
	return ioas_map(f->fd, f->ioas, (char *)f->buf + r * RANGE_LEN,
			RANGE_LEN, IOVA_BASE + r * RANGE_LEN);
}

static void after_ioas_map(struct __test_metadata *_metadata, struct flow *f,
			   int r)
{
	/* The range is taken now */
	ASSERT_EQ(-EEXIST, call_ioas_map(f, r));
}

static void undo_ioas_map(struct __test_metadata *_metadata, struct flow *f,
			  int r)
{
	ASSERT_EQ(0, ioas_unmap(f->fd, f->ioas, IOVA_BASE + r * RANGE_LEN,
				RANGE_LEN));
}

/*
 * IOMMU_IOAS_MAP and IOMMU_IOAS_UNMAP copy their answer out after the work
 * is done, and do not undo it when that fails (6.12 and upstream alike):
 * EFAULT then comes with the range mapped, or unmapped. That is put back
 * here, and counted.
 */
static unsigned int answer_lost;

static void failed_ioas_map(struct __test_metadata *_metadata, struct flow *f,
			    int r)
{
	int rc = ioas_unmap(f->fd, f->ioas, IOVA_BASE + r * RANGE_LEN,
			    RANGE_LEN);

	ASSERT_TRUE(rc == -ENOENT || (rc == 0 && f->last_rc == -EFAULT))
		TH_LOG("the failed map left the range mapped: %d", rc);
	if (!rc)
		answer_lost++;
}

static void failed_ioas_unmap(struct __test_metadata *_metadata,
			      struct flow *f, int r)
{
	int rc = ioas_unmap(f->fd, f->ioas, IOVA_BASE + r * RANGE_LEN,
			    RANGE_LEN);

	ASSERT_TRUE(rc == 0 || (rc == -ENOENT && f->last_rc == -EFAULT))
		TH_LOG("the failed unmap unmapped the range: %d", rc);
	if (rc)
		answer_lost++;
	ASSERT_EQ(0, call_ioas_map(f, r));
}

static int call_ioas_unmap(struct flow *f, int r)
{
	return ioas_unmap(f->fd, f->ioas, IOVA_BASE + r * RANGE_LEN,
			  RANGE_LEN);
}

static void after_ioas_unmap(struct __test_metadata *_metadata,
			     struct flow *f, int r)
{
	ASSERT_EQ(-ENOENT, call_ioas_unmap(f, r));
}

static void undo_ioas_unmap(struct __test_metadata *_metadata,
			    struct flow *f, int r)
{
	ASSERT_EQ(0, call_ioas_map(f, r));
}

static int call_hw_info(struct flow *f, int i)
{
	struct iommu_hw_info_arm_smmuv3 info;

	return get_hw_info(f->fd, f->dev_id[i], &info, sizeof(info), &f->out);
}

static void after_hw_info(struct __test_metadata *_metadata, struct flow *f,
			  int i)
{
	ASSERT_EQ(IOMMU_HW_INFO_TYPE_ARM_SMMUV3, f->out);
}

static void undo_nothing(struct __test_metadata *_metadata, struct flow *f,
			 int arg)
{
}

static int call_hwpt_s2(struct flow *f, int arg)
{
	return hwpt_alloc_nest_parent(f->fd, f->dev_id[0], f->ioas, &f->s2);
}

static int call_viommu_alloc(struct flow *f, int arg)
{
	return viommu_alloc_smmu(f->fd, 1, f->dev_id[0], f->s2, &f->viommu);
}

static int call_vdev_alloc(struct flow *f, int obj)
{
	int i = obj - OBJ_VDEV0;

	return vdevice_alloc(f->fd, f->viommu, f->dev_id[i], VSID_BASE + i,
			     &f->vdev[i]);
}

static int call_nested_bypass(struct flow *f, int arg)
{
	return hwpt_alloc_nested_bypass(f->fd, f->dev_id[0], f->viommu,
					&f->bypass);
}

static int call_nested_s1(struct flow *f, int obj)
{
	int i = obj - OBJ_S1_0;

	return hwpt_alloc_nested_s1(f->fd, f->dev_id[i], f->viommu,
				    CDPTR + i * 0x1000, &f->s1[i]);
}

/* arg of the attach steps: device * 4 + enum pt */
static int call_attach(struct flow *f, int arg)
{
	int i = arg / 4;

	return mock_dev_attach(f->mfd, f->dev[i], pt_id(f, i, arg % 4),
			       &f->out);
}

static void after_attach(struct __test_metadata *_metadata, struct flow *f,
			 int arg)
{
	int i = arg / 4;
	uint64_t ste[4];
	int cfg;

	ASSERT_EQ(pt_id(f, i, arg % 4), f->out);
	f->prev_att[i] = f->att[i];
	f->att[i] = arg % 4;
	ASSERT_EQ(0, mock_get_ste(f->mon, i, SID_BASE + i, ste));
	cfg = SMMU_STE_CFG(ste[0]);
	switch (f->att[i]) {
	case PT_S2:
	case PT_BYPASS:
		ASSERT_EQ(SMMU_STE_CFG_S2_TRANS, cfg);
		break;
	default:
		ASSERT_EQ(SMMU_STE_CFG_NESTED, cfg);
		break;
	}
}

static void undo_attach(struct __test_metadata *_metadata, struct flow *f,
			int arg)
{
	int i = arg / 4;

	if (f->prev_att[i] == PT_NONE) {
		ASSERT_EQ(0, mock_dev_detach(f->mfd, f->dev[i]));
	} else {
		ASSERT_EQ(0, mock_dev_attach(f->mfd, f->dev[i],
					     pt_id(f, i, f->prev_att[i]),
					     NULL));
	}
	f->att[i] = f->prev_att[i];
}

static int call_detach(struct flow *f, int i)
{
	return mock_dev_detach(f->mfd, f->dev[i]);
}

static void after_detach(struct __test_metadata *_metadata, struct flow *f,
			 int i)
{
	uint64_t ste[4];

	f->prev_att[i] = f->att[i];
	f->att[i] = PT_NONE;
	ASSERT_EQ(0, mock_get_ste(f->mon, i, SID_BASE + i, ste));
	ASSERT_EQ(SMMU_STE_CFG_ABORT, SMMU_STE_CFG(ste[0]));
}

static void undo_detach(struct __test_metadata *_metadata, struct flow *f,
			int i)
{
	ASSERT_EQ(0, mock_dev_attach(f->mfd, f->dev[i],
				     pt_id(f, i, f->prev_att[i]), NULL));
	f->att[i] = f->prev_att[i];
}

static int call_invalidate(struct flow *f, int arg)
{
	return viommu_invalidate_smmu(f->fd, f->viommu, f->inv, NR_INV,
				      &f->done);
}

static void after_invalidate(struct __test_metadata *_metadata,
			     struct flow *f, int arg)
{
	ASSERT_EQ(NR_INV, f->done);
}

static void failed_invalidate(struct __test_metadata *_metadata,
			      struct flow *f, int arg)
{
	/* The commands executed before the failure, at most all of them */
	ASSERT_GE(NR_INV, f->done);
}

static int call_destroy(struct flow *f, int obj)
{
	return iommufd_destroy(f->fd, *obj_id(f, obj));
}

static void after_destroy(struct __test_metadata *_metadata, struct flow *f,
			  int obj)
{
	struct mock_smmu_counters c;
	int p;

	id_put(f, *obj_id(f, obj));
	if (obj == OBJ_VDEV0 || obj == OBJ_VDEV1)
		f->vdev_live[obj - OBJ_VDEV0] = false;
	ASSERT_EQ(-ENOENT, call_destroy(f, obj));
	if (obj != OBJ_S2)
		return;
	/* The last VMIDs went with the vIOMMU and the nesting parent */
	for (p = 0; p < f->nr_psmmus; p++) {
		ASSERT_EQ(0, mock_get_counters(f->mon, p, &c));
		ASSERT_EQ(0, c.vmids)
			TH_LOG("pSMMU %d: %llu VMIDs left", p,
			       (unsigned long long)c.vmids);
	}
}

/* A device's vDEVICE goes when it is unbound; its ID stays taken */
static void unbound(struct __test_metadata *_metadata, struct flow *f, int i)
{
	id_put(f, f->dev_id[i]);
	f->bound[i] = false;
	f->att[i] = PT_NONE;
	if (f->vdev_live[i]) {
		ASSERT_EQ(-ENOENT, iommufd_destroy(f->fd, f->vdev[i]));
		f->vdev_live[i] = false;
	}
}

static int call_dev_unbind(struct flow *f, int i)
{
	return mock_dev_unbind(f->mfd, f->dev[i]);
}

static void after_dev_unbind(struct __test_metadata *_metadata,
			     struct flow *f, int i)
{
	unbound(_metadata, f, i);
	ASSERT_EQ(-ENOENT, get_hw_info(f->fd, f->dev_id[i], NULL, 0, NULL));
}

static int call_dev_destroy(struct flow *f, int i)
{
	return mock_dev_destroy(f->mfd, f->dev[i]);
}

static void after_dev_destroy(struct __test_metadata *_metadata,
			      struct flow *f, int i)
{
	if (f->bound[i])
		unbound(_metadata, f, i);
	ASSERT_EQ(-ENOENT, mock_get_ste(f->mon, i, SID_BASE + i, NULL));
}

static int call_close(struct flow *f, int arg)
{
	int a = arg == CLOSE_MOCK_FIRST ? f->mfd : f->fd;
	int b = arg == CLOSE_MOCK_FIRST ? f->fd : f->mfd;

	if (close(a))
		return -errno;
	return close(b) ? -errno : 0;
}

static void after_close(struct __test_metadata *_metadata, struct flow *f,
			int arg)
{
	struct fingerprint fp;
	int p, i;

	f->fd = -1;
	f->mfd = -1;
	/* Closing both files released everything */
	fingerprint(_metadata, f, &fp);
	for (p = 0; p < f->nr_psmmus; p++) {
		for (i = 0; i < NR_CNT; i++) {
			unsigned long long left = fp.cnt[p][i];

			ASSERT_EQ(0, left)
				TH_LOG("pSMMU %d: %s %llu after close", p,
				       cnt_name[i], left);
		}
	}
	for (i = 0; i < NR_DEVS; i++)
		ASSERT_EQ(-ENOENT, fp.ste[i].rc);
}

/* The flow up to its tear-down */
static const struct step build[] = {
	{ "open", "/dev/iommu", 0, call_open_iommufd, NULL,
	  undo_open_iommufd },
	{ "open", MOCK_SMMU_DEV_PATH, 0, call_open_mock, NULL,
	  undo_open_mock },
	{ "MOCK_SMMU_DEV_CREATE", "pSMMU 0", 0, call_dev_create,
	  after_dev_create, undo_dev_create },
	{ "MOCK_SMMU_DEV_CREATE", "pSMMU 1", 1, call_dev_create,
	  after_dev_create, undo_dev_create },
	{ "MOCK_SMMU_DEV_BIND", "dev 0", 0, call_dev_bind, after_dev_bind,
	  undo_dev_bind },
	{ "MOCK_SMMU_DEV_BIND", "dev 1", 1, call_dev_bind, after_dev_bind,
	  undo_dev_bind },
	{ "IOMMU_IOAS_ALLOC", "", OBJ_IOAS, call_ioas_alloc, after_obj_new,
	  undo_obj_new },
	{ "IOMMU_IOAS_MAP", "range 0", 0, call_ioas_map, after_ioas_map,
	  undo_ioas_map, NULL, failed_ioas_map },
	{ "IOMMU_GET_HW_INFO", "dev 1", 1, call_hw_info, after_hw_info,
	  undo_nothing },
	{ "IOMMU_HWPT_ALLOC", "nesting parent", OBJ_S2, call_hwpt_s2,
	  after_obj_new, undo_obj_new },
	{ "MOCK_SMMU_DEV_ATTACH", "dev 0 to the parent", 0 * 4 + PT_S2,
	  call_attach, after_attach, undo_attach },
	{ "MOCK_SMMU_DEV_ATTACH", "dev 1 to the parent", 1 * 4 + PT_S2,
	  call_attach, after_attach, undo_attach },
	{ "IOMMU_VIOMMU_ALLOC", "spanning", OBJ_VIOMMU, call_viommu_alloc,
	  after_obj_new, undo_obj_new },
	{ "IOMMU_VDEVICE_ALLOC", "dev 0", OBJ_VDEV0, call_vdev_alloc,
	  after_obj_new, undo_obj_new },
	{ "IOMMU_VDEVICE_ALLOC", "dev 1", OBJ_VDEV1, call_vdev_alloc,
	  after_obj_new, undo_obj_new },
	{ "IOMMU_HWPT_ALLOC", "nested bypass, dev 0", OBJ_BYPASS,
	  call_nested_bypass, after_obj_new, undo_obj_new },
	{ "IOMMU_HWPT_ALLOC", "nested stage 1, dev 0", OBJ_S1_0,
	  call_nested_s1, after_obj_new, undo_obj_new },
	{ "IOMMU_HWPT_ALLOC", "nested stage 1, dev 1", OBJ_S1_1,
	  call_nested_s1, after_obj_new, undo_obj_new },
	{ "MOCK_SMMU_DEV_ATTACH", "dev 0: parent -> bypass",
	  0 * 4 + PT_BYPASS, call_attach, after_attach, undo_attach },
	{ "MOCK_SMMU_DEV_ATTACH", "dev 0: bypass -> stage 1",
	  0 * 4 + PT_S1, call_attach, after_attach, undo_attach },
	{ "MOCK_SMMU_DEV_ATTACH", "dev 1: parent -> stage 1",
	  1 * 4 + PT_S1, call_attach, after_attach, undo_attach },
	{ "IOMMU_HWPT_INVALIDATE", "a batch on the vIOMMU", 0,
	  call_invalidate, after_invalidate, undo_nothing, NULL,
	  failed_invalidate },
	{ "IOMMU_IOAS_MAP", "range 1, nested attached", 1, call_ioas_map,
	  after_ioas_map, undo_ioas_map, NULL, failed_ioas_map },
};

static void prep_reopen(struct __test_metadata *_metadata, struct flow *f,
			int arg);

/* Tear-down A: children first, every object destroyed explicitly */
static const struct step order_a[] = {
	{ "MOCK_SMMU_DEV_ATTACH", "dev 0: stage 1 -> parent",
	  0 * 4 + PT_S2, call_attach, after_attach, undo_attach },
	{ "MOCK_SMMU_DEV_DETACH", "dev 1 from stage 1", 1, call_detach,
	  after_detach, undo_detach },
	{ "IOMMU_DESTROY", "nested stage 1, dev 1", OBJ_S1_1, call_destroy,
	  after_destroy },
	{ "IOMMU_DESTROY", "nested stage 1, dev 0", OBJ_S1_0, call_destroy,
	  after_destroy },
	{ "IOMMU_DESTROY", "nested bypass", OBJ_BYPASS, call_destroy,
	  after_destroy },
	{ "IOMMU_DESTROY", "vDEVICE 1", OBJ_VDEV1, call_destroy,
	  after_destroy },
	{ "IOMMU_DESTROY", "vDEVICE 0", OBJ_VDEV0, call_destroy,
	  after_destroy },
	{ "IOMMU_DESTROY", "vIOMMU", OBJ_VIOMMU, call_destroy,
	  after_destroy },
	{ "MOCK_SMMU_DEV_DETACH", "dev 0 from the parent", 0, call_detach,
	  after_detach, undo_detach },
	{ "MOCK_SMMU_DEV_DETACH", "dev 1, not attached", 1, call_detach,
	  after_detach },
	{ "IOMMU_DESTROY", "nesting parent", OBJ_S2, call_destroy,
	  after_destroy },
	{ "IOMMU_IOAS_UNMAP", "range 0", 0, call_ioas_unmap,
	  after_ioas_unmap, undo_ioas_unmap, NULL, failed_ioas_unmap },
	{ "IOMMU_IOAS_UNMAP", "range 1", 1, call_ioas_unmap,
	  after_ioas_unmap, undo_ioas_unmap, NULL, failed_ioas_unmap },
	{ "IOMMU_DESTROY", "IOAS", OBJ_IOAS, call_destroy, after_destroy },
	{ "MOCK_SMMU_DEV_UNBIND", "dev 0", 0, call_dev_unbind,
	  after_dev_unbind },
	{ "MOCK_SMMU_DEV_UNBIND", "dev 1", 1, call_dev_unbind,
	  after_dev_unbind },
	{ "MOCK_SMMU_DEV_DESTROY", "dev 0", 0, call_dev_destroy,
	  after_dev_destroy },
	{ "MOCK_SMMU_DEV_DESTROY", "dev 1", 1, call_dev_destroy,
	  after_dev_destroy },
	{ "close", "mock, then iommufd", CLOSE_MOCK_FIRST, call_close,
	  after_close, NULL, prep_reopen },
};

/*
 * Tear-down B: detached first, a device unbound with its vDEVICE alive, the IOAS
 * destroyed with its mappings, a bound device destroyed, iommufd closed
 * before the mock
 */
static const struct step order_b[] = {
	{ "MOCK_SMMU_DEV_DETACH", "dev 0 from stage 1", 0, call_detach,
	  after_detach, undo_detach },
	{ "MOCK_SMMU_DEV_DETACH", "dev 1 from stage 1", 1, call_detach,
	  after_detach, undo_detach },
	{ "IOMMU_DESTROY", "nested bypass", OBJ_BYPASS, call_destroy,
	  after_destroy },
	{ "IOMMU_DESTROY", "nested stage 1, dev 0", OBJ_S1_0, call_destroy,
	  after_destroy },
	{ "IOMMU_DESTROY", "nested stage 1, dev 1", OBJ_S1_1, call_destroy,
	  after_destroy },
	{ "MOCK_SMMU_DEV_UNBIND", "dev 1, its vDEVICE alive", 1,
	  call_dev_unbind, after_dev_unbind },
	{ "IOMMU_DESTROY", "vDEVICE 0", OBJ_VDEV0, call_destroy,
	  after_destroy },
	{ "IOMMU_DESTROY", "vIOMMU", OBJ_VIOMMU, call_destroy,
	  after_destroy },
	{ "IOMMU_DESTROY", "nesting parent", OBJ_S2, call_destroy,
	  after_destroy },
	{ "IOMMU_DESTROY", "IOAS, mapped", OBJ_IOAS, call_destroy,
	  after_destroy },
	{ "MOCK_SMMU_DEV_DESTROY", "dev 0, bound", 0, call_dev_destroy,
	  after_dev_destroy },
	{ "MOCK_SMMU_DEV_DESTROY", "dev 1", 1, call_dev_destroy,
	  after_dev_destroy },
	{ "close", "iommufd, then mock", CLOSE_IOMMUFD_FIRST, call_close,
	  after_close, NULL, prep_reopen },
};

static void flow_reset(struct flow *f)
{
	memset(f->ids, 0, sizeof(f->ids));
	memset(f->bound, 0, sizeof(f->bound));
	memset(f->vdev_live, 0, sizeof(f->vdev_live));
	memset(f->att, 0, sizeof(f->att));
	memset(f->prev_att, 0, sizeof(f->prev_att));
}

/* Before another attempt at closing empty files: open them again */
static void prep_reopen(struct __test_metadata *_metadata, struct flow *f,
			int arg)
{
	flow_reset(f);
	f->fd = iommufd_open();
	ASSERT_LE(0, f->fd);
	f->mfd = mock_open();
	ASSERT_LE(0, f->mfd);
}

/* Before another attempt at closing with everything alive: build it all */
static void prep_build(struct __test_metadata *_metadata, struct flow *f,
		       int arg)
{
	size_t i;

	flow_reset(f);
	for (i = 0; i < ARRAY_SIZE(build); i++) {
		ASSERT_EQ(0, build[i].call(f, build[i].arg))
			TH_LOG("building: %s (%s)", build[i].ioctl,
			       build[i].what);
		if (build[i].after)
			build[i].after(_metadata, f, build[i].arg);
	}
}

/* ---- The sweep ---------------------------------------------------------- */

/* Print how @now differs from @was; return whether it does */
static bool fingerprint_differs(struct __test_metadata *_metadata,
				const struct flow *f,
				const struct fingerprint *was,
				const struct fingerprint *now, bool vmids)
{
	bool differs = false;
	int p, i, w;

	for (p = 0; p < f->nr_psmmus; p++) {
		for (i = 0; i < NR_CNT; i++) {
			if (was->cnt[p][i] == now->cnt[p][i] ||
			    (i == CNT_VMIDS && !vmids))
				continue;
			TH_LOG("pSMMU %d: %s %llu, was %llu", p, cnt_name[i],
			       (unsigned long long)now->cnt[p][i],
			       (unsigned long long)was->cnt[p][i]);
			differs = true;
		}
	}
	for (i = 0; i < NR_DEVS; i++) {
		if (was->ste[i].rc != now->ste[i].rc) {
			TH_LOG("dev %d: STE read %d, was %d", i,
			       now->ste[i].rc, was->ste[i].rc);
			differs = true;
			continue;
		}
		for (w = 0; w < 4; w++) {
			if (was->ste[i].ste[w] == now->ste[i].ste[w])
				continue;
			TH_LOG("dev %d: STE word %d 0x%016llx, was 0x%016llx",
			       i, w, (unsigned long long)now->ste[i].ste[w],
			       (unsigned long long)was->ste[i].ste[w]);
			differs = true;
		}
	}
	return differs;
}

static void sweep(struct __test_metadata *_metadata, struct flow *f,
		  const struct step *st, int idx, struct tally *t)
{
	/*
	 * A paging domain takes its VMID on a pSMMU at its first attach there
	 * and keeps it until it is freed: attach, detach or a failed attach
	 * may leave one more. That they all go back is checked when the
	 * nesting parent is destroyed, and at close.
	 */
	bool vmids = st->call != call_attach;
	struct fingerprint before, now;
	unsigned int n;
	bool fired;
	int rc;

	memset(t, 0, sizeof(*t));
	for (n = 1;; n++) {
		ASSERT_GT(MAX_POINTS, n)
			TH_LOG("%s (%s): more than %u fault points", st->ioctl,
			       st->what, MAX_POINTS);
		if (n > 1 && st->prep)
			st->prep(_metadata, f, st->arg);
		fingerprint(_metadata, f, &before);
		snprintf(alarm_msg, sizeof(alarm_msg),
			 "# step %d %s (%s) with fault %u: no answer in %d s\n",
			 idx, st->ioctl, st->what, n, CALL_TIMEOUT);
		alarm(CALL_TIMEOUT);
		if (have_fail_nth)
			fail_nth_arm(_metadata, n);
		rc = st->call(f, st->arg);
		fired = have_fail_nth && fail_nth_disarm(_metadata);
		alarm(0);
		f->last_rc = rc;

		if (rc) {
			ASSERT_TRUE(fired)
				TH_LOG("step %d %s (%s): %s with no fault injected (n = %u)",
				       idx, st->ioctl, st->what, strerror(-rc),
				       n);
			/*
			 * open(2) too: EFAULT when the path cannot be read.
			 * Not fatal, so that a run finds every such call.
			 */
			EXPECT_TRUE(rc == -ENOMEM || rc == -EFAULT)
				TH_LOG("step %d %s (%s), fault %u: %s",
				       idx, st->ioctl, st->what, n,
				       strerror(-rc));
			if (st->failed)
				st->failed(_metadata, f, st->arg);
			fingerprint(_metadata, f, &now);
			ASSERT_FALSE(fingerprint_differs(_metadata, f, &before,
							 &now, vmids))
				TH_LOG("step %d %s (%s), fault %u: %s, state changed",
				       idx, st->ioctl, st->what, n,
				       strerror(-rc));
			continue;
		}
		if (st->after)
			st->after(_metadata, f, st->arg);
		if (!fired) {
			t->points = n - 1;
			return;
		}
		/* Succeeded although a fault was injected: a fallback */
		t->absorbed++;
		if (st->prep)
			continue;
		if (!st->undo) {
			t->points = n;
			t->partial = true;
			return;
		}
		st->undo(_metadata, f, st->arg);
		fingerprint(_metadata, f, &now);
		ASSERT_FALSE(fingerprint_differs(_metadata, f, &before, &now,
						 vmids))
			TH_LOG("step %d %s (%s), fault %u: undone, another state",
			       idx, st->ioctl, st->what, n);
	}
}

static void report(const struct step *const *steps, size_t nr,
		   const struct tally *t, int pass)
{
	unsigned int total = 0;
	size_t i, j;

	if (!have_fail_nth) {
		ksft_print_msg("%zu calls, without faults\n", nr);
		return;
	}
	for (i = 0; i < nr; i++) {
		ksft_print_msg("pass %d, step %zu, %s (%s): %u fault points%s%s\n",
			       pass, i, steps[i]->ioctl, steps[i]->what,
			       t[i].points,
			       t[i].absorbed ? ", some absorbed" : "",
			       t[i].partial ? " or more (no retry)" : "");
		total += t[i].points;
	}
	/* Per ioctl, in the order of first use */
	for (i = 0; i < nr; i++) {
		unsigned int points = 0, calls = 0, absorbed = 0;

		for (j = 0; j < i; j++)
			if (!strcmp(steps[j]->ioctl, steps[i]->ioctl))
				break;
		if (j < i)
			continue;
		for (j = i; j < nr; j++) {
			if (strcmp(steps[j]->ioctl, steps[i]->ioctl))
				continue;
			points += t[j].points;
			absorbed += t[j].absorbed;
			calls++;
		}
		ksft_print_msg("%s: %u fault points (pass %d, %u calls, %u absorbed)\n",
			       steps[i]->ioctl, points, pass, calls, absorbed);
	}
	ksft_print_msg("pass %d: %u fault points in %zu calls\n", pass, total,
		       nr);
	if (answer_lost)
		ksft_print_msg("pass %d: %u map/unmap calls did their work, then EFAULT\n",
			       pass, answer_lost);
	answer_lost = 0;
}

/* ---- The tests ---------------------------------------------------------- */

/* The set-up of both fixtures; false if the test is skipped */
static bool flow_setup(struct __test_metadata *_metadata, struct flow *f)
{
	struct sigaction sa = { .sa_handler = on_alarm };

	f->fd = -1;
	f->mfd = -1;
	f->mon = mock_open();
	ASSERT_LE(0, f->mon);
	f->nr_psmmus = mock_num_psmmus(f->mon);
	ASSERT_LE(1, f->nr_psmmus);
	ASSERT_GE(MAX_PSMMUS, f->nr_psmmus);
	if (f->nr_psmmus < NR_DEVS)
		SKIP(return false, "needs %d pSMMUs, the module has %d",
		     NR_DEVS, f->nr_psmmus);

	f->buf = mmap(NULL, 2 * RANGE_LEN, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, f->buf);
	memset(f->buf, 0x5a, 2 * RANGE_LEN);
	/* Guest commands for both devices, by vSID, and by VMID */
	smmu_cmd_cfgi_cd(f->inv[0].w, VSID_BASE + 0, 0, 1);
	smmu_cmd_cfgi_cd_all(f->inv[1].w, VSID_BASE + 1);
	smmu_cmd_nh_asid(f->inv[2].w, 0, 1);
	smmu_cmd_nh_va(f->inv[3].w, 0, 1, 0x1000, 1, 0, 0, 0, 0);
	smmu_cmd_nh_va(f->inv[4].w, 0, -1, 0x2000, 0, 0, 0, 0, 0);
	smmu_cmd_nh_all(f->inv[5].w, 0);
	smmu_cmd_nsnh_all(f->inv[6].w);
	smmu_cmd_cfgi_cd(f->inv[7].w, VSID_BASE + 1, 0, 0);

	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	/* No page faults of the test's own memory while a fault is armed */
	ASSERT_EQ(0, mlockall(MCL_CURRENT | MCL_FUTURE));

	have_fail_nth = !access(FAIL_NTH, F_OK);
	if (have_fail_nth) {
		nth_fd = open(FAIL_NTH, O_RDWR);
		ASSERT_LE(0, nth_fd);
		knobs_set(_metadata);
	}
	return true;
}

static void flow_teardown(struct flow *f)
{
	knobs_restore();
	if (nth_fd >= 0)
		close(nth_fd);
	if (f->mfd >= 0)
		close(f->mfd);
	if (f->fd >= 0)
		close(f->fd);
	if (f->mon >= 0)
		close(f->mon);
}

FIXTURE(fail_nth)
{
	struct flow f;
};

/* The variants: how the flow is torn down */
FIXTURE_VARIANT(fail_nth)
{
	const struct step *teardown;
	size_t nr_teardown;
};

FIXTURE_VARIANT_ADD(fail_nth, order_a)
{
	.teardown = order_a,
	.nr_teardown = ARRAY_SIZE(order_a),
};

FIXTURE_VARIANT_ADD(fail_nth, order_b)
{
	.teardown = order_b,
	.nr_teardown = ARRAY_SIZE(order_b),
};

FIXTURE_SETUP(fail_nth)
{
	flow_setup(_metadata, &self->f);
}

FIXTURE_TEARDOWN(fail_nth)
{
	flow_teardown(&self->f);
}

static void skip_if_no_fail_nth(struct __test_metadata *_metadata)
{
	if (!have_fail_nth)
		SKIP(return, "no %s: the flow ran once, without faults",
		     FAIL_NTH);
}

/* The whole flow, swept twice: fault positions move a little between runs */
TEST_F_TIMEOUT(fail_nth, flow, 1800)
{
	const struct step *steps[MAX_STEPS];
	struct tally t[2][MAX_STEPS];
	double start = now_s();
	size_t i, nr = 0;
	int pass;

	ASSERT_GE(MAX_STEPS, ARRAY_SIZE(build) + variant->nr_teardown);
	for (i = 0; i < ARRAY_SIZE(build); i++)
		steps[nr++] = &build[i];
	for (i = 0; i < variant->nr_teardown; i++)
		steps[nr++] = &variant->teardown[i];

	for (pass = 0; pass < 2; pass++) {
		flow_reset(&self->f);
		for (i = 0; i < nr; i++)
			sweep(_metadata, &self->f, steps[i], i, &t[pass][i]);
		report(steps, nr, t[pass], pass + 1);
		if (!have_fail_nth)
			break;
	}
	for (i = 0; have_fail_nth && i < nr; i++)
		if (t[0][i].points != t[1][i].points)
			ksft_print_msg("step %zu, %s (%s): %u, then %u fault points\n",
				       i, steps[i]->ioctl, steps[i]->what,
				       t[0][i].points, t[1][i].points);
	ksft_print_msg("%.1f s\n", now_s() - start);
	skip_if_no_fail_nth(_metadata);
}

/*
 * Closing the files with everything alive: every attempt builds the whole
 * flow again first, without faults.
 */
static const struct step close_live[] = {
	{ "close", "everything alive, mock first", CLOSE_MOCK_FIRST,
	  call_close, after_close, NULL, prep_build },
	{ "close", "everything alive, iommufd first", CLOSE_IOMMUFD_FIRST,
	  call_close, after_close, NULL, prep_build },
};

FIXTURE(fail_nth_close)
{
	struct flow f;
};

FIXTURE_SETUP(fail_nth_close)
{
	flow_setup(_metadata, &self->f);
}

FIXTURE_TEARDOWN(fail_nth_close)
{
	flow_teardown(&self->f);
}

TEST_F_TIMEOUT(fail_nth_close, live, 1800)
{
	const struct step *steps[ARRAY_SIZE(close_live)];
	struct tally t[ARRAY_SIZE(close_live)];
	double start = now_s();
	size_t i;

	for (i = 0; i < ARRAY_SIZE(close_live); i++) {
		steps[i] = &close_live[i];
		prep_build(_metadata, &self->f, 0);
		sweep(_metadata, &self->f, steps[i], i, &t[i]);
	}
	report(steps, ARRAY_SIZE(close_live), t, 1);
	ksft_print_msg("%.1f s\n", now_s() - start);
	skip_if_no_fail_nth(_metadata);
}

TEST_HARNESS_MAIN
