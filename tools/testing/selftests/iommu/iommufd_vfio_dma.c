// SPDX-License-Identifier: GPL-2.0-only
/*
 * Real DMA through a real (emulated) IOMMU: QEMU's edu device behind QEMU's
 * intel-iommu (VT-d), bound through its VFIO device cdev to this project's
 * iommufd, the way a VMM passes a device through. The device copies bytes
 * between the process' buffers and its own 4 KiB buffer; what reached
 * memory, and what did not, is read back from the buffers themselves, and
 * the IOMMU's fault reports from the guest kernel's log.
 *
 * Needs the VM of make test-intel-iommu (q35, -device intel-iommu, -device
 * edu, vfio-pci built with device cdevs): without an edu device behind
 * VT-d every test skips.
 *
 * What the edu device does (QEMU's hw/misc/edu.c, docs/specs/edu.rst):
 * BAR0 is 1 MiB of MMIO. 0x00 reads 0x010000ed (version 1.0, 0xed); 0x04
 * reads back the bitwise inverse of what was written; 0x24 is the interrupt
 * status, 0x60 raises and 0x64 acknowledges interrupt bits (0x100: DMA
 * done). A DMA is set up in 0x80 (source), 0x88 (destination), 0x90
 * (count) and started by writing 0x98 with bit 0 set; bit 1 chooses the
 * direction (0: from the bus address into the device's buffer, 1: from the
 * buffer to the bus address), bit 2 raises the DMA interrupt at the end.
 * The device's buffer is 4 KiB at device address 0x40000. The DMA runs on
 * a timer 100 ms (virtual clock) after the start; bit 0 of 0x98 reads as 1
 * until it is done. Bus addresses are masked with a 28-bit DMA mask.
 * Registers below 0x80 take 4-byte accesses only, the DMA ones 4 or 8.
 */
#include <dirent.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "iommufd_vfio_utils.h"

#define EDU_VENDOR		0x1234
#define EDU_DEVICE		0x11e8
#define EDU_BAR_SIZE		0x100000UL

#define EDU_REG_ID		0x00
#define EDU_REG_LIVE		0x04
#define EDU_REG_IRQ_STATUS	0x24
#define EDU_REG_IRQ_RAISE	0x60
#define EDU_REG_IRQ_ACK		0x64
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_CNT		0x90
#define EDU_REG_DMA_CMD		0x98

#define EDU_ID_MAGIC		0xed
#define EDU_DMA_RUN		0x1
#define EDU_DMA_TO_RAM		0x2
#define EDU_DMA_IRQ		0x4
#define EDU_IRQ_DMA		0x100

#define EDU_BUF			0x40000ULL
#define EDU_BUF_SIZE		4096
/*
 * What the tests move in one DMA: QEMU 7.2's edu stops the whole VM
 * (hw_error) on a transfer that reaches the last byte of its buffer, an
 * off-by-one fixed in later versions; this stays clear of it.
 */
#define XFER			(EDU_BUF_SIZE - 64)

/* IOVAs of the tests: page aligned, below the device's 28-bit DMA mask */
#define IOVA_SRC		0x0100000ULL
#define IOVA_DST		0x0200000ULL
#define IOVA_OUT		0x0300000ULL
#define IOVA_NEVER		0x0f00000ULL
#define BUF_SIZE		(2 * EDU_BUF_SIZE)

/* x86's interrupt address window, reserved in every IOMMU domain */
#define MSI_WINDOW_START	0xfee00000ULL
#define MSI_WINDOW_END		0xfeefffffULL

#define DMA_TIMEOUT_MS		10000
#define LOG_TIMEOUT_MS		3000

static int sysfs_read_hex(const char *path, unsigned long long *val)
{
	char buf[64] = {};
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	*val = strtoull(buf, NULL, 16);
	return 0;
}

/* The PCI address of the first edu device, or -ENODEV */
static int edu_find(char *bdf, size_t len)
{
	DIR *dir = opendir("/sys/bus/pci/devices");
	unsigned long long vendor, device;
	struct dirent *de;
	char path[PATH_MAX];
	int err = -ENODEV;

	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor",
			 de->d_name);
		if (sysfs_read_hex(path, &vendor) || vendor != EDU_VENDOR)
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device",
			 de->d_name);
		if (sysfs_read_hex(path, &device) || device != EDU_DEVICE)
			continue;
		snprintf(bdf, len, "%s", de->d_name);
		err = 0;
		break;
	}
	closedir(dir);
	return err;
}

/* Whether @bdf's IOMMU is a VT-d unit (its sysfs iommu link: .../dmarN) */
static bool behind_vtd(const char *bdf)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return false;
	link[n] = '\0';
	return !strncmp(strrchr(link, '/') + 1, "dmar", 4);
}

/* The name of the driver bound to @bdf in @drv ("" if none) */
static void pci_driver(const char *bdf, char *drv, size_t len)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	drv[0] = '\0';
	if (n <= 0)
		return;
	link[n] = '\0';
	snprintf(drv, len, "%s", strrchr(link, '/') + 1);
}

