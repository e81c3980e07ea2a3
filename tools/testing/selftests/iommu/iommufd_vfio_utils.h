/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers of the selftests that take a VMM's real path: sysfs, and the
 * VFIO device cdev ioctls that bind a device to iommufd and attach it.
 */
#ifndef __SELFTEST_IOMMUFD_VFIO_UTILS_H
#define __SELFTEST_IOMMUFD_VFIO_UTILS_H

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <linux/vfio.h>

#include "iommufd_viommu_utils.h"

/* The contents of the sysfs file @path, without trailing blanks; -errno */
static inline int sysfs_read(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

/* Write @val to the sysfs file @path; 0 or -errno */
static inline int sysfs_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? -errno : 0;
}

/* VFIO_DEVICE_BIND_IOMMUFD of cdev @cfd to @iommufd; *@dev_id if not NULL */
static inline int vfio_bind_iommufd(int cfd, int iommufd, uint32_t *dev_id)
{
	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind),
		.iommufd = iommufd,
	};
	int rc = ioctl_errno(cfd, VFIO_DEVICE_BIND_IOMMUFD, &bind);

	if (!rc && dev_id)
		*dev_id = bind.out_devid;
	return rc;
}

/* VFIO_DEVICE_ATTACH_IOMMUFD_PT to @pt_id; *@out gets the pt_id back */
static inline int vfio_attach_pt(int cfd, uint32_t pt_id, uint32_t *out)
{
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
		.pt_id = pt_id,
	};
	int rc = ioctl_errno(cfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach);

	if (!rc && out)
		*out = attach.pt_id;
	return rc;
}

/* VFIO_DEVICE_DETACH_IOMMUFD_PT */
static inline int vfio_detach_pt(int cfd)
{
	struct vfio_device_detach_iommufd_pt detach = {
		.argsz = sizeof(detach),
	};

	return ioctl_errno(cfd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &detach);
}

#endif /* __SELFTEST_IOMMUFD_VFIO_UTILS_H */
