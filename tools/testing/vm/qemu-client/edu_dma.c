// SPDX-License-Identifier: GPL-2.0
/*
 * A DMA through QEMU's "edu" PCI device (1234:11e8), from user space, with
 * no driver: run in the nested guest of make test-qemu, where the device is
 * passed through by the VMM with VFIO and iommufd. It finds the device in
 * sysfs, enables memory decoding and bus mastering in its config space,
 * maps BAR0 through resourceN, and has the device copy a locked page of
 * this program to its internal buffer and back into a second page, whose
 * physical addresses come from /proc/self/pagemap (needs CAP_SYS_ADMIN).
 *
 * It prints one "EDU: " line per step; the last is "EDU: DMA-OK ..." or
 * "EDU: FAIL ...". Exit status 0 only after DMA-OK.
 *
 * The device (QEMU's docs/specs/edu.rst): BAR0 registers 0x00 identification
 * (0xRRrr00ed), 0x04 liveness (reads back the inverse), 0x80 DMA source,
 * 0x88 DMA destination, 0x90 DMA count, 0x98 DMA command (bit 0 start, clear
 * when done; bit 1 direction, set for device to RAM); the device's buffer
 * is at 0x40000 in its DMA address space, 4 KiB. DMA addresses beyond 28
 * bits are refused: the guest's RAM must lie below 256 MiB. QEMU 7.2's edu
 * (the test VM's) takes a transfer that ends at the end of its buffer for
 * out of bounds and stops QEMU with a hardware error: the transfers here
 * are half a buffer, EDU_DMA_LEN bytes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define EDU_VENDOR	0x1234
#define EDU_DEVICE	0x11e8
#define EDU_BAR_SIZE	0x100000
#define EDU_IDENT	0x00
#define EDU_LIVENESS	0x04
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_COUNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_CMD_START	0x1
#define EDU_CMD_TO_RAM	0x2
#define EDU_BUF		0x40000
#define EDU_DMA_LEN	2048
#define EDU_DMA_MASK	((1ULL << 28) - 1)

#define PCI_COMMAND		0x04
#define PCI_COMMAND_MEMORY	0x2
#define PCI_COMMAND_MASTER	0x4

#define PAGEMAP_PRESENT	0x8000000000000000ULL	/* bit 63 */
#define PAGEMAP_PFN	0x007fffffffffffffULL	/* bits 0-54 */

static const char *sysfs = "/sys/bus/pci/devices";
static uint32_t *bar;

static int fail(const char *what)
{
	printf("EDU: FAIL %s%s%s\n", what, errno ? ": " : "",
	       errno ? strerror(errno) : "");
	return 1;
}

