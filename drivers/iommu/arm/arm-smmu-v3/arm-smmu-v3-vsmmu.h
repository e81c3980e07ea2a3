/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The SMMUv3 vSMMU library: what an ARM SMMUv3 driver needs to offer
 * iommufd vIOMMUs that may span several physical SMMUs (pSMMUs). It plays
 * the part of upstream's arm-smmu-v3-iommufd.c and is linked into the
 * driver's module.
 *
 * The library owns the SMMUv3 knowledge of the vIOMMU path: the command
 * formats and the one table of what each opcode may contain, the checks
 * and rewriting of a guest's commands, their routing over the pSMMUs and
 * their batching, and the VMID bookkeeping that keeps every pSMMU's TLB
 * coherent. The driver supplies each pSMMU's command queue (struct
 * arm_vsmmu_smmu_ops), embeds the library's structures in its own and
 * reports every STE that starts or stops referencing a VMID.
 *
 * Command field names are those of 6.12's arm-smmu-v3.h where it has them.
 */
#ifndef __ARM_SMMU_V3_VSMMU_H
#define __ARM_SMMU_V3_VSMMU_H

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/idr.h>
#include <linux/iommufd_viommu.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/stddef.h>
#include <linux/types.h>
#include <linux/xarray.h>

/* Command queue entries: two 64-bit words */
#define CMDQ_ENT_DWORDS			2

#define CMDQ_0_OP			GENMASK_ULL(7, 0)
#define CMDQ_0_SSV			BIT_ULL(11)

#define CMDQ_CFGI_0_SSID		GENMASK_ULL(31, 12)
#define CMDQ_CFGI_0_SID			GENMASK_ULL(63, 32)
#define CMDQ_CFGI_1_LEAF		BIT_ULL(0)
#define CMDQ_CFGI_1_RANGE		GENMASK_ULL(4, 0)

#define CMDQ_TLBI_0_NUM			GENMASK_ULL(16, 12)
#define CMDQ_TLBI_0_SCALE		GENMASK_ULL(24, 20)
#define CMDQ_TLBI_0_VMID		GENMASK_ULL(47, 32)
#define CMDQ_TLBI_0_ASID		GENMASK_ULL(63, 48)
#define CMDQ_TLBI_1_LEAF		BIT_ULL(0)
#define CMDQ_TLBI_1_TTL			GENMASK_ULL(9, 8)
#define CMDQ_TLBI_1_TG			GENMASK_ULL(11, 10)
#define CMDQ_TLBI_1_VA_MASK		GENMASK_ULL(63, 12)

#define CMDQ_ATC_0_SSID			GENMASK_ULL(31, 12)
#define CMDQ_ATC_0_SID			GENMASK_ULL(63, 32)
#define CMDQ_ATC_0_GLOBAL		BIT_ULL(9)
#define CMDQ_ATC_1_SIZE			GENMASK_ULL(5, 0)
#define CMDQ_ATC_1_ADDR_MASK		GENMASK_ULL(63, 12)
/* ATC_INV SIZE that covers every address */
#define CMDQ_ATC_1_SIZE_ALL		52

#define CMDQ_SYNC_0_CS			GENMASK_ULL(13, 12)
#define CMDQ_SYNC_0_CS_NONE		0
#define CMDQ_SYNC_0_CS_IRQ		1
#define CMDQ_SYNC_0_CS_SEV		2
#define CMDQ_SYNC_0_MSH			GENMASK_ULL(23, 22)
#define CMDQ_SYNC_0_MSIATTR		GENMASK_ULL(27, 24)
#define CMDQ_SYNC_0_MSIDATA		GENMASK_ULL(63, 32)
#define CMDQ_SYNC_1_MSIADDR_MASK	GENMASK_ULL(51, 2)

/* TG of range invalidation */
#define CMDQ_TLBI_TG_NONE		0
#define CMDQ_TLBI_TG_4K			1
#define CMDQ_TLBI_TG_16K		2
#define CMDQ_TLBI_TG_64K		3

