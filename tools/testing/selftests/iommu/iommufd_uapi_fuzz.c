// SPDX-License-Identifier: GPL-2.0-only
/*
 * A seeded random driver of the whole vIOMMU uAPI, bounded in time: random
 * sequences of IOAS alloc/map/unmap, nesting parent and nested HWPT alloc,
 * vIOMMU alloc (with and without IOMMU_VIOMMU_ALLOC_FLAG_SPAN), vDEVICE
 * alloc, vEVENTQ alloc with event records raised and read, HWPT_INVALIDATE,
 * mock device create/bind/attach/replace/detach/
 * unbind/destroy, IOMMU_DESTROY, GET_HW_INFO and close and reopen of
 * /dev/iommu and of the mock, with object IDs that are live, stale, of
 * the wrong type, of the other open iommufd or made up, random structure
 * sizes and random reserved fields.
 *
 * It asserts little on purpose: every call returns 0 or an errno of the
 * set documented for it (Documentation/userspace-api/iommufd-viommu.rst,
 * the headers), nothing hangs (the harness's timeout), and once every file
 * is closed the mock holds no device, vIOMMU, vDEVICE, VMID or stage-1
 * attachment any more. The VM runner judges the kernel's reports (and the
 * debug kernel's KASAN, lockdep, kmemleak) and the module unload after it.
 *
 * "-s N" (or IOMMUFD_FUZZ_SEED=N) replays seed N, "-T S" runs for S
 * seconds (default 20; DEBUG_SECS on a kernel with fail-nth, the debug
 * kernel, about 20 times slower here). It prints its seed and the count of
 * each operation with how many succeeded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "iommufd_viommu_utils.h"

#define NFD		2	/* iommufds open at a time, at most */
#define NDEV		12	/* mock devices at a time, at most */
#define NIDS		64	/* object IDs remembered */
#define NVFD		4	/* vEVENTQ files open at a time, at most */
#define BUF_SIZE	0x100000
#define DEFAULT_SECS	20
/* The debug kernel is about 20 times slower at this */
#define DEBUG_SECS	60

static uint32_t fuzz_seed;
static double fuzz_secs = DEFAULT_SECS;
static bool fuzz_secs_given;

enum {
	OP_IOAS_ALLOC, OP_IOAS_MAP, OP_IOAS_UNMAP, OP_HWPT_PARENT,
	OP_HWPT_NESTED, OP_VIOMMU, OP_VDEVICE, OP_INVALIDATE, OP_DESTROY,
	OP_HW_INFO, OP_DEV_CREATE, OP_DEV_BIND, OP_DEV_ATTACH, OP_DEV_DETACH,
	OP_DEV_UNBIND, OP_DEV_DESTROY, OP_CLOSE_FD, OP_CLOSE_MOCK,
	OP_UNKNOWN_NR, OP_VEVENTQ, OP_VEVENT_READ, OP_RAISE_EVENT, OP_NUM,
};

static const char * const op_name[OP_NUM] = {
	"IOAS_ALLOC", "IOAS_MAP", "IOAS_UNMAP", "HWPT_ALLOC parent",
	"HWPT_ALLOC nested", "VIOMMU_ALLOC", "VDEVICE_ALLOC",
	"HWPT_INVALIDATE", "DESTROY", "GET_HW_INFO", "DEV_CREATE",
	"DEV_BIND", "DEV_ATTACH", "DEV_DETACH", "DEV_UNBIND", "DEV_DESTROY",
	"close iommufd", "close mock", "unknown ioctl", "VEVENTQ_ALLOC",
	"vEVENTQ read", "RAISE_EVENT",
};

/* The errnos any iommufd ioctl may return (general rules, ENOMEM) */
static const int e_common[] = {
	EFAULT, EINVAL, E2BIG, ENOMEM, EOPNOTSUPP, ENOENT, 0,
};

/*
 * The errnos of each operation, from its documentation: those of
 * e_common[] for the iommufd ioctls (.common), and the list (0 ends it)
 */
