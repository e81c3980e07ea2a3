// SPDX-License-Identifier: GPL-2.0-only
/*
 * vIOMMU and vDEVICE objects of iommufd (IOMMU_VIOMMU_ALLOC,
 * IOMMU_VDEVICE_ALLOC) on the mock SMMUv3 driver: argument checking with
 * exact errnos, object references and destroy orders, device unbind with a
 * live vDEVICE, release by closing files, and what the mock pSMMUs hold
 * (VMIDs, STEs) while vIOMMUs exist.
 *
 * The fixture runs with 1, 2 and 4 pSMMUs: a variant uses instances
 * 0..N-1 of the module (skipped when the module has fewer) and puts one
 * device behind each. With N > 1, vIOMMUs are allocated with
 * IOMMU_VIOMMU_ALLOC_FLAG_SPAN (this project's extension) so that devices
 * behind every instance can get a vDEVICE on them.
 */
#include <stdlib.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "iommufd_viommu_utils.h"

#define MAX_PSMMUS		64
#define VARIANT_MAX_PSMMUS	4

/* StreamIDs the fixture and the tests use, kept apart from each other */
#define SID_FIXTURE		0x100	/* + pSMMU index */
#define SID_EXTRA		0x200
#define SID_ORDER		0x300
#define SID_TOMB		0x400
#define SID_CLOSE		0x500
#define SID_MANY		0x10000	/* + i, up to NUM_MANY */

#define NUM_MANY		4096

#define VIOMMU_ALLOC_MIN_SIZE	24
#define VDEVICE_ALLOC_MIN_SIZE	24

FIXTURE(viommu)
{
	int fd;
	int mfd;
	int nr_psmmus;		/* instances of the module */
	int n;			/* instances this variant uses */
	uint32_t ioas_id;
	/* One bound device behind each pSMMU 0..n-1, SID SID_FIXTURE + i */
	uint32_t dev[VARIANT_MAX_PSMMUS];
	uint32_t dev_id[VARIANT_MAX_PSMMUS];
	/* Nesting parent on ioas_id (for dev_id[0]); dev[0] is attached */
	uint32_t hwpt_id;
};

FIXTURE_VARIANT(viommu)
{
	int psmmus;
};

FIXTURE_VARIANT_ADD(viommu, psmmus_1)
{
	.psmmus = 1,
};

FIXTURE_VARIANT_ADD(viommu, psmmus_2)
{
	.psmmus = 2,
};

FIXTURE_VARIANT_ADD(viommu, psmmus_4)
{
	.psmmus = 4,
};

FIXTURE_SETUP(viommu)
{
	uint32_t out;
	int i;

	if (!viommu_fixture_open(_metadata, &self->fd, &self->mfd,
				 &self->nr_psmmus, MAX_PSMMUS, variant->psmmus))
		return;
	self->n = variant->psmmus;

	ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas_id));
	for (i = 0; i < self->n; i++) {
		ASSERT_EQ(0, mock_dev_create_bind(self->mfd, self->fd, i,
						  SID_FIXTURE + i,
						  &self->dev[i],
						  &self->dev_id[i]));
	}
	ASSERT_EQ(0, hwpt_alloc_nest_parent(self->fd, self->dev_id[0],
					    self->ioas_id, &self->hwpt_id));
	ASSERT_NE(0, self->hwpt_id);
	ASSERT_EQ(0, mock_dev_attach(self->mfd, self->dev[0], self->hwpt_id,
				     &out));
	ASSERT_EQ(self->hwpt_id, out);
}

FIXTURE_TEARDOWN(viommu)
{
	close(self->mfd);
	close(self->fd);
}

/*
 * The vIOMMU a test works with: on dev_id[0] and the fixture's nesting
 * parent, spanning when the variant has more than one pSMMU.
 */
#define test_viommu_alloc(viommu_id) \
	viommu_alloc_smmu(self->fd, self->n > 1, self->dev_id[0], \
			  self->hwpt_id, viommu_id)

/* Every counter about objects (not the command queue ones) is unchanged */
static void assert_counters_equal(struct __test_metadata *_metadata,
				  struct mock_smmu_counters *a,
				  struct mock_smmu_counters *b, int nr)
{
	int i;

	for (i = 0; i < nr; i++) {
		ASSERT_EQ(a[i].devices, b[i].devices) TH_LOG("pSMMU %d", i);
		ASSERT_EQ(a[i].vmids, b[i].vmids) TH_LOG("pSMMU %d", i);
		ASSERT_EQ(a[i].viommus, b[i].viommus) TH_LOG("pSMMU %d", i);
		ASSERT_EQ(a[i].vdevices, b[i].vdevices) TH_LOG("pSMMU %d", i);
		ASSERT_EQ(a[i].nested_attached, b[i].nested_attached)
			TH_LOG("pSMMU %d", i);
	}
}

/*
 * The vIOMMU side only: what stage-2 domains hold (VMIDs of paging
 * domains) may change with attachments and is not compared.
 */
static void assert_viommu_counters_equal(struct __test_metadata *_metadata,
					 struct mock_smmu_counters *a,
					 struct mock_smmu_counters *b, int nr)
{
	int i;

	for (i = 0; i < nr; i++) {
		ASSERT_EQ(a[i].viommus, b[i].viommus) TH_LOG("pSMMU %d", i);
		ASSERT_EQ(a[i].vdevices, b[i].vdevices) TH_LOG("pSMMU %d", i);
		ASSERT_EQ(a[i].nested_attached, b[i].nested_attached)
			TH_LOG("pSMMU %d", i);
	}
}

/* ---- IOMMU_VIOMMU_ALLOC ------------------------------------------------ */

TEST_F(viommu, viommu_alloc)
{
	uint32_t v1, v2, v3;

	ASSERT_EQ(0, viommu_alloc_smmu(self->fd, 0, self->dev_id[0],
				       self->hwpt_id, &v1));
	ASSERT_NE(0, v1);
	ASSERT_NE(self->ioas_id, v1);
	ASSERT_NE(self->hwpt_id, v1);
	ASSERT_NE(self->dev_id[0], v1);
	/* Several vIOMMUs may nest on one parent */
	ASSERT_EQ(0, viommu_alloc_smmu(self->fd, 1, self->dev_id[0],
				       self->hwpt_id, &v2));
	ASSERT_NE(v1, v2);
	ASSERT_EQ(0, test_viommu_alloc(&v3));
	ASSERT_NE(v1, v3);
	ASSERT_NE(v2, v3);
	ASSERT_EQ(0, iommufd_destroy(self->fd, v1));
	ASSERT_EQ(0, iommufd_destroy(self->fd, v2));
	ASSERT_EQ(0, iommufd_destroy(self->fd, v3));
	ASSERT_EQ(-ENOENT, iommufd_destroy(self->fd, v1));
	ASSERT_EQ(-ENOENT, iommufd_destroy(self->fd, v2));
	ASSERT_EQ(-ENOENT, iommufd_destroy(self->fd, v3));
}

/* Unknown flags and the DEFAULT type fail before any ID is looked up. */
TEST_F(viommu, viommu_alloc_bad_flags_type)
{
	static const uint32_t bad_flags[] = {
		1, 2, 1U << 30, (1U << 31) | 1, 0x7fffffff, 0xffffffff,
	};
	const uint32_t dev_ids[] = { self->dev_id[0], 0, 0x7fffffff,
				     self->ioas_id };
	const uint32_t hwpt_ids[] = { self->hwpt_id, 0, 0x7fffffff,
				      self->ioas_id };
	unsigned int f, d, h;

	for (d = 0; d < ARRAY_SIZE(dev_ids); d++) {
		for (h = 0; h < ARRAY_SIZE(hwpt_ids); h++) {
			for (f = 0; f < ARRAY_SIZE(bad_flags); f++) {
				ASSERT_EQ(-EOPNOTSUPP,
					  viommu_alloc(self->fd, bad_flags[f],
						       IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
						       dev_ids[d], hwpt_ids[h],
						       NULL))
					TH_LOG("flags 0x%x dev_id %u hwpt_id %u",
					       bad_flags[f], dev_ids[d],
					       hwpt_ids[h]);
			}
			ASSERT_EQ(-EOPNOTSUPP,
				  viommu_alloc(self->fd, 0,
					       IOMMU_VIOMMU_TYPE_DEFAULT,
					       dev_ids[d], hwpt_ids[h], NULL))
				TH_LOG("dev_id %u hwpt_id %u", dev_ids[d],
				       hwpt_ids[h]);
			ASSERT_EQ(-EOPNOTSUPP,
				  viommu_alloc(self->fd,
					       IOMMU_VIOMMU_ALLOC_FLAG_SPAN,
					       IOMMU_VIOMMU_TYPE_DEFAULT,
					       dev_ids[d], hwpt_ids[h], NULL))
				TH_LOG("dev_id %u hwpt_id %u", dev_ids[d],
				       hwpt_ids[h]);
		}
	}
}

