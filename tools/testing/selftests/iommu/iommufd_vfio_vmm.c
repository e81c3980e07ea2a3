// SPDX-License-Identifier: GPL-2.0-only
/*
 * The VMM's real path: what QEMU 11.1's accelerated SMMUv3
 * (-device arm-smmuv3,accel=on with an iommufd backend) does, step by step,
 * through the VFIO device cdevs of PCI devices behind the mock SMMU.
 *
 * The devices are QEMU's "edu" PCI devices (1234:11e8) of the test VM,
 * given to the mock's pSMMUs by its module parameter pci= (one on pSMMU 0,
 * one on pSMMU 1) and bound to vfio-pci by the test itself when no driver
 * has them. Each test realizes both devices as QEMU does, plays a part of
 * a guest's life, hot-unplugs both and tears everything down, asserting
 * every result, the physical STEs and the commands each pSMMU executed.
 * Two layouts: one vIOMMU per pSMMU (what QEMU does, one arm-smmuv3
 * instance per host SMMU) and one vIOMMU spanning every pSMMU
 * (IOMMU_VIOMMU_ALLOC_FLAG_SPAN, this project's extension).
 *
 * QEMU's sequence, read from hw/arm/smmuv3-accel.c and hw/vfio/iommufd.c:
 *   realize: open /dev/iommu and the device cdev (found through sysfs
 *   vfio-dev/vfioN/dev), VFIO_DEVICE_BIND_IOMMUFD, IOAS_ALLOC,
 *   IOAS_IOVA_RANGES, GET_HW_INFO, HWPT_ALLOC(NEST_PARENT) (or the
 *   existing one), VFIO_DEVICE_ATTACH_IOMMUFD_PT, GET_HW_INFO (ARM SMMUv3,
 *   ID register checks), GET_HW_INFO with FLAG_INPUT_TYPE (Tegra241 CMDQV;
 *   EOPNOTSUPP is accepted), then for the first device of a vSMMU:
 *   VIOMMU_ALLOC (the 40-byte struct, data_len 0), HWPT_ALLOC of an abort
 *   and a bypass vSTE, attach of the bypass one (GBPA.ABORT is 0 at
 *   reset); IOAS_MAP of guest RAM.
 *   guest: VDEVICE_ALLOC (virt_id = guest SID) at a device's first STE;
 *   abort/bypass STEs attach the prebuilt HWPTs; a stage-1 STE gives
 *   HWPT_ALLOC, attach (replace), IOMMU_DESTROY of the previous stage-1
 *   HWPT; each invalidation is one command per call (entry_num 1,
 *   entry_len 16), CMD_SYNC never forwarded.
 *   unplug: attach the S2 HWPT, destroy the stage-1 HWPT, the vDEVICE and,
 *   with the vSMMU's last device, its bypass and abort HWPTs and the
 *   vIOMMU; VFIO_DEVICE_DETACH_IOMMUFD_PT; close the cdev.
 *
 * group_mode_type1_container checks that the same VFIO build keeps group
 * mode (/dev/vfio/<group>, a type1 container) for VMMs without iommufd.
 *
 * The test SKIPs only when the VM has no edu device behind the mock, or no
 * vfio-pci to give it a cdev.
 */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "iommufd_vsmmu_contract.h"
#include "iommufd_vfio_utils.h"

#define EDU_VENDOR	0x1234
#define EDU_DEVICE	0x11e8
#define NDEV		2
#define PCI_DEVICES	"/sys/bus/pci/devices"
#define VFIO_PCI_DRV	"/sys/bus/pci/drivers/vfio-pci"

/* Guest RAM, as a virt machine has it: GPA 1 GiB, mapped 1:1 as IOVA */
#define GUEST_RAM_GPA	0x40000000ULL
#define GUEST_RAM_SIZE	(2UL << 20)
/* A guest's context descriptor tables, in guest RAM */
#define GUEST_CD(d, n)	(GUEST_RAM_GPA + 0x10000 * (1 + (d)) + 0x1000 * (n))
/* Guest StreamIDs: per vSMMU a bus of its own (pxb-pcie), as QEMU's */
#define GUEST_SID(v, d)	(((1 + (v)) << 8) | ((d) << 3))
#define GUEST_ASID	0x2a

/* Upstream's GET_HW_INFO flag (6.17+) for an input data type */
#ifndef IOMMU_HW_INFO_FLAG_INPUT_TYPE
#define IOMMU_HW_INFO_FLAG_INPUT_TYPE	0x1
#endif
#define IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV_NR	3

/* struct iommu_viommu_alloc of 6.17+, which QEMU 11.1 is built against */
struct vmm_viommu_alloc {
	__u32 size;
	__u32 flags;
	__u32 type;
	__u32 dev_id;
	__u32 hwpt_id;
	__u32 out_viommu_id;
	__u32 data_len;
	__u32 __reserved;
	__aligned_u64 data_uptr;
};

static_assert(sizeof(struct vmm_viommu_alloc) == 40, "QEMU 11.1's size");

/*
 * What QEMU 11.1's model of an SMMUv3 has in its ID registers with the
 * properties an accelerated instance would be given (ats=on, ril=on,
 * oas=48, pasid=on: the strictest), from hw/arm/smmuv3.c's reset values.
 */
static const struct {
	unsigned int st_level, ttendian, ttf, sidsize, ssidsize, ril, oas, ats;
	unsigned int gran4k, gran16k, gran64k;
} qemu_model = {
	.st_level = SMMU_ST_LEVEL_2LVL,
	.ttendian = SMMU_TTENDIAN_LE,
	.ttf = SMMU_TTF_AARCH64,
	.sidsize = 16,
	.ssidsize = 16,
	.ril = 1,
	.oas = SMMU_OAS_48_BIT,
	.ats = 1,
	.gran4k = 1,
	.gran16k = 1,
	.gran64k = 1,
};

#define IDR(info, r, f)	((unsigned int)smmu_field_get(SMMU_IDR##r##_##f, (info)->idr[r]))

/*
 * Every check smmuv3_accel_check_hw_compatible() makes, as QEMU states it:
 * STLEVEL equal, TTENDIAN <= QEMU's, TTF >= QEMU's, SIDSIZE >= 16,
 * SSIDSIZE >= QEMU's, RIL >= QEMU's, OAS >= QEMU's, ATS >= QEMU's, and
 * GRAN4K, GRAN16K, GRAN64K each equal to QEMU's.
 */