#define CMDQ_OP_PREFETCH_CFG		0x1
#define CMDQ_OP_PREFETCH_ADDR		0x2
#define CMDQ_OP_CFGI_STE		0x3
#define CMDQ_OP_CFGI_ALL		0x4	/* CFGI_STE_RANGE */
#define CMDQ_OP_CFGI_CD			0x5
#define CMDQ_OP_CFGI_CD_ALL		0x6
#define CMDQ_OP_TLBI_NH_ALL		0x10
#define CMDQ_OP_TLBI_NH_ASID		0x11
#define CMDQ_OP_TLBI_NH_VA		0x12
#define CMDQ_OP_TLBI_NH_VAA		0x13
#define CMDQ_OP_TLBI_EL2_ALL		0x20
#define CMDQ_OP_TLBI_S12_VMALL		0x28
#define CMDQ_OP_TLBI_S2_IPA		0x2a
#define CMDQ_OP_TLBI_NSNH_ALL		0x30
#define CMDQ_OP_ATC_INV			0x40
#define CMDQ_OP_PRI_RESP		0x41
#define CMDQ_OP_RESUME			0x44
#define CMDQ_OP_STALL_TERM		0x45
#define CMDQ_OP_CMD_SYNC		0x46
#define CMDQ_OP_MAX			0x100

/* Stream table entries: four of the eight 64-bit words are used here */
#define STRTAB_STE_DWORDS		4
#define STRTAB_STE_0_V			BIT_ULL(0)
#define STRTAB_STE_0_CFG		GENMASK_ULL(3, 1)
#define STRTAB_STE_0_CFG_ABORT		0
#define STRTAB_STE_0_CFG_BYPASS		4
#define STRTAB_STE_0_CFG_S1_TRANS	5
#define STRTAB_STE_0_CFG_S2_TRANS	6
#define STRTAB_STE_0_CFG_NESTED		7
/* What a guest's stage-1 STE brings: S1Fmt, S1ContextPtr, S1CDMax */
#define STRTAB_STE_0_S1_FIELDS		(GENMASK_ULL(51, 4) | GENMASK_ULL(63, 59))
/* S1DSS, S1CIR, S1COR, S1CSH, S1STALLD */
#define STRTAB_STE_1_S1_FIELDS		(GENMASK_ULL(7, 0) | BIT_ULL(27))
#define STRTAB_STE_1_MEV		BIT_ULL(19)
#define STRTAB_STE_1_EATS		GENMASK_ULL(29, 28)
#define STRTAB_STE_1_EATS_TRANS		1
#define STRTAB_STE_2_S2VMID		GENMASK_ULL(15, 0)

/*
 * Event queue entries: four 64-bit words. Word 0 holds the event's type in
 * bits 7:0 and the StreamID in bits 63:32.
 */
#define EVTQ_ENT_DWORDS			4
#define EVTQ_0_ID			GENMASK_ULL(7, 0)
#define EVTQ_0_SID			GENMASK_ULL(63, 32)
#define EVTQ_1_STALL			BIT_ULL(31)
#define EVTQ_1_S2			BIT_ULL(39)

#define EVT_ID_BAD_STE_CONFIG		0x04
#define EVT_ID_STREAM_DISABLED_FAULT	0x06
#define EVT_ID_BAD_SUBSTREAMID_CONFIG	0x08
#define EVT_ID_BAD_CD_CONFIG		0x0a
#define EVT_ID_TRANSLATION_FAULT	0x10
#define EVT_ID_ADDR_SIZE_FAULT		0x11
#define EVT_ID_ACCESS_FAULT		0x12
#define EVT_ID_PERMISSION_FAULT		0x13

/**
 * struct arm_vsmmu_cmd_desc - what one opcode may contain
 * @w0: Every field of word 0 the opcode defines; all other bits are RES0
 * @w1: The same for word 1
 * @w0_ssid: Fields of @w0 that exist only with substreams (IDR1.SSIDSIZE)
 * @w0_range: Fields of @w0 that exist only with range invalidation
 *            (IDR3.RIL)
 * @w1_range: The same for @w1
 * @w0_asid16: Bits of @w0 that exist only with 16-bit ASIDs (IDR0.ASID16)
 * @guest: enum arm_vsmmu_guest: whether and how a guest may send it
 *
 * A pSMMU implements the opcodes whose @w0 is not zero. The hardware
 * rejects with CERROR_ILL any other opcode and any RES0 bit set; the
 * dispatcher also rejects what the pSMMUs spanned lack.
 */
