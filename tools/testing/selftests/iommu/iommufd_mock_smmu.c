// SPDX-License-Identifier: GPL-2.0-only
/*
 * Foundation tests: iommufd.ko and mock_smmu.ko on Debian's 6.12 kernel.
 * /dev/iommu works, mock devices behind different pSMMUs bind like VFIO
 * devices, IOMMU_GET_HW_INFO reports ARM SMMUv3 data, and tear-down by
 * closing files releases everything.
 */
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "iommufd_viommu_utils.h"

TEST(dev_iommu_exists)
{
	struct stat st;

	ASSERT_EQ(0, stat("/dev/iommu", &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	ASSERT_EQ(0, stat(MOCK_SMMU_DEV_PATH, &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
}

FIXTURE(mock_smmu)
{
	int fd;
	int mfd;
	int num_psmmus;
	uint32_t ioas_id;
};

FIXTURE_SETUP(mock_smmu)
{
	self->fd = iommufd_open();
	ASSERT_LE(0, self->fd);
	self->mfd = mock_open();
	ASSERT_LE(0, self->mfd);
	self->num_psmmus = mock_num_psmmus(self->mfd);
	ASSERT_LE(1, self->num_psmmus);
	ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas_id));
	ASSERT_NE(0, self->ioas_id);
}

FIXTURE_TEARDOWN(mock_smmu)
{
	close(self->mfd);
	close(self->fd);
}

TEST_F(mock_smmu, ioas_alloc_destroy)
{
	uint32_t ioas2;

	ASSERT_EQ(0, ioas_alloc(self->fd, &ioas2));
	ASSERT_NE(self->ioas_id, ioas2);
	ASSERT_EQ(0, iommufd_destroy(self->fd, ioas2));
	ASSERT_EQ(-ENOENT, iommufd_destroy(self->fd, ioas2));
}

TEST_F(mock_smmu, destroy_unknown_id)
{
	ASSERT_EQ(-ENOENT, iommufd_destroy(self->fd, 0));
	ASSERT_EQ(-ENOENT, iommufd_destroy(self->fd, 0x7fffffff));
}

TEST_F(mock_smmu, create_errors)
{
	uint32_t dev;
	struct mock_smmu_dev_create bad = { .psmmu = 0, .sid = 1,
					    .__reserved = 1 };

	ASSERT_EQ(-EINVAL, mock_dev_create(self->mfd, self->num_psmmus, 1,
					   &dev));
	ASSERT_EQ(-EINVAL, ioctl_errno(self->mfd, MOCK_SMMU_DEV_CREATE, &bad));
	ASSERT_EQ(0, mock_dev_create(self->mfd, 0, 0x10, &dev));
	/* A StreamID is unique per pSMMU */
	ASSERT_EQ(-EEXIST, mock_dev_create(self->mfd, 0, 0x10, NULL));
	ASSERT_EQ(-ENOENT, mock_dev_destroy(self->mfd, dev + 100));
	ASSERT_EQ(0, mock_dev_destroy(self->mfd, dev));
	ASSERT_EQ(-ENOENT, mock_dev_destroy(self->mfd, dev));
	/* Its StreamID is free again */
	ASSERT_EQ(0, mock_dev_create(self->mfd, 0, 0x10, NULL));
}

TEST_F(mock_smmu, bind_two_psmmus)
{
	uint32_t dev0, dev1, id0, id1;
	uint32_t last = self->num_psmmus - 1;

	if (self->num_psmmus < 2)
		SKIP(return, "needs 2 pSMMUs");

	ASSERT_EQ(0, mock_dev_create(self->mfd, 0, 0x100, &dev0));
	/* The same StreamID is fine behind another instance */
	ASSERT_EQ(0, mock_dev_create(self->mfd, last, 0x100, &dev1));
	ASSERT_EQ(0, mock_dev_bind(self->mfd, dev0, self->fd, &id0));
	ASSERT_EQ(0, mock_dev_bind(self->mfd, dev1, self->fd, &id1));
	ASSERT_NE(0, id0);
	ASSERT_NE(0, id1);
	ASSERT_NE(id0, id1);
	/* A dev_id is not an object IOMMU_DESTROY may take while bound */
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, id0));
	ASSERT_EQ(0, mock_dev_unbind(self->mfd, dev0));
	ASSERT_EQ(0, mock_dev_unbind(self->mfd, dev1));
	ASSERT_EQ(-ENOENT, iommufd_destroy(self->fd, id0));
}