static unsigned long read_hex(const char *dev, const char *attr)
{
	char path[512], buf[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", sysfs, dev, attr);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return strtoul(buf, NULL, 16);
}

/* The first edu device in sysfs, into @name */
static int find_edu(char *name, size_t len)
{
	struct dirent *d;
	DIR *dir;
	int found = 0;

	dir = opendir(sysfs);
	if (!dir)
		return 0;
	while (!found && (d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		if (read_hex(d->d_name, "vendor") == EDU_VENDOR &&
		    read_hex(d->d_name, "device") == EDU_DEVICE) {
			snprintf(name, len, "%s", d->d_name);
			found = 1;
		}
	}
	closedir(dir);
	return found;
}

/* Set memory decoding and bus mastering in the command register */
static int enable_device(const char *dev)
{
	char path[512];
	uint16_t cmd;
	int fd, ret = -1;

	snprintf(path, sizeof(path), "%s/%s/config", sysfs, dev);
	fd = open(path, O_RDWR);
	if (fd < 0)
		return -1;
	if (pread(fd, &cmd, sizeof(cmd), PCI_COMMAND) != sizeof(cmd))
		goto out;
	printf("EDU: COMMAND 0x%04x -> 0x%04x\n", cmd,
	       cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	if (pwrite(fd, &cmd, sizeof(cmd), PCI_COMMAND) != sizeof(cmd))
		goto out;
	ret = 0;
out:
	close(fd);
	return ret;
}

/* One 32-bit access each, never merged, split or left out by the compiler */
static uint32_t rd(unsigned int reg)
{
	return __atomic_load_n(&bar[reg / 4], __ATOMIC_RELAXED);
}

static void wr(unsigned int reg, uint32_t val)
{
	__atomic_store_n(&bar[reg / 4], val, __ATOMIC_RELAXED);
}

/* Physical address of the page at @va, or 0 */
static uint64_t phys_addr(void *va)
{
	long psize = sysconf(_SC_PAGESIZE);
	uint64_t ent = 0;
	int fd;

	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0)
		return 0;
	if (pread(fd, &ent, sizeof(ent),
		  (uintptr_t)va / psize * sizeof(ent)) != sizeof(ent))
		ent = 0;
	close(fd);
	if (!(ent & PAGEMAP_PRESENT) || !(ent & PAGEMAP_PFN))
		return 0;
	return (ent & PAGEMAP_PFN) * psize;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Copy @len bytes from @src to @dst; 0 when the device is done */
static int dma(uint64_t src, uint64_t dst, uint32_t len, uint32_t dir)
{
	double start = now();

	wr(EDU_DMA_SRC, src);
	wr(EDU_DMA_DST, dst);
	wr(EDU_DMA_COUNT, len);
	wr(EDU_DMA_CMD, EDU_CMD_START | dir);
	while (rd(EDU_DMA_CMD) & EDU_CMD_START) {
		if (now() - start > 60) {
			errno = ETIMEDOUT;
			return -1;
		}
		usleep(1000);
	}
	printf("EDU: DMA 0x%llx -> 0x%llx, %u bytes, done in %.3f s\n",
	       (unsigned long long)src, (unsigned long long)dst, len,
	       now() - start);
	return 0;
}

int main(void)
{
	long psize = sysconf(_SC_PAGESIZE);
	char dev[256], path[512];
	uint64_t pa_src, pa_dst;
	uint32_t ident, live;
	unsigned char *src, *dst;
	int fd, i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!find_edu(dev, sizeof(dev)))
		return fail("no 1234:11e8 device in /sys/bus/pci/devices");
	printf("EDU: SEEN %s %04lx:%04lx class 0x%06lx\n", dev,
	       read_hex(dev, "vendor"), read_hex(dev, "device"),
	       read_hex(dev, "class"));
	if (enable_device(dev))
		return fail("enabling the device in its config space");

	snprintf(path, sizeof(path), "%s/%s/resource0", sysfs, dev);
	fd = open(path, O_RDWR | O_SYNC);
	if (fd < 0)
		return fail("opening resource0");
	bar = mmap(NULL, EDU_BAR_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		   fd, 0);
	if (bar == MAP_FAILED)
		return fail("mapping BAR0");
	ident = rd(EDU_IDENT);
	wr(EDU_LIVENESS, 0x12345678);
	live = rd(EDU_LIVENESS);
	printf("EDU: IDENT 0x%08x LIVENESS 0x%08x\n", ident, live);
	if ((ident & 0xffff) != 0x00ed || live != ~0x12345678U) {
		errno = 0;
		return fail("BAR0 does not answer as an edu device");
	}

	src = mmap(NULL, 2 * psize, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (src == MAP_FAILED)
		return fail("mmap of the buffers");
	dst = src + psize;
	if (mlock(src, 2 * psize))
		return fail("mlock");
	for (i = 0; i < psize; i++) {
		src[i] = (i * 7 + 0x5a) & 0xff;
		dst[i] = 0;
	}
	pa_src = phys_addr(src);
	pa_dst = phys_addr(dst);
	printf("EDU: PAGES va %p pa 0x%llx, va %p pa 0x%llx\n", src,
	       (unsigned long long)pa_src, dst, (unsigned long long)pa_dst);
	errno = 0;
	if (!pa_src || !pa_dst)
		return fail("no physical address in /proc/self/pagemap");
	if ((pa_src | pa_dst) & ~EDU_DMA_MASK)
		return fail("a page above edu's 28-bit DMA mask");

	if (dma(pa_src, EDU_BUF, EDU_DMA_LEN, 0))
		return fail("DMA RAM to device");
	if (dma(EDU_BUF, pa_dst, EDU_DMA_LEN, EDU_CMD_TO_RAM))
		return fail("DMA device to RAM");
	for (i = 0; i < EDU_DMA_LEN; i++) {
		if (dst[i] != src[i]) {
			printf("EDU: byte %d is 0x%02x, wrote 0x%02x\n", i,
			       dst[i], src[i]);
			errno = 0;
			return fail("the bytes DMAed back differ");
		}
	}
	/* and the rest of the page is left alone */
	for (i = EDU_DMA_LEN; i < psize; i++) {
		if (dst[i]) {
			printf("EDU: byte %d is 0x%02x, past the DMA\n", i,
			       dst[i]);
			errno = 0;
			return fail("the DMA wrote past its end");
		}
	}
	printf("EDU: DMA-OK %d bytes equal after RAM -> device -> RAM\n",
	       EDU_DMA_LEN);
	return 0;
}
