// SPDX-License-Identifier: GPL-2.0-only
/*
 * The vSMMU invalidation dispatcher: IOMMU_HWPT_INVALIDATE on a vIOMMU that
 * models an ARM SMMUv3 spanning one or more physical SMMUs (pSMMUs).
 *
 * The guest's commands are read VSMMU_CHUNK entries at a time and each
 * pSMMU's share is gathered in a batch of at most VSMMU_BATCH commands, so
 * the memory used is bounded whatever entry_num is. Each command is checked
 * against the fields its opcode defines on every spanned pSMMU, then
 * translated and routed:
 *
 * - ATC_INV, CFGI_CD and CFGI_CD_ALL name a device by its virtual StreamID;
 *   the vIOMMU's vdev_id table gives its pSMMU and physical StreamID, and
 *   the command goes to that pSMMU alone.
 * - TLBI_NH_* name the VM by VMID. VMIDs are per pSMMU, so the command is
 *   sent, with that pSMMU's VMID, to every pSMMU where a device is attached
 *   to a stage-1 nested domain of this vIOMMU, and nowhere else.
 *   TLBI_NSNH_ALL becomes TLBI_NH_ALL of the VMID.
 *
 * Per pSMMU the commands keep the guest's order. A round of guest commands
 * ends when a pSMMU's batch is full, at the end of the array, or at a
 * rejected command; then every pSMMU that got commands in the round is
 * written its batch and a CMD_SYNC, and the round counts only once the
 * syncs completed. So each pSMMU syncs about once per VSMMU_BATCH of its
 * own commands, as often as if the VMM had split the array per pSMMU. A
 * rejected command ends the call after the commands before it completed;
 * nothing after it is issued.
 */
#include <linux/bitfield.h>
#include <linux/iommu.h>
#include <linux/iommufd_viommu.h>
#include <linux/iommufd_vsmmu.h>
#include <linux/slab.h>
#include <linux/smmuv3_cmdq.h>
#include <linux/uaccess.h>
#include <uapi/linux/iommufd.h>

/* Guest commands read from the user at a time */
#define VSMMU_CHUNK	128
/* Commands gathered for one pSMMU before a round ends */
#define VSMMU_BATCH	128

/* What every spanned pSMMU can execute: the vSMMU's guest-visible features */
struct vsmmu_features {
	u8 asid_bits;
	u8 ssid_bits;
	bool range_inv;
	bool ats;
};

/* Commands of one round for one pSMMU */
struct vsmmu_batch {
	unsigned int num;
	/* Index in the user array of the guest command of the first entry */
	u32 first;
	u64 cmds[VSMMU_BATCH * SMMUV3_CMD_WORDS];
};

struct vsmmu_round {
	struct iommufd_vsmmu *vsmmu;
	struct vsmmu_features feat;
	/* Guest commands [@base, @base + @num_read) of the user array */
	__le64 guest[VSMMU_CHUNK * SMMUV3_CMD_WORDS];
	u32 base;
	u32 num_read;
	/* The user memory ends after the commands read */
	int read_err;
	/* Some batch holds VSMMU_BATCH commands: the round must end */
	bool full;
	unsigned int num_batches;
	/* One per pSMMU of the vSMMU, same index */
	struct vsmmu_batch batch[] __counted_by(num_batches);
};

/**
 * iommufd_vsmmu_s1_attached() - Track where stage-1 nested domains live
 * @vsmmu: The vSMMU
 * @pidx: Index of the pSMMU of a device
 * @attached: true when the device was attached to a stage-1 translating
 *            nested domain of @vsmmu, false when it left one
 *
 * The driver reports every such change, including both halves of a
 * replace. VMID-scoped invalidations go to the pSMMUs whose count is not
 * zero.
 */
