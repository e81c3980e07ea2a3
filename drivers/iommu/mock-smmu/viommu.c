// SPDX-License-Identifier: GPL-2.0-only
/*
 * Mock SMMU vIOMMU support, registered with iommufd.ko for the ARM SMMUv3
 * vIOMMU type.
 *
 * A vIOMMU nests on a mock nesting parent domain and spans either the pSMMU
 * of the device it was allocated for or, with IOMMU_VIOMMU_ALLOC_FLAG_SPAN,
 * every pSMMU. Each spanned pSMMU allocates a VMID of its own for it, which
 * tags the vIOMMU's stage-1 and stage-2 TLB entries on that pSMMU. A vDEVICE
 * tells the vIOMMU which physical StreamID the guest's virtual StreamID
 * stands for.
 */
#include <linux/iommufd_viommu.h>
#include <linux/limits.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <uapi/linux/iommufd.h>

#include "mock-smmu.h"

static struct mock_viommu *to_mock_viommu(struct iommufd_viommu *viommu)
{
	return iommufd_viommu_priv(viommu);
}

static bool mock_viommu_spans(struct mock_viommu *mv, struct mock_psmmu *psmmu)
{
	return mv->vmids[psmmu->idx];
}

/* Let @mv span @psmmu: take a VMID in its namespace */
static int mock_viommu_add_psmmu(struct mock_viommu *mv,
				 struct mock_psmmu *psmmu)
{
	int vmid;

	mutex_lock(&psmmu->lock);
	vmid = mock_psmmu_alloc_vmid(psmmu);
	if (vmid >= 0)
		psmmu->nr_viommus++;
	mutex_unlock(&psmmu->lock);
	if (vmid < 0)
		return vmid;
	mv->vmids[psmmu->idx] = vmid;
	return 0;
}

static void mock_viommu_free(struct mock_viommu *mv)
{
	struct mock_psmmu *psmmu;
	unsigned int i;

	for (i = 0; i != mv->num_psmmus; i++) {
		if (!mv->vmids[i])
			continue;
		psmmu = mock_psmmu_get(i);
		mutex_lock(&psmmu->lock);
		mock_psmmu_free_vmid(psmmu, mv->vmids[i]);
		psmmu->nr_viommus--;
		mutex_unlock(&psmmu->lock);
	}
	kfree(mv);
}

static int mock_viommu_init(struct iommufd_viommu *viommu, struct device *dev,
			    struct iommu_domain *parent, u32 type, u32 flags)
{
	unsigned int num_psmmus = mock_num_psmmus();
	struct mock_viommu *mv;
	unsigned int i;
	int rc;

	if (type != IOMMU_VIOMMU_TYPE_ARM_SMMUV3 ||
	    (flags & ~IOMMU_VIOMMU_ALLOC_FLAG_SPAN) ||
	    dev->type != &mock_dev_type)
		return -EOPNOTSUPP;
	/* Any pSMMU can use a mock nesting parent as its stage 2 */
	if (!mock_domain_to_nest_parent(parent))
		return -EINVAL;

	mv = kzalloc(struct_size(mv, vmids, num_psmmus), GFP_KERNEL);
	if (!mv)
		return -ENOMEM;
	mv->num_psmmus = num_psmmus;

	if (flags & IOMMU_VIOMMU_ALLOC_FLAG_SPAN) {
		for (i = 0; i != num_psmmus; i++) {
			rc = mock_viommu_add_psmmu(mv, mock_psmmu_get(i));
			if (rc)
				goto err_free;
		}
	} else {
		rc = mock_viommu_add_psmmu(mv, mock_dev_from_dev(dev)->psmmu);
		if (rc)
			goto err_free;
	}
	iommufd_viommu_set_priv(viommu, mv);
	return 0;

err_free:
	mock_viommu_free(mv);
	return rc;
}

static void mock_viommu_destroy(struct iommufd_viommu *viommu)
{
	mock_viommu_free(to_mock_viommu(viommu));
	iommufd_viommu_set_priv(viommu, NULL);
}

static int mock_vdevice_init(struct iommufd_vdevice *vdev)
{
	struct mock_viommu *mv = to_mock_viommu(iommufd_vdevice_viommu(vdev));
	struct device *dev = iommufd_vdevice_dev(vdev);
	struct mock_vdevice *mvdev;
	struct mock_dev *mdev;

	if (dev->type != &mock_dev_type)
		return -EINVAL;
	/* The device is bound, so the mock device cannot go away here */
	mdev = mock_dev_from_dev(dev);
	if (!mock_viommu_spans(mv, mdev->psmmu))
		return -EINVAL;

	mvdev = kzalloc(sizeof(*mvdev), GFP_KERNEL);
	if (!mvdev)
		return -ENOMEM;
	mvdev->psmmu = mdev->psmmu;
	mvdev->sid = mdev->sid;
	mvdev->virt_id = iommufd_vdevice_virt_id(vdev);

	mutex_lock(&mvdev->psmmu->lock);
	mvdev->psmmu->nr_vdevices++;
	mutex_unlock(&mvdev->psmmu->lock);
	iommufd_vdevice_set_priv(vdev, mvdev);
	return 0;
}

static void mock_vdevice_destroy(struct iommufd_vdevice *vdev)
{
	struct mock_vdevice *mvdev = iommufd_vdevice_priv(vdev);

	mutex_lock(&mvdev->psmmu->lock);
	mvdev->psmmu->nr_vdevices--;
	mutex_unlock(&mvdev->psmmu->lock);
	iommufd_vdevice_set_priv(vdev, NULL);
	kfree(mvdev);
}

static const struct iommufd_viommu_driver mock_viommu_driver = {
	.iommu_ops = &mock_smmu_ops,
	.owner = THIS_MODULE,
	.viommu_init = mock_viommu_init,
	.viommu_destroy = mock_viommu_destroy,
	.vdevice_init = mock_vdevice_init,
	.vdevice_destroy = mock_vdevice_destroy,
	/* The virtual StreamID of SMMUv3 is 32 bits wide */
	.virt_id_max = U32_MAX,
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
