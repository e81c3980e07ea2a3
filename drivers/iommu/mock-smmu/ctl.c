// SPDX-License-Identifier: GPL-2.0-only
/*
 * Mock SMMU test interface: /dev/mock_smmu creates mock platform devices
 * behind a chosen pSMMU and binds them to iommufd with the same exported
 * calls VFIO uses. Devices belong to the open file that created them.
 */
#include <linux/file.h>
#include <linux/iommufd.h>
#include <linux/miscdevice.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "../arm/arm-smmu-v3/arm-smmu-v3-vsmmu.h"
#include "mock-smmu.h"
#include "mock_smmu.h"

struct mock_ctl {
	struct mutex lock;	/* serialises all device operations */
	struct xarray devs;	/* handle -> struct mock_dev */
};

static void mock_dev_unbind(struct mock_dev *mdev)
{
	if (mdev->attached)
		iommufd_device_detach(mdev->idev);
	mdev->attached = false;
	iommufd_device_unbind(mdev->idev);
	mdev->idev = NULL;
}

static void mock_dev_destroy(struct mock_ctl *ctl, struct mock_dev *mdev)
{
	if (mdev->idev)
		mock_dev_unbind(mdev);
	platform_device_unregister(mdev->pdev);
	xa_erase(&ctl->devs, mdev->handle);
	mock_stream_remove(mdev);
	kfree(mdev);
}

/*
 * MOCK_SMMU_DEV_CREATE, MOCK_SMMU_DEV_BIND and MOCK_SMMU_DEV_ATTACH write
 * their answer to @uarg themselves, under the file's lock, and undo what
 * they did when that copy fails: the caller gets EFAULT and the device as
 * it was before, so that a retry succeeds (VFIO's bind and attach do the
 * same).
 */
static int mock_dev_create(struct mock_ctl *ctl,
			   struct mock_smmu_dev_create *cmd, void __user *uarg)
{
	struct mock_pdata pdata;
	struct mock_psmmu *psmmu;
	struct mock_dev *mdev;
	int rc;

	psmmu = mock_psmmu_get(cmd->psmmu);
	if (!psmmu || cmd->__reserved)
		return -EINVAL;

	mdev = kzalloc(sizeof(*mdev), GFP_KERNEL);
	if (!mdev)
		return -ENOMEM;
	mdev->psmmu = psmmu;
	mdev->sid = cmd->sid;
	pdata.mdev = mdev;

	rc = mock_stream_add(mdev);
	if (rc)
		goto err_free;
	rc = xa_alloc(&ctl->devs, &mdev->handle, mdev, xa_limit_31b,
		      GFP_KERNEL);
	if (rc)
		goto err_stream;

	mdev->pdev = platform_device_alloc("mock-smmu-dev", PLATFORM_DEVID_AUTO);
	if (!mdev->pdev) {
		rc = -ENOMEM;
		goto err_handle;
	}
	/* mock_probe_device() recognises its devices by this type */
	mdev->pdev->dev.type = &mock_dev_type;
	rc = platform_device_add_data(mdev->pdev, &pdata, sizeof(pdata));
	if (rc)
		goto err_put;
	rc = platform_device_add(mdev->pdev);
	if (rc) {
		/* The driver core says EINVAL for a name it could not allocate */
		if (!dev_name(&mdev->pdev->dev))
			rc = -ENOMEM;
		goto err_put;
	}
	if (!mdev->pdev->dev.iommu_group) {
		/*
		 * The IOMMU core did not probe it, and keeps its error to
		 * itself. The mock accepts every device of its own, so only
		 * an allocation can have failed there.
		 */
		platform_device_unregister(mdev->pdev);
		rc = -ENOMEM;
		goto err_handle;
	}
	cmd->out_dev = mdev->handle;
	if (copy_to_user(uarg, cmd, sizeof(*cmd))) {
		mock_dev_destroy(ctl, mdev);
		return -EFAULT;
	}
	return 0;

err_put:
	platform_device_put(mdev->pdev);
err_handle:
	xa_erase(&ctl->devs, mdev->handle);
err_stream:
	mock_stream_remove(mdev);
err_free:
	kfree(mdev);
	return rc;
}

static int mock_dev_bind(struct mock_dev *mdev, struct mock_smmu_dev_cmd *cmd,
			 void __user *uarg)
{
	struct iommufd_device *idev;
	struct iommufd_ctx *ictx;
	u32 id;

	/* As VFIO_DEVICE_BIND_IOMMUFD: a device is bound once */
	if (mdev->idev)
		return -EINVAL;
	ictx = iommufd_ctx_from_fd(cmd->iommufd);
	if (IS_ERR(ictx))
		return PTR_ERR(ictx);
	idev = iommufd_device_bind(ictx, &mdev->pdev->dev, &id);
	iommufd_ctx_put(ictx);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	mdev->idev = idev;
	cmd->out_id = id;
	if (copy_to_user(uarg, cmd, sizeof(*cmd))) {
		mock_dev_unbind(mdev);
		return -EFAULT;
	}
	return 0;
}