static void assert_qemu_accepts(struct __test_metadata *_metadata,
				const struct iommu_hw_info_arm_smmuv3 *info)
{
	ASSERT_EQ(qemu_model.st_level, IDR(info, 0, ST_LEVEL))
		TH_LOG("Stream Table format (STLEVEL) mismatch");
	ASSERT_GE(qemu_model.ttendian, IDR(info, 0, TTENDIAN))
		TH_LOG("no little-endian translation tables (TTENDIAN)");
	ASSERT_LE(qemu_model.ttf, IDR(info, 0, TTF))
		TH_LOG("no AArch64 translation table format (TTF)");
	ASSERT_LE(qemu_model.sidsize, IDR(info, 1, SIDSIZE))
		TH_LOG("SIDSIZE below 16");
	ASSERT_LE(qemu_model.ssidsize, IDR(info, 1, SSIDSIZE))
		TH_LOG("SSIDSIZE below QEMU's");
	ASSERT_LE(qemu_model.ril, IDR(info, 3, RIL))
		TH_LOG("no range invalidation (RIL)");
	ASSERT_LE(qemu_model.oas, IDR(info, 5, OAS))
		TH_LOG("OAS %u bits, below QEMU's %u",
		       smmu_oas_bits(IDR(info, 5, OAS)),
		       smmu_oas_bits(qemu_model.oas));
	ASSERT_LE(qemu_model.ats, IDR(info, 0, ATS)) TH_LOG("no ATS");
	ASSERT_EQ(qemu_model.gran4k, IDR(info, 5, GRAN4K))
		TH_LOG("4K granule (GRAN4K) differs");
	ASSERT_EQ(qemu_model.gran16k, IDR(info, 5, GRAN16K))
		TH_LOG("16K granule (GRAN16K) differs");
	ASSERT_EQ(qemu_model.gran64k, IDR(info, 5, GRAN64K))
		TH_LOG("64K granule (GRAN64K) differs");
}

/* Every pSMMU, through a mock platform device on each: no edu needed */
TEST(qemu_id_register_checks)
{
	struct iommu_hw_info_arm_smmuv3 info;
	uint32_t dev_id, type;
	int fd, mfd, nr, p;

	fd = iommufd_open();
	ASSERT_LE(0, fd);
	mfd = mock_open();
	ASSERT_LE(0, mfd);
	nr = mock_num_psmmus(mfd);
	ASSERT_LE(1, nr);
	for (p = 0; p < nr; p++) {
		ASSERT_EQ(0, mock_dev_create_bind(mfd, fd, p, 0x7000 + p, NULL,
						  &dev_id));
		memset(&info, 0xa5, sizeof(info));
		ASSERT_EQ(0, get_hw_info(fd, dev_id, &info, sizeof(info),
					 &type));
		ASSERT_EQ(IOMMU_HW_INFO_TYPE_ARM_SMMUV3, type);
		assert_qemu_accepts(_metadata, &info);
	}
	close(mfd);
	close(fd);
}

/* ---- sysfs: the edu devices, vfio-pci, the cdev ------------------------ */

/* @src into @dst of @len bytes, or "" if it does not fit */
static void copy_name(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (n >= len)
		n = 0;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static unsigned long sysfs_hex(const char *bdf, const char *attr)
{
	char path[PATH_MAX], buf[32];

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/%s", bdf, attr);
	if (sysfs_read(path, buf, sizeof(buf)))
		return ~0UL;
	return strtoul(buf, NULL, 16);
}

/* The last component of the link @bdf/@attr into @buf, or "" */
static void sysfs_link_name(const char *bdf, const char *attr, char *buf,
			    size_t len)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;
	char *slash;

	buf[0] = '\0';
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/%s", bdf, attr);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return;
	target[n] = '\0';
	slash = strrchr(target, '/');
	copy_name(buf, len, slash ? slash + 1 : target);
}

/* One edu device behind the mock, and what the VMM holds of it */
struct edu {
	char bdf[16];
	int psmmu;
	uint32_t sid;		/* physical StreamID: its requester ID */
	bool we_bound;		/* the test bound it to vfio-pci */
	int cfd;		/* its VFIO device cdev */
	uint32_t dev_id;
	int vsmmu;		/* index of its vSMMU */
	uint32_t vsid;		/* guest StreamID */
	uint32_t vdev_id;	/* 0: no vDEVICE yet */
	uint32_t s1_hwpt;	/* 0: no stage-1 HWPT attached */
	uint32_t cur_hwpt;	/* what it is attached to */
	uint16_t s2_vmid;	/* VMID of the S2 HWPT on its pSMMU */
	uint16_t vmid;		/* VMID of its vIOMMU on its pSMMU */
	bool plugged;
};

/* The edu devices behind pSMMU 0 and 1, in that order; how many found */
static int find_edus(struct edu *edu)
{
	unsigned int dom, bus, dev, fn;
	struct dirent *de;
	char name[64];
	int found = 0, p;
	DIR *dir;

	dir = opendir(PCI_DEVICES);
	if (!dir)
		return 0;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.' ||
		    sysfs_hex(de->d_name, "vendor") != EDU_VENDOR ||
		    sysfs_hex(de->d_name, "device") != EDU_DEVICE)
			continue;
		/* The IOMMU core links a device to its iommu_device */
		sysfs_link_name(de->d_name, "iommu", name, sizeof(name));
		if (sscanf(name, "mock-smmu.%d", &p) != 1 || p < 0 ||
		    p >= NDEV || edu[p].bdf[0])
			continue;
		if (sscanf(de->d_name, "%x:%x:%x.%x", &dom, &bus, &dev,
			   &fn) != 4)
			continue;
		copy_name(edu[p].bdf, sizeof(edu[p].bdf), de->d_name);
		edu[p].psmmu = p;
		edu[p].sid = bus << 8 | dev << 3 | fn;
		found++;
	}
	closedir(dir);
	return found;
}

/* Bind @e to vfio-pci unless it is; 0, or -errno */
static int vfio_pci_bind(struct edu *e)
{
	char path[PATH_MAX], drv[64];
	int rc;

	sysfs_link_name(e->bdf, "driver", drv, sizeof(drv));
	if (!strcmp(drv, "vfio-pci"))
		return 0;
	if (drv[0])
		return -EBUSY;
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/driver_override",
		 e->bdf);
	rc = sysfs_write(path, "vfio-pci");
	if (rc)
		return rc;
	e->we_bound = true;
	rc = sysfs_write("/sys/bus/pci/drivers_probe", e->bdf);
	if (rc)
		return rc;
	sysfs_link_name(e->bdf, "driver", drv, sizeof(drv));
	return strcmp(drv, "vfio-pci") ? -ENODEV : 0;
}

/* Give @e back its state before the test: no driver, no override */
static void vfio_pci_unbind(struct edu *e)
{
	char path[PATH_MAX];

	if (!e->we_bound)
		return;
	sysfs_write(VFIO_PCI_DRV "/unbind", e->bdf);
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/driver_override",
		 e->bdf);
	sysfs_write(path, "\n");
	e->we_bound = false;
}