void iommufd_vsmmu_s1_attached(struct iommufd_vsmmu *vsmmu, unsigned int pidx,
			       bool attached)
{
	if (WARN_ON(pidx >= vsmmu->num_pinsts))
		return;
	if (attached)
		atomic_inc(&vsmmu->pinst[pidx].s1_attached);
	else
		WARN_ON(atomic_dec_return(&vsmmu->pinst[pidx].s1_attached) < 0);
}
EXPORT_SYMBOL_NS_GPL(iommufd_vsmmu_s1_attached, IOMMUFD);

static void vsmmu_features(struct iommufd_vsmmu *vsmmu,
			   struct vsmmu_features *feat)
{
	unsigned int i;

	feat->asid_bits = 16;
	feat->ssid_bits = 20;
	feat->range_inv = true;
	feat->ats = true;
	for (i = 0; i != vsmmu->num_pinsts; i++) {
		struct iommufd_vsmmu_pinst *p = &vsmmu->pinst[i];

		feat->asid_bits = min(feat->asid_bits, p->asid_bits);
		feat->ssid_bits = min(feat->ssid_bits, p->ssid_bits);
		feat->range_inv &= p->range_inv;
		feat->ats &= p->ats;
	}
}

/* Range fields of TLBI_NH_VA/VAA, valid only with range invalidation */
static bool vsmmu_range_ok(const struct vsmmu_features *feat, u64 w0, u64 w1)
{
	u64 num = FIELD_GET(SMMUV3_CMD0_NUM, w0);
	u64 scale = FIELD_GET(SMMUV3_CMD0_SCALE, w0);
	u64 ttl = FIELD_GET(SMMUV3_CMD1_TTL, w1);
	u64 tg = FIELD_GET(SMMUV3_CMD1_TG, w1);

	if (!feat->range_inv)
		return true;	/* the fields are rejected as unknown bits */
	if (tg == SMMUV3_TG_NONE)
		return !num && !scale && !ttl;
	/* A 16K granule with TTL 1 needs IDR5.DS, which no pSMMU offers */
	if (tg == SMMUV3_TG_16K && ttl == 1)
		return false;
	/* Reserved combination */
	return num || scale || ttl;
}

/*
 * Check a guest command against its opcode's fields. Return true for a
 * command whose opcode is accepted and that sets no other bit.
 */
static bool vsmmu_cmd_valid(const struct vsmmu_features *feat, u64 w0, u64 w1)
{
	u64 asid = feat->asid_bits == 16 ? SMMUV3_CMD0_ASID :
					   GENMASK_ULL(55, 48);
	u64 range0 = feat->range_inv ? SMMUV3_CMD0_NUM | SMMUV3_CMD0_SCALE : 0;
	u64 range1 = feat->range_inv ? SMMUV3_CMD1_TTL | SMMUV3_CMD1_TG : 0;
	u64 ssid = feat->ssid_bits ? SMMUV3_CMD0_SSID : 0;
	u64 ok0 = SMMUV3_CMD0_OP, ok1 = 0;

	switch (FIELD_GET(SMMUV3_CMD0_OP, w0)) {
	case SMMUV3_OP_TLBI_NSNH_ALL:
		break;
	case SMMUV3_OP_TLBI_NH_ALL:
		ok0 |= SMMUV3_CMD0_VMID;
		break;
	case SMMUV3_OP_TLBI_NH_ASID:
		ok0 |= SMMUV3_CMD0_VMID | asid;
		break;
	case SMMUV3_OP_TLBI_NH_VA:
		ok0 |= asid;
		fallthrough;
	case SMMUV3_OP_TLBI_NH_VAA:
		ok0 |= SMMUV3_CMD0_VMID | range0;
		ok1 |= SMMUV3_CMD1_LEAF | SMMUV3_CMD1_ADDR | range1;
		if (!vsmmu_range_ok(feat, w0, w1))
			return false;
		break;
	case SMMUV3_OP_ATC_INV:
		if (!feat->ats ||
		    FIELD_GET(SMMUV3_CMD1_ATC_SIZE, w1) > SMMUV3_ATC_INV_SIZE_ALL)
			return false;
		ok0 |= SMMUV3_CMD0_SID;
		if (ssid)
			ok0 |= SMMUV3_CMD0_SSV | ssid | SMMUV3_CMD0_GLOBAL;
		ok1 |= SMMUV3_CMD1_ATC_SIZE | SMMUV3_CMD1_ADDR;
		break;
	case SMMUV3_OP_CFGI_CD:
		ok0 |= SMMUV3_CMD0_SID | ssid;
		ok1 |= SMMUV3_CMD1_LEAF;
		break;
	case SMMUV3_OP_CFGI_CD_ALL:
		ok0 |= SMMUV3_CMD0_SID;
		break;
	default:
		return false;
	}
	return !(w0 & ~ok0) && !(w1 & ~ok1);
}