/* Bind @bdf to vfio-pci the way a user does: driver_override, drivers_probe */
static int bind_vfio_pci(const char *bdf)
{
	char path[PATH_MAX], drv[64];
	int err;

	pci_driver(bdf, drv, sizeof(drv));
	if (!strcmp(drv, "vfio-pci"))
		return 0;
	if (drv[0]) {
		snprintf(path, sizeof(path),
			 "/sys/bus/pci/devices/%s/driver/unbind", bdf);
		err = sysfs_write(path, bdf);
		if (err)
			return err;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override",
		 bdf);
	err = sysfs_write(path, "vfio-pci");
	if (err)
		return err;
	err = sysfs_write("/sys/bus/pci/drivers_probe", bdf);
	if (err)
		return err;
	pci_driver(bdf, drv, sizeof(drv));
	return strcmp(drv, "vfio-pci") ? -ENXIO : 0;
}

/* /dev/vfio/devices/vfioN of @bdf, from its vfio-dev directory in sysfs */
static int vfio_cdev_path(const char *bdf, char *out, size_t len)
{
	char path[PATH_MAX];
	struct dirent *de;
	int err = -ENOENT;
	DIR *dir;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		if (strncmp(de->d_name, "vfio", 4))
			continue;
		snprintf(out, len, "/dev/vfio/devices/%s", de->d_name);
		err = 0;
		break;
	}
	closedir(dir);
	return err;
}

static int vfio_region(int devfd, uint32_t index,
		       struct vfio_region_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->index = index;
	return ioctl_errno(devfd, VFIO_DEVICE_GET_REGION_INFO, info);
}

static int ioas_map_ro(int fd, uint32_t ioas_id, void *buf, size_t len,
		       uint64_t iova)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE,
		.ioas_id = ioas_id,
		.user_va = (uintptr_t)buf,
		.length = len,
		.iova = iova,
	};

	return ioctl_errno(fd, IOMMU_IOAS_MAP, &cmd);
}

static void *buf_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Bytes no other pattern of the tests has at the same offset, never 0 */
static void fill(uint8_t *p, size_t len, uint8_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = ((i * 7 + seed) % 251) + 1;
}

/* How many bytes of @p equal @q at the same offset */
static size_t same_bytes(const uint8_t *p, const uint8_t *q, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		n += p[i] == q[i];
	return n;
}

/* BAR0 accesses of exactly 4 or 8 bytes, each one load or store */
static uint32_t rd32(uint8_t *bar, unsigned int reg)
{
	return __atomic_load_n((uint32_t *)(bar + reg), __ATOMIC_RELAXED);
}

static void wr32(uint8_t *bar, unsigned int reg, uint32_t val)
{
	__atomic_store_n((uint32_t *)(bar + reg), val, __ATOMIC_RELAXED);
}

static uint64_t rd64(uint8_t *bar, unsigned int reg)
{
	return __atomic_load_n((uint64_t *)(bar + reg), __ATOMIC_RELAXED);
}