/*
 * Open the cdev of @e as QEMU does: the vfioN entry of sysfs vfio-dev/,
 * its dev attribute "major:minor", /dev/vfio/devices/vfioN checked to be
 * that character device. The fd, or -errno.
 */
static int vfio_cdev_open(const struct edu *e)
{
	char path[PATH_MAX], buf[32], name[NAME_MAX + 1] = "";
	unsigned int maj, min;
	struct dirent *de;
	struct stat st;
	int fd, rc;
	DIR *dir;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/vfio-dev", e->bdf);
	dir = opendir(path);
	if (!dir)
		return -ENODEV;
	while ((de = readdir(dir)))
		if (!strncmp(de->d_name, "vfio", 4))
			copy_name(name, sizeof(name), de->d_name);
	closedir(dir);
	if (!name[0])
		return -ENODEV;
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/vfio-dev/%s/dev",
		 e->bdf, name);
	rc = sysfs_read(path, buf, sizeof(buf));
	if (rc)
		return rc;
	if (sscanf(buf, "%u:%u", &maj, &min) != 2)
		return -EINVAL;
	snprintf(path, sizeof(path), "/dev/vfio/devices/%s", name);
	fd = open(path, O_RDWR);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISCHR(st.st_mode) ||
	    st.st_rdev != makedev(maj, min)) {
		close(fd);
		return -ENXIO;
	}
	return fd;
}

/* ---- The VMM --------------------------------------------------------- */

FIXTURE(vmm) {
	int fd, mfd, nr_psmmus;
	struct edu edu[NDEV];
	int nr_vsmmus;
	struct {
		uint32_t viommu, abort_hwpt, bypass_hwpt;
		int devs;
	} vs[NDEV];
	uint32_t ioas, s2_hwpt;
	void *ram;
	struct mock_smmu_counters base[NDEV];
	/* A call's commands on each pSMMU; one command's */
	struct vsmmu_expect x, one;
};

FIXTURE_VARIANT(vmm) {
	/* One vIOMMU spanning every pSMMU, instead of one per pSMMU */
	bool span;
};

FIXTURE_VARIANT_ADD(vmm, per_psmmu) {
	.span = false,
};

FIXTURE_VARIANT_ADD(vmm, span) {
	.span = true,
};

static void assert_ste_abort(struct __test_metadata *_metadata, int mfd,
			     const struct edu *e)
{
	uint64_t ste[4];

	ASSERT_EQ(0, mock_get_ste(mfd, e->psmmu, e->sid, ste));
	ASSERT_TRUE(ste[0] & SMMU_STE0_V);
	ASSERT_EQ(SMMU_STE_CFG_ABORT, SMMU_STE_CFG(ste[0]))
		TH_LOG("%s: STE %016llx", e->bdf, (unsigned long long)ste[0]);
}

/* The S2VMID of a stage-2 only STE; -EINVAL for another STE, or -errno */
static int ste_s2_vmid(int mfd, const struct edu *e)
{
	uint64_t ste[4];
	int rc;

	rc = mock_get_ste(mfd, e->psmmu, e->sid, ste);
	if (rc)
		return rc;
	if (!(ste[0] & SMMU_STE0_V) ||
	    SMMU_STE_CFG(ste[0]) != SMMU_STE_CFG_S2_TRANS)
		return -EINVAL;
	return smmu_field_get(SMMU_STE2_S2VMID, ste[2]);
}

/* Assert @e has a stage-2 only STE, and get its VMID into @vmid */
#define ASSERT_STE_S2(e, vmid) do {					\
	const struct edu *__e = (e);					\
	int __v = ste_s2_vmid(self->mfd, __e);				\
									\
	ASSERT_LE(0, __v) TH_LOG("%s: not a stage-2 only STE", __e->bdf); \
	(vmid) = __v;							\
} while (0)

/* A nested STE of the guest's words @g0, @g1 on the vIOMMU's VMID */
static void assert_ste_nested(struct __test_metadata *_metadata,
			      struct _test_data_vmm *self, const struct edu *e,
			      uint64_t g0, uint64_t g1)
{
	const uint64_t s1_0 = SMMU_STE0_S1FMT | SMMU_STE0_S1CTXPTR |
			      SMMU_STE0_S1CDMAX;
	const uint64_t s1_1 = SMMU_STE1_S1DSS | SMMU_STE1_S1CIR |
			      SMMU_STE1_S1COR | SMMU_STE1_S1CSH |
			      SMMU_STE1_S1STALLD;
	uint64_t ste[4];

	ASSERT_EQ(0, mock_get_ste(self->mfd, e->psmmu, e->sid, ste));
	ASSERT_TRUE(ste[0] & SMMU_STE0_V);
	ASSERT_EQ(SMMU_STE_CFG_NESTED, SMMU_STE_CFG(ste[0]));
	ASSERT_EQ(g0 & s1_0, ste[0] & s1_0);
	ASSERT_EQ(g1 & s1_1, ste[1] & s1_1);
	ASSERT_TRUE(ste[1] & SMMU_STE1_MEV);
	ASSERT_EQ(e->vmid, smmu_field_get(SMMU_STE2_S2VMID, ste[2]));
}

/* The guest STE of a stage-1 translation through CD table @cd, masked */
static void guest_s1_ste(uint64_t cd, uint64_t *g0, uint64_t *g1)
{
	/* What a guest writes, with fields nesting does not take */
	uint64_t w0 = SMMU_STE0_V |
		      SMMU_FIELD(SMMU_STE0_CFG, SMMU_STE_CFG_S1_TRANS) |
		      (cd & SMMU_STE0_S1CTXPTR) | SMMU_BIT(52);
	uint64_t w1 = SMMU_FIELD(SMMU_STE1_S1CIR, 1) |
		      SMMU_FIELD(SMMU_STE1_S1COR, 1) |
		      SMMU_FIELD(SMMU_STE1_S1CSH, 3) | SMMU_STE1_MEV;

	/* QEMU's STE0_MASK and STE1_MASK: the fields nesting takes */
	*g0 = w0 & SMMU_STE0_NESTING_ALLOWED;
	*g1 = w1 & SMMU_STE1_NESTING_ALLOWED;
}

static void gethwinfo_checked(struct __test_metadata *_metadata,
			      struct _test_data_vmm *self, const struct edu *e)
{
	struct iommu_hw_info_arm_smmuv3 info;
	uint32_t type;

	memset(&info, 0x5a, sizeof(info));
	ASSERT_EQ(0, get_hw_info(self->fd, e->dev_id, &info, sizeof(info),
				 &type));
	ASSERT_EQ(IOMMU_HW_INFO_TYPE_ARM_SMMUV3, type);
	assert_qemu_accepts(_metadata, &info);
}

