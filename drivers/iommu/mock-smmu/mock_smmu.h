/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Test interface of the mock SMMU driver (mock_smmu.ko).
 *
 * The module registers several mock physical SMMU instances (pSMMUs) and
 * offers /dev/mock_smmu. A test opens it, creates mock devices with a
 * StreamID behind a chosen pSMMU and binds them to an iommufd context the
 * way VFIO binds its devices. Every device belongs to the file that created
 * it: closing the file unbinds and removes its devices, as closing a VFIO
 * device file would.
 *
 * This interface is for tests only and is not part of iommufd.
 */
#ifndef _MOCK_SMMU_H
#define _MOCK_SMMU_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

#define MOCK_SMMU_DEV_PATH "/dev/mock_smmu"
#define MOCK_SMMU_TYPE 0xb5

/**
 * struct mock_smmu_info - ioctl(MOCK_SMMU_GET_INFO)
 * @num_psmmus: Number of mock pSMMU instances (module parameter num_psmmus)
 * @__reserved: Returned as 0
 */
struct mock_smmu_info {
	__u32 num_psmmus;
	__u32 __reserved;
};

#define MOCK_SMMU_GET_INFO _IOR(MOCK_SMMU_TYPE, 0, struct mock_smmu_info)

/**
 * struct mock_smmu_dev_create - ioctl(MOCK_SMMU_DEV_CREATE)
 * @psmmu: Index of the pSMMU instance the device sits behind
 * @sid: Its StreamID on that instance
 * @out_dev: Handle of the new mock device, for the other ioctls
 * @__reserved: Must be 0
 *
 * Creates a platform device that the pSMMU probes into an iommu group.
 * Errors: EINVAL for an unknown @psmmu or a non-zero @__reserved, EEXIST
 * when @sid is already used behind @psmmu, ENOMEM when the device or its
 * iommu group could not be set up for lack of memory.
 */
struct mock_smmu_dev_create {
	__u32 psmmu;
	__u32 sid;
	__u32 out_dev;
	__u32 __reserved;
};

#define MOCK_SMMU_DEV_CREATE _IOWR(MOCK_SMMU_TYPE, 1, struct mock_smmu_dev_create)

/**
 * struct mock_smmu_dev_cmd - argument of the per-device ioctls
 * @dev: Handle from MOCK_SMMU_DEV_CREATE (ENOENT if unknown)
 * @iommufd: MOCK_SMMU_DEV_BIND: an open /dev/iommu file descriptor
 * @pt_id: MOCK_SMMU_DEV_ATTACH: IOAS or HWPT to attach to
 * @out_id: MOCK_SMMU_DEV_BIND: the device's dev_id in that iommufd;
 *          MOCK_SMMU_DEV_ATTACH: the HWPT the device is attached to
 *
 * MOCK_SMMU_DEV_BIND binds like VFIO_DEVICE_BIND_IOMMUFD: EINVAL if the
 * device is already bound, EBADF if @iommufd is not an open file and
 * EBADFD if it is not /dev/iommu.
 * MOCK_SMMU_DEV_ATTACH attaches a bound device, or replaces its attachment
 * atomically when it is attached already (VFIO_DEVICE_ATTACH_IOMMUFD_PT).
 * MOCK_SMMU_DEV_DETACH detaches it (nothing to do when not attached).
 * MOCK_SMMU_DEV_UNBIND detaches and unbinds it. MOCK_SMMU_DEV_DESTROY
 * unbinds it if needed and removes the device. The per-device ioctls on a
 * device that is not bound fail with EINVAL.
 *
 * When the answer cannot be written back (EFAULT), MOCK_SMMU_DEV_CREATE,
 * MOCK_SMMU_DEV_BIND and MOCK_SMMU_DEV_ATTACH are undone, as VFIO undoes
 * its bind and attach: the device is removed, unbound, or detached (a
 * replacement is replaced back to the previous @pt_id, and left detached
 * only if that fails too), so that the same call can be retried.
 */
struct mock_smmu_dev_cmd {
	__u32 dev;
	__s32 iommufd;
	__u32 pt_id;
	__u32 out_id;
};

