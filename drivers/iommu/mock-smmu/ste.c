// SPDX-License-Identifier: GPL-2.0-only
/*
 * Mock SMMU stream tables: each pSMMU keeps one physical Stream Table Entry
 * per StreamID in use, laid out as the SMMUv3 architecture defines it, and
 * rewrites it whenever the attachment of the device changes. Tests read it
 * back with MOCK_SMMU_GET_STE.
 */
#include <linux/bitfield.h>
#include <linux/lockdep.h>
#include <linux/string.h>

#include "mock-smmu.h"

/**
 * mock_stream_add() - Add the StreamID of a new mock device to its pSMMU
 * @mdev: The mock device; @mdev->psmmu and @mdev->sid must be set
 *
 * The device starts with a valid abort STE, as if it were attached to a
 * blocking domain.
 *
 * Return: 0, -EEXIST if the StreamID is in use on that pSMMU, or -ENOMEM.
 */
int mock_stream_add(struct mock_dev *mdev)
{
	struct mock_psmmu *psmmu = mdev->psmmu;
	int rc;

	mock_ste_make_abort(&mdev->ste);
	mutex_lock(&psmmu->lock);
	rc = xa_insert(&psmmu->streams, mdev->sid, mdev, GFP_KERNEL);
	if (!rc && mdev->pci)
		psmmu->nr_pci_devices++;
	else if (!rc)
		psmmu->nr_devices++;
	mutex_unlock(&psmmu->lock);
	return rc == -EBUSY ? -EEXIST : rc;
}

/**
 * mock_stream_remove() - Remove the StreamID of a mock device from its pSMMU
 * @mdev: The mock device, no longer known to the IOMMU core
 *
 * Once this returns, MOCK_SMMU_GET_STE no longer reads @mdev, which the
 * caller may then free.
 */
void mock_stream_remove(struct mock_dev *mdev)
{
	struct mock_psmmu *psmmu = mdev->psmmu;

	mutex_lock(&psmmu->lock);
	if (WARN_ON(xa_erase(&psmmu->streams, mdev->sid) != mdev))
		goto out;
	if (mdev->pci)
		psmmu->nr_pci_devices--;
	else
		psmmu->nr_devices--;
out:
	mutex_unlock(&psmmu->lock);
}

/**
 * mock_ste_make_abort() - Build a valid STE that aborts all traffic
 * @ste: The STE to fill
 */
void mock_ste_make_abort(struct mock_ste *ste)
{
	memset(ste, 0, sizeof(*ste));
	ste->data[0] = STRTAB_STE_0_V |
		       FIELD_PREP(STRTAB_STE_0_CFG, STRTAB_STE_0_CFG_ABORT);
}

/**
 * mock_ste_make_s2() - Build a stage-2 only translating STE
 * @ste: The STE to fill
 * @vmid: The S2VMID the pSMMU gave the stage-2 domain
 */
void mock_ste_make_s2(struct mock_ste *ste, u16 vmid)
{
	memset(ste, 0, sizeof(*ste));
	ste->data[0] = STRTAB_STE_0_V |
		       FIELD_PREP(STRTAB_STE_0_CFG, STRTAB_STE_0_CFG_S2_TRANS);
	ste->data[2] = FIELD_PREP(STRTAB_STE_2_S2VMID, vmid);
}

/**
 * mock_ste_install() - Write a device's entry in its pSMMU's stream table
 * @mdev: The mock device
 * @target: The new STE
 * @domain: The domain @target implements, now the device's domain
 *
 * The caller holds the lock of @mdev->psmmu.
 */
void mock_ste_install(struct mock_dev *mdev, const struct mock_ste *target,
		      struct iommu_domain *domain)
{
	lockdep_assert_held(&mdev->psmmu->lock);
	mdev->ste = *target;
	mdev->domain = domain;
}

/**
 * mock_ste_read() - Read the STE of a StreamID, for MOCK_SMMU_GET_STE
 * @psmmu: The pSMMU
 * @sid: The StreamID
 * @ste: Output, the STE's words
 *
 * Return: 0, or -ENOENT if no mock device uses @sid behind @psmmu.
 */
int mock_ste_read(struct mock_psmmu *psmmu, u32 sid,
		  u64 ste[STRTAB_STE_DWORDS])
{
	struct mock_dev *mdev;
	int rc = -ENOENT;

	mutex_lock(&psmmu->lock);
	mdev = xa_load(&psmmu->streams, sid);
	if (mdev) {
		memcpy(ste, mdev->ste.data, sizeof(mdev->ste.data));
		rc = 0;
	}
	mutex_unlock(&psmmu->lock);
	return rc;
}
