// SPDX-License-Identifier: GPL-2.0-only
/*
 * What a VMM does with iommufd to give a guest one virtual SMMUv3 in front
 * of devices behind two physical SMMUs, step by step, on the mock SMMU
 * driver:
 *
 *  1. open /dev/iommu and map guest RAM into an IOAS;
 *  2. bind the devices (here mock devices created through the mock's test
 *     interface; a real VMM opens VFIO device files instead) and read
 *     IOMMU_GET_HW_INFO;
 *  3. allocate a nesting parent (stage 2) HWPT and attach every device;
 *  4. allocate ONE vIOMMU spanning both pSMMUs (IOMMU_VIOMMU_ALLOC_FLAG_SPAN,
 *     this project's extension) and give each device its guest StreamID
 *     with IOMMU_VDEVICE_ALLOC;
 *  5. turn the guest's STEs into nested HWPTs and attach them;
 *  6. forward the guest's command queue as one batch to
 *     IOMMU_HWPT_INVALIDATE on the vIOMMU: the kernel checks each command,
 *     rewrites StreamIDs and VMIDs and sends each pSMMU its share. A
 *     rejected command stops the batch; the VMM reports it to the guest
 *     (CERROR_ILL) and goes on after it.
 *
 * The table printed at the end shows, per guest command, what each pSMMU
 * executed, read back from the mock's command queue log.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/const.h>
#include <linux/iommufd.h>

#include "mock_smmu.h"

#define NUM_PSMMUS	2
#define NUM_DEVS	4
#define GUEST_RAM	(2UL << 20)

/* SMMUv3 command fields (architecture), as a guest driver builds them */
#define OP(x)		((__u64)(x))
#define SSEC		_BITULL(10)
#define SSID(x)		((__u64)(x) << 12)
#define SID(x)		((__u64)(x) << 32)
#define VMID(x)		((__u64)(x) << 32)
#define ASID(x)		((__u64)(x) << 48)
#define LEAF		1ULL
#define ATC_SIZE(x)	((__u64)(x))

/* STE fields (architecture) for the guest's STEs */
#define STE0_V		1ULL
#define STE0_CFG(x)	((__u64)(x) << 1)
#define STE0_CFG_GET(ste0)	(((ste0) >> 1) & 7)
#define STE2_S2VMID	0xffffULL	/* in the physical STEs the mock shows */
#define STE0_S1FMT(x)	((__u64)(x) << 4)
#define STE0_S1CTXPTR	0x40001000ULL	/* guest address of its CD table */
#define STE_CFG_BYPASS	4
#define STE_CFG_S1	5

static const struct {
	__u32 psmmu;
	__u32 sid;
	__u32 vsid;
	int s1;		/* guest STE: stage-1 translate, else bypass */
} devs[NUM_DEVS] = {
	{ 0, 0x10, 0x100, 1 },
	{ 0, 0x11, 0x101, 0 },
	{ 1, 0x20, 0x102, 1 },
	{ 1, 0x21, 0x103, 1 },
};

/* The guest's command queue: every accepted opcode and a few bad ones */
static const struct {
	const char *what;
	__u64 cmd[2];
} guest[] = {
	{ "CFGI_CD       vSID 0x100 SSID 0", { OP(0x05) | SID(0x100), LEAF } },
	{ "CFGI_CD_ALL   vSID 0x102", { OP(0x06) | SID(0x102), 0 } },
	{ "TLBI_NH_ASID  ASID 5", { OP(0x11) | ASID(5), 0 } },
	{ "TLBI_NH_VA    ASID 5 VA 0x1000", { OP(0x12) | ASID(5), 0x1000 | LEAF } },
	{ "CFGI_STE      vSID 0x100 (not forwardable)", { OP(0x03) | SID(0x100), 0 } },
	{ "TLBI_NH_VAA   VA 0x2000", { OP(0x13), 0x2000 } },
	{ "TLBI_NH_ALL   (guest VMID 7)", { OP(0x10) | VMID(7), 0 } },
	{ "CFGI_CD       vSID 0x1ff (no vDEVICE)", { OP(0x05) | SID(0x1ff), 0 } },
	{ "TLBI_NSNH_ALL", { OP(0x30), 0 } },
	{ "ATC_INV       vSID 0x103 all", { OP(0x40) | SID(0x103), ATC_SIZE(52) } },
	{ "ATC_INV       vSID 0x101 SSec set", { OP(0x40) | SSEC | SID(0x101), 0 } },
	{ "CFGI_CD       vSID 0x101 SSID 3", { OP(0x05) | SID(0x101) | SSID(3), 0 } },
};

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define NUM_GUEST	((unsigned int)ARRAY_SIZE(guest))

