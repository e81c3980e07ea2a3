// SPDX-License-Identifier: GPL-2.0-only
/*
 * Mock SMMU PCI devices: the module parameter pci= hands chosen PCI devices
 * of the machine to chosen pSMMUs, so that a VMM can reach them the way it
 * reaches a real SMMUv3's devices, through vfio-pci and its device cdev.
 *
 *   pci=MATCH@N[,MATCH@N...]
 *
 * where N is a pSMMU index and MATCH is either vendor:device in hex (e.g.
 * 1234:11e8) or a PCI address [domain:]bus:dev.fn in hex (e.g.
 * 0000:00:1e.0). An address entry owns the device at that address. Each
 * vendor:device entry owns one device with those IDs: in the order the
 * devices are probed (the PCI bus's order), a device takes the first entry
 * of its IDs that no other device took. A device keeps its entry, by
 * address, until the module is unloaded. The StreamID of a device is its
 * requester ID, pci_dev_id(): bus << 8 | devfn.
 *
 * Module references: the IOMMU core holds one on the module for every
 * device the module probed, and PCI devices, unlike the mock's own
 * platform devices, never go away by themselves, so the module could never
 * be unloaded. A PCI device therefore gives the core's reference back
 * while it is probed, and holds one instead while a driver (vfio-pci) is
 * bound to it: unloading the module then releases the idle PCI devices
 * from their groups, and is refused while one is in use.
 */
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "mock-smmu.h"

static char *pci;
module_param(pci, charp, 0444);
MODULE_PARM_DESC(pci,
		 "PCI devices the pSMMUs own: MATCH@N[,MATCH@N...], MATCH being vendor:device or [domain:]bus:dev.fn (hex), N a pSMMU index");

#define MOCK_PCI_MAX_ENTRIES	32

/* One entry of the pci= parameter */
struct mock_pci_entry {
	unsigned int psmmu;
	/* An address entry (@domain, @bus, @devfn), or a vendor:device one */
	bool by_addr;
	u16 vendor;
	u16 device;
	/* A vendor:device entry taken by the device at the address below */
	bool taken;
	u32 domain;
	u8 bus;
	u8 devfn;
};

static struct mock_pci_entry mock_pci_entries[MOCK_PCI_MAX_ENTRIES];
static unsigned int mock_pci_num_entries;
/* Serialises the entries' @taken state and the list of probed devices */
static DEFINE_MUTEX(mock_pci_lock);
static LIST_HEAD(mock_pci_devs);

static bool mock_pci_entry_at(const struct mock_pci_entry *e,
			      struct pci_dev *pdev)
{
	return e->domain == pci_domain_nr(pdev->bus) &&
	       e->bus == pdev->bus->number && e->devfn == pdev->devfn;
}

/* The entry that owns @pdev, taking a vendor:device one if needed */
static struct mock_pci_entry *mock_pci_find_entry(struct pci_dev *pdev)
{
	struct mock_pci_entry *e, *end = mock_pci_entries + mock_pci_num_entries;

	lockdep_assert_held(&mock_pci_lock);
	for (e = mock_pci_entries; e != end; e++)
		if (e->by_addr && mock_pci_entry_at(e, pdev))
			return e;
	for (e = mock_pci_entries; e != end; e++)
		if (!e->by_addr && e->taken && mock_pci_entry_at(e, pdev))
			return e;
	for (e = mock_pci_entries; e != end; e++) {
		if (e->by_addr || e->taken || e->vendor != pdev->vendor ||
		    e->device != pdev->device)
			continue;
		e->taken = true;
		e->domain = pci_domain_nr(pdev->bus);
		e->bus = pdev->bus->number;
		e->devfn = pdev->devfn;
		return e;
	}
	return NULL;
}

