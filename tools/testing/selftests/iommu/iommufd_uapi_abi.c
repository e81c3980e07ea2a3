// SPDX-License-Identifier: GPL-2.0-only
/*
 * The uAPI this project shares with upstream Linux (6.13 and later) must
 * keep upstream's ABI, so that a VMM built against newer kernel headers
 * works unchanged: check struct sizes, field offsets, ioctl numbers and
 * enum values of the installed linux/iommufd.h against upstream's values.
 *
 * Everything here is known at compile time; the checks run as tests so
 * that one mismatch reports which field is off instead of breaking the
 * build of every other test.
 */
#include <stddef.h>

#include "kselftest_harness.h"
#include <linux/iommufd.h>

#define ASSERT_SIZE(type, sz) ASSERT_EQ((size_t)(sz), sizeof(struct type))
#define ASSERT_OFF(type, field, off) \
	ASSERT_EQ((size_t)(off), offsetof(struct type, field))

TEST(iommu_viommu_alloc)
{
	struct iommu_viommu_alloc s;

	ASSERT_SIZE(iommu_viommu_alloc, 24);
	ASSERT_OFF(iommu_viommu_alloc, size, 0);
	ASSERT_OFF(iommu_viommu_alloc, flags, 4);
	ASSERT_OFF(iommu_viommu_alloc, type, 8);
	ASSERT_OFF(iommu_viommu_alloc, dev_id, 12);
	ASSERT_OFF(iommu_viommu_alloc, hwpt_id, 16);
	ASSERT_OFF(iommu_viommu_alloc, out_viommu_id, 20);
	ASSERT_EQ((size_t)(4), sizeof(s.out_viommu_id));
}

TEST(iommu_vdevice_alloc)
{
	struct iommu_vdevice_alloc s;

	ASSERT_SIZE(iommu_vdevice_alloc, 24);
	ASSERT_OFF(iommu_vdevice_alloc, size, 0);
	ASSERT_OFF(iommu_vdevice_alloc, viommu_id, 4);
	ASSERT_OFF(iommu_vdevice_alloc, dev_id, 8);
	ASSERT_OFF(iommu_vdevice_alloc, out_vdevice_id, 12);
	ASSERT_OFF(iommu_vdevice_alloc, virt_id, 16);
	ASSERT_EQ((size_t)(8), sizeof(s.virt_id));
	ASSERT_EQ(8, __alignof__(struct iommu_vdevice_alloc));
}

TEST(iommu_hwpt_alloc)
{
	ASSERT_SIZE(iommu_hwpt_alloc, 48);
	ASSERT_OFF(iommu_hwpt_alloc, size, 0);
	ASSERT_OFF(iommu_hwpt_alloc, flags, 4);
	ASSERT_OFF(iommu_hwpt_alloc, dev_id, 8);
	ASSERT_OFF(iommu_hwpt_alloc, pt_id, 12);
	ASSERT_OFF(iommu_hwpt_alloc, out_hwpt_id, 16);
	ASSERT_OFF(iommu_hwpt_alloc, __reserved, 20);
	ASSERT_OFF(iommu_hwpt_alloc, data_type, 24);
	ASSERT_OFF(iommu_hwpt_alloc, data_len, 28);
	ASSERT_OFF(iommu_hwpt_alloc, data_uptr, 32);
	ASSERT_OFF(iommu_hwpt_alloc, fault_id, 40);
	ASSERT_OFF(iommu_hwpt_alloc, __reserved2, 44);
	ASSERT_EQ(1 << 0, IOMMU_HWPT_ALLOC_NEST_PARENT);
}

TEST(iommu_hwpt_invalidate)
{
	ASSERT_SIZE(iommu_hwpt_invalidate, 32);
	ASSERT_OFF(iommu_hwpt_invalidate, size, 0);
	ASSERT_OFF(iommu_hwpt_invalidate, hwpt_id, 4);
	ASSERT_OFF(iommu_hwpt_invalidate, data_uptr, 8);
	ASSERT_OFF(iommu_hwpt_invalidate, data_type, 16);
	ASSERT_OFF(iommu_hwpt_invalidate, entry_len, 20);
	ASSERT_OFF(iommu_hwpt_invalidate, entry_num, 24);
	ASSERT_OFF(iommu_hwpt_invalidate, __reserved, 28);
}

