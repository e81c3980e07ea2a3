/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The selftest vIOMMU of the test build (make test-upstream): a second
 * driver of this project's vIOMMU core, beside the SMMUv3 one, serving the
 * devices of 6.12's selftest mock (selftest.c, patched by
 * patches/iommufd-test/).
 */
#ifndef __IOMMUFD_SELFTEST_VIOMMU_H
#define __IOMMUFD_SELFTEST_VIOMMU_H

#include <linux/types.h>

struct device;
struct iommu_ops;
struct iommufd_ucmd;

/* selftest_viommu.c */
int iommufd_selftest_viommu_register(const struct iommu_ops *mock_ops);
void iommufd_selftest_viommu_unregister(void);
int iommufd_selftest_dev_check_cache(struct iommufd_ucmd *ucmd, u32 idev_id,
				     u32 cache_id, u32 cache);
int iommufd_selftest_trigger_vevent(struct iommufd_ucmd *ucmd, u32 dev_id);

/* selftest.c: the cache entries of a mock device, NULL for another device */
u32 *iommufd_selftest_dev_cache(struct device *dev);

#endif /* __IOMMUFD_SELFTEST_VIOMMU_H */
