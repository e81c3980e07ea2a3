/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the iommufd vIOMMU kselftests: thin wrappers around the
 * iommufd ioctls and the mock SMMU test interface that return 0 or -errno,
 * so tests can assert exact error codes with ASSERT_EQ(-EXXX, ...).
 */
#ifndef __IOMMUFD_VIOMMU_UTILS_H
#define __IOMMUFD_VIOMMU_UTILS_H

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/iommufd.h>

#include "mock_smmu.h"

static inline int ioctl_errno(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

static inline int iommufd_open(void)
{
	return open("/dev/iommu", O_RDWR);
}

static inline int mock_open(void)
{
	return open(MOCK_SMMU_DEV_PATH, O_RDWR);
}

static inline int ioas_alloc(int fd, uint32_t *ioas_id)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };
	int rc = ioctl_errno(fd, IOMMU_IOAS_ALLOC, &cmd);

	if (!rc && ioas_id)
		*ioas_id = cmd.out_ioas_id;
	return rc;
}

static inline int iommufd_destroy(int fd, uint32_t id)
{
	struct iommu_destroy cmd = { .size = sizeof(cmd), .id = id };

	return ioctl_errno(fd, IOMMU_DESTROY, &cmd);
}

static inline int ioas_map(int fd, uint32_t ioas_id, void *buf, size_t len,
			   uint64_t iova)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas_id,
		.user_va = (uintptr_t)buf,
		.length = len,
		.iova = iova,
	};

	return ioctl_errno(fd, IOMMU_IOAS_MAP, &cmd);
}

static inline int ioas_unmap(int fd, uint32_t ioas_id, uint64_t iova,
			     uint64_t len)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.iova = iova,
		.length = len,
	};

	return ioctl_errno(fd, IOMMU_IOAS_UNMAP, &cmd);
}

static inline int hwpt_alloc(int fd, uint32_t dev_id, uint32_t pt_id,
			     uint32_t flags, uint32_t data_type,
			     void *data, uint32_t data_len, uint32_t *hwpt_id)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dev_id = dev_id,
		.pt_id = pt_id,
		.data_type = data_type,
		.data_len = data_len,
		.data_uptr = (uintptr_t)data,
	};
	int rc = ioctl_errno(fd, IOMMU_HWPT_ALLOC, &cmd);

	if (!rc && hwpt_id)
		*hwpt_id = cmd.out_hwpt_id;
	return rc;
}

static inline int get_hw_info(int fd, uint32_t dev_id, void *data,
			      uint32_t len, uint32_t *type)
{
	struct iommu_hw_info cmd = {
		.size = sizeof(cmd),
		.dev_id = dev_id,
		.data_len = len,
		.data_uptr = (uintptr_t)data,
	};
	int rc = ioctl_errno(fd, IOMMU_GET_HW_INFO, &cmd);

	if (!rc && type)
		*type = cmd.out_data_type;
	return rc;
}

static inline int mock_num_psmmus(int mfd)
{
	struct mock_smmu_info info = {};

	if (ioctl(mfd, MOCK_SMMU_GET_INFO, &info))
		return -errno;
	return info.num_psmmus;
}

static inline int mock_dev_create(int mfd, uint32_t psmmu, uint32_t sid,
				  uint32_t *dev)
{
	struct mock_smmu_dev_create cmd = { .psmmu = psmmu, .sid = sid };
	int rc = ioctl_errno(mfd, MOCK_SMMU_DEV_CREATE, &cmd);

	if (!rc && dev)
		*dev = cmd.out_dev;
	return rc;
}

static inline int mock_dev_cmd(int mfd, unsigned long ioctl_nr, uint32_t dev,
			       int iommufd, uint32_t pt_id, uint32_t *out_id)
{
	struct mock_smmu_dev_cmd cmd = {
		.dev = dev,
		.iommufd = iommufd,
		.pt_id = pt_id,
	};
	int rc = ioctl_errno(mfd, ioctl_nr, &cmd);

	if (!rc && out_id)
		*out_id = cmd.out_id;
	return rc;
}

static inline int mock_dev_bind(int mfd, uint32_t dev, int iommufd,
				uint32_t *dev_id)
{
	return mock_dev_cmd(mfd, MOCK_SMMU_DEV_BIND, dev, iommufd, 0, dev_id);
}

static inline int mock_dev_attach(int mfd, uint32_t dev, uint32_t pt_id,
				  uint32_t *hwpt_id)
{
	return mock_dev_cmd(mfd, MOCK_SMMU_DEV_ATTACH, dev, -1, pt_id, hwpt_id);
}