struct arm_vsmmu_cmd_desc {
	u64 w0;
	u64 w1;
	u64 w0_ssid;
	u64 w0_range;
	u64 w1_range;
	u64 w0_asid16;
	u8 guest;
};

/**
 * enum arm_vsmmu_guest - how a guest's command is routed
 * @ARM_VSMMU_HOST: Not accepted from a guest
 * @ARM_VSMMU_BY_SID: Names a device by its virtual StreamID; goes to that
 *                    device's pSMMU with its physical StreamID
 * @ARM_VSMMU_BY_VMID: Names the VM; goes to every pSMMU holding stage-1
 *                     translations of the vIOMMU, with that pSMMU's VMID
 */
enum arm_vsmmu_guest {
	ARM_VSMMU_HOST,
	ARM_VSMMU_BY_SID,
	ARM_VSMMU_BY_VMID,
};

extern const struct arm_vsmmu_cmd_desc arm_vsmmu_cmds[CMDQ_OP_MAX];

struct arm_vsmmu_smmu;

/**
 * struct arm_vsmmu_sync - a CMD_SYNC written and not yet waited for
 * @pos: The driver's: what tells the CMD_SYNC's completion, e.g. its
 *       position in the queue
 * @ret: The driver's: what the wait is to report besides the completion
 *
 * Filled in by arm_vsmmu_smmu_ops::sync_start and read by the matching
 * sync_wait; the library only keeps it in between.
 */
struct arm_vsmmu_sync {
	u64 pos;
	int ret;
};

/**
 * struct arm_vsmmu_smmu_ops - the command queue of one pSMMU
 * @issue: Write @num commands (@cmds holds CMDQ_ENT_DWORDS * @num words, in
 *         CPU order) to the queue, in order; may sleep while it is full.
 *         Return 0 or the queue's error.
 * @sync_start: Write a CMD_SYNC behind the commands the calling task wrote
 *              and record it in @tok; do not wait for it. May sleep while
 *              the queue is full. Return 0 or the queue's error; @tok is
 *              then not to be waited for.
 * @sync_wait: Wait for the CMD_SYNC sync_start recorded in @tok, i.e.
 *             until every command the calling task wrote before it
 *             completed. Return 0, -ETIMEDOUT when it did not complete in
 *             time, or -EIO when one of those commands failed. Called once
 *             per successful sync_start, by the same task; the task may
 *             start CMD_SYNCs on other pSMMUs in between, so that their
 *             waits overlap.
 */
struct arm_vsmmu_smmu_ops {
	int (*issue)(struct arm_vsmmu_smmu *smmu, const u64 *cmds,
		     unsigned int num);
	int (*sync_start)(struct arm_vsmmu_smmu *smmu,
			  struct arm_vsmmu_sync *tok);
	int (*sync_wait)(struct arm_vsmmu_smmu *smmu,
			 struct arm_vsmmu_sync *tok);
};

/* A driver spans at most this many pSMMUs with one vIOMMU */
#define ARM_VSMMU_MAX_SMMUS		64

/**
 * struct arm_vsmmu_smmu - a pSMMU, as the library sees it
 * @ops: Its command queue
 * @idx: Its index among the driver's pSMMUs, below ARM_VSMMU_MAX_SMMUS
 * @asid_bits: ASID width, 8 or 16
 * @ssid_bits: SubstreamID width, 0 without substreams
 * @range_inv: Range invalidation (IDR3.RIL)
 * @ats: ATS, so that ATC_INV means something
 * @vmid_ida: The pSMMU's VMID namespace (1..U16_MAX)
 * @nr_vmids: VMIDs allocated from @vmid_ida
 *
 * Embedded in the driver's structure of the pSMMU; set up by the driver,
 * then arm_vsmmu_smmu_init().
 */
struct arm_vsmmu_smmu {
	const struct arm_vsmmu_smmu_ops *ops;
	unsigned int idx;
	u8 asid_bits;
	u8 ssid_bits;
	bool range_inv;
	bool ats;
	struct ida vmid_ida;
	atomic_t nr_vmids;
};