static const struct {
	bool common;
	int e[8];
} op_errnos[OP_NUM] = {
	[OP_IOAS_ALLOC] = { true },
	/*
	 * 6.12's IOAS: overflowing ranges, no room, a taken IOVA, in use,
	 * and EPERM for a writeable mapping of read-only memory
	 */
	[OP_IOAS_MAP] = { true, { EOVERFLOW, ENOSPC, EEXIST, EBUSY, EPERM } },
	[OP_IOAS_UNMAP] = { true, { EOVERFLOW, EBUSY } },
	/*
	 * Either kind, since the other's pt_id may come: EADDRINUSE when
	 * the IOAS maps IOVAs the new domain cannot, EIO for a guest STE
	 * with a field it may not set
	 */
	[OP_HWPT_PARENT] = { true, { EBUSY, ENOSPC, EADDRINUSE, EIO } },
	[OP_HWPT_NESTED] = { true, { EBUSY, ENOSPC, EADDRINUSE, EIO } },
	/* ENOSPC: no VMID left on a pSMMU */
	[OP_VIOMMU] = { true, { ENOSPC } },
	[OP_VDEVICE] = { true, { EEXIST } },
	/* EIO: a rejected command */
	[OP_INVALIDATE] = { true, { EIO } },
	[OP_DESTROY] = { true, { EBUSY } },
	[OP_HW_INFO] = { true },
	/* The mock's test interface (mock_smmu.h) */
	[OP_DEV_CREATE] = { false, { EINVAL, EEXIST, ENOMEM } },
	[OP_DEV_BIND] = { false, { EINVAL, ENOENT, EBADF, EBADFD, ENOMEM } },
	/* An attach is an IOMMU_HWPT_ALLOC of an IOAS, or a replace */
	[OP_DEV_ATTACH] = { true, { EBUSY, ENOSPC, EADDRINUSE } },
	[OP_DEV_DETACH] = { false, { EINVAL, ENOENT } },
	[OP_DEV_UNBIND] = { false, { EINVAL, ENOENT } },
	[OP_DEV_DESTROY] = { false, { EINVAL, ENOENT } },
	[OP_UNKNOWN_NR] = { false, { ENOTTY } },
	/* One vEVENTQ per type per vIOMMU */
	[OP_VEVENTQ] = { true, { EEXIST } },
	/* A buffer too small for the first record */
	[OP_VEVENT_READ] = { false, { EINVAL } },
	[OP_RAISE_EVENT] = { false, { EINVAL } },
};

static bool errno_ok(int op, int err)
{
	const int *e;

	for (e = op_errnos[op].e; *e; e++)
		if (*e == err)
			return true;
	for (e = e_common; op_errnos[op].common && *e; e++)
		if (*e == err)
			return true;
	return false;
}

struct udev {
	bool live;
	uint32_t handle;
	/* The iommufd it is bound to, -1 if none, -2 if that one closed */
	int fdi;
	uint32_t dev_id;
};

/* Kinds of objects, for the IDs the test remembers */
enum {
	K_IOAS, K_PARENT, K_HWPT, K_VIOMMU, K_NESTED, K_VDEV, K_DEV, K_VEVENTQ,
	K_NUM
};

struct uid {
	uint32_t id;
	int fdi;		/* index in ufz::fd; -1 once that fd closed */
	int kind;
};

struct ufz {
	int fd[NFD];
	int mfd;
	int nr;
	struct udev dev[NDEV];
	struct uid ids[NIDS];	/* IDs seen, newest last, a ring */
	unsigned int nids;
	int fdi;		/* the iommufd of the current operation */
	int vfd[NVFD];		/* vEVENTQ files, -1 if none */
	uint8_t *buf;
	unsigned long long ops[OP_NUM], ok[OP_NUM];
};

static uint64_t rnd64(void)
{
	uint64_t hi = rnd();

	return hi << 32 | rnd();
}

static bool one_in(unsigned int n)
{
	return rnd() % n == 0;
}

static void id_add(struct ufz *u, int kind, uint32_t id)
{
	struct uid *e = &u->ids[u->nids++ % NIDS];

	e->id = id;
	e->fdi = u->fdi;
	e->kind = kind;
}

/*
 * An object ID: mostly one of @kind on the current iommufd, else one seen
 * (live or stale, any kind, any fd), else made up
 */
static uint32_t rnd_id(struct ufz *u, int kind)
{
	unsigned int n = u->nids, i, k, r;

	if (n > NIDS)
		n = NIDS;
	r = rnd() % 20;
	if (r < 14 && n) {
		for (i = 0, k = rnd() % n; i < n; i++, k = (k + 1) % n)
			if (u->ids[k].kind == kind && u->ids[k].fdi == u->fdi)
				return u->ids[k].id;
	}
	if (r < 17 && n)
		return u->ids[rnd() % n].id;
	if (r < 19)
		return rnd() % 64;
	return one_in(2) ? 0 : rnd();
}