static inline int mock_dev_detach(int mfd, uint32_t dev)
{
	return mock_dev_cmd(mfd, MOCK_SMMU_DEV_DETACH, dev, -1, 0, NULL);
}

static inline int mock_dev_unbind(int mfd, uint32_t dev)
{
	return mock_dev_cmd(mfd, MOCK_SMMU_DEV_UNBIND, dev, -1, 0, NULL);
}

static inline int mock_dev_destroy(int mfd, uint32_t dev)
{
	return mock_dev_cmd(mfd, MOCK_SMMU_DEV_DESTROY, dev, -1, 0, NULL);
}

/* vIOMMU / vDEVICE (IOMMU_VIOMMU_ALLOC, IOMMU_VDEVICE_ALLOC) */

static inline int viommu_alloc(int fd, uint32_t flags, uint32_t type,
			       uint32_t dev_id, uint32_t hwpt_id,
			       uint32_t *viommu_id)
{
	struct iommu_viommu_alloc cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.type = type,
		.dev_id = dev_id,
		.hwpt_id = hwpt_id,
	};
	int rc = ioctl_errno(fd, IOMMU_VIOMMU_ALLOC, &cmd);

	if (!rc && viommu_id)
		*viommu_id = cmd.out_viommu_id;
	return rc;
}

/* An ARM SMMUv3 vIOMMU; @span sets IOMMU_VIOMMU_ALLOC_FLAG_SPAN */
static inline int viommu_alloc_smmu(int fd, int span, uint32_t dev_id,
				    uint32_t hwpt_id, uint32_t *viommu_id)
{
	return viommu_alloc(fd, span ? IOMMU_VIOMMU_ALLOC_FLAG_SPAN : 0,
			    IOMMU_VIOMMU_TYPE_ARM_SMMUV3, dev_id, hwpt_id,
			    viommu_id);
}

/* IOMMU_VDEVICE_ALLOC, or its alias IOMMU_VIOMMU_SET_DEV_ID, by @ioctl_nr */
static inline int vdevice_alloc_nr(int fd, unsigned long ioctl_nr,
				   uint32_t viommu_id, uint32_t dev_id,
				   uint64_t virt_id, uint32_t *vdevice_id)
{
	struct iommu_vdevice_alloc cmd = {
		.size = sizeof(cmd),
		.viommu_id = viommu_id,
		.dev_id = dev_id,
		.virt_id = virt_id,
	};
	int rc = ioctl_errno(fd, ioctl_nr, &cmd);

	if (!rc && vdevice_id)
		*vdevice_id = cmd.out_vdevice_id;
	return rc;
}

static inline int vdevice_alloc(int fd, uint32_t viommu_id, uint32_t dev_id,
				uint64_t virt_id, uint32_t *vdevice_id)
{
	return vdevice_alloc_nr(fd, IOMMU_VDEVICE_ALLOC, viommu_id, dev_id,
				virt_id, vdevice_id);
}

/* A stage-2 nesting parent HWPT on @pt_id for @dev_id */
static inline int hwpt_alloc_nest_parent(int fd, uint32_t dev_id,
					 uint32_t pt_id, uint32_t *hwpt_id)
{
	return hwpt_alloc(fd, dev_id, pt_id, IOMMU_HWPT_ALLOC_NEST_PARENT,
			  IOMMU_HWPT_DATA_NONE, NULL, 0, hwpt_id);
}

/* Mock SMMU state read-back */

static inline int mock_dev_create_bind(int mfd, int fd, uint32_t psmmu,
				       uint32_t sid, uint32_t *dev,
				       uint32_t *dev_id)
{
	uint32_t handle;
	int rc = mock_dev_create(mfd, psmmu, sid, &handle);

	if (rc)
		return rc;
	if (dev)
		*dev = handle;
	return mock_dev_bind(mfd, handle, fd, dev_id);
}

static inline int mock_get_ste(int mfd, uint32_t psmmu, uint32_t sid,
			       uint64_t ste[4])
{
	struct mock_smmu_get_ste cmd = { .psmmu = psmmu, .sid = sid };
	int rc = ioctl_errno(mfd, MOCK_SMMU_GET_STE, &cmd);

	if (!rc && ste)
		memcpy(ste, cmd.ste, sizeof(cmd.ste));
	return rc;
}

static inline int mock_get_counters(int mfd, uint32_t psmmu,
				    struct mock_smmu_counters *cnt)
{
	memset(cnt, 0, sizeof(*cnt));
	cnt->psmmu = psmmu;
	return ioctl_errno(mfd, MOCK_SMMU_GET_COUNTERS, cnt);
}

#endif /* __IOMMUFD_VIOMMU_UTILS_H */