#define MOCK_SMMU_DEV_DESTROY _IOW(MOCK_SMMU_TYPE, 2, struct mock_smmu_dev_cmd)
#define MOCK_SMMU_DEV_BIND _IOWR(MOCK_SMMU_TYPE, 3, struct mock_smmu_dev_cmd)
#define MOCK_SMMU_DEV_UNBIND _IOW(MOCK_SMMU_TYPE, 4, struct mock_smmu_dev_cmd)
#define MOCK_SMMU_DEV_ATTACH _IOWR(MOCK_SMMU_TYPE, 5, struct mock_smmu_dev_cmd)
#define MOCK_SMMU_DEV_DETACH _IOW(MOCK_SMMU_TYPE, 6, struct mock_smmu_dev_cmd)

/**
 * struct mock_smmu_get_ste - ioctl(MOCK_SMMU_GET_STE)
 * @psmmu: Index of the pSMMU
 * @sid: StreamID on it (ENOENT if no mock device uses it)
 * @ste: Output the physical STE words 0..3 the pSMMU holds for @sid
 *
 * A device that is not attached, or attached to a blocking domain, has a
 * valid abort STE (V = 1, Config = abort). A paging domain gives a stage-2
 * only STE whose S2VMID (word 2, bits 15:0) is the VMID that pSMMU gave the
 * domain. A nested domain gives Config = nested with the guest's stage-1
 * fields, MEV set, and the vIOMMU's VMID on that pSMMU; a guest bypass STE
 * gives a stage-2 only STE with that VMID, and a guest abort STE (or V = 0)
 * an abort STE.
 */
struct mock_smmu_get_ste {
	__u32 psmmu;
	__u32 sid;
	__aligned_u64 ste[4];
};

#define MOCK_SMMU_GET_STE _IOWR(MOCK_SMMU_TYPE, 7, struct mock_smmu_get_ste)

/**
 * struct mock_smmu_counters - ioctl(MOCK_SMMU_GET_COUNTERS)
 * @psmmu: Index of the pSMMU (EINVAL if out of range)
 * @__reserved: Must be 0
 * @devices: Mock devices MOCK_SMMU_DEV_CREATE created behind the pSMMU (the
 *           PCI devices the module parameter pci= gives it are not counted)
 * @vmids: VMIDs the pSMMU has allocated (for paging domains and vIOMMUs)
 * @viommus: vIOMMUs that span the pSMMU
 * @vdevices: vDEVICEs of devices behind the pSMMU
 * @nested_attached: Devices behind the pSMMU attached to a stage-1
 *                   translating nested domain
 * @cmds: Commands the pSMMU's command queue executed, CMD_SYNC excluded
 * @syncs: CMD_SYNC commands it completed or is completing: counted when
 *         written (with sync_latency_us, before they complete), except
 *         those an injected sync time-out keeps from ever completing
 * @cerror_ill: CERROR_ILL errors its command queue raised
 * @sync_start_seq: When a CMD_SYNC was last written to its queue, and
 * @sync_wait_seq: when a wait for one last began: numbers from one sequence
 *                 that every pSMMU's CMD_SYNC writes and waits advance, 0
 *                 for never. A call that wrote the CMD_SYNCs of pSMMUs A
 *                 and B before waiting for either leaves both A's and B's
 *                 @sync_start_seq below both @sync_wait_seq.
 */
struct mock_smmu_counters {
	__u32 psmmu;
	__u32 __reserved;
	__aligned_u64 devices;
	__aligned_u64 vmids;
	__aligned_u64 viommus;
	__aligned_u64 vdevices;
	__aligned_u64 nested_attached;
	__aligned_u64 cmds;
	__aligned_u64 syncs;
	__aligned_u64 cerror_ill;
	__aligned_u64 sync_start_seq;
	__aligned_u64 sync_wait_seq;
};

#define MOCK_SMMU_GET_COUNTERS _IOWR(MOCK_SMMU_TYPE, 8, struct mock_smmu_counters)

/*
 * The command queue of each pSMMU behaves like hardware: a ring with
 * producer and consumer indices, consumed asynchronously by a worker that
 * executes each command against a small cache model (TLB entries tagged by
 * VMID/ASID/VA, a CD cache per StreamID/SubstreamID, ATC entries per
 * StreamID/SubstreamID/address) and completes CMD_SYNC. A command real
 * hardware would reject raises CERROR_ILL: it is counted, the queue stalls,
 * and the driver recovers it by skipping the command; the CMD_SYNC waiting
 * behind it then fails with EIO.
 */

