/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers of the vSMMU dispatcher kselftest and benchmark
 * (iommufd_vsmmu_dispatch.c, iommufd_vsmmu_bench.c): SMMUv3 command
 * encoding, IOMMU_HWPT_INVALIDATE on a vIOMMU, nested HWPTs from guest STEs,
 * and the mock pSMMU read-back (command log, cache model). Everything is
 * prefixed vd_/VD_ so that it cannot clash with iommufd_viommu_utils.h.
 */
#ifndef __IOMMUFD_VSMMU_DISPATCH_H
#define __IOMMUFD_VSMMU_DISPATCH_H

#include <stdint.h>
#include <time.h>

#include "iommufd_viommu_utils.h"

/* SMMUv3 opcodes a guest may forward, and the driver's CMD_SYNC */
#define VD_OP_CFGI_CD		0x05
#define VD_OP_CFGI_CD_ALL	0x06
#define VD_OP_TLBI_NH_ALL	0x10
#define VD_OP_TLBI_NH_ASID	0x11
#define VD_OP_TLBI_NH_VA	0x12
#define VD_OP_TLBI_NH_VAA	0x13
#define VD_OP_TLBI_NSNH_ALL	0x30
#define VD_OP_ATC_INV		0x40
#define VD_OP_CMD_SYNC		0x46

/* Word 0 fields (values masked to the field) */
#define VD_GLOBAL		_BITULL(9)
#define VD_SSV			_BITULL(11)
#define VD_SSID(x)		(((uint64_t)(x) & 0xfffff) << 12)
#define VD_SID(x)		(((uint64_t)(x) & 0xffffffff) << 32)
#define VD_NUM(x)		(((uint64_t)(x) & 0x1f) << 12)
#define VD_SCALE(x)		(((uint64_t)(x) & 0x1f) << 20)
#define VD_VMID(x)		(((uint64_t)(x) & 0xffff) << 32)
#define VD_ASID(x)		(((uint64_t)(x) & 0xffff) << 48)
#define VD_M_SID		(0xffffffffULL << 32)
#define VD_M_VMID		(0xffffULL << 32)
/* Word 1 fields */
#define VD_LEAF			1ULL
#define VD_TTL(x)		(((uint64_t)(x) & 3) << 8)
#define VD_TG(x)		(((uint64_t)(x) & 3) << 10)
#define VD_ATC_SIZE(x)		((uint64_t)(x) & 0x3f)

/* The CMD_SYNC the mock driver appends: CS = SEV, no MSI */
#define VD_SYNC0		0x2046ULL
#define VD_SYNC1		0ULL

/* Commands a pSMMU gathers before the dispatcher ends a round and syncs */
#define VD_ROUND		128
/* IOMMU_HWPT_INVALIDATE's entry_num cap (Debian 6.12) */
#define VD_MAX_ENTRIES		0x80000U	/* 2^19 */

/* Guest STE words (architecture) */
#define VD_STE0_V		1ULL
#define VD_STE0_CFG(x)		((uint64_t)(x) << 1)
#define VD_STE0_S1CTXPTR(x)	((uint64_t)(x) & 0x000fffffffffffc0ULL)
#define VD_STE_CFG_BYPASS	4
#define VD_STE_CFG_S1		5

/* One command: two words, as both the guest and a pSMMU's log hold it */
struct vd_cmd {
	uint64_t w[2];
};

static inline struct vd_cmd vd_cmd(uint64_t w0, uint64_t w1)
{
	struct vd_cmd c = { { w0, w1 } };

	return c;
}

static inline unsigned int vd_op(const struct vd_cmd *c)
{
	return c->w[0] & 0xff;
}

static inline uint32_t vd_sid(const struct vd_cmd *c)
{
	return c->w[0] >> 32;
}

/* ATC_INV, CFGI_CD, CFGI_CD_ALL: routed by the virtual StreamID */
static inline int vd_op_sid_scoped(unsigned int op)
{
	return op == VD_OP_ATC_INV || op == VD_OP_CFGI_CD ||
	       op == VD_OP_CFGI_CD_ALL;
}

static inline int vd_is_sync(const struct vd_cmd *c)
{
	return c->w[0] == VD_SYNC0 && c->w[1] == VD_SYNC1;
}

/*
 * What the dispatcher sends to a pSMMU for a VMID-scoped guest command:
 * the VMID replaced; TLBI_NSNH_ALL becomes TLBI_NH_ALL with word 1 clear.
 */
static inline struct vd_cmd vd_tlbi_for(const struct vd_cmd *g, uint16_t vmid)
{
	if (vd_op(g) == VD_OP_TLBI_NSNH_ALL)
		return vd_cmd(VD_OP_TLBI_NH_ALL | VD_VMID(vmid), 0);
	return vd_cmd((g->w[0] & ~VD_M_VMID) | VD_VMID(vmid), g->w[1]);
}

/* A SID-scoped guest command with its StreamID replaced by @psid */
static inline struct vd_cmd vd_sid_for(const struct vd_cmd *g, uint32_t psid)
{
	return vd_cmd((g->w[0] & ~VD_M_SID) | VD_SID(psid), g->w[1]);
}

