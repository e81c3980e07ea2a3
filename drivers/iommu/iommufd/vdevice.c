// SPDX-License-Identifier: GPL-2.0-only
/*
 * The vDEVICE object: IOMMU_VDEVICE_ALLOC, known in the first vIOMMU design
 * as IOMMU_VIOMMU_SET_DEV_ID. It binds a device to the ID a guest uses for
 * it on a vIOMMU (the virtual StreamID on ARM SMMUv3) in the vIOMMU's
 * vdev_id table, an xarray indexed by that ID.
 *
 * A device has at most one vDEVICE (upstream 6.17 rule). The link between
 * the two (iommufd_device::vdev and iommufd_vdevice::idev) is protected by
 * the lock of the device's iommufd group, as upstream does, and cut only
 * once the vDEVICE is out of the vIOMMU's table and the driver's. When the
 * device is unbound first, its vDEVICE is destroyed with it and its object
 * ID stays reserved as a tombstone until the iommufd is closed, so
 * IOMMU_DESTROY of that ID fails with ENOENT and never hits an unrelated
 * object (as upstream 6.17 does). An unbind racing IOMMU_DESTROY of the
 * vDEVICE returns only once that destruction is complete.
 */
#include <linux/device.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/wait.h>
#include <uapi/linux/iommufd.h>

#include "viommu.h"

static struct iommufd_viommu *iommufd_get_viommu(struct iommufd_ucmd *ucmd,
						 u32 id)
{
	return container_of(iommufd_get_object(ucmd->ictx, id,
					       IOMMUFD_OBJ_VIOMMU),
			    struct iommufd_viommu, obj);
}

/* Make the vDEVICE visible to the device and, through vdev_id, to the guest */
static int iommufd_vdevice_publish(struct iommufd_vdevice *vdev,
				   struct iommufd_device *idev)
{
	struct iommufd_viommu *viommu = vdev->viommu;
	int rc;

	mutex_lock(&idev->igroup->lock);
	if (idev->vdev) {
		rc = -EEXIST;
		goto out_unlock;
	}
	/*
	 * Claim the ID in one atomic step, so two racing allocations cannot
	 * both get it. The reserved slot reads as empty until filled below,
	 * after the driver accepted the vDEVICE.
	 */
	rc = xa_insert(&viommu->vdevs, vdev->virt_id, NULL, GFP_KERNEL);
	if (rc) {
		if (rc == -EBUSY)
			rc = -EEXIST;
		goto out_unlock;
	}
	if (viommu->ops->vdevice_init) {
		rc = viommu->ops->vdevice_init(vdev);
		if (rc) {
			xa_release(&viommu->vdevs, vdev->virt_id);
			goto out_unlock;
		}
	}
	/* Filling a reserved slot allocates nothing and cannot fail */
	WARN_ON(xa_is_err(xa_store(&viommu->vdevs, vdev->virt_id, vdev,
				   GFP_KERNEL)));
	vdev->idev = idev;
	idev->vdev = vdev;
out_unlock:
	mutex_unlock(&idev->igroup->lock);
	return rc;
}

