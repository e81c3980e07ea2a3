/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vIOMMU and vDEVICE objects of iommufd: what this project's files and the
 * hooks patched into the 6.12 iommufd sources share. The objects themselves
 * are in <linux/iommufd_viommu.h>, where drivers see them.
 */
#ifndef __IOMMUFD_VIOMMU_H
#define __IOMMUFD_VIOMMU_H

#include <linux/iommufd_viommu.h>

#include "iommufd_private.h"

struct iommu_user_data;

/* viommu_driver.c */
const struct iommufd_viommu_driver *
iommufd_viommu_driver_get(const struct iommu_ops *ops);
void iommufd_viommu_driver_put(const struct iommufd_viommu_driver *drv);

/* viommu.c */
bool iommufd_viommu_serves(struct iommufd_viommu *viommu, struct device *dev);
int iommufd_viommu_alloc_ioctl(struct iommufd_ucmd *ucmd);
void iommufd_viommu_destroy(struct iommufd_object *obj);
struct iommufd_hwpt_nested *
iommufd_viommu_alloc_hwpt_nested(struct iommufd_ctx *ictx,
				 struct iommufd_viommu *viommu,
				 struct iommufd_device *idev, u32 flags,
				 const struct iommu_user_data *user_data);

/* vdevice.c */
int iommufd_vdevice_alloc_ioctl(struct iommufd_ucmd *ucmd);
void iommufd_vdevice_destroy(struct iommufd_object *obj);
void iommufd_device_remove_vdevice(struct iommufd_device *idev);

/* device.c (patches/iommufd) */
void iommufd_put_group(struct iommufd_group *group);

#endif /* __IOMMUFD_VIOMMU_H */
