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
 * stands for. Invalidations are executed by iommufd's vSMMU dispatcher on
 * the command queues of the spanned pSMMUs.
 */
#include <linux/bitfield.h>
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

/**
 * mock_viommu_pidx() - Where a pSMMU is in a vIOMMU's span
 * @mv: The mock vIOMMU
 * @psmmu: A pSMMU
 *
 * Return: the index of @psmmu in @mv->vsmmu->pinst, or -EINVAL if the
 * vIOMMU does not span it.
 */
int mock_viommu_pidx(struct mock_viommu *mv, struct mock_psmmu *psmmu)
{
	unsigned int i;

	for (i = 0; i != mv->vsmmu->num_pinsts; i++)
		if (mv->vsmmu->pinst[i].cookie == psmmu)
			return i;
	return -EINVAL;
}

static unsigned long mock_stream_key(struct mock_psmmu *psmmu, u32 sid)
{
	return (unsigned long)psmmu->idx << 32 | sid;
}

/**
 * mock_viommu_has_vdev() - Whether a device has a vDEVICE on a vIOMMU
 * @mv: The mock vIOMMU
 * @mdev: A mock device
 *
 * Return: true if a vDEVICE of @mv stands for @mdev's stream.
 */
bool mock_viommu_has_vdev(struct mock_viommu *mv, struct mock_dev *mdev)
{
	return xa_load(&mv->streams, mock_stream_key(mdev->psmmu, mdev->sid));
}

/* Let the vIOMMU span @psmmu as its pSMMU @pidx: take a VMID there */
static int mock_viommu_add_psmmu(struct iommufd_vsmmu *vsmmu,
				 unsigned int pidx, struct mock_psmmu *psmmu)
{
	struct iommufd_vsmmu_pinst *p = &vsmmu->pinst[pidx];
	int vmid;

	mutex_lock(&psmmu->lock);
	vmid = mock_psmmu_alloc_vmid(psmmu);
	if (vmid >= 0)
		psmmu->nr_viommus++;
	mutex_unlock(&psmmu->lock);
	if (vmid < 0)
		return vmid;

	p->cookie = psmmu;
	p->ops = &mock_cmdq_ops;
	p->vmid = vmid;
	p->asid_bits = psmmu->idr[0] & IDR0_ASID16 ? 16 : 8;
	p->range_inv = psmmu->idr[3] & IDR3_RIL;
	p->ats = psmmu->idr[0] & IDR0_ATS;
	p->ssid_bits = FIELD_GET(IDR1_SSIDSIZE, psmmu->idr[1]);
	atomic_set(&p->s1_attached, 0);
	return 0;
}

static void mock_viommu_free(struct mock_viommu *mv)
{
	struct iommufd_vsmmu *vsmmu = mv->vsmmu;
	unsigned int i;

	for (i = 0; i != vsmmu->num_pinsts; i++) {
		struct mock_psmmu *psmmu = vsmmu->pinst[i].cookie;

		/* Not reached by a failed viommu_init */
		if (!psmmu)
			continue;
		/* Every device left the vIOMMU's nested domains */
		WARN_ON(atomic_read(&vsmmu->pinst[i].s1_attached));
		mutex_lock(&psmmu->lock);
		mock_psmmu_free_vmid(psmmu, vsmmu->pinst[i].vmid);
		psmmu->nr_viommus--;
		mutex_unlock(&psmmu->lock);
	}
	WARN_ON(!xa_empty(&mv->streams));
	xa_destroy(&mv->streams);
	kfree(vsmmu);
	kfree(mv);
}

static int mock_viommu_init(struct iommufd_viommu *viommu, struct device *dev,
			    struct iommu_domain *parent, u32 type, u32 flags)
{
	unsigned int i, num_psmmus = mock_num_psmmus();
	struct iommufd_vsmmu *vsmmu;
	struct mock_viommu *mv;
	int rc;

	if (type != IOMMU_VIOMMU_TYPE_ARM_SMMUV3 ||
	    (flags & ~IOMMU_VIOMMU_ALLOC_FLAG_SPAN) ||
	    dev->type != &mock_dev_type)
		return -EOPNOTSUPP;
	/* Any pSMMU can use a mock nesting parent as its stage 2 */
	if (!mock_domain_to_nest_parent(parent))
		return -EINVAL;

	mv = kzalloc(sizeof(*mv), GFP_KERNEL);
	if (!mv)
		return -ENOMEM;
	xa_init(&mv->streams);
	if (!(flags & IOMMU_VIOMMU_ALLOC_FLAG_SPAN))
		num_psmmus = 1;
	vsmmu = kzalloc(struct_size(vsmmu, pinst, num_psmmus), GFP_KERNEL);
	if (!vsmmu) {
		kfree(mv);
		return -ENOMEM;
	}
	vsmmu->num_pinsts = num_psmmus;
	vsmmu->viommu = viommu;
	mv->vsmmu = vsmmu;

	if (flags & IOMMU_VIOMMU_ALLOC_FLAG_SPAN) {
		for (i = 0; i != num_psmmus; i++) {
			rc = mock_viommu_add_psmmu(vsmmu, i, mock_psmmu_get(i));
			if (rc)
				goto err_free;
		}
	} else {
		rc = mock_viommu_add_psmmu(vsmmu, 0,
					   mock_dev_from_dev(dev)->psmmu);
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
	int pidx, rc;

	if (dev->type != &mock_dev_type)
		return -EINVAL;
	/* The device is bound, so the mock device cannot go away here */
	mdev = mock_dev_from_dev(dev);
	pidx = mock_viommu_pidx(mv, mdev->psmmu);
	if (pidx < 0)
		return pidx;

	mvdev = kzalloc(sizeof(*mvdev), GFP_KERNEL);
	if (!mvdev)
		return -ENOMEM;
	mvdev->target.pidx = pidx;
	mvdev->target.psid = mdev->sid;
	mvdev->psmmu = mdev->psmmu;
	mvdev->virt_id = iommufd_vdevice_virt_id(vdev);

	rc = xa_insert(&mv->streams, mock_stream_key(mdev->psmmu, mdev->sid),
		       mvdev, GFP_KERNEL);
	if (rc) {
		kfree(mvdev);
		return rc == -EBUSY ? -EEXIST : rc;
	}
	mutex_lock(&mvdev->psmmu->lock);
	mvdev->psmmu->nr_vdevices++;
	mutex_unlock(&mvdev->psmmu->lock);
	iommufd_vdevice_set_priv(vdev, mvdev);
	return 0;
}

static void mock_vdevice_destroy(struct iommufd_vdevice *vdev)
{
	struct mock_viommu *mv = to_mock_viommu(iommufd_vdevice_viommu(vdev));
	struct mock_vdevice *mvdev = iommufd_vdevice_priv(vdev);

	xa_erase(&mv->streams,
		 mock_stream_key(mvdev->psmmu, mvdev->target.psid));
	mutex_lock(&mvdev->psmmu->lock);
	mvdev->psmmu->nr_vdevices--;
	mutex_unlock(&mvdev->psmmu->lock);
	iommufd_vdevice_set_priv(vdev, NULL);
	kfree(mvdev);
}

static int mock_viommu_cache_invalidate(struct iommufd_viommu *viommu,
					struct iommu_user_data_array *array)
{
	return iommufd_vsmmu_invalidate(to_mock_viommu(viommu)->vsmmu, array);
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
	.alloc_domain_nested = mock_viommu_alloc_domain_nested,
	.cache_invalidate = mock_viommu_cache_invalidate,
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
