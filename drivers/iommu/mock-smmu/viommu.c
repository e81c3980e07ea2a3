// SPDX-License-Identifier: GPL-2.0-only
/*
 * Mock SMMU vIOMMU support, registered with iommufd.ko for the ARM SMMUv3
 * vIOMMU type, on top of the SMMUv3 vSMMU library.
 *
 * A vIOMMU is a struct arm_vsmmu nesting on a mock nesting parent domain.
 * It spans either the pSMMU of the device it was allocated for or, with
 * IOMMU_VIOMMU_ALLOC_FLAG_SPAN, every pSMMU; each spanned pSMMU gives it a
 * VMID of its own, which tags the vIOMMU's stage-1 and stage-2 TLB entries
 * there. A vDEVICE tells the vIOMMU which physical StreamID the guest's
 * virtual StreamID stands for; the library keeps that in the vIOMMU's
 * route table (arm_vsmmu_vdev_init()/arm_vsmmu_vdev_destroy()). The mock
 * also indexes its pSMMU's vDEVICEs by physical StreamID (for events).
 * Invalidations go straight to the library's dispatcher, which issues
 * them on the pSMMUs' command queues.
 */
#include <linux/iommufd_viommu.h>
#include <linux/module.h>
#include <uapi/linux/iommufd.h>

#include "mock-smmu.h"

/**
 * mock_viommu_has_vdev() - Whether a device has a vDEVICE on a vIOMMU
 * @vsmmu: The vIOMMU
 * @mdev: A mock device
 *
 * Return: true if a vDEVICE of @vsmmu stands for @mdev's stream.
 */
bool mock_viommu_has_vdev(struct arm_vsmmu *vsmmu, struct mock_dev *mdev)
{
	struct mock_vdevice *mvdev;
	bool ret;

	mutex_lock(&mdev->psmmu->lock);
	mvdev = xa_load(&mdev->psmmu->vdevs, mdev->sid);
	ret = mvdev && mvdev->vsmmu.core.viommu == &vsmmu->core;
	mutex_unlock(&mdev->psmmu->lock);
	return ret;
}

static void mock_viommu_count(struct arm_vsmmu *vsmmu, int delta)
{
	unsigned int i;

	for (i = 0; i != vsmmu->num_pinsts; i++) {
		struct mock_psmmu *psmmu = container_of(vsmmu->pinst[i].smmu,
							struct mock_psmmu, vsmmu);

		mutex_lock(&psmmu->lock);
		psmmu->nr_viommus += delta;
		mutex_unlock(&psmmu->lock);
	}
}

static void mock_viommu_destroy(struct iommufd_viommu *viommu)
{
	struct arm_vsmmu *vsmmu = to_arm_vsmmu(viommu);

	mock_viommu_count(vsmmu, -1);
	arm_vsmmu_destroy(vsmmu);
}

static void mock_vdevice_unlink(struct mock_vdevice *mvdev)
{
	struct mock_psmmu *psmmu = mvdev->psmmu;

	mutex_lock(&psmmu->lock);
	xa_cmpxchg(&psmmu->vdevs, mvdev->vsmmu.psid, mvdev, NULL, GFP_KERNEL);
	psmmu->nr_vdevices--;
	mutex_unlock(&psmmu->lock);
}

/*
 * The route goes first, outside psmmu->lock: arm_vsmmu_vdev_destroy() takes
 * the vIOMMU's vdevs_rwsem, and event reporting holds psmmu->lock.
 */
static void mock_vdevice_destroy(struct iommufd_vdevice *vdev)
{
	struct mock_vdevice *mvdev =
		container_of(vdev, struct mock_vdevice, vsmmu.core);

	arm_vsmmu_vdev_destroy(&mvdev->vsmmu);
	mock_vdevice_unlink(mvdev);
}

