/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the iommufd vIOMMU kselftests: thin wrappers around the
 * iommufd ioctls and the mock SMMU test interface that return 0 or -errno,
 * so tests can assert exact error codes with ASSERT_EQ(-EXXX, ...).
 */
#ifndef __IOMMUFD_VIOMMU_UTILS_H
#define __IOMMUFD_VIOMMU_UTILS_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/iommufd.h>

#include "../../../../drivers/iommu/mock-smmu/mock_smmu.h"
#include "smmuv3_test.h"

static inline int ioctl_errno(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

/* CLOCK_MONOTONIC in seconds */
static inline double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline int iommufd_open(void)
{
	return open("/dev/iommu", O_RDWR);
}

static inline int mock_open(void)
{
	return open(MOCK_SMMU_DEV_PATH, O_RDWR);
}

static inline int ioas_alloc(int fd, uint32_t *ioas_id)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };
	int rc = ioctl_errno(fd, IOMMU_IOAS_ALLOC, &cmd);

	if (!rc && ioas_id)
		*ioas_id = cmd.out_ioas_id;
	return rc;
}

static inline int iommufd_destroy(int fd, uint32_t id)
{
	struct iommu_destroy cmd = { .size = sizeof(cmd), .id = id };

	return ioctl_errno(fd, IOMMU_DESTROY, &cmd);
}

static inline int ioas_map(int fd, uint32_t ioas_id, void *buf, size_t len,
			   uint64_t iova)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas_id,
		.user_va = (uintptr_t)buf,
		.length = len,
		.iova = iova,
	};

	return ioctl_errno(fd, IOMMU_IOAS_MAP, &cmd);
}

static inline int ioas_unmap(int fd, uint32_t ioas_id, uint64_t iova,
			     uint64_t len)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.iova = iova,
		.length = len,
	};

	return ioctl_errno(fd, IOMMU_IOAS_UNMAP, &cmd);
}

static inline int hwpt_alloc(int fd, uint32_t dev_id, uint32_t pt_id,
			     uint32_t flags, uint32_t data_type,
			     void *data, uint32_t data_len, uint32_t *hwpt_id)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dev_id = dev_id,
		.pt_id = pt_id,
		.data_type = data_type,
		.data_len = data_len,
		.data_uptr = (uintptr_t)data,
	};
	int rc = ioctl_errno(fd, IOMMU_HWPT_ALLOC, &cmd);

	if (!rc && hwpt_id)
		*hwpt_id = cmd.out_hwpt_id;
	return rc;
}

static inline int get_hw_info(int fd, uint32_t dev_id, void *data,
			      uint32_t len, uint32_t *type)
{
	struct iommu_hw_info cmd = {
		.size = sizeof(cmd),
		.dev_id = dev_id,
		.data_len = len,
		.data_uptr = (uintptr_t)data,
	};
	int rc = ioctl_errno(fd, IOMMU_GET_HW_INFO, &cmd);

	if (!rc && type)
		*type = cmd.out_data_type;
	return rc;
}

static inline int mock_num_psmmus(int mfd)
{
	struct mock_smmu_info info = {};

	if (ioctl(mfd, MOCK_SMMU_GET_INFO, &info))
		return -errno;
	return info.num_psmmus;
}

static inline int mock_dev_create(int mfd, uint32_t psmmu, uint32_t sid,
				  uint32_t *dev)
{
	struct mock_smmu_dev_create cmd = { .psmmu = psmmu, .sid = sid };
	int rc = ioctl_errno(mfd, MOCK_SMMU_DEV_CREATE, &cmd);

	if (!rc && dev)
		*dev = cmd.out_dev;
	return rc;
}

static inline int mock_dev_cmd(int mfd, unsigned long ioctl_nr, uint32_t dev,
			       int iommufd, uint32_t pt_id, uint32_t *out_id)
{
	struct mock_smmu_dev_cmd cmd = {
		.dev = dev,
		.iommufd = iommufd,
		.pt_id = pt_id,
	};
	int rc = ioctl_errno(mfd, ioctl_nr, &cmd);

	if (!rc && out_id)
		*out_id = cmd.out_id;
	return rc;
}