static void vsmmu_batch_add(struct vsmmu_round *round, unsigned int pidx,
			    u32 gidx, u64 w0, u64 w1)
{
	struct vsmmu_batch *batch = &round->batch[pidx];

	if (!batch->num)
		batch->first = gidx;
	batch->cmds[batch->num * SMMUV3_CMD_WORDS] = w0;
	batch->cmds[batch->num * SMMUV3_CMD_WORDS + 1] = w1;
	if (++batch->num == VSMMU_BATCH)
		round->full = true;
}

/*
 * Translate guest command @gidx of the user array, read into the chunk,
 * into the pSMMU batches. Each command adds at most one entry per batch.
 */
static int vsmmu_dispatch(struct vsmmu_round *round, u32 gidx)
{
	struct iommufd_vsmmu *vsmmu = round->vsmmu;
	unsigned int c = (gidx - round->base) * SMMUV3_CMD_WORDS;
	u64 w0 = le64_to_cpu(round->guest[c]);
	u64 w1 = le64_to_cpu(round->guest[c + 1]);
	struct iommufd_vsmmu_vdev *target;
	struct iommufd_vdevice *vdev;
	unsigned int i;

	if (!vsmmu_cmd_valid(&round->feat, w0, w1))
		return -EIO;

	switch (FIELD_GET(SMMUV3_CMD0_OP, w0)) {
	case SMMUV3_OP_ATC_INV:
	case SMMUV3_OP_CFGI_CD:
	case SMMUV3_OP_CFGI_CD_ALL:
		vdev = iommufd_viommu_find_vdev(vsmmu->viommu,
						FIELD_GET(SMMUV3_CMD0_SID, w0));
		if (!vdev)
			return -EIO;
		target = iommufd_vdevice_priv(vdev);
		w0 &= ~SMMUV3_CMD0_SID;
		w0 |= FIELD_PREP(SMMUV3_CMD0_SID, target->psid);
		vsmmu_batch_add(round, target->pidx, gidx, w0, w1);
		return 0;
	case SMMUV3_OP_TLBI_NSNH_ALL:
		w0 = FIELD_PREP(SMMUV3_CMD0_OP, SMMUV3_OP_TLBI_NH_ALL);
		w1 = 0;
		break;
	}

	/* VMID-scoped: one copy per pSMMU holding a stage-1 of the vSMMU */
	w0 &= ~SMMUV3_CMD0_VMID;
	for (i = 0; i != vsmmu->num_pinsts; i++) {
		struct iommufd_vsmmu_pinst *p = &vsmmu->pinst[i];

		if (!atomic_read(&p->s1_attached))
			continue;
		vsmmu_batch_add(round, i, gidx,
				w0 | FIELD_PREP(SMMUV3_CMD0_VMID, p->vmid), w1);
	}
	return 0;
}