/*
 * A failed copy of the answer detaches a device that was not attached, and
 * replaces an attached one back to the IOAS or HWPT it was attached with;
 * should that fail too, the device is left detached.
 */
static int mock_dev_attach(struct mock_dev *mdev, struct mock_smmu_dev_cmd *cmd,
			   void __user *uarg)
{
	bool replace = mdev->attached;
	u32 old_pt_id = mdev->pt_id;
	u32 pt_id = cmd->pt_id;
	int rc;

	if (!mdev->idev)
		return -EINVAL;
	if (replace)
		rc = iommufd_device_replace(mdev->idev, &pt_id);
	else
		rc = iommufd_device_attach(mdev->idev, &pt_id);
	if (rc)
		return rc;
	mdev->attached = true;
	mdev->pt_id = cmd->pt_id;
	cmd->out_id = pt_id;
	if (!copy_to_user(uarg, cmd, sizeof(*cmd)))
		return 0;

	if (replace && !iommufd_device_replace(mdev->idev, &old_pt_id)) {
		mdev->pt_id = old_pt_id;
	} else {
		iommufd_device_detach(mdev->idev);
		mdev->attached = false;
	}
	return -EFAULT;
}

static long mock_ctl_dev_cmd(struct mock_ctl *ctl, unsigned int ioctl,
			     struct mock_smmu_dev_cmd *cmd, void __user *uarg)
{
	struct mock_dev *mdev;

	mdev = xa_load(&ctl->devs, cmd->dev);
	if (!mdev)
		return -ENOENT;

	switch (ioctl) {
	case MOCK_SMMU_DEV_DESTROY:
		mock_dev_destroy(ctl, mdev);
		return 0;
	case MOCK_SMMU_DEV_BIND:
		return mock_dev_bind(mdev, cmd, uarg);
	case MOCK_SMMU_DEV_ATTACH:
		return mock_dev_attach(mdev, cmd, uarg);
	}

	if (!mdev->idev)
		return -EINVAL;
	switch (ioctl) {
	case MOCK_SMMU_DEV_DETACH:
		if (mdev->attached)
			iommufd_device_detach(mdev->idev);
		mdev->attached = false;
		return 0;
	case MOCK_SMMU_DEV_UNBIND:
		mock_dev_unbind(mdev);
		return 0;
	}
	return -ENOTTY;
}

static int mock_ctl_get_ste(struct mock_smmu_get_ste *cmd)
{
	struct mock_psmmu *psmmu = mock_psmmu_get(cmd->psmmu);

	if (!psmmu)
		return -EINVAL;
	return mock_ste_read(psmmu, cmd->sid, cmd->ste);
}

static int mock_ctl_get_counters(struct mock_smmu_counters *cmd)
{
	struct mock_psmmu *psmmu = mock_psmmu_get(cmd->psmmu);

	if (!psmmu || cmd->__reserved)
		return -EINVAL;
	mock_psmmu_get_counters(psmmu, cmd);
	return 0;
}

/* Commands MOCK_SMMU_CMDQ_RAW takes at most */
#define MOCK_CMDQ_RAW_MAX	256
/* Entries the cache model of a pSMMU holds at most, all kinds together */
#define MOCK_CACHE_MAX		(3 * MOCK_CACHE_KIND_MAX)

static int mock_ctl_cmdq_log(struct mock_smmu_cmdq_log *cmd)
{
	struct mock_psmmu *psmmu = mock_psmmu_get(cmd->psmmu);
	const size_t entry = CMDQ_ENT_DWORDS * sizeof(u64);
	u64 *cmds = NULL;
	unsigned int max;
	u64 total;
	int rc = 0;

	if (!psmmu || cmd->__reserved)
		return -EINVAL;
	if (cmd->flags & ~MOCK_SMMU_CMDQ_LOG_CLEAR)
		return -EOPNOTSUPP;
	max = min_t(u32, cmd->num, MOCK_SMMU_CMDQ_LOG_SIZE);
	if (max) {
		cmds = kvmalloc_array(max, entry, GFP_KERNEL);
		if (!cmds)
			return -ENOMEM;
	}
	/* With CLEAR, the log is emptied even if the copy below fails */
	cmd->num = mock_cmdq_log_read(psmmu,
				      cmd->flags & MOCK_SMMU_CMDQ_LOG_CLEAR,
				      cmds, max, &total);
	cmd->total = total;
	if (copy_to_user(u64_to_user_ptr(cmd->uptr), cmds, cmd->num * entry))
		rc = -EFAULT;
	kvfree(cmds);
	return rc;
}