static void wr64(uint8_t *bar, unsigned int reg, uint64_t val)
{
	__atomic_store_n((uint64_t *)(bar + reg), val, __ATOMIC_RELAXED);
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * One DMA of @cnt bytes from @src to @dst, @cmd's direction and interrupt
 * bits; waits until the device reports it done. 0, or -ETIMEDOUT.
 */
static int edu_dma(uint8_t *bar, uint64_t src, uint64_t dst,
		   uint64_t cnt, uint64_t cmd)
{
	double end = now_s() + DMA_TIMEOUT_MS / 1000.0;

	wr64(bar, EDU_REG_DMA_SRC, src);
	wr64(bar, EDU_REG_DMA_DST, dst);
	wr64(bar, EDU_REG_DMA_CNT, cnt);
	wr64(bar, EDU_REG_DMA_CMD, cmd | EDU_DMA_RUN);
	while (rd64(bar, EDU_REG_DMA_CMD) & EDU_DMA_RUN) {
		if (now_s() > end)
			return -ETIMEDOUT;
		sleep_ms(5);
	}
	return 0;
}

/* From bus address @iova into the device's buffer at offset @off */
static int edu_dma_in(uint8_t *bar, uint64_t iova, uint64_t off,
		      uint64_t cnt)
{
	return edu_dma(bar, iova, EDU_BUF + off, cnt, 0);
}

/* From the device's buffer at offset @off to bus address @iova */
static int edu_dma_out(uint8_t *bar, uint64_t off, uint64_t iova,
		       uint64_t cnt)
{
	return edu_dma(bar, EDU_BUF + off, iova, cnt, EDU_DMA_TO_RAM);
}

/*
 * Whether the kernel log has a VT-d fault record of @bdf for @iova, of a
 * read (the device read memory) or a write; waits up to LOG_TIMEOUT_MS.
 * The line found goes to @line.
 */
static bool dmar_fault_logged(const char *bdf, bool read, uint64_t iova,
			      char *line, size_t len)
{
	double end = now_s() + LOG_TIMEOUT_MS / 1000.0;
	char want_dev[32], want_addr[48];
	int size = klogctl(10, NULL, 0);	/* SYSLOG_ACTION_SIZE_BUFFER */
	char *log, *p, *nl;
	bool found = false;
	int n;

	if (size <= 0)
		return false;
	log = malloc(size + 1);
	if (!log)
		return false;
	/* "0000:00:02.0" is logged as "[00:02.0]" */
	snprintf(want_dev, sizeof(want_dev), "Request device [%s]",
		 strchr(bdf, ':') + 1);
	snprintf(want_addr, sizeof(want_addr), "fault addr 0x%llx ",
		 (unsigned long long)iova);
	do {
		n = klogctl(3, log, size);	/* SYSLOG_ACTION_READ_ALL */
		if (n < 0)
			break;
		log[n] = '\0';
		for (p = log; p && *p && !found; p = nl) {
			nl = strchr(p, '\n');
			if (nl)
				*nl++ = '\0';
			found = strstr(p, read ? "[DMA Read" : "[DMA Write") &&
				strstr(p, want_dev) && strstr(p, want_addr);
			if (found)
				snprintf(line, len, "%s", p);
		}
		if (!found)
			sleep_ms(50);
	} while (!found && now_s() < end);
	free(log);
	return found;
}

FIXTURE(vfio_dma) {
	char bdf[NAME_MAX + 1];
	int iommufd;
	int devfd;
	uint32_t dev_id;
	uint32_t ioas_id;
	struct vfio_region_info bar_info;
	struct vfio_region_info cfg_info;
	uint8_t *bar;
	uint8_t *src;
	uint8_t *dst;
	uint8_t *out;
};

static int cfg_read16(int devfd, const struct vfio_region_info *cfg,
		      unsigned int off, uint16_t *val)
{
	ssize_t n = pread(devfd, val, 2, cfg->offset + off);

	return n == 2 ? 0 : n < 0 ? -errno : -EIO;
}

static int cfg_write16(int devfd, const struct vfio_region_info *cfg,
		       unsigned int off, uint16_t val)
{
	ssize_t n = pwrite(devfd, &val, 2, cfg->offset + off);

	return n == 2 ? 0 : n < 0 ? -errno : -EIO;
}

/* Bus mastering on or off in the command register; 0 or -errno */
static int bus_master(int devfd, const struct vfio_region_info *cfg, bool on)
{
	uint16_t cmd;
	int rc;

	rc = cfg_read16(devfd, cfg, PCI_COMMAND, &cmd);
	if (rc)
		return rc;
	cmd = on ? cmd | PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY :
		   cmd & ~PCI_COMMAND_MASTER;
	rc = cfg_write16(devfd, cfg, PCI_COMMAND, cmd);
	if (rc)
		return rc;
	rc = cfg_read16(devfd, cfg, PCI_COMMAND, &cmd);
	if (rc)
		return rc;
	return !!(cmd & PCI_COMMAND_MASTER) == on ? 0 : -EIO;
}

/*
 * The device bound to vfio-pci, its cdev open and bound to a new iommufd
 * with an IOAS, BAR0 mapped, bus mastering on; not attached to anything.
 * src, dst and out are BUF_SIZE buffers, not mapped in the IOAS.
 */
FIXTURE_SETUP(vfio_dma)
{
	char cdev[PATH_MAX];
	void *bar;

	self->iommufd = -1;
	self->devfd = -1;
	self->bar = NULL;
	if (edu_find(self->bdf, sizeof(self->bdf)))
		SKIP(return, "no edu PCI device: run by make test-intel-iommu");
	if (!behind_vtd(self->bdf))
		SKIP(return, "%s is not behind VT-d (make test-intel-iommu)",
		     self->bdf);
	ASSERT_EQ(0, bind_vfio_pci(self->bdf)) {
		TH_LOG("binding %s to vfio-pci failed (vfio-pci.ko loaded?)",
		       self->bdf);
	}
	ASSERT_EQ(0, vfio_cdev_path(self->bdf, cdev, sizeof(cdev)));
	self->devfd = open(cdev, O_RDWR);
	ASSERT_LE(0, self->devfd) TH_LOG("open %s: %s", cdev, strerror(errno));
	self->iommufd = iommufd_open();
	ASSERT_LE(0, self->iommufd);
	ASSERT_EQ(0, vfio_bind_iommufd(self->devfd, self->iommufd,
				       &self->dev_id));
	ASSERT_EQ(0, ioas_alloc(self->iommufd, &self->ioas_id));

	ASSERT_EQ(0, vfio_region(self->devfd, VFIO_PCI_BAR0_REGION_INDEX,
				 &self->bar_info));
	ASSERT_EQ(EDU_BAR_SIZE, self->bar_info.size);
	ASSERT_EQ(VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
		  VFIO_REGION_INFO_FLAG_MMAP, self->bar_info.flags);
	bar = mmap(NULL, EDU_BAR_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		   self->devfd, self->bar_info.offset);
	ASSERT_NE(MAP_FAILED, bar);
	self->bar = bar;
	ASSERT_EQ(0, vfio_region(self->devfd, VFIO_PCI_CONFIG_REGION_INDEX,
				 &self->cfg_info));
	ASSERT_EQ(0, bus_master(self->devfd, &self->cfg_info, true));

	self->src = buf_alloc(BUF_SIZE);
	self->dst = buf_alloc(BUF_SIZE);
	self->out = buf_alloc(BUF_SIZE);
	ASSERT_NE(NULL, self->src);
	ASSERT_NE(NULL, self->dst);
	ASSERT_NE(NULL, self->out);
}

FIXTURE_TEARDOWN(vfio_dma)
{
	if (self->bar)
		munmap(self->bar, EDU_BAR_SIZE);
	if (self->devfd >= 0)
		close(self->devfd);
	if (self->iommufd >= 0)
		close(self->iommufd);
}

/* Attach to the IOAS and map src, dst and out in it */
static int attach_and_map(int iommufd, int devfd, uint32_t ioas_id,
			  void *src, void *dst, void *out)
{
	uint32_t pt_id = ioas_id;
	int rc;

	rc = vfio_attach_pt(devfd, pt_id, &pt_id);
	if (!rc)
		rc = ioas_map(iommufd, ioas_id, src, BUF_SIZE, IOVA_SRC);
	if (!rc)
		rc = ioas_map(iommufd, ioas_id, dst, BUF_SIZE, IOVA_DST);
	if (!rc)
		rc = ioas_map(iommufd, ioas_id, out, BUF_SIZE, IOVA_OUT);
	return rc;
}

/* The device and its BAR, through VFIO: what edu.c says they are */
TEST_F(vfio_dma, device_and_bar)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	uint16_t vendor, device;

	ASSERT_EQ(0, ioctl_errno(self->devfd, VFIO_DEVICE_GET_INFO, &info));
	ASSERT_TRUE(info.flags & VFIO_DEVICE_FLAGS_PCI);
	ASSERT_EQ(VFIO_PCI_NUM_REGIONS, info.num_regions);
	ASSERT_EQ(VFIO_PCI_NUM_IRQS, info.num_irqs);

	ASSERT_EQ(0, cfg_read16(self->devfd, &self->cfg_info, PCI_VENDOR_ID,
				&vendor));
	ASSERT_EQ(0, cfg_read16(self->devfd, &self->cfg_info, PCI_DEVICE_ID,
				&device));
	ASSERT_EQ(EDU_VENDOR, vendor);
	ASSERT_EQ(EDU_DEVICE, device);

	ASSERT_EQ(0x010000ed, rd32(self->bar, EDU_REG_ID));
	wr32(self->bar, EDU_REG_LIVE, 0x12345678);
	ASSERT_EQ(~0x12345678U, rd32(self->bar, EDU_REG_LIVE));
	wr32(self->bar, EDU_REG_LIVE, 0);
	ASSERT_EQ(0xffffffffU, rd32(self->bar, EDU_REG_LIVE));
}

