// SPDX-License-Identifier: GPL-2.0-only
/*
 * The vEVENTQ object: IOMMU_VEVENTQ_ALLOC, the file a VMM reads a vIOMMU's
 * events from, and iommufd_viommu_report_event(), through which a driver
 * queues them. The core knows nothing of the events' format: the type of
 * the vEVENTQ names it, and the driver fills it in.
 *
 * Sequence numbers. Every reported event takes the queue's next number,
 * from 0 to INT_MAX and around again, whether it is queued or dropped. An
 * event is dropped when the queue holds @depth events or its memory cannot
 * be had; then the queue's lost-events header, which carries no data, is
 * put at the tail with the number of the dropped event (moved there again,
 * renumbered, at every further drop). The next event that is queued takes
 * its place, and the gap in the numbers tells the reader what was lost.
 */
#include <linux/anon_inodes.h>
#include <linux/bits.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/iommufd.h>
#include <linux/limits.h>
#include <linux/overflow.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <uapi/linux/iommufd.h>

#include "viommu.h"

/* Upstream's limit on veventq_depth, which every known IOMMU fits in */
#define IOMMUFD_VEVENTQ_MAX_DEPTH	BIT(19)

static struct iommufd_veventq *
iommufd_veventq_find(struct iommufd_viommu *viommu, u32 type)
{
	struct iommufd_veventq *veventq;

	lockdep_assert_held(&viommu->veventqs_rwsem);
	list_for_each_entry(veventq, &viommu->veventqs, node)
		if (veventq->type == type)
			return veventq;
	return NULL;
}

static bool iommufd_veventq_lost_queued(struct iommufd_veventq *veventq)
{
	return !list_empty(&veventq->lost.node);
}

/* Give @vevent the next sequence number and queue it; under veventq->lock */
static void iommufd_veventq_queue(struct iommufd_veventq *veventq,
				  struct iommufd_vevent *vevent)
{
	lockdep_assert_held(&veventq->lock);

	/* Whenever it is queued, the lost-events header is the last entry */
	if (iommufd_veventq_lost_queued(veventq))
		list_del_init(&veventq->lost.node);
	vevent->header.sequence = veventq->sequence;
	veventq->sequence = (veventq->sequence + 1) & INT_MAX;
	list_add_tail(&vevent->node, &veventq->deliver);
	wake_up_interruptible_poll(&veventq->wait_queue, EPOLLIN | EPOLLRDNORM);
}

/**
 * iommufd_viommu_report_event() - Queue an event for the VMM
 * @viommu: The vIOMMU the event belongs to
 * @type: enum iommu_veventq_type: the vEVENTQ it goes to, and the format of
 *        @event_data
 * @event_data: The event, as the uAPI defines it for @type
 * @data_len: Its size in bytes
 *
 * Called by a driver in process context (it may sleep), for example from
 * its event queue's threaded interrupt handler. The event is copied; it is
 * dropped, and counted in the sequence numbers, when the vEVENTQ is full.
 *
 * Return: 0 when the event was queued or dropped for a full queue,
 * -EOPNOTSUPP when @viommu has no vEVENTQ of @type, -ENOMEM when it was
 * dropped for lack of memory, -EINVAL for an empty event.
 */
int iommufd_viommu_report_event(struct iommufd_viommu *viommu,
				enum iommu_veventq_type type,
				const void *event_data, size_t data_len)
{
	struct iommufd_veventq *veventq;
	struct iommufd_vevent *vevent;
	int rc = 0;

	if (WARN_ON_ONCE(!event_data || !data_len))
		return -EINVAL;

	down_read(&viommu->veventqs_rwsem);
	veventq = iommufd_veventq_find(viommu, type);
	if (!veventq) {
		rc = -EOPNOTSUPP;
		goto out_unlock;
	}

	/* The caller may hold locks a reclaim would need */
	vevent = kzalloc(struct_size(vevent, data, data_len), GFP_NOWAIT);
	if (vevent) {
		vevent->data_len = data_len;
		memcpy(vevent->data, event_data, data_len);
	} else {
		rc = -ENOMEM;
	}

	spin_lock(&veventq->lock);
	if (vevent && veventq->num_events < veventq->depth) {
		veventq->num_events++;
	} else {
		kfree(vevent);
		vevent = &veventq->lost;
	}
	iommufd_veventq_queue(veventq, vevent);
	spin_unlock(&veventq->lock);
out_unlock:
	up_read(&viommu->veventqs_rwsem);
	return rc;
}
EXPORT_SYMBOL_NS_GPL(iommufd_viommu_report_event, IOMMUFD);