/**
 * struct arm_vsmmu_s2_vmid - a stage-2 domain on one pSMMU
 * @smmu: The pSMMU, set at the first STE; NULL before
 * @vmid: The VMID it gave the domain, kept until the domain is freed
 * @users: STEs on @smmu that translate with the domain alone
 * @sync: The CMD_SYNC arm_vsmmu_s2_flush() wrote on the pSMMU of this
 *        index and waits for, under arm_vsmmu_s2::lock
 */
struct arm_vsmmu_s2_vmid {
	struct arm_vsmmu_smmu *smmu;
	u16 vmid;
	unsigned int users;
	struct arm_vsmmu_sync sync;
};

/**
 * struct arm_vsmmu_s2 - the library's part of a stage-2 (paging) domain
 * @lock: Protects @vmids and @vsmmus
 * @vsmmus: The vIOMMUs nesting on the domain (struct arm_vsmmu::s2_node)
 * @num_smmus: Entries of @vmids, the driver's number of pSMMUs
 * @vmids: Per pSMMU, indexed by arm_vsmmu_smmu::idx
 *
 * The domain knows every VMID that can tag its translations on every
 * pSMMU: its own, and the VMIDs of the vIOMMUs on @vsmmus.
 */
struct arm_vsmmu_s2 {
	struct mutex lock;	/* see above */
	struct list_head vsmmus;
	unsigned int num_smmus;
	struct arm_vsmmu_s2_vmid vmids[] __counted_by(num_smmus);
};

/**
 * struct arm_vsmmu_pinst - a pSMMU a vIOMMU spans
 * @smmu: The pSMMU
 * @vmid: The VMID it gave the vIOMMU
 * @users: STEs on @smmu that reference @vmid (stage-1 and bypass nested
 *         domains of the vIOMMU), under arm_vsmmu::lock
 * @s1: Those of @users that translate with a guest stage 1; VMID-scoped
 *      guest TLB invalidations go where this is not zero. Written under
 *      arm_vsmmu::lock, read without it by the dispatcher.
 */
struct arm_vsmmu_pinst {
	struct arm_vsmmu_smmu *smmu;
	u16 vmid;
	unsigned int users;
	atomic_t s1;
};

struct arm_vsmmu_round;

/**
 * struct arm_vsmmu - an SMMUv3 vIOMMU
 * @core: The iommufd vIOMMU; first, as iommufd requires
 * @s2: The nesting parent's library part
 * @s2_node: In @s2->vsmmus
 * @lock: Protects the @pinst counters and the flushes they trigger
 * @round_lock: Held by the IOMMU_HWPT_INVALIDATE call using @round
 * @round: The dispatcher's working memory, allocated at the first call and
 *         kept for the next ones; NULL before
 * @asid_bits: The guest-visible features: what every spanned pSMMU has
 * @ssid_bits: See @asid_bits
 * @range_inv: See @asid_bits
 * @ats: See @asid_bits
 * @no_ssid: All ones if the vIOMMU has no substreams, else 0: what the
 *           dispatcher removes of an opcode's arm_vsmmu_cmd_desc::w0_ssid
 *           bits, without a branch per command
 * @no_range: The same for range invalidation (w0_range, w1_range)
 * @no_asid16: The same for 16-bit ASIDs (w0_asid16)
 * @routes: The route table: key of a virtual StreamID -> value entry of
 *          the vDEVICE's pSMMU index and physical StreamID
 *          (ARM_VSMMU_ROUTE_*), written by arm_vsmmu_vdev_init() and
 *          arm_vsmmu_vdev_destroy(), read by the dispatcher under
 *          core.vdevs_rwsem held for reading and the RCU read lock
 * @route_swab: @routes is keyed by the vSID with the two bytes of its PCI
 *              bus and devfn swapped, else by the vSID itself; fixed at
 *              arm_vsmmu_init()
 * @num_pinsts: Entries of @pinst
 * @pinst: The spanned pSMMUs
 *
 * The driver sizes its vIOMMU structure, which starts with this one, with
 * arm_vsmmu_size().
 *
 * @routes is the driver side's compact copy of the core's vdev_id table
 * (core.vdevs), for the dispatcher's hot path: a lookup costs one xarray
 * walk ending in the entry itself, without touching the vDEVICE object or
 * calling into iommufd.ko. The core's table stays the reference: a vSID
 * has a route only between the vdevice_init and destroy callbacks of its
 * vDEVICE.
 */
