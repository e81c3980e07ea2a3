// SPDX-License-Identifier: GPL-2.0-only
/*
 * The vIOMMU object: IOMMU_VIOMMU_ALLOC and nested HWPTs allocated on a
 * vIOMMU. IOMMU_HWPT_INVALIDATE on a vIOMMU goes straight to the driver's
 * cache_invalidate (hw_pagetable.c).
 *
 * A vIOMMU is backed by the physical IOMMU instance of the device it was
 * allocated for. With IOMMU_VIOMMU_ALLOC_FLAG_SPAN (an extension of this
 * project) it may also serve devices behind the other instances of the same
 * driver; the driver keeps whatever per-instance state that needs.
 */
#include <linux/device.h>
#include <linux/iommu.h>
#include <uapi/linux/iommufd.h>

#include "viommu.h"

/**
 * iommufd_viommu_serves() - Whether a device may be used with a vIOMMU
 * @viommu: The vIOMMU
 * @dev: A bound device
 *
 * Upstream's rule is that the device must be behind the vIOMMU's physical
 * IOMMU instance. A spanning vIOMMU also accepts devices behind any other
 * instance of the same driver; its driver may still refuse them.
 *
 * Return: true if @dev may get a vDEVICE or nested HWPT on @viommu.
 */
bool iommufd_viommu_serves(struct iommufd_viommu *viommu, struct device *dev)
{
	if (dev->iommu->iommu_dev == viommu->iommu_dev)
		return true;
	return (viommu->flags & IOMMU_VIOMMU_ALLOC_FLAG_SPAN) &&
	       dev_iommu_ops(dev) == viommu->drv->iommu_ops;
}

int iommufd_viommu_alloc_ioctl(struct iommufd_ucmd *ucmd)
{
	struct iommu_viommu_alloc *cmd = ucmd->cmd;
	const struct iommufd_viommu_driver *drv;
	struct iommufd_hwpt_paging *hwpt_paging;
	struct iommufd_viommu *viommu;
	struct iommufd_device *idev;
	size_t size;
	int rc;

	if ((cmd->flags & ~IOMMU_VIOMMU_ALLOC_FLAG_SPAN) ||
	    cmd->type == IOMMU_VIOMMU_TYPE_DEFAULT)
		return -EOPNOTSUPP;

	idev = iommufd_get_device(ucmd, cmd->dev_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);

	drv = iommufd_viommu_driver_get(dev_iommu_ops(idev->dev));
	if (!drv) {
		rc = -EOPNOTSUPP;
		goto out_put_idev;
	}

	/* 6.14's order: the parent is checked before the driver's type */
	hwpt_paging = iommufd_get_hwpt_paging(ucmd, cmd->hwpt_id);
	if (IS_ERR(hwpt_paging)) {
		rc = PTR_ERR(hwpt_paging);
		goto out_put_drv;
	}
	if (!hwpt_paging->nest_parent ||
	    hwpt_paging->common.domain->owner != drv->iommu_ops) {
		rc = -EINVAL;
		goto out_put_hwpt;
	}

	size = drv->get_viommu_size(idev->dev, cmd->type);
	/* Smaller than the core structure is a driver bug */
	if (!size || WARN_ON_ONCE(size < sizeof(*viommu))) {
		rc = -EOPNOTSUPP;
		goto out_put_hwpt;
	}

	viommu = (struct iommufd_viommu *)_iommufd_object_alloc(ucmd->ictx,
				size, IOMMUFD_OBJ_VIOMMU);
	if (IS_ERR(viommu)) {
		rc = PTR_ERR(viommu);
		goto out_put_hwpt;
	}
	viommu->drv = drv;
	drv = NULL;	/* the object owns the module reference now */
	viommu->ictx = ucmd->ictx;
	viommu->type = cmd->type;
	viommu->flags = cmd->flags;
	viommu->iommu_dev = idev->dev->iommu->iommu_dev;
	viommu->hwpt = hwpt_paging;
	refcount_inc(&hwpt_paging->common.obj.users);
	init_rwsem(&viommu->vdevs_rwsem);
	xa_init(&viommu->vdevs);
	INIT_LIST_HEAD(&viommu->veventqs);
	init_rwsem(&viommu->veventqs_rwsem);

	rc = viommu->drv->viommu_init(viommu, hwpt_paging->common.domain, NULL);
	if (rc)
		goto out_abort;
	/* A driver that sets no ops is buggy */
	if (WARN_ON_ONCE(!viommu->ops)) {
		rc = -EOPNOTSUPP;
		goto out_abort;
	}

	cmd->out_viommu_id = viommu->obj.id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		goto out_abort;
	iommufd_object_finalize(ucmd->ictx, &viommu->obj);
	goto out_put_hwpt;

out_abort:
	iommufd_object_abort_and_destroy(ucmd->ictx, &viommu->obj);
out_put_hwpt:
	iommufd_put_object(ucmd->ictx, &hwpt_paging->common.obj);
out_put_drv:
	if (drv)
		iommufd_viommu_driver_put(drv);
out_put_idev:
	iommufd_put_object(ucmd->ictx, &idev->obj);
	return rc;
}