/**
 * mock_pci_probe() - iommu_ops::probe_device for a PCI device
 * @pdev: The device
 *
 * Called with the IOMMU core's probe lock held, for every PCI device each
 * time a pSMMU registers and whenever a PCI device is added.
 *
 * Return: the iommu_device of the pSMMU that owns @pdev, or
 * ERR_PTR(-ENODEV) if none does (or its pSMMU is not registered yet: it
 * will be probed again when it is), or ERR_PTR(-ENOMEM).
 */
struct iommu_device *mock_pci_probe(struct pci_dev *pdev)
{
	struct mock_psmmu *psmmu = NULL;
	struct mock_pci_entry *e;
	struct mock_dev *mdev;
	int rc;

	mutex_lock(&mock_pci_lock);
	e = mock_pci_find_entry(pdev);
	if (e)
		psmmu = mock_psmmu_get(e->psmmu);
	mutex_unlock(&mock_pci_lock);
	if (!psmmu)
		return ERR_PTR(-ENODEV);
	if (pdev->dev.driver) {
		/* Its driver's DMA would suddenly be blocked */
		pci_warn(pdev, "mock_smmu: has a driver bound, not taken\n");
		return ERR_PTR(-ENODEV);
	}

	mdev = kzalloc(sizeof(*mdev), GFP_KERNEL);
	if (!mdev)
		return ERR_PTR(-ENOMEM);
	mdev->psmmu = psmmu;
	mdev->pci = pdev;
	mdev->sid = pci_dev_id(pdev);
	rc = mock_stream_add(mdev);
	if (rc) {
		pci_warn(pdev, "mock_smmu: StreamID %#x in use on pSMMU %u\n",
			 mdev->sid, psmmu->idx);
		kfree(mdev);
		return ERR_PTR(-ENODEV);
	}
	dev_iommu_priv_set(&pdev->dev, mdev);

	mutex_lock(&mock_pci_lock);
	list_add_tail(&mdev->pci_node, &mock_pci_devs);
	mutex_unlock(&mock_pci_lock);
	/* See the top of this file */
	module_put(THIS_MODULE);
	pci_info(pdev, "mock_smmu: behind pSMMU %u, StreamID %#x\n", psmmu->idx,
		 mdev->sid);
	return &psmmu->iommu;
}

/**
 * mock_pci_release() - iommu_ops::release_device for a PCI device
 * @pdev: A device mock_pci_probe() accepted
 *
 * The device is at its default (blocking) domain, with no driver bound.
 */
void mock_pci_release(struct pci_dev *pdev)
{
	struct mock_dev *mdev = dev_iommu_priv_get(&pdev->dev);

	mutex_lock(&mock_pci_lock);
	list_del(&mdev->pci_node);
	if (WARN_ON(mdev->pinned))
		module_put(THIS_MODULE);
	mutex_unlock(&mock_pci_lock);
	mock_stream_remove(mdev);
	kfree(mdev);
	/* The IOMMU core's reference, which it now drops */
	__module_get(THIS_MODULE);
}

static struct mock_dev *mock_pci_lookup(struct device *dev)
{
	struct mock_dev *mdev;

	lockdep_assert_held(&mock_pci_lock);
	list_for_each_entry(mdev, &mock_pci_devs, pci_node)
		if (&mdev->pci->dev == dev)
			return mdev;
	return NULL;
}

/* A driver bound to a device of the mock pins the module until unbound */
static int mock_pci_notify(struct notifier_block *nb, unsigned long action,
			   void *data)
{
	struct mock_dev *mdev;

	mutex_lock(&mock_pci_lock);
	mdev = mock_pci_lookup(data);
	if (!mdev)
		goto out;
	switch (action) {
	case BUS_NOTIFY_BIND_DRIVER:
		if (!mdev->pinned)
			mdev->pinned = try_module_get(THIS_MODULE);
		break;
	case BUS_NOTIFY_DRIVER_NOT_BOUND:
	case BUS_NOTIFY_UNBOUND_DRIVER:
		if (mdev->pinned)
			module_put(THIS_MODULE);
		mdev->pinned = false;
		break;
	}
out:
	mutex_unlock(&mock_pci_lock);
	return NOTIFY_DONE;
}

