// SPDX-License-Identifier: GPL-2.0-only
/*
 * The vIOMMU object: IOMMU_VIOMMU_ALLOC, nested HWPTs allocated on a vIOMMU,
 * and the entry of IOMMU_HWPT_INVALIDATE for a vIOMMU.
 *
 * A vIOMMU is backed by the physical IOMMU instance of the device it was
 * allocated for. With IOMMU_VIOMMU_ALLOC_FLAG_SPAN (an extension of this
 * project) it may also serve devices behind the other instances of the same
 * driver; the driver keeps whatever per-instance state that needs.
 */
#include <linux/device.h>
#include <linux/iommu.h>
#include <linux/slab.h>
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

	viommu = iommufd_object_alloc(ucmd->ictx, viommu, IOMMUFD_OBJ_VIOMMU);
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

	rc = viommu->drv->viommu_init(viommu, idev->dev,
				      hwpt_paging->common.domain, cmd->type,
				      cmd->flags);
	if (rc)
		goto out_abort;
	viommu->drv_ready = true;

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
	if (viommu->drv_ready)
		viommu->drv->viommu_destroy(viommu);
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
	    !viommu->drv->alloc_domain_nested)
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
	hwpt->domain = viommu->drv->alloc_domain_nested(viommu, idev->dev,
							flags, user_data);
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
 * iommufd_viommu_invalidate() - IOMMU_HWPT_INVALIDATE with a vIOMMU hwpt_id
 * @viommu: The vIOMMU
 * @array: The user's request array; on return entry_num holds the number of
 *         leading entries that were executed
 *
 * Return: 0, -EOPNOTSUPP if the driver cannot invalidate, or its error.
 */
int iommufd_viommu_invalidate(struct iommufd_viommu *viommu,
			      struct iommu_user_data_array *array)
{
	if (!viommu->drv->cache_invalidate) {
		array->entry_num = 0;
		return -EOPNOTSUPP;
	}
	return viommu->drv->cache_invalidate(viommu, array);
}

/**
 * iommufd_viommu_priv() - The driver state of a vIOMMU
 * @viommu: The vIOMMU
 *
 * Return: what the driver stored with iommufd_viommu_set_priv().
 */
void *iommufd_viommu_priv(struct iommufd_viommu *viommu)
{
	return viommu->priv;
}
EXPORT_SYMBOL_NS_GPL(iommufd_viommu_priv, IOMMUFD);

/**
 * iommufd_viommu_set_priv() - Attach driver state to a vIOMMU
 * @viommu: The vIOMMU, from the driver's viommu_init()
 * @priv: The state; the driver frees it in viommu_destroy()
 */
void iommufd_viommu_set_priv(struct iommufd_viommu *viommu, void *priv)
{
	viommu->priv = priv;
}
EXPORT_SYMBOL_NS_GPL(iommufd_viommu_set_priv, IOMMUFD);

/**
 * iommufd_viommu_type() - The type of a vIOMMU
 * @viommu: The vIOMMU
 *
 * Return: its enum iommu_viommu_type.
 */
u32 iommufd_viommu_type(struct iommufd_viommu *viommu)
{
	return viommu->type;
}
EXPORT_SYMBOL_NS_GPL(iommufd_viommu_type, IOMMUFD);

/**
 * iommufd_viommu_flags() - The allocation flags of a vIOMMU
 * @viommu: The vIOMMU
 *
 * Return: its enum iommu_viommu_alloc_flags.
 */
u32 iommufd_viommu_flags(struct iommufd_viommu *viommu)
{
	return viommu->flags;
}
EXPORT_SYMBOL_NS_GPL(iommufd_viommu_flags, IOMMUFD);

/**
 * iommufd_viommu_iommu_dev() - The physical IOMMU instance behind a vIOMMU
 * @viommu: The vIOMMU
 *
 * Return: the instance of the device the vIOMMU was allocated for.
 */
struct iommu_device *iommufd_viommu_iommu_dev(struct iommufd_viommu *viommu)
{
	return viommu->iommu_dev;
}
EXPORT_SYMBOL_NS_GPL(iommufd_viommu_iommu_dev, IOMMUFD);

/**
 * iommufd_viommu_parent() - The nesting parent domain of a vIOMMU
 * @viommu: The vIOMMU
 *
 * Return: the stage-2 domain; it lives at least as long as the vIOMMU.
 */
struct iommu_domain *iommufd_viommu_parent(struct iommufd_viommu *viommu)
{
	return viommu->hwpt->common.domain;
}
EXPORT_SYMBOL_NS_GPL(iommufd_viommu_parent, IOMMUFD);

/**
 * iommufd_viommu_lock_vdevs() - Keep the vIOMMU's vDEVICEs alive
 * @viommu: The vIOMMU
 *
 * Between this and iommufd_viommu_unlock_vdevs() the vDEVICEs returned by
 * iommufd_viommu_find_vdev() and their driver state stay valid: a vDEVICE
 * destruction waits, so no work for a destroyed virtual ID can be issued
 * after IOMMU_DESTROY of its vDEVICE returned. May sleep.
 */
void iommufd_viommu_lock_vdevs(struct iommufd_viommu *viommu)
{
	down_read(&viommu->vdevs_rwsem);
}
EXPORT_SYMBOL_NS_GPL(iommufd_viommu_lock_vdevs, IOMMUFD);

/**
 * iommufd_viommu_unlock_vdevs() - Undo iommufd_viommu_lock_vdevs()
 * @viommu: The vIOMMU
 */
void iommufd_viommu_unlock_vdevs(struct iommufd_viommu *viommu)
{
	up_read(&viommu->vdevs_rwsem);
}
EXPORT_SYMBOL_NS_GPL(iommufd_viommu_unlock_vdevs, IOMMUFD);

/**
 * iommufd_viommu_find_vdev() - Look a virtual device ID up
 * @viommu: The vIOMMU, with iommufd_viommu_lock_vdevs() held
 * @virt_id: The guest's ID of a device, e.g. a virtual StreamID
 *
 * Return: the vDEVICE bound to @virt_id, or NULL.
 */
struct iommufd_vdevice *iommufd_viommu_find_vdev(struct iommufd_viommu *viommu,
						 u64 virt_id)
{
	lockdep_assert_held(&viommu->vdevs_rwsem);
	if (virt_id > ULONG_MAX)
		return NULL;
	return xa_load(&viommu->vdevs, virt_id);
}
EXPORT_SYMBOL_NS_GPL(iommufd_viommu_find_vdev, IOMMUFD);
