// SPDX-License-Identifier: GPL-2.0-only
/*
 * Mock SMMU nested domains: a guest's Stream Table Entry on top of a
 * vIOMMU's nesting parent, as IOMMU_HWPT_ALLOC with IOMMU_HWPT_DATA_ARM_SMMUV3
 * creates them on a vIOMMU.
 *
 * The guest STE is checked against the fields a guest may set. Attaching
 * the domain writes the device's physical STE on its pSMMU: the guest's
 * stage-1 fields with the vIOMMU's stage 2 under that pSMMU's VMID (Config
 * nested, events merged), a stage-2 only STE for a guest bypass STE, and an
 * abort STE for a guest abort STE or one with V = 0.
 */
#include <linux/bitfield.h>
#include <linux/iommufd_viommu.h>
#include <linux/slab.h>
#include <uapi/linux/iommufd.h>

#include "mock-smmu.h"

static struct mock_nested *to_mock_nested(struct iommu_domain *domain)
{
	return container_of(domain, struct mock_nested, domain);
}

/**
 * mock_nested_s1() - The nested domain behind a domain, if it translates
 * @domain: A domain of the mock, or NULL
 *
 * Return: the nested domain if @domain is one with a stage-1 translating
 * guest STE, NULL otherwise.
 */
struct mock_nested *mock_nested_s1(struct iommu_domain *domain)
{
	struct mock_nested *nested;

	if (!domain || domain->type != IOMMU_DOMAIN_NESTED)
		return NULL;
	nested = to_mock_nested(domain);
	return nested->cfg == STRTAB_STE_0_CFG_S1_TRANS ? nested : NULL;
}

/**
 * mock_nested_vsmmu() - The vIOMMU of a nested domain
 * @domain: A domain, or NULL
 *
 * Return: the vIOMMU @domain was allocated on, or NULL if @domain is not a
 * nested domain.
 */
struct arm_vsmmu *mock_nested_vsmmu(struct iommu_domain *domain)
{
	if (!domain || domain->type != IOMMU_DOMAIN_NESTED)
		return NULL;
	return to_mock_nested(domain)->vsmmu;
}

/* Whether the STE of a nested domain uses its vIOMMU's VMID */
static bool mock_nested_uses_vmid(struct mock_nested *nested)
{
	return nested->cfg == STRTAB_STE_0_CFG_S1_TRANS ||
	       nested->cfg == STRTAB_STE_0_CFG_BYPASS;
}

/**
 * mock_nested_put_ste() - An STE of a device left a nested domain
 * @domain: The nested domain
 * @psmmu: The pSMMU of the device, whose STE was rewritten
 */
void mock_nested_put_ste(struct iommu_domain *domain, struct mock_psmmu *psmmu)
{
	struct mock_nested *nested = to_mock_nested(domain);
	int pidx = arm_vsmmu_pidx(nested->vsmmu, &psmmu->vsmmu);

	if (mock_nested_uses_vmid(nested) && !WARN_ON(pidx < 0))
		arm_vsmmu_ste_put(nested->vsmmu, pidx,
				  nested->cfg == STRTAB_STE_0_CFG_S1_TRANS);
}

static int mock_nested_attach_dev(struct iommu_domain *domain,
				  struct device *dev)
{
	struct mock_nested *nested = to_mock_nested(domain);
	struct mock_dev *mdev = mock_dev_from_dev(dev);
	struct arm_vsmmu *vsmmu = nested->vsmmu;
	struct mock_ste target;
	u16 vmid;
	int pidx;

	pidx = arm_vsmmu_pidx(vsmmu, &mdev->psmmu->vsmmu);
	if (pidx < 0)
		return pidx;
	/*
	 * The guest's stage 1 is tagged with its vSID: it must have one. The
	 * domain the device is attached to is the exception: when a replace
	 * fails, the IOMMU core attaches it again and must not fail, even if
	 * the vDEVICE was destroyed meanwhile.
	 */
	if (nested->cfg == STRTAB_STE_0_CFG_S1_TRANS &&
	    mdev->domain != domain && !mock_viommu_has_vdev(vsmmu, mdev))
		return -ENOENT;

