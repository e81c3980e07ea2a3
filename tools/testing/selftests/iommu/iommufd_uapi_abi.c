// SPDX-License-Identifier: GPL-2.0-only
/*
 * The uAPI this project shares with upstream Linux (6.13 and later) must
 * keep upstream's ABI, so that a VMM built against newer kernel headers
 * works unchanged.
 *
 * What the installed linux/iommufd.h says (struct sizes, field offsets,
 * ioctl numbers, enum values) is known at compile time and checked with
 * static_assert against upstream's values: a mismatch fails the build,
 * naming the field. What only the kernel knows is checked at run time:
 * that it serves every ioctl number of the header.
 */
#include <assert.h>
#include <errno.h>
#include <stddef.h>

#include "kselftest_harness.h"
#include "iommufd_viommu_utils.h"

#define ABI_SIZE(type, sz) \
	static_assert(sizeof(struct type) == (sz), "sizeof(struct " #type ")")
#define ABI_OFF(type, field, off) \
	static_assert(offsetof(struct type, field) == (off), \
		      "offsetof(struct " #type ", " #field ")")
#define ABI_VAL(expr, val) static_assert((expr) == (val), #expr)

ABI_SIZE(iommu_viommu_alloc, 24);
ABI_OFF(iommu_viommu_alloc, size, 0);
ABI_OFF(iommu_viommu_alloc, flags, 4);
ABI_OFF(iommu_viommu_alloc, type, 8);
ABI_OFF(iommu_viommu_alloc, dev_id, 12);
ABI_OFF(iommu_viommu_alloc, hwpt_id, 16);
ABI_OFF(iommu_viommu_alloc, out_viommu_id, 20);
static_assert(sizeof(((struct iommu_viommu_alloc *)0)->out_viommu_id) == 4,
	      "sizeof(struct iommu_viommu_alloc.out_viommu_id)");

ABI_SIZE(iommu_vdevice_alloc, 24);
ABI_OFF(iommu_vdevice_alloc, size, 0);
ABI_OFF(iommu_vdevice_alloc, viommu_id, 4);
ABI_OFF(iommu_vdevice_alloc, dev_id, 8);
ABI_OFF(iommu_vdevice_alloc, out_vdevice_id, 12);
ABI_OFF(iommu_vdevice_alloc, virt_id, 16);
static_assert(sizeof(((struct iommu_vdevice_alloc *)0)->virt_id) == 8,
	      "sizeof(struct iommu_vdevice_alloc.virt_id)");
ABI_VAL(__alignof__(struct iommu_vdevice_alloc), 8);

ABI_SIZE(iommu_hwpt_alloc, 48);
ABI_OFF(iommu_hwpt_alloc, size, 0);
ABI_OFF(iommu_hwpt_alloc, flags, 4);
ABI_OFF(iommu_hwpt_alloc, dev_id, 8);
ABI_OFF(iommu_hwpt_alloc, pt_id, 12);
ABI_OFF(iommu_hwpt_alloc, out_hwpt_id, 16);
ABI_OFF(iommu_hwpt_alloc, __reserved, 20);
ABI_OFF(iommu_hwpt_alloc, data_type, 24);
ABI_OFF(iommu_hwpt_alloc, data_len, 28);
ABI_OFF(iommu_hwpt_alloc, data_uptr, 32);
ABI_OFF(iommu_hwpt_alloc, fault_id, 40);
ABI_OFF(iommu_hwpt_alloc, __reserved2, 44);
ABI_VAL(IOMMU_HWPT_ALLOC_NEST_PARENT, 1 << 0);

ABI_SIZE(iommu_hwpt_invalidate, 32);
ABI_OFF(iommu_hwpt_invalidate, size, 0);
ABI_OFF(iommu_hwpt_invalidate, hwpt_id, 4);
ABI_OFF(iommu_hwpt_invalidate, data_uptr, 8);
ABI_OFF(iommu_hwpt_invalidate, data_type, 16);
ABI_OFF(iommu_hwpt_invalidate, entry_len, 20);
ABI_OFF(iommu_hwpt_invalidate, entry_num, 24);
ABI_OFF(iommu_hwpt_invalidate, __reserved, 28);

ABI_SIZE(iommu_hw_info, 40);
ABI_OFF(iommu_hw_info, size, 0);
ABI_OFF(iommu_hw_info, flags, 4);
ABI_OFF(iommu_hw_info, dev_id, 8);
ABI_OFF(iommu_hw_info, data_len, 12);
ABI_OFF(iommu_hw_info, data_uptr, 16);
ABI_OFF(iommu_hw_info, out_data_type, 24);
ABI_OFF(iommu_hw_info, out_max_pasid_log2, 28);
ABI_OFF(iommu_hw_info, __reserved, 29);
ABI_OFF(iommu_hw_info, out_capabilities, 32);

ABI_SIZE(iommu_hw_info_arm_smmuv3, 40);
ABI_OFF(iommu_hw_info_arm_smmuv3, flags, 0);
ABI_OFF(iommu_hw_info_arm_smmuv3, __reserved, 4);
ABI_OFF(iommu_hw_info_arm_smmuv3, idr, 8);
static_assert(sizeof(((struct iommu_hw_info_arm_smmuv3 *)0)->idr) == 6 * 4,
	      "sizeof(struct iommu_hw_info_arm_smmuv3.idr)");
ABI_OFF(iommu_hw_info_arm_smmuv3, iidr, 32);
ABI_OFF(iommu_hw_info_arm_smmuv3, aidr, 36);

ABI_SIZE(iommu_hwpt_arm_smmuv3, 16);
ABI_OFF(iommu_hwpt_arm_smmuv3, ste, 0);
static_assert(sizeof(((struct iommu_hwpt_arm_smmuv3 *)0)->ste) == 2 * 8,
	      "sizeof(struct iommu_hwpt_arm_smmuv3.ste)");

ABI_SIZE(iommu_viommu_arm_smmuv3_invalidate, 16);
ABI_OFF(iommu_viommu_arm_smmuv3_invalidate, cmd, 0);
static_assert(sizeof(((struct iommu_viommu_arm_smmuv3_invalidate *)0)->cmd) == 2 * 8,
	      "sizeof(struct iommu_viommu_arm_smmuv3_invalidate.cmd)");

/* vEVENTQ (upstream 6.15) */
ABI_SIZE(iommu_veventq_alloc, 32);
ABI_OFF(iommu_veventq_alloc, size, 0);
ABI_OFF(iommu_veventq_alloc, flags, 4);
ABI_OFF(iommu_veventq_alloc, viommu_id, 8);
ABI_OFF(iommu_veventq_alloc, type, 12);
ABI_OFF(iommu_veventq_alloc, veventq_depth, 16);
ABI_OFF(iommu_veventq_alloc, out_veventq_id, 20);
ABI_OFF(iommu_veventq_alloc, out_veventq_fd, 24);
ABI_OFF(iommu_veventq_alloc, __reserved, 28);

ABI_SIZE(iommufd_vevent_header, 8);
ABI_OFF(iommufd_vevent_header, flags, 0);
ABI_OFF(iommufd_vevent_header, sequence, 4);
ABI_VAL(IOMMU_VEVENTQ_FLAG_LOST_EVENTS, 1 << 0);

ABI_SIZE(iommu_vevent_arm_smmuv3, 32);
ABI_OFF(iommu_vevent_arm_smmuv3, evt, 0);
static_assert(sizeof(((struct iommu_vevent_arm_smmuv3 *)0)->evt) == 4 * 8,
	      "sizeof(struct iommu_vevent_arm_smmuv3.evt)");
ABI_VAL(__alignof__(struct iommu_vevent_arm_smmuv3), 8);

ABI_VAL(IOMMU_VEVENTQ_TYPE_DEFAULT, 0);
ABI_VAL(IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 1);

/* _IO(';', nr): no size or direction bits */
ABI_VAL(IOMMUFD_CMD_VIOMMU_ALLOC, 0x90);
ABI_VAL(IOMMUFD_CMD_VDEVICE_ALLOC, 0x91);
ABI_VAL(IOMMU_VIOMMU_ALLOC, 0x3b90);
ABI_VAL(IOMMU_VDEVICE_ALLOC, 0x3b91);
ABI_VAL(IOMMUFD_CMD_VEVENTQ_ALLOC, 0x93);
ABI_VAL(IOMMU_VEVENTQ_ALLOC, 0x3b93);
ABI_VAL(IOMMU_VIOMMU_SET_DEV_ID, IOMMU_VDEVICE_ALLOC);
/* Those of 6.12 did not move */
ABI_VAL(IOMMU_DESTROY, 0x3b80);
ABI_VAL(IOMMU_HWPT_ALLOC, 0x3b89);
ABI_VAL(IOMMU_GET_HW_INFO, 0x3b8a);
ABI_VAL(IOMMU_HWPT_INVALIDATE, 0x3b8d);

ABI_VAL(IOMMU_VIOMMU_TYPE_DEFAULT, 0);
ABI_VAL(IOMMU_VIOMMU_TYPE_ARM_SMMUV3, 1);
ABI_VAL(IOMMU_HW_INFO_TYPE_ARM_SMMUV3, 2);
ABI_VAL(IOMMU_HWPT_DATA_ARM_SMMUV3, 2);
ABI_VAL(IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3, 1);
/* Unchanged 6.12 values next to them */
ABI_VAL(IOMMU_HW_INFO_TYPE_NONE, 0);
ABI_VAL(IOMMU_HW_INFO_TYPE_INTEL_VTD, 1);
ABI_VAL(IOMMU_HWPT_DATA_NONE, 0);
ABI_VAL(IOMMU_HWPT_DATA_VTD_S1, 1);
ABI_VAL(IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, 0);
/* The project's own flag stays clear of upstream's low bits */
ABI_VAL((unsigned int)IOMMU_VIOMMU_ALLOC_FLAG_SPAN, 1U << 31);

/*
 * Every ioctl of the header reaches iommufd's handler of it: with a size
 * below any struct's, the kernel answers EINVAL, where an unknown number
 * would get ENOTTY.
 */
TEST(ioctl_numbers_served)
{
	static const struct {
		const char *name;
		unsigned long nr;
	} ioctls[] = {
		{ "IOMMU_DESTROY", IOMMU_DESTROY },
		{ "IOMMU_HWPT_ALLOC", IOMMU_HWPT_ALLOC },
		{ "IOMMU_GET_HW_INFO", IOMMU_GET_HW_INFO },
		{ "IOMMU_HWPT_INVALIDATE", IOMMU_HWPT_INVALIDATE },
		{ "IOMMU_VIOMMU_ALLOC", IOMMU_VIOMMU_ALLOC },
		{ "IOMMU_VDEVICE_ALLOC", IOMMU_VDEVICE_ALLOC },
		{ "IOMMU_VEVENTQ_ALLOC", IOMMU_VEVENTQ_ALLOC },
	};
	uint32_t size = 0;
	unsigned int i;
	int fd;

	fd = iommufd_open();
	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(ioctls); i++) {
		ASSERT_EQ(-EINVAL, ioctl_errno(fd, ioctls[i].nr, &size))
			TH_LOG("%s", ioctls[i].name);
	}
	/* A number past the table is not served */
	ASSERT_EQ(-ENOTTY, ioctl_errno(fd, _IO(IOMMUFD_TYPE, 0xff), &size));
	close(fd);
}

TEST_HARNESS_MAIN