/* A dev_id: mostly of a device bound to the current iommufd */
static uint32_t rnd_dev_id(struct ufz *u)
{
	unsigned int i, k = rnd() % NDEV;

	if (!one_in(8)) {
		for (i = 0; i < NDEV; i++, k = (k + 1) % NDEV)
			if (u->dev[k].live && u->dev[k].fdi == u->fdi)
				return u->dev[k].dev_id;
	}
	return one_in(2) ? u->dev[k].dev_id : rnd_id(u, K_IOAS);
}

/* Pick the iommufd of the next operation; return it */
static int rnd_fd(struct ufz *u)
{
	int i = rnd() % NFD;

	if (u->fd[i] < 0)
		i = !i;
	u->fdi = i;
	return u->fd[i];
}

/*
 * Fill the argument @arg of @len bytes for an ioctl whose structure the
 * kernel knows as @klen bytes: mostly size = klen, sometimes a random
 * size, with zeroes or random bytes past klen.
 */
static void fuzz_size(void *arg, uint32_t klen, uint32_t len)
{
	uint8_t *b = arg;
	uint32_t size = klen, i;

	if (one_in(10)) {
		size = rnd() % (len + 1);
		if (size > klen && one_in(2))
			for (i = klen; i < size; i++)
				b[i] = rnd();
	}
	memcpy(b, &size, sizeof(size));
}

static void count(struct __test_metadata *_metadata, struct ufz *u, int op,
		  int rc)
{
	u->ops[op]++;
	if (!rc && op != OP_UNKNOWN_NR) {
		u->ok[op]++;
		return;
	}
	ASSERT_TRUE(rc < 0 && errno_ok(op, -rc))
		TH_LOG("%s: unexpected errno %d (%s), seed %u", op_name[op],
		       -rc, strerror(-rc), fuzz_seed);
}

static int do_ioctl(int fd, unsigned long nr, void *arg)
{
	return fd < 0 ? -EBADF : ioctl_errno(fd, nr, arg);
}

static void op_ioas_alloc(struct __test_metadata *_metadata, struct ufz *u)
{
	union {
		struct iommu_ioas_alloc s;
		uint8_t b[64];
	} a = {};
	int fd = rnd_fd(u), rc;

	if (one_in(10))
		a.s.flags = rnd();
	fuzz_size(&a, sizeof(a.s), sizeof(a));
	rc = do_ioctl(fd, IOMMU_IOAS_ALLOC, &a);
	if (!rc)
		id_add(u, K_IOAS, a.s.out_ioas_id);
	count(_metadata, u, OP_IOAS_ALLOC, rc);
}

static void op_ioas_map(struct __test_metadata *_metadata, struct ufz *u,
			bool unmap)
{
	union {
		struct iommu_ioas_map m;
		struct iommu_ioas_unmap u;
		uint8_t b[96];
	} a = {};
	uint64_t off = (rnd() % 256) * 4096, len = (1 + rnd() % 16) * 4096;
	int fd = rnd_fd(u), rc;

	if (one_in(8))
		len = rnd64() >> (rnd() % 64);
	if (unmap) {
		a.u.ioas_id = rnd_id(u, K_IOAS);
		a.u.iova = one_in(4) ? rnd64() : off;
		a.u.length = one_in(8) ? 0 : len;
		fuzz_size(&a, sizeof(a.u), sizeof(a));
		rc = do_ioctl(fd, IOMMU_IOAS_UNMAP, &a);
		count(_metadata, u, OP_IOAS_UNMAP, rc);
		return;
	}
	a.m.flags = one_in(8) ? rnd() : IOMMU_IOAS_MAP_READABLE |
		    IOMMU_IOAS_MAP_WRITEABLE |
		    (one_in(2) ? IOMMU_IOAS_MAP_FIXED_IOVA : 0);
	a.m.ioas_id = rnd_id(u, K_IOAS);
	if (off + len > BUF_SIZE)
		len = BUF_SIZE - off;
	a.m.user_va = one_in(16) ? rnd64() : (uintptr_t)u->buf + off;
	a.m.length = len;
	a.m.iova = one_in(4) ? rnd64() : off;
	if (one_in(10))
		a.m.__reserved = rnd();
	fuzz_size(&a, sizeof(a.m), sizeof(a));
	rc = do_ioctl(fd, IOMMU_IOAS_MAP, &a);
	count(_metadata, u, OP_IOAS_MAP, rc);
}