/* The realize of the vfio-pci device @e */
static void realize(struct __test_metadata *_metadata,
		    struct _test_data_vmm *self, const struct _fixture_variant_vmm *variant,
		    struct edu *e)
{
	struct iommu_iova_range ranges[8];
	struct iommu_ioas_iova_ranges r = {
		.size = sizeof(r),
		.num_iovas = 8,
		.allowed_iovas = (uintptr_t)ranges,
	};
	struct iommu_hw_info info = { .size = sizeof(info) };
	struct vmm_viommu_alloc va = {
		.size = sizeof(va),
		.type = IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
	};
	/* QEMU's prebuilt vSTEs: abort (V) and bypass (V | Config bypass) */
	uint64_t abort_ste[2] = { SMMU_STE0_V, 0 };
	uint64_t bypass_ste[2] = { SMMU_STE0_V |
				   SMMU_FIELD(SMMU_STE0_CFG, SMMU_STE_CFG_BYPASS),
				   0 };
	struct iommu_hw_info_arm_smmuv3 hw;
	int v = e->vsmmu;
	uint32_t out;

	e->cfd = vfio_cdev_open(e);
	ASSERT_LE(0, e->cfd) TH_LOG("%s: no VFIO cdev: %s", e->bdf,
				    strerror(-e->cfd));
	ASSERT_EQ(0, vfio_bind_iommufd(e->cfd, self->fd, &e->dev_id));
	e->plugged = true;

	if (!self->ioas) {
		ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas));
		r.ioas_id = self->ioas;
		ASSERT_EQ(0, ioctl_errno(self->fd, IOMMU_IOAS_IOVA_RANGES,
					 &r));
		/* Nothing attached yet: every IOVA */
		ASSERT_EQ(1, r.num_iovas);
		ASSERT_EQ(0, ranges[0].start);
		ASSERT_EQ(UINT64_MAX, ranges[0].last);
	}

	/* The host IOMMU device's realize: its info and capabilities */
	info.dev_id = e->dev_id;
	info.data_len = sizeof(hw);
	info.data_uptr = (uintptr_t)&hw;
	ASSERT_EQ(0, ioctl_errno(self->fd, IOMMU_GET_HW_INFO, &info));
	ASSERT_EQ(IOMMU_HW_INFO_TYPE_ARM_SMMUV3, info.out_data_type);
	ASSERT_EQ(sizeof(hw), info.data_len);

	/* The vIOMMU wants a nesting parent: one for every device */
	if (!self->s2_hwpt)
		ASSERT_EQ(0, hwpt_alloc_nest_parent(self->fd, e->dev_id,
						    self->ioas,
						    &self->s2_hwpt));
	ASSERT_EQ(0, vfio_attach_pt(e->cfd, self->s2_hwpt, &out));
	ASSERT_EQ(self->s2_hwpt, out);
	e->cur_hwpt = self->s2_hwpt;
	ASSERT_STE_S2(e, e->s2_vmid);

	/* After the attach, the S2's aperture: within the OAS */
	r.ioas_id = self->ioas;
	r.num_iovas = 8;
	ASSERT_EQ(0, ioctl_errno(self->fd, IOMMU_IOAS_IOVA_RANGES, &r));
	ASSERT_LE(1, r.num_iovas);
	ASSERT_EQ(0, ranges[0].start);
	ASSERT_LE(GUEST_RAM_GPA + GUEST_RAM_SIZE - 1,
		  ranges[r.num_iovas - 1].last);
	ASSERT_GT(1ULL << smmu_oas_bits(IDR(&hw, 5, OAS)),
		  ranges[r.num_iovas - 1].last);

	/* smmuv3_accel_set_iommu_device(): compatible, ARM SMMUv3 */
	gethwinfo_checked(_metadata, self, e);
	/* Tegra241 CMDQV's probe: upstream's input type, which 6.12 lacks */
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	info.flags = IOMMU_HW_INFO_FLAG_INPUT_TYPE;
	info.dev_id = e->dev_id;
	info.data_len = sizeof(hw);
	info.data_uptr = (uintptr_t)&hw;
	info.out_data_type = IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV_NR;
	ASSERT_EQ(-EOPNOTSUPP, ioctl_errno(self->fd, IOMMU_GET_HW_INFO, &info));

	if (!self->vs[v].viommu) {
		va.flags = variant->span ? IOMMU_VIOMMU_ALLOC_FLAG_SPAN : 0;
		va.dev_id = e->dev_id;
		va.hwpt_id = self->s2_hwpt;
		ASSERT_EQ(0, ioctl_errno(self->fd, IOMMU_VIOMMU_ALLOC, &va));
		self->vs[v].viommu = va.out_viommu_id;
		ASSERT_EQ(0, hwpt_alloc_nested_smmu(self->fd, e->dev_id,
						    self->vs[v].viommu,
						    abort_ste[0], abort_ste[1],
						    &self->vs[v].abort_hwpt));
		ASSERT_EQ(0, hwpt_alloc_nested_smmu(self->fd, e->dev_id,
						    self->vs[v].viommu,
						    bypass_ste[0], bypass_ste[1],
						    &self->vs[v].bypass_hwpt));
		/* GBPA.ABORT is 0 at reset: bypass */
		ASSERT_EQ(0, vfio_attach_pt(e->cfd, self->vs[v].bypass_hwpt,
					    &out));
		ASSERT_EQ(self->vs[v].bypass_hwpt, out);
		e->cur_hwpt = out;
		/* A guest bypass STE is stage 2 only, on the vIOMMU's VMID */
		ASSERT_STE_S2(e, e->vmid);
		ASSERT_NE(e->s2_vmid, e->vmid);
	}
	self->vs[v].devs++;

	/* The memory listener maps guest RAM once there is a container */
	if (!self->ram) {
		self->ram = mmap(NULL, GUEST_RAM_SIZE, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, self->ram);
		ASSERT_EQ(0, ioas_map(self->fd, self->ioas, self->ram,
				      GUEST_RAM_SIZE, GUEST_RAM_GPA));
	}
}