static inline int mock_dev_bind(int mfd, uint32_t dev, int iommufd,
				uint32_t *dev_id)
{
	return mock_dev_cmd(mfd, MOCK_SMMU_DEV_BIND, dev, iommufd, 0, dev_id);
}

static inline int mock_dev_attach(int mfd, uint32_t dev, uint32_t pt_id,
				  uint32_t *hwpt_id)
{
	return mock_dev_cmd(mfd, MOCK_SMMU_DEV_ATTACH, dev, -1, pt_id, hwpt_id);
}

static inline int mock_dev_detach(int mfd, uint32_t dev)
{
	return mock_dev_cmd(mfd, MOCK_SMMU_DEV_DETACH, dev, -1, 0, NULL);
}

static inline int mock_dev_unbind(int mfd, uint32_t dev)
{
	return mock_dev_cmd(mfd, MOCK_SMMU_DEV_UNBIND, dev, -1, 0, NULL);
}

static inline int mock_dev_destroy(int mfd, uint32_t dev)
{
	return mock_dev_cmd(mfd, MOCK_SMMU_DEV_DESTROY, dev, -1, 0, NULL);
}

/* vIOMMU / vDEVICE (IOMMU_VIOMMU_ALLOC, IOMMU_VDEVICE_ALLOC) */

static inline int viommu_alloc(int fd, uint32_t flags, uint32_t type,
			       uint32_t dev_id, uint32_t hwpt_id,
			       uint32_t *viommu_id)
{
	struct iommu_viommu_alloc cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.type = type,
		.dev_id = dev_id,
		.hwpt_id = hwpt_id,
	};
	int rc = ioctl_errno(fd, IOMMU_VIOMMU_ALLOC, &cmd);

	if (!rc && viommu_id)
		*viommu_id = cmd.out_viommu_id;
	return rc;
}

/* An ARM SMMUv3 vIOMMU; @span sets IOMMU_VIOMMU_ALLOC_FLAG_SPAN */
static inline int viommu_alloc_smmu(int fd, int span, uint32_t dev_id,
				    uint32_t hwpt_id, uint32_t *viommu_id)
{
	return viommu_alloc(fd, span ? IOMMU_VIOMMU_ALLOC_FLAG_SPAN : 0,
			    IOMMU_VIOMMU_TYPE_ARM_SMMUV3, dev_id, hwpt_id,
			    viommu_id);
}

/* IOMMU_VDEVICE_ALLOC, or its alias IOMMU_VIOMMU_SET_DEV_ID, by @ioctl_nr */
static inline int vdevice_alloc_nr(int fd, unsigned long ioctl_nr,
				   uint32_t viommu_id, uint32_t dev_id,
				   uint64_t virt_id, uint32_t *vdevice_id)
{
	struct iommu_vdevice_alloc cmd = {
		.size = sizeof(cmd),
		.viommu_id = viommu_id,
		.dev_id = dev_id,
		.virt_id = virt_id,
	};
	int rc = ioctl_errno(fd, ioctl_nr, &cmd);

	if (!rc && vdevice_id)
		*vdevice_id = cmd.out_vdevice_id;
	return rc;
}

static inline int vdevice_alloc(int fd, uint32_t viommu_id, uint32_t dev_id,
				uint64_t virt_id, uint32_t *vdevice_id)
{
	return vdevice_alloc_nr(fd, IOMMU_VDEVICE_ALLOC, viommu_id, dev_id,
				virt_id, vdevice_id);
}

/* A stage-2 nesting parent HWPT on @pt_id for @dev_id */
static inline int hwpt_alloc_nest_parent(int fd, uint32_t dev_id,
					 uint32_t pt_id, uint32_t *hwpt_id)
{
	return hwpt_alloc(fd, dev_id, pt_id, IOMMU_HWPT_ALLOC_NEST_PARENT,
			  IOMMU_HWPT_DATA_NONE, NULL, 0, hwpt_id);
}

/* Mock SMMU state read-back */

