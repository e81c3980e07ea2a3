// SPDX-License-Identifier: GPL-2.0-only
/*
 * The SMMUv3 vSMMU library: vIOMMUs spanning one or more physical SMMUs
 * (pSMMUs), their invalidation dispatcher and the VMID bookkeeping that
 * keeps every pSMMU's TLB coherent. See arm-smmu-v3-vsmmu.h.
 *
 * IOMMU_HWPT_INVALIDATE. The guest's commands are read ARM_VSMMU_CHUNK
 * entries at a time and each pSMMU's share is gathered in a batch of at
 * most ARM_VSMMU_BATCH commands, so the memory used is bounded whatever
 * entry_num is. Each command is checked against arm_vsmmu_cmds[] and the
 * features every spanned pSMMU has, then rewritten and routed:
 *
 * - ATC_INV, CFGI_CD and CFGI_CD_ALL name a device by its virtual StreamID;
 *   the vIOMMU's route table gives its pSMMU and physical StreamID, and
 *   the command goes to that pSMMU alone.
 * - TLBI_NH_* name the VM by VMID. VMIDs are per pSMMU, so the command is
 *   sent, with that pSMMU's VMID, to every pSMMU where a device is attached
 *   to a stage-1 nested domain of this vIOMMU, and nowhere else.
 *   TLBI_NSNH_ALL becomes TLBI_NH_ALL of the VMID.
 *
 * Per pSMMU the commands keep the guest's order. A round of guest commands
 * ends when a pSMMU's batch is full, at the end of the array, or at a
 * rejected command; then every pSMMU that got commands in the round is
 * written its batch, then each of them a CMD_SYNC, and only then are the
 * syncs waited for: the pSMMUs complete theirs concurrently, so that the
 * round costs about one sync latency however many pSMMUs it touched. The
 * round counts only once every sync completed. A rejected command ends the
 * call after the commands before it completed; nothing after it is issued.
 *
 * The working memory of a call (the chunk and a batch per pSMMU, about
 * 2 KiB each) is the vIOMMU's, allocated at its first call and reused by
 * the next ones, so that a call costs no allocation and no clearing of
 * kilobytes; a call made while another one holds it uses memory of its
 * own for the time of the call.
 *
 * Routes. The route table (arm_vsmmu::routes) maps each vSID of a vDEVICE
 * to its pSMMU index and physical StreamID, packed in an xarray value
 * entry, so that the dispatcher's lookup is one walk of a compact table
 * ending in the answer; the core's vdev_id table (iommufd_viommu::vdevs),
 * whose entries point to the vDEVICE objects, stays untouched and is what
 * the table derives from. Its rules, given how the core calls the driver:
 *
 * - The core calls vdevice_init (arm_vsmmu_vdev_init()) with the vSID
 *   reserved in vdev_id and before it publishes the vDEVICE there. The
 *   route is stored then, possibly over the route of a previous vDEVICE of
 *   the same vSID: the core takes a vDEVICE out of vdev_id (under
 *   vdevs_rwsem held for writing) before it calls the driver's destroy,
 *   so a new vDEVICE of another device can get the vSID in between.
 * - The destroy callback (arm_vsmmu_vdev_destroy()) erases the vSID's
 *   route only if it still is its own (a device has at most one vDEVICE
 *   and a (pSMMU, physical StreamID) pair is one device, so equal values
 *   mean the same vDEVICE), and does so with vdevs_rwsem held for writing.
 *   The dispatcher holds it for reading over each round, from the lookups
 *   to the completion of the round's commands, so once the callback
 *   returns no round that may have read the old route is running and
 *   none can read it any more: no command with the destroyed vDEVICE's
 *   physical StreamID is issued after IOMMU_DESTROY of it returned. The
 *   lock is taken even if the route was already replaced, since a round
 *   may have read it before that.
 * - An allocation that fails after the route was stored ends in the
 *   destroy callback (the core's abort), or in the driver's vdevice_init
 *   calling arm_vsmmu_vdev_destroy() itself: no route outlives its
 *   vDEVICE. An unknown vSID is an illegal command (-EIO).
 *
 * With the vsmmu_route_table parameter off (for benchmarks), the
 * dispatcher looks the vSID up in the core's table instead, as it did
 * before; the route table is kept up to date either way.
 *
 * An xarray spends a 64-slot leaf node (576 bytes) on each 64 consecutive
 * keys in use. Keyed by vSID, the table is compact for consecutive vSIDs
 * (functions of one PCI bus) but costs a leaf per vDEVICE when each device
 * sits on a PCI bus of its own (vSID = bus << 8, a root port per device).
 * The vsmmu_route_key parameter (for benchmarks) keys the vIOMMUs
 * allocated after it is set by the vSID with its bus and devfn bytes
 * swapped instead, which turns the latter into consecutive keys and the
 * former into a leaf per vDEVICE; both keyings map a full 16-bit range of
 * vSIDs to itself. The lookup is the same either way: one xas_load() walk
 * under the RCU read lock the dispatcher holds over a stretch of commands
 * (arm_vsmmu_dispatch_chunk()).
 *
 * Coherence. A VMID tags translations on one pSMMU. Each stage-2 domain
 * and each vIOMMU count, per pSMMU, the STEs that reference their VMID
 * there, and:
 *
 * - a change of a stage-2 domain's mappings (arm_vsmmu_s2_flush(), from the
 *   driver's iotlb_sync) issues TLBI_S12_VMALL for every VMID with STEs on
 *   each pSMMU, the domain's own and those of the vIOMMUs nesting on it,
 *   then one CMD_SYNC per pSMMU touched, all written before it waits for
 *   any;
 * - when the last STE referencing a VMID on a pSMMU goes, TLBI_S12_VMALL of
 *   it is issued and synced there, so a VMID without STEs holds no entry
 *   and a later STE cannot hit one; when a vIOMMU's last stage-1 STE on a
 *   pSMMU goes while bypass ones remain, TLBI_NH_ALL of it is (guest TLB
 *   invalidations stop going there);
 * - a VMID goes back to its pSMMU's allocator only after TLBI_S12_VMALL of
 *   it completed there.
 */
#include <linux/bitfield.h>
#include <linux/iommu.h>
#include <linux/moduleparam.h>
#include <linux/overflow.h>
#include <linux/rwsem.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/swab.h>
#include <linux/uaccess.h>
#include <uapi/linux/iommufd.h>

#include "arm-smmu-v3-vsmmu.h"

/* Guest commands read from the user at a time */
#define ARM_VSMMU_CHUNK		128
/* Commands gathered for one pSMMU before a round ends */
#define ARM_VSMMU_BATCH		128

