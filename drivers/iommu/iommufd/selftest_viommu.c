// SPDX-License-Identifier: GPL-2.0-only
/*
 * The selftest vIOMMU: IOMMU_VIOMMU_TYPE_SELFTEST for the devices of 6.12's
 * selftest mock, in the test build of make test-upstream only.
 *
 * It is a driver of this project's vIOMMU core like the SMMUv3 vSMMU, and
 * implements the ABI upstream's selftests expect of their mock (the numbers
 * and layouts of 7.3's iommufd_test.h):
 *
 *  - a vIOMMU of type IOMMU_VIOMMU_TYPE_SELFTEST on a nesting parent of the
 *    mock IOMMU, without driver data;
 *  - nested HWPTs on it from struct iommu_hwpt_selftest
 *    (IOMMU_HWPT_DATA_SELFTEST), which a device may attach to only once it
 *    has a vDEVICE on that vIOMMU (-ENOENT before);
 *  - IOMMU_HWPT_INVALIDATE on the vIOMMU with 12-byte
 *    struct iommu_viommu_invalidate_selftest entries, which clear entries of
 *    the four-entry cache of the device a vdev_id names;
 *  - IOMMU_TEST_OP_DEV_CHECK_CACHE, which compares one entry of a device's
 *    cache with a value;
 *  - IOMMU_TEST_OP_TRIGGER_VEVENT, which reports an event of type
 *    IOMMU_VEVENTQ_TYPE_SELFTEST holding the device's virtual ID.
 *
 * Nothing here knows of any hardware: the core needs no SMMUv3 to work.
 */
#include <linux/iommu.h>
#include <linux/iommufd_viommu.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <uapi/linux/iommufd.h>

#include "iommufd_private.h"
#include "iommufd_test.h"
#include "selftest_viommu.h"

/**
 * struct mock_viommu - a vIOMMU of type IOMMU_VIOMMU_TYPE_SELFTEST
 * @core: The core's part, first as the core requires
 */
struct mock_viommu {
	struct iommufd_viommu core;
};

/**
 * struct mock_viommu_nested - a nested domain allocated on a mock vIOMMU
 * @domain: The IOMMU_DOMAIN_NESTED domain
 * @mv: The vIOMMU it was allocated on; its nested HWPT holds the vIOMMU
 * @iotlb: The value of struct iommu_hwpt_selftest's @iotlb
 */
struct mock_viommu_nested {
	struct iommu_domain domain;
	struct mock_viommu *mv;
	u32 iotlb;
};

static_assert(offsetof(struct mock_viommu, core) == 0);

static struct mock_viommu *to_mock_viommu(struct iommufd_viommu *viommu)
{
	return container_of(viommu, struct mock_viommu, core);
}

static struct mock_viommu_nested *to_mock_nested(struct iommu_domain *domain)
{
	return container_of(domain, struct mock_viommu_nested, domain);
}

/* Whether @dev has a vDEVICE on @viommu; the vDEVICE lock is held */
static bool mock_viommu_has_vdev(struct iommufd_viommu *viommu,
				 struct device *dev)
{
	struct iommufd_vdevice *vdev;
	unsigned long index;

	lockdep_assert_held(&viommu->vdevs_rwsem);
	xa_for_each(&viommu->vdevs, index, vdev)
		if (vdev->dev == dev)
			return true;
	return false;
}

static int mock_viommu_nested_attach(struct iommu_domain *domain,
				     struct device *dev)
{
	struct iommufd_viommu *viommu = &to_mock_nested(domain)->mv->core;
	bool found;

	/* As upstream's drivers: a stage-1 needs the device's vDEVICE first */
	down_read(&viommu->vdevs_rwsem);
	found = mock_viommu_has_vdev(viommu, dev);
	up_read(&viommu->vdevs_rwsem);
	return found ? 0 : -ENOENT;
}

static void mock_viommu_nested_free(struct iommu_domain *domain)
{
	kfree(to_mock_nested(domain));
}

static const struct iommu_domain_ops mock_viommu_nested_ops = {
	.attach_dev = mock_viommu_nested_attach,
	.free = mock_viommu_nested_free,
};

