/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The driver-facing vIOMMU API of the out-of-tree iommufd.ko for Linux 6.12,
 * shaped as upstream's (Linux 6.13 and later) include/linux/iommufd.h.
 *
 * A driver embeds struct iommufd_viommu at the start of its own vIOMMU
 * structure and struct iommufd_vdevice at the start of its vDEVICE
 * structure (a static_assert() on offsetof() keeps them there), gives their
 * sizes, and implements struct iommufd_viommu_ops. The core allocates both
 * objects with the driver's sizes.
 *
 * One deviation from upstream: 6.12's struct iommu_ops has no
 * get_viommu_size/viommu_init members, so a driver registers them, keyed by
 * its iommu_ops, in a struct iommufd_viommu_driver.
 */
#ifndef __LINUX_IOMMUFD_VIOMMU_H
#define __LINUX_IOMMUFD_VIOMMU_H

#include <linux/refcount.h>
#include <linux/rwsem.h>
#include <linux/stddef.h>
#include <linux/types.h>
#include <linux/xarray.h>
#include <uapi/linux/iommufd.h>

struct device;
struct iommu_device;
struct iommu_domain;
struct iommu_ops;
struct iommu_user_data;
struct iommu_user_data_array;
struct iommufd_ctx;
struct iommufd_device;
struct iommufd_group;
struct iommufd_hwpt_paging;
struct iommufd_viommu_ops;
struct iommufd_viommu_driver;
struct module;

/* Moved here from 6.12's iommufd_private.h, as upstream 6.13 did */
enum iommufd_object_type {
	IOMMUFD_OBJ_NONE,
	IOMMUFD_OBJ_ANY = IOMMUFD_OBJ_NONE,
	IOMMUFD_OBJ_DEVICE,
	IOMMUFD_OBJ_HWPT_PAGING,
	IOMMUFD_OBJ_HWPT_NESTED,
	IOMMUFD_OBJ_IOAS,
	IOMMUFD_OBJ_ACCESS,
	IOMMUFD_OBJ_FAULT,
	IOMMUFD_OBJ_VIOMMU,
	IOMMUFD_OBJ_VDEVICE,
	IOMMUFD_OBJ_VEVENTQ,
#ifdef CONFIG_IOMMUFD_TEST
	IOMMUFD_OBJ_SELFTEST,
#endif
	IOMMUFD_OBJ_MAX,
};

/**
 * struct iommufd_object - header of every object with a userspace ID
 * @shortterm_users: References of running ioctls; destruction waits for them
 * @users: References that keep the object alive
 * @type: enum iommufd_object_type
 * @id: The ID userspace knows it by
 */
struct iommufd_object {
	refcount_t shortterm_users;
	refcount_t users;
	enum iommufd_object_type type;
	unsigned int id;
};

/**
 * struct iommufd_viommu - a virtual IOMMU (IOMMUFD_OBJ_VIOMMU)
 * @obj: iommufd object header
 * @ictx: iommufd context it lives in
 * @iommu_dev: Physical IOMMU instance of the device it was allocated for
 * @hwpt: Nesting parent; the vIOMMU holds a users reference on it
 * @ops: The driver's operations, set by its viommu_init
 * @vdevs: The vdev_id table: virtual device ID -> struct iommufd_vdevice
 * @vdevs_rwsem: The vDEVICE lock. Held for reading while a driver uses what
 *               iommufd_viommu_find_vdev() returned; a vDEVICE leaves @vdevs
 *               under it held for writing, so no work for a destroyed
 *               virtual ID is issued after IOMMU_DESTROY of it returned
 * @veventqs: Its vEVENTQs (struct iommufd_veventq), at most one per type
 * @veventqs_rwsem: Protects @veventqs: held for reading while an event is
 *                  reported, for writing while a vEVENTQ is added or removed
 * @type: enum iommu_viommu_type
 * @flags: enum iommu_viommu_alloc_flags (this project's extension
 *         IOMMU_VIOMMU_ALLOC_FLAG_SPAN); upstream has none
 * @drv: The registration of the driver, whose module the vIOMMU pins (the
 *       registry deviation above)
 */
struct iommufd_viommu {
	struct iommufd_object obj;
	struct iommufd_ctx *ictx;
	struct iommu_device *iommu_dev;
	struct iommufd_hwpt_paging *hwpt;
	const struct iommufd_viommu_ops *ops;
	struct xarray vdevs;
	struct rw_semaphore vdevs_rwsem;
	struct list_head veventqs;
	struct rw_semaphore veventqs_rwsem;
	u32 type;
	u32 flags;
	const struct iommufd_viommu_driver *drv;
};