/**
 * struct mock_smmu_cmdq_log - ioctl(MOCK_SMMU_CMDQ_LOG)
 * @psmmu: Index of the pSMMU (EINVAL if out of range)
 * @flags: MOCK_SMMU_CMDQ_LOG_CLEAR to empty the log after reading it
 * @num: In: room in @uptr, in commands. Out: commands stored there
 * @__reserved: Must be 0
 * @total: Output the number of commands executed since the log was last
 *         cleared, including CMD_SYNC, some of which may have dropped out of
 *         the log (it keeps the MOCK_SMMU_CMDQ_LOG_SIZE most recent)
 * @uptr: Array of @num commands of two __u64 words each, oldest first,
 *        exactly as the pSMMU executed them (CMD_SYNC included; a command
 *        that raised CERROR_ILL is not executed and not logged)
 */
struct mock_smmu_cmdq_log {
	__u32 psmmu;
	__u32 flags;
	__u32 num;
	__u32 __reserved;
	__aligned_u64 total;
	__aligned_u64 uptr;
};

#define MOCK_SMMU_CMDQ_LOG_CLEAR	_BITUL(0)
#define MOCK_SMMU_CMDQ_LOG_SIZE		8192

#define MOCK_SMMU_CMDQ_LOG _IOWR(MOCK_SMMU_TYPE, 9, struct mock_smmu_cmdq_log)

/* Kinds of entries in a pSMMU's cache model */
enum mock_smmu_cache_kind {
	MOCK_SMMU_CACHE_TLB = 1,	/* @vmid, @asid, @addr (a 4K page) */
	MOCK_SMMU_CACHE_CD = 2,		/* @sid, @ssid */
	MOCK_SMMU_CACHE_ATC = 3,	/* @sid, @ssid, @addr (a 4K page) */
};

/**
 * struct mock_smmu_cache_entry - an entry of the cache model
 * @kind: enum mock_smmu_cache_kind
 * @sid: StreamID (CD, ATC)
 * @ssid: SubstreamID (CD, ATC), 0 when the access had none
 * @vmid: VMID (TLB)
 * @asid: ASID (TLB)
 * @addr: Input address of the page (TLB, ATC)
 */
struct mock_smmu_cache_entry {
	__u32 kind;
	__u32 sid;
	__u32 ssid;
	__u16 vmid;
	__u16 asid;
	__aligned_u64 addr;
};

/**
 * struct mock_smmu_cache - ioctl(MOCK_SMMU_CACHE_FILL / MOCK_SMMU_CACHE_READ)
 * @psmmu: Index of the pSMMU (EINVAL if out of range)
 * @num: FILL: entries in @uptr to insert (as if the pSMMU had walked the
 *       tables). READ: in, room in @uptr; out, entries stored there
 * @total: READ: output the number of entries the model holds
 * @uptr: Array of struct mock_smmu_cache_entry
 *
 * MOCK_SMMU_CACHE_FILL with @num 0 empties the pSMMU's cache model. Entries
 * are read back in a stable order: kind, then sid/vmid, ssid/asid, addr.
 */
struct mock_smmu_cache {
	__u32 psmmu;
	__u32 num;
	__aligned_u64 total;
	__aligned_u64 uptr;
};

#define MOCK_SMMU_CACHE_FILL _IOW(MOCK_SMMU_TYPE, 10, struct mock_smmu_cache)
#define MOCK_SMMU_CACHE_READ _IOWR(MOCK_SMMU_TYPE, 11, struct mock_smmu_cache)

/* Faults the next command queue operation of a pSMMU suffers */
enum mock_smmu_fault_kind {
	/* The next CMD_SYNC never completes: its wait times out (ETIMEDOUT) */
	MOCK_SMMU_FAULT_SYNC_TIMEOUT = 1,
	/* The next command raises a command error (EIO at the next sync) */
	MOCK_SMMU_FAULT_CMD_ERROR = 2,
};

/**
 * struct mock_smmu_fault - ioctl(MOCK_SMMU_INJECT_FAULT)
 * @psmmu: Index of the pSMMU (EINVAL if out of range)
 * @kind: enum mock_smmu_fault_kind (EINVAL otherwise), or 0 to cancel
 *
 * A fault is consumed by the first command (or CMD_SYNC) it applies to.
 */