/* A guest STE: a valid one of each Config, or random bits */
static void rnd_ste(uint64_t ste[2])
{
	static const unsigned int cfg[] = {
		SMMU_STE_CFG_ABORT, SMMU_STE_CFG_BYPASS, SMMU_STE_CFG_S1_TRANS,
	};

	ste[0] = SMMU_STE0_V |
		 SMMU_FIELD(SMMU_STE0_CFG, cfg[rnd() % ARRAY_SIZE(cfg)]) |
		 (rnd64() & SMMU_STE0_S1CTXPTR);
	ste[1] = 0;
	if (one_in(4)) {
		ste[0] = rnd64();
		ste[1] = rnd64() & (one_in(2) ? SMMU_STE1_NESTING_ALLOWED : ~0ULL);
	}
}

static void op_hwpt(struct __test_metadata *_metadata, struct ufz *u,
		    bool nested)
{
	union {
		struct iommu_hwpt_alloc s;
		uint8_t b[96];
	} a = {};
	uint64_t ste[4] = {};
	int fd = rnd_fd(u), rc;

	a.s.dev_id = rnd_dev_id(u);
	a.s.pt_id = rnd_id(u, nested ? K_VIOMMU : K_IOAS);
	if (nested) {
		rnd_ste(ste);
		a.s.data_type = one_in(10) ? rnd() % 4 :
				IOMMU_HWPT_DATA_ARM_SMMUV3;
		a.s.data_len = one_in(10) ? rnd() % 33 : 16;
		a.s.data_uptr = one_in(20) ? rnd64() : (uintptr_t)ste;
		a.s.flags = one_in(10) ? rnd() : 0;
	} else {
		a.s.flags = one_in(10) ? rnd() : IOMMU_HWPT_ALLOC_NEST_PARENT;
		if (one_in(10)) {
			a.s.data_type = rnd() % 4;
			a.s.data_len = rnd() % 32;
			a.s.data_uptr = (uintptr_t)ste;
		}
	}
	if (one_in(10))
		a.s.__reserved = rnd();
	if (one_in(10))
		a.s.fault_id = rnd_id(u, K_HWPT);
	fuzz_size(&a, sizeof(a.s), sizeof(a));
	rc = do_ioctl(fd, IOMMU_HWPT_ALLOC, &a);
	if (!rc)
		id_add(u, nested ? K_NESTED :
		       a.s.flags == IOMMU_HWPT_ALLOC_NEST_PARENT ? K_PARENT :
		       K_HWPT, a.s.out_hwpt_id);
	count(_metadata, u, nested ? OP_HWPT_NESTED : OP_HWPT_PARENT, rc);
}

static void op_viommu(struct __test_metadata *_metadata, struct ufz *u)
{
	union {
		struct iommu_viommu_alloc s;
		uint8_t b[64];
	} a = {};
	int fd = rnd_fd(u), rc;

	a.s.flags = one_in(2) ? IOMMU_VIOMMU_ALLOC_FLAG_SPAN :
		    one_in(8) ? rnd() : 0;
	a.s.type = one_in(10) ? rnd() % 3 : IOMMU_VIOMMU_TYPE_ARM_SMMUV3;
	a.s.dev_id = rnd_dev_id(u);
	a.s.hwpt_id = rnd_id(u, K_PARENT);
	/* 6.17's 40-byte layout, zero or not past the 24 bytes */
	fuzz_size(&a, one_in(5) ? 40 : sizeof(a.s), sizeof(a));
	rc = do_ioctl(fd, IOMMU_VIOMMU_ALLOC, &a);
	if (!rc)
		id_add(u, K_VIOMMU, a.s.out_viommu_id);
	count(_metadata, u, OP_VIOMMU, rc);
}