static struct iommu_domain *
mock_viommu_alloc_domain_nested(struct iommufd_viommu *viommu, u32 flags,
				const struct iommu_user_data *user_data)
{
	struct mock_viommu_nested *nested;
	struct iommu_hwpt_selftest data;
	int rc;

	if (flags || user_data->type != IOMMU_HWPT_DATA_SELFTEST)
		return ERR_PTR(-EOPNOTSUPP);
	/*
	 * Later kernels' struct iommu_hwpt_selftest is longer (7.3 adds
	 * pagetable_type): accept a longer one whose extra bytes are zero,
	 * which 6.12's iommu_copy_struct_from_user() refuses.
	 */
	if (user_data->len < offsetofend(struct iommu_hwpt_selftest, iotlb))
		return ERR_PTR(-EINVAL);
	rc = copy_struct_from_user(&data, sizeof(data), user_data->uptr,
				   user_data->len);
	if (rc)
		return ERR_PTR(rc);

	nested = kzalloc(sizeof(*nested), GFP_KERNEL_ACCOUNT);
	if (!nested)
		return ERR_PTR(-ENOMEM);
	nested->mv = to_mock_viommu(viommu);
	nested->iotlb = data.iotlb;
	nested->domain.type = IOMMU_DOMAIN_NESTED;
	nested->domain.ops = &mock_viommu_nested_ops;
	return &nested->domain;
}

/* Execute one request; the vDEVICE lock is held */
static int mock_viommu_invalidate_one(struct iommufd_viommu *viommu,
				      const struct iommu_viommu_invalidate_selftest *inv)
{
	struct iommufd_vdevice *vdev;
	u32 *cache;
	int i;

	if (inv->flags & ~IOMMU_TEST_INVALIDATE_FLAG_ALL)
		return -EOPNOTSUPP;
	if (!(inv->flags & IOMMU_TEST_INVALIDATE_FLAG_ALL) &&
	    inv->cache_id > MOCK_DEV_CACHE_ID_MAX)
		return -EINVAL;
	vdev = iommufd_viommu_find_vdev(viommu, inv->vdev_id);
	if (!vdev)
		return -EINVAL;
	cache = iommufd_selftest_dev_cache(vdev->dev);
	if (WARN_ON_ONCE(!cache))
		return -EINVAL;

	if (inv->flags & IOMMU_TEST_INVALIDATE_FLAG_ALL) {
		for (i = 0; i < MOCK_DEV_CACHE_NUM; i++)
			WRITE_ONCE(cache[i], 0);
	} else {
		WRITE_ONCE(cache[inv->cache_id], 0);
	}
	return 0;
}

static int mock_viommu_cache_invalidate(struct iommufd_viommu *viommu,
					struct iommu_user_data_array *array)
{
	struct iommu_viommu_invalidate_selftest inv;
	u32 done = 0;
	int rc = 0;

	if (array->type != IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST) {
		rc = -EINVAL;
		goto out;
	}

	down_read(&viommu->vdevs_rwsem);
	for (; done < array->entry_num; done++) {
		rc = iommu_copy_struct_from_user_array(&inv, array,
						       IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST,
						       done, cache_id);
		if (rc)
			break;
		rc = mock_viommu_invalidate_one(viommu, &inv);
		if (rc)
			break;
	}
	up_read(&viommu->vdevs_rwsem);
out:
	/* The requests before the failing one were executed */
	array->entry_num = done;
	return rc;
}

static int mock_viommu_vdevice_init(struct iommufd_vdevice *vdev)
{
	return iommufd_selftest_dev_cache(vdev->dev) ? 0 : -EINVAL;
}

static const struct iommufd_viommu_ops mock_viommu_ops = {
	.alloc_domain_nested = mock_viommu_alloc_domain_nested,
	.cache_invalidate = mock_viommu_cache_invalidate,
	.vdevice_init = mock_viommu_vdevice_init,
};