#define ARM_VSMMU_VMID_MIN	1
#define ARM_VSMMU_VMID_MAX	U16_MAX

/*
 * For benchmarks: N allocates and clears the working memory at every
 * IOMMU_HWPT_INVALIDATE, as the dispatcher did before it kept it per
 * vIOMMU, so that one boot can measure both.
 */
static bool vsmmu_round_cache = true;
module_param(vsmmu_round_cache, bool, 0644);
MODULE_PARM_DESC(vsmmu_round_cache,
		 "Keep the invalidation dispatcher's working memory per vIOMMU (default Y; N: allocate it per call, for benchmarks)");

/*
 * For benchmarks: N waits for each pSMMU's CMD_SYNC of a round, or of a
 * stage-2 flush, right after writing it, as the library did before it
 * overlapped them, so that one boot can measure both.
 */
static bool vsmmu_sync_overlap = true;
module_param(vsmmu_sync_overlap, bool, 0644);
MODULE_PARM_DESC(vsmmu_sync_overlap,
		 "Write every pSMMU's CMD_SYNC of a round or stage-2 flush before waiting for any (default Y; N: wait for each in turn, for benchmarks)");

/*
 * For benchmarks: N resolves a device-scoped guest command's vSID with
 * iommufd_viommu_find_vdev() and the vDEVICE object, as the dispatcher did
 * before it had its route table, so that one boot can measure both.
 */
static bool vsmmu_route_table = true;
module_param(vsmmu_route_table, bool, 0644);
MODULE_PARM_DESC(vsmmu_route_table,
		 "Resolve guest vSIDs with the vIOMMU's route table (default Y; N: with iommufd's vdev_id table, for benchmarks)");

/*
 * For benchmarks: 1 keys the route table of the vIOMMUs allocated from then
 * on by the vSID with its PCI bus and devfn bytes swapped, so that one boot
 * can measure the memory of both keyings.
 */
static bool vsmmu_route_key;
module_param(vsmmu_route_key, bool, 0644);
MODULE_PARM_DESC(vsmmu_route_key,
		 "Key new vIOMMUs' route tables by vSID with bus and devfn swapped (default N: by vSID, for benchmarks)");

#define CMDQ_RANGE0	(CMDQ_TLBI_0_NUM | CMDQ_TLBI_0_SCALE)
#define CMDQ_RANGE1	(CMDQ_TLBI_1_TTL | CMDQ_TLBI_1_TG)
#define CMDQ_ASID_HI	GENMASK_ULL(63, 56)

const struct arm_vsmmu_cmd_desc arm_vsmmu_cmds[CMDQ_OP_MAX] = {
	[CMDQ_OP_CFGI_STE] = {
		.w0 = CMDQ_0_OP | CMDQ_CFGI_0_SID,
		.w1 = CMDQ_CFGI_1_LEAF,
	},
	[CMDQ_OP_CFGI_ALL] = {
		.w0 = CMDQ_0_OP | CMDQ_CFGI_0_SID,
		.w1 = CMDQ_CFGI_1_RANGE,
	},
	[CMDQ_OP_CFGI_CD] = {
		.w0 = CMDQ_0_OP | CMDQ_CFGI_0_SSID | CMDQ_CFGI_0_SID,
		.w1 = CMDQ_CFGI_1_LEAF,
		.w0_ssid = CMDQ_CFGI_0_SSID,
		.guest = ARM_VSMMU_BY_SID,
	},
	[CMDQ_OP_CFGI_CD_ALL] = {
		.w0 = CMDQ_0_OP | CMDQ_CFGI_0_SID,
		.guest = ARM_VSMMU_BY_SID,
	},
	[CMDQ_OP_TLBI_NH_ALL] = {
		.w0 = CMDQ_0_OP | CMDQ_TLBI_0_VMID,
		.guest = ARM_VSMMU_BY_VMID,
	},
	[CMDQ_OP_TLBI_NH_ASID] = {
		.w0 = CMDQ_0_OP | CMDQ_TLBI_0_VMID | CMDQ_TLBI_0_ASID,
		.w0_asid16 = CMDQ_ASID_HI,
		.guest = ARM_VSMMU_BY_VMID,
	},
	[CMDQ_OP_TLBI_NH_VA] = {
		.w0 = CMDQ_0_OP | CMDQ_RANGE0 | CMDQ_TLBI_0_VMID |
		      CMDQ_TLBI_0_ASID,
		.w1 = CMDQ_TLBI_1_LEAF | CMDQ_RANGE1 | CMDQ_TLBI_1_VA_MASK,
		.w0_range = CMDQ_RANGE0,
		.w1_range = CMDQ_RANGE1,
		.w0_asid16 = CMDQ_ASID_HI,
		.guest = ARM_VSMMU_BY_VMID,
	},
	[CMDQ_OP_TLBI_NH_VAA] = {
		.w0 = CMDQ_0_OP | CMDQ_RANGE0 | CMDQ_TLBI_0_VMID,
		.w1 = CMDQ_TLBI_1_LEAF | CMDQ_RANGE1 | CMDQ_TLBI_1_VA_MASK,
		.w0_range = CMDQ_RANGE0,
		.w1_range = CMDQ_RANGE1,
		.guest = ARM_VSMMU_BY_VMID,
	},
	[CMDQ_OP_TLBI_S12_VMALL] = {
		.w0 = CMDQ_0_OP | CMDQ_TLBI_0_VMID,
	},
	[CMDQ_OP_TLBI_NSNH_ALL] = {
		.w0 = CMDQ_0_OP,
		.guest = ARM_VSMMU_BY_VMID,
	},
	[CMDQ_OP_ATC_INV] = {
		.w0 = CMDQ_0_OP | CMDQ_ATC_0_GLOBAL | CMDQ_0_SSV |
		      CMDQ_ATC_0_SSID | CMDQ_ATC_0_SID,
		.w1 = CMDQ_ATC_1_SIZE | CMDQ_ATC_1_ADDR_MASK,
		.w0_ssid = CMDQ_ATC_0_GLOBAL | CMDQ_0_SSV | CMDQ_ATC_0_SSID,
		.guest = ARM_VSMMU_BY_SID,
	},
	[CMDQ_OP_CMD_SYNC] = {
		.w0 = CMDQ_0_OP | CMDQ_SYNC_0_CS | CMDQ_SYNC_0_MSH |
		      CMDQ_SYNC_0_MSIATTR | CMDQ_SYNC_0_MSIDATA,
		.w1 = CMDQ_SYNC_1_MSIADDR_MASK,
	},
};

/* --- pSMMUs and VMIDs --------------------------------------------------- */

