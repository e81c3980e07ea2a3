// SPDX-License-Identifier: GPL-2.0-only
/*
 * Mock ARM SMMUv3 driver: registers num_psmmus mock physical SMMU instances
 * as iommu_devices on the running kernel, so that iommufd and its vIOMMU
 * support can be exercised on any machine. Devices are created on request
 * of a test through /dev/mock_smmu (see ctl.c); PCI devices of the machine
 * can be given to pSMMUs with the pci= parameter (see pci.c).
 */
#include <linux/bitfield.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <uapi/linux/iommufd.h>

#include "mock-smmu.h"
#include "mock_smmu.h"

static unsigned int num_psmmus = 4;
module_param(num_psmmus, uint, 0444);
MODULE_PARM_DESC(num_psmmus, "Number of mock physical SMMU instances (1-64, default 4)");

#define MOCK_MAX_PSMMUS ARM_VSMMU_MAX_SMMUS

static struct mock_psmmu **psmmus;

#define MOCK_IIDR_IMPL		0x43b	/* JEP106 code of the implementer */

unsigned int mock_num_psmmus(void)
{
	return num_psmmus;
}

/*
 * NULL for a pSMMU that is not registered yet: pSMMU i is registered, and
 * probes the devices already present, before pSMMU i + 1 exists.
 */
struct mock_psmmu *mock_psmmu_get(unsigned int idx)
{
	return idx < num_psmmus ? READ_ONCE(psmmus[idx]) : NULL;
}

const struct device_type mock_dev_type = {
	.name = "mock-smmu-dev",
};

/**
 * mock_dev_from_dev() - The mock device behind a struct device
 * @dev: A device of type mock_dev_type
 *
 * Return: the mock device its platform data names.
 */
struct mock_dev *mock_dev_from_dev(struct device *dev)
{
	const struct mock_pdata *pdata;

	/* A PCI device's is set by mock_pci_probe() */
	if (dev_is_pci(dev))
		return dev_iommu_priv_get(dev);
	pdata = dev_get_platdata(dev);
	return pdata->mdev;
}

/**
 * mock_dev_of() - The mock device behind any device, if it has one
 * @dev: A device, probed by some IOMMU driver or none
 *
 * Return: the mock device of @dev if @dev is a mock platform device or a
 * PCI device behind a pSMMU, otherwise NULL.
 */
struct mock_dev *mock_dev_of(struct device *dev)
{
	if (dev->type == &mock_dev_type)
		return mock_dev_from_dev(dev);
	if (dev_is_pci(dev) && dev->iommu && dev->iommu->iommu_dev &&
	    dev->iommu->iommu_dev->ops == &mock_smmu_ops)
		return mock_dev_from_dev(dev);
	return NULL;
}

/* The STE of a device no longer implements @domain: release what it held */
static void mock_domain_put_ste(struct iommu_domain *domain,
				struct mock_psmmu *psmmu)
{
	if (domain->type == IOMMU_DOMAIN_NESTED)
		mock_nested_put_ste(domain, psmmu);
	else if (domain->type == IOMMU_DOMAIN_UNMANAGED)
		mock_paging_put_ste(domain, psmmu);
}

/**
 * mock_dev_set_domain() - Point a device's STE at a new domain
 * @mdev: The mock device
 * @target: The STE that implements @domain for it
 * @domain: The new domain, which took what @target needs (its VMID on the
 *          device's pSMMU) before this call
 *
 * Writes the STE, then lets the domain the device leaves release what its
 * STE held, which may invalidate that domain's TLB entries on the pSMMU.
 */
void mock_dev_set_domain(struct mock_dev *mdev, const struct mock_ste *target,
			 struct iommu_domain *domain)
{
	struct mock_psmmu *psmmu = mdev->psmmu;
	struct iommu_domain *old = mdev->domain;

	mutex_lock(&psmmu->lock);
	if (mock_nested_s1(domain))
		psmmu->nr_nested_attached++;
	if (mock_nested_s1(old))
		psmmu->nr_nested_attached--;
	mock_ste_install(mdev, target, domain);
	mutex_unlock(&psmmu->lock);
	if (old)
		mock_domain_put_ste(old, psmmu);
}

/**
 * mock_psmmu_get_counters() - Read a pSMMU's counters
 * @psmmu: The pSMMU
 * @cnt: Output for MOCK_SMMU_GET_COUNTERS; only the counters are written
 */
