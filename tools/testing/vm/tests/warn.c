// SPDX-License-Identifier: GPL-2.0
/*
 * vmrun.sh exec test: make the mock SMMU print a kernel warning through its
 * test hook, MOCK_SMMU_TEST_WARN, and exit 0. The run must fail anyway.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>

#include "mock_smmu.h"

int main(void)
{
	struct mock_smmu_test_warn warn = { .magic = MOCK_SMMU_TEST_WARN_MAGIC };
	int fd = open(MOCK_SMMU_DEV_PATH, O_RDWR);

	if (fd < 0) {
		perror(MOCK_SMMU_DEV_PATH);
		return 1;
	}
	if (ioctl(fd, MOCK_SMMU_TEST_WARN, &warn)) {
		perror("MOCK_SMMU_TEST_WARN");
		return 1;
	}
	printf("warn: MOCK_SMMU_TEST_WARN done\n");
	return 0;
}