/**
 * arm_vsmmu_smmu_init() - Set up the library's state of a pSMMU
 * @smmu: The pSMMU, whose @ops and features the driver filled in
 */
void arm_vsmmu_smmu_init(struct arm_vsmmu_smmu *smmu)
{
	ida_init(&smmu->vmid_ida);
	atomic_set(&smmu->nr_vmids, 0);
}

/**
 * arm_vsmmu_smmu_destroy() - Undo arm_vsmmu_smmu_init()
 * @smmu: The pSMMU, without VMIDs in use
 */
void arm_vsmmu_smmu_destroy(struct arm_vsmmu_smmu *smmu)
{
	WARN_ON(atomic_read(&smmu->nr_vmids));
	ida_destroy(&smmu->vmid_ida);
}

/**
 * arm_vsmmu_sync() - Write a CMD_SYNC to a pSMMU and wait for it
 * @smmu: The pSMMU
 *
 * For the paths that flush one pSMMU at a time.
 *
 * Return: 0 once every command the calling task wrote to @smmu before
 * completed, or the error of arm_vsmmu_smmu_ops::sync_start or sync_wait.
 */
int arm_vsmmu_sync(struct arm_vsmmu_smmu *smmu)
{
	struct arm_vsmmu_sync tok;
	int rc;

	rc = smmu->ops->sync_start(smmu, &tok);
	if (!rc)
		rc = smmu->ops->sync_wait(smmu, &tok);
	return rc;
}

static int arm_vsmmu_cmd_sync(struct arm_vsmmu_smmu *smmu, u64 w0)
{
	const u64 cmd[CMDQ_ENT_DWORDS] = { w0, 0 };
	int rc;

	rc = smmu->ops->issue(smmu, cmd, 1);
	if (!rc)
		rc = arm_vsmmu_sync(smmu);
	return rc;
}

static u64 arm_vsmmu_vmid_cmd(u8 op, u16 vmid)
{
	return FIELD_PREP(CMDQ_0_OP, op) | FIELD_PREP(CMDQ_TLBI_0_VMID, vmid);
}

/* Invalidate everything @vmid tags on @smmu and wait for it */
static int arm_vsmmu_vmid_flush(struct arm_vsmmu_smmu *smmu, u16 vmid)
{
	int rc;

	rc = arm_vsmmu_cmd_sync(smmu,
				arm_vsmmu_vmid_cmd(CMDQ_OP_TLBI_S12_VMALL, vmid));
	if (rc)
		pr_warn_ratelimited("vsmmu: TLBI_S12_VMALL of VMID %u on pSMMU %u failed: %d\n",
				    vmid, smmu->idx, rc);
	return rc;
}

static int arm_vsmmu_vmid_alloc(struct arm_vsmmu_smmu *smmu)
{
	int vmid;

	vmid = ida_alloc_range(&smmu->vmid_ida, ARM_VSMMU_VMID_MIN,
			       ARM_VSMMU_VMID_MAX, GFP_KERNEL);
	if (vmid >= 0)
		atomic_inc(&smmu->nr_vmids);
	return vmid;
}

/*
 * Return a VMID to @smmu once no entry tagged with it can be left. If the
 * queue failed, the VMID is leaked rather than handed out stale.
 */
static void arm_vsmmu_vmid_free(struct arm_vsmmu_smmu *smmu, u16 vmid)
{
	if (arm_vsmmu_vmid_flush(smmu, vmid) &&
	    arm_vsmmu_vmid_flush(smmu, vmid))
		return;
	ida_free(&smmu->vmid_ida, vmid);
	atomic_dec(&smmu->nr_vmids);
}

/* --- Stage-2 domains ---------------------------------------------------- */

/**
 * arm_vsmmu_s2_alloc() - The library's part of a new stage-2 domain
 * @num_smmus: The driver's number of pSMMUs
 *
 * Return: the state, or NULL without memory.
 */
struct arm_vsmmu_s2 *arm_vsmmu_s2_alloc(unsigned int num_smmus)
{
	struct arm_vsmmu_s2 *s2;

	if (WARN_ON(num_smmus > ARM_VSMMU_MAX_SMMUS))
		return NULL;
	s2 = kzalloc(struct_size(s2, vmids, num_smmus), GFP_KERNEL);
	if (!s2)
		return NULL;
	s2->num_smmus = num_smmus;
	mutex_init(&s2->lock);
	INIT_LIST_HEAD(&s2->vsmmus);
	return s2;
}

/**
 * arm_vsmmu_s2_free() - Free a stage-2 domain's state and VMIDs
 * @s2: The state; no STE and no vIOMMU uses the domain any more
 *
 * Every VMID the domain got is invalidated on its pSMMU before it is
 * returned there.
 */
void arm_vsmmu_s2_free(struct arm_vsmmu_s2 *s2)
{
	unsigned int i;

	WARN_ON(!list_empty(&s2->vsmmus));
	for (i = 0; i != s2->num_smmus; i++) {
		struct arm_vsmmu_s2_vmid *v = &s2->vmids[i];

		if (!v->smmu)
			continue;
		WARN_ON(v->users);
		arm_vsmmu_vmid_free(v->smmu, v->vmid);
	}
	mutex_destroy(&s2->lock);
	kfree(s2);
}

/**
 * arm_vsmmu_s2_ste_get() - An STE on @smmu is to translate with the domain
 * @s2: The domain's state
 * @smmu: The pSMMU of the STE
 *
 * Allocates the domain's VMID on @smmu at its first STE there.
 *
 * Return: the VMID to write in the STE, or -ENOSPC/-ENOMEM.
 */
int arm_vsmmu_s2_ste_get(struct arm_vsmmu_s2 *s2, struct arm_vsmmu_smmu *smmu)
{
	struct arm_vsmmu_s2_vmid *v = &s2->vmids[smmu->idx];
	int vmid;

	mutex_lock(&s2->lock);
	if (!v->smmu) {
		vmid = arm_vsmmu_vmid_alloc(smmu);
		if (vmid < 0)
			goto out_unlock;
		v->smmu = smmu;
		v->vmid = vmid;
	}
	v->users++;
	vmid = v->vmid;
out_unlock:
	mutex_unlock(&s2->lock);
	return vmid;
}

/**
 * arm_vsmmu_s2_ste_put() - An STE on @smmu no longer uses the domain
 * @s2: The domain's state
 * @smmu: The pSMMU of the STE, already rewritten
 *
 * The last STE of the domain on @smmu takes the domain's entries there
 * with it: they could not be invalidated by the next mapping change, which
 * only goes where STEs use the domain.
 */
