/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Forced in front of Debian's 6.12 iommufd.c and iommufd_fail_nth.c by
 * scripts/upstream-tests.sh, which compiles them unmodified. Debian's
 * 6.12.117 selftests use five names of later kernels that neither 6.12's
 * uAPI header nor its iommufd_test.h define. Their values are those of
 * the later headers; 6.12's kernel answers them as 6.12 does.
 */
#ifndef __IOMMUFD_UPSTREAM_COMPAT_612_H
#define __IOMMUFD_UPSTREAM_COMPAT_612_H

/* linux/iommufd.h: IOMMU_GET_HW_INFO's input type (6.17) */
#define IOMMU_HW_INFO_TYPE_DEFAULT 0
#define IOMMU_HW_INFO_FLAG_INPUT_TYPE 0x1
/* The input shares out_data_type's field (a union since 6.17) */
#define in_data_type out_data_type

/* iommufd_test.h: the PASID-capable mock device (6.15) */
#define MOCK_FLAGS_DEVICE_PASID 0x4
#define MOCK_PASID_WIDTH 20

#endif /* __IOMMUFD_UPSTREAM_COMPAT_612_H */