FIXTURE_SETUP(vmm)
{
	int i, found, rc;

	memset(self->edu, 0, sizeof(self->edu));
	for (i = 0; i < NDEV; i++)
		self->edu[i].cfd = -1;
	self->fd = -1;
	self->mfd = -1;
	found = find_edus(self->edu);
	if (found < NDEV)
		SKIP(return, "needs edu devices behind pSMMU 0 and 1 (mock_smmu pci=), found %d",
		     found);
	if (access(VFIO_PCI_DRV, F_OK))
		SKIP(return, "vfio-pci is not loaded: no VFIO device cdev");
	for (i = 0; i < NDEV; i++) {
		rc = vfio_pci_bind(&self->edu[i]);
		if (rc) {
			/* No teardown after a failed set-up: undo it here */
			while (i >= 0)
				vfio_pci_unbind(&self->edu[i--]);
			ASSERT_EQ(0, rc) TH_LOG("binding vfio-pci: %s",
						strerror(-rc));
		}
	}
	self->fd = iommufd_open();
	self->mfd = mock_open();
	if (self->fd >= 0 && self->mfd >= 0)
		self->nr_psmmus = mock_num_psmmus(self->mfd);
	if (self->nr_psmmus < NDEV ||
	    vsmmu_expect_init(&self->x, self->nr_psmmus, 64) ||
	    vsmmu_expect_init(&self->one, self->nr_psmmus, 4)) {
		for (i = 0; i < NDEV; i++)
			vfio_pci_unbind(&self->edu[i]);
		ASSERT_LE(NDEV, self->nr_psmmus);
		ASSERT_TRUE(false) TH_LOG("no memory");
	}
}

/* The realize of both devices, as QEMU's vfio-pci realize does them */
static void realize_all(struct __test_metadata *_metadata,
			struct _test_data_vmm *self,
			const struct _fixture_variant_vmm *variant)
{
	int i;

	for (i = 0; i < NDEV; i++)
		ASSERT_EQ(0, mock_get_counters(self->mfd, i, &self->base[i]));
	for (i = 0; i < NDEV; i++) {
		struct edu *e = &self->edu[i];

		e->vsmmu = variant->span ? 0 : i;
		e->vsid = GUEST_SID(e->vsmmu, variant->span ? i : 0);
		realize(_metadata, self, variant, e);
	}
	self->nr_vsmmus = variant->span ? 1 : NDEV;
	for (i = 0; i < NDEV; i++)
		ASSERT_EQ(0, mock_cmdq_log_clear(self->mfd, i));
}

/* What QEMU does when the guest installs STE @g for device @e */
static void guest_ste(struct __test_metadata *_metadata,
		      struct _test_data_vmm *self, struct edu *e, uint64_t g0,
		      uint64_t g1)
{
	uint32_t v = e->vsmmu, hwpt = 0, s1 = 0, out;

	if (!e->vdev_id)
		ASSERT_EQ(0, vdevice_alloc(self->fd, self->vs[v].viommu,
					   e->dev_id, e->vsid, &e->vdev_id));
	if (!(g0 & SMMU_STE0_V) ||
	    SMMU_STE_CFG(g0) == SMMU_STE_CFG_ABORT) {
		hwpt = self->vs[v].abort_hwpt;
	} else if (SMMU_STE_CFG(g0) == SMMU_STE_CFG_BYPASS) {
		hwpt = self->vs[v].bypass_hwpt;
	} else {
		ASSERT_EQ(SMMU_STE_CFG_S1_TRANS, SMMU_STE_CFG(g0));
		ASSERT_EQ(0, hwpt_alloc_nested_smmu(self->fd, e->dev_id,
						    self->vs[v].viommu, g0, g1,
						    &s1));
		hwpt = s1;
	}
	ASSERT_EQ(0, vfio_attach_pt(e->cfd, hwpt, &out));
	ASSERT_EQ(hwpt, out);
	e->cur_hwpt = hwpt;
	/* The previous stage-1 HWPT goes; the attached one is in use */
	if (e->s1_hwpt)
		ASSERT_EQ(0, iommufd_destroy(self->fd, e->s1_hwpt));
	if (s1)
		ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, s1));
	e->s1_hwpt = s1;
}

static void guest_ste_s1(struct __test_metadata *_metadata,
			 struct _test_data_vmm *self, struct edu *e, uint64_t cd)
{
	uint64_t g0, g1;

	guest_s1_ste(cd, &g0, &g1);
	guest_ste(_metadata, self, e, g0, g1);
	assert_ste_nested(_metadata, self, e, g0, g1);
}

/* Devices of the pSMMU attached to a stage-1 HWPT, as the counters say */
static void assert_nested_attached(struct __test_metadata *_metadata,
				   struct _test_data_vmm *self)
{
	struct mock_smmu_counters cnt;
	int i;

	for (i = 0; i < NDEV; i++) {
		ASSERT_EQ(0, mock_get_counters(self->mfd, i, &cnt));
		ASSERT_EQ(!!self->edu[i].s1_hwpt, cnt.nested_attached)
			TH_LOG("pSMMU %d", i);
	}
}

/*
 * Hot-unplug @e as QEMU does, and check its STE at each step: back on
 * the S2, stage-1 HWPT and vDEVICE destroyed, the vSMMU's objects with
 * its last device, detached (abort), the cdev closed.
 */
static void unplug(struct __test_metadata *_metadata, struct _test_data_vmm *self,
		   struct edu *e)
{
	int v = e->vsmmu;
	uint32_t out;

	ASSERT_EQ(0, vfio_attach_pt(e->cfd, self->s2_hwpt, &out));
	ASSERT_EQ(self->s2_hwpt, out);
	e->cur_hwpt = out;
	ASSERT_EQ(e->s2_vmid, ste_s2_vmid(self->mfd, e));
	if (e->s1_hwpt)
		ASSERT_EQ(0, iommufd_destroy(self->fd, e->s1_hwpt));
	e->s1_hwpt = 0;
	if (e->vdev_id)
		ASSERT_EQ(0, iommufd_destroy(self->fd, e->vdev_id));
	e->vdev_id = 0;
	if (!--self->vs[v].devs) {
		ASSERT_EQ(0, iommufd_destroy(self->fd, self->vs[v].bypass_hwpt));
		ASSERT_EQ(0, iommufd_destroy(self->fd, self->vs[v].abort_hwpt));
		ASSERT_EQ(0, iommufd_destroy(self->fd, self->vs[v].viommu));
		self->vs[v].viommu = 0;
	} else {
		/* Still held by its other devices' attachments */
		ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd,
						  self->vs[v].viommu));
	}
	ASSERT_EQ(0, vfio_detach_pt(e->cfd));
	assert_ste_abort(_metadata, self->mfd, e);
	ASSERT_EQ(0, close(e->cfd));
	e->cfd = -1;
	e->plugged = false;
	assert_ste_abort(_metadata, self->mfd, e);
}

/* Unplug what is plugged, release the container, and check the pSMMUs */
static void teardown_checked(struct __test_metadata *_metadata,
			     struct _test_data_vmm *self)
{
	struct mock_smmu_counters cnt;
	int i;