void arm_vsmmu_s2_ste_put(struct arm_vsmmu_s2 *s2, struct arm_vsmmu_smmu *smmu)
{
	struct arm_vsmmu_s2_vmid *v = &s2->vmids[smmu->idx];

	mutex_lock(&s2->lock);
	if (!WARN_ON(!v->users) && !--v->users)
		arm_vsmmu_vmid_flush(smmu, v->vmid);
	mutex_unlock(&s2->lock);
}

static void arm_vsmmu_s2_flush_failed(unsigned int idx)
{
	pr_warn_ratelimited("vsmmu: stage-2 invalidation on pSMMU %u failed\n",
			    idx);
}

/**
 * arm_vsmmu_s2_flush() - A stage-2 domain's mappings changed
 * @s2: The domain's state
 *
 * Called from the driver's iotlb_sync and flush_iotlb_all. Returns once
 * every VMID that tags the domain's translations on any pSMMU has been
 * invalidated and synced there; the CMD_SYNCs of the pSMMUs are all
 * written before the first wait, so that they complete together.
 */
void arm_vsmmu_s2_flush(struct arm_vsmmu_s2 *s2)
{
	struct arm_vsmmu_smmu *touched[ARM_VSMMU_MAX_SMMUS] = {};
	bool overlap = READ_ONCE(vsmmu_sync_overlap);
	struct arm_vsmmu *vsmmu;
	unsigned int i;

	mutex_lock(&s2->lock);
	for (i = 0; i != s2->num_smmus; i++) {
		struct arm_vsmmu_s2_vmid *v = &s2->vmids[i];
		u64 cmd[CMDQ_ENT_DWORDS] = {
			arm_vsmmu_vmid_cmd(CMDQ_OP_TLBI_S12_VMALL, v->vmid),
		};

		if (v->users && !v->smmu->ops->issue(v->smmu, cmd, 1))
			touched[i] = v->smmu;
	}
	list_for_each_entry(vsmmu, &s2->vsmmus, s2_node) {
		mutex_lock(&vsmmu->lock);
		for (i = 0; i != vsmmu->num_pinsts; i++) {
			struct arm_vsmmu_pinst *p = &vsmmu->pinst[i];
			u64 cmd[CMDQ_ENT_DWORDS] = {
				arm_vsmmu_vmid_cmd(CMDQ_OP_TLBI_S12_VMALL,
						   p->vmid),
			};

			if (p->users && !p->smmu->ops->issue(p->smmu, cmd, 1))
				touched[p->smmu->idx] = p->smmu;
		}
		mutex_unlock(&vsmmu->lock);
	}
	/* Every CMD_SYNC before any wait, so that the pSMMUs sync together */
	for (i = 0; i != s2->num_smmus; i++) {
		struct arm_vsmmu_smmu *smmu = touched[i];
		struct arm_vsmmu_sync *tok = &s2->vmids[i].sync;
		int rc;

		if (!smmu)
			continue;
		rc = smmu->ops->sync_start(smmu, tok);
		if (!rc && !overlap)
			rc = smmu->ops->sync_wait(smmu, tok);
		if (rc)
			arm_vsmmu_s2_flush_failed(i);
		if (rc || !overlap)
			touched[i] = NULL;	/* nothing to wait for */
	}
	for (i = 0; i != s2->num_smmus; i++)
		if (touched[i] &&
		    touched[i]->ops->sync_wait(touched[i], &s2->vmids[i].sync))
			arm_vsmmu_s2_flush_failed(i);
	mutex_unlock(&s2->lock);
}

/* --- vIOMMUs ------------------------------------------------------------ */

static void arm_vsmmu_release(struct arm_vsmmu *vsmmu, unsigned int num)
{
	while (num--)
		arm_vsmmu_vmid_free(vsmmu->pinst[num].smmu,
				    vsmmu->pinst[num].vmid);
}

/**
 * arm_vsmmu_init() - Set up the library's part of a new vIOMMU
 * @vsmmu: The vIOMMU, sized with arm_vsmmu_size(@num)
 * @s2: Its nesting parent's state
 * @smmus: The pSMMUs it spans
 * @num: Entries of @smmus
 *
 * Each pSMMU gives the vIOMMU a VMID of its own.
 *
 * Return: 0, -ENOSPC when a pSMMU has no VMID left, or -ENOMEM.
 */
int arm_vsmmu_init(struct arm_vsmmu *vsmmu, struct arm_vsmmu_s2 *s2,
		   struct arm_vsmmu_smmu **smmus, unsigned int num)
{
	unsigned int i;
	int vmid;

	vsmmu->num_pinsts = num;
	vsmmu->asid_bits = 16;
	vsmmu->ssid_bits = 20;
	vsmmu->range_inv = true;
	vsmmu->ats = true;
	for (i = 0; i != num; i++) {
		struct arm_vsmmu_pinst *p = &vsmmu->pinst[i];

		vmid = arm_vsmmu_vmid_alloc(smmus[i]);
		if (vmid < 0) {
			arm_vsmmu_release(vsmmu, i);
			return vmid;
		}
		p->smmu = smmus[i];
		p->vmid = vmid;
		vsmmu->asid_bits = min(vsmmu->asid_bits, p->smmu->asid_bits);
		vsmmu->ssid_bits = min(vsmmu->ssid_bits, p->smmu->ssid_bits);
		vsmmu->range_inv &= p->smmu->range_inv;
		vsmmu->ats &= p->smmu->ats;
	}
	vsmmu->no_ssid = vsmmu->ssid_bits ? 0 : U64_MAX;
	vsmmu->no_range = vsmmu->range_inv ? 0 : U64_MAX;
	vsmmu->no_asid16 = vsmmu->asid_bits == 16 ? 0 : U64_MAX;
	mutex_init(&vsmmu->lock);
	mutex_init(&vsmmu->round_lock);
	vsmmu->round = NULL;
	xa_init(&vsmmu->routes);
	vsmmu->route_swab = READ_ONCE(vsmmu_route_key);
	vsmmu->s2 = s2;
	mutex_lock(&s2->lock);
	list_add_tail(&vsmmu->s2_node, &s2->vsmmus);
	mutex_unlock(&s2->lock);
	return 0;
}

/**
 * arm_vsmmu_destroy() - Undo arm_vsmmu_init()
 * @vsmmu: The vIOMMU; no STE references it any more
 *
 * Every VMID of the vIOMMU is invalidated on its pSMMU before it is
 * returned there.
 */