static inline int mock_dev_create_bind(int mfd, int fd, uint32_t psmmu,
				       uint32_t sid, uint32_t *dev,
				       uint32_t *dev_id)
{
	uint32_t handle;
	int rc = mock_dev_create(mfd, psmmu, sid, &handle);

	if (rc)
		return rc;
	if (dev)
		*dev = handle;
	return mock_dev_bind(mfd, handle, fd, dev_id);
}

static inline int mock_get_ste(int mfd, uint32_t psmmu, uint32_t sid,
			       uint64_t ste[4])
{
	struct mock_smmu_get_ste cmd = { .psmmu = psmmu, .sid = sid };
	int rc = ioctl_errno(mfd, MOCK_SMMU_GET_STE, &cmd);

	if (!rc && ste)
		memcpy(ste, cmd.ste, sizeof(cmd.ste));
	return rc;
}

/* The S2VMID of the physical STE of (@psmmu, @sid), or -errno */
static inline int mock_ste_vmid(int mfd, uint32_t psmmu, uint32_t sid)
{
	uint64_t ste[4];
	int rc = mock_get_ste(mfd, psmmu, sid, ste);

	return rc ? rc : (int)smmu_field_get(SMMU_STE2_S2VMID, ste[2]);
}

static inline int mock_get_counters(int mfd, uint32_t psmmu,
				    struct mock_smmu_counters *cnt)
{
	memset(cnt, 0, sizeof(*cnt));
	cnt->psmmu = psmmu;
	return ioctl_errno(mfd, MOCK_SMMU_GET_COUNTERS, cnt);
}

/* Nested HWPTs and invalidation through a vIOMMU */

/* A nested HWPT on an ARM SMMUv3 vIOMMU from guest STE words 0 and 1 */
static inline int hwpt_alloc_nested_smmu(int fd, uint32_t dev_id,
					 uint32_t viommu_id, uint64_t ste0,
					 uint64_t ste1, uint32_t *hwpt_id)
{
	struct iommu_hwpt_arm_smmuv3 data = { .ste = { ste0, ste1 } };

	return hwpt_alloc(fd, dev_id, viommu_id, 0, IOMMU_HWPT_DATA_ARM_SMMUV3,
			  &data, sizeof(data), hwpt_id);
}

/* A nested HWPT of guest STE stage-1 translate, with a CD table at @cdptr */
static inline int hwpt_alloc_nested_s1(int fd, uint32_t dev_id,
				       uint32_t viommu_id, uint64_t cdptr,
				       uint32_t *hwpt_id)
{
	return hwpt_alloc_nested_smmu(fd, dev_id, viommu_id,
				      SMMU_STE0_V |
				      SMMU_FIELD(SMMU_STE0_CFG,
						 SMMU_STE_CFG_S1_TRANS) |
				      (cdptr & SMMU_STE0_S1CTXPTR), 0,
				      hwpt_id);
}

/* A nested HWPT of guest STE bypass */
static inline int hwpt_alloc_nested_bypass(int fd, uint32_t dev_id,
					   uint32_t viommu_id,
					   uint32_t *hwpt_id)
{
	return hwpt_alloc_nested_smmu(fd, dev_id, viommu_id,
				      SMMU_STE0_V |
				      SMMU_FIELD(SMMU_STE0_CFG,
						 SMMU_STE_CFG_BYPASS), 0,
				      hwpt_id);
}

/*
 * IOMMU_HWPT_INVALIDATE with every field chosen by the caller. *@done, if
 * given, receives entry_num as the kernel wrote it back, success or not
 * (it is still @num if the ioctl failed before writing anything back).
 */
static inline int hwpt_invalidate_raw(int fd, uint32_t id, uint32_t data_type,
				      uint32_t entry_len, const void *uptr,
				      uint32_t num, uint32_t reserved,
				      uint32_t *done)
{
	struct iommu_hwpt_invalidate cmd = {
		.size = sizeof(cmd),
		.hwpt_id = id,
		.data_uptr = (uintptr_t)uptr,
		.data_type = data_type,
		.entry_len = entry_len,
		.entry_num = num,
		.__reserved = reserved,
	};
	int rc = ioctl_errno(fd, IOMMU_HWPT_INVALIDATE, &cmd);

	if (done)
		*done = cmd.entry_num;
	return rc;
}