struct mock_smmu_fault {
	__u32 psmmu;
	__u32 kind;
};

#define MOCK_SMMU_INJECT_FAULT _IOW(MOCK_SMMU_TYPE, 12, struct mock_smmu_fault)

/**
 * struct mock_smmu_cmdq_raw - ioctl(MOCK_SMMU_CMDQ_RAW)
 * @psmmu: Index of the pSMMU (EINVAL if out of range)
 * @num: Number of commands in @uptr, at most 256 (EINVAL otherwise)
 * @uptr: Commands of two __u64 words each
 *
 * Put commands on the pSMMU's queue exactly as given, bypassing every
 * check, followed by a CMD_SYNC, and return the sync's result. This is how
 * a test shows what the hardware model does with an illegal command; no
 * guest input ever takes this path.
 */
struct mock_smmu_cmdq_raw {
	__u32 psmmu;
	__u32 num;
	__aligned_u64 uptr;
};

#define MOCK_SMMU_CMDQ_RAW _IOW(MOCK_SMMU_TYPE, 13, struct mock_smmu_cmdq_raw)

/*
 * Events. A pSMMU reports a fault by writing an event record to its event
 * queue; the driver's handler decides whether the guest sees it. The mock
 * runs that handler before MOCK_SMMU_RAISE_EVENT returns. A record goes to
 * the vIOMMU's IOMMU_VEVENTQ_TYPE_ARM_SMMUV3 vEVENTQ, with the StreamID
 * replaced by the vDEVICE's virtual one, when its type is one the uAPI
 * lists for struct iommu_vevent_arm_smmuv3, it is not a stage-2 fault (word
 * 1, bit 39) or a stall (word 1, bit 31), and the device with that StreamID
 * has a vDEVICE and is attached to a nested HWPT of the same vIOMMU.
 */

/**
 * struct mock_smmu_event - ioctl(MOCK_SMMU_RAISE_EVENT)
 * @psmmu: Index of the pSMMU (EINVAL if out of range)
 * @__reserved: Must be 0 (EINVAL otherwise)
 * @evt: The 32-byte event record, in CPU order: word 0 bits 7:0 the event
 *       type (e.g. 0x04 C_BAD_STE, 0x10 F_TRANSLATION), bits 63:32 the
 *       physical StreamID
 *
 * Returns 0 whatever became of the record; MOCK_SMMU_GET_EVENT_COUNTERS
 * tells.
 */
struct mock_smmu_event {
	__u32 psmmu;
	__u32 __reserved;
	__aligned_u64 evt[4];
};

#define MOCK_SMMU_RAISE_EVENT _IOW(MOCK_SMMU_TYPE, 32, struct mock_smmu_event)

/**
 * struct mock_smmu_event_counters - ioctl(MOCK_SMMU_GET_EVENT_COUNTERS)
 * @psmmu: Index of the pSMMU (EINVAL if out of range)
 * @__reserved: Must be 0 (EINVAL otherwise)
 * @raised: Event records the pSMMU raised
 * @reported: Those handed to a vEVENTQ (queued, or dropped by a full one)
 * @no_vdevice: Those dropped because the device of the StreamID has no
 *              vDEVICE
 * @host: Those the guest does not see for another reason: no device with
 *        the StreamID, a type or a stage-2 or stall fault a guest never
 *        gets, or a device not attached to a nested HWPT of its vIOMMU
 * @no_veventq: Those dropped because the vIOMMU has no ARM SMMUv3 vEVENTQ
 * @nomem: Those a vEVENTQ dropped for lack of memory
 */
struct mock_smmu_event_counters {
	__u32 psmmu;
	__u32 __reserved;
	__aligned_u64 raised;
	__aligned_u64 reported;
	__aligned_u64 no_vdevice;
	__aligned_u64 host;
	__aligned_u64 no_veventq;
	__aligned_u64 nomem;
};

#define MOCK_SMMU_GET_EVENT_COUNTERS \
	_IOWR(MOCK_SMMU_TYPE, 33, struct mock_smmu_event_counters)

#endif /* _MOCK_SMMU_H */