static void op_vdevice(struct __test_metadata *_metadata, struct ufz *u)
{
	union {
		struct iommu_vdevice_alloc s;
		uint8_t b[64];
	} a = {};
	int fd = rnd_fd(u), rc;

	a.s.viommu_id = rnd_id(u, K_VIOMMU);
	a.s.dev_id = rnd_dev_id(u);
	a.s.virt_id = one_in(8) ? rnd64() : rnd() % 16;
	fuzz_size(&a, sizeof(a.s), sizeof(a));
	rc = do_ioctl(fd, one_in(4) ? IOMMU_VIOMMU_SET_DEV_ID :
		      IOMMU_VDEVICE_ALLOC, &a);
	if (!rc)
		id_add(u, K_VDEV, a.s.out_vdevice_id);
	count(_metadata, u, OP_VDEVICE, rc);
}

static void op_invalidate(struct __test_metadata *_metadata, struct ufz *u)
{
	static const uint8_t ops[] = {
		SMMU_OP_TLBI_NH_ALL, SMMU_OP_TLBI_NH_ASID, SMMU_OP_TLBI_NSNH_ALL,
		SMMU_OP_CFGI_CD, SMMU_OP_CFGI_CD_ALL, SMMU_OP_ATC_INV,
	};
	union {
		struct iommu_hwpt_invalidate s;
		uint8_t b[64];
	} a = {};
	uint64_t cmds[64][2];
	unsigned int n = rnd() % 65, i;
	int fd = rnd_fd(u), rc;

	for (i = 0; i < n; i++) {
		/* Mostly valid opcodes with a small vSID, some random */
		cmds[i][0] = ops[rnd() % ARRAY_SIZE(ops)] |
			     SMMU_CMD_SID(rnd() % 16);
		cmds[i][1] = 0;
		if (one_in(8)) {
			cmds[i][0] = rnd64();
			cmds[i][1] = rnd64();
		}
	}
	a.s.hwpt_id = rnd_id(u, one_in(8) ? K_NESTED : K_VIOMMU);
	a.s.data_uptr = one_in(20) ? rnd64() : (uintptr_t)cmds;
	a.s.data_type = one_in(8) ? rnd() % 3 :
			IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3;
	a.s.entry_len = one_in(8) ? rnd() % 8192 : 16;
	a.s.entry_num = one_in(16) ? rnd() : n;
	if (a.s.entry_num > n && a.s.data_uptr == (uintptr_t)cmds &&
	    a.s.entry_len == 16)
		a.s.entry_num = n;	/* no reading past the array */
	if (one_in(10))
		a.s.__reserved = rnd();
	fuzz_size(&a, sizeof(a.s), sizeof(a));
	rc = do_ioctl(fd, IOMMU_HWPT_INVALIDATE, &a);
	count(_metadata, u, OP_INVALIDATE, rc);
}

static void op_destroy(struct __test_metadata *_metadata, struct ufz *u)
{
	union {
		struct iommu_destroy s;
		uint8_t b[32];
	} a = {};
	int rc;

	int fd = rnd_fd(u);

	a.s.id = rnd_id(u, rnd() % K_NUM);
	fuzz_size(&a, sizeof(a.s), sizeof(a));
	rc = do_ioctl(fd, IOMMU_DESTROY, &a);
	count(_metadata, u, OP_DESTROY, rc);
}

static void op_hw_info(struct __test_metadata *_metadata, struct ufz *u)
{
	union {
		struct iommu_hw_info s;
		uint8_t b[64];
	} a = {};
	uint8_t data[64];
	int fd = rnd_fd(u), rc;

	a.s.dev_id = rnd_dev_id(u);
	a.s.data_len = rnd() % sizeof(data);
	a.s.data_uptr = one_in(20) ? rnd64() : (uintptr_t)data;
	if (one_in(10))
		a.s.flags = rnd();
	if (one_in(10))
		a.s.__reserved[rnd() % 3] = rnd();
	fuzz_size(&a, sizeof(a.s), sizeof(a));
	rc = do_ioctl(fd, IOMMU_GET_HW_INFO, &a);
	count(_metadata, u, OP_HW_INFO, rc);
}

/* An ioctl number iommufd does not implement: ENOTTY whatever the data */
static void op_unknown(struct __test_metadata *_metadata, struct ufz *u)
{
	static const uint8_t nrs[] = { 0x8f, 0x92, 0x94, 0x95, 0x9f };
	uint8_t b[64];
	unsigned int i;
	int rc;

	for (i = 0; i < sizeof(b); i++)
		b[i] = rnd();
	rc = do_ioctl(rnd_fd(u),
		      _IO(IOMMUFD_TYPE, nrs[rnd() % ARRAY_SIZE(nrs)]), b);
	count(_metadata, u, OP_UNKNOWN_NR, rc);
}

