/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Mock ARM SMMUv3 driver: internal definitions.
 *
 * Each mock pSMMU is a struct iommu_device of its own; they share one
 * struct iommu_ops, whose probe_device() picks the instance of a device.
 */
#ifndef __MOCK_SMMU_H
#define __MOCK_SMMU_H

#include <linux/idr.h>
#include <linux/iommu.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/xarray.h>

#include "../arm/arm-smmu-v3/arm-smmu-v3-vsmmu.h"

struct iommufd_device;
struct mock_smmu_counters;
struct pci_dev;

/* SMMU_IDR0..5 fields the mock reports (architecture bit positions) */
#define IDR0_S2P		BIT(0)
#define IDR0_S1P		BIT(1)
#define IDR0_TTF		GENMASK(3, 2)
#define IDR0_TTF_AARCH64	2
#define IDR0_COHACC		BIT(4)
#define IDR0_ATS		BIT(10)
#define IDR0_ASID16		BIT(12)
#define IDR0_VMID16		BIT(18)
#define IDR0_ST_LVL		GENMASK(28, 27)
#define IDR0_ST_LVL_2LVL	1
#define IDR1_SIDSIZE		GENMASK(5, 0)
#define IDR1_SSIDSIZE		GENMASK(10, 6)
#define IDR3_RIL		BIT(10)
#define IDR5_OAS		GENMASK(2, 0)
#define IDR5_OAS_48_BIT		5
#define IDR5_GRAN4K		BIT(4)
#define IDR5_GRAN16K		BIT(5)
#define IDR5_GRAN64K		BIT(6)
#define IIDR_IMPLEMENTER	GENMASK(11, 0)
#define IIDR_PRODUCTID		GENMASK(31, 20)

/*
 * One mock physical SMMU instance.
 *
 * @lock serialises changes to the instance's stream table and its entries
 * and to its counters. It nests inside the locks the IOMMU core and iommufd
 * hold around the driver callbacks (the group mutex around attach_dev,
 * iommufd's group lock around vdevice_init) and is never held while calling
 * into either, or into the vSMMU library, with one exception: an event
 * record is reported to iommufd under it (evtq.c), so that the vDEVICE it
 * goes to cannot be destroyed meanwhile. That call takes only the vIOMMU's
 * vEVENTQ locks, which iommufd never holds while calling a driver.
 */
struct mock_psmmu {
	struct iommu_device iommu;
	/* The vSMMU library's view: command queue, features, VMIDs */
	struct arm_vsmmu_smmu vsmmu;
	unsigned int idx;
	/* ID registers reported through IOMMU_GET_HW_INFO */
	u32 idr[6];
	u32 iidr;
	u32 aidr;
	struct mutex lock;	/* stream table, counters: see above */
	/*
	 * The stream table: StreamID -> struct mock_dev, whose @ste is the
	 * entry of that StreamID. Modified under @lock.
	 */
	struct xarray streams;
	/* StreamID -> struct mock_vdevice of the stream, under @lock */
	struct xarray vdevs;
	/*
	 * Counters reported by MOCK_SMMU_GET_COUNTERS, under @lock; the PCI
	 * devices are not in @nr_devices but in @nr_pci_devices
	 */
	u64 nr_devices;
	u64 nr_pci_devices;
	u64 nr_viommus;
	u64 nr_vdevices;
	u64 nr_nested_attached;
	/* Event records and what became of them (evtq.c), under @lock */
	struct mock_evtq_stats {
		u64 raised;
		u64 reported;
		u64 no_vdevice;
		u64 host;
		u64 no_veventq;
		u64 nomem;
	} evtq;
	/* Command queue, its hardware model and its test interface: cmdq.c */
	struct mock_cmdq *cmdq;
};

/* A physical Stream Table Entry, in CPU byte order */
struct mock_ste {
	u64 data[STRTAB_STE_DWORDS];
};

struct mock_vdevice;

