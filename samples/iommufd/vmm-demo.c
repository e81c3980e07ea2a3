// SPDX-License-Identifier: GPL-2.0-only
/*
 * What a VMM does with iommufd to give a guest a device behind an IOMMU,
 * step by step, on the mock SMMU driver: open /dev/iommu, create an IOAS
 * for guest RAM, take devices behind two physical SMMUs (created through
 * the mock's test interface; a real VMM opens VFIO device files instead),
 * bind them, and read what the hardware offers with IOMMU_GET_HW_INFO.
 *
 * Build against the installed uAPI headers (make headers_install) and the
 * mock's test header; link statically to run it in the test VM.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/iommufd.h>

#include "mock_smmu.h"

#define NUM_DEVS 2

static int step;

static void say(const char *fmt, ...)
{
	va_list ap;

	printf("[%d] ", ++step);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void die(const char *what)
{
	fprintf(stderr, "vmm-demo: %s: %s\n", what, strerror(errno));
	exit(1);
}

int main(void)
{
	struct mock_smmu_info minfo = {};
	struct iommu_ioas_alloc ioas = { .size = sizeof(ioas) };
	__u32 dev_id[NUM_DEVS];
	int iommufd, mockfd, i;

	iommufd = open("/dev/iommu", O_RDWR);
	if (iommufd < 0)
		die("open /dev/iommu");
	say("opened /dev/iommu (fd %d)", iommufd);

	if (ioctl(iommufd, IOMMU_IOAS_ALLOC, &ioas))
		die("IOMMU_IOAS_ALLOC");
	say("IOMMU_IOAS_ALLOC: IOAS %u for guest RAM", ioas.out_ioas_id);

	mockfd = open(MOCK_SMMU_DEV_PATH, O_RDWR);
	if (mockfd < 0)
		die("open " MOCK_SMMU_DEV_PATH);
	if (ioctl(mockfd, MOCK_SMMU_GET_INFO, &minfo))
		die("MOCK_SMMU_GET_INFO");
	say("mock SMMU driver: %u physical SMMU instances", minfo.num_psmmus);
	if (minfo.num_psmmus < NUM_DEVS) {
		fprintf(stderr, "vmm-demo: needs %d pSMMUs\n", NUM_DEVS);
		return 1;
	}

	for (i = 0; i < NUM_DEVS; i++) {
		/* One device behind pSMMU 0, one behind the last pSMMU */
		struct mock_smmu_dev_create create = {
			.psmmu = i ? minfo.num_psmmus - 1 : 0,
			.sid = 0x100 + i,
		};
		struct mock_smmu_dev_cmd bind = { .iommufd = iommufd };
		struct iommu_hw_info_arm_smmuv3 smmu = {};
		struct iommu_hw_info info = {
			.size = sizeof(info),
			.data_len = sizeof(smmu),
			.data_uptr = (uintptr_t)&smmu,
		};

		if (ioctl(mockfd, MOCK_SMMU_DEV_CREATE, &create))
			die("MOCK_SMMU_DEV_CREATE");
		say("device %d: behind pSMMU %u with StreamID 0x%x",
		    i, create.psmmu, create.sid);

		/* What VFIO_DEVICE_BIND_IOMMUFD does for a VFIO device */
		bind.dev = create.out_dev;
		if (ioctl(mockfd, MOCK_SMMU_DEV_BIND, &bind))
			die("MOCK_SMMU_DEV_BIND");
		dev_id[i] = bind.out_id;
		say("device %d: bound to the iommufd, dev_id %u", i, dev_id[i]);

		info.dev_id = dev_id[i];
		if (ioctl(iommufd, IOMMU_GET_HW_INFO, &info))
			die("IOMMU_GET_HW_INFO");
		say("device %d: IOMMU_GET_HW_INFO type %u (%s)", i,
		    info.out_data_type,
		    info.out_data_type == IOMMU_HW_INFO_TYPE_ARM_SMMUV3 ?
		    "ARM SMMUv3" : "unexpected");
		say("device %d: IDR0 0x%08x IDR1 0x%08x IDR5 0x%08x IIDR 0x%08x",
		    i, smmu.idr[0], smmu.idr[1], smmu.idr[5], smmu.iidr);
		if (info.out_data_type != IOMMU_HW_INFO_TYPE_ARM_SMMUV3)
			return 1;
	}
	if (dev_id[0] == dev_id[1]) {
		fprintf(stderr, "vmm-demo: both devices got dev_id %u\n", dev_id[0]);
		return 1;
	}

	/* Closing the files releases everything, as a VMM's exit does */
	close(mockfd);
	close(iommufd);
	say("closed the device file and /dev/iommu: everything released");
	return 0;
}