TEST_F(viommu, viommu_alloc_bad_dev)
{
	uint32_t v;
	const uint32_t bad[] = { 0, 0x7fffffff, self->ioas_id, self->hwpt_id };
	unsigned int i;

	ASSERT_EQ(0, test_viommu_alloc(&v));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		ASSERT_EQ(-ENOENT, viommu_alloc_smmu(self->fd, 0, bad[i],
						     self->hwpt_id, NULL))
			TH_LOG("dev_id %u", bad[i]);
		ASSERT_EQ(-ENOENT, viommu_alloc_smmu(self->fd, 1, bad[i],
						     self->hwpt_id, NULL))
			TH_LOG("dev_id %u", bad[i]);
	}
	/* A vIOMMU is not a device either */
	ASSERT_EQ(-ENOENT, viommu_alloc_smmu(self->fd, 0, v, self->hwpt_id,
					     NULL));
	/* Nor is a device that was unbound */
	ASSERT_EQ(0, mock_dev_unbind(self->mfd, self->dev[0]));
	ASSERT_EQ(-ENOENT, viommu_alloc_smmu(self->fd, 0, self->dev_id[0],
					     self->hwpt_id, NULL));
}

TEST_F(viommu, viommu_alloc_bad_hwpt)
{
	uint32_t v, auto_hwpt, plain_hwpt, dev2, dev_id2;
	const uint32_t bad[] = { 0, 0x7fffffff, self->ioas_id,
				 self->dev_id[0] };
	unsigned int i;

	/* hwpt_id that is not a HWPT_PAGING: ENOENT */
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		ASSERT_EQ(-ENOENT, viommu_alloc_smmu(self->fd, 0,
						     self->dev_id[0], bad[i],
						     NULL))
			TH_LOG("hwpt_id %u", bad[i]);
		ASSERT_EQ(-ENOENT, viommu_alloc_smmu(self->fd, 1,
						     self->dev_id[0], bad[i],
						     NULL))
			TH_LOG("hwpt_id %u", bad[i]);
	}
	ASSERT_EQ(0, test_viommu_alloc(&v));
	ASSERT_EQ(-ENOENT, viommu_alloc_smmu(self->fd, 0, self->dev_id[0], v,
					     NULL));

	/* A paging HWPT that is not a nesting parent: EINVAL */
	ASSERT_EQ(0, hwpt_alloc(self->fd, self->dev_id[0], self->ioas_id, 0,
				IOMMU_HWPT_DATA_NONE, NULL, 0, &plain_hwpt));
	ASSERT_EQ(-EINVAL, viommu_alloc_smmu(self->fd, 0, self->dev_id[0],
					     plain_hwpt, NULL));
	ASSERT_EQ(-EINVAL, viommu_alloc_smmu(self->fd, 1, self->dev_id[0],
					     plain_hwpt, NULL));
	/* Nor is the HWPT iommufd makes when a device attaches to an IOAS */
	ASSERT_EQ(0, mock_dev_create_bind(self->mfd, self->fd, 0, SID_EXTRA,
					  &dev2, &dev_id2));
	ASSERT_EQ(0, mock_dev_attach(self->mfd, dev2, self->ioas_id,
				     &auto_hwpt));
	ASSERT_NE(self->ioas_id, auto_hwpt);
	ASSERT_EQ(-EINVAL, viommu_alloc_smmu(self->fd, 0, dev_id2, auto_hwpt,
					     NULL));
	/* Failed allocations took no reference */
	ASSERT_EQ(0, iommufd_destroy(self->fd, plain_hwpt));
}

/* Types the driver does not implement are refused by it. */
TEST_F(viommu, viommu_alloc_driver_type)
{
	static const uint32_t types[] = { 2, 3, 0xdead, 0xdeadbeef, 0xffffffff };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		ASSERT_EQ(-EOPNOTSUPP,
			  viommu_alloc(self->fd, 0, types[i], self->dev_id[0],
				       self->hwpt_id, NULL))
			TH_LOG("type 0x%x", types[i]);
		ASSERT_EQ(-EOPNOTSUPP,
			  viommu_alloc(self->fd, IOMMU_VIOMMU_ALLOC_FLAG_SPAN,
				       types[i], self->dev_id[0],
				       self->hwpt_id, NULL))
			TH_LOG("type 0x%x", types[i]);
	}
	/* Nothing was left behind holding the parent */
	ASSERT_EQ(0, mock_dev_detach(self->mfd, self->dev[0]));
	ASSERT_EQ(0, iommufd_destroy(self->fd, self->hwpt_id));
}

/*
 * The check order: flags/DEFAULT type, then dev_id, then hwpt_id (not a
 * HWPT_PAGING, then not a nesting parent), and only then the driver's type.
 */
TEST_F(viommu, viommu_alloc_check_order)
{
	uint32_t plain_hwpt;

	ASSERT_EQ(0, hwpt_alloc(self->fd, self->dev_id[0], self->ioas_id, 0,
				IOMMU_HWPT_DATA_NONE, NULL, 0, &plain_hwpt));
	/* Bad flags win over everything */
	ASSERT_EQ(-EOPNOTSUPP, viommu_alloc(self->fd, 1, 0xdead, 0, 0, NULL));
	ASSERT_EQ(-EOPNOTSUPP, viommu_alloc(self->fd, 1,
					    IOMMU_VIOMMU_TYPE_DEFAULT, 0,
					    plain_hwpt, NULL));
	/* Bad dev_id wins over bad hwpt_id and the driver's type */
	ASSERT_EQ(-ENOENT, viommu_alloc(self->fd, 0,
					IOMMU_VIOMMU_TYPE_ARM_SMMUV3, 0, 0,
					NULL));
	ASSERT_EQ(-ENOENT, viommu_alloc(self->fd, 0, 2, 0, self->hwpt_id,
					NULL));
	ASSERT_EQ(-ENOENT, viommu_alloc(self->fd, 0, 0xdead, 0x7fffffff,
					plain_hwpt, NULL));
	/* Bad hwpt_id wins over the driver's type */
	ASSERT_EQ(-ENOENT, viommu_alloc(self->fd, 0, 2, self->dev_id[0],
					self->ioas_id, NULL));
	ASSERT_EQ(-ENOENT, viommu_alloc(self->fd, 0, 0xdead, self->dev_id[0],
					0, NULL));
	ASSERT_EQ(-EINVAL, viommu_alloc(self->fd, 0, 2, self->dev_id[0],
					plain_hwpt, NULL));
	ASSERT_EQ(-EINVAL, viommu_alloc(self->fd, IOMMU_VIOMMU_ALLOC_FLAG_SPAN,
					0xdead, self->dev_id[0], plain_hwpt,
					NULL));
	/* All good but the type */
	ASSERT_EQ(-EOPNOTSUPP, viommu_alloc(self->fd, 0, 2, self->dev_id[0],
					    self->hwpt_id, NULL));
}

TEST_F(viommu, viommu_holds_parent)
{
	uint32_t v1, v2;

	ASSERT_EQ(0, mock_dev_detach(self->mfd, self->dev[0]));
	ASSERT_EQ(0, viommu_alloc_smmu(self->fd, 0, self->dev_id[0],
				       self->hwpt_id, &v1));
	ASSERT_EQ(0, test_viommu_alloc(&v2));
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, self->hwpt_id));
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, self->ioas_id));
	ASSERT_EQ(0, iommufd_destroy(self->fd, v1));
	/* The other vIOMMU still holds it */
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, self->hwpt_id));
	ASSERT_EQ(0, iommufd_destroy(self->fd, v2));
	ASSERT_EQ(0, iommufd_destroy(self->fd, self->hwpt_id));
	ASSERT_EQ(0, iommufd_destroy(self->fd, self->ioas_id));
}