struct arm_vsmmu {
	struct iommufd_viommu core;
	struct arm_vsmmu_s2 *s2;
	struct list_head s2_node;
	struct mutex lock;	/* see above */
	struct mutex round_lock;	/* see above */
	struct arm_vsmmu_round *round;
	struct xarray routes;
	bool route_swab;
	u8 asid_bits;
	u8 ssid_bits;
	bool range_inv;
	bool ats;
	u64 no_ssid;
	u64 no_range;
	u64 no_asid16;
	unsigned int num_pinsts;
	struct arm_vsmmu_pinst pinst[] __counted_by(num_pinsts);
};

/*
 * A route, the value of an arm_vsmmu::routes entry: the pSMMU index and the
 * physical StreamID, packed in what xa_mk_value() can hold (the library
 * checks at build time that both fit).
 */
#define ARM_VSMMU_ROUTE_PSID		GENMASK_ULL(31, 0)
#define ARM_VSMMU_ROUTE_PIDX		GENMASK_ULL(37, 32)

/**
 * struct arm_vsmmu_vdev - an SMMUv3 vDEVICE: where a vSID's commands go
 * @core: The iommufd vDEVICE; first, as iommufd requires
 * @pidx: Index in arm_vsmmu::pinst of the device's pSMMU
 * @psid: The device's physical StreamID there
 *
 * Set by arm_vsmmu_vdev_init(), which also enters them in the vIOMMU's
 * route table.
 */
struct arm_vsmmu_vdev {
	struct iommufd_vdevice core;
	unsigned int pidx;
	u32 psid;
};

/* iommufd finds its objects at the start of the driver's */
static_assert(offsetof(struct arm_vsmmu, core) == 0);
static_assert(offsetof(struct arm_vsmmu_vdev, core) == 0);

static inline struct arm_vsmmu *to_arm_vsmmu(struct iommufd_viommu *viommu)
{
	return container_of(viommu, struct arm_vsmmu, core);
}

/* Size of a struct arm_vsmmu spanning @num pSMMUs */
static inline size_t arm_vsmmu_size(unsigned int num)
{
	return struct_size_t(struct arm_vsmmu, pinst, num);
}

void arm_vsmmu_smmu_init(struct arm_vsmmu_smmu *smmu);
void arm_vsmmu_smmu_destroy(struct arm_vsmmu_smmu *smmu);
int arm_vsmmu_sync(struct arm_vsmmu_smmu *smmu);

struct arm_vsmmu_s2 *arm_vsmmu_s2_alloc(unsigned int num_smmus);
void arm_vsmmu_s2_free(struct arm_vsmmu_s2 *s2);
int arm_vsmmu_s2_ste_get(struct arm_vsmmu_s2 *s2,
			 struct arm_vsmmu_smmu *smmu);
void arm_vsmmu_s2_ste_put(struct arm_vsmmu_s2 *s2,
			  struct arm_vsmmu_smmu *smmu);
void arm_vsmmu_s2_flush(struct arm_vsmmu_s2 *s2);

int arm_vsmmu_init(struct arm_vsmmu *vsmmu, struct arm_vsmmu_s2 *s2,
		   struct arm_vsmmu_smmu **smmus, unsigned int num);
void arm_vsmmu_destroy(struct arm_vsmmu *vsmmu);
int arm_vsmmu_pidx(struct arm_vsmmu *vsmmu, struct arm_vsmmu_smmu *smmu);
void arm_vsmmu_ste_get(struct arm_vsmmu *vsmmu, unsigned int pidx, bool s1);
void arm_vsmmu_ste_put(struct arm_vsmmu *vsmmu, unsigned int pidx, bool s1);
int arm_vsmmu_vdev_init(struct arm_vsmmu_vdev *vdev, unsigned int pidx,
			u32 psid);
void arm_vsmmu_vdev_destroy(struct arm_vsmmu_vdev *vdev);
int arm_vsmmu_cache_invalidate(struct iommufd_viommu *viommu,
			       struct iommu_user_data_array *array);
bool arm_vsmmu_evt_for_guest(const u64 *evt);
int arm_vsmmu_report_event(struct arm_vsmmu_vdev *vdev, const u64 *evt);

#endif /* __ARM_SMMU_V3_VSMMU_H */