	for (i = 0; i < NDEV; i++)
		if (self->edu[i].plugged)
			unplug(_metadata, self, &self->edu[i]);
	ASSERT_EQ(0, ioas_unmap(self->fd, self->ioas, GUEST_RAM_GPA,
				GUEST_RAM_SIZE));
	ASSERT_EQ(0, iommufd_destroy(self->fd, self->s2_hwpt));
	ASSERT_EQ(0, iommufd_destroy(self->fd, self->ioas));
	self->s2_hwpt = 0;
	self->ioas = 0;
	for (i = 0; i < NDEV; i++) {
		ASSERT_EQ(0, mock_get_counters(self->mfd, i, &cnt));
		ASSERT_EQ(0, cnt.viommus) TH_LOG("pSMMU %d", i);
		ASSERT_EQ(0, cnt.vdevices) TH_LOG("pSMMU %d", i);
		ASSERT_EQ(0, cnt.nested_attached) TH_LOG("pSMMU %d", i);
		ASSERT_EQ(self->base[i].vmids, cnt.vmids) TH_LOG("pSMMU %d", i);
		ASSERT_EQ(0, cnt.cerror_ill) TH_LOG("pSMMU %d", i);
	}
}

FIXTURE_TEARDOWN(vmm)
{
	int i;

	/* Closing gives everything back, whatever the test left */
	for (i = 0; i < NDEV; i++) {
		if (self->edu[i].cfd >= 0)
			close(self->edu[i].cfd);
	}
	if (self->fd >= 0)
		close(self->fd);
	if (self->mfd >= 0)
		close(self->mfd);
	if (self->ram)
		munmap(self->ram, GUEST_RAM_SIZE);
	vsmmu_expect_free(&self->x);
	vsmmu_expect_free(&self->one);
	for (i = 0; i < NDEV; i++)
		vfio_pci_unbind(&self->edu[i]);
}

#define NCMDS	16

/*
 * The guest commands of vSMMU @v (SID-scoped ones for each of its
 * devices, then every TLBI) into @g, each pSMMU's into self->x; how many.
 */
static int guest_cmds(struct _test_data_vmm *self, int v, struct smmu_cmd *g)
{
	static const struct {
		uint64_t g0, g1, e0, e1;
	} tlbi[] = {
		/* Guest VMIDs are ignored: the vIOMMU's is used */
		{ SMMU_OP_TLBI_NH_ASID | SMMU_CMD_ASID(GUEST_ASID) |
		  SMMU_CMD_VMID(0x77), 0,
		  SMMU_OP_TLBI_NH_ASID | SMMU_CMD_ASID(GUEST_ASID), 0 },
		{ SMMU_OP_TLBI_NH_VA | SMMU_CMD_ASID(GUEST_ASID),
		  (GUEST_RAM_GPA + 0x3000) | SMMU_CMD1_LEAF,
		  SMMU_OP_TLBI_NH_VA | SMMU_CMD_ASID(GUEST_ASID),
		  (GUEST_RAM_GPA + 0x3000) | SMMU_CMD1_LEAF },
		{ SMMU_OP_TLBI_NH_VA | SMMU_CMD_ASID(GUEST_ASID) |
		  SMMU_CMD_NUM(3), GUEST_RAM_GPA | SMMU_CMD_TG(SMMU_TG_4K) |
		  SMMU_CMD_TTL(3),
		  SMMU_OP_TLBI_NH_VA | SMMU_CMD_ASID(GUEST_ASID) |
		  SMMU_CMD_NUM(3), GUEST_RAM_GPA | SMMU_CMD_TG(SMMU_TG_4K) |
		  SMMU_CMD_TTL(3) },
		{ SMMU_OP_TLBI_NH_VAA, GUEST_RAM_GPA + 0x5000,
		  SMMU_OP_TLBI_NH_VAA, GUEST_RAM_GPA + 0x5000 },
		{ SMMU_OP_TLBI_NH_ALL, 0, SMMU_OP_TLBI_NH_ALL, 0 },
		/* Rewritten into TLBI_NH_ALL of the vIOMMU's VMID */
		{ SMMU_OP_TLBI_NSNH_ALL, 0, SMMU_OP_TLBI_NH_ALL, 0 },
	};
	int n = 0, i, k;

	for (i = 0; i < NDEV; i++) {
		const struct edu *e = &self->edu[i];
		struct smmu_cmd c[3];

		if (e->vsmmu != v || !e->plugged)
			continue;
		smmu_cmd_cfgi_cd(c[0].w, 0, 0, 1);
		smmu_cmd_cfgi_cd_all(c[1].w, 0);
		smmu_cmd_atc_inv(c[2].w, 0, -1, 0, GUEST_RAM_GPA + 0x2000, 0);
		for (k = 0; k < 3; k++) {
			/* The guest names the device by its vSID... */
			g[n] = SMMU_CMD(c[k].w[0] | SMMU_CMD_SID(e->vsid),
					c[k].w[1]);
			/* ...its pSMMU is given its physical SID */
			vsmmu_expect_add(&self->x, e->psmmu, n,
					 SMMU_CMD(c[k].w[0] |
						  SMMU_CMD_SID(e->sid),
						  c[k].w[1]));
			n++;
		}
	}
	for (k = 0; k < (int)ARRAY_SIZE(tlbi); k++) {
		g[n] = SMMU_CMD(tlbi[k].g0, tlbi[k].g1);
		/* Every pSMMU with a stage-1 device of the vIOMMU */
		for (i = 0; i < NDEV; i++) {
			const struct edu *e = &self->edu[i];

			if (e->vsmmu == v && e->s1_hwpt)
				vsmmu_expect_add(&self->x, e->psmmu, n,
						 SMMU_CMD(tlbi[k].e0 |
							  SMMU_CMD_VMID(e->vmid),
							  tlbi[k].e1));
		}
		n++;
	}
	return n;
}

/* QEMU's call: one command, entry_len sizeof(Cmd), entry_num 1 */
static int invalidate_one(int fd, uint32_t viommu, const struct smmu_cmd *c,
			  uint32_t *done)
{
	return hwpt_invalidate_raw(fd, viommu,
				   IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3, 16,
				   c, 1, 0, done);
}

/* What @x expects of guest command @k alone, into @one as its index 0 */
static void expect_one(const struct vsmmu_expect *x, uint32_t k,
		       struct vsmmu_expect *one)
{
	uint64_t j;
	int p;

	vsmmu_expect_reset(one);
	for (p = 0; p < x->nr; p++) {
		for (j = 0; j < x->num[p]; j++) {
			const struct vsmmu_exp_cmd *e = vsmmu_expect_at(x, p, j);

			if (e->gidx == k)
				vsmmu_expect_add(one, p, 0, e->c);
		}
	}
}

/* The vSMMUs' commands one per call, as QEMU issues them, or batched */
static void invalidate_all(struct __test_metadata *_metadata,
			   struct _test_data_vmm *self, bool batched)
{
	struct vsmmu_expect *x = &self->x, *one = &self->one;
	struct smmu_cmd g[NCMDS];
	uint32_t done;
	int v, n, k;

