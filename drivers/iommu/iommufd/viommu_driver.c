// SPDX-License-Identifier: GPL-2.0-only
/*
 * Registry of the IOMMU drivers that support vIOMMUs.
 *
 * 6.12's struct iommu_ops cannot carry upstream's get_viommu_size and
 * viommu_init, so a driver registers them in a struct iommufd_viommu_driver
 * keyed by its iommu_ops, and the core looks it up with dev_iommu_ops() of
 * the device a vIOMMU is allocated for. This registry is the one place
 * where the driver API deviates from upstream's.
 */
#include <linux/iommu.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>

#include "viommu.h"

struct iommufd_viommu_driver_entry {
	struct list_head node;
	const struct iommufd_viommu_driver *drv;
};

static LIST_HEAD(viommu_drivers);
static DEFINE_MUTEX(viommu_drivers_lock);

static struct iommufd_viommu_driver_entry *
viommu_driver_find(const struct iommu_ops *ops)
{
	struct iommufd_viommu_driver_entry *entry;

	lockdep_assert_held(&viommu_drivers_lock);
	list_for_each_entry(entry, &viommu_drivers, node)
		if (entry->drv->iommu_ops == ops)
			return entry;
	return NULL;
}

/**
 * iommufd_viommu_register_driver() - Declare the vIOMMU support of a driver
 * @drv: Callbacks and iommu_ops of the driver; must stay valid until
 *       iommufd_viommu_unregister_driver()
 *
 * Return: 0, -EINVAL for an incomplete @drv, -EEXIST if its iommu_ops are
 * registered already, or -ENOMEM.
 */
int iommufd_viommu_register_driver(const struct iommufd_viommu_driver *drv)
{
	struct iommufd_viommu_driver_entry *entry;
	int rc = 0;

	if (!drv->iommu_ops || !drv->get_viommu_size || !drv->viommu_init)
		return -EINVAL;

	entry = kzalloc(sizeof(*entry), GFP_KERNEL);
	if (!entry)
		return -ENOMEM;
	entry->drv = drv;

	mutex_lock(&viommu_drivers_lock);
	if (viommu_driver_find(drv->iommu_ops))
		rc = -EEXIST;
	else
		list_add_tail(&entry->node, &viommu_drivers);
	mutex_unlock(&viommu_drivers_lock);
	if (rc)
		kfree(entry);
	return rc;
}
EXPORT_SYMBOL_NS_GPL(iommufd_viommu_register_driver, IOMMUFD);

/**
 * iommufd_viommu_unregister_driver() - Withdraw the vIOMMU support of a driver
 * @drv: What iommufd_viommu_register_driver() was given
 *
 * No vIOMMU of the driver can exist at this point: each one pins the
 * driver's module, so this is called from the module's exit path only once
 * they are all destroyed.
 */
void iommufd_viommu_unregister_driver(const struct iommufd_viommu_driver *drv)
{
	struct iommufd_viommu_driver_entry *entry;

	mutex_lock(&viommu_drivers_lock);
	entry = viommu_driver_find(drv->iommu_ops);
	if (!WARN_ON(!entry || entry->drv != drv))
		list_del(&entry->node);
	else
		entry = NULL;
	mutex_unlock(&viommu_drivers_lock);
	kfree(entry);
}
EXPORT_SYMBOL_NS_GPL(iommufd_viommu_unregister_driver, IOMMUFD);

/**
 * iommufd_viommu_driver_get() - Find the vIOMMU support for an iommu_ops
 * @ops: The iommu_ops of a device
 *
 * Return: the registered driver with a reference on its module, or NULL if
 * the driver has no vIOMMU support (or is being unloaded).
 */
const struct iommufd_viommu_driver *
iommufd_viommu_driver_get(const struct iommu_ops *ops)
{
	const struct iommufd_viommu_driver *drv = NULL;
	struct iommufd_viommu_driver_entry *entry;

	mutex_lock(&viommu_drivers_lock);
	entry = viommu_driver_find(ops);
	if (entry && try_module_get(entry->drv->owner))
		drv = entry->drv;
	mutex_unlock(&viommu_drivers_lock);
	return drv;
}

/**
 * iommufd_viommu_driver_put() - Drop what iommufd_viommu_driver_get() took
 * @drv: The driver
 */
void iommufd_viommu_driver_put(const struct iommufd_viommu_driver *drv)
{
	module_put(drv->owner);
}