void arm_vsmmu_destroy(struct arm_vsmmu *vsmmu)
{
	unsigned int i;

	mutex_lock(&vsmmu->s2->lock);
	list_del(&vsmmu->s2_node);
	mutex_unlock(&vsmmu->s2->lock);
	for (i = 0; i != vsmmu->num_pinsts; i++)
		WARN_ON(vsmmu->pinst[i].users);
	arm_vsmmu_release(vsmmu, vsmmu->num_pinsts);
	/* Every vDEVICE holds the vIOMMU: their routes are gone */
	WARN_ON(!xa_empty(&vsmmu->routes));
	xa_destroy(&vsmmu->routes);
	kvfree(vsmmu->round);
	mutex_destroy(&vsmmu->round_lock);
	mutex_destroy(&vsmmu->lock);
}

/**
 * arm_vsmmu_pidx() - Where a pSMMU is in a vIOMMU's span
 * @vsmmu: The vIOMMU
 * @smmu: A pSMMU
 *
 * Return: the index of @smmu in @vsmmu->pinst, or -EINVAL if the vIOMMU
 * does not span it.
 */
int arm_vsmmu_pidx(struct arm_vsmmu *vsmmu, struct arm_vsmmu_smmu *smmu)
{
	unsigned int i;

	for (i = 0; i != vsmmu->num_pinsts; i++)
		if (vsmmu->pinst[i].smmu == smmu)
			return i;
	return -EINVAL;
}

/**
 * arm_vsmmu_ste_get() - An STE of pSMMU @pidx is to use the vIOMMU's VMID
 * @vsmmu: The vIOMMU
 * @pidx: Index of the pSMMU in @vsmmu->pinst
 * @s1: The STE translates with a guest stage 1 (else it is a bypass one)
 *
 * Called before the STE is written, so that guest TLB invalidations reach
 * the pSMMU from then on.
 */
void arm_vsmmu_ste_get(struct arm_vsmmu *vsmmu, unsigned int pidx, bool s1)
{
	struct arm_vsmmu_pinst *p = &vsmmu->pinst[pidx];

	mutex_lock(&vsmmu->lock);
	p->users++;
	if (s1)
		atomic_inc(&p->s1);
	mutex_unlock(&vsmmu->lock);
}

/**
 * arm_vsmmu_ste_put() - An STE of pSMMU @pidx no longer uses the VMID
 * @vsmmu: The vIOMMU
 * @pidx: Index of the pSMMU in @vsmmu->pinst
 * @s1: As given to arm_vsmmu_ste_get()
 *
 * Called once the STE was rewritten. When no STE of the vIOMMU is left on
 * the pSMMU, TLBI_S12_VMALL of its VMID is issued and synced there; when
 * only its stage-1 ones are gone, TLBI_NH_ALL is: guest invalidations no
 * longer reach the pSMMU, so nothing it cached for the guest's stage 1 may
 * outlive this call.
 */
void arm_vsmmu_ste_put(struct arm_vsmmu *vsmmu, unsigned int pidx, bool s1)
{
	struct arm_vsmmu_pinst *p = &vsmmu->pinst[pidx];
	bool s1_gone = false;
	int rc = 0;

	mutex_lock(&vsmmu->lock);
	if (WARN_ON(!p->users || (s1 && !atomic_read(&p->s1))))
		goto out_unlock;
	if (s1)
		s1_gone = atomic_dec_and_test(&p->s1);
	if (!--p->users)
		rc = arm_vsmmu_vmid_flush(p->smmu, p->vmid);
	else if (s1_gone)
		rc = arm_vsmmu_cmd_sync(p->smmu,
					arm_vsmmu_vmid_cmd(CMDQ_OP_TLBI_NH_ALL,
							   p->vmid));
	if (rc)
		pr_warn_ratelimited("vsmmu: flush of VMID %u on pSMMU %u failed: %d\n",
				    p->vmid, p->smmu->idx, rc);
out_unlock:
	mutex_unlock(&vsmmu->lock);
}

/* --- vDEVICEs ----------------------------------------------------------- */

/* The index of @vsid in the route table: see arm_vsmmu::route_swab */
static unsigned long arm_vsmmu_route_key(const struct arm_vsmmu *vsmmu,
					 u32 vsid)
{
	if (vsmmu->route_swab)
		return (vsid & ~0xffffU) | swab16(vsid & 0xffff);
	return vsid;
}

static void *arm_vsmmu_route_entry(unsigned int pidx, u32 psid)
{
	/* Both fields fit and the value is one xa_mk_value() can hold */
	BUILD_BUG_ON(FIELD_MAX(ARM_VSMMU_ROUTE_PIDX) < ARM_VSMMU_MAX_SMMUS - 1);
	BUILD_BUG_ON(FIELD_MAX(ARM_VSMMU_ROUTE_PSID) < U32_MAX);
	BUILD_BUG_ON((ARM_VSMMU_ROUTE_PIDX | ARM_VSMMU_ROUTE_PSID) > LONG_MAX);

	return xa_mk_value(FIELD_PREP(ARM_VSMMU_ROUTE_PIDX, pidx) |
			   FIELD_PREP(ARM_VSMMU_ROUTE_PSID, psid));
}

/**
 * arm_vsmmu_vdev_init() - Route a new vDEVICE's virtual StreamID
 * @vdev: The vDEVICE, from the driver's vdevice_init callback; its core
 *        part (vIOMMU, virtual ID) is set
 * @pidx: Index in the vIOMMU's pinst of the device's pSMMU
 * @psid: The device's physical StreamID there
 *
 * Sets @vdev's @pidx and @psid and stores the route in the vIOMMU's route
 * table, replacing the route of a previous vDEVICE of the same vSID whose
 * destroy callback has not run yet (the core already took that one out of
 * its vdev_id table). From now on guest commands naming the vSID go to
 * @psid on pSMMU @pidx. A driver whose vdevice_init fails after this call
 * must call arm_vsmmu_vdev_destroy().
 *
 * Return: 0; -EINVAL for a virtual ID wider than an SMMUv3 StreamID (32
 * bits) or a @pidx outside the vIOMMU's span; -ENOMEM.
 */
int arm_vsmmu_vdev_init(struct arm_vsmmu_vdev *vdev, unsigned int pidx,
			u32 psid)
{
	struct arm_vsmmu *vsmmu = to_arm_vsmmu(vdev->core.viommu);

	if (vdev->core.virt_id > U32_MAX || WARN_ON(pidx >= vsmmu->num_pinsts))
		return -EINVAL;
	vdev->pidx = pidx;
	vdev->psid = psid;
	return xa_err(xa_store(&vsmmu->routes,
			       arm_vsmmu_route_key(vsmmu, vdev->core.virt_id),
			       arm_vsmmu_route_entry(pidx, psid), GFP_KERNEL));
}