TEST(iommu_hw_info)
{
	ASSERT_SIZE(iommu_hw_info, 40);
	ASSERT_OFF(iommu_hw_info, size, 0);
	ASSERT_OFF(iommu_hw_info, flags, 4);
	ASSERT_OFF(iommu_hw_info, dev_id, 8);
	ASSERT_OFF(iommu_hw_info, data_len, 12);
	ASSERT_OFF(iommu_hw_info, data_uptr, 16);
	ASSERT_OFF(iommu_hw_info, out_data_type, 24);
	ASSERT_OFF(iommu_hw_info, out_max_pasid_log2, 28);
	ASSERT_OFF(iommu_hw_info, __reserved, 29);
	ASSERT_OFF(iommu_hw_info, out_capabilities, 32);
}

TEST(iommu_hw_info_arm_smmuv3)
{
	struct iommu_hw_info_arm_smmuv3 s;

	ASSERT_SIZE(iommu_hw_info_arm_smmuv3, 40);
	ASSERT_OFF(iommu_hw_info_arm_smmuv3, flags, 0);
	ASSERT_OFF(iommu_hw_info_arm_smmuv3, __reserved, 4);
	ASSERT_OFF(iommu_hw_info_arm_smmuv3, idr, 8);
	ASSERT_EQ((size_t)(6 * 4), sizeof(s.idr));
	ASSERT_OFF(iommu_hw_info_arm_smmuv3, iidr, 32);
	ASSERT_OFF(iommu_hw_info_arm_smmuv3, aidr, 36);
}

TEST(iommu_hwpt_arm_smmuv3)
{
	struct iommu_hwpt_arm_smmuv3 s;

	ASSERT_SIZE(iommu_hwpt_arm_smmuv3, 16);
	ASSERT_OFF(iommu_hwpt_arm_smmuv3, ste, 0);
	ASSERT_EQ((size_t)(2 * 8), sizeof(s.ste));
}

TEST(iommu_viommu_arm_smmuv3_invalidate)
{
	struct iommu_viommu_arm_smmuv3_invalidate s;

	ASSERT_SIZE(iommu_viommu_arm_smmuv3_invalidate, 16);
	ASSERT_OFF(iommu_viommu_arm_smmuv3_invalidate, cmd, 0);
	ASSERT_EQ((size_t)(2 * 8), sizeof(s.cmd));
}

TEST(ioctl_numbers)
{
	/* _IO(';', nr): no size or direction bits */
	ASSERT_EQ(0x90, IOMMUFD_CMD_VIOMMU_ALLOC);
	ASSERT_EQ(0x91, IOMMUFD_CMD_VDEVICE_ALLOC);
	ASSERT_EQ(0x3b90, IOMMU_VIOMMU_ALLOC);
	ASSERT_EQ(0x3b91, IOMMU_VDEVICE_ALLOC);
	ASSERT_EQ(IOMMU_VDEVICE_ALLOC, IOMMU_VIOMMU_SET_DEV_ID);
	/* Those of 6.12 did not move */
	ASSERT_EQ(0x3b80, IOMMU_DESTROY);
	ASSERT_EQ(0x3b89, IOMMU_HWPT_ALLOC);
	ASSERT_EQ(0x3b8a, IOMMU_GET_HW_INFO);
	ASSERT_EQ(0x3b8d, IOMMU_HWPT_INVALIDATE);
}

TEST(enum_values)
{
	ASSERT_EQ(0, IOMMU_VIOMMU_TYPE_DEFAULT);
	ASSERT_EQ(1, IOMMU_VIOMMU_TYPE_ARM_SMMUV3);
	ASSERT_EQ(2, IOMMU_HW_INFO_TYPE_ARM_SMMUV3);
	ASSERT_EQ(2, IOMMU_HWPT_DATA_ARM_SMMUV3);
	ASSERT_EQ(1, IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3);
	/* Unchanged 6.12 values next to them */
	ASSERT_EQ(0, IOMMU_HW_INFO_TYPE_NONE);
	ASSERT_EQ(1, IOMMU_HW_INFO_TYPE_INTEL_VTD);
	ASSERT_EQ(0, IOMMU_HWPT_DATA_NONE);
	ASSERT_EQ(1, IOMMU_HWPT_DATA_VTD_S1);
	ASSERT_EQ(0, IOMMU_HWPT_INVALIDATE_DATA_VTD_S1);
	/* The project's own flag stays clear of upstream's low bits */
	ASSERT_EQ(1U << 31, (unsigned int)IOMMU_VIOMMU_ALLOC_FLAG_SPAN);
}

TEST_HARNESS_MAIN