	for (v = 0; v < self->nr_vsmmus; v++) {
		if (!self->vs[v].viommu)
			continue;
		vsmmu_expect_reset(x);
		n = guest_cmds(self, v, g);
		ASSERT_GE(NCMDS, n);
		if (batched) {
			done = 0;
			ASSERT_EQ(0, viommu_invalidate_smmu(self->fd,
							    self->vs[v].viommu,
							    g, n, &done));
			ASSERT_EQ(n, done);
			vsmmu_assert_logs_done(_metadata, self->mfd, x, n,
					       "batched");
			continue;
		}
		for (k = 0; k < n; k++) {
			expect_one(x, k, one);
			done = 0;
			ASSERT_EQ(0, invalidate_one(self->fd, self->vs[v].viommu,
						    &g[k], &done));
			ASSERT_EQ(1, done);
			vsmmu_assert_logs_done(_metadata, self->mfd, one, 1,
					       "one command");
		}
	}
}

static void clear_logs(struct __test_metadata *_metadata,
		       struct _test_data_vmm *self)
{
	int p;

	for (p = 0; p < self->nr_psmmus; p++)
		ASSERT_EQ(0, mock_cmdq_log_clear(self->mfd, p));
}

/*
 * The guest's STEs of each device: abort, invalid (V = 0: abort), bypass
 * (the vIOMMU's VMID learnt there), stage 1, then every device's stage 1
 * replaced by another (the guest moved its CD table).
 */
static void guest_ste_changes(struct __test_metadata *_metadata,
			      struct _test_data_vmm *self)
{
	uint64_t bypass = SMMU_STE0_V |
			  SMMU_FIELD(SMMU_STE0_CFG, SMMU_STE_CFG_BYPASS);
	struct mock_smmu_counters cnt;
	int i, vmid;

	for (i = 0; i < NDEV; i++) {
		struct edu *e = &self->edu[i];

		guest_ste(_metadata, self, e, SMMU_STE0_V, 0);
		assert_ste_abort(_metadata, self->mfd, e);
		ASSERT_EQ(0, mock_get_counters(self->mfd, e->psmmu, &cnt));
		ASSERT_EQ(1, cnt.vdevices);
		guest_ste(_metadata, self, e, 0, 0);
		assert_ste_abort(_metadata, self->mfd, e);
		guest_ste(_metadata, self, e, bypass, 0);
		ASSERT_STE_S2(e, vmid);
		/* Realize learnt it for the vSMMU's first device */
		if (e->vmid)
			ASSERT_EQ(e->vmid, vmid);
		e->vmid = vmid;
		ASSERT_NE(e->s2_vmid, e->vmid);
		guest_ste_s1(_metadata, self, e, GUEST_CD(i, 0));
		assert_nested_attached(_metadata, self);
	}
	for (i = 0; i < NDEV; i++) {
		guest_ste_s1(_metadata, self, &self->edu[i], GUEST_CD(i, 1));
		assert_nested_attached(_metadata, self);
	}
}

/*
 * QEMU's whole sequence: realize both devices, the guest's STE changes,
 * its invalidations one command per call and the same batched, device 0
 * hot-unplugged while device 1 keeps running (its vSID no longer resolves,
 * TLBIs reach pSMMU 1 only, device 1's STE stays), then the rest torn
 * down. One test per layout: every realize and unplug costs a device
 * reset in vfio-pci, seconds under TCG.
 */
TEST_F_TIMEOUT(vmm, qemu_sequence, 900)
{
	struct edu *gone = &self->edu[0], *kept = &self->edu[1];
	struct mock_smmu_counters cnt;
	uint32_t done, viommu0;
	uint64_t g0, g1;
	struct smmu_cmd c;
	uint16_t vmid;
	int i;

	realize_all(_metadata, self, variant);
	for (i = 0; i < NDEV; i++) {
		ASSERT_EQ(0, mock_get_counters(self->mfd, i, &cnt));
		ASSERT_EQ(1, cnt.viommus) TH_LOG("pSMMU %d", i);
		ASSERT_EQ(0, cnt.vdevices) TH_LOG("pSMMU %d", i);
		ASSERT_EQ(0, cnt.nested_attached) TH_LOG("pSMMU %d", i);
	}
	/* Span: the second device stays on the S2 until its first STE */
	if (variant->span)
		ASSERT_EQ(self->edu[1].s2_vmid,
			  ste_s2_vmid(self->mfd, &self->edu[1]));

	guest_ste_changes(_metadata, self);

	clear_logs(_metadata, self);
	invalidate_all(_metadata, self, false);
	invalidate_all(_metadata, self, true);

	/* Hot-unplug of device 0 */
	vmid = kept->vmid;
	viommu0 = self->vs[0].viommu;
	unplug(_metadata, self, gone);
	guest_s1_ste(GUEST_CD(1, 1), &g0, &g1);
	assert_ste_nested(_metadata, self, kept, g0, g1);
	ASSERT_EQ(vmid, kept->vmid);
	assert_nested_attached(_metadata, self);
	clear_logs(_metadata, self);
	if (variant->span) {
		/* The unplugged device's vSID names nothing any more */
		smmu_cmd_cfgi_cd_all(c.w, gone->vsid);
		done = 1;
		ASSERT_EQ(-EIO, invalidate_one(self->fd, self->vs[0].viommu,
					       &c, &done));
		ASSERT_EQ(0, done);
	} else {
		/* Its vIOMMU went with it */
		ASSERT_EQ(0, self->vs[0].viommu);
		smmu_cmd_nh_all(c.w, 0);
		ASSERT_EQ(-ENOENT, invalidate_one(self->fd, viommu0, &c,
						  &done));
	}
	vsmmu_expect_reset(&self->x);
	vsmmu_assert_logs_done(_metadata, self->mfd, &self->x, 0,
			       "rejected after the unplug");
	invalidate_all(_metadata, self, false);
	invalidate_all(_metadata, self, true);

	/* The guest aborts the last device before it goes too */
	guest_ste(_metadata, self, kept, SMMU_STE0_V, 0);
	assert_ste_abort(_metadata, self->mfd, kept);
	assert_nested_attached(_metadata, self);
	teardown_checked(_metadata, self);
}

/* ---- Group mode: what VMMs without iommufd do, on the same VFIO ------- */

#define TYPE1_UNSAFE \
	"/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts"

/* The IOMMU group number of @e, from its iommu_group link; -1 if none */
static int edu_group(const struct edu *e)
{
	char name[32];

	sysfs_link_name(e->bdf, "iommu_group", name, sizeof(name));
	return name[0] ? atoi(name) : -1;
}