/**
 * arm_vsmmu_vdev_destroy() - Remove a vDEVICE's route
 * @vdev: A vDEVICE arm_vsmmu_vdev_init() succeeded on, from the driver's
 *        destroy callback (or its failing vdevice_init)
 *
 * Erases the vSID's route if it still is @vdev's: a vDEVICE of another
 * device that got the vSID since keeps its own. It does so under the
 * vIOMMU's vdevs_rwsem held for writing, which waits for every dispatcher
 * round that may have read the route: once this returns, no command with
 * @vdev's physical StreamID is issued any more. May sleep; the caller must
 * not hold vdevs_rwsem.
 */
void arm_vsmmu_vdev_destroy(struct arm_vsmmu_vdev *vdev)
{
	struct iommufd_viommu *viommu = vdev->core.viommu;
	struct arm_vsmmu *vsmmu = to_arm_vsmmu(viommu);

	down_write(&viommu->vdevs_rwsem);
	xa_cmpxchg(&vsmmu->routes,
		   arm_vsmmu_route_key(vsmmu, vdev->core.virt_id),
		   arm_vsmmu_route_entry(vdev->pidx, vdev->psid), NULL,
		   GFP_KERNEL);
	up_write(&viommu->vdevs_rwsem);
}

/*
 * Where guest commands naming @vsid go: the route table's entry, or with
 * vsmmu_route_table off the vDEVICE found in the core's vdev_id table.
 * The caller holds vdevs_rwsem for reading and the RCU read lock (see
 * arm_vsmmu_dispatch_chunk()). Return false for an unknown vSID.
 */
static bool arm_vsmmu_route(struct arm_vsmmu *vsmmu, u32 vsid,
			    unsigned int *pidx, u32 *psid)
{
	XA_STATE(xas, &vsmmu->routes, arm_vsmmu_route_key(vsmmu, vsid));
	struct iommufd_vdevice *vdev;
	struct arm_vsmmu_vdev *target;
	unsigned long route;
	void *entry;

	if (unlikely(!READ_ONCE(vsmmu_route_table))) {
		vdev = iommufd_viommu_find_vdev(&vsmmu->core, vsid);
		if (!vdev)
			return false;
		target = container_of(vdev, struct arm_vsmmu_vdev, core);
		*pidx = target->pidx;
		*psid = target->psid;
		return true;
	}
	/* xa_load() without its RCU read lock: the caller holds it */
	do {
		entry = xas_load(&xas);
	} while (xas_retry(&xas, entry));
	if (!xa_is_value(entry))
		return false;
	route = xa_to_value(entry);
	*pidx = FIELD_GET(ARM_VSMMU_ROUTE_PIDX, route);
	*psid = FIELD_GET(ARM_VSMMU_ROUTE_PSID, route);
	return true;
}

/* --- IOMMU_HWPT_INVALIDATE ---------------------------------------------- */

/* Commands of one round for one pSMMU */
struct arm_vsmmu_batch {
	unsigned int num;
	/* Index in the user array of the guest command of the first entry */
	u32 first;
	/* The CMD_SYNC written behind the batch, while it is waited for */
	struct arm_vsmmu_sync sync;
	u64 cmds[ARM_VSMMU_BATCH * CMDQ_ENT_DWORDS];
};

struct arm_vsmmu_round {
	struct arm_vsmmu *vsmmu;
	/* Guest commands [@base, @base + @num_read) of the user array */
	__le64 guest[ARM_VSMMU_CHUNK * CMDQ_ENT_DWORDS];
	u32 base;
	u32 num_read;
	/* The user memory ends after the commands read */
	int read_err;
	/* Some batch holds ARM_VSMMU_BATCH commands: the round must end */
	bool full;
	unsigned int num_batches;
	/* One per pSMMU of the vIOMMU, same index */
	struct arm_vsmmu_batch batch[] __counted_by(num_batches);
};

/* Range fields of TLBI_NH_VA/VAA, valid only with range invalidation */
static bool arm_vsmmu_range_ok(struct arm_vsmmu *vsmmu, u64 w0, u64 w1)
{
	u64 num = FIELD_GET(CMDQ_TLBI_0_NUM, w0);
	u64 scale = FIELD_GET(CMDQ_TLBI_0_SCALE, w0);
	u64 ttl = FIELD_GET(CMDQ_TLBI_1_TTL, w1);
	u64 tg = FIELD_GET(CMDQ_TLBI_1_TG, w1);

	if (!vsmmu->range_inv)
		return true;	/* the fields are rejected as unknown bits */
	if (tg == CMDQ_TLBI_TG_NONE)
		return !num && !scale && !ttl;
	/* A 16K granule with TTL 1 needs IDR5.DS, which no pSMMU offers */
	if (tg == CMDQ_TLBI_TG_16K && ttl == 1)
		return false;
	/* Reserved combination */
	return num || scale || ttl;
}

/*
 * Check a guest command against what its opcode may contain on every
 * spanned pSMMU. Return its enum arm_vsmmu_guest, ARM_VSMMU_HOST if it is
 * not acceptable.
 */
static u8 arm_vsmmu_cmd_check(struct arm_vsmmu *vsmmu, u64 w0, u64 w1)
{
	u8 op = FIELD_GET(CMDQ_0_OP, w0);
	const struct arm_vsmmu_cmd_desc *d = &arm_vsmmu_cmds[op];
	/* The fields of features the vIOMMU lacks are RES0 */
	u64 ok0 = d->w0 & ~((d->w0_ssid & vsmmu->no_ssid) |
			    (d->w0_range & vsmmu->no_range) |
			    (d->w0_asid16 & vsmmu->no_asid16));
	u64 ok1 = d->w1 & ~(d->w1_range & vsmmu->no_range);

	if ((w0 & ~ok0) | (w1 & ~ok1))
		return ARM_VSMMU_HOST;

	switch (op) {
	case CMDQ_OP_TLBI_NH_VA:
	case CMDQ_OP_TLBI_NH_VAA:
		if (!arm_vsmmu_range_ok(vsmmu, w0, w1))
			return ARM_VSMMU_HOST;
		break;
	case CMDQ_OP_ATC_INV:
		if (!vsmmu->ats ||
		    FIELD_GET(CMDQ_ATC_1_SIZE, w1) > CMDQ_ATC_1_SIZE_ALL)
			return ARM_VSMMU_HOST;
		break;
	}
	return d->guest;
}

static void arm_vsmmu_batch_add(struct arm_vsmmu_round *round,
				unsigned int pidx, u32 gidx, u64 w0, u64 w1)
{
	struct arm_vsmmu_batch *batch = &round->batch[pidx];

	if (!batch->num)
		batch->first = gidx;
	batch->cmds[batch->num * CMDQ_ENT_DWORDS] = w0;
	batch->cmds[batch->num * CMDQ_ENT_DWORDS + 1] = w1;
	if (++batch->num == ARM_VSMMU_BATCH)
		round->full = true;
}

