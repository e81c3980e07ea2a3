/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Test interface of the mock SMMU driver (mock_smmu.ko).
 *
 * The module registers several mock physical SMMU instances (pSMMUs) and
 * offers /dev/mock_smmu. A test opens it, creates mock devices with a
 * StreamID behind a chosen pSMMU and binds them to an iommufd context the
 * way VFIO binds its devices. Every device belongs to the file that created
 * it: closing the file unbinds and removes its devices, as closing a VFIO
 * device file would.
 *
 * This interface is for tests only and is not part of iommufd.
 */
#ifndef _MOCK_SMMU_H
#define _MOCK_SMMU_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define MOCK_SMMU_DEV_PATH "/dev/mock_smmu"
#define MOCK_SMMU_TYPE 0xb5

/**
 * struct mock_smmu_info - ioctl(MOCK_SMMU_GET_INFO)
 * @num_psmmus: Number of mock pSMMU instances (module parameter num_psmmus)
 * @__reserved: Returned as 0
 */
struct mock_smmu_info {
	__u32 num_psmmus;
	__u32 __reserved;
};

#define MOCK_SMMU_GET_INFO _IOR(MOCK_SMMU_TYPE, 0, struct mock_smmu_info)

/**
 * struct mock_smmu_dev_create - ioctl(MOCK_SMMU_DEV_CREATE)
 * @psmmu: Index of the pSMMU instance the device sits behind
 * @sid: Its StreamID on that instance
 * @out_dev: Handle of the new mock device, for the other ioctls
 * @__reserved: Must be 0
 *
 * Creates a platform device that the pSMMU probes into an iommu group.
 * Errors: EINVAL for an unknown @psmmu or a non-zero @__reserved, EEXIST
 * when @sid is already used behind @psmmu.
 */
struct mock_smmu_dev_create {
	__u32 psmmu;
	__u32 sid;
	__u32 out_dev;
	__u32 __reserved;
};

#define MOCK_SMMU_DEV_CREATE _IOWR(MOCK_SMMU_TYPE, 1, struct mock_smmu_dev_create)

/**
 * struct mock_smmu_dev_cmd - argument of the per-device ioctls
 * @dev: Handle from MOCK_SMMU_DEV_CREATE (ENOENT if unknown)
 * @iommufd: MOCK_SMMU_DEV_BIND: an open /dev/iommu file descriptor
 * @pt_id: MOCK_SMMU_DEV_ATTACH: IOAS or HWPT to attach to
 * @out_id: MOCK_SMMU_DEV_BIND: the device's dev_id in that iommufd;
 *          MOCK_SMMU_DEV_ATTACH: the HWPT the device is attached to
 *
 * MOCK_SMMU_DEV_BIND binds like VFIO_DEVICE_BIND_IOMMUFD: EINVAL if the
 * device is already bound, EBADF if @iommufd is not an open file and
 * EBADFD if it is not /dev/iommu.
 * MOCK_SMMU_DEV_ATTACH attaches a bound device, or replaces its attachment
 * atomically when it is attached already (VFIO_DEVICE_ATTACH_IOMMUFD_PT).
 * MOCK_SMMU_DEV_DETACH detaches it (nothing to do when not attached).
 * MOCK_SMMU_DEV_UNBIND detaches and unbinds it. MOCK_SMMU_DEV_DESTROY
 * unbinds it if needed and removes the device. The per-device ioctls on a
 * device that is not bound fail with EINVAL.
 */
struct mock_smmu_dev_cmd {
	__u32 dev;
	__s32 iommufd;
	__u32 pt_id;
	__u32 out_id;
};

#define MOCK_SMMU_DEV_DESTROY _IOW(MOCK_SMMU_TYPE, 2, struct mock_smmu_dev_cmd)
#define MOCK_SMMU_DEV_BIND _IOWR(MOCK_SMMU_TYPE, 3, struct mock_smmu_dev_cmd)
#define MOCK_SMMU_DEV_UNBIND _IOW(MOCK_SMMU_TYPE, 4, struct mock_smmu_dev_cmd)
#define MOCK_SMMU_DEV_ATTACH _IOWR(MOCK_SMMU_TYPE, 5, struct mock_smmu_dev_cmd)
#define MOCK_SMMU_DEV_DETACH _IOW(MOCK_SMMU_TYPE, 6, struct mock_smmu_dev_cmd)

#endif /* _MOCK_SMMU_H */