int iommufd_vdevice_alloc_ioctl(struct iommufd_ucmd *ucmd)
{
	struct iommu_vdevice_alloc *cmd = ucmd->cmd;
	struct iommufd_viommu *viommu;
	struct iommufd_vdevice *vdev;
	struct iommufd_device *idev;
	size_t size;
	int rc;

	/* The ID indexes an xarray */
	if (cmd->virt_id > ULONG_MAX)
		return -EINVAL;

	viommu = iommufd_get_viommu(ucmd, cmd->viommu_id);
	if (IS_ERR(viommu))
		return PTR_ERR(viommu);

	idev = iommufd_get_device(ucmd, cmd->dev_id);
	if (IS_ERR(idev)) {
		rc = PTR_ERR(idev);
		goto out_put_viommu;
	}

	if (!iommufd_viommu_serves(viommu, idev->dev)) {
		rc = -EINVAL;
		goto out_put_idev;
	}

	size = viommu->ops->vdevice_size ?: sizeof(*vdev);
	/* Smaller than the core structure, or no init for it: a driver bug */
	if (WARN_ON_ONCE(size < sizeof(*vdev) ||
			 (size > sizeof(*vdev) && !viommu->ops->vdevice_init))) {
		rc = -EOPNOTSUPP;
		goto out_put_idev;
	}
	vdev = (struct iommufd_vdevice *)_iommufd_object_alloc(ucmd->ictx,
				size, IOMMUFD_OBJ_VDEVICE);
	if (IS_ERR(vdev)) {
		rc = PTR_ERR(vdev);
		goto out_put_idev;
	}
	vdev->viommu = viommu;
	refcount_inc(&viommu->obj.users);
	vdev->dev = get_device(idev->dev);
	vdev->igroup = idev->igroup;
	kref_get(&vdev->igroup->ref);
	vdev->virt_id = cmd->virt_id;

	rc = iommufd_vdevice_publish(vdev, idev);
	if (rc)
		goto out_abort;

	cmd->out_vdevice_id = vdev->obj.id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		goto out_abort;
	/*
	 * The device's shortterm reference is held until here, so unbinding it
	 * only starts once this vDEVICE is a complete object.
	 */
	iommufd_object_finalize(ucmd->ictx, &vdev->obj);
	goto out_put_idev;

out_abort:
	iommufd_object_abort_and_destroy(ucmd->ictx, &vdev->obj);
out_put_idev:
	iommufd_put_object(ucmd->ictx, &idev->obj);
out_put_viommu:
	iommufd_put_object(ucmd->ictx, &viommu->obj);
	return rc;
}

void iommufd_vdevice_destroy(struct iommufd_object *obj)
{
	struct iommufd_vdevice *vdev =
		container_of(obj, struct iommufd_vdevice, obj);
	struct iommufd_viommu *viommu = vdev->viommu;
	struct iommufd_ctx *ictx = viommu->ictx;
	bool published;

	mutex_lock(&vdev->igroup->lock);
	published = xa_load(&viommu->vdevs, vdev->virt_id) == vdev;
	mutex_unlock(&vdev->igroup->lock);

	if (published) {
		/* Waits for users of the vDEVICE lock that may have found it */
		down_write(&viommu->vdevs_rwsem);
		xa_cmpxchg(&viommu->vdevs, vdev->virt_id, vdev, NULL,
			   GFP_KERNEL);
		up_write(&viommu->vdevs_rwsem);
	}
	if (vdev->destroy)
		vdev->destroy(vdev);

	/*
	 * Only now, with the vDEVICE out of every table, does the device stop
	 * pointing at it: an unbind that found it being destroyed waits for
	 * this (iommufd_device_remove_vdevice()).
	 */
	mutex_lock(&vdev->igroup->lock);
	if (vdev->idev) {
		WRITE_ONCE(vdev->idev->vdev, NULL);
		vdev->idev = NULL;
	}
	mutex_unlock(&vdev->igroup->lock);
	wake_up_all(&ictx->destroy_wait);

	iommufd_put_group(vdev->igroup);
	put_device(vdev->dev);
	refcount_dec(&viommu->obj.users);
}

/**
 * iommufd_device_remove_vdevice() - Destroy the vDEVICE of a device going away
 * @idev: The device, being destroyed by iommufd_device_unbind()
 *
 * Called once @idev is out of the object table and no ioctl uses it any
 * more. Its vDEVICE, if any, is destroyed and leaves a tombstone ID behind.
 * If userspace is destroying the vDEVICE at the same moment, this waits
 * until that destruction is complete, so that once the unbind returns the
 * vDEVICE's virtual ID resolves to nothing and the device can get a new
 * vDEVICE.
 */
void iommufd_device_remove_vdevice(struct iommufd_device *idev)
{
	struct iommufd_vdevice *vdev;

	mutex_lock(&idev->igroup->lock);
	vdev = idev->vdev;
	/* Fails only if a concurrent IOMMU_DESTROY already owns it */
	if (vdev && !refcount_inc_not_zero(&vdev->obj.users)) {
		mutex_unlock(&idev->igroup->lock);
		wait_event(idev->ictx->destroy_wait, !READ_ONCE(idev->vdev));
		return;
	}
	mutex_unlock(&idev->igroup->lock);

	/* iommufd_vdevice_destroy() cuts the link to @idev */
	if (vdev)
		iommufd_object_remove(idev->ictx, &vdev->obj, vdev->obj.id,
				      REMOVE_WAIT_SHORTTERM |
				      REMOVE_OBJ_TOMBSTONE);
}
