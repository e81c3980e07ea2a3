/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Driver-facing vIOMMU API of the out-of-tree iommufd.ko for Linux 6.12.
 *
 * The 6.12 struct iommu_ops has no vIOMMU callbacks, so an IOMMU driver
 * declares its vIOMMU support by registering a struct iommufd_viommu_driver
 * for its iommu_ops. iommufd's core then routes IOMMU_VIOMMU_ALLOC,
 * IOMMU_VDEVICE_ALLOC, IOMMU_HWPT_ALLOC on a vIOMMU and IOMMU_HWPT_INVALIDATE
 * on a vIOMMU to it. The core objects stay opaque; drivers keep their state
 * behind the private pointers of the vIOMMU and of each vDEVICE.
 */
#ifndef __LINUX_IOMMUFD_VIOMMU_H
#define __LINUX_IOMMUFD_VIOMMU_H

#include <linux/types.h>

struct device;
struct iommu_device;
struct iommu_domain;
struct iommu_ops;
struct iommu_user_data;
struct iommu_user_data_array;
struct module;
struct iommufd_viommu;
struct iommufd_vdevice;

/**
 * struct iommufd_viommu_driver - vIOMMU support of one IOMMU driver
 * @iommu_ops: The driver's iommu_ops; devices whose dev_iommu_ops() is this
 *             are served by this driver
 * @owner: Module of the driver; pinned while any of its vIOMMUs exists
 * @viommu_init: Set up the driver's state for a new vIOMMU of @type nesting
 *               on @parent, for the physical IOMMU of @dev. @flags carries
 *               the IOMMU_VIOMMU_ALLOC flags (IOMMU_VIOMMU_ALLOC_FLAG_SPAN
 *               asks to span every instance of the driver). Store the state
 *               with iommufd_viommu_set_priv(). Return -EOPNOTSUPP for an
 *               unsupported @type or device, another errno for other
 *               failures.
 * @viommu_destroy: Free what @viommu_init set up. Called once, after every
 *                  vDEVICE and nested domain of the vIOMMU is gone.
 * @vdevice_init: Accept a vDEVICE; iommufd_vdevice_dev() and
 *                iommufd_vdevice_virt_id() tell what it binds. Called under
 *                an iommufd lock (do not call back into iommufd), once its
 *                virtual ID is reserved and before the vDEVICE becomes
 *                visible to iommufd_viommu_find_vdev(). Return -EINVAL for a
 *                device the vIOMMU cannot serve. Optional.
 * @vdevice_destroy: Undo @vdevice_init. Called once the vDEVICE is no longer
 *                   visible to iommufd_viommu_find_vdev() and no invalidation
 *                   that found it is still running. Optional.
 * @virt_id_max: Largest virtual device ID of the vIOMMU type, for example
 *               U32_MAX for the 32-bit StreamIDs of ARM SMMUv3
 * @alloc_domain_nested: Allocate an IOMMU_DOMAIN_NESTED domain for @dev on
 *                       @viommu from @user_data (the data of
 *                       IOMMU_HWPT_ALLOC). Optional; without it nested HWPT
 *                       allocation fails with -EOPNOTSUPP.
 * @cache_invalidate: Execute an array of invalidation requests for the
 *                    vIOMMU. On return @array->entry_num must hold the
 *                    number of leading entries that were executed. Optional;
 *                    without it IOMMU_HWPT_INVALIDATE fails with -EOPNOTSUPP.
 */
struct iommufd_viommu_driver {
	const struct iommu_ops *iommu_ops;
	struct module *owner;
	int (*viommu_init)(struct iommufd_viommu *viommu, struct device *dev,
			   struct iommu_domain *parent, u32 type, u32 flags);
	void (*viommu_destroy)(struct iommufd_viommu *viommu);
	int (*vdevice_init)(struct iommufd_vdevice *vdev);
	void (*vdevice_destroy)(struct iommufd_vdevice *vdev);
	u64 virt_id_max;
	struct iommu_domain *
	(*alloc_domain_nested)(struct iommufd_viommu *viommu,
			       struct device *dev, u32 flags,
			       const struct iommu_user_data *user_data);
	int (*cache_invalidate)(struct iommufd_viommu *viommu,
				struct iommu_user_data_array *array);
};

int iommufd_viommu_register_driver(const struct iommufd_viommu_driver *drv);
void iommufd_viommu_unregister_driver(const struct iommufd_viommu_driver *drv);

void *iommufd_viommu_priv(struct iommufd_viommu *viommu);
void iommufd_viommu_set_priv(struct iommufd_viommu *viommu, void *priv);
u32 iommufd_viommu_type(struct iommufd_viommu *viommu);
u32 iommufd_viommu_flags(struct iommufd_viommu *viommu);
struct iommu_device *iommufd_viommu_iommu_dev(struct iommufd_viommu *viommu);
struct iommu_domain *iommufd_viommu_parent(struct iommufd_viommu *viommu);

void iommufd_viommu_lock_vdevs(struct iommufd_viommu *viommu);
void iommufd_viommu_unlock_vdevs(struct iommufd_viommu *viommu);
struct iommufd_vdevice *iommufd_viommu_find_vdev(struct iommufd_viommu *viommu,
						 u64 virt_id);

void *iommufd_vdevice_priv(struct iommufd_vdevice *vdev);
void iommufd_vdevice_set_priv(struct iommufd_vdevice *vdev, void *priv);
struct device *iommufd_vdevice_dev(struct iommufd_vdevice *vdev);
u64 iommufd_vdevice_virt_id(struct iommufd_vdevice *vdev);
struct iommufd_viommu *iommufd_vdevice_viommu(struct iommufd_vdevice *vdev);

#endif /* __LINUX_IOMMUFD_VIOMMU_H */
