/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers of the vSMMU dispatcher kselftest and benchmark
 * (iommufd_vsmmu_dispatch.c, iommufd_vsmmu_bench.c): SMMUv3 command
 * encoding as the dispatcher rewrites it and nested HWPTs from guest STEs;
 * the ioctl wrappers and opcodes are those of iommufd_viommu_utils.h.
 * Everything is prefixed vd_/VD_ so that it cannot clash with it.
 */
#ifndef __IOMMUFD_VSMMU_DISPATCH_H
#define __IOMMUFD_VSMMU_DISPATCH_H

#include <stdint.h>

#include "iommufd_viommu_utils.h"

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
	if (vd_op(g) == SMMU_OP_TLBI_NSNH_ALL)
		return vd_cmd(SMMU_OP_TLBI_NH_ALL | VD_VMID(vmid), 0);
	return vd_cmd((g->w[0] & ~VD_M_VMID) | VD_VMID(vmid), g->w[1]);
}

/* A SID-scoped guest command with its StreamID replaced by @psid */
static inline struct vd_cmd vd_sid_for(const struct vd_cmd *g, uint32_t psid)
{
	return vd_cmd((g->w[0] & ~VD_M_SID) | VD_SID(psid), g->w[1]);
}

/* Guest STE: stage-1 translate with a CD table at @cdptr */
static inline int vd_nested_alloc_s1(int fd, uint32_t dev_id,
				     uint32_t viommu_id, uint64_t cdptr,
				     uint32_t *hwpt_id)
{
	return hwpt_alloc_nested_smmu(fd, dev_id, viommu_id,
				      VD_STE0_V | VD_STE0_CFG(VD_STE_CFG_S1) |
				      VD_STE0_S1CTXPTR(cdptr), 0, hwpt_id);
}

/* Guest STE: bypass */
static inline int vd_nested_alloc_bypass(int fd, uint32_t dev_id,
					 uint32_t viommu_id, uint32_t *hwpt_id)
{
	return hwpt_alloc_nested_smmu(fd, dev_id, viommu_id,
				      VD_STE0_V |
				      VD_STE0_CFG(VD_STE_CFG_BYPASS), 0,
				      hwpt_id);
}

/* The S2VMID of a device's physical STE (word 2, bits 15:0), or -errno */
static inline int vd_ste_vmid(int mfd, uint32_t psmmu, uint32_t sid)
{
	uint64_t ste[4];
	int rc = mock_get_ste(mfd, psmmu, sid, ste);

	return rc ? rc : (int)(ste[2] & MOCK_STE2_VMID_MASK);
}

#endif /* __IOMMUFD_VSMMU_DISPATCH_H */