TEST_F(viommu, viommu_alloc_size)
{
	static const uint32_t short_sizes[] = { 0, 4, 8, 16, 20, 23 };
	union {
		struct iommu_viommu_alloc cmd;
		uint8_t raw[128];
	} buf;
	unsigned int i;

#define VIOMMU_BUF_INIT(sz) do { \
		memset(&buf, 0, sizeof(buf)); \
		buf.cmd.size = (sz); \
		buf.cmd.type = IOMMU_VIOMMU_TYPE_ARM_SMMUV3; \
		buf.cmd.dev_id = self->dev_id[0]; \
		buf.cmd.hwpt_id = self->hwpt_id; \
	} while (0)

	for (i = 0; i < ARRAY_SIZE(short_sizes); i++) {
		VIOMMU_BUF_INIT(short_sizes[i]);
		ASSERT_EQ(-EINVAL, ioctl_errno(self->fd, IOMMU_VIOMMU_ALLOC,
					       &buf))
			TH_LOG("size %u", short_sizes[i]);
	}

	/* Exactly the minimum; what is past size is not looked at */
	VIOMMU_BUF_INIT(VIOMMU_ALLOC_MIN_SIZE);
	buf.raw[VIOMMU_ALLOC_MIN_SIZE] = 0xff;
	buf.raw[39] = 0xff;
	ASSERT_EQ(0, ioctl_errno(self->fd, IOMMU_VIOMMU_ALLOC, &buf));
	ASSERT_NE(0, buf.cmd.out_viommu_id);
	ASSERT_EQ(0xff, buf.raw[VIOMMU_ALLOC_MIN_SIZE]);
	ASSERT_EQ(0, iommufd_destroy(self->fd, buf.cmd.out_viommu_id));

	/* The 40-byte layout of 6.17 with zero data_len/__reserved/data_uptr */
	VIOMMU_BUF_INIT(40);
	ASSERT_EQ(0, ioctl_errno(self->fd, IOMMU_VIOMMU_ALLOC, &buf));
	ASSERT_NE(0, buf.cmd.out_viommu_id);
	ASSERT_EQ(0, iommufd_destroy(self->fd, buf.cmd.out_viommu_id));

	/* Larger still, zero tail */
	VIOMMU_BUF_INIT(sizeof(buf));
	ASSERT_EQ(0, ioctl_errno(self->fd, IOMMU_VIOMMU_ALLOC, &buf));
	ASSERT_NE(0, buf.cmd.out_viommu_id);
	ASSERT_EQ(0, iommufd_destroy(self->fd, buf.cmd.out_viommu_id));

	/* A non-zero byte anywhere in the tail: E2BIG */
	for (i = VIOMMU_ALLOC_MIN_SIZE; i < 40; i++) {
		VIOMMU_BUF_INIT(40);
		buf.raw[i] = i == 39 ? 0x80 : 1;
		ASSERT_EQ(-E2BIG, ioctl_errno(self->fd, IOMMU_VIOMMU_ALLOC,
					      &buf))
			TH_LOG("non-zero byte %u", i);
	}
	VIOMMU_BUF_INIT(sizeof(buf));
	buf.raw[sizeof(buf) - 1] = 1;
	ASSERT_EQ(-E2BIG, ioctl_errno(self->fd, IOMMU_VIOMMU_ALLOC, &buf));
#undef VIOMMU_BUF_INIT

	/* None of the failures left a vIOMMU holding the parent */
	ASSERT_EQ(0, mock_dev_detach(self->mfd, self->dev[0]));
	ASSERT_EQ(0, iommufd_destroy(self->fd, self->hwpt_id));
}

/* ---- IOMMU_VDEVICE_ALLOC ----------------------------------------------- */

TEST_F(viommu, vdevice_alloc)
{
	uint32_t v, vdev, vdev2;
	int i;

	ASSERT_EQ(0, test_viommu_alloc(&v));
	ASSERT_EQ(0, vdevice_alloc(self->fd, v, self->dev_id[0], 0x10, &vdev));
	ASSERT_NE(0, vdev);
	ASSERT_NE(v, vdev);
	ASSERT_NE(self->hwpt_id, vdev);
	ASSERT_NE(self->dev_id[0], vdev);
	/* A vDEVICE is not a device, a vIOMMU or a HWPT */
	ASSERT_EQ(-ENOENT, vdevice_alloc(self->fd, vdev, self->dev_id[0], 0x11,
					 NULL));
	ASSERT_EQ(-ENOENT, vdevice_alloc(self->fd, v, vdev, 0x11, NULL));
	ASSERT_EQ(-ENOENT, viommu_alloc_smmu(self->fd, 0, self->dev_id[0], vdev,
					     NULL));
	/* The device behind every pSMMU of the variant */
	for (i = 1; i < self->n; i++) {
		ASSERT_EQ(0, vdevice_alloc(self->fd, v, self->dev_id[i],
					   0x10 + i, &vdev2))
			TH_LOG("pSMMU %d", i);
		ASSERT_NE(vdev, vdev2);
	}
	ASSERT_EQ(0, iommufd_destroy(self->fd, vdev));
	ASSERT_EQ(-ENOENT, iommufd_destroy(self->fd, vdev));
}

TEST_F(viommu, vdevice_alloc_size)
{
	static const uint32_t short_sizes[] = { 0, 4, 8, 12, 16, 20, 23 };
	union {
		struct iommu_vdevice_alloc cmd;
		uint8_t raw[128];
	} buf;
	uint32_t v;
	unsigned int i;

	ASSERT_EQ(0, test_viommu_alloc(&v));

#define VDEVICE_BUF_INIT(sz) do { \
		memset(&buf, 0, sizeof(buf)); \
		buf.cmd.size = (sz); \
		buf.cmd.viommu_id = v; \
		buf.cmd.dev_id = self->dev_id[0]; \
		buf.cmd.virt_id = 0x77; \
	} while (0)

	for (i = 0; i < ARRAY_SIZE(short_sizes); i++) {
		VDEVICE_BUF_INIT(short_sizes[i]);
		ASSERT_EQ(-EINVAL, ioctl_errno(self->fd, IOMMU_VDEVICE_ALLOC,
					       &buf))
			TH_LOG("size %u", short_sizes[i]);
	}

	VDEVICE_BUF_INIT(VDEVICE_ALLOC_MIN_SIZE);
	buf.raw[VDEVICE_ALLOC_MIN_SIZE] = 0xff;
	ASSERT_EQ(0, ioctl_errno(self->fd, IOMMU_VDEVICE_ALLOC, &buf));
	ASSERT_NE(0, buf.cmd.out_vdevice_id);
	ASSERT_EQ(0xff, buf.raw[VDEVICE_ALLOC_MIN_SIZE]);
	ASSERT_EQ(0, iommufd_destroy(self->fd, buf.cmd.out_vdevice_id));

	VDEVICE_BUF_INIT(40);
	ASSERT_EQ(0, ioctl_errno(self->fd, IOMMU_VDEVICE_ALLOC, &buf));
	ASSERT_NE(0, buf.cmd.out_vdevice_id);
	ASSERT_EQ(0, iommufd_destroy(self->fd, buf.cmd.out_vdevice_id));

	VDEVICE_BUF_INIT(sizeof(buf));
	ASSERT_EQ(0, ioctl_errno(self->fd, IOMMU_VDEVICE_ALLOC, &buf));
	ASSERT_NE(0, buf.cmd.out_vdevice_id);
	ASSERT_EQ(0, iommufd_destroy(self->fd, buf.cmd.out_vdevice_id));

	for (i = VDEVICE_ALLOC_MIN_SIZE; i < 40; i++) {
		VDEVICE_BUF_INIT(40);
		buf.raw[i] = 1;
		ASSERT_EQ(-E2BIG, ioctl_errno(self->fd, IOMMU_VDEVICE_ALLOC,
					      &buf))
			TH_LOG("non-zero byte %u", i);
	}
	VDEVICE_BUF_INIT(sizeof(buf));
	buf.raw[sizeof(buf) - 1] = 0x80;
	ASSERT_EQ(-E2BIG, ioctl_errno(self->fd, IOMMU_VDEVICE_ALLOC, &buf));
#undef VDEVICE_BUF_INIT

	/* No failure left a vDEVICE holding the vIOMMU */
	ASSERT_EQ(0, iommufd_destroy(self->fd, v));
}