/**
 * struct iommufd_vdevice - a device as a vIOMMU's guest sees it
 *                          (IOMMUFD_OBJ_VDEVICE)
 * @obj: iommufd object header
 * @viommu: vIOMMU it lives on; the vDEVICE holds a users reference on it
 * @idev: The bound device, NULL once the device was unbound
 * @igroup: The device's iommufd group, whose lock protects @idev and the
 *          device's link back to the vDEVICE; a reference is held
 * @dev: The physical device; a reference is held
 * @virt_id: The guest's ID of the device, e.g. the vSID of ARM SMMUv3: its
 *           key in @viommu->vdevs
 * @destroy: Set by the driver's vdevice_init to undo it; called once the
 *           vDEVICE left @viommu->vdevs and no user of the vDEVICE lock
 *           can still see it
 */
struct iommufd_vdevice {
	struct iommufd_object obj;
	struct iommufd_viommu *viommu;
	struct iommufd_device *idev;
	struct iommufd_group *igroup;
	struct device *dev;
	u64 virt_id;
	void (*destroy)(struct iommufd_vdevice *vdev);
};

/**
 * struct iommufd_viommu_ops - what a driver implements for its vIOMMUs
 * @destroy: Free what viommu_init set up; the core frees the structure.
 *           Called after every vDEVICE and nested HWPT of it is gone.
 * @alloc_domain_nested: Allocate an IOMMU_DOMAIN_NESTED domain from the
 *                       data of IOMMU_HWPT_ALLOC (@user_data), with the
 *                       IOMMU_HWPT_ALLOC @flags the core does not handle.
 *                       Return the domain or an ERR_PTR.
 * @cache_invalidate: Execute the invalidation requests of @array. On return
 *                    @array->entry_num holds the number of leading requests
 *                    that were executed.
 * @vdevice_size: Size of the driver's vDEVICE structure, which starts with
 *                struct iommufd_vdevice; 0 for a bare struct iommufd_vdevice
 * @vdevice_init: Accept a vDEVICE whose @dev, @viommu and @virt_id the core
 *                set; set @vdev->destroy to undo it. Called under the
 *                device's group lock, before the vDEVICE becomes visible to
 *                iommufd_viommu_find_vdev(). Return -EINVAL for a device or
 *                ID the vIOMMU cannot serve.
 *
 * The members are upstream's; HW queues do not exist here.
 */
struct iommufd_viommu_ops {
	void (*destroy)(struct iommufd_viommu *viommu);
	struct iommu_domain *
	(*alloc_domain_nested)(struct iommufd_viommu *viommu, u32 flags,
			       const struct iommu_user_data *user_data);
	int (*cache_invalidate)(struct iommufd_viommu *viommu,
				struct iommu_user_data_array *array);
	const size_t vdevice_size;
	int (*vdevice_init)(struct iommufd_vdevice *vdev);
};

/**
 * struct iommufd_viommu_driver - the vIOMMU entry points of an IOMMU driver
 * @iommu_ops: The driver's iommu_ops; devices whose dev_iommu_ops() is this
 *             are served by this driver
 * @owner: The driver's module; pinned while any of its vIOMMUs exists
 * @get_viommu_size: Size of the driver's vIOMMU structure, which starts with
 *                   struct iommufd_viommu, for a vIOMMU of @viommu_type
 *                   over @dev, or 0 if the driver cannot offer one
 * @viommu_init: Initialise the driver's part of @viommu, whose core fields
 *               are set, nesting on @parent_domain; @user_data is NULL or
 *               the data of IOMMU_VIOMMU_ALLOC. Set @viommu->ops.
 *
 * The two callbacks are those upstream adds to struct iommu_ops.
 */
struct iommufd_viommu_driver {
	const struct iommu_ops *iommu_ops;
	struct module *owner;
	size_t (*get_viommu_size)(struct device *dev, u32 viommu_type);
	int (*viommu_init)(struct iommufd_viommu *viommu,
			   struct iommu_domain *parent_domain,
			   const struct iommu_user_data *user_data);
};

int iommufd_viommu_register_driver(const struct iommufd_viommu_driver *drv);
void iommufd_viommu_unregister_driver(const struct iommufd_viommu_driver *drv);

struct iommufd_vdevice *iommufd_viommu_find_vdev(struct iommufd_viommu *viommu,
						 unsigned long vdev_id);
int iommufd_viommu_report_event(struct iommufd_viommu *viommu,
				enum iommu_veventq_type type,
				const void *event_data, size_t data_len);

#endif /* __LINUX_IOMMUFD_VIOMMU_H */