static void op_veventq(struct __test_metadata *_metadata, struct ufz *u)
{
	union {
		struct iommu_veventq_alloc s;
		uint8_t b[64];
	} a = {};
	int fd = rnd_fd(u), rc, i = rnd() % NVFD;

	a.s.viommu_id = rnd_id(u, K_VIOMMU);
	a.s.type = one_in(10) ? rnd() % 3 : IOMMU_VEVENTQ_TYPE_ARM_SMMUV3;
	a.s.veventq_depth = one_in(10) ? rnd() : 1 + rnd() % 8;
	if (one_in(10))
		a.s.flags = rnd();
	if (one_in(10))
		a.s.__reserved = rnd();
	/* The minimum size ends at out_veventq_fd */
	fuzz_size(&a, one_in(5) ? 28 : sizeof(a.s), sizeof(a));
	rc = do_ioctl(fd, IOMMU_VEVENTQ_ALLOC, &a);
	if (!rc) {
		id_add(u, K_VEVENTQ, a.s.out_veventq_id);
		/* Keep the file, or close it at once (the object stays) */
		if (u->vfd[i] >= 0)
			ASSERT_EQ(0, close(u->vfd[i]));
		u->vfd[i] = -1;
		if (one_in(2))
			u->vfd[i] = a.s.out_veventq_fd;
		else
			ASSERT_EQ(0, close(a.s.out_veventq_fd));
	}
	count(_metadata, u, OP_VEVENTQ, rc);
}

/* Raise an event record on a pSMMU, or read a vEVENTQ, or close one */
static void op_vevent(struct __test_metadata *_metadata, struct ufz *u)
{
	static const uint8_t types[] = { 0x02, 0x04, 0x06, 0x10, 0x13, 0x25 };
	struct mock_smmu_event e = {};
	int i = rnd() % NVFD;
	ssize_t n;

	if (one_in(2)) {
		e.psmmu = rnd() % (u->nr + 1);
		e.evt[0] = SMMU_FIELD(SMMU_GENMASK(7, 0),
				      one_in(8) ? rnd() :
				      types[rnd() % ARRAY_SIZE(types)]) |
			   SMMU_FIELD(SMMU_GENMASK(63, 32), rnd() % 8);
		e.evt[1] = one_in(4) ? rnd64() : 0;
		e.evt[2] = rnd64();
		if (one_in(20))
			e.__reserved = rnd();
		count(_metadata, u, OP_RAISE_EVENT,
		      ioctl_errno(u->mfd, MOCK_SMMU_RAISE_EVENT, &e));
		return;
	}
	if (u->vfd[i] < 0)
		return;
	if (one_in(8)) {
		ASSERT_EQ(0, close(u->vfd[i]));
		u->vfd[i] = -1;
		return;
	}
	n = read(u->vfd[i], u->buf, rnd() % 200);
	count(_metadata, u, OP_VEVENT_READ, n < 0 ? -errno : 0);
}