TEST_F(viommu, vdevice_alloc_bad_ids)
{
	uint32_t v, vdev, last = self->n - 1;
	uint32_t bad_viommu[] = { 0, 0x7fffffff, self->ioas_id, self->hwpt_id,
				  self->dev_id[0] };
	uint32_t bad_dev[] = { 0, 0x7fffffff, self->ioas_id, self->hwpt_id, 0 };
	static const uint64_t bad_virt[] = {
		0x100000000ULL, 0x1ffffffffULL, 1ULL << 63, ~0ULL,
	};
	unsigned int i;

	ASSERT_EQ(0, test_viommu_alloc(&v));
	bad_dev[ARRAY_SIZE(bad_dev) - 1] = v;

	for (i = 0; i < ARRAY_SIZE(bad_viommu); i++) {
		ASSERT_EQ(-ENOENT, vdevice_alloc(self->fd, bad_viommu[i],
						 self->dev_id[0], 0x10, NULL))
			TH_LOG("viommu_id %u", bad_viommu[i]);
	}
	for (i = 0; i < ARRAY_SIZE(bad_dev); i++) {
		ASSERT_EQ(-ENOENT, vdevice_alloc(self->fd, v, bad_dev[i], 0x10,
						 NULL))
			TH_LOG("dev_id %u", bad_dev[i]);
	}
	/* vSIDs are 32 bits */
	for (i = 0; i < ARRAY_SIZE(bad_virt); i++) {
		ASSERT_EQ(-EINVAL, vdevice_alloc(self->fd, v, self->dev_id[0],
						 bad_virt[i], NULL))
			TH_LOG("virt_id 0x%llx",
			       (unsigned long long)bad_virt[i]);
		ASSERT_EQ(-EINVAL, vdevice_alloc(self->fd, v,
						 self->dev_id[last],
						 bad_virt[i], NULL))
			TH_LOG("virt_id 0x%llx",
			       (unsigned long long)bad_virt[i]);
	}
	/* The limits themselves are fine */
	ASSERT_EQ(0, vdevice_alloc(self->fd, v, self->dev_id[0], 0xffffffff,
				   &vdev));
	ASSERT_EQ(0, iommufd_destroy(self->fd, vdev));
	ASSERT_EQ(0, vdevice_alloc(self->fd, v, self->dev_id[0], 0, &vdev));
	ASSERT_EQ(0, iommufd_destroy(self->fd, vdev));
	/* A destroyed vIOMMU is unknown */
	ASSERT_EQ(0, iommufd_destroy(self->fd, v));
	ASSERT_EQ(-ENOENT, vdevice_alloc(self->fd, v, self->dev_id[0], 0x10,
					 NULL));
}

/* Without the span flag a vIOMMU serves the devices of its own pSMMU. */
TEST_F(viommu, vdevice_other_psmmu)
{
	uint32_t v0, vspan, vlast, vdev, extra_id, last = self->n - 1;
	int i;

	if (self->n < 2)
		SKIP(return, "needs 2 pSMMUs");

	ASSERT_EQ(0, viommu_alloc_smmu(self->fd, 0, self->dev_id[0],
				       self->hwpt_id, &v0));
	for (i = 1; i < self->n; i++) {
		ASSERT_EQ(-EINVAL, vdevice_alloc(self->fd, v0, self->dev_id[i],
						 0x10 + i, NULL))
			TH_LOG("pSMMU %d", i);
	}
	/* EINVAL left nothing behind: the devices are free for another */
	ASSERT_EQ(0, viommu_alloc_smmu(self->fd, 1, self->dev_id[0],
				       self->hwpt_id, &vspan));
	for (i = 0; i < self->n; i++) {
		ASSERT_EQ(0, vdevice_alloc(self->fd, vspan, self->dev_id[i],
					   0x10 + i, NULL))
			TH_LOG("pSMMU %d", i);
	}

	/* A spanning vIOMMU made from a device behind the last pSMMU */
	ASSERT_EQ(0, viommu_alloc_smmu(self->fd, 1, self->dev_id[last],
				       self->hwpt_id, &vlast));
	ASSERT_EQ(0, mock_dev_create_bind(self->mfd, self->fd, 0, SID_EXTRA,
					  NULL, &extra_id));
	ASSERT_EQ(0, vdevice_alloc(self->fd, vlast, extra_id, 0x10, &vdev));
	ASSERT_EQ(0, iommufd_destroy(self->fd, vdev));
	ASSERT_EQ(0, iommufd_destroy(self->fd, vlast));
	ASSERT_EQ(0, iommufd_destroy(self->fd, v0));
}

TEST_F(viommu, vdevice_virt_id_exists)
{
	uint32_t v, dev2, dev_id2, vdev, vdev2, last = self->n - 1;

	ASSERT_EQ(0, mock_dev_create_bind(self->mfd, self->fd, 0, SID_EXTRA,
					  &dev2, &dev_id2));
	ASSERT_EQ(0, test_viommu_alloc(&v));
	ASSERT_EQ(0, vdevice_alloc(self->fd, v, self->dev_id[0], 0x10, &vdev));
	ASSERT_EQ(-EEXIST, vdevice_alloc(self->fd, v, dev_id2, 0x10, NULL));
	if (last) {
		ASSERT_EQ(-EEXIST, vdevice_alloc(self->fd, v,
						 self->dev_id[last], 0x10,
						 NULL));
	}
	ASSERT_EQ(0, vdevice_alloc(self->fd, v, dev_id2, 0x11, &vdev2));
	ASSERT_NE(vdev, vdev2);
	/* The same virt_id on another vIOMMU is another namespace */
	if (last) {
		uint32_t v2;

		ASSERT_EQ(0, test_viommu_alloc(&v2));
		ASSERT_EQ(0, vdevice_alloc(self->fd, v2, self->dev_id[last],
					   0x10, NULL));
	}
}

/* A device has at most one vDEVICE, on any vIOMMU. */
TEST_F(viommu, vdevice_dev_exists)
{
	uint32_t v1, v2, vdev, vdev2, last = self->n - 1;

	ASSERT_EQ(0, test_viommu_alloc(&v1));
	ASSERT_EQ(0, test_viommu_alloc(&v2));
	ASSERT_EQ(0, vdevice_alloc(self->fd, v1, self->dev_id[last], 0x10,
				   &vdev));
	ASSERT_EQ(-EEXIST, vdevice_alloc(self->fd, v1, self->dev_id[last],
					 0x20, NULL));
	ASSERT_EQ(-EEXIST, vdevice_alloc(self->fd, v2, self->dev_id[last],
					 0x10, NULL));
	ASSERT_EQ(-EEXIST, vdevice_alloc(self->fd, v2, self->dev_id[last],
					 0x30, NULL));
	/* Once it is gone the device is free for either */
	ASSERT_EQ(0, iommufd_destroy(self->fd, vdev));
	ASSERT_EQ(0, vdevice_alloc(self->fd, v2, self->dev_id[last], 0x30,
				   &vdev2));
	ASSERT_EQ(-EEXIST, vdevice_alloc(self->fd, v1, self->dev_id[last],
					 0x10, NULL));
	ASSERT_EQ(0, iommufd_destroy(self->fd, vdev2));
	ASSERT_EQ(0, iommufd_destroy(self->fd, v2));
	ASSERT_EQ(0, iommufd_destroy(self->fd, v1));
}

TEST_F(viommu, vdevice_holds_viommu)
{
	uint32_t v, vdev[VARIANT_MAX_PSMMUS];
	int i;

	ASSERT_EQ(0, test_viommu_alloc(&v));
	for (i = 0; i < self->n; i++) {
		ASSERT_EQ(0, vdevice_alloc(self->fd, v, self->dev_id[i],
					   0x100 + i, &vdev[i]));
	}
	for (i = 0; i < self->n; i++) {
		ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, v));
		ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, self->hwpt_id));
		ASSERT_EQ(0, iommufd_destroy(self->fd, vdev[i]));
	}
	ASSERT_EQ(0, iommufd_destroy(self->fd, v));
	ASSERT_EQ(-ENOENT, iommufd_destroy(self->fd, v));
}