static int mock_ctl_cache_fill(struct mock_smmu_cache *cmd)
{
	struct mock_psmmu *psmmu = mock_psmmu_get(cmd->psmmu);
	struct mock_smmu_cache_entry *ents;
	int rc;

	if (!psmmu)
		return -EINVAL;
	if (!cmd->num)
		return mock_cmdq_cache_fill(psmmu, NULL, 0);
	if (cmd->num > MOCK_CACHE_MAX)
		return -ENOSPC;
	ents = vmemdup_array_user(u64_to_user_ptr(cmd->uptr), cmd->num,
				  sizeof(*ents));
	if (IS_ERR(ents))
		return PTR_ERR(ents);
	rc = mock_cmdq_cache_fill(psmmu, ents, cmd->num);
	kvfree(ents);
	return rc;
}

static int mock_ctl_cache_read(struct mock_smmu_cache *cmd)
{
	struct mock_psmmu *psmmu = mock_psmmu_get(cmd->psmmu);
	struct mock_smmu_cache_entry *ents = NULL;
	unsigned int max, total;
	int rc = 0;

	if (!psmmu)
		return -EINVAL;
	max = min_t(u32, cmd->num, MOCK_CACHE_MAX);
	if (max) {
		ents = kvcalloc(max, sizeof(*ents), GFP_KERNEL);
		if (!ents)
			return -ENOMEM;
	}
	total = mock_cmdq_cache_read(psmmu, ents, max);
	cmd->num = min(max, total);
	cmd->total = total;
	if (copy_to_user(u64_to_user_ptr(cmd->uptr), ents,
			 cmd->num * sizeof(*ents)))
		rc = -EFAULT;
	kvfree(ents);
	return rc;
}

static int mock_ctl_inject_fault(struct mock_smmu_fault *cmd)
{
	struct mock_psmmu *psmmu = mock_psmmu_get(cmd->psmmu);

	if (!psmmu)
		return -EINVAL;
	switch (cmd->kind) {
	case 0:
	case MOCK_SMMU_FAULT_SYNC_TIMEOUT:
	case MOCK_SMMU_FAULT_CMD_ERROR:
		mock_cmdq_inject_fault(psmmu, cmd->kind);
		return 0;
	}
	return -EINVAL;
}

/* The same path as the dispatcher's, without its checks */
static int mock_ctl_cmdq_raw(struct mock_smmu_cmdq_raw *cmd)
{
	struct mock_psmmu *psmmu = mock_psmmu_get(cmd->psmmu);
	u64 *cmds;
	int rc;

	if (!psmmu || cmd->num > MOCK_CMDQ_RAW_MAX)
		return -EINVAL;
	if (cmd->num) {
		cmds = memdup_array_user(u64_to_user_ptr(cmd->uptr), cmd->num,
					 CMDQ_ENT_DWORDS * sizeof(u64));
		if (IS_ERR(cmds))
			return PTR_ERR(cmds);
		rc = mock_cmdq_ops.issue(&psmmu->vsmmu, cmds, cmd->num);
		kfree(cmds);
		if (rc)
			return rc;
	}
	return arm_vsmmu_sync(&psmmu->vsmmu);
}

static int mock_ctl_raise_event(struct mock_smmu_event *cmd)
{
	struct mock_psmmu *psmmu = mock_psmmu_get(cmd->psmmu);

	if (!psmmu || cmd->__reserved)
		return -EINVAL;
	mock_evtq_raise(psmmu, cmd->evt);
	return 0;
}

static int mock_ctl_event_counters(struct mock_smmu_event_counters *cmd)
{
	struct mock_psmmu *psmmu = mock_psmmu_get(cmd->psmmu);

	if (!psmmu || cmd->__reserved)
		return -EINVAL;
	mock_evtq_get_counters(psmmu, cmd);
	return 0;
}

/*
 * The command queue and event ioctls use nothing of the file, so they do
 * not take its lock: threads sharing a file can put commands on a queue,
 * or raise events, concurrently.
 * Return -ENOIOCTLCMD for the other ioctls.
 */