static size_t mock_get_viommu_size(struct device *dev, u32 viommu_type)
{
	if (viommu_type != IOMMU_VIOMMU_TYPE_SELFTEST)
		return 0;
	return sizeof(struct mock_viommu);
}

static int mock_viommu_init(struct iommufd_viommu *viommu,
			    struct iommu_domain *parent_domain,
			    const struct iommu_user_data *user_data)
{
	/* No driver data (7.3's loopback and mmap test) here */
	if (user_data)
		return -EOPNOTSUPP;
	viommu->ops = &mock_viommu_ops;
	return 0;
}

static struct iommufd_viommu_driver mock_viommu_driver = {
	.owner = THIS_MODULE,
	.get_viommu_size = mock_get_viommu_size,
	.viommu_init = mock_viommu_init,
};

/**
 * iommufd_selftest_viommu_register() - Offer vIOMMUs for the mock's devices
 * @mock_ops: The iommu_ops of 6.12's selftest mock IOMMU
 *
 * Return: 0 or the core's error.
 */
int iommufd_selftest_viommu_register(const struct iommu_ops *mock_ops)
{
	mock_viommu_driver.iommu_ops = mock_ops;
	return iommufd_viommu_register_driver(&mock_viommu_driver);
}

/**
 * iommufd_selftest_viommu_unregister() - Undo
 *                                        iommufd_selftest_viommu_register()
 */
void iommufd_selftest_viommu_unregister(void)
{
	iommufd_viommu_unregister_driver(&mock_viommu_driver);
}

/**
 * iommufd_selftest_dev_check_cache() - IOMMU_TEST_OP_DEV_CHECK_CACHE
 * @ucmd: The test command
 * @idev_id: The bound mock device
 * @cache_id: The cache entry, at most MOCK_DEV_CACHE_ID_MAX
 * @cache: The value the entry should have
 *
 * Return: 0 if the entry holds @cache; -EINVAL if it does not, for a bad
 * @cache_id or a device that is not the mock's; -ENOENT without the device.
 */
int iommufd_selftest_dev_check_cache(struct iommufd_ucmd *ucmd, u32 idev_id,
				     u32 cache_id, u32 cache)
{
	struct iommufd_device *idev;
	u32 *entries;
	int rc = 0;

	if (cache_id > MOCK_DEV_CACHE_ID_MAX)
		return -EINVAL;
	idev = iommufd_get_device(ucmd, idev_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	entries = iommufd_selftest_dev_cache(idev->dev);
	if (!entries || READ_ONCE(entries[cache_id]) != cache)
		rc = -EINVAL;
	iommufd_put_object(ucmd->ictx, &idev->obj);
	return rc;
}

/**
 * iommufd_selftest_trigger_vevent() - IOMMU_TEST_OP_TRIGGER_VEVENT
 * @ucmd: The ioctl
 * @dev_id: A bound device with a vDEVICE
 *
 * Reports one event of type IOMMU_VEVENTQ_TYPE_SELFTEST carrying the
 * vDEVICE's virtual ID to the vDEVICE's vIOMMU. The device's group lock
 * keeps the vDEVICE, and so its vIOMMU, for the time of the report.
 *
 * Return: 0, -ENOENT for a device without a vDEVICE, or what
 * iommufd_viommu_report_event() returns (-EOPNOTSUPP without a vEVENTQ of
 * the type).
 */
int iommufd_selftest_trigger_vevent(struct iommufd_ucmd *ucmd, u32 dev_id)
{
	struct iommu_viommu_event_selftest event = {};
	struct iommufd_vdevice *vdev;
	struct iommufd_device *idev;
	int rc = -ENOENT;

	idev = iommufd_get_device(ucmd, dev_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	mutex_lock(&idev->igroup->lock);
	vdev = idev->vdev;
	if (vdev) {
		event.virt_id = vdev->virt_id;
		rc = iommufd_viommu_report_event(vdev->viommu,
						 IOMMU_VEVENTQ_TYPE_SELFTEST,
						 &event, sizeof(event));
	}
	mutex_unlock(&idev->igroup->lock);
	iommufd_put_object(ucmd->ictx, &idev->obj);
	return rc;
}