/*
 * Rewrite guest command @gidx of the user array, read into the chunk, into
 * the pSMMU batches. Each command adds at most one entry per batch.
 */
static int arm_vsmmu_dispatch(struct arm_vsmmu_round *round, u32 gidx)
{
	struct arm_vsmmu *vsmmu = round->vsmmu;
	unsigned int c = (gidx - round->base) * CMDQ_ENT_DWORDS;
	u64 w0 = le64_to_cpu(round->guest[c]);
	u64 w1 = le64_to_cpu(round->guest[c + 1]);
	unsigned int i, pidx;
	u32 psid;

	switch (arm_vsmmu_cmd_check(vsmmu, w0, w1)) {
	case ARM_VSMMU_BY_SID:
		if (!arm_vsmmu_route(vsmmu, FIELD_GET(CMDQ_CFGI_0_SID, w0),
				     &pidx, &psid))
			return -EIO;
		w0 &= ~CMDQ_CFGI_0_SID;
		w0 |= FIELD_PREP(CMDQ_CFGI_0_SID, psid);
		arm_vsmmu_batch_add(round, pidx, gidx, w0, w1);
		return 0;
	case ARM_VSMMU_BY_VMID:
		break;
	default:
		return -EIO;
	}

	if (FIELD_GET(CMDQ_0_OP, w0) == CMDQ_OP_TLBI_NSNH_ALL) {
		w0 = FIELD_PREP(CMDQ_0_OP, CMDQ_OP_TLBI_NH_ALL);
		w1 = 0;
	}
	/* One copy per pSMMU holding a stage 1 of the vIOMMU */
	w0 &= ~CMDQ_TLBI_0_VMID;
	for (i = 0; i != vsmmu->num_pinsts; i++) {
		struct arm_vsmmu_pinst *p = &vsmmu->pinst[i];

		if (!atomic_read(&p->s1))
			continue;
		arm_vsmmu_batch_add(round, i, gidx,
				    w0 | FIELD_PREP(CMDQ_TLBI_0_VMID, p->vmid),
				    w1);
	}
	return 0;
}

/*
 * Dispatch the guest commands read into the chunk from *@pos on, until the
 * chunk's end, a full batch or a rejected command, whose error is returned;
 * *@pos is then the index of the first command not dispatched. Nothing here
 * sleeps, so the stretch takes the RCU read lock of the route table's
 * lookups once instead of once per command.
 */
static int arm_vsmmu_dispatch_chunk(struct arm_vsmmu_round *round, u32 *pos)
{
	u32 end = round->base + round->num_read;
	int rc = 0;

	rcu_read_lock();
	while (*pos != end && !round->full) {
		rc = arm_vsmmu_dispatch(round, *pos);
		if (rc)
			break;
		(*pos)++;
	}
	rcu_read_unlock();
	return rc;
}

/* A pSMMU failed its batch: nothing from the batch's first command counts */
static void arm_vsmmu_batch_failed(const struct arm_vsmmu_batch *batch,
				   int ret, u32 *failed_at, int *rc)
{
	if (batch->first < *failed_at) {
		*failed_at = batch->first;
		*rc = ret;
	}
}

/*
 * Issue and sync the round's batches. Return 0, or the error of a failing
 * pSMMU with *@failed_at lowered to the index of the first guest command
 * that did not complete.
 */
static int arm_vsmmu_flush(struct arm_vsmmu_round *round, u32 *failed_at)
{
	bool overlap = READ_ONCE(vsmmu_sync_overlap);
	struct arm_vsmmu *vsmmu = round->vsmmu;
	unsigned int i;
	int rc = 0;

	/* All queues first, so the pSMMUs work in parallel... */
	for (i = 0; i != vsmmu->num_pinsts; i++) {
		struct arm_vsmmu_smmu *smmu = vsmmu->pinst[i].smmu;
		struct arm_vsmmu_batch *batch = &round->batch[i];
		int ret;

		if (!batch->num)
			continue;
		ret = smmu->ops->issue(smmu, batch->cmds, batch->num);
		if (ret) {
			arm_vsmmu_batch_failed(batch, ret, failed_at, &rc);
			batch->num = 0;	/* nothing to sync */
		}
	}
	/* ...then a CMD_SYNC on each one that took commands... */
	for (i = 0; i != vsmmu->num_pinsts; i++) {
		struct arm_vsmmu_smmu *smmu = vsmmu->pinst[i].smmu;
		struct arm_vsmmu_batch *batch = &round->batch[i];
		int ret;

		if (!batch->num)
			continue;
		ret = smmu->ops->sync_start(smmu, &batch->sync);
		if (!ret && !overlap)
			ret = smmu->ops->sync_wait(smmu, &batch->sync);
		if (ret)
			arm_vsmmu_batch_failed(batch, ret, failed_at, &rc);
		if (ret || !overlap)
			batch->num = 0;	/* nothing to wait for */
	}
	/* ...then wait for each, the pSMMUs completing theirs together */
	for (i = 0; i != vsmmu->num_pinsts; i++) {
		struct arm_vsmmu_smmu *smmu = vsmmu->pinst[i].smmu;
		struct arm_vsmmu_batch *batch = &round->batch[i];
		int ret;

		if (!batch->num)
			continue;
		ret = smmu->ops->sync_wait(smmu, &batch->sync);
		if (ret)
			arm_vsmmu_batch_failed(batch, ret, failed_at, &rc);
	}
	return rc;
}

/*
 * Read the guest commands from @pos on into the chunk. When the user memory
 * ends within it, the entries read in full before the fault still run and
 * read_err tells the caller to stop after them.
 */
static void arm_vsmmu_read(struct arm_vsmmu_round *round,
			   struct iommu_user_data_array *array, u32 pos,
			   u32 total)
{
	const size_t entry = sizeof(struct iommu_viommu_arm_smmuv3_invalidate);
	unsigned int num = min_t(u32, total - pos, ARM_VSMMU_CHUNK);
	unsigned long left;

	left = copy_from_user(round->guest, array->uptr + (size_t)pos * entry,
			      num * entry);
	round->base = pos;
	round->num_read = (num * entry - left) / entry;
	round->read_err = left ? -EFAULT : 0;
}

/*
 * The working memory of a call: the vIOMMU's own if no other call holds it
 * (*@shared is then true and round_lock held), else memory of the call's.
 * Nothing in it needs clearing: the call sets what it reads.
 */