/* Whether pSMMU @p's log has TLBI_S12_VMALL of @vmid, then a CMD_SYNC */
static bool s12_vmall_synced(int mfd, int p, unsigned int vmid)
{
	static struct smmu_cmd log[256];
	bool seen = false;
	int n, i;

	n = mock_cmdq_log_num(mfd, p, 1, log, 256, NULL);
	for (i = 0; i < n; i++) {
		if (smmu_cmd_op(log[i].w) == SMMU_OP_TLBI_S12_VMALL &&
		    smmu_field_get(SMMU_CMD0_VMID, log[i].w[0]) == vmid)
			seen = true;
		else if (seen && smmu_is_sync(&log[i]))
			return true;
	}
	return false;
}

/*
 * The rebuilt vfio.ko keeps group mode: an edu device behind the mock,
 * through /dev/vfio/<group> and a type1 container (/dev/vfio/vfio is
 * VFIO's own, CONFIG_VFIO_CONTAINER), the way libvirt and QEMU's legacy
 * backend pass a device through. type1 gets a paging domain of the mock:
 * a stage-2 STE on the pSMMU, and an unmap is invalidated before it
 * returns. While the group holds the device, its cdev cannot bind.
 */
TEST(group_mode_type1_container)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	struct vfio_iommu_type1_info info = { .argsz = sizeof(info) };
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.iova = 0x100000,
		.size = 0x4000,
	};
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = 0x100000,
		.size = 0x4000,
	};
	struct vfio_device_info dinfo = { .argsz = sizeof(dinfo) };
	struct edu edu[NDEV] = {};
	int container, group, dev, cfd, fd, mfd, nr, vmid, rc;
	struct edu *e = &edu[0];
	char path[64];
	uint32_t dev_id;
	void *buf;

	nr = find_edus(edu);
	if (nr < 1 || !e->bdf[0])
		SKIP(return, "needs an edu device behind pSMMU 0 (mock_smmu pci=)");
	if (access(VFIO_PCI_DRV, F_OK))
		SKIP(return, "vfio-pci is not loaded");
	mfd = mock_open();
	ASSERT_LE(0, mfd);
	rc = vfio_pci_bind(e);
	if (rc)
		vfio_pci_unbind(e);
	ASSERT_EQ(0, rc) TH_LOG("binding vfio-pci: %s", strerror(-rc));
	buf = mmap(NULL, map.size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	map.vaddr = (uintptr_t)buf;

	/* Bound to vfio-pci, in no container: blocked */
	assert_ste_abort(_metadata, mfd, e);

	container = open("/dev/vfio/vfio", O_RDWR);
	ASSERT_LE(0, container);
	EXPECT_EQ(VFIO_API_VERSION, ioctl(container, VFIO_GET_API_VERSION));
	EXPECT_EQ(1, ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU));
	ASSERT_LE(0, edu_group(e));
	snprintf(path, sizeof(path), "/dev/vfio/%d", edu_group(e));
	group = open(path, O_RDWR);
	ASSERT_LE(0, group) TH_LOG("%s: %s", path, strerror(errno));
	ASSERT_EQ(0, ioctl(group, VFIO_GROUP_GET_STATUS, &status));
	ASSERT_EQ(VFIO_GROUP_FLAGS_VIABLE, status.flags);

	/* No IOMMU for the container yet: no device fd */
	ASSERT_EQ(-EINVAL, ioctl_errno(group, VFIO_GROUP_GET_DEVICE_FD,
				       e->bdf));
	ASSERT_EQ(0, ioctl(group, VFIO_GROUP_SET_CONTAINER, &container));
	/*
	 * The mock remaps no MSIs: type1 refuses the group unless its own
	 * allow_unsafe_interrupts is set, as on hardware without interrupt
	 * remapping.
	 */
	ASSERT_EQ(0, sysfs_write(TYPE1_UNSAFE, "N"));
	ASSERT_EQ(-EPERM, ioctl_errno(container, VFIO_SET_IOMMU,
				      (void *)VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, sysfs_write(TYPE1_UNSAFE, "Y"));
	rc = ioctl_errno(container, VFIO_SET_IOMMU, (void *)VFIO_TYPE1v2_IOMMU);
	sysfs_write(TYPE1_UNSAFE, "N");
	ASSERT_EQ(0, rc);
	ASSERT_EQ(0, ioctl(group, VFIO_GROUP_GET_STATUS, &status));
	ASSERT_EQ(VFIO_GROUP_FLAGS_VIABLE | VFIO_GROUP_FLAGS_CONTAINER_SET,
		  status.flags);
	ASSERT_EQ(0, ioctl(container, VFIO_IOMMU_GET_INFO, &info));
	ASSERT_TRUE(info.flags & VFIO_IOMMU_INFO_PGSIZES);
	ASSERT_TRUE(info.iova_pgsizes & 4096);

	/* type1 attached a paging domain of the mock: a stage-2 STE */
	vmid = ste_s2_vmid(mfd, e);
	ASSERT_LE(0, vmid) TH_LOG("%s: not a stage-2 STE", e->bdf);
	ASSERT_EQ(0, ioctl(container, VFIO_IOMMU_MAP_DMA, &map));
	ASSERT_EQ(-EEXIST, ioctl_errno(container, VFIO_IOMMU_MAP_DMA, &map));

	dev = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, e->bdf);
	ASSERT_LE(0, dev);
	ASSERT_EQ(0, ioctl(dev, VFIO_DEVICE_GET_INFO, &dinfo));
	ASSERT_TRUE(dinfo.flags & VFIO_DEVICE_FLAGS_PCI);

	/* The group has the device: its cdev opens but cannot bind */
	fd = iommufd_open();
	ASSERT_LE(0, fd);
	cfd = vfio_cdev_open(e);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(-EBUSY, vfio_bind_iommufd(cfd, fd, &dev_id));
	close(cfd);
	close(fd);

	/* The unmap is invalidated (S12_VMALL + CMD_SYNC) before it returns */
	ASSERT_EQ(0, mock_cmdq_log_clear(mfd, e->psmmu));
	ASSERT_EQ(0, ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap));
	ASSERT_EQ(0x4000, unmap.size);
	ASSERT_TRUE(s12_vmall_synced(mfd, e->psmmu, vmid))
		TH_LOG("no TLBI_S12_VMALL of VMID %d + CMD_SYNC for the unmap",
		       vmid);

	/* Closing everything gives the device back to its blocked state */
	close(dev);
	ASSERT_EQ(0, ioctl(group, VFIO_GROUP_UNSET_CONTAINER));
	close(group);
	close(container);
	assert_ste_abort(_metadata, mfd, e);
	munmap(buf, 0x4000);
	vfio_pci_unbind(e);
	close(mfd);
}

TEST_HARNESS_MAIN
