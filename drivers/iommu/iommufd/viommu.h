/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vIOMMU and vDEVICE objects of iommufd: what this project's files and the
 * hooks patched into the 6.12 iommufd sources share. The objects themselves
 * are in <linux/iommufd_viommu.h>, where drivers see them.
 */
#ifndef __IOMMUFD_VIOMMU_H
#define __IOMMUFD_VIOMMU_H

#include <linux/iommufd_viommu.h>

#include "iommufd_private.h"

struct iommu_user_data;

/* viommu_driver.c */
const struct iommufd_viommu_driver *
iommufd_viommu_driver_get(const struct iommu_ops *ops);
void iommufd_viommu_driver_put(const struct iommufd_viommu_driver *drv);

/* viommu.c */
bool iommufd_viommu_serves(struct iommufd_viommu *viommu, struct device *dev);
int iommufd_viommu_alloc_ioctl(struct iommufd_ucmd *ucmd);
void iommufd_viommu_destroy(struct iommufd_object *obj);
struct iommufd_hwpt_nested *
iommufd_viommu_alloc_hwpt_nested(struct iommufd_ctx *ictx,
				 struct iommufd_viommu *viommu,
				 struct iommufd_device *idev, u32 flags,
				 const struct iommu_user_data *user_data);

/* veventq.c */

/**
 * struct iommufd_vevent - an event waiting in a vEVENTQ
 * @node: In iommufd_veventq::deliver
 * @header: What read() returns before @data
 * @data_len: Bytes of @data; 0 for the lost-events header
 * @data: The event, in the format of the vEVENTQ's type
 */
struct iommufd_vevent {
	struct list_head node;
	struct iommufd_vevent_header header;
	size_t data_len;
	u8 data[] __counted_by(data_len);
};

/**
 * struct iommufd_veventq - a vIOMMU's event queue (IOMMUFD_OBJ_VEVENTQ)
 * @obj: iommufd object header; first, as the object's file needs
 * @ictx: iommufd context; the file holds a reference on it
 * @filep: The file read() returns events from; holds a users reference
 * @viommu: The vIOMMU; the vEVENTQ holds a users reference on it
 * @node: In iommufd_viommu::veventqs, under its veventqs_rwsem
 * @type: enum iommu_veventq_type
 * @depth: Events the queue keeps at most
 * @lock: Protects @deliver, @num_events, @sequence and @lost
 * @read_mutex: Serialises readers, the only ones that remove events
 * @deliver: Queued events, oldest first; @lost may be last
 * @num_events: Events in @deliver, @lost not counted
 * @sequence: Sequence number the next reported event gets
 * @wait_queue: Readers and pollers waiting for an event
 * @lost: The lost-events header, queued last while events were dropped
 *        after the newest queued one
 */
struct iommufd_veventq {
	struct iommufd_object obj;
	struct iommufd_ctx *ictx;
	struct file *filep;
	struct iommufd_viommu *viommu;
	struct list_head node;
	u32 type;
	u32 depth;
	spinlock_t lock;	/* see above */
	struct mutex read_mutex;	/* see above */
	struct list_head deliver;
	u32 num_events;
	u32 sequence;
	struct wait_queue_head wait_queue;
	struct iommufd_vevent lost;
};

int iommufd_veventq_alloc_ioctl(struct iommufd_ucmd *ucmd);
void iommufd_veventq_destroy(struct iommufd_object *obj);
void iommufd_veventq_abort(struct iommufd_object *obj);

/* vdevice.c */
int iommufd_vdevice_alloc_ioctl(struct iommufd_ucmd *ucmd);
void iommufd_vdevice_destroy(struct iommufd_object *obj);
void iommufd_device_remove_vdevice(struct iommufd_device *idev);

/* device.c (patches/iommufd) */
void iommufd_put_group(struct iommufd_group *group);

#endif /* __IOMMUFD_VIOMMU_H */