/*
 * A device with one StreamID behind a pSMMU: a mock platform device owned by
 * a test's open file (@pdev, @handle, and the iommufd state below), or a PCI
 * device the pci= parameter gave the pSMMU (@pci, @pci_node, @pinned; see
 * pci.c), whose StreamID is its requester ID.
 */
struct mock_dev {
	struct platform_device *pdev;
	struct pci_dev *pci;
	struct mock_psmmu *psmmu;
	u32 sid;
	u32 handle;
	/* PCI: in pci.c's list, and whether its bound driver pins the module */
	struct list_head pci_node;
	bool pinned;
	/* Bound to an iommufd context, and attached to a HWPT */
	struct iommufd_device *idev;
	bool attached;
	/* The IOAS or HWPT MOCK_SMMU_DEV_ATTACH was given, while @attached */
	u32 pt_id;
	/* The domain the device is attached to at the IOMMU level */
	struct iommu_domain *domain;
	/* The STE of @sid in the stream table of @psmmu, under its lock */
	struct mock_ste ste;
};

/* What a mock device carries as platform data */
struct mock_pdata {
	struct mock_dev *mdev;
};

/* A paging domain backed by a software IOVA -> PA table. */
struct mock_domain {
	struct iommu_domain domain;
	bool nest_parent;
	/* IOVA page frame -> physical page frame (as xa_mk_value) */
	struct xarray pfns;
	/* Its VMIDs, and the vIOMMUs nesting on it: the vSMMU library's part */
	struct arm_vsmmu_s2 *s2;
};

/*
 * A vIOMMU of the mock is a struct arm_vsmmu: the vSMMU library's state,
 * with the pSMMUs it spans and the VMID each gave it.
 */

/*
 * A vDEVICE: the library's part, and the pSMMU of the stream it stands for
 * (its physical StreamID is vsmmu.psid). The mock device may be removed
 * while a concurrent IOMMU_DESTROY of the vDEVICE still runs, so this is
 * all the vDEVICE knows of it.
 */
struct mock_vdevice {
	struct arm_vsmmu_vdev vsmmu;
	struct mock_psmmu *psmmu;
};

/* Guest STE fields a nested domain takes (UAPI: struct iommu_hwpt_arm_smmuv3) */
#define MOCK_VSTE0_ALLOWED \
	(STRTAB_STE_0_V | STRTAB_STE_0_CFG | STRTAB_STE_0_S1_FIELDS)
#define MOCK_VSTE1_ALLOWED	(STRTAB_STE_1_S1_FIELDS | STRTAB_STE_1_EATS)

/* A nested domain: a guest STE on top of a vIOMMU's nesting parent */
struct mock_nested {
	struct iommu_domain domain;
	struct arm_vsmmu *vsmmu;
	/* The guest's Config: abort, bypass or stage-1 translate */
	unsigned int cfg;
	/* The guest's stage-1 fields of STE words 0 and 1, CPU order */
	u64 s1[2];
	/* The guest enabled ATS (EATS = translated) */
	bool ats;
};

static inline struct mock_domain *to_mock_domain(struct iommu_domain *domain)
{
	return container_of(domain, struct mock_domain, domain);
}

extern const struct iommu_ops mock_smmu_ops;
extern struct iommu_domain mock_blocked_domain;
extern const struct device_type mock_dev_type;

struct mock_psmmu *mock_psmmu_get(unsigned int idx);
unsigned int mock_num_psmmus(void);
void mock_psmmu_get_counters(struct mock_psmmu *psmmu,
			     struct mock_smmu_counters *cnt);
struct mock_dev *mock_dev_from_dev(struct device *dev);
struct mock_dev *mock_dev_of(struct device *dev);
void mock_dev_set_domain(struct mock_dev *mdev, const struct mock_ste *target,
			 struct iommu_domain *domain);

int mock_stream_add(struct mock_dev *mdev);
void mock_stream_remove(struct mock_dev *mdev);
void mock_ste_make_abort(struct mock_ste *ste);
void mock_ste_make_s2(struct mock_ste *ste, u16 vmid);
void mock_ste_install(struct mock_dev *mdev, const struct mock_ste *target,
		      struct iommu_domain *domain);