TEST_F(viommu, vdevice_reuse_after_destroy)
{
	uint32_t v, dev2, dev_id2, vdev, last = self->n - 1;
	int round;

	ASSERT_EQ(0, mock_dev_create_bind(self->mfd, self->fd, last, SID_EXTRA,
					  &dev2, &dev_id2));
	ASSERT_EQ(0, test_viommu_alloc(&v));
	for (round = 0; round < 3; round++) {
		/* Same device, same virt_id */
		ASSERT_EQ(0, vdevice_alloc(self->fd, v, self->dev_id[last],
					   0x55, &vdev));
		ASSERT_EQ(0, iommufd_destroy(self->fd, vdev));
		ASSERT_EQ(-ENOENT, iommufd_destroy(self->fd, vdev));
		/* Same virt_id, another device */
		ASSERT_EQ(0, vdevice_alloc(self->fd, v, dev_id2, 0x55, &vdev));
		ASSERT_EQ(0, iommufd_destroy(self->fd, vdev));
		/* Same device, another virt_id */
		ASSERT_EQ(0, vdevice_alloc(self->fd, v, self->dev_id[last],
					   0x56 + round, &vdev));
		ASSERT_EQ(0, iommufd_destroy(self->fd, vdev));
	}
	ASSERT_EQ(0, iommufd_destroy(self->fd, v));
}

/* IOMMU_VIOMMU_SET_DEV_ID is IOMMU_VDEVICE_ALLOC under its RFC name. */
TEST_F(viommu, set_dev_id_alias)
{
	uint32_t v, vdev, dev2, dev_id2, last = self->n - 1;

	ASSERT_EQ(IOMMU_VDEVICE_ALLOC, IOMMU_VIOMMU_SET_DEV_ID);
	ASSERT_EQ(0, mock_dev_create_bind(self->mfd, self->fd, 0, SID_EXTRA,
					  &dev2, &dev_id2));
	ASSERT_EQ(0, test_viommu_alloc(&v));
	ASSERT_EQ(0, vdevice_alloc_nr(self->fd, IOMMU_VIOMMU_SET_DEV_ID, v,
				      self->dev_id[last], 0x10, &vdev));
	ASSERT_NE(0, vdev);
	ASSERT_EQ(-EEXIST, vdevice_alloc_nr(self->fd, IOMMU_VIOMMU_SET_DEV_ID,
					    v, dev_id2, 0x10, NULL));
	ASSERT_EQ(-EEXIST, vdevice_alloc_nr(self->fd, IOMMU_VIOMMU_SET_DEV_ID,
					    v, self->dev_id[last], 0x11, NULL));
	ASSERT_EQ(-ENOENT, vdevice_alloc_nr(self->fd, IOMMU_VIOMMU_SET_DEV_ID,
					    0, dev_id2, 0x11, NULL));
	ASSERT_EQ(-ENOENT, vdevice_alloc_nr(self->fd, IOMMU_VIOMMU_SET_DEV_ID,
					    v, 0, 0x11, NULL));
	ASSERT_EQ(-EINVAL, vdevice_alloc_nr(self->fd, IOMMU_VIOMMU_SET_DEV_ID,
					    v, dev_id2, 1ULL << 32, NULL));
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, v));
	ASSERT_EQ(0, iommufd_destroy(self->fd, vdev));
	ASSERT_EQ(0, vdevice_alloc_nr(self->fd, IOMMU_VIOMMU_SET_DEV_ID, v,
				      dev_id2, 0x10, &vdev));
	ASSERT_EQ(0, iommufd_destroy(self->fd, vdev));
	ASSERT_EQ(0, iommufd_destroy(self->fd, v));
}

/*
 * 4096 vDEVICEs on one vIOMMU, from 4096 devices spread over the variant's
 * pSMMUs: insert all, destroy all, insert all again with other virt_ids.
 */
TEST_F_TIMEOUT(viommu, vdevice_4096, 1200)
{
	struct mock_smmu_counters before[MAX_PSMMUS], after[MAX_PSMMUS];
	uint32_t *dev_id, *vdev, v;
	double t0, t1, t2, t3, t4, t5;
	int i;

	dev_id = calloc(NUM_MANY, sizeof(*dev_id));
	vdev = calloc(NUM_MANY, sizeof(*vdev));
	ASSERT_NE(NULL, dev_id);
	ASSERT_NE(NULL, vdev);

	t0 = now_s();
	for (i = 0; i < NUM_MANY; i++) {
		ASSERT_EQ(0, mock_dev_create_bind(self->mfd, self->fd,
						  i % self->n, SID_MANY + i,
						  NULL, &dev_id[i]))
			TH_LOG("device %d", i);
	}
	t1 = now_s();

	ASSERT_EQ(0, test_viommu_alloc(&v));
	mock_read_counters(_metadata, self->mfd, self->nr_psmmus, before);
	for (i = 0; i < NUM_MANY; i++) {
		ASSERT_EQ(0, vdevice_alloc(self->fd, v, dev_id[i],
					   0x1000 + i, &vdev[i]))
			TH_LOG("vdevice %d", i);
	}
	t2 = now_s();
	mock_read_counters(_metadata, self->mfd, self->nr_psmmus, after);
	for (i = 0; i < self->nr_psmmus; i++) {
		uint64_t want = i < self->n ? NUM_MANY / self->n : 0;

		ASSERT_EQ(want, after[i].vdevices - before[i].vdevices)
			TH_LOG("pSMMU %d", i);
	}
	/* Every virt_id and every device is taken now */
	ASSERT_EQ(-EEXIST, vdevice_alloc(self->fd, v, self->dev_id[0],
					 0x1000 + NUM_MANY / 2, NULL));
	ASSERT_EQ(-EEXIST, vdevice_alloc(self->fd, v, dev_id[NUM_MANY - 1],
					 0x1000 + NUM_MANY, NULL));

	for (i = 0; i < NUM_MANY; i++) {
		ASSERT_EQ(0, iommufd_destroy(self->fd, vdev[i]))
			TH_LOG("vdevice %d", i);
	}
	t3 = now_s();
	mock_read_counters(_metadata, self->mfd, self->nr_psmmus, after);
	assert_counters_equal(_metadata, before, after, self->nr_psmmus);

	/* Again, every device under the virt_id of another one */
	for (i = 0; i < NUM_MANY; i++) {
		ASSERT_EQ(0, vdevice_alloc(self->fd, v, dev_id[i],
					   0x1000 + NUM_MANY - 1 - i, &vdev[i]))
			TH_LOG("vdevice %d", i);
	}
	t4 = now_s();
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, v));
	for (i = NUM_MANY - 1; i >= 0; i--) {
		ASSERT_EQ(0, iommufd_destroy(self->fd, vdev[i]))
			TH_LOG("vdevice %d", i);
	}
	ASSERT_EQ(0, iommufd_destroy(self->fd, v));
	t5 = now_s();

	ksft_print_msg("%d pSMMUs, %d devices: create+bind %.2fs\n",
		       self->n, NUM_MANY, t1 - t0);
	ksft_print_msg("vDEVICEs: alloc %.2fs destroy %.2fs again %.2fs %.2fs\n",
		       t2 - t1, t3 - t2, t4 - t3, t5 - t4);
	free(dev_id);
	free(vdev);
}

/* ---- Destroy orders ----------------------------------------------------- */

enum { O_VDEV, O_VIOMMU, O_HWPT, O_IOAS, O_NUM };
static const char * const obj_name[O_NUM] = {
	"vdevice", "viommu", "hwpt", "ioas",
};

struct chain {
	uint32_t id[O_NUM];
	bool live[O_NUM];
	bool attached;
};

/*
 * IOAS <- S2 HWPT <- vIOMMU <- vDEVICE, with the device attached to the
 * HWPT; the device is behind the variant's last pSMMU and the vIOMMU on
 * dev_id (spanning when the variant has several pSMMUs).
 */
static void chain_build(struct __test_metadata *_metadata, int fd, int mfd,
			bool span, uint32_t dev, uint32_t dev_id,
			struct chain *c)
{
	uint32_t out;
	int o;

	ASSERT_EQ(0, ioas_alloc(fd, &c->id[O_IOAS]));
	ASSERT_EQ(0, hwpt_alloc_nest_parent(fd, dev_id, c->id[O_IOAS],
					    &c->id[O_HWPT]));
	ASSERT_EQ(0, mock_dev_attach(mfd, dev, c->id[O_HWPT], &out));
	ASSERT_EQ(c->id[O_HWPT], out);
	ASSERT_EQ(0, viommu_alloc_smmu(fd, span, dev_id, c->id[O_HWPT],
				       &c->id[O_VIOMMU]));
	ASSERT_EQ(0, vdevice_alloc(fd, c->id[O_VIOMMU], dev_id, 0x99,
				   &c->id[O_VDEV]));
	for (o = 0; o < O_NUM; o++)
		c->live[o] = true;
	c->attached = true;
}