static struct notifier_block mock_pci_nb = {
	.notifier_call = mock_pci_notify,
};

/* Parse "[domain:]bus:dev.fn" into @e */
static int mock_pci_parse_addr(char *s, struct mock_pci_entry *e)
{
	unsigned int domain = 0, bus, dev, fn;
	char c;

	if (sscanf(s, "%x:%x:%x.%x%c", &domain, &bus, &dev, &fn, &c) != 4) {
		domain = 0;
		if (sscanf(s, "%x:%x.%x%c", &bus, &dev, &fn, &c) != 3)
			return -EINVAL;
	}
	if (domain > 0xffff || bus > 0xff || dev > 0x1f || fn > 7)
		return -EINVAL;
	e->by_addr = true;
	e->domain = domain;
	e->bus = bus;
	e->devfn = PCI_DEVFN(dev, fn);
	return 0;
}

/* Parse "vendor:device" into @e */
static int mock_pci_parse_ids(char *s, struct mock_pci_entry *e)
{
	unsigned int vendor, device;
	char c;

	if (sscanf(s, "%x:%x%c", &vendor, &device, &c) != 2 ||
	    vendor > 0xffff || device > 0xffff)
		return -EINVAL;
	e->vendor = vendor;
	e->device = device;
	return 0;
}

/* Parse "MATCH@N" into @e; @s is left as it was */
static int mock_pci_parse_entry(const char *s, struct mock_pci_entry *e)
{
	const char *at = strrchr(s, '@');
	char match[32];
	int rc;

	if (!at || at == s || at - s >= sizeof(match))
		return -EINVAL;
	memcpy(match, s, at - s);
	match[at - s] = '\0';
	rc = kstrtouint(at + 1, 10, &e->psmmu);
	if (rc)
		return rc;
	if (e->psmmu >= mock_num_psmmus())
		return -EINVAL;
	return strchr(match, '.') ? mock_pci_parse_addr(match, e) :
				    mock_pci_parse_ids(match, e);
}

static int mock_pci_parse(void)
{
	char *buf, *s, *tok;
	int rc = 0;

	if (!pci || !*pci)
		return 0;
	buf = kstrdup(pci, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	s = buf;
	while ((tok = strsep(&s, ",")) != NULL) {
		if (!*tok)
			continue;
		if (mock_pci_num_entries == MOCK_PCI_MAX_ENTRIES) {
			pr_err("mock_smmu: pci: at most %u entries\n",
			       MOCK_PCI_MAX_ENTRIES);
			rc = -EINVAL;
			break;
		}
		rc = mock_pci_parse_entry(tok,
					  &mock_pci_entries[mock_pci_num_entries]);
		if (rc) {
			pr_err("mock_smmu: pci: bad entry '%s' (MATCH@N: vendor:device or [domain:]bus:dev.fn, N < num_psmmus)\n",
			       tok);
			rc = -EINVAL;
			break;
		}
		mock_pci_num_entries++;
	}
	kfree(buf);
	return rc;
}

/**
 * mock_pci_init() - Read the pci= parameter, before any pSMMU registers
 *
 * Return: 0, -EINVAL for a bad parameter, or -ENOMEM.
 */
int mock_pci_init(void)
{
	int rc;

	rc = mock_pci_parse();
	if (rc)
		return rc;
	return bus_register_notifier(&pci_bus_type, &mock_pci_nb);
}

/**
 * mock_pci_exit() - Stop following driver binding, before the pSMMUs go
 *
 * No driver is bound to a PCI device of the mock then: each would pin the
 * module.
 */
void mock_pci_exit(void)
{
	bus_unregister_notifier(&pci_bus_type, &mock_pci_nb);
}