void iommufd_viommu_destroy(struct iommufd_object *obj)
{
	struct iommufd_viommu *viommu =
		container_of(obj, struct iommufd_viommu, obj);

	/* Every vDEVICE holds the vIOMMU, so none is left */
	WARN_ON(!xa_empty(&viommu->vdevs));
	/* and so does every vEVENTQ */
	WARN_ON(!list_empty(&viommu->veventqs));
	if (viommu->ops && viommu->ops->destroy)
		viommu->ops->destroy(viommu);
	xa_destroy(&viommu->vdevs);
	refcount_dec(&viommu->hwpt->common.obj.users);
	iommufd_viommu_driver_put(viommu->drv);
}

/**
 * iommufd_viommu_alloc_hwpt_nested() - IOMMU_HWPT_ALLOC with a vIOMMU pt_id
 * @ictx: iommufd context
 * @viommu: The vIOMMU named by pt_id
 * @idev: The device named by dev_id
 * @flags: IOMMU_HWPT_ALLOC flags; only IOMMU_HWPT_FAULT_ID_VALID is allowed
 * @user_data: The driver-specific data, e.g. a guest STE
 *
 * The nested HWPT translates with the guest's stage-1 on top of the
 * vIOMMU's nesting parent and holds a users reference on the vIOMMU, not on
 * the parent directly.
 *
 * Return: the new, not yet finalized HWPT or an ERR_PTR: -EINVAL if the
 * vIOMMU cannot serve @idev, -EOPNOTSUPP for unknown flags, missing data or
 * a driver without nested domains, or the driver's error.
 */
struct iommufd_hwpt_nested *
iommufd_viommu_alloc_hwpt_nested(struct iommufd_ctx *ictx,
				 struct iommufd_viommu *viommu,
				 struct iommufd_device *idev, u32 flags,
				 const struct iommu_user_data *user_data)
{
	struct iommufd_hwpt_nested *hwpt_nested;
	struct iommufd_hw_pagetable *hwpt;
	int rc;

	if (!iommufd_viommu_serves(viommu, idev->dev))
		return ERR_PTR(-EINVAL);
	if ((flags & ~IOMMU_HWPT_FAULT_ID_VALID) || !user_data->len ||
	    !viommu->ops->alloc_domain_nested)
		return ERR_PTR(-EOPNOTSUPP);

	hwpt_nested = __iommufd_object_alloc(ictx, hwpt_nested,
					     IOMMUFD_OBJ_HWPT_NESTED,
					     common.obj);
	if (IS_ERR(hwpt_nested))
		return ERR_CAST(hwpt_nested);
	hwpt = &hwpt_nested->common;
	hwpt_nested->viommu = viommu;
	hwpt_nested->parent = viommu->hwpt;
	refcount_inc(&viommu->obj.users);

	flags &= ~IOMMU_HWPT_FAULT_ID_VALID;
	hwpt->domain = viommu->ops->alloc_domain_nested(viommu, flags,
							user_data);
	if (IS_ERR(hwpt->domain)) {
		rc = PTR_ERR(hwpt->domain);
		hwpt->domain = NULL;
		goto out_abort;
	}
	hwpt->domain->owner = viommu->drv->iommu_ops;
	if (WARN_ON_ONCE(hwpt->domain->type != IOMMU_DOMAIN_NESTED)) {
		rc = -EINVAL;
		goto out_abort;
	}
	return hwpt_nested;

out_abort:
	iommufd_object_abort_and_destroy(ictx, &hwpt->obj);
	return ERR_PTR(rc);
}

/**
 * iommufd_viommu_find_vdev() - Look a virtual device ID up
 * @viommu: The vIOMMU; the caller holds its vDEVICE lock
 *          (&viommu->vdevs_rwsem) for reading
 * @vdev_id: The guest's ID of a device, e.g. a virtual StreamID
 *
 * The vDEVICE and the driver's structure around it stay valid until the
 * caller drops the vDEVICE lock.
 *
 * Return: the vDEVICE bound to @vdev_id, or NULL.
 */
struct iommufd_vdevice *iommufd_viommu_find_vdev(struct iommufd_viommu *viommu,
						 unsigned long vdev_id)
{
	lockdep_assert_held(&viommu->vdevs_rwsem);
	return xa_load(&viommu->vdevs, vdev_id);
}
EXPORT_SYMBOL_NS_GPL(iommufd_viommu_find_vdev, IOMMUFD);