/* The cdev's rules: nothing but BIND before the bind, one bind per device */
TEST_F(vfio_dma, cdev_bind_rules)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind),
		.iommufd = self->iommufd,
	};
	char cdev[PATH_MAX];
	int fd2, nullfd;

	ASSERT_EQ(0, vfio_cdev_path(self->bdf, cdev, sizeof(cdev)));
	fd2 = open(cdev, O_RDWR);
	ASSERT_LE(0, fd2);
	/* Not bound: every other ioctl fails */
	ASSERT_EQ(-EINVAL, ioctl_errno(fd2, VFIO_DEVICE_GET_INFO, &info));
	/* The device is bound through the first fd: no second bind */
	ASSERT_EQ(-EINVAL, vfio_bind_iommufd(fd2, self->iommufd, NULL));
	/* Bad arguments */
	bind.flags = 1;
	ASSERT_EQ(-EINVAL, ioctl_errno(fd2, VFIO_DEVICE_BIND_IOMMUFD, &bind));
	bind.flags = 0;
	bind.argsz = offsetof(struct vfio_device_bind_iommufd, out_devid);
	ASSERT_EQ(-EINVAL, ioctl_errno(fd2, VFIO_DEVICE_BIND_IOMMUFD, &bind));
	/* The same fd twice */
	ASSERT_EQ(-EINVAL, vfio_bind_iommufd(self->devfd, self->iommufd, NULL));
	close(fd2);

	/* With the first fd closed, a second one binds, to an iommufd only */
	close(self->devfd);
	self->devfd = -1;
	munmap(self->bar, EDU_BAR_SIZE);
	self->bar = NULL;
	fd2 = open(cdev, O_RDWR);
	ASSERT_LE(0, fd2);
	nullfd = open("/dev/null", O_RDWR);
	ASSERT_LE(0, nullfd);
	ASSERT_EQ(-EBADFD, vfio_bind_iommufd(fd2, nullfd, NULL));
	ASSERT_EQ(-EBADF, vfio_bind_iommufd(fd2, 1000, NULL));
	ASSERT_EQ(-EINVAL, vfio_bind_iommufd(fd2, -1, NULL));
	ASSERT_EQ(0, vfio_bind_iommufd(fd2, self->iommufd, &self->dev_id));
	close(nullfd);
	self->devfd = fd2;
}

/* Buffer -> device -> another buffer: the bytes arrive, nothing else moves */
TEST_F_TIMEOUT(vfio_dma, dma_roundtrip, 120)
{
	uint8_t *expect = buf_alloc(BUF_SIZE);
	double t0;

	ASSERT_NE(NULL, expect);
	ASSERT_EQ(0, attach_and_map(self->iommufd, self->devfd, self->ioas_id,
				    self->src, self->dst, self->out));
	fill(self->src, BUF_SIZE, 1);
	memset(self->dst, 0, BUF_SIZE);

	t0 = now_s();
	ASSERT_EQ(0, edu_dma_in(self->bar, IOVA_SRC, 0, XFER));
	ASSERT_EQ(0, edu_dma_out(self->bar, 0, IOVA_DST, XFER));
	TH_LOG("two DMAs of %d bytes took %.3f s", XFER, now_s() - t0);
	ASSERT_EQ(0, memcmp(self->src, self->dst, XFER));
	/* Only XFER bytes written: the rest of dst is untouched */
	memset(expect, 0, BUF_SIZE);
	ASSERT_EQ(0, memcmp(expect, self->dst + XFER, BUF_SIZE - XFER));

	/*
	 * Across a page boundary of the IOVA, both ways: 256 bytes from
	 * src + 0xf80 into the device at 0x100, then back out to dst + 0xfc0.
	 */
	memset(self->dst, 0, BUF_SIZE);
	ASSERT_EQ(0, edu_dma_in(self->bar, IOVA_SRC + 0xf80, 0x100, 256));
	ASSERT_EQ(0, edu_dma_out(self->bar, 0x100, IOVA_DST + 0xfc0, 256));
	memcpy(expect + 0xfc0, self->src + 0xf80, 256);
	ASSERT_EQ(0, memcmp(expect, self->dst, BUF_SIZE));
	/* The rest of the device's buffer kept the first DMA's bytes */
	ASSERT_EQ(0, edu_dma_out(self->bar, 0, IOVA_OUT, XFER));
	memcpy(expect, self->src, XFER);
	memcpy(expect + 0x100, self->src + 0xf80, 256);
	ASSERT_EQ(0, memcmp(expect, self->out, XFER));
	munmap(expect, BUF_SIZE);
}