static ssize_t iommufd_veventq_fops_read(struct file *filep, char __user *buf,
					 size_t count, loff_t *ppos)
{
	struct iommufd_veventq *veventq = filep->private_data;
	struct iommufd_vevent_header hdr;
	struct iommufd_vevent *cur;
	size_t done = 0, len;
	ssize_t rc = 0;

	if (*ppos)
		return -ESPIPE;
	if (count < sizeof(hdr))
		return -EINVAL;

	/*
	 * Only readers remove queued events, one at a time under this mutex,
	 * so the first entry stays while it is copied out. A reporter may only
	 * take the lost-events header away or renumber it, so it is copied
	 * under the lock and consumed only if it did not change.
	 */
	mutex_lock(&veventq->read_mutex);
	while (count - done >= sizeof(hdr)) {
		spin_lock(&veventq->lock);
		cur = list_first_entry_or_null(&veventq->deliver,
					       struct iommufd_vevent, node);
		if (cur)
			hdr = cur->header;
		spin_unlock(&veventq->lock);
		if (!cur)
			break;

		len = cur->data_len;
		if (len > count - done - sizeof(hdr)) {
			/* Events are returned whole */
			if (!done)
				rc = -EINVAL;
			break;
		}
		if (copy_to_user(buf + done, &hdr, sizeof(hdr)) ||
		    copy_to_user(buf + done + sizeof(hdr), cur->data, len)) {
			rc = -EFAULT;
			break;
		}

		spin_lock(&veventq->lock);
		if (cur != &veventq->lost) {
			list_del(&cur->node);
			veventq->num_events--;
		} else if (iommufd_veventq_lost_queued(veventq) &&
			   cur->header.sequence == hdr.sequence) {
			list_del_init(&cur->node);
		}
		spin_unlock(&veventq->lock);
		if (cur != &veventq->lost)
			kfree(cur);
		done += sizeof(hdr) + len;
	}
	mutex_unlock(&veventq->read_mutex);

	return done ? done : rc;
}

static __poll_t iommufd_veventq_fops_poll(struct file *filep,
					  struct poll_table_struct *wait)
{
	struct iommufd_veventq *veventq = filep->private_data;
	__poll_t mask = 0;

	poll_wait(filep, &veventq->wait_queue, wait);
	spin_lock(&veventq->lock);
	if (!list_empty(&veventq->deliver))
		mask = EPOLLIN | EPOLLRDNORM;
	spin_unlock(&veventq->lock);
	return mask;
}

static int iommufd_veventq_fops_release(struct inode *inode,
					struct file *filep)
{
	struct iommufd_veventq *veventq = filep->private_data;
	/* Once the reference is dropped, the vEVENTQ may be freed */
	struct iommufd_ctx *ictx = veventq->ictx;

	refcount_dec(&veventq->obj.users);
	iommufd_ctx_put(ictx);
	return 0;
}

static const struct file_operations iommufd_veventq_fops = {
	.owner = THIS_MODULE,
	.read = iommufd_veventq_fops_read,
	.poll = iommufd_veventq_fops_poll,
	.release = iommufd_veventq_fops_release,
};

/**
 * iommufd_veventq_abort() - Undo a vEVENTQ whose allocation failed
 * @obj: The vEVENTQ
 *
 * Also the second half of iommufd_veventq_destroy(). The caller holds the
 * vIOMMU's veventqs_rwsem for writing, so no event is being reported.
 */