static bool chain_busy(const struct chain *c, int o)
{
	switch (o) {
	case O_VIOMMU:
		return c->live[O_VDEV];
	case O_HWPT:
		return c->live[O_VIOMMU] || c->attached;
	case O_IOAS:
		return c->live[O_HWPT];
	}
	return false;
}

TEST_F(viommu, destroy_busy)
{
	uint32_t dev, dev_id;
	struct chain c = {};

	ASSERT_EQ(0, mock_dev_create_bind(self->mfd, self->fd, self->n - 1,
					  SID_ORDER, &dev, &dev_id));
	chain_build(_metadata, self->fd, self->mfd, self->n > 1, dev, dev_id,
		    &c);
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, c.id[O_IOAS]));
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, c.id[O_HWPT]));
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, c.id[O_VIOMMU]));
	/* The right order */
	ASSERT_EQ(0, iommufd_destroy(self->fd, c.id[O_VDEV]));
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, c.id[O_HWPT]));
	ASSERT_EQ(0, iommufd_destroy(self->fd, c.id[O_VIOMMU]));
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, c.id[O_HWPT]));
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, c.id[O_IOAS]));
	ASSERT_EQ(0, mock_dev_detach(self->mfd, dev));
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, c.id[O_IOAS]));
	ASSERT_EQ(0, iommufd_destroy(self->fd, c.id[O_HWPT]));
	ASSERT_EQ(0, iommufd_destroy(self->fd, c.id[O_IOAS]));
}

/*
 * Every order of destroying {vDEVICE, vIOMMU, HWPT, IOAS}, with the device
 * detached first or not: each IOMMU_DESTROY is EBUSY exactly when a live
 * object (or the attachment) still references the target. Passes over the
 * order repeat until all is gone, detaching when nothing moves any more.
 */
TEST_F(viommu, destroy_all_orders)
{
	uint32_t dev, dev_id;
	int p, k, detach_first, nperm = 0;

	ASSERT_EQ(0, mock_dev_create_bind(self->mfd, self->fd, self->n - 1,
					  SID_ORDER, &dev, &dev_id));

	for (p = 0; p < 24; p++) {
		int order[O_NUM], pool[O_NUM] = { 0, 1, 2, 3 }, rem = p, left;

		/* p in the factorial number system picks the permutation */
		for (k = 0, left = O_NUM; k < O_NUM; k++, left--) {
			int fact = 1, j, idx;

			for (j = 2; j < left; j++)
				fact *= j;
			idx = rem / fact;
			rem %= fact;
			order[k] = pool[idx];
			for (j = idx; j < left - 1; j++)
				pool[j] = pool[j + 1];
		}

		for (detach_first = 0; detach_first < 2; detach_first++) {
			struct chain c = {};
			bool any = true;

			chain_build(_metadata, self->fd, self->mfd,
				    self->n > 1, dev, dev_id, &c);
			if (detach_first) {
				ASSERT_EQ(0, mock_dev_detach(self->mfd, dev));
				c.attached = false;
			}
			while (any) {
				bool progress = false;

				for (k = 0; k < O_NUM; k++) {
					int o = order[k], rc, want;

					if (!c.live[o])
						continue;
					want = chain_busy(&c, o) ? -EBUSY : 0;
					rc = iommufd_destroy(self->fd, c.id[o]);
					ASSERT_EQ(want, rc)
						TH_LOG("order %s,%s,%s,%s detach %d: %s",
						       obj_name[order[0]],
						       obj_name[order[1]],
						       obj_name[order[2]],
						       obj_name[order[3]],
						       detach_first,
						       obj_name[o]);
					if (!rc) {
						c.live[o] = false;
						progress = true;
					}
				}
				if (!progress) {
					ASSERT_TRUE(c.attached);
					ASSERT_EQ(0, mock_dev_detach(self->mfd,
								     dev));
					c.attached = false;
				}
				any = false;
				for (k = 0; k < O_NUM; k++)
					any |= c.live[k];
			}
			for (k = 0; k < O_NUM; k++) {
				ASSERT_EQ(-ENOENT,
					  iommufd_destroy(self->fd, c.id[k]));
			}
			nperm++;
		}
	}
	ASSERT_EQ(48, nperm);
}

/* ---- Device unbind / removal with a live vDEVICE ----------------------- */

/* Unbinding destroys the vDEVICE; its ID becomes a tombstone. */
TEST_F(viommu, unbind_live_vdevice)
{
	struct mock_smmu_counters before[MAX_PSMMUS], after[MAX_PSMMUS];
	uint32_t devx, devx_id, v, vdev, last = self->n - 1, out;

	ASSERT_EQ(0, mock_dev_create_bind(self->mfd, self->fd, last, SID_TOMB,
					  &devx, &devx_id));
	ASSERT_EQ(0, mock_dev_attach(self->mfd, devx, self->hwpt_id, &out));
	mock_read_counters(_metadata, self->mfd, self->nr_psmmus, before);
	ASSERT_EQ(0, test_viommu_alloc(&v));
	ASSERT_EQ(0, vdevice_alloc(self->fd, v, devx_id, 0x42, &vdev));
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, v));

	ASSERT_EQ(0, mock_dev_unbind(self->mfd, devx));
	ASSERT_EQ(-ENOENT, iommufd_destroy(self->fd, vdev));
	/* No reference is left on the vIOMMU */
	ASSERT_EQ(0, iommufd_destroy(self->fd, v));
	ASSERT_EQ(-ENOENT, iommufd_destroy(self->fd, vdev));
	mock_read_counters(_metadata, self->mfd, self->nr_psmmus, after);
	assert_viommu_counters_equal(_metadata, before, after, self->nr_psmmus);
	/* The parent was released by the vIOMMU and the device */
	ASSERT_EQ(0, mock_dev_detach(self->mfd, self->dev[0]));
	ASSERT_EQ(0, iommufd_destroy(self->fd, self->hwpt_id));
}

TEST_F(viommu, unbind_live_vdevice_reuse)
{
	uint32_t devx, devx_id, devy, devy_id, v, vdev, vdev2, ids[4];
	uint32_t last = self->n - 1;
	int i;

	ASSERT_EQ(0, mock_dev_create_bind(self->mfd, self->fd, last, SID_TOMB,
					  &devx, &devx_id));
	ASSERT_EQ(0, mock_dev_create_bind(self->mfd, self->fd, last,
					  SID_TOMB + 1, &devy, &devy_id));
	ASSERT_EQ(0, test_viommu_alloc(&v));
	ASSERT_EQ(0, vdevice_alloc(self->fd, v, devx_id, 0x42, &vdev));
	ASSERT_EQ(0, mock_dev_unbind(self->mfd, devx));
	ASSERT_EQ(-ENOENT, iommufd_destroy(self->fd, vdev));

	/* The virt_id is free for another device */
	ASSERT_EQ(0, vdevice_alloc(self->fd, v, devy_id, 0x42, &vdev2));
	ASSERT_NE(vdev, vdev2);
	/* The tombstoned ID is not handed out again */
	ASSERT_EQ(0, ioas_alloc(self->fd, &ids[0]));
	ASSERT_EQ(0, ioas_alloc(self->fd, &ids[1]));
	ASSERT_EQ(0, test_viommu_alloc(&ids[2]));
	ASSERT_EQ(0, mock_dev_bind(self->mfd, devx, self->fd, &devx_id));
	ASSERT_EQ(0, vdevice_alloc(self->fd, ids[2], devx_id, 0x42, &ids[3]));
	for (i = 0; i < 4; i++) {
		ASSERT_NE(vdev, ids[i])
			TH_LOG("new object %d", i);
	}
	ASSERT_NE(vdev, devx_id);
	ASSERT_EQ(-ENOENT, iommufd_destroy(self->fd, vdev));

	ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, v));
	ASSERT_EQ(0, iommufd_destroy(self->fd, vdev2));
	ASSERT_EQ(0, iommufd_destroy(self->fd, v));
	ASSERT_EQ(0, iommufd_destroy(self->fd, ids[3]));
	ASSERT_EQ(0, iommufd_destroy(self->fd, ids[2]));
}