static int mock_vdevice_init(struct iommufd_vdevice *vdev)
{
	struct mock_vdevice *mvdev =
		container_of(vdev, struct mock_vdevice, vsmmu.core);
	struct arm_vsmmu *vsmmu = to_arm_vsmmu(vdev->viommu);
	struct mock_psmmu *psmmu;
	struct mock_dev *mdev;
	int pidx, rc;

	/* The device is bound, so the mock device cannot go away here */
	mdev = mock_dev_of(vdev->dev);
	if (!mdev)
		return -EINVAL;
	psmmu = mdev->psmmu;
	pidx = arm_vsmmu_pidx(vsmmu, &psmmu->vsmmu);
	if (pidx < 0)
		return pidx;
	mvdev->vsmmu.psid = mdev->sid;
	mvdev->psmmu = psmmu;

	mutex_lock(&psmmu->lock);
	rc = xa_insert(&psmmu->vdevs, mdev->sid, mvdev, GFP_KERNEL);
	if (!rc)
		psmmu->nr_vdevices++;
	mutex_unlock(&psmmu->lock);
	if (rc)
		return rc == -EBUSY ? -EEXIST : rc;

	/* The route last: nothing can fail after it */
	rc = arm_vsmmu_vdev_init(&mvdev->vsmmu, pidx, mdev->sid);
	if (rc) {
		mock_vdevice_unlink(mvdev);
		return rc;
	}
	vdev->destroy = mock_vdevice_destroy;
	return 0;
}

static_assert(offsetof(struct mock_vdevice, vsmmu.core) == 0);

static const struct iommufd_viommu_ops mock_viommu_ops = {
	.destroy = mock_viommu_destroy,
	.alloc_domain_nested = mock_viommu_alloc_domain_nested,
	.cache_invalidate = arm_vsmmu_cache_invalidate,
	.vdevice_size = sizeof(struct mock_vdevice),
	.vdevice_init = mock_vdevice_init,
};

static size_t mock_get_viommu_size(struct device *dev, u32 viommu_type)
{
	if (viommu_type != IOMMU_VIOMMU_TYPE_ARM_SMMUV3 || !mock_dev_of(dev))
		return 0;
	/* Room for every pSMMU: a spanning vIOMMU needs it */
	return arm_vsmmu_size(mock_num_psmmus());
}

static int mock_viommu_init(struct iommufd_viommu *viommu,
			    struct iommu_domain *parent_domain,
			    const struct iommu_user_data *user_data)
{
	struct arm_vsmmu_smmu *smmus[ARM_VSMMU_MAX_SMMUS];
	struct arm_vsmmu *vsmmu = to_arm_vsmmu(viommu);
	struct mock_domain *mdom;
	unsigned int i, num = 1;
	int rc;

	/* Any pSMMU can use a mock nesting parent as its stage 2 */
	mdom = mock_domain_to_nest_parent(parent_domain);
	if (!mdom)
		return -EINVAL;
	if (user_data)
		return -EOPNOTSUPP;

	if (viommu->flags & IOMMU_VIOMMU_ALLOC_FLAG_SPAN) {
		num = mock_num_psmmus();
		for (i = 0; i != num; i++)
			smmus[i] = &mock_psmmu_get(i)->vsmmu;
	} else {
		smmus[0] = &container_of(viommu->iommu_dev, struct mock_psmmu,
					 iommu)->vsmmu;
	}
	rc = arm_vsmmu_init(vsmmu, mdom->s2, smmus, num);
	if (rc)
		return rc;
	mock_viommu_count(vsmmu, 1);
	viommu->ops = &mock_viommu_ops;
	return 0;
}

static const struct iommufd_viommu_driver mock_viommu_driver = {
	.iommu_ops = &mock_smmu_ops,
	.owner = THIS_MODULE,
	.get_viommu_size = mock_get_viommu_size,
	.viommu_init = mock_viommu_init,
};

/**
 * mock_viommu_register() - Offer the mock's vIOMMU support to iommufd
 *
 * Called at module init, once the pSMMUs exist.
 *
 * Return: 0 or the errno of iommufd_viommu_register_driver().
 */
int mock_viommu_register(void)
{
	return iommufd_viommu_register_driver(&mock_viommu_driver);
}

/**
 * mock_viommu_unregister() - Withdraw the mock's vIOMMU support
 *
 * Called at module exit. No vIOMMU can exist then, since each one pins the
 * module.
 */
void mock_viommu_unregister(void)
{
	iommufd_viommu_unregister_driver(&mock_viommu_driver);
}
