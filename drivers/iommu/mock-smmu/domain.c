// SPDX-License-Identifier: GPL-2.0-only
/*
 * Mock SMMU paging domains: a real, if simple, IOVA -> PA table kept in an
 * xarray indexed by IOVA page frame, so that IOAS_MAP/UNMAP through iommufd
 * and iova_to_phys() behave as with a hardware page table.
 *
 * A paging domain is a stage-2 table. Devices behind any pSMMU may attach to
 * it; each pSMMU tags the domain's TLB entries with a VMID of its own, which
 * it allocates at the first attach of one of its devices and frees when the
 * domain is freed.
 */
#include <linux/overflow.h>
#include <linux/slab.h>
#include <uapi/linux/iommufd.h>

#include "mock-smmu.h"

#define MOCK_IOVA_BITS 48

static int mock_domain_attach_dev(struct iommu_domain *domain,
				  struct device *dev)
{
	struct mock_domain *mdom = to_mock_domain(domain);
	struct mock_dev *mdev = mock_dev_from_dev(dev);
	struct mock_psmmu *psmmu = mdev->psmmu;
	struct mock_ste target;
	int vmid;

	mutex_lock(&psmmu->lock);
	vmid = mdom->vmids[psmmu->idx];
	if (!vmid) {
		vmid = mock_psmmu_alloc_vmid(psmmu);
		if (vmid < 0) {
			mutex_unlock(&psmmu->lock);
			return vmid;
		}
		mdom->vmids[psmmu->idx] = vmid;
	}
	mock_ste_make_s2(&target, vmid);
	mock_ste_install(mdev, &target, domain);
	mutex_unlock(&psmmu->lock);
	return 0;
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
	return i * PAGE_SIZE;
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
	struct mock_psmmu *psmmu;
	unsigned int i;

	/* iommufd unmaps everything before it frees a domain */
	WARN_ON(!xa_empty(&mdom->pfns));
	xa_destroy(&mdom->pfns);
	/* No device is attached any more: return the VMIDs */
	for (i = 0; i != mdom->num_psmmus; i++) {
		if (!mdom->vmids[i])
			continue;
		psmmu = mock_psmmu_get(i);
		mutex_lock(&psmmu->lock);
		mock_psmmu_free_vmid(psmmu, mdom->vmids[i]);
		mutex_unlock(&psmmu->lock);
	}
	kfree(mdom);
}

static const struct iommu_domain_ops mock_paging_ops = {
	.attach_dev = mock_domain_attach_dev,
	.map_pages = mock_domain_map_pages,
	.unmap_pages = mock_domain_unmap_pages,
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
	unsigned int num_psmmus = mock_num_psmmus();
	struct mock_domain *mdom;

	if (flags & ~IOMMU_HWPT_ALLOC_NEST_PARENT)
		return ERR_PTR(-EOPNOTSUPP);
	if (parent || user_data)
		return ERR_PTR(-EOPNOTSUPP);

	mdom = kzalloc(struct_size(mdom, vmids, num_psmmus), GFP_KERNEL);
	if (!mdom)
		return ERR_PTR(-ENOMEM);
	mdom->num_psmmus = num_psmmus;
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