/*
 * After IOAS_UNMAP, and at an IOVA never mapped, the device's DMA reaches
 * no memory, and VT-d reports the fault. This is the first test that makes
 * the IOMMU fault: the kernel rate-limits its fault reports (10 checks per
 * 5 s, and reporting one fault takes 3), and this test needs to see its 3
 * faults' reports. The later tests check memory only.
 */
TEST_F_TIMEOUT(vfio_dma, unmapped_iova_faults, 120)
{
	uint8_t *old = buf_alloc(BUF_SIZE);
	char line[512];

	ASSERT_NE(NULL, old);
	ASSERT_EQ(0, attach_and_map(self->iommufd, self->devfd, self->ioas_id,
				    self->src, self->dst, self->out));
	/* Positive control: the mapping works */
	fill(self->src, BUF_SIZE, 2);
	ASSERT_EQ(0, edu_dma_in(self->bar, IOVA_SRC, 0, XFER));
	ASSERT_EQ(0, edu_dma_out(self->bar, 0, IOVA_DST, XFER));
	ASSERT_EQ(0, memcmp(self->src, self->dst, XFER));

	/* Device -> unmapped dst: dst keeps its bytes */
	ASSERT_EQ(0, ioas_unmap(self->iommufd, self->ioas_id, IOVA_DST,
				BUF_SIZE));
	memset(self->dst, 0x5a, BUF_SIZE);
	memcpy(old, self->dst, BUF_SIZE);
	ASSERT_EQ(0, edu_dma_out(self->bar, 0, IOVA_DST, XFER));
	ASSERT_EQ(0, memcmp(old, self->dst, BUF_SIZE));
	ASSERT_TRUE(dmar_fault_logged(self->bdf, false, IOVA_DST, line,
				      sizeof(line)));
	TH_LOG("write to an unmapped IOVA: %s", line);

	/* Device -> IOVA never mapped */
	ASSERT_EQ(0, edu_dma_out(self->bar, 0, IOVA_NEVER, XFER));
	ASSERT_TRUE(dmar_fault_logged(self->bdf, false, IOVA_NEVER, line,
				      sizeof(line)));
	TH_LOG("write to an IOVA never mapped: %s", line);

	/*
	 * Unmapped src -> device: none of src's bytes reach the device's
	 * buffer (it held pattern 2; src now holds pattern 3, which differs
	 * from 2 at every offset).
	 */
	ASSERT_EQ(0, ioas_unmap(self->iommufd, self->ioas_id, IOVA_SRC,
				BUF_SIZE));
	fill(self->src, BUF_SIZE, 3);
	ASSERT_EQ(0, edu_dma_in(self->bar, IOVA_SRC, 0, XFER));
	ASSERT_TRUE(dmar_fault_logged(self->bdf, true, IOVA_SRC, line,
				      sizeof(line)));
	TH_LOG("read from an unmapped IOVA: %s", line);
	memset(self->out, 0, BUF_SIZE);
	ASSERT_EQ(0, edu_dma_out(self->bar, 0, IOVA_OUT, XFER));
	ASSERT_EQ(0, same_bytes(self->src, self->out, XFER));
	fill(old, BUF_SIZE, 2);
	TH_LOG("device buffer after it: %02x %02x %02x %02x ..., %zu of %d bytes still pattern 2",
	       self->out[0], self->out[1], self->out[2], self->out[3],
	       same_bytes(old, self->out, XFER), XFER);

	/* Mapped again, the same IOVAs work again */
	ASSERT_EQ(0, ioas_map(self->iommufd, self->ioas_id, self->dst,
			      BUF_SIZE, IOVA_DST));
	ASSERT_EQ(0, ioas_map(self->iommufd, self->ioas_id, self->src,
			      BUF_SIZE, IOVA_SRC));
	ASSERT_EQ(0, edu_dma_in(self->bar, IOVA_SRC, 0, XFER));
	ASSERT_EQ(0, edu_dma_out(self->bar, 0, IOVA_DST, XFER));
	ASSERT_EQ(0, memcmp(self->src, self->dst, XFER));
	munmap(old, BUF_SIZE);
}