void mock_psmmu_get_counters(struct mock_psmmu *psmmu,
			     struct mock_smmu_counters *cnt)
{
	mutex_lock(&psmmu->lock);
	cnt->devices = psmmu->nr_devices;
	cnt->vmids = atomic_read(&psmmu->vsmmu.nr_vmids);
	cnt->viommus = psmmu->nr_viommus;
	cnt->vdevices = psmmu->nr_vdevices;
	cnt->nested_attached = psmmu->nr_nested_attached;
	mutex_unlock(&psmmu->lock);
	mock_cmdq_get_counters(psmmu, cnt);
}

static int mock_blocked_attach_dev(struct iommu_domain *domain,
				   struct device *dev)
{
	struct mock_dev *mdev = mock_dev_from_dev(dev);
	struct mock_ste target;

	mock_ste_make_abort(&target);
	mock_dev_set_domain(mdev, &target, domain);
	return 0;
}

static const struct iommu_domain_ops mock_blocked_ops = {
	.attach_dev = mock_blocked_attach_dev,
};

struct iommu_domain mock_blocked_domain = {
	.type = IOMMU_DOMAIN_BLOCKED,
	.ops = &mock_blocked_ops,
};

/*
 * Asked for every device of the machine: ours are the devices ctl.c created
 * and the PCI devices the pci= parameter names.
 */
static struct iommu_device *mock_probe_device(struct device *dev)
{
	struct mock_dev *mdev;

	if (dev_is_pci(dev))
		return mock_pci_probe(to_pci_dev(dev));
	if (dev->type != &mock_dev_type)
		return ERR_PTR(-ENODEV);
	mdev = mock_dev_from_dev(dev);
	return &mdev->psmmu->iommu;
}

static void mock_release_device(struct device *dev)
{
	if (dev_is_pci(dev))
		mock_pci_release(to_pci_dev(dev));
}

/* PCI devices are grouped as the PCI topology says (ACS, DMA aliases) */
static struct iommu_group *mock_device_group(struct device *dev)
{
	if (dev_is_pci(dev))
		return pci_device_group(dev);
	return generic_device_group(dev);
}

static bool mock_capable(struct device *dev, enum iommu_cap cap)
{
	return cap == IOMMU_CAP_CACHE_COHERENCY;
}

static void *mock_hw_info(struct device *dev, u32 *length, u32 *type)
{
	struct mock_psmmu *psmmu = mock_dev_from_dev(dev)->psmmu;
	struct iommu_hw_info_arm_smmuv3 *info;

	info = kzalloc(sizeof(*info), GFP_KERNEL);
	if (!info)
		return ERR_PTR(-ENOMEM);
	memcpy(info->idr, psmmu->idr, sizeof(info->idr));
	info->iidr = psmmu->iidr;
	info->aidr = psmmu->aidr;
	*length = sizeof(*info);
	*type = IOMMU_HW_INFO_TYPE_ARM_SMMUV3;
	return info;
}

const struct iommu_ops mock_smmu_ops = {
	.capable = mock_capable,
	.hw_info = mock_hw_info,
	.domain_alloc_user = mock_domain_alloc_user,
	.probe_device = mock_probe_device,
	.release_device = mock_release_device,
	.device_group = mock_device_group,
	.pgsize_bitmap = PAGE_SIZE,
	.owner = THIS_MODULE,
	.blocked_domain = &mock_blocked_domain,
	.default_domain = &mock_blocked_domain,
};

static struct mock_psmmu *mock_psmmu_create(unsigned int idx)
{
	struct mock_psmmu *psmmu;
	int rc;

	psmmu = kzalloc(sizeof(*psmmu), GFP_KERNEL);
	if (!psmmu)
		return ERR_PTR(-ENOMEM);
	psmmu->idx = idx;
	mutex_init(&psmmu->lock);
	xa_init(&psmmu->streams);
	xa_init(&psmmu->vdevs);
	psmmu->idr[0] = IDR0_S2P | IDR0_S1P |
			FIELD_PREP(IDR0_TTF, IDR0_TTF_AARCH64) | IDR0_COHACC |
			IDR0_ATS | IDR0_ASID16 | IDR0_VMID16 |
			FIELD_PREP(IDR0_ST_LVL, IDR0_ST_LVL_2LVL);
	psmmu->idr[1] = FIELD_PREP(IDR1_SIDSIZE, 32) |
			FIELD_PREP(IDR1_SSIDSIZE, 20);
	psmmu->idr[3] = IDR3_RIL;
	/* Every granule: QEMU's accelerated SMMUv3 wants all three */
	psmmu->idr[5] = FIELD_PREP(IDR5_OAS, IDR5_OAS_48_BIT) | IDR5_GRAN4K |
			IDR5_GRAN16K | IDR5_GRAN64K;
	/* ProductID carries the instance so a VMM can tell them apart */
	psmmu->iidr = FIELD_PREP(IIDR_IMPLEMENTER, MOCK_IIDR_IMPL) |
		      FIELD_PREP(IIDR_PRODUCTID, idx);
	psmmu->aidr = 0x1;	/* SMMUv3.1 */