static int iommufd, mockfd;

static void die(const char *what)
{
	fprintf(stderr, "vmm-demo: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void step(const char *fmt, ...)
{
	va_list ap;

	printf("== ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void do_ioctl(int fd, unsigned long nr, void *arg, const char *what)
{
	if (ioctl(fd, nr, arg))
		die(what);
}

static const char *cfg_name(__u64 ste0)
{
	static const char * const names[8] = {
		"abort", "?", "?", "?", "bypass", "stage-1", "stage-2 only",
		"nested"
	};

	return names[STE0_CFG_GET(ste0)];
}

/* What a pSMMU executed, CMD_SYNC left out */
struct plog {
	__u64 cmd[MOCK_SMMU_CMDQ_LOG_SIZE][2];
	unsigned int num, pos;
};

static struct plog plogs[NUM_PSMMUS];

static void read_log(unsigned int psmmu, struct plog *log)
{
	static __u64 buf[MOCK_SMMU_CMDQ_LOG_SIZE][2];
	struct mock_smmu_cmdq_log arg = {
		.psmmu = psmmu,
		.flags = MOCK_SMMU_CMDQ_LOG_CLEAR,
		.num = MOCK_SMMU_CMDQ_LOG_SIZE,
		.uptr = (uintptr_t)buf,
	};
	unsigned int i;

	do_ioctl(mockfd, MOCK_SMMU_CMDQ_LOG, &arg, "MOCK_SMMU_CMDQ_LOG");
	log->num = 0;
	log->pos = 0;
	for (i = 0; i < arg.num; i++) {
		if ((buf[i][0] & 0xff) == 0x46)	/* CMD_SYNC */
			continue;
		memcpy(log->cmd[log->num++], buf[i], sizeof(buf[i]));
	}
}

/*
 * The guest command as a pSMMU would execute it, with the fields the
 * kernel rewrites (SID, VMID) masked, to find it in the pSMMU's log.
 */
static void shape(const __u64 *in, __u64 *out)
{
	unsigned int op = in[0] & 0xff;

	out[0] = in[0];
	out[1] = in[1];
	if (op == 0x30) {		/* NSNH_ALL runs as NH_ALL */
		out[0] = 0x10;
		out[1] = 0;
	}
	out[0] &= ~(0xffffffffULL << 32) | (op >= 0x10 && op < 0x20 ?
					     0xffffULL << 48 : 0);
}

static void print_match(unsigned int g)
{
	unsigned int p;

	for (p = 0; p < NUM_PSMMUS; p++) {
		struct plog *log = &plogs[p];
		__u64 want[2], got[2], *cmd;
		unsigned int op;
		char note[24];

		shape(guest[g].cmd, want);
		if (log->pos < log->num) {
			cmd = log->cmd[log->pos];
			shape(cmd, got);
			if (!memcmp(want, got, sizeof(want))) {
				op = cmd[0] & 0xff;
				if (op >= 0x10 && op < 0x40)
					snprintf(note, sizeof(note), "(VMID %u)",
						 (unsigned int)(cmd[0] >> 32) & 0xffff);
				else
					snprintf(note, sizeof(note), "(SID 0x%x)",
						 (unsigned int)(cmd[0] >> 32));
				printf("   pSMMU%u: %016llx %016llx %-11s", p,
				       (unsigned long long)cmd[0],
				       (unsigned long long)cmd[1], note);
				log->pos++;
				continue;
			}
		}
		printf("   pSMMU%u: %-45s", p, "-");
	}
	putchar('\n');
}

/* Attach the devices behind @psmmu to the stage-2 HWPT */
static void attach_s2(const __u32 *mdev, __u32 psmmu, __u32 s2)
{
	unsigned int i;

	for (i = 0; i < NUM_DEVS; i++) {
		struct mock_smmu_dev_cmd at = { .dev = mdev[i], .pt_id = s2 };

		if (devs[i].psmmu == psmmu)
			do_ioctl(mockfd, MOCK_SMMU_DEV_ATTACH, &at, "attach S2");
	}
}

int main(void)
{
	__u32 dev_id[NUM_DEVS], mdev[NUM_DEVS], nested[NUM_DEVS], vdev[NUM_DEVS];
	struct iommu_ioas_alloc ioas = { .size = sizeof(ioas) };
	struct iommu_viommu_alloc viommu = { .size = sizeof(viommu) };
	struct iommu_hwpt_alloc s2 = { .size = sizeof(s2) };
	struct mock_smmu_info minfo = {};
	unsigned int g, i, start;
	void *ram;

	iommufd = open("/dev/iommu", O_RDWR);
	if (iommufd < 0)
		die("open /dev/iommu");
	mockfd = open(MOCK_SMMU_DEV_PATH, O_RDWR);
	if (mockfd < 0)
		die("open " MOCK_SMMU_DEV_PATH);
	do_ioctl(mockfd, MOCK_SMMU_GET_INFO, &minfo, "MOCK_SMMU_GET_INFO");
	if (minfo.num_psmmus < NUM_PSMMUS) {
		fprintf(stderr, "vmm-demo: needs %d pSMMUs\n", NUM_PSMMUS);
		return 1;
	}

	step("1. guest RAM: IOAS and a %lu MiB mapping at IOVA 0", GUEST_RAM >> 20);
	do_ioctl(iommufd, IOMMU_IOAS_ALLOC, &ioas, "IOMMU_IOAS_ALLOC");
	ram = mmap(NULL, GUEST_RAM, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED)
		die("mmap");
	{
		struct iommu_ioas_map map = {
			.size = sizeof(map),
			.flags = IOMMU_IOAS_MAP_FIXED_IOVA |
				 IOMMU_IOAS_MAP_READABLE |
				 IOMMU_IOAS_MAP_WRITEABLE,
			.ioas_id = ioas.out_ioas_id,
			.user_va = (uintptr_t)ram,
			.length = GUEST_RAM,
		};

		do_ioctl(iommufd, IOMMU_IOAS_MAP, &map, "IOMMU_IOAS_MAP");
	}
	printf("   IOAS %u\n", ioas.out_ioas_id);

	step("2. bind %d devices behind %d pSMMUs", NUM_DEVS, NUM_PSMMUS);
	for (i = 0; i < NUM_DEVS; i++) {
		struct mock_smmu_dev_create create = {
			.psmmu = devs[i].psmmu, .sid = devs[i].sid,
		};
		struct mock_smmu_dev_cmd bind = { .iommufd = iommufd };
		struct iommu_hw_info_arm_smmuv3 smmu = {};
		struct iommu_hw_info info = {
			.size = sizeof(info),
			.data_len = sizeof(smmu),
			.data_uptr = (uintptr_t)&smmu,
		};

		do_ioctl(mockfd, MOCK_SMMU_DEV_CREATE, &create,
			 "MOCK_SMMU_DEV_CREATE");
		mdev[i] = create.out_dev;
		bind.dev = mdev[i];
		/* What VFIO_DEVICE_BIND_IOMMUFD does for a VFIO device */
		do_ioctl(mockfd, MOCK_SMMU_DEV_BIND, &bind, "MOCK_SMMU_DEV_BIND");
		dev_id[i] = bind.out_id;
		info.dev_id = dev_id[i];
		do_ioctl(iommufd, IOMMU_GET_HW_INFO, &info, "IOMMU_GET_HW_INFO");
		printf("   dev%u: pSMMU%u SID 0x%x -> dev_id %u, ", i,
		       devs[i].psmmu, devs[i].sid, dev_id[i]);
		printf("HW_INFO type %u (%s), IIDR 0x%08x\n",
		       info.out_data_type,
		       info.out_data_type == IOMMU_HW_INFO_TYPE_ARM_SMMUV3 ?
		       "ARM SMMUv3" : "unexpected", smmu.iidr);
	}

	step("3. stage 2: a NEST_PARENT HWPT on the IOAS, pSMMU0's devices attached");
	s2.flags = IOMMU_HWPT_ALLOC_NEST_PARENT;
	s2.dev_id = dev_id[0];
	s2.pt_id = ioas.out_ioas_id;
	do_ioctl(iommufd, IOMMU_HWPT_ALLOC, &s2, "IOMMU_HWPT_ALLOC(S2)");
	attach_s2(mdev, 0, s2.out_hwpt_id);
	printf("   S2 HWPT %u\n", s2.out_hwpt_id);

	step("4. one vSMMU spanning both pSMMUs, and the guest's StreamIDs");
	viommu.flags = IOMMU_VIOMMU_ALLOC_FLAG_SPAN;
	viommu.type = IOMMU_VIOMMU_TYPE_ARM_SMMUV3;
	viommu.dev_id = dev_id[0];
	viommu.hwpt_id = s2.out_hwpt_id;
	do_ioctl(iommufd, IOMMU_VIOMMU_ALLOC, &viommu, "IOMMU_VIOMMU_ALLOC");
	printf("   vIOMMU %u\n", viommu.out_viommu_id);
	for (i = 0; i < NUM_DEVS; i++) {
		struct iommu_vdevice_alloc va = {
			.size = sizeof(va),
			.viommu_id = viommu.out_viommu_id,
			.dev_id = dev_id[i],
			.virt_id = devs[i].vsid,
		};

		do_ioctl(iommufd, IOMMU_VDEVICE_ALLOC, &va,
			 "IOMMU_VDEVICE_ALLOC");
		vdev[i] = va.out_vdevice_id;
		printf("   dev%u: vSID 0x%x -> vDEVICE %u\n", i, devs[i].vsid,
		       vdev[i]);
	}
	/*
	 * VMIDs are per pSMMU: pSMMU1 gave the vIOMMU its first VMID, the
	 * S2 domain takes the next one there, so the two pSMMUs tag this VM
	 * differently and the kernel rewrites each TLBI accordingly.
	 */
	attach_s2(mdev, 1, s2.out_hwpt_id);
	printf("   pSMMU1's devices attached to S2 HWPT %u\n", s2.out_hwpt_id);

	step("5. the guest's STEs become nested HWPTs");
	for (i = 0; i < NUM_DEVS; i++) {
		struct iommu_hwpt_arm_smmuv3 ste = {};
		struct iommu_hwpt_alloc nest = {
			.size = sizeof(nest),
			.dev_id = dev_id[i],
			.pt_id = viommu.out_viommu_id,
			.data_type = IOMMU_HWPT_DATA_ARM_SMMUV3,
			.data_len = sizeof(ste),
			.data_uptr = (uintptr_t)&ste,
		};
		struct mock_smmu_dev_cmd at = { .dev = mdev[i] };
		struct mock_smmu_get_ste pste = { .psmmu = devs[i].psmmu,
						  .sid = devs[i].sid };

		ste.ste[0] = STE0_V;
		if (devs[i].s1)
			ste.ste[0] |= STE0_CFG(STE_CFG_S1) | STE0_S1FMT(0) |
				      STE0_S1CTXPTR;
		else
			ste.ste[0] |= STE0_CFG(STE_CFG_BYPASS);
		do_ioctl(iommufd, IOMMU_HWPT_ALLOC, &nest, "IOMMU_HWPT_ALLOC");
		nested[i] = nest.out_hwpt_id;
		at.pt_id = nested[i];
		do_ioctl(mockfd, MOCK_SMMU_DEV_ATTACH, &at, "attach nested");
		do_ioctl(mockfd, MOCK_SMMU_GET_STE, &pste, "MOCK_SMMU_GET_STE");
		printf("   dev%u: guest STE %-7s -> HWPT %u; ", i,
		       devs[i].s1 ? "stage-1" : "bypass", nested[i]);
		printf("pSMMU%u STE: %s, VMID %llu\n",
		       devs[i].psmmu, cfg_name(pste.ste[0]),
		       (unsigned long long)(pste.ste[2] & STE2_S2VMID));
	}

	step("6. the guest's command queue, forwarded as one batch");
	for (i = 0; i < NUM_PSMMUS; i++)
		read_log(i, &plogs[i]);	/* start from an empty log */
	for (start = 0; start < NUM_GUEST;) {
		struct iommu_viommu_arm_smmuv3_invalidate cmds[NUM_GUEST];
		struct iommu_hwpt_invalidate inv = {
			.size = sizeof(inv),
			.hwpt_id = viommu.out_viommu_id,
			.data_uptr = (uintptr_t)cmds,
			.data_type = IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
			.entry_len = sizeof(cmds[0]),
			.entry_num = NUM_GUEST - start,
		};
		int rc;

		for (g = start; g < NUM_GUEST; g++) {
			cmds[g - start].cmd[0] = guest[g].cmd[0];
			cmds[g - start].cmd[1] = guest[g].cmd[1];
		}
		rc = ioctl(iommufd, IOMMU_HWPT_INVALIDATE, &inv) ? errno : 0;
		for (i = 0; i < NUM_PSMMUS; i++)
			read_log(i, &plogs[i]);
		printf("   IOMMU_HWPT_INVALIDATE(vIOMMU %u, commands #%u..#%u): ",
		       viommu.out_viommu_id, start, NUM_GUEST - 1);
		printf("%s, entry_num %u\n", rc ? strerror(rc) : "ok",
		       inv.entry_num);
		for (g = start; g < start + inv.entry_num; g++) {
			printf("   #%-2u %-44s", g, guest[g].what);
			print_match(g);
		}
		start += inv.entry_num;
		if (!rc)
			break;
		printf("   #%-2u %-44s   rejected: %s (%s), the guest sees CERROR_ILL\n",
		       start, guest[start].what, rc == EIO ? "EIO" : "error",
		       strerror(rc));
		start++;	/* the VMM skips it, as the guest's SMMU would */
	}

	step("7. tear down in dependency order");
	for (i = 0; i < NUM_DEVS; i++) {
		struct mock_smmu_dev_cmd cmd = { .dev = mdev[i] };
		struct iommu_destroy d = { .size = sizeof(d) };

		do_ioctl(mockfd, MOCK_SMMU_DEV_DETACH, &cmd, "detach");
		d.id = nested[i];
		do_ioctl(iommufd, IOMMU_DESTROY, &d, "destroy nested");
		d.id = vdev[i];
		do_ioctl(iommufd, IOMMU_DESTROY, &d, "destroy vDEVICE");
	}
	{
		struct iommu_destroy d = { .size = sizeof(d),
					   .id = viommu.out_viommu_id };

		do_ioctl(iommufd, IOMMU_DESTROY, &d, "destroy vIOMMU");
		d.id = s2.out_hwpt_id;
		do_ioctl(iommufd, IOMMU_DESTROY, &d, "destroy S2");
	}
	close(mockfd);
	close(iommufd);
	printf("   done\n");
	return 0;
}