/* A read-only mapping: the device reads it, its writes are refused */
TEST_F_TIMEOUT(vfio_dma, readonly_mapping, 120)
{
	uint32_t pt_id = self->ioas_id;

	ASSERT_EQ(0, vfio_attach_pt(self->devfd, pt_id, &pt_id));
	ASSERT_EQ(0, ioas_map_ro(self->iommufd, self->ioas_id, self->src,
				 BUF_SIZE, IOVA_SRC));
	ASSERT_EQ(0, ioas_map(self->iommufd, self->ioas_id, self->out,
			      BUF_SIZE, IOVA_OUT));
	fill(self->src, BUF_SIZE, 4);
	memcpy(self->dst, self->src, BUF_SIZE);
	ASSERT_EQ(0, edu_dma_in(self->bar, IOVA_SRC, 0, XFER));
	ASSERT_EQ(0, edu_dma_out(self->bar, 0, IOVA_OUT, XFER));
	ASSERT_EQ(0, memcmp(self->src, self->out, XFER));

	/* The device's buffer now holds pattern 5, src keeps pattern 4 */
	fill(self->out, BUF_SIZE, 5);
	ASSERT_EQ(0, edu_dma_in(self->bar, IOVA_OUT, 0, XFER));
	ASSERT_EQ(0, edu_dma_out(self->bar, 0, IOVA_SRC, XFER));
	ASSERT_EQ(0, memcmp(self->dst, self->src, BUF_SIZE));
}

/*
 * Bound but not attached, the device is blocked: a mapping in the IOAS is
 * not reached until the device is attached to it.
 */
TEST_F_TIMEOUT(vfio_dma, blocked_until_attached, 120)
{
	uint32_t pt_id = self->ioas_id;

	ASSERT_EQ(0, ioas_map(self->iommufd, self->ioas_id, self->dst,
			      BUF_SIZE, IOVA_DST));
	memset(self->dst, 0x33, BUF_SIZE);
	ASSERT_EQ(0, edu_dma_out(self->bar, 0, IOVA_DST, XFER));
	ASSERT_EQ(EDU_BUF_SIZE, same_bytes(self->dst + EDU_BUF_SIZE,
					   self->dst, EDU_BUF_SIZE));
	ASSERT_EQ(0x33, self->dst[0]);
	ASSERT_EQ(0x33, self->dst[EDU_BUF_SIZE - 1]);

	ASSERT_EQ(0, vfio_attach_pt(self->devfd, pt_id, &pt_id));
	ASSERT_EQ(0, ioas_map(self->iommufd, self->ioas_id, self->src,
			      BUF_SIZE, IOVA_SRC));
	fill(self->src, BUF_SIZE, 6);
	ASSERT_EQ(0, edu_dma_in(self->bar, IOVA_SRC, 0, XFER));
	ASSERT_EQ(0, edu_dma_out(self->bar, 0, IOVA_DST, XFER));
	ASSERT_EQ(0, memcmp(self->src, self->dst, XFER));

	/* Detached again: blocked again */
	ASSERT_EQ(0, vfio_detach_pt(self->devfd));
	memset(self->dst, 0x44, BUF_SIZE);
	ASSERT_EQ(0, edu_dma_out(self->bar, 0, IOVA_DST, XFER));
	ASSERT_EQ(0x44, self->dst[0]);
	ASSERT_EQ(EDU_BUF_SIZE, same_bytes(self->dst + EDU_BUF_SIZE,
					   self->dst, EDU_BUF_SIZE));
}

/* Bus mastering off: the device's DMA goes nowhere, on again it works */
TEST_F_TIMEOUT(vfio_dma, bus_master_off, 120)
{
	ASSERT_EQ(0, attach_and_map(self->iommufd, self->devfd, self->ioas_id,
				    self->src, self->dst, self->out));
	fill(self->src, BUF_SIZE, 7);
	ASSERT_EQ(0, edu_dma_in(self->bar, IOVA_SRC, 0, XFER));
	ASSERT_EQ(0, bus_master(self->devfd, &self->cfg_info, false));
	memset(self->dst, 0x55, BUF_SIZE);
	ASSERT_EQ(0, edu_dma_out(self->bar, 0, IOVA_DST, XFER));
	ASSERT_EQ(0x55, self->dst[0]);
	ASSERT_EQ(EDU_BUF_SIZE, same_bytes(self->dst + EDU_BUF_SIZE,
					   self->dst, EDU_BUF_SIZE));
	ASSERT_EQ(0, bus_master(self->devfd, &self->cfg_info, true));
	ASSERT_EQ(0, edu_dma_out(self->bar, 0, IOVA_DST, XFER));
	ASSERT_EQ(0, memcmp(self->src, self->dst, XFER));
}

/*
 * A paging HWPT allocated explicitly on the IOAS: attach, DMA through it,
 * detach, and the object lifetimes around it.
 */
