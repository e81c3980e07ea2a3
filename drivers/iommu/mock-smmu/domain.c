// SPDX-License-Identifier: GPL-2.0-only
/*
 * Mock SMMU paging domains: a real, if simple, IOVA -> PA table kept in an
 * xarray indexed by IOVA page frame, so that IOAS_MAP/UNMAP through iommufd
 * and iova_to_phys() behave as with a hardware page table.
 *
 * A paging domain is a stage-2 table. Devices behind any pSMMU may attach to
 * it; each pSMMU tags the domain's TLB entries with a VMID of its own, which
 * it allocates at the first attach of one of its devices and frees when the
 * domain is freed. The vSMMU library keeps those VMIDs and the vIOMMUs
 * nesting on the domain (mock_domain::s2): every unmap ends in
 * arm_vsmmu_s2_flush(), which invalidates each of them where STEs use it.
 */
#include <linux/slab.h>
#include <uapi/linux/iommufd.h>

#include "mock-smmu.h"

#define MOCK_IOVA_BITS 48

static int mock_domain_attach_dev(struct iommu_domain *domain,
				  struct device *dev)
{
	struct mock_domain *mdom = to_mock_domain(domain);
	struct mock_dev *mdev = mock_dev_from_dev(dev);
	struct mock_ste target;
	int vmid;

	vmid = arm_vsmmu_s2_ste_get(mdom->s2, &mdev->psmmu->vsmmu);
	if (vmid < 0)
		return vmid;
	mock_ste_make_s2(&target, vmid);
	mock_dev_set_domain(mdev, &target, domain);
	return 0;
}

/**
 * mock_paging_put_ste() - An STE of a device left a paging domain
 * @domain: The paging domain
 * @psmmu: The pSMMU of the device, whose STE was rewritten
 */
void mock_paging_put_ste(struct iommu_domain *domain, struct mock_psmmu *psmmu)
{
	arm_vsmmu_s2_ste_put(to_mock_domain(domain)->s2, &psmmu->vsmmu);
}

static int mock_domain_map_pages(struct iommu_domain *domain,
				 unsigned long iova, phys_addr_t paddr,
				 size_t pgsize, size_t pgcount, int prot,
				 gfp_t gfp, size_t *mapped)
{
	struct mock_domain *mdom = to_mock_domain(domain);
	unsigned long pfn = iova >> PAGE_SHIFT;
	size_t i;
	int rc;

	for (i = 0; i != pgcount; i++) {
		rc = xa_insert(&mdom->pfns, pfn + i,
			       xa_mk_value((paddr >> PAGE_SHIFT) + i), gfp);
		if (rc) {
			/* Undo this call's part; the caller unmaps the rest */
			while (i--)
				xa_erase(&mdom->pfns, pfn + i);
			return rc;
		}
		*mapped += PAGE_SIZE;
	}
	return 0;
}

static size_t mock_domain_unmap_pages(struct iommu_domain *domain,
				      unsigned long iova, size_t pgsize,
				      size_t pgcount,
				      struct iommu_iotlb_gather *gather)
{
	struct mock_domain *mdom = to_mock_domain(domain);
	unsigned long pfn = iova >> PAGE_SHIFT;
	size_t i;

	for (i = 0; i != pgcount; i++) {
		/* Unmapping what was never mapped is a caller bug */
		if (WARN_ON(!xa_erase(&mdom->pfns, pfn + i)))
			break;
	}
	if (i)
		iommu_iotlb_gather_add_range(gather, iova, i * PAGE_SIZE);
	return i * PAGE_SIZE;
}

/* After an unmap: no TLB entry of what was unmapped may be left anywhere */
static void mock_domain_iotlb_sync(struct iommu_domain *domain,
				   struct iommu_iotlb_gather *gather)
{
	if (gather->start <= gather->end)
		arm_vsmmu_s2_flush(to_mock_domain(domain)->s2);
}

static void mock_domain_flush_iotlb_all(struct iommu_domain *domain)
{
	arm_vsmmu_s2_flush(to_mock_domain(domain)->s2);
}

static phys_addr_t mock_domain_iova_to_phys(struct iommu_domain *domain,
					    dma_addr_t iova)
{
	struct mock_domain *mdom = to_mock_domain(domain);
	void *entry = xa_load(&mdom->pfns, iova >> PAGE_SHIFT);

	if (!entry)
		return 0;
	return ((phys_addr_t)xa_to_value(entry) << PAGE_SHIFT) |
	       (iova & ~PAGE_MASK);
}