	vmid = vsmmu->pinst[pidx].vmid;
	switch (nested->cfg) {
	case STRTAB_STE_0_CFG_S1_TRANS:
		mock_ste_make_s2(&target, vmid);
		target.data[0] &= ~STRTAB_STE_0_CFG;
		target.data[0] |= FIELD_PREP(STRTAB_STE_0_CFG,
					     STRTAB_STE_0_CFG_NESTED) |
				  nested->s1[0];
		/* Events of the stage-1 are merged, so a guest cannot flood */
		target.data[1] = nested->s1[1] | STRTAB_STE_1_MEV;
		if (nested->ats)
			target.data[1] |= FIELD_PREP(STRTAB_STE_1_EATS,
						     STRTAB_STE_1_EATS_TRANS);
		break;
	case STRTAB_STE_0_CFG_BYPASS:
		/* The guest sees bypass; the device still goes through S2 */
		mock_ste_make_s2(&target, vmid);
		break;
	default:
		mock_ste_make_abort(&target);
		break;
	}

	/* Guest invalidations reach the pSMMU before the STE can be used */
	if (mock_nested_uses_vmid(nested))
		arm_vsmmu_ste_get(vsmmu, pidx,
				  nested->cfg == STRTAB_STE_0_CFG_S1_TRANS);
	mock_dev_set_domain(mdev, &target, domain);
	return 0;
}

static void mock_nested_free(struct iommu_domain *domain)
{
	kfree(to_mock_nested(domain));
}

static const struct iommu_domain_ops mock_nested_ops = {
	.attach_dev = mock_nested_attach_dev,
	.free = mock_nested_free,
};

/*
 * Check a guest STE as UAPI-FACTS §6 describes and keep its stage-1 part.
 * Return 0 or -EIO.
 */
static int mock_nested_parse_vste(struct mock_nested *nested, u64 ste0,
				  u64 ste1)
{
	u64 eats;

	if (!(ste0 & STRTAB_STE_0_V)) {
		/* An invalid STE aborts, as if the guest had written abort */
		nested->cfg = STRTAB_STE_0_CFG_ABORT;
		return 0;
	}
	if ((ste0 & ~MOCK_VSTE0_ALLOWED) || (ste1 & ~MOCK_VSTE1_ALLOWED))
		return -EIO;

	nested->cfg = FIELD_GET(STRTAB_STE_0_CFG, ste0);
	if (nested->cfg != STRTAB_STE_0_CFG_ABORT &&
	    nested->cfg != STRTAB_STE_0_CFG_BYPASS &&
	    nested->cfg != STRTAB_STE_0_CFG_S1_TRANS)
		return -EIO;

	eats = FIELD_GET(STRTAB_STE_1_EATS, ste1);
	if (eats > STRTAB_STE_1_EATS_TRANS)
		return -EIO;
	/* The physical EATS is the driver's choice, not the guest's */
	nested->ats = nested->cfg == STRTAB_STE_0_CFG_S1_TRANS && eats;
	nested->s1[0] = ste0 & STRTAB_STE_0_S1_FIELDS;
	nested->s1[1] = ste1 & STRTAB_STE_1_S1_FIELDS;
	return 0;
}

/**
 * mock_viommu_alloc_domain_nested() - Nested domain of a mock vIOMMU
 * @viommu: The vIOMMU
 * @flags: IOMMU_HWPT_ALLOC flags left by the core; none is supported
 * @user_data: A struct iommu_hwpt_arm_smmuv3
 *
 * The core checked that the device is behind a pSMMU the vIOMMU spans.
 *
 * Return: the domain, or ERR_PTR(-EOPNOTSUPP) for flags, -EINVAL for a
 * wrong data type or length, -EIO for an STE a guest may not set, -ENOMEM.
 */
struct iommu_domain *
mock_viommu_alloc_domain_nested(struct iommufd_viommu *viommu, u32 flags,
				const struct iommu_user_data *user_data)
{
	struct iommu_hwpt_arm_smmuv3 arg;
	struct mock_nested *nested;
	int rc;

	if (flags)
		return ERR_PTR(-EOPNOTSUPP);
	rc = iommu_copy_struct_from_user(&arg, user_data,
					 IOMMU_HWPT_DATA_ARM_SMMUV3, ste);
	if (rc)
		return ERR_PTR(rc);

	nested = kzalloc(sizeof(*nested), GFP_KERNEL);
	if (!nested)
		return ERR_PTR(-ENOMEM);
	rc = mock_nested_parse_vste(nested, le64_to_cpu(arg.ste[0]),
				    le64_to_cpu(arg.ste[1]));
	if (rc) {
		kfree(nested);
		return ERR_PTR(rc);
	}
	nested->vsmmu = to_arm_vsmmu(viommu);
	nested->domain.type = IOMMU_DOMAIN_NESTED;
	nested->domain.ops = &mock_nested_ops;
	return &nested->domain;
}