TEST_F_TIMEOUT(vfio_dma, hwpt_paging, 120)
{
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach), .flags = 1,
	};
	struct vfio_device_detach_iommufd_pt detach = {
		.argsz = sizeof(detach), .flags = 1,
	};
	uint32_t hwpt_id, pt_id;

	ASSERT_EQ(0, hwpt_alloc(self->iommufd, self->dev_id, self->ioas_id, 0,
				IOMMU_HWPT_DATA_NONE, NULL, 0, &hwpt_id));
	ASSERT_NE(self->ioas_id, hwpt_id);
	ASSERT_EQ(0, ioas_map(self->iommufd, self->ioas_id, self->src,
			      BUF_SIZE, IOVA_SRC));
	pt_id = hwpt_id;
	ASSERT_EQ(0, vfio_attach_pt(self->devfd, pt_id, &pt_id));
	ASSERT_EQ(hwpt_id, pt_id);
	/* Mapped after the attach: the HWPT follows its IOAS */
	ASSERT_EQ(0, ioas_map(self->iommufd, self->ioas_id, self->dst,
			      BUF_SIZE, IOVA_DST));
	fill(self->src, BUF_SIZE, 8);
	memset(self->dst, 0, BUF_SIZE);
	ASSERT_EQ(0, edu_dma_in(self->bar, IOVA_SRC, 0, XFER));
	ASSERT_EQ(0, edu_dma_out(self->bar, 0, IOVA_DST, XFER));
	ASSERT_EQ(0, memcmp(self->src, self->dst, XFER));

	/* In use: neither the HWPT nor its IOAS can go */
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->iommufd, hwpt_id));
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->iommufd, self->ioas_id));

	/* Replace the HWPT by the IOAS itself (an automatic domain) */
	pt_id = self->ioas_id;
	ASSERT_EQ(0, vfio_attach_pt(self->devfd, pt_id, &pt_id));
	ASSERT_NE(self->ioas_id, pt_id);
	ASSERT_NE(hwpt_id, pt_id);
	memset(self->dst, 0, BUF_SIZE);
	ASSERT_EQ(0, edu_dma_out(self->bar, 0, IOVA_DST, XFER));
	ASSERT_EQ(0, memcmp(self->src, self->dst, XFER));
	/* ... and back */
	pt_id = hwpt_id;
	ASSERT_EQ(0, vfio_attach_pt(self->devfd, pt_id, &pt_id));
	ASSERT_EQ(hwpt_id, pt_id);

	/* Detached: the device is blocked, the HWPT is free to go */
	ASSERT_EQ(0, vfio_detach_pt(self->devfd));
	memset(self->dst, 0x66, BUF_SIZE);
	ASSERT_EQ(0, edu_dma_out(self->bar, 0, IOVA_DST, XFER));
	ASSERT_EQ(0x66, self->dst[0]);
	ASSERT_EQ(EDU_BUF_SIZE, same_bytes(self->dst + EDU_BUF_SIZE,
					   self->dst, EDU_BUF_SIZE));
	ASSERT_EQ(-EBUSY, iommufd_destroy(self->iommufd, self->ioas_id));
	ASSERT_EQ(0, iommufd_destroy(self->iommufd, hwpt_id));
	ASSERT_EQ(-ENOENT, iommufd_destroy(self->iommufd, hwpt_id));
	pt_id = hwpt_id;
	ASSERT_EQ(-ENOENT, vfio_attach_pt(self->devfd, pt_id, &pt_id));
	ASSERT_EQ(0, iommufd_destroy(self->iommufd, self->ioas_id));

	/* Bad attach and detach arguments */
	ASSERT_EQ(-EINVAL, ioctl_errno(self->devfd,
				       VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach));
	ASSERT_EQ(-EINVAL, ioctl_errno(self->devfd,
				       VFIO_DEVICE_DETACH_IOMMUFD_PT, &detach));
}

/* What iommufd reports of the IOMMU: VT-d, and the registers sysfs shows */
TEST_F(vfio_dma, hw_info_and_ranges)
{
	struct iommu_hw_info_vtd vtd = {};
	unsigned long long cap, ecap, last = 0;
	struct iommu_iova_range ranges[8];
	struct iommu_ioas_iova_ranges cmd = {
		.size = sizeof(cmd),
		.ioas_id = self->ioas_id,
		.num_iovas = 8,
		.allowed_iovas = (uintptr_t)ranges,
	};
	uint32_t type, pt_id = self->ioas_id, i, mgaw;
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	ASSERT_EQ(0, get_hw_info(self->iommufd, self->dev_id, &vtd,
				 sizeof(vtd), &type));
	ASSERT_EQ(IOMMU_HW_INFO_TYPE_INTEL_VTD, type);
	/* The device's IOMMU in sysfs: .../iommu -> .../dmarN */
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu", self->bdf);
	n = readlink(path, link, sizeof(link) - 1);
	ASSERT_LT(0, n);
	link[n] = '\0';
	snprintf(path, sizeof(path), "/sys/class/iommu/%s/intel-iommu/cap",
		 strrchr(link, '/') + 1);
	ASSERT_EQ(0, sysfs_read_hex(path, &cap));
	snprintf(path, sizeof(path), "/sys/class/iommu/%s/intel-iommu/ecap",
		 strrchr(link, '/') + 1);
	ASSERT_EQ(0, sysfs_read_hex(path, &ecap));
	ASSERT_EQ(cap, vtd.cap_reg);
	ASSERT_EQ(ecap, vtd.ecap_reg);
	TH_LOG("VT-d cap 0x%llx ecap 0x%llx", cap, ecap);

	ASSERT_EQ(0, vfio_attach_pt(self->devfd, pt_id, &pt_id));
	ASSERT_EQ(0, ioctl_errno(self->iommufd, IOMMU_IOAS_IOVA_RANGES, &cmd));
	ASSERT_LE(2, cmd.num_iovas);
	ASSERT_GE(8, cmd.num_iovas);
	for (i = 0; i < cmd.num_iovas; i++) {
		TH_LOG("usable IOVA 0x%llx-0x%llx",
		       (unsigned long long)ranges[i].start,
		       (unsigned long long)ranges[i].last);
		/* The interrupt window is in no usable range */
		ASSERT_TRUE(ranges[i].last < MSI_WINDOW_START ||
			    ranges[i].start > MSI_WINDOW_END);
		last = ranges[i].last;
	}
	ASSERT_EQ(0, ranges[0].start);
	/* The top: what the hardware's MGAW field (cap[21:16] + 1) allows */
	mgaw = ((cap >> 16) & 0x3f) + 1;
	ASSERT_EQ((1ULL << mgaw) - 1, last);
	/* Reserved IOVA, or beyond the aperture: EINVAL; mapped: EEXIST */
	ASSERT_EQ(-EINVAL, ioas_map(self->iommufd, self->ioas_id, self->src,
				    BUF_SIZE, MSI_WINDOW_START));
	ASSERT_EQ(-EINVAL, ioas_map(self->iommufd, self->ioas_id, self->src,
				    BUF_SIZE, last + 1));
	ASSERT_EQ(0, ioas_map(self->iommufd, self->ioas_id, self->src,
			      BUF_SIZE, last + 1 - BUF_SIZE));
	ASSERT_EQ(-EEXIST, ioas_map(self->iommufd, self->ioas_id, self->dst,
				    BUF_SIZE, last + 1 - BUF_SIZE));
}