	psmmu->vsmmu.ops = &mock_cmdq_ops;
	psmmu->vsmmu.idx = idx;
	psmmu->vsmmu.asid_bits = psmmu->idr[0] & IDR0_ASID16 ? 16 : 8;
	psmmu->vsmmu.ssid_bits = FIELD_GET(IDR1_SSIDSIZE, psmmu->idr[1]);
	psmmu->vsmmu.range_inv = psmmu->idr[3] & IDR3_RIL;
	psmmu->vsmmu.ats = psmmu->idr[0] & IDR0_ATS;
	arm_vsmmu_smmu_init(&psmmu->vsmmu);

	rc = mock_cmdq_init(psmmu);
	if (rc)
		goto err_free;
	rc = iommu_device_sysfs_add(&psmmu->iommu, NULL, NULL, "mock-smmu.%u",
				    idx);
	if (rc)
		goto err_cmdq;
	/* Registering probes the devices present, PCI ones included */
	WRITE_ONCE(psmmus[idx], psmmu);
	rc = iommu_device_register(&psmmu->iommu, &mock_smmu_ops, NULL);
	if (rc)
		goto err_unpublish;
	return psmmu;

err_unpublish:
	WRITE_ONCE(psmmus[idx], NULL);
	iommu_device_sysfs_remove(&psmmu->iommu);
err_cmdq:
	mock_cmdq_destroy(psmmu);
err_free:
	arm_vsmmu_smmu_destroy(&psmmu->vsmmu);
	mutex_destroy(&psmmu->lock);
	kfree(psmmu);
	return ERR_PTR(rc);
}

static void mock_psmmu_destroy(struct mock_psmmu *psmmu)
{
	iommu_device_unregister(&psmmu->iommu);
	iommu_device_sysfs_remove(&psmmu->iommu);
	/* Every device, domain and vIOMMU is gone before the module exits */
	WARN_ON(!xa_empty(&psmmu->streams) || !xa_empty(&psmmu->vdevs));
	WARN_ON(psmmu->nr_devices || psmmu->nr_pci_devices ||
		psmmu->nr_viommus || psmmu->nr_vdevices);
	arm_vsmmu_smmu_destroy(&psmmu->vsmmu);
	mock_cmdq_destroy(psmmu);
	xa_destroy(&psmmu->streams);
	xa_destroy(&psmmu->vdevs);
	mutex_destroy(&psmmu->lock);
	kfree(psmmu);
}

static void mock_psmmus_destroy(unsigned int count)
{
	while (count--)
		mock_psmmu_destroy(psmmus[count]);
	kfree(psmmus);
}

static int __init mock_smmu_init(void)
{
	unsigned int i;
	int rc;

	if (!num_psmmus || num_psmmus > MOCK_MAX_PSMMUS) {
		pr_err("mock_smmu: num_psmmus must be 1..%u\n", MOCK_MAX_PSMMUS);
		return -EINVAL;
	}
	psmmus = kcalloc(num_psmmus, sizeof(*psmmus), GFP_KERNEL);
	if (!psmmus)
		return -ENOMEM;
	rc = mock_pci_init();
	if (rc)
		goto err_free;
	for (i = 0; i != num_psmmus; i++) {
		struct mock_psmmu *psmmu = mock_psmmu_create(i);

		if (IS_ERR(psmmu)) {
			rc = PTR_ERR(psmmu);
			goto err_destroy;
		}
	}
	rc = mock_viommu_register();
	if (rc)
		goto err_destroy;
	rc = mock_ctl_init();
	if (rc)
		goto err_viommu;
	return 0;

err_viommu:
	mock_viommu_unregister();
err_destroy:
	mock_pci_exit();
	mock_psmmus_destroy(i);
	return rc;
err_free:
	kfree(psmmus);
	return rc;
}

static void __exit mock_smmu_exit(void)
{
	mock_ctl_exit();
	mock_viommu_unregister();
	/* Unregistering the pSMMUs releases their PCI devices */
	mock_pci_exit();
	mock_psmmus_destroy(num_psmmus);
}

module_init(mock_smmu_init);
module_exit(mock_smmu_exit);
MODULE_DESCRIPTION("Mock ARM SMMUv3 driver for testing iommufd vIOMMU support");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(IOMMUFD);