static struct arm_vsmmu_round *arm_vsmmu_round_get(struct arm_vsmmu *vsmmu,
						   bool *shared)
{
	size_t size = struct_size_t(struct arm_vsmmu_round, batch,
				    vsmmu->num_pinsts);

	*shared = false;
	if (!READ_ONCE(vsmmu_round_cache))
		return kvzalloc(size, GFP_KERNEL);
	if (mutex_trylock(&vsmmu->round_lock)) {
		if (!vsmmu->round)
			vsmmu->round = kvmalloc(size, GFP_KERNEL);
		if (vsmmu->round) {
			*shared = true;
			return vsmmu->round;
		}
		mutex_unlock(&vsmmu->round_lock);
	}
	return kvmalloc(size, GFP_KERNEL);
}

static void arm_vsmmu_round_put(struct arm_vsmmu *vsmmu,
				struct arm_vsmmu_round *round, bool shared)
{
	if (shared)
		mutex_unlock(&vsmmu->round_lock);
	else
		kvfree(round);
}

/**
 * arm_vsmmu_cache_invalidate() - iommufd_viommu_ops::cache_invalidate
 * @viommu: The vIOMMU, the core of a struct arm_vsmmu
 * @array: The request array of IOMMU_HWPT_INVALIDATE. On return its
 *         entry_num is the number of leading commands that were executed
 *         and synced on every pSMMU they went to.
 *
 * Return: 0 when every command completed; -EINVAL for a data type other
 * than IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3 or an entry_len other than
 * the size of struct iommu_viommu_arm_smmuv3_invalidate; -EIO for an
 * illegal command or an unknown virtual StreamID; -EFAULT for unreadable
 * memory; -ENOMEM; or the error of a pSMMU's command queue.
 */
int arm_vsmmu_cache_invalidate(struct iommufd_viommu *viommu,
			       struct iommu_user_data_array *array)
{
	const size_t entry = sizeof(struct iommu_viommu_arm_smmuv3_invalidate);
	struct arm_vsmmu *vsmmu = to_arm_vsmmu(viommu);
	u32 total = array->entry_num;
	struct arm_vsmmu_round *round;
	unsigned int i;
	bool shared;
	u32 done = 0;
	int rc = 0;

	array->entry_num = 0;
	if (array->type != IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3)
		return -EINVAL;
	if (!total)
		return 0;
	if (array->entry_len != entry)
		return -EINVAL;

	round = arm_vsmmu_round_get(vsmmu, &shared);
	if (!round)
		return -ENOMEM;
	round->num_batches = vsmmu->num_pinsts;
	round->vsmmu = vsmmu;
	/* No guest command read yet */
	round->base = 0;
	round->num_read = 0;
	round->read_err = 0;

	while (done != total && !rc) {
		u32 pos = done, failed_at;
		int stop = 0;

		for (i = 0; i != vsmmu->num_pinsts; i++)
			round->batch[i].num = 0;
		round->full = false;
		/*
		 * A vDEVICE routed in this round cannot be destroyed before
		 * the round's commands completed (arm_vsmmu_vdev_destroy());
		 * a destruction waits at most for one round, not for the
		 * whole call.
		 */
		down_read(&viommu->vdevs_rwsem);
		while (pos != total && !round->full && !stop) {
			if (pos == round->base + round->num_read) {
				stop = round->read_err;
				if (!stop)
					arm_vsmmu_read(round, array, pos,
						       total);
				continue;
			}
			stop = arm_vsmmu_dispatch_chunk(round, &pos);
		}

		failed_at = pos;
		rc = arm_vsmmu_flush(round, &failed_at);
		up_read(&viommu->vdevs_rwsem);
		done = failed_at;
		if (!rc)
			rc = stop;
		cond_resched();
	}

	arm_vsmmu_round_put(vsmmu, round, shared);
	array->entry_num = done;
	return rc;
}

/* --- Events -------------------------------------------------------------- */

/**
 * arm_vsmmu_evt_for_guest() - Whether a guest may see an event record
 * @evt: A pSMMU's event record, EVTQ_ENT_DWORDS words in CPU order
 *
 * The guest sees the configuration errors of the STE and CD fields it
 * controls and the faults of its stage-1 translation. Stage-2 faults, and
 * stalled transactions (which wait for a host response), are the host's.
 *
 * Return: true if @evt may be reported to the vIOMMU of its device.
 */
bool arm_vsmmu_evt_for_guest(const u64 *evt)
{
	switch (FIELD_GET(EVTQ_0_ID, evt[0])) {
	case EVT_ID_BAD_STE_CONFIG:
	case EVT_ID_STREAM_DISABLED_FAULT:
	case EVT_ID_BAD_SUBSTREAMID_CONFIG:
	case EVT_ID_BAD_CD_CONFIG:
	case EVT_ID_TRANSLATION_FAULT:
	case EVT_ID_ADDR_SIZE_FAULT:
	case EVT_ID_ACCESS_FAULT:
	case EVT_ID_PERMISSION_FAULT:
		return !(evt[1] & (EVTQ_1_S2 | EVTQ_1_STALL));
	}
	return false;
}

/**
 * arm_vsmmu_report_event() - Report an event record to a device's vIOMMU
 * @vdev: The vDEVICE of the device the record names; the caller keeps it
 *        alive, e.g. by holding the lock its destroy callback takes
 * @evt: The pSMMU's record, EVTQ_ENT_DWORDS words in CPU order, for which
 *       arm_vsmmu_evt_for_guest() holds
 *
 * The guest gets the record with the physical StreamID replaced by its
 * virtual one and every other field as the pSMMU wrote it, in the
 * vIOMMU's IOMMU_VEVENTQ_TYPE_ARM_SMMUV3 vEVENTQ. May sleep.
 *
 * Return: what iommufd_viommu_report_event() returns: 0 if the record was
 * queued or counted as lost, -EOPNOTSUPP if the vIOMMU has no such
 * vEVENTQ, -ENOMEM if it was lost for lack of memory.
 */
int arm_vsmmu_report_event(struct arm_vsmmu_vdev *vdev, const u64 *evt)
{
	struct iommu_vevent_arm_smmuv3 vevt;
	unsigned int i;

	vevt.evt[0] = cpu_to_le64((evt[0] & ~EVTQ_0_SID) |
				  FIELD_PREP(EVTQ_0_SID, vdev->core.virt_id));
	for (i = 1; i != EVTQ_ENT_DWORDS; i++)
		vevt.evt[i] = cpu_to_le64(evt[i]);
	return iommufd_viommu_report_event(vdev->core.viommu,
					   IOMMU_VEVENTQ_TYPE_ARM_SMMUV3,
					   &vevt, sizeof(vevt));
}