/* A pSMMU failed its batch: nothing from the batch's first command counts */
static void vsmmu_batch_failed(const struct vsmmu_batch *batch, int ret,
			       u32 *failed_at, int *rc)
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
static int vsmmu_flush(struct vsmmu_round *round, u32 *failed_at)
{
	struct iommufd_vsmmu *vsmmu = round->vsmmu;
	unsigned int i;
	int rc = 0;

	/* All queues first, so the pSMMUs work in parallel... */
	for (i = 0; i != vsmmu->num_pinsts; i++) {
		struct iommufd_vsmmu_pinst *p = &vsmmu->pinst[i];
		struct vsmmu_batch *batch = &round->batch[i];
		int ret;

		if (!batch->num)
			continue;
		ret = p->ops->issue(p->cookie, batch->cmds, batch->num);
		if (ret) {
			vsmmu_batch_failed(batch, ret, failed_at, &rc);
			batch->num = 0;	/* nothing to sync */
		}
	}
	/* ...then wait for each one that took commands */
	for (i = 0; i != vsmmu->num_pinsts; i++) {
		struct iommufd_vsmmu_pinst *p = &vsmmu->pinst[i];
		struct vsmmu_batch *batch = &round->batch[i];
		int ret;

		if (!batch->num)
			continue;
		ret = p->ops->sync(p->cookie);
		if (ret)
			vsmmu_batch_failed(batch, ret, failed_at, &rc);
	}
	return rc;
}

/*
 * Read the guest commands from @pos on into the chunk. When the user memory
 * ends within it, the entries read in full before the fault still run and
 * read_err tells the caller to stop after them.
 */
static void vsmmu_read(struct vsmmu_round *round,
		       struct iommu_user_data_array *array, u32 pos, u32 total)
{
	const size_t entry = sizeof(struct iommu_viommu_arm_smmuv3_invalidate);
	unsigned int num = min_t(u32, total - pos, VSMMU_CHUNK);
	unsigned long left;

	left = copy_from_user(round->guest, array->uptr + (size_t)pos * entry,
			      num * entry);
	round->base = pos;
	round->num_read = (num * entry - left) / entry;
	round->read_err = left ? -EFAULT : 0;
}

/**
 * iommufd_vsmmu_invalidate() - Execute a guest's SMMUv3 invalidation batch
 * @vsmmu: The vSMMU, the driver's description of the vIOMMU's pSMMUs
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
int iommufd_vsmmu_invalidate(struct iommufd_vsmmu *vsmmu,
			     struct iommu_user_data_array *array)
{
	const size_t entry = sizeof(struct iommu_viommu_arm_smmuv3_invalidate);
	u32 total = array->entry_num;
	struct vsmmu_round *round;
	unsigned int i;
	u32 done = 0;
	int rc = 0;

	array->entry_num = 0;
	if (array->type != IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3)
		return -EINVAL;
	if (!total)
		return 0;
	if (array->entry_len != entry)
		return -EINVAL;

	round = kvzalloc(struct_size(round, batch, vsmmu->num_pinsts),
			 GFP_KERNEL);
	if (!round)
		return -ENOMEM;
	round->num_batches = vsmmu->num_pinsts;
	round->vsmmu = vsmmu;
	vsmmu_features(vsmmu, &round->feat);

	while (done != total && !rc) {
		u32 pos = done, failed_at;
		int stop = 0;

		for (i = 0; i != vsmmu->num_pinsts; i++)
			round->batch[i].num = 0;
		round->full = false;
		/*
		 * A vDEVICE found in this round cannot be destroyed before the
		 * round's commands completed; a destruction waits at most for
		 * one round, not for the whole call.
		 */
		iommufd_viommu_lock_vdevs(vsmmu->viommu);
		while (pos != total && !round->full && !stop) {
			if (pos == round->base + round->num_read) {
				stop = round->read_err;
				if (!stop)
					vsmmu_read(round, array, pos, total);
				continue;
			}
			stop = vsmmu_dispatch(round, pos);
			if (!stop)
				pos++;
		}

		failed_at = pos;
		rc = vsmmu_flush(round, &failed_at);
		iommufd_viommu_unlock_vdevs(vsmmu->viommu);
		done = failed_at;
		if (!rc)
			rc = stop;
		cond_resched();
	}

	kvfree(round);
	array->entry_num = done;
	return rc;
}
EXPORT_SYMBOL_NS_GPL(iommufd_vsmmu_invalidate, IOMMUFD);
