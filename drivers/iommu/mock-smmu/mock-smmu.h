/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Mock ARM SMMUv3 driver: internal definitions.
 *
 * Each mock pSMMU is a struct iommu_device of its own; they share one
 * struct iommu_ops, whose probe_device() picks the instance of a device.
 */
#ifndef __MOCK_SMMU_H
#define __MOCK_SMMU_H

#include <linux/iommu.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/xarray.h>

struct iommufd_device;

/* One mock physical SMMU instance. */
struct mock_psmmu {
	struct iommu_device iommu;
	unsigned int idx;
	/* ID registers reported through IOMMU_GET_HW_INFO */
	u32 idr[6];
	u32 iidr;
	u32 aidr;
	/* StreamID -> struct mock_dev, for the devices behind this instance */
	struct xarray streams;
};

/* A mock platform device with one StreamID, owned by a test's open file. */
struct mock_dev {
	struct platform_device *pdev;
	struct mock_psmmu *psmmu;
	u32 sid;
	u32 handle;
	/* Bound to an iommufd context, and attached to a HWPT */
	struct iommufd_device *idev;
	bool attached;
	/* The domain the device is attached to at the IOMMU level */
	struct iommu_domain *domain;
};

/* A paging domain backed by a software IOVA -> PA table. */
struct mock_domain {
	struct iommu_domain domain;
	bool nest_parent;
	/* IOVA page frame -> physical page frame (as xa_mk_value) */
	struct xarray pfns;
};

static inline struct mock_domain *to_mock_domain(struct iommu_domain *domain)
{
	return container_of(domain, struct mock_domain, domain);
}

extern const struct iommu_ops mock_smmu_ops;
extern struct iommu_domain mock_blocked_domain;
extern const struct device_type mock_dev_type;

struct mock_psmmu *mock_psmmu_get(unsigned int idx);
unsigned int mock_num_psmmus(void);
struct mock_dev *mock_dev_from_dev(struct device *dev);

struct iommu_domain *mock_domain_alloc_user(struct device *dev, u32 flags,
					    struct iommu_domain *parent,
					    const struct iommu_user_data *user_data);

int mock_ctl_init(void);
void mock_ctl_exit(void);

#endif /* __MOCK_SMMU_H */