void iommufd_veventq_abort(struct iommufd_object *obj)
{
	struct iommufd_veventq *veventq =
		container_of(obj, struct iommufd_veventq, obj);
	struct iommufd_viommu *viommu = veventq->viommu;
	struct iommufd_vevent *cur, *next;

	lockdep_assert_held_write(&viommu->veventqs_rwsem);
	list_for_each_entry_safe(cur, next, &veventq->deliver, node) {
		list_del(&cur->node);
		if (cur != &veventq->lost)
			kfree(cur);
	}
	list_del(&veventq->node);
	mutex_destroy(&veventq->read_mutex);
	refcount_dec(&viommu->obj.users);
}

void iommufd_veventq_destroy(struct iommufd_object *obj)
{
	struct iommufd_veventq *veventq =
		container_of(obj, struct iommufd_veventq, obj);
	struct iommufd_viommu *viommu = veventq->viommu;

	down_write(&viommu->veventqs_rwsem);
	iommufd_veventq_abort(obj);
	up_write(&viommu->veventqs_rwsem);
}

int iommufd_veventq_alloc_ioctl(struct iommufd_ucmd *ucmd)
{
	struct iommu_veventq_alloc *cmd = ucmd->cmd;
	struct iommufd_veventq *veventq;
	struct iommufd_viommu *viommu;
	struct iommufd_object *obj;
	struct file *filep;
	int fdno, rc;

	/* Upstream's checks, in upstream's order */
	if (cmd->flags || cmd->__reserved ||
	    cmd->type == IOMMU_VEVENTQ_TYPE_DEFAULT)
		return -EOPNOTSUPP;
	if (!cmd->veventq_depth ||
	    cmd->veventq_depth > IOMMUFD_VEVENTQ_MAX_DEPTH)
		return -EINVAL;

	obj = iommufd_get_object(ucmd->ictx, cmd->viommu_id,
				 IOMMUFD_OBJ_VIOMMU);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	viommu = container_of(obj, struct iommufd_viommu, obj);

	/* Held until the new vEVENTQ is in the list, or undone */
	down_write(&viommu->veventqs_rwsem);
	if (iommufd_veventq_find(viommu, cmd->type)) {
		rc = -EEXIST;
		goto out_unlock;
	}

	veventq = iommufd_object_alloc(ucmd->ictx, veventq,
				       IOMMUFD_OBJ_VEVENTQ);
	if (IS_ERR(veventq)) {
		rc = PTR_ERR(veventq);
		goto out_unlock;
	}
	veventq->ictx = ucmd->ictx;
	veventq->viommu = viommu;
	veventq->type = cmd->type;
	veventq->depth = cmd->veventq_depth;
	spin_lock_init(&veventq->lock);
	mutex_init(&veventq->read_mutex);
	INIT_LIST_HEAD(&veventq->deliver);
	init_waitqueue_head(&veventq->wait_queue);
	INIT_LIST_HEAD(&veventq->lost.node);
	veventq->lost.header.flags = IOMMU_VEVENTQ_FLAG_LOST_EVENTS;
	refcount_inc(&viommu->obj.users);
	list_add_tail(&veventq->node, &viommu->veventqs);

	filep = anon_inode_getfile("[iommufd-viommu-event]",
				   &iommufd_veventq_fops, veventq, O_RDWR);
	if (IS_ERR(filep)) {
		rc = PTR_ERR(filep);
		goto out_abort;
	}
	/* The file holds the vEVENTQ and the context until it is released */
	refcount_inc(&veventq->obj.users);
	iommufd_ctx_get(veventq->ictx);
	veventq->filep = filep;

	fdno = get_unused_fd_flags(O_CLOEXEC);
	if (fdno < 0) {
		rc = fdno;
		goto out_abort;
	}

	cmd->out_veventq_id = veventq->obj.id;
	cmd->out_veventq_fd = fdno;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		goto out_put_fdno;
	iommufd_object_finalize(ucmd->ictx, &veventq->obj);
	fd_install(fdno, filep);
	goto out_unlock;

out_put_fdno:
	put_unused_fd(fdno);
out_abort:
	/* Releases the file first, then iommufd_veventq_abort() */
	iommufd_object_abort_and_destroy(ucmd->ictx, &veventq->obj);
out_unlock:
	up_write(&viommu->veventqs_rwsem);
	iommufd_put_object(ucmd->ictx, &viommu->obj);
	return rc;
}