TEST_F(mock_smmu, hw_info_per_psmmu)
{
	struct iommu_hw_info_arm_smmuv3 info[2];
	uint32_t dev, dev_id, type;
	int i, n = self->num_psmmus < 2 ? 1 : 2;

	for (i = 0; i < n; i++) {
		uint32_t psmmu = i ? self->num_psmmus - 1 : 0;

		memset(&info[i], 0xff, sizeof(info[i]));
		ASSERT_EQ(0, mock_dev_create(self->mfd, psmmu, 0x20 + i, &dev));
		ASSERT_EQ(0, mock_dev_bind(self->mfd, dev, self->fd, &dev_id));
		type = 0;
		ASSERT_EQ(0, get_hw_info(self->fd, dev_id, &info[i],
					 sizeof(info[i]), &type));
		ASSERT_EQ(IOMMU_HW_INFO_TYPE_ARM_SMMUV3, type);
		ASSERT_EQ(0, info[i].flags);
		ASSERT_EQ(0, info[i].__reserved);
		/* IDR0: S1P and S2P (nesting), AArch64 tables */
		ASSERT_EQ(3, info[i].idr[0] & 3);
		ASSERT_EQ(2, (info[i].idr[0] >> 2) & 3);
		/* IDR5: 4K granule */
		ASSERT_NE(0, info[i].idr[5] & (1 << 4));
	}
	/* Each instance is told apart by IIDR.ProductID */
	if (n == 2)
		ASSERT_NE(info[0].iidr, info[1].iidr);
	/* Not a device: ENOENT */
	ASSERT_EQ(-ENOENT, get_hw_info(self->fd, self->ioas_id, &info[0],
				       sizeof(info[0]), NULL));
}

TEST_F(mock_smmu, hw_info_short_buffer)
{
	uint32_t buf[4], dev, dev_id, type;

	memset(buf, 0xab, sizeof(buf));
	ASSERT_EQ(0, mock_dev_create(self->mfd, 0, 0x30, &dev));
	ASSERT_EQ(0, mock_dev_bind(self->mfd, dev, self->fd, &dev_id));
	/* The kernel copies what fits and never more */
	ASSERT_EQ(0, get_hw_info(self->fd, dev_id, buf, 8, &type));
	ASSERT_EQ(IOMMU_HW_INFO_TYPE_ARM_SMMUV3, type);
	ASSERT_EQ(0, buf[0]);
	ASSERT_EQ(0, buf[1]);
	ASSERT_EQ(0xabababab, buf[2]);
}

TEST_F(mock_smmu, bind_twice)
{
	uint32_t dev, dev_id, dev_id2;
	int fd2;

	ASSERT_EQ(0, mock_dev_create(self->mfd, 0, 0x40, &dev));
	ASSERT_EQ(0, mock_dev_bind(self->mfd, dev, self->fd, &dev_id));
	/* Again into the same context, and into another one */
	ASSERT_EQ(-EINVAL, mock_dev_bind(self->mfd, dev, self->fd, &dev_id2));
	fd2 = iommufd_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(-EINVAL, mock_dev_bind(self->mfd, dev, fd2, &dev_id2));
	/* The first binding is untouched */
	ASSERT_EQ(0, get_hw_info(self->fd, dev_id, NULL, 0, NULL));
	ASSERT_EQ(0, mock_dev_unbind(self->mfd, dev));
	/* Once unbound it can go to the other context */
	ASSERT_EQ(0, mock_dev_bind(self->mfd, dev, fd2, &dev_id2));
	ASSERT_EQ(0, get_hw_info(fd2, dev_id2, NULL, 0, NULL));
	ASSERT_EQ(-ENOENT, get_hw_info(self->fd, dev_id, NULL, 0, NULL));
	close(fd2);
}

TEST_F(mock_smmu, bind_not_iommufd)
{
	uint32_t dev;

	ASSERT_EQ(0, mock_dev_create(self->mfd, 0, 0x50, &dev));
	ASSERT_EQ(-EBADF, mock_dev_bind(self->mfd, dev, -1, NULL));
	/* An open file that is not /dev/iommu */
	ASSERT_EQ(-EBADFD, mock_dev_bind(self->mfd, dev, self->mfd, NULL));
	ASSERT_EQ(-EINVAL, mock_dev_attach(self->mfd, dev, self->ioas_id,
					   NULL));
	ASSERT_EQ(-EINVAL, mock_dev_unbind(self->mfd, dev));
}