TEST_F(viommu, dev_destroy_live_vdevice)
{
	struct mock_smmu_counters before[MAX_PSMMUS], after[MAX_PSMMUS];
	uint32_t devx, devx_id, devy_id, v, vdev, vdev2, last = self->n - 1;

	mock_read_counters(_metadata, self->mfd, self->nr_psmmus, before);
	ASSERT_EQ(0, mock_dev_create_bind(self->mfd, self->fd, last, SID_TOMB,
					  &devx, &devx_id));
	ASSERT_EQ(0, mock_dev_attach(self->mfd, devx, self->hwpt_id, NULL));
	ASSERT_EQ(0, test_viommu_alloc(&v));
	ASSERT_EQ(0, vdevice_alloc(self->fd, v, devx_id, 0x42, &vdev));

	ASSERT_EQ(0, mock_dev_destroy(self->mfd, devx));
	ASSERT_EQ(-ENOENT, iommufd_destroy(self->fd, vdev));
	/* The virt_id and the StreamID are free again */
	ASSERT_EQ(0, mock_dev_create_bind(self->mfd, self->fd, last, SID_TOMB,
					  NULL, &devy_id));
	ASSERT_EQ(0, vdevice_alloc(self->fd, v, devy_id, 0x42, &vdev2));
	ASSERT_NE(vdev, vdev2);
	ASSERT_EQ(0, iommufd_destroy(self->fd, vdev2));
	ASSERT_EQ(0, iommufd_destroy(self->fd, v));
	ASSERT_EQ(-ENOENT, iommufd_destroy(self->fd, vdev));

	/* Only the new device is left over */
	mock_read_counters(_metadata, self->mfd, self->nr_psmmus, after);
	ASSERT_EQ(before[last].devices + 1, after[last].devices);
	assert_viommu_counters_equal(_metadata, before, after,
				     self->nr_psmmus);
}

/* ---- Closing files with everything live --------------------------------- */

static void close_live_round(struct __test_metadata *_metadata, int n,
			     bool iommufd_first)
{
	uint32_t ioas, hwpt = 0, va = 0, vb = 0, dev_id, dev, extra_id, out;
	size_t len = 4 * 4096;
	int fd, mfd, i;
	void *buf;

	fd = iommufd_open();
	ASSERT_LE(0, fd);
	mfd = mock_open();
	ASSERT_LE(0, mfd);
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);

	ASSERT_EQ(0, ioas_alloc(fd, &ioas));
	ASSERT_EQ(0, ioas_map(fd, ioas, buf, len, 0x100000));
	/* The same StreamID behind each pSMMU: only free if released */
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, mock_dev_create_bind(mfd, fd, i, SID_CLOSE, &dev,
						  &dev_id))
			TH_LOG("pSMMU %d", i);
		if (!i) {
			ASSERT_EQ(0, hwpt_alloc_nest_parent(fd, dev_id, ioas,
							    &hwpt));
		}
		ASSERT_EQ(0, mock_dev_attach(mfd, dev, hwpt, &out))
			TH_LOG("pSMMU %d", i);
		if (!i) {
			ASSERT_EQ(0, viommu_alloc_smmu(fd, n > 1, dev_id,
						       hwpt, &va));
			ASSERT_EQ(0, viommu_alloc_smmu(fd, 0, dev_id, hwpt,
						       &vb));
		}
		ASSERT_EQ(0, vdevice_alloc(fd, va, dev_id, 0x500 + i, NULL));
	}
	ASSERT_EQ(0, mock_dev_create_bind(mfd, fd, 0, SID_CLOSE + 1, &dev,
					  &extra_id));
	ASSERT_EQ(0, mock_dev_attach(mfd, dev, hwpt, &out));
	ASSERT_EQ(0, vdevice_alloc(fd, vb, extra_id, 0x500, NULL));
	/* A bound device that is neither attached nor has a vDEVICE */
	ASSERT_EQ(0, mock_dev_create_bind(mfd, fd, n - 1, SID_CLOSE + 2,
					  NULL, NULL));

	if (iommufd_first) {
		ASSERT_EQ(0, close(fd));
		ASSERT_EQ(0, close(mfd));
	} else {
		ASSERT_EQ(0, close(mfd));
		ASSERT_EQ(0, close(fd));
	}
	munmap(buf, len);
}

static void close_live(struct __test_metadata *_metadata, int mfd, int nr,
		       int n, bool iommufd_first)
{
	struct mock_smmu_counters before[MAX_PSMMUS], after[MAX_PSMMUS];
	int round;

	mock_read_counters(_metadata, mfd, nr, before);
	for (round = 0; round < 3; round++) {
		close_live_round(_metadata, n, iommufd_first);
		mock_read_counters(_metadata, mfd, nr, after);
		assert_counters_equal(_metadata, before, after, nr);
	}
	/* Alternate the order too */
	close_live_round(_metadata, n, !iommufd_first);
	mock_read_counters(_metadata, mfd, nr, after);
	assert_counters_equal(_metadata, before, after, nr);
}

TEST_F(viommu, close_live_iommufd_first)
{
	close_live(_metadata, self->mfd, self->nr_psmmus, self->n, true);
}

TEST_F(viommu, close_live_mock_first)
{
	close_live(_metadata, self->mfd, self->nr_psmmus, self->n, false);
}

/* ---- Mock pSMMU state --------------------------------------------------- */

TEST_F(viommu, counters_non_spanning)
{
	struct mock_smmu_counters before[MAX_PSMMUS], mid[MAX_PSMMUS];
	struct mock_smmu_counters after[MAX_PSMMUS];
	uint32_t hwpt, v, vdev;
	int k, j;

	for (k = 0; k < self->n; k++) {
		/* A nesting parent of the pSMMU's own device */
		if (k == 0) {
			hwpt = self->hwpt_id;
		} else {
			ASSERT_EQ(0, hwpt_alloc_nest_parent(self->fd,
							    self->dev_id[k],
							    self->ioas_id,
							    &hwpt));
		}
		mock_read_counters(_metadata, self->mfd, self->nr_psmmus, before);
		ASSERT_EQ(0, viommu_alloc_smmu(self->fd, 0, self->dev_id[k],
					       hwpt, &v));
		mock_read_counters(_metadata, self->mfd, self->nr_psmmus, mid);
		for (j = 0; j < self->nr_psmmus; j++) {
			ASSERT_EQ(j == k, mid[j].vmids - before[j].vmids)
				TH_LOG("vIOMMU on pSMMU %d, pSMMU %d", k, j);
			ASSERT_EQ(j == k, mid[j].viommus - before[j].viommus)
				TH_LOG("vIOMMU on pSMMU %d, pSMMU %d", k, j);
			ASSERT_EQ(0, mid[j].vdevices - before[j].vdevices);
		}
		ASSERT_EQ(0, vdevice_alloc(self->fd, v, self->dev_id[k], 0x10,
					   &vdev));
		mock_read_counters(_metadata, self->mfd, self->nr_psmmus, after);
		for (j = 0; j < self->nr_psmmus; j++) {
			ASSERT_EQ(j == k, after[j].vdevices - mid[j].vdevices)
				TH_LOG("vDEVICE on pSMMU %d, pSMMU %d", k, j);
			ASSERT_EQ(mid[j].vmids, after[j].vmids);
		}
		ASSERT_EQ(0, iommufd_destroy(self->fd, vdev));
		ASSERT_EQ(0, iommufd_destroy(self->fd, v));
		mock_read_counters(_metadata, self->mfd, self->nr_psmmus, after);
		assert_counters_equal(_metadata, before, after,
				      self->nr_psmmus);
		if (k)
			ASSERT_EQ(0, iommufd_destroy(self->fd, hwpt));
	}
}