/*
 * The DMA-done interrupt through vfio-pci's MSI eventfd: edu signals MSI,
 * which VT-d's interrupt remapping (if on) translates to the vector
 * vfio-pci set up.
 */
TEST_F_TIMEOUT(vfio_dma, msi, 120)
{
	struct vfio_irq_info irq = {
		.argsz = sizeof(irq),
		.index = VFIO_PCI_MSI_IRQ_INDEX,
	};
	struct {
		struct vfio_irq_set set;
		int32_t fd;
	} irqs = {
		.set = {
			.argsz = sizeof(irqs),
			.flags = VFIO_IRQ_SET_DATA_EVENTFD |
				 VFIO_IRQ_SET_ACTION_TRIGGER,
			.index = VFIO_PCI_MSI_IRQ_INDEX,
			.start = 0,
			.count = 1,
		},
	};
	struct vfio_irq_set off = {
		.argsz = sizeof(off),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = VFIO_PCI_MSI_IRQ_INDEX,
	};
	struct pollfd pfd = { .events = POLLIN };
	char line[256], unsafe[8] = "?";
	uint64_t count;
	bool remapped = false;
	FILE *f;
	int efd;

	f = fopen("/sys/module/iommufd/parameters/allow_unsafe_interrupts", "r");
	if (f) {
		if (!fgets(unsafe, sizeof(unsafe), f))
			unsafe[0] = '?';
		fclose(f);
	}
	TH_LOG("iommufd allow_unsafe_interrupts=%c", unsafe[0]);

	ASSERT_EQ(0, ioctl_errno(self->devfd, VFIO_DEVICE_GET_IRQ_INFO, &irq));
	ASSERT_EQ(1, irq.count);
	ASSERT_TRUE(irq.flags & VFIO_IRQ_INFO_EVENTFD);
	efd = eventfd(0, EFD_NONBLOCK);
	ASSERT_LE(0, efd);
	irqs.fd = efd;
	ASSERT_EQ(0, ioctl_errno(self->devfd, VFIO_DEVICE_SET_IRQS, &irqs));

	/*
	 * Bound without allow_unsafe_interrupts, the device's MSIs must be
	 * isolated: with VT-d, a remapped vector (an IR- chip in
	 * /proc/interrupts). With the override, they may be either.
	 */
	f = fopen("/proc/interrupts", "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, "vfio-msi"))
			continue;
		TH_LOG("%s", line);
		remapped = strstr(line, "IR-PCI-MSI");
	}
	fclose(f);
	if (unsafe[0] != 'Y')
		ASSERT_TRUE(remapped);

	/* A DMA with the interrupt bit ends in the interrupt */
	ASSERT_EQ(0, attach_and_map(self->iommufd, self->devfd, self->ioas_id,
				    self->src, self->dst, self->out));
	pfd.fd = efd;
	ASSERT_EQ(0, edu_dma(self->bar, EDU_BUF, IOVA_DST, 64,
			     EDU_DMA_TO_RAM | EDU_DMA_IRQ));
	ASSERT_EQ(1, poll(&pfd, 1, DMA_TIMEOUT_MS));
	ASSERT_EQ(sizeof(count), read(efd, &count, sizeof(count)));
	ASSERT_EQ(1, count);
	ASSERT_EQ(EDU_IRQ_DMA, rd32(self->bar, EDU_REG_IRQ_STATUS));
	wr32(self->bar, EDU_REG_IRQ_ACK, EDU_IRQ_DMA);
	ASSERT_EQ(0, rd32(self->bar, EDU_REG_IRQ_STATUS));
	/* None pending once acknowledged */
	ASSERT_EQ(0, poll(&pfd, 1, 200));

	/* Raised by hand */
	wr32(self->bar, EDU_REG_IRQ_RAISE, 0x1000);
	ASSERT_EQ(1, poll(&pfd, 1, DMA_TIMEOUT_MS));
	ASSERT_EQ(sizeof(count), read(efd, &count, sizeof(count)));
	ASSERT_EQ(1, count);
	wr32(self->bar, EDU_REG_IRQ_ACK, 0x1000);

	/* MSI off: a raise signals nothing */
	ASSERT_EQ(0, ioctl_errno(self->devfd, VFIO_DEVICE_SET_IRQS, &off));
	wr32(self->bar, EDU_REG_IRQ_RAISE, 0x1000);
	ASSERT_EQ(0, poll(&pfd, 1, 500));
	wr32(self->bar, EDU_REG_IRQ_ACK, 0x1000);
	close(efd);
}

TEST_HARNESS_MAIN