/*
 * IOMMU_HWPT_INVALIDATE on a vIOMMU with @num guest commands. Return 0 or
 * -errno; *@done gets entry_num as the kernel wrote it back.
 */
static inline int vd_invalidate(int fd, uint32_t viommu_id,
				const struct vd_cmd *cmds, uint32_t num,
				uint32_t *done)
{
	struct iommu_hwpt_invalidate cmd = {
		.size = sizeof(cmd),
		.hwpt_id = viommu_id,
		.data_uptr = (uintptr_t)cmds,
		.data_type = IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
		.entry_len = sizeof(struct vd_cmd),
		.entry_num = num,
	};
	int rc = ioctl_errno(fd, IOMMU_HWPT_INVALIDATE, &cmd);

	if (done)
		*done = cmd.entry_num;
	return rc;
}

/* A nested HWPT on @viommu_id from a guest STE */
static inline int vd_nested_alloc(int fd, uint32_t dev_id, uint32_t viommu_id,
				  uint64_t ste0, uint64_t ste1,
				  uint32_t *hwpt_id)
{
	struct iommu_hwpt_arm_smmuv3 ste = { .ste = { ste0, ste1 } };

	return hwpt_alloc(fd, dev_id, viommu_id, 0, IOMMU_HWPT_DATA_ARM_SMMUV3,
			  &ste, sizeof(ste), hwpt_id);
}

/* Guest STE: stage-1 translate with a CD table at @cdptr */
static inline int vd_nested_alloc_s1(int fd, uint32_t dev_id,
				     uint32_t viommu_id, uint64_t cdptr,
				     uint32_t *hwpt_id)
{
	return vd_nested_alloc(fd, dev_id, viommu_id,
			       VD_STE0_V | VD_STE0_CFG(VD_STE_CFG_S1) |
			       VD_STE0_S1CTXPTR(cdptr), 0, hwpt_id);
}

/* Guest STE: bypass */
static inline int vd_nested_alloc_bypass(int fd, uint32_t dev_id,
					 uint32_t viommu_id, uint32_t *hwpt_id)
{
	return vd_nested_alloc(fd, dev_id, viommu_id,
			       VD_STE0_V | VD_STE0_CFG(VD_STE_CFG_BYPASS), 0,
			       hwpt_id);
}

/* The S2VMID of a device's physical STE (word 2, bits 15:0), or -errno */
static inline int vd_ste_vmid(int mfd, uint32_t psmmu, uint32_t sid)
{
	uint64_t ste[4];
	int rc = mock_get_ste(mfd, psmmu, sid, ste);

	return rc ? rc : (int)(ste[2] & MOCK_STE2_VMID_MASK);
}

/*
 * MOCK_SMMU_CMDQ_LOG. Return the number of commands stored in @cmds or
 * -errno; *@total gets the commands executed since the last clear.
 */
static inline int vd_log_read(int mfd, uint32_t psmmu, uint32_t flags,
			      struct vd_cmd *cmds, uint32_t num,
			      uint64_t *total)
{
	struct mock_smmu_cmdq_log arg = {
		.psmmu = psmmu,
		.flags = flags,
		.num = num,
		.uptr = (uintptr_t)cmds,
	};
	int rc = ioctl_errno(mfd, MOCK_SMMU_CMDQ_LOG, &arg);

	if (rc)
		return rc;
	if (total)
		*total = arg.total;
	return arg.num;
}

static inline int vd_log_clear(int mfd, uint32_t psmmu)
{
	int rc = vd_log_read(mfd, psmmu, MOCK_SMMU_CMDQ_LOG_CLEAR, NULL, 0,
			     NULL);

	return rc < 0 ? rc : 0;
}

/* The number of commands the pSMMU executed since its log was cleared */
static inline int vd_log_total(int mfd, uint32_t psmmu, uint64_t *total)
{
	int rc = vd_log_read(mfd, psmmu, 0, NULL, 0, total);

	return rc < 0 ? rc : 0;
}

static inline int vd_cache_fill(int mfd, uint32_t psmmu,
				const struct mock_smmu_cache_entry *ents,
				uint32_t num)
{
	struct mock_smmu_cache arg = {
		.psmmu = psmmu,
		.num = num,
		.uptr = (uintptr_t)ents,
	};

	return ioctl_errno(mfd, MOCK_SMMU_CACHE_FILL, &arg);
}

/* Return the number of entries read or -errno */
static inline int vd_cache_read(int mfd, uint32_t psmmu,
				struct mock_smmu_cache_entry *ents,
				uint32_t num, uint64_t *total)
{
	struct mock_smmu_cache arg = {
		.psmmu = psmmu,
		.num = num,
		.uptr = (uintptr_t)ents,
	};
	int rc = ioctl_errno(mfd, MOCK_SMMU_CACHE_READ, &arg);

	if (rc)
		return rc;
	if (total)
		*total = arg.total;
	return arg.num;
}

static inline double vd_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

#endif /* __IOMMUFD_VSMMU_DISPATCH_H */