int mock_ste_read(struct mock_psmmu *psmmu, u32 sid,
		  u64 ste[STRTAB_STE_DWORDS]);

struct iommu_domain *mock_domain_alloc_user(struct device *dev, u32 flags,
					    struct iommu_domain *parent,
					    const struct iommu_user_data *user_data);
struct iommu_domain *mock_domain_alloc_paging(struct device *dev);
struct mock_domain *mock_domain_to_nest_parent(struct iommu_domain *domain);
void mock_paging_put_ste(struct iommu_domain *domain, struct mock_psmmu *psmmu);

struct mock_nested *mock_nested_s1(struct iommu_domain *domain);
struct arm_vsmmu *mock_nested_vsmmu(struct iommu_domain *domain);
void mock_nested_put_ste(struct iommu_domain *domain, struct mock_psmmu *psmmu);
bool mock_viommu_has_vdev(struct arm_vsmmu *vsmmu, struct mock_dev *mdev);
struct iommu_domain *
mock_viommu_alloc_domain_nested(struct iommufd_viommu *viommu, u32 flags,
				const struct iommu_user_data *user_data);

int mock_viommu_register(void);
void mock_viommu_unregister(void);

struct mock_smmu_event_counters;
void mock_evtq_raise(struct mock_psmmu *psmmu, const u64 *evt);
void mock_evtq_get_counters(struct mock_psmmu *psmmu,
			    struct mock_smmu_event_counters *cnt);

int mock_ctl_init(void);
void mock_ctl_exit(void);

int mock_pci_init(void);
void mock_pci_exit(void);
struct iommu_device *mock_pci_probe(struct pci_dev *pdev);
void mock_pci_release(struct pci_dev *pdev);

/*
 * Command queue of each pSMMU (cmdq.c) and the hardware model that executes
 * its commands (cmdq-model.c): the vSMMU library's mock_cmdq_ops, and the
 * state MOCK_SMMU_CMDQ_LOG, MOCK_SMMU_CACHE_FILL/READ,
 * MOCK_SMMU_INJECT_FAULT, MOCK_SMMU_CMDQ_RAW and MOCK_SMMU_GET_COUNTERS show.
 */
struct mock_cmdq;
struct mock_cache;
struct mock_smmu_cache_entry;

/* Entries of each kind the cache model holds at most */
#define MOCK_CACHE_KIND_MAX	4096

extern const struct arm_vsmmu_smmu_ops mock_cmdq_ops;

int mock_cmdq_init(struct mock_psmmu *psmmu);
void mock_cmdq_destroy(struct mock_psmmu *psmmu);
void mock_cmdq_get_counters(struct mock_psmmu *psmmu,
			    struct mock_smmu_counters *cnt);
unsigned int mock_cmdq_log_read(struct mock_psmmu *psmmu, bool clear,
				u64 *cmds, unsigned int max, u64 *total);
void mock_cmdq_inject_fault(struct mock_psmmu *psmmu, unsigned int kind);
int mock_cmdq_cache_fill(struct mock_psmmu *psmmu,
			 const struct mock_smmu_cache_entry *ents,
			 unsigned int num);
unsigned int mock_cmdq_cache_read(struct mock_psmmu *psmmu,
				  struct mock_smmu_cache_entry *ents,
				  unsigned int max);

bool mock_cmd_legal(u64 w0, u64 w1);
struct mock_cache *mock_cache_alloc(void);
void mock_cache_free(struct mock_cache *cache);
void mock_cache_empty(struct mock_cache *cache);
void mock_cache_exec(struct mock_cache *cache, u64 w0, u64 w1);
int mock_cache_fill(struct mock_cache *cache,
		    const struct mock_smmu_cache_entry *ents, unsigned int num);
unsigned int mock_cache_read(struct mock_cache *cache,
			     struct mock_smmu_cache_entry *ents,
			     unsigned int max);

#endif /* __MOCK_SMMU_H */