static long mock_ctl_cmdq_ioctl(unsigned int ioctl, void *buf)
{
	switch (ioctl) {
	case MOCK_SMMU_CMDQ_LOG:
		return mock_ctl_cmdq_log(buf);
	case MOCK_SMMU_CACHE_FILL:
		return mock_ctl_cache_fill(buf);
	case MOCK_SMMU_CACHE_READ:
		return mock_ctl_cache_read(buf);
	case MOCK_SMMU_INJECT_FAULT:
		return mock_ctl_inject_fault(buf);
	case MOCK_SMMU_CMDQ_RAW:
		return mock_ctl_cmdq_raw(buf);
	case MOCK_SMMU_RAISE_EVENT:
		return mock_ctl_raise_event(buf);
	case MOCK_SMMU_GET_EVENT_COUNTERS:
		return mock_ctl_event_counters(buf);
	}
	return -ENOIOCTLCMD;
}

static long mock_ctl_ioctl(struct file *filp, unsigned int ioctl,
			   unsigned long arg)
{
	struct mock_ctl *ctl = filp->private_data;
	void __user *uarg = (void __user *)arg;
	union {
		struct mock_smmu_info info;
		struct mock_smmu_dev_create create;
		struct mock_smmu_dev_cmd dev;
		struct mock_smmu_get_ste ste;
		struct mock_smmu_counters counters;
		struct mock_smmu_cmdq_log log;
		struct mock_smmu_cache cache;
		struct mock_smmu_fault fault;
		struct mock_smmu_cmdq_raw raw;
		struct mock_smmu_event event;
		struct mock_smmu_event_counters event_counters;
	} buf = {};
	size_t size = _IOC_SIZE(ioctl);
	long rc;

	if (_IOC_TYPE(ioctl) != MOCK_SMMU_TYPE || size > sizeof(buf))
		return -ENOTTY;
	if ((_IOC_DIR(ioctl) & _IOC_WRITE) && copy_from_user(&buf, uarg, size))
		return -EFAULT;

	rc = mock_ctl_cmdq_ioctl(ioctl, &buf);
	if (rc != -ENOIOCTLCMD)
		goto out;

	mutex_lock(&ctl->lock);
	switch (ioctl) {
	case MOCK_SMMU_GET_INFO:
		buf.info.num_psmmus = mock_num_psmmus();
		rc = 0;
		break;
	case MOCK_SMMU_DEV_CREATE:
		rc = mock_dev_create(ctl, &buf.create, uarg);
		break;
	case MOCK_SMMU_DEV_DESTROY:
	case MOCK_SMMU_DEV_BIND:
	case MOCK_SMMU_DEV_UNBIND:
	case MOCK_SMMU_DEV_ATTACH:
	case MOCK_SMMU_DEV_DETACH:
		rc = mock_ctl_dev_cmd(ctl, ioctl, &buf.dev, uarg);
		break;
	case MOCK_SMMU_GET_STE:
		rc = mock_ctl_get_ste(&buf.ste);
		break;
	case MOCK_SMMU_GET_COUNTERS:
		rc = mock_ctl_get_counters(&buf.counters);
		break;
	default:
		rc = -ENOTTY;
		break;
	}
	mutex_unlock(&ctl->lock);

out:
	/* Those that undo themselves when it fails have copied already */
	if (ioctl == MOCK_SMMU_DEV_CREATE || ioctl == MOCK_SMMU_DEV_BIND ||
	    ioctl == MOCK_SMMU_DEV_ATTACH)
		return rc;
	if (!rc && (_IOC_DIR(ioctl) & _IOC_READ) &&
	    copy_to_user(uarg, &buf, size))
		rc = -EFAULT;
	return rc;
}

static int mock_ctl_open(struct inode *inode, struct file *filp)
{
	struct mock_ctl *ctl;

	ctl = kzalloc(sizeof(*ctl), GFP_KERNEL);
	if (!ctl)
		return -ENOMEM;
	mutex_init(&ctl->lock);
	xa_init_flags(&ctl->devs, XA_FLAGS_ALLOC1);
	filp->private_data = ctl;
	return 0;
}

static int mock_ctl_release(struct inode *inode, struct file *filp)
{
	struct mock_ctl *ctl = filp->private_data;
	struct mock_dev *mdev;
	unsigned long index;

	xa_for_each(&ctl->devs, index, mdev)
		mock_dev_destroy(ctl, mdev);
	xa_destroy(&ctl->devs);
	mutex_destroy(&ctl->lock);
	kfree(ctl);
	return 0;
}

static const struct file_operations mock_ctl_fops = {
	.owner = THIS_MODULE,
	.open = mock_ctl_open,
	.release = mock_ctl_release,
	.unlocked_ioctl = mock_ctl_ioctl,
};

static struct miscdevice mock_ctl_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "mock_smmu",
	.fops = &mock_ctl_fops,
	.mode = 0600,
};

int mock_ctl_init(void)
{
	return misc_register(&mock_ctl_misc);
}

void mock_ctl_exit(void)
{
	misc_deregister(&mock_ctl_misc);
}