/* A batch of @num guest SMMUv3 commands (two words each) on a vIOMMU */
static inline int viommu_invalidate_smmu(int fd, uint32_t viommu_id,
					 const void *cmds, uint32_t num,
					 uint32_t *done)
{
	return hwpt_invalidate_raw(fd, viommu_id,
				   IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
				   sizeof(struct iommu_viommu_arm_smmuv3_invalidate),
				   cmds, num, 0, done);
}

/* Mock pSMMU command queues and cache models */

/*
 * Read up to @max of the most recent commands a pSMMU executed into @cmds
 * (two words each); *@num gets how many, *@total how many were executed
 * since the log was last cleared. @clear empties the log afterwards.
 */
static inline int mock_cmdq_log(int mfd, uint32_t psmmu, int clear,
				void *cmds, uint32_t max, uint32_t *num,
				uint64_t *total)
{
	struct mock_smmu_cmdq_log cmd = {
		.psmmu = psmmu,
		.flags = clear ? MOCK_SMMU_CMDQ_LOG_CLEAR : 0,
		.num = max,
		.uptr = (uintptr_t)cmds,
	};
	int rc = ioctl_errno(mfd, MOCK_SMMU_CMDQ_LOG, &cmd);

	if (!rc && num)
		*num = cmd.num;
	if (!rc && total)
		*total = cmd.total;
	return rc;
}

/* mock_cmdq_log() returning how many commands it read, or -errno */
static inline int mock_cmdq_log_num(int mfd, uint32_t psmmu, int clear,
				    void *cmds, uint32_t max, uint64_t *total)
{
	uint32_t num;
	int rc = mock_cmdq_log(mfd, psmmu, clear, cmds, max, &num, total);

	return rc ? rc : (int)num;
}

static inline int mock_cmdq_log_clear(int mfd, uint32_t psmmu)
{
	return mock_cmdq_log(mfd, psmmu, 1, NULL, 0, NULL, NULL);
}

static inline int mock_cache_fill(int mfd, uint32_t psmmu,
				  const struct mock_smmu_cache_entry *ents,
				  uint32_t num)
{
	struct mock_smmu_cache cmd = {
		.psmmu = psmmu,
		.num = num,
		.uptr = (uintptr_t)ents,
	};

	return ioctl_errno(mfd, MOCK_SMMU_CACHE_FILL, &cmd);
}

/* Read up to @max entries; *@num gets how many were read, *@total all */
static inline int mock_cache_read(int mfd, uint32_t psmmu,
				  struct mock_smmu_cache_entry *ents,
				  uint32_t max, uint32_t *num, uint64_t *total)
{
	struct mock_smmu_cache cmd = {
		.psmmu = psmmu,
		.num = max,
		.uptr = (uintptr_t)ents,
	};
	int rc = ioctl_errno(mfd, MOCK_SMMU_CACHE_READ, &cmd);

	if (!rc && num)
		*num = cmd.num;
	if (!rc && total)
		*total = cmd.total;
	return rc;
}

/* mock_cache_read() returning how many entries it read, or -errno */
static inline int mock_cache_read_num(int mfd, uint32_t psmmu,
				      struct mock_smmu_cache_entry *ents,
				      uint32_t max, uint64_t *total)
{
	uint32_t num;
	int rc = mock_cache_read(mfd, psmmu, ents, max, &num, total);

	return rc ? rc : (int)num;
}

static inline int mock_inject_fault(int mfd, uint32_t psmmu, uint32_t kind)
{
	struct mock_smmu_fault cmd = { .psmmu = psmmu, .kind = kind };

	return ioctl_errno(mfd, MOCK_SMMU_INJECT_FAULT, &cmd);
}