static void op_dev(struct __test_metadata *_metadata, struct ufz *u)
{
	struct udev *d = &u->dev[rnd() % NDEV];
	struct mock_smmu_dev_create c = {};
	struct mock_smmu_dev_cmd m = {};
	int op, rc, fdi;

	if (!d->live) {
		c.psmmu = rnd() % (u->nr + 1);
		c.sid = rnd() % 8;
		if (one_in(20))
			c.__reserved = rnd();
		rc = ioctl_errno(u->mfd, MOCK_SMMU_DEV_CREATE, &c);
		if (!rc) {
			d->live = true;
			d->handle = c.out_dev;
			d->fdi = -1;
		}
		count(_metadata, u, OP_DEV_CREATE, rc);
		return;
	}
	m.dev = one_in(16) ? rnd() % 64 : d->handle;
	/* IDs of the iommufd it is bound to, mostly */
	u->fdi = d->fdi >= 0 ? d->fdi : rnd() % NFD;
	switch (rnd() % 12) {
	case 0 ... 2:
		op = OP_DEV_BIND;
		fdi = rnd() % NFD;
		m.iommufd = one_in(16) ? (int)(rnd() % 8) : u->fd[fdi];
		rc = ioctl_errno(u->mfd, MOCK_SMMU_DEV_BIND, &m);
		if (!rc && m.dev == d->handle && m.iommufd == u->fd[fdi] &&
		    d->fdi == -1) {
			d->fdi = fdi;
			d->dev_id = m.out_id;
			u->fdi = fdi;
			id_add(u, K_DEV, m.out_id);
		}
		break;
	case 3 ... 7:
		op = OP_DEV_ATTACH;
		m.pt_id = rnd_id(u, rnd() % 2 ? K_NESTED :
				 rnd() % K_NUM);
		rc = ioctl_errno(u->mfd, MOCK_SMMU_DEV_ATTACH, &m);
		if (!rc)
			id_add(u, K_HWPT, m.out_id);	/* maybe automatic */
		break;
	case 8 ... 9:
		op = OP_DEV_DETACH;
		rc = ioctl_errno(u->mfd, MOCK_SMMU_DEV_DETACH, &m);
		break;
	case 10:
		op = OP_DEV_UNBIND;
		rc = ioctl_errno(u->mfd, MOCK_SMMU_DEV_UNBIND, &m);
		if (!rc && m.dev == d->handle)
			d->fdi = -1;
		break;
	default:
		op = OP_DEV_DESTROY;
		rc = ioctl_errno(u->mfd, MOCK_SMMU_DEV_DESTROY, &m);
		if (!rc && m.dev == d->handle)
			d->live = false;
		break;
	}
	/* A made-up handle may name another of our devices */
	if (!rc && m.dev != d->handle) {
		struct udev *o;

		for (o = u->dev; o < u->dev + NDEV; o++) {
			if (!o->live || o->handle != m.dev)
				continue;
			if (op == OP_DEV_UNBIND)
				o->fdi = -1;
			if (op == OP_DEV_DESTROY)
				o->live = false;
		}
	}
	count(_metadata, u, op, rc);
}

static void op_close(struct __test_metadata *_metadata, struct ufz *u,
		     bool mock)
{
	int i = rnd() % NFD, k;

	if (mock) {
		/* Every device of the file goes, bound or not */
		ASSERT_EQ(0, close(u->mfd));
		memset(u->dev, 0, sizeof(u->dev));
		u->mfd = mock_open();
		ASSERT_LE(0, u->mfd);
		count(_metadata, u, OP_CLOSE_MOCK, 0);
		return;
	}
	/* Devices bound to it keep its context until they are unbound */
	if (u->fd[i] >= 0)
		ASSERT_EQ(0, close(u->fd[i]));
	for (k = 0; k < NDEV; k++)
		if (u->dev[k].live && u->dev[k].fdi == i)
			u->dev[k].fdi = -2;
	for (k = 0; k < NIDS; k++)
		if (u->ids[k].fdi == i)
			u->ids[k].fdi = -1;
	u->fd[i] = -1;
	/* One stays closed now and then, never both */
	if (u->fd[!i] < 0 || !one_in(4)) {
		u->fd[i] = iommufd_open();
		ASSERT_LE(0, u->fd[i]);
	}
	count(_metadata, u, OP_CLOSE_FD, 0);
}

static void step(struct __test_metadata *_metadata, struct ufz *u)
{
	unsigned int r = rnd() % 100;

	if (r < 6)
		op_ioas_alloc(_metadata, u);
	else if (r < 12)
		op_ioas_map(_metadata, u, false);
	else if (r < 16)
		op_ioas_map(_metadata, u, true);
	else if (r < 23)
		op_hwpt(_metadata, u, false);
	else if (r < 32)
		op_hwpt(_metadata, u, true);
	else if (r < 39)
		op_viommu(_metadata, u);
	else if (r < 46)
		op_vdevice(_metadata, u);
	else if (r < 55)
		op_invalidate(_metadata, u);
	else if (r < 63)
		op_destroy(_metadata, u);
	else if (r < 65)
		op_hw_info(_metadata, u);
	else if (r < 66)
		op_unknown(_metadata, u);
	else if (r < 68)
		op_veventq(_metadata, u);
	else if (r < 71)
		op_vevent(_metadata, u);
	else if (r < 98)
		op_dev(_metadata, u);
	else if (rnd() % 4)
		op_close(_metadata, u, false);
	else
		op_close(_metadata, u, true);
}

/* FIXTURE_DATA(uapi) is struct _test_data_uapi */
FIXTURE(uapi)
{
	int unused;
};

FIXTURE_SETUP(uapi)
{
}