static bool mock_domain_enforce_cache_coherency(struct iommu_domain *domain)
{
	return true;
}

static void mock_domain_free(struct iommu_domain *domain)
{
	struct mock_domain *mdom = to_mock_domain(domain);

	/* iommufd unmaps everything before it frees a domain */
	WARN_ON(!xa_empty(&mdom->pfns));
	xa_destroy(&mdom->pfns);
	/* No device is attached any more: flush and return the VMIDs */
	arm_vsmmu_s2_free(mdom->s2);
	kfree(mdom);
}

static const struct iommu_domain_ops mock_paging_ops = {
	.attach_dev = mock_domain_attach_dev,
	.map_pages = mock_domain_map_pages,
	.unmap_pages = mock_domain_unmap_pages,
	.iotlb_sync = mock_domain_iotlb_sync,
	.flush_iotlb_all = mock_domain_flush_iotlb_all,
	.iova_to_phys = mock_domain_iova_to_phys,
	.enforce_cache_coherency = mock_domain_enforce_cache_coherency,
	.free = mock_domain_free,
};

/**
 * mock_domain_alloc_user() - iommu_ops::domain_alloc_user of the mock
 * @dev: Device the domain is allocated for
 * @flags: IOMMU_HWPT_ALLOC_* flags; only NEST_PARENT is supported
 * @parent: Must be NULL: nested domains are made through a vIOMMU
 * @user_data: Must be NULL for the same reason
 *
 * Return: a new paging domain, or ERR_PTR(-EOPNOTSUPP) / ERR_PTR(-ENOMEM).
 */
struct iommu_domain *mock_domain_alloc_user(struct device *dev, u32 flags,
					    struct iommu_domain *parent,
					    const struct iommu_user_data *user_data)
{
	struct mock_domain *mdom;

	if (flags & ~IOMMU_HWPT_ALLOC_NEST_PARENT)
		return ERR_PTR(-EOPNOTSUPP);
	if (parent || user_data)
		return ERR_PTR(-EOPNOTSUPP);

	mdom = kzalloc(sizeof(*mdom), GFP_KERNEL);
	if (!mdom)
		return ERR_PTR(-ENOMEM);
	mdom->s2 = arm_vsmmu_s2_alloc(mock_num_psmmus());
	if (!mdom->s2) {
		kfree(mdom);
		return ERR_PTR(-ENOMEM);
	}
	mdom->nest_parent = flags & IOMMU_HWPT_ALLOC_NEST_PARENT;
	xa_init(&mdom->pfns);
	mdom->domain.type = IOMMU_DOMAIN_UNMANAGED;
	mdom->domain.ops = &mock_paging_ops;
	mdom->domain.pgsize_bitmap = PAGE_SIZE;
	mdom->domain.geometry.aperture_start = 0;
	mdom->domain.geometry.aperture_end = BIT_ULL(MOCK_IOVA_BITS) - 1;
	mdom->domain.geometry.force_aperture = true;
	return &mdom->domain;
}

/**
 * mock_domain_alloc_paging() - iommu_ops::domain_alloc_paging of the mock
 * @dev: Device the domain is allocated for
 *
 * The kernel's own paging domains, iommu_paging_domain_alloc(): what VFIO's
 * type1 containers attach to. The same stage-2 domain as an iommufd HWPT
 * without flags.
 *
 * Return: a new paging domain, or ERR_PTR(-ENOMEM).
 */
struct iommu_domain *mock_domain_alloc_paging(struct device *dev)
{
	return mock_domain_alloc_user(dev, 0, NULL, NULL);
}

/**
 * mock_domain_to_nest_parent() - Get a mock nesting parent domain
 * @domain: Any IOMMU domain
 *
 * Return: the mock paging domain of @domain if it was allocated with
 * IOMMU_HWPT_ALLOC_NEST_PARENT, otherwise NULL.
 */
struct mock_domain *mock_domain_to_nest_parent(struct iommu_domain *domain)
{
	struct mock_domain *mdom;

	if (domain->ops != &mock_paging_ops)
		return NULL;
	mdom = to_mock_domain(domain);
	return mdom->nest_parent ? mdom : NULL;
}
