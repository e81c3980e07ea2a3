/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vIOMMU and vDEVICE objects of iommufd: definitions shared by this
 * project's files and the hooks patched into the 6.12 iommufd sources.
 */
#ifndef __IOMMUFD_VIOMMU_H
#define __IOMMUFD_VIOMMU_H

#include <linux/iommufd_viommu.h>
#include <linux/rwsem.h>
#include <linux/xarray.h>

#include "iommufd_private.h"

struct iommu_user_data;

/**
 * struct iommufd_viommu - a virtual IOMMU (IOMMUFD_OBJ_VIOMMU)
 * @obj: iommufd object header
 * @ictx: iommufd context it lives in
 * @hwpt: Nesting parent; the vIOMMU holds a users reference on it
 * @iommu_dev: Physical IOMMU instance of the device it was allocated for
 * @drv: vIOMMU support of that instance's driver; its module is pinned
 * @type: enum iommu_viommu_type
 * @flags: enum iommu_viommu_alloc_flags given at allocation
 * @drv_ready: The driver's viommu_init() succeeded
 * @priv: Driver state, see iommufd_viommu_set_priv()
 * @vdevs_rwsem: Held for reading by users of iommufd_viommu_find_vdev(), for
 *               writing while a vDEVICE is unpublished
 * @vdevs: The vdev_id table: virt_id -> struct iommufd_vdevice
 */
struct iommufd_viommu {
	struct iommufd_object obj;
	struct iommufd_ctx *ictx;
	struct iommufd_hwpt_paging *hwpt;
	struct iommu_device *iommu_dev;
	const struct iommufd_viommu_driver *drv;
	u32 type;
	u32 flags;
	bool drv_ready;
	void *priv;
	struct rw_semaphore vdevs_rwsem;
	struct xarray vdevs;
};

/**
 * struct iommufd_vdevice - a device as a vIOMMU's guest sees it
 *                          (IOMMUFD_OBJ_VDEVICE)
 * @obj: iommufd object header
 * @viommu: vIOMMU it lives on; the vDEVICE holds a users reference on it
 * @idev: The bound device, NULL once the device was unbound; it links back
 *        through iommufd_device::vdev. Both links are protected by the lock
 *        in vdevice.c
 * @dev: The physical device (a reference is held)
 * @virt_id: The guest's ID for the device, key in @viommu->vdevs
 * @drv_ready: The driver's vdevice_init() succeeded
 * @published: The vDEVICE is in @viommu->vdevs
 * @priv: Driver state, see iommufd_vdevice_set_priv()
 */
struct iommufd_vdevice {
	struct iommufd_object obj;
	struct iommufd_viommu *viommu;
	struct iommufd_device *idev;
	struct device *dev;
	u64 virt_id;
	bool drv_ready;
	bool published;
	void *priv;
};

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
int iommufd_viommu_invalidate(struct iommufd_viommu *viommu,
			      struct iommu_user_data_array *array);

/* vdevice.c */
int iommufd_vdevice_alloc_ioctl(struct iommufd_ucmd *ucmd);
void iommufd_vdevice_destroy(struct iommufd_object *obj);
void iommufd_device_remove_vdevice(struct iommufd_device *idev);

#endif /* __IOMMUFD_VIOMMU_H */