TEST_F(mock_smmu, attach_ioas_map)
{
	size_t len = 16 * 4096;
	uint32_t dev, dev_id, hwpt_id, hwpt2;
	void *buf;

	buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, mock_dev_create(self->mfd, 0, 0x60, &dev));
	ASSERT_EQ(0, mock_dev_bind(self->mfd, dev, self->fd, &dev_id));
	ASSERT_EQ(0, ioas_map(self->fd, self->ioas_id, buf, len, 0x100000));
	/* Attaching to the IOAS creates a HWPT holding its mappings */
	ASSERT_EQ(0, mock_dev_attach(self->mfd, dev, self->ioas_id, &hwpt_id));
	ASSERT_NE(self->ioas_id, hwpt_id);
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, hwpt_id));
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, self->ioas_id));
	/* Map and unmap while a domain is attached */
	ASSERT_EQ(0, ioas_map(self->fd, self->ioas_id, buf, len, 0x200000));
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas_id, 0x100000, len));
	/* Replace with an explicitly allocated HWPT */
	ASSERT_EQ(0, hwpt_alloc(self->fd, dev_id, self->ioas_id, 0,
				IOMMU_HWPT_DATA_NONE, NULL, 0, &hwpt2));
	ASSERT_EQ(0, mock_dev_attach(self->mfd, dev, hwpt2, &hwpt_id));
	ASSERT_EQ(hwpt2, hwpt_id);
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, hwpt2));
	ASSERT_EQ(0, mock_dev_detach(self->mfd, dev));
	ASSERT_EQ(0, iommufd_destroy(self->fd, hwpt2));
	/* Detaching twice is harmless, as in VFIO */
	ASSERT_EQ(0, mock_dev_detach(self->mfd, dev));
	munmap(buf, len);
}

/*
 * An answer the kernel cannot write back: the argument sits in a read-only
 * page, so the copy in succeeds and the copy out fails. MOCK_SMMU_DEV_CREATE,
 * _BIND and _ATTACH must then fail with EFAULT and leave the device as it
 * was, so that the same call succeeds when retried, as with VFIO.
 */
