/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vSMMU invalidation dispatcher of iommufd.ko: executes a guest's batch of
 * ARM SMMUv3 invalidation commands on the physical SMMUs (pSMMUs) a vIOMMU
 * spans.
 *
 * A driver whose vIOMMUs model SMMUv3 describes, per vIOMMU, the pSMMUs it
 * spans in a struct iommufd_vsmmu (each with its own VMID, features and
 * command queue callbacks), gives every vDEVICE a struct iommufd_vsmmu_vdev
 * as its private data, reports attach/detach of stage-1 nested domains with
 * iommufd_vsmmu_s1_attached(), and calls iommufd_vsmmu_invalidate() from its
 * cache_invalidate callback.
 */
#ifndef __LINUX_IOMMUFD_VSMMU_H
#define __LINUX_IOMMUFD_VSMMU_H

#include <linux/atomic.h>
#include <linux/types.h>

struct iommu_user_data_array;
struct iommufd_viommu;

/**
 * struct iommufd_vsmmu_cmdq_ops - command queue of one pSMMU
 * @issue: Write @num commands (@cmds holds 2 * @num words in CPU order) to
 *         the pSMMU's command queue, in order; may sleep while it is full.
 *         Return 0 or an errno if the queue failed.
 * @sync: Issue a CMD_SYNC and wait until every command before it has
 *        completed. Return 0, -ETIMEDOUT or the queue's error.
 */
struct iommufd_vsmmu_cmdq_ops {
	int (*issue)(void *cookie, const u64 *cmds, unsigned int num);
	int (*sync)(void *cookie);
};

/**
 * struct iommufd_vsmmu_pinst - one pSMMU spanned by a vSMMU
 * @cookie: The driver's handle of the pSMMU, passed to @ops
 * @ops: Its command queue
 * @vmid: The VMID this pSMMU allocated for the vSMMU
 * @asid_bits: ASID width of the pSMMU, 8 or 16
 * @range_inv: The pSMMU implements range invalidation (IDR3.RIL)
 * @ats: The pSMMU implements ATS, so ATC_INV is meaningful
 * @ssid_bits: SubstreamID width, 0 if the pSMMU has no substreams
 * @s1_attached: Devices behind this pSMMU attached to a stage-1 translating
 *               nested domain of the vSMMU; VMID-scoped TLB invalidations
 *               are sent to the pSMMU only while this is not zero
 */
struct iommufd_vsmmu_pinst {
	void *cookie;
	const struct iommufd_vsmmu_cmdq_ops *ops;
	u16 vmid;
	u8 asid_bits;
	bool range_inv;
	bool ats;
	u8 ssid_bits;
	atomic_t s1_attached;
};

/**
 * struct iommufd_vsmmu - the pSMMUs a vSMMU spans
 * @viommu: The vIOMMU
 * @num_pinsts: Number of entries in @pinst
 * @pinst: The spanned pSMMUs
 */
struct iommufd_vsmmu {
	struct iommufd_viommu *viommu;
	unsigned int num_pinsts;
	struct iommufd_vsmmu_pinst pinst[] __counted_by(num_pinsts);
};

/**
 * struct iommufd_vsmmu_vdev - where a vDEVICE's commands go
 * @pidx: Index in iommufd_vsmmu::pinst of the device's pSMMU
 * @psid: The device's physical StreamID on it
 *
 * The private data of every vDEVICE of a vSMMU must start with this.
 */
struct iommufd_vsmmu_vdev {
	unsigned int pidx;
	u32 psid;
};

void iommufd_vsmmu_s1_attached(struct iommufd_vsmmu *vsmmu,
			       unsigned int pidx, bool attached);
int iommufd_vsmmu_invalidate(struct iommufd_vsmmu *vsmmu,
			     struct iommu_user_data_array *array);

#endif /* __LINUX_IOMMUFD_VSMMU_H */