/* @num commands of two words each on a pSMMU's queue, and a CMD_SYNC */
static inline int mock_cmdq_raw(int mfd, uint32_t psmmu, const void *cmds,
				uint32_t num)
{
	struct mock_smmu_cmdq_raw cmd = {
		.psmmu = psmmu,
		.num = num,
		.uptr = (uintptr_t)cmds,
	};

	return ioctl_errno(mfd, MOCK_SMMU_CMDQ_RAW, &cmd);
}

#ifdef __KSELFTEST_HARNESS_H
/*
 * The start of the set-up of a fixture using @want pSMMUs: iommufd opened
 * into *@fd, the mock SMMU into *@mfd and its pSMMUs (1 to @max) counted
 * into *@nr. Return false, the test skipped, if there are fewer than @want.
 */
static inline bool viommu_fixture_open(struct __test_metadata *_metadata,
				       int *fd, int *mfd, int *nr, int max,
				       int want)
{
	*fd = iommufd_open();
	ASSERT_LE(0, *fd);
	*mfd = mock_open();
	ASSERT_LE(0, *mfd);
	*nr = mock_num_psmmus(*mfd);
	ASSERT_LE(1, *nr);
	ASSERT_GE(max, *nr);
	if (*nr < want)
		SKIP(return false, "needs %d pSMMUs, the module has %d",
		     want, *nr);
	return true;
}

/* The mock's counters of its pSMMUs 0 to @nr - 1 into @cnt[] */
static inline void mock_read_counters(struct __test_metadata *_metadata,
				      int mfd, int nr,
				      struct mock_smmu_counters *cnt)
{
	int i;

	for (i = 0; i < nr; i++) {
		ASSERT_EQ(0, mock_get_counters(mfd, i, &cnt[i]));
		ASSERT_EQ(i, cnt[i].psmmu);
	}
}

/*
 * One call between the counters @a and @b of @nr pSMMUs synced exactly the
 * pSMMUs of @mask, one CMD_SYNC each, and wrote every one of those
 * CMD_SYNCs before it waited for any (the mock numbers each sync start and
 * wait in one sequence common to all pSMMUs). No other pSMMU got one.
 */
static inline void mock_assert_syncs_overlap(struct __test_metadata *_metadata,
					     const struct mock_smmu_counters *a,
					     const struct mock_smmu_counters *b,
					     int nr, uint64_t mask,
					     const char *what)
{
	uint64_t seq0 = 0, last_start = 0, first_wait = ~0ULL;
	int p;

	for (p = 0; p < nr; p++) {
		if (a[p].sync_start_seq > seq0)
			seq0 = a[p].sync_start_seq;
		if (a[p].sync_wait_seq > seq0)
			seq0 = a[p].sync_wait_seq;
	}
	for (p = 0; p < nr; p++) {
		if (!(mask & (1ULL << p))) {
			ASSERT_EQ(a[p].syncs, b[p].syncs)
				TH_LOG("%s: pSMMU %d synced", what, p);
			ASSERT_EQ(a[p].sync_start_seq, b[p].sync_start_seq)
				TH_LOG("%s: pSMMU %d synced", what, p);
			continue;
		}
		ASSERT_EQ(a[p].syncs + 1, b[p].syncs)
			TH_LOG("%s: pSMMU %d", what, p);
		ASSERT_LT(seq0, b[p].sync_start_seq)
			TH_LOG("%s: pSMMU %d", what, p);
		ASSERT_LT(b[p].sync_start_seq, b[p].sync_wait_seq)
			TH_LOG("%s: pSMMU %d", what, p);
		if (b[p].sync_start_seq > last_start)
			last_start = b[p].sync_start_seq;
		if (b[p].sync_wait_seq < first_wait)
			first_wait = b[p].sync_wait_seq;
	}
	ASSERT_LT(last_start, first_wait)
		TH_LOG("%s: a wait began before the last CMD_SYNC was written",
		       what);
}
#endif

/*
 * xorshift32: reproducible pseudo-random test input. A test seeds
 * rnd_state with a non-zero value before its first rnd().
 */
static uint32_t rnd_state;

static inline uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

#endif /* __IOMMUFD_VIOMMU_UTILS_H */