TEST_F(mock_smmu, unwritable_answer_undone)
{
	struct mock_smmu_counters cnt;
	struct mock_smmu_dev_create *create;
	struct mock_smmu_dev_cmd *cmd;
	uint32_t dev, dev_id, hwpt_a, hwpt_b, hwpt;
	uint64_t ste[4];
	int vmid_a;
	void *page;

	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, page);
	create = page;
	cmd = page;

	/* DEV_CREATE: nothing is left behind, the StreamID is still free */
	ASSERT_EQ(0, mock_get_counters(self->mfd, 0, &cnt));
	ASSERT_EQ(0, cnt.devices);
	*create = (struct mock_smmu_dev_create){ .psmmu = 0, .sid = 0x90 };
	ASSERT_EQ(0, mprotect(page, 4096, PROT_READ));
	ASSERT_EQ(-EFAULT, ioctl_errno(self->mfd, MOCK_SMMU_DEV_CREATE, create));
	ASSERT_EQ(0, mock_get_counters(self->mfd, 0, &cnt));
	ASSERT_EQ(0, cnt.devices);
	ASSERT_EQ(-ENOENT, mock_get_ste(self->mfd, 0, 0x90, NULL));
	ASSERT_EQ(0, mock_dev_create(self->mfd, 0, 0x90, &dev));

	/* DEV_BIND: the device is not bound, so binding again works */
	ASSERT_EQ(0, mprotect(page, 4096, PROT_READ | PROT_WRITE));
	*cmd = (struct mock_smmu_dev_cmd){ .dev = dev, .iommufd = self->fd };
	ASSERT_EQ(0, mprotect(page, 4096, PROT_READ));
	ASSERT_EQ(-EFAULT, ioctl_errno(self->mfd, MOCK_SMMU_DEV_BIND, cmd));
	ASSERT_EQ(-EINVAL, mock_dev_attach(self->mfd, dev, self->ioas_id,
					   NULL));
	ASSERT_EQ(0, mock_dev_bind(self->mfd, dev, self->fd, &dev_id));

	/* DEV_ATTACH: the device stays detached, on an abort STE */
	ASSERT_EQ(0, hwpt_alloc(self->fd, dev_id, self->ioas_id, 0,
				IOMMU_HWPT_DATA_NONE, NULL, 0, &hwpt_a));
	ASSERT_EQ(0, mprotect(page, 4096, PROT_READ | PROT_WRITE));
	*cmd = (struct mock_smmu_dev_cmd){ .dev = dev, .pt_id = hwpt_a };
	ASSERT_EQ(0, mprotect(page, 4096, PROT_READ));
	ASSERT_EQ(-EFAULT, ioctl_errno(self->mfd, MOCK_SMMU_DEV_ATTACH, cmd));
	ASSERT_EQ(0, mock_get_ste(self->mfd, 0, 0x90, ste));
	ASSERT_EQ(SMMU_STE_CFG_ABORT, SMMU_STE_CFG(ste[0]));
	/* Not held by the device: it can be destroyed */
	ASSERT_EQ(0, iommufd_destroy(self->fd, hwpt_a));
	ASSERT_EQ(0, hwpt_alloc(self->fd, dev_id, self->ioas_id, 0,
				IOMMU_HWPT_DATA_NONE, NULL, 0, &hwpt_a));
	ASSERT_EQ(0, mock_dev_attach(self->mfd, dev, hwpt_a, &hwpt));
	ASSERT_EQ(hwpt_a, hwpt);
	ASSERT_EQ(0, mock_get_ste(self->mfd, 0, 0x90, ste));
	ASSERT_EQ(SMMU_STE_CFG_S2_TRANS, SMMU_STE_CFG(ste[0]));
	vmid_a = mock_ste_vmid(self->mfd, 0, 0x90);
	ASSERT_LE(0, vmid_a);

	/* A replacement: the device goes back to the HWPT it had */
	ASSERT_EQ(0, hwpt_alloc(self->fd, dev_id, self->ioas_id, 0,
				IOMMU_HWPT_DATA_NONE, NULL, 0, &hwpt_b));
	ASSERT_EQ(0, mprotect(page, 4096, PROT_READ | PROT_WRITE));
	*cmd = (struct mock_smmu_dev_cmd){ .dev = dev, .pt_id = hwpt_b };
	ASSERT_EQ(0, mprotect(page, 4096, PROT_READ));
	ASSERT_EQ(-EFAULT, ioctl_errno(self->mfd, MOCK_SMMU_DEV_ATTACH, cmd));
	ASSERT_EQ(vmid_a, mock_ste_vmid(self->mfd, 0, 0x90));
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, hwpt_a));
	ASSERT_EQ(0, iommufd_destroy(self->fd, hwpt_b));
	ASSERT_EQ(0, hwpt_alloc(self->fd, dev_id, self->ioas_id, 0,
				IOMMU_HWPT_DATA_NONE, NULL, 0, &hwpt_b));
	ASSERT_EQ(0, mock_dev_attach(self->mfd, dev, hwpt_b, &hwpt));
	ASSERT_EQ(hwpt_b, hwpt);
	ASSERT_NE(vmid_a, mock_ste_vmid(self->mfd, 0, 0x90));
	ASSERT_EQ(0, iommufd_destroy(self->fd, hwpt_a));
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, hwpt_b));
	ASSERT_EQ(0, mock_dev_destroy(self->mfd, dev));
	munmap(page, 4096);
}

/* Closing /dev/iommu first: bound devices keep the context alive. */
TEST_F(mock_smmu, close_iommufd_with_bound_devices)
{
	uint32_t dev, dev_id;
	int fd2;

	ASSERT_EQ(0, mock_dev_create(self->mfd, 0, 0x70, &dev));
	ASSERT_EQ(0, mock_dev_bind(self->mfd, dev, self->fd, &dev_id));
	ASSERT_EQ(0, mock_dev_attach(self->mfd, dev, self->ioas_id, NULL));
	close(self->fd);
	/* The device's binding is still valid, and released by unbind */
	ASSERT_EQ(0, mock_dev_unbind(self->mfd, dev));
	fd2 = iommufd_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, mock_dev_bind(self->mfd, dev, fd2, &dev_id));
	self->fd = fd2;
}

/* Closing everything with live objects releases all of it. */
TEST(close_all_live)
{
	uint32_t ioas_id, dev, dev_id;
	int fd, mfd, i;

	for (i = 0; i < 3; i++) {
		fd = iommufd_open();
		ASSERT_LE(0, fd);
		mfd = mock_open();
		ASSERT_LE(0, mfd);
		ASSERT_EQ(0, ioas_alloc(fd, &ioas_id));
		/* Same StreamID every round: only free if released */
		ASSERT_EQ(0, mock_dev_create(mfd, 0, 0x80, &dev));
		ASSERT_EQ(0, mock_dev_bind(mfd, dev, fd, &dev_id));
		ASSERT_EQ(0, mock_dev_attach(mfd, dev, ioas_id, NULL));
		if (i & 1) {
			close(fd);
			close(mfd);
		} else {
			close(mfd);
			close(fd);
		}
	}
}

TEST_HARNESS_MAIN