TEST_F(viommu, counters_spanning)
{
	struct mock_smmu_counters before[MAX_PSMMUS], mid[MAX_PSMMUS];
	struct mock_smmu_counters after[MAX_PSMMUS];
	uint32_t v, vdev[VARIANT_MAX_PSMMUS];
	int i, j;

	mock_read_counters(_metadata, self->mfd, self->nr_psmmus, before);
	ASSERT_EQ(0, viommu_alloc_smmu(self->fd, 1, self->dev_id[0],
				       self->hwpt_id, &v));
	mock_read_counters(_metadata, self->mfd, self->nr_psmmus, mid);
	for (j = 0; j < self->nr_psmmus; j++) {
		uint64_t dvmid = mid[j].vmids - before[j].vmids;
		uint64_t dviommu = mid[j].viommus - before[j].viommus;

		if (j < self->n) {
			/* One VMID on each spanned pSMMU */
			ASSERT_EQ(1, dvmid) TH_LOG("pSMMU %d", j);
			ASSERT_EQ(1, dviommu) TH_LOG("pSMMU %d", j);
		} else {
			/* Beyond the variant: all or nothing, consistently */
			ASSERT_GE(1, dvmid) TH_LOG("pSMMU %d", j);
			ASSERT_EQ(dvmid, dviommu) TH_LOG("pSMMU %d", j);
		}
		ASSERT_EQ(0, mid[j].vdevices - before[j].vdevices);
	}

	for (i = 0; i < self->n; i++) {
		ASSERT_EQ(0, vdevice_alloc(self->fd, v, self->dev_id[i],
					   0x10 + i, &vdev[i]));
	}
	mock_read_counters(_metadata, self->mfd, self->nr_psmmus, after);
	for (j = 0; j < self->nr_psmmus; j++) {
		ASSERT_EQ(j < self->n, after[j].vdevices - mid[j].vdevices)
			TH_LOG("pSMMU %d", j);
		/* vDEVICEs need no VMID of their own */
		ASSERT_EQ(mid[j].vmids, after[j].vmids) TH_LOG("pSMMU %d", j);
		ASSERT_EQ(mid[j].viommus, after[j].viommus);
	}

	/* A second spanning vIOMMU: one more VMID on each, a distinct one */
	{
		uint32_t v2;

		ASSERT_EQ(0, viommu_alloc_smmu(self->fd, 1, self->dev_id[0],
					       self->hwpt_id, &v2));
		mock_read_counters(_metadata, self->mfd, self->nr_psmmus, after);
		for (j = 0; j < self->n; j++) {
			ASSERT_EQ(2, after[j].vmids - before[j].vmids);
			ASSERT_EQ(2, after[j].viommus - before[j].viommus);
		}
		ASSERT_EQ(0, iommufd_destroy(self->fd, v2));
	}

	for (i = 0; i < self->n; i++) {
		ASSERT_EQ(0, iommufd_destroy(self->fd, vdev[i]));
		mock_read_counters(_metadata, self->mfd, self->nr_psmmus, after);
		ASSERT_EQ(mid[i].vdevices, after[i].vdevices);
	}
	ASSERT_EQ(0, iommufd_destroy(self->fd, v));
	mock_read_counters(_metadata, self->mfd, self->nr_psmmus, after);
	assert_counters_equal(_metadata, before, after, self->nr_psmmus);
}

TEST_F(viommu, counters_devices)
{
	struct mock_smmu_counters before[MAX_PSMMUS], after[MAX_PSMMUS];
	uint32_t dev;
	int j;

	mock_read_counters(_metadata, self->mfd, self->nr_psmmus, before);
	ASSERT_EQ(0, mock_dev_create(self->mfd, self->n - 1, SID_EXTRA, &dev));
	mock_read_counters(_metadata, self->mfd, self->nr_psmmus, after);
	for (j = 0; j < self->nr_psmmus; j++) {
		ASSERT_EQ(j == self->n - 1,
			  after[j].devices - before[j].devices)
			TH_LOG("pSMMU %d", j);
	}
	ASSERT_EQ(0, mock_dev_destroy(self->mfd, dev));
	mock_read_counters(_metadata, self->mfd, self->nr_psmmus, after);
	assert_counters_equal(_metadata, before, after, self->nr_psmmus);

	/* Out of range */
	ASSERT_EQ(-EINVAL, mock_get_counters(self->mfd, self->nr_psmmus,
					     &after[0]));
}

static void assert_ste_abort(struct __test_metadata *_metadata, int mfd,
			     uint32_t psmmu, uint32_t sid)
{
	uint64_t ste[4];

	ASSERT_EQ(0, mock_get_ste(mfd, psmmu, sid, ste));
	ASSERT_EQ(SMMU_STE0_V, ste[0] & SMMU_STE0_V)
		TH_LOG("pSMMU %u SID 0x%x ste0 0x%llx", psmmu, sid,
		       (unsigned long long)ste[0]);
	ASSERT_EQ(SMMU_STE_CFG_ABORT, SMMU_STE_CFG(ste[0]))
		TH_LOG("pSMMU %u SID 0x%x ste0 0x%llx", psmmu, sid,
		       (unsigned long long)ste[0]);
}

static uint16_t assert_ste_s2(struct __test_metadata *_metadata, int mfd,
			      uint32_t psmmu, uint32_t sid)
{
	uint64_t ste[4];

	ASSERT_EQ(0, mock_get_ste(mfd, psmmu, sid, ste));
	ASSERT_EQ(SMMU_STE0_V, ste[0] & SMMU_STE0_V)
		TH_LOG("pSMMU %u SID 0x%x ste0 0x%llx", psmmu, sid,
		       (unsigned long long)ste[0]);
	ASSERT_EQ(SMMU_STE_CFG_S2_TRANS, SMMU_STE_CFG(ste[0]))
		TH_LOG("pSMMU %u SID 0x%x ste0 0x%llx", psmmu, sid,
		       (unsigned long long)ste[0]);
	ASSERT_NE(0, ste[2] & SMMU_STE2_S2VMID)
		TH_LOG("pSMMU %u SID 0x%x ste2 0x%llx", psmmu, sid,
		       (unsigned long long)ste[2]);
	return ste[2] & SMMU_STE2_S2VMID;
}

TEST_F(viommu, ste_attach_detach)
{
	uint32_t dev, v, vdev[VARIANT_MAX_PSMMUS], out;
	uint16_t vmid0;
	int i;

	/* dev[0] is attached to the nesting parent */
	vmid0 = assert_ste_s2(_metadata, self->mfd, 0, SID_FIXTURE);
	/* The others are bound, not attached */
	for (i = 1; i < self->n; i++)
		assert_ste_abort(_metadata, self->mfd, i, SID_FIXTURE + i);
	/* A created device that was never bound */
	ASSERT_EQ(0, mock_dev_create(self->mfd, self->n - 1, SID_EXTRA, &dev));
	assert_ste_abort(_metadata, self->mfd, self->n - 1, SID_EXTRA);
	/* No such StreamID */
	ASSERT_EQ(-ENOENT, mock_get_ste(self->mfd, 0, SID_EXTRA + 1, NULL));

	/* Attach every device to the one nesting parent */
	for (i = 1; i < self->n; i++) {
		ASSERT_EQ(0, mock_dev_attach(self->mfd, self->dev[i],
					     self->hwpt_id, &out))
			TH_LOG("pSMMU %d", i);
		ASSERT_EQ(self->hwpt_id, out);
		assert_ste_s2(_metadata, self->mfd, i, SID_FIXTURE + i);
	}

	/* A vIOMMU and vDEVICEs leave the S2 STEs as they are */
	ASSERT_EQ(0, test_viommu_alloc(&v));
	for (i = 0; i < self->n; i++) {
		ASSERT_EQ(0, vdevice_alloc(self->fd, v, self->dev_id[i],
					   0x10 + i, &vdev[i]));
	}
	ASSERT_EQ(vmid0, assert_ste_s2(_metadata, self->mfd, 0, SID_FIXTURE));
	for (i = 1; i < self->n; i++)
		assert_ste_s2(_metadata, self->mfd, i, SID_FIXTURE + i);

	/* Detached: abort, V still set */
	for (i = 0; i < self->n; i++) {
		ASSERT_EQ(0, mock_dev_detach(self->mfd, self->dev[i]));
		assert_ste_abort(_metadata, self->mfd, i, SID_FIXTURE + i);
	}
	for (i = 0; i < self->n; i++)
		ASSERT_EQ(0, iommufd_destroy(self->fd, vdev[i]));
	ASSERT_EQ(0, iommufd_destroy(self->fd, v));

	/* Attach again, then unbind: abort */
	ASSERT_EQ(0, mock_dev_attach(self->mfd, self->dev[0], self->hwpt_id,
				     NULL));
	assert_ste_s2(_metadata, self->mfd, 0, SID_FIXTURE);
	ASSERT_EQ(0, mock_dev_unbind(self->mfd, self->dev[0]));
	assert_ste_abort(_metadata, self->mfd, 0, SID_FIXTURE);
}

TEST_HARNESS_MAIN