FIXTURE_TEARDOWN(uapi)
{
}

TEST_F_TIMEOUT(uapi, sequences, 300)
{
	struct mock_smmu_counters cnt;
	double t0 = now_s(), secs;
	unsigned long long total = 0;
	/* CERROR_ILL before, which other tests raise on purpose */
	uint64_t cerror0[64];
	struct ufz *u;
	int i, p;

	u = calloc(1, sizeof(*u));
	ASSERT_NE(NULL, u);
	u->buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, u->buf);
	memset(u->buf, 0x5a, BUF_SIZE);
	rnd_state = fuzz_seed;
	for (i = 0; i < NFD; i++) {
		u->fd[i] = iommufd_open();
		ASSERT_LE(0, u->fd[i]);
	}
	for (i = 0; i < NVFD; i++)
		u->vfd[i] = -1;
	u->mfd = mock_open();
	ASSERT_LE(0, u->mfd);
	u->nr = mock_num_psmmus(u->mfd);
	ASSERT_LE(1, u->nr);
	ASSERT_GE(64, u->nr);
	for (p = 0; p < u->nr; p++) {
		ASSERT_EQ(0, mock_get_counters(u->mfd, p, &cnt));
		cerror0[p] = cnt.cerror_ill;
	}

	do {
		for (i = 0; i < 64; i++)
			step(_metadata, u);
		secs = now_s() - t0;
	} while (secs < fuzz_secs);

	for (i = 0; i < OP_NUM; i++) {
		total += u->ops[i];
		ksft_print_msg("%-18s %8llu calls, %8llu succeeded\n",
			       op_name[i], u->ops[i], u->ok[i]);
	}
	ksft_print_msg("%llu operations in %.1f s, seed %u\n", total,
		       secs, fuzz_seed);

	/* Everything closed: nothing may be left behind */
	for (i = 0; i < NVFD; i++)
		if (u->vfd[i] >= 0)
			ASSERT_EQ(0, close(u->vfd[i]));
	for (i = 0; i < NFD; i++)
		if (u->fd[i] >= 0)
			ASSERT_EQ(0, close(u->fd[i]));
	ASSERT_EQ(0, close(u->mfd));
	u->mfd = mock_open();
	ASSERT_LE(0, u->mfd);
	for (p = 0; p < u->nr; p++) {
		ASSERT_EQ(0, mock_get_counters(u->mfd, p, &cnt));
		ASSERT_EQ(0, cnt.devices) TH_LOG("pSMMU %d", p);
		ASSERT_EQ(0, cnt.vmids) TH_LOG("pSMMU %d", p);
		ASSERT_EQ(0, cnt.viommus) TH_LOG("pSMMU %d", p);
		ASSERT_EQ(0, cnt.vdevices) TH_LOG("pSMMU %d", p);
		ASSERT_EQ(0, cnt.nested_attached) TH_LOG("pSMMU %d", p);
		ASSERT_EQ(cerror0[p], cnt.cerror_ill) TH_LOG("pSMMU %d", p);
	}
	close(u->mfd);
	munmap(u->buf, BUF_SIZE);
	free(u);
}

/* -s SEED, -T SECONDS; the rest is kselftest's */
int main(int argc, char **argv)
{
	const char *env = getenv("IOMMUFD_FUZZ_SEED");
	int i, o = 1;

	fuzz_seed = env ? strtoul(env, NULL, 0) : 0;
	for (i = 1; i < argc; i++) {
		if (i + 1 < argc && !strcmp(argv[i], "-s")) {
			fuzz_seed = strtoul(argv[++i], NULL, 0);
		} else if (i + 1 < argc && !strcmp(argv[i], "-T")) {
			fuzz_secs = strtod(argv[++i], NULL);
			fuzz_secs_given = true;
		} else {
			argv[o++] = argv[i];
		}
	}
	argc = o;
	/* fail-nth: a debug kernel */
	if (!fuzz_secs_given && !access("/proc/thread-self/fail-nth", F_OK)) {
		fuzz_secs = DEBUG_SECS;
		ksft_print_msg("debug kernel: %.0f s\n", fuzz_secs);
	}
	if (!fuzz_seed)
		fuzz_seed = (uint32_t)(time(NULL) ^ (getpid() << 16)) ?: 1;
	ksft_print_msg("seed: %u\n", fuzz_seed);
	return test_harness_run(argc, argv);
}
