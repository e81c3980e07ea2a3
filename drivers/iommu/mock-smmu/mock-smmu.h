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
#include <linux/iommufd_vsmmu.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/xarray.h>

struct iommufd_device;
struct mock_smmu_counters;

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
#define IDR5_GRAN64K		BIT(6)
#define IIDR_IMPLEMENTER	GENMASK(11, 0)
#define IIDR_PRODUCTID		GENMASK(31, 20)

/* VMIDs are 16 bits (IDR0.VMID16); VMID 0 is never handed out */
#define MOCK_VMID_MIN		1
#define MOCK_VMID_MAX		U16_MAX

/*
 * One mock physical SMMU instance.
 *
 * @lock serialises changes to the instance's stream table and its entries,
 * to the VMIDs domains hold on it (mock_domain::vmids) and to its counters.
 * It nests inside the locks the IOMMU core and iommufd hold around the
 * driver callbacks (the group mutex around attach_dev, iommufd's vDEVICE
 * lock around vdevice_init) and is never held while calling into either.
 */
struct mock_psmmu {
	struct iommu_device iommu;
	unsigned int idx;
	/* ID registers reported through IOMMU_GET_HW_INFO */
	u32 idr[6];
	u32 iidr;
	u32 aidr;
	struct mutex lock;	/* stream table, VMIDs, counters: see above */
	/*
	 * The stream table: StreamID -> struct mock_dev, whose @ste is the
	 * entry of that StreamID. Modified under @lock.
	 */
	struct xarray streams;
	/* VMID namespace of this instance */
	struct ida vmid_ida;
	/* Counters reported by MOCK_SMMU_GET_COUNTERS, under @lock */
	u64 nr_devices;
	u64 nr_vmids;
	u64 nr_viommus;
	u64 nr_vdevices;
	u64 nr_nested_attached;
	/* Command queue, its hardware model and its test interface: cmdq.c */
	struct mock_cmdq *cmdq;
};

#define MOCK_STE_DWORDS		4

/* A physical Stream Table Entry, in CPU byte order */
struct mock_ste {
	u64 data[MOCK_STE_DWORDS];
};

/* A mock platform device with one StreamID, owned by a test's open file. */
struct mock_dev {
	struct platform_device *pdev;
	struct mock_psmmu *psmmu;
	u32 sid;
	u32 handle;
	/* Bound to an iommufd context, and attached to a HWPT */
	struct iommufd_device *idev;
	bool attached;
	/* The domain the device is attached to at the IOMMU level */
	struct iommu_domain *domain;
	/* The STE of @sid in the stream table of @psmmu, under its lock */
	struct mock_ste ste;
};

/* A paging domain backed by a software IOVA -> PA table. */
struct mock_domain {
	struct iommu_domain domain;
	bool nest_parent;
	/* IOVA page frame -> physical page frame (as xa_mk_value) */
	struct xarray pfns;
	unsigned int num_psmmus;
	/*
	 * The stage-2 VMID each pSMMU gave the domain at the first attach of
	 * one of its devices, 0 if none yet; entry i is under the lock of
	 * pSMMU i. Freed with the domain.
	 */
	u16 vmids[] __counted_by(num_psmmus);
};

/*
 * Per-vIOMMU state (iommufd_viommu_priv()). @vsmmu lists the pSMMUs the
 * vIOMMU spans, each with the VMID it allocated for the vIOMMU; it is set
 * up by viommu_init and constant until viommu_destroy, but for the counts
 * of stage-1 attachments the dispatcher reads. @streams holds the vDEVICEs
 * by physical stream, for the attach of stage-1 nested domains.
 */
struct mock_viommu {
	/* (pSMMU index << 32 | StreamID) -> struct mock_vdevice */
	struct xarray streams;
	struct iommufd_vsmmu *vsmmu;
};

/*
 * Per-vDEVICE state (iommufd_vdevice_priv()). A copy of what the vDEVICE
 * binds, since the mock device may be gone before the vDEVICE.
 */
struct mock_vdevice {
	/* First, as the dispatcher reads it: pSMMU (index in vsmmu) and SID */
	struct iommufd_vsmmu_vdev target;
	struct mock_psmmu *psmmu;
	u64 virt_id;
};

/* Guest STE fields a nested domain takes (UAPI: struct iommu_hwpt_arm_smmuv3) */
#define MOCK_STE0_S1_FIELDS	(GENMASK_ULL(51, 4) | GENMASK_ULL(63, 59))
#define MOCK_STE1_S1_FIELDS	(GENMASK_ULL(7, 0) | BIT_ULL(27))
#define MOCK_STE1_EATS		GENMASK_ULL(29, 28)
#define MOCK_STE_EATS_TRANS	1

/* A nested domain: a guest STE on top of a vIOMMU's nesting parent */
struct mock_nested {
	struct iommu_domain domain;
	struct mock_viommu *mv;
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
int mock_psmmu_alloc_vmid(struct mock_psmmu *psmmu);
void mock_psmmu_free_vmid(struct mock_psmmu *psmmu, u16 vmid);
void mock_psmmu_get_counters(struct mock_psmmu *psmmu,
			     struct mock_smmu_counters *cnt);
struct mock_dev *mock_dev_from_dev(struct device *dev);

int mock_stream_add(struct mock_dev *mdev);
void mock_stream_remove(struct mock_dev *mdev);
void mock_ste_make_abort(struct mock_ste *ste);
void mock_ste_make_s2(struct mock_ste *ste, u16 vmid);
void mock_ste_install(struct mock_dev *mdev, const struct mock_ste *target,
		      struct iommu_domain *domain);
int mock_ste_read(struct mock_psmmu *psmmu, u32 sid,
		  u64 ste[MOCK_STE_DWORDS]);

struct iommu_domain *mock_domain_alloc_user(struct device *dev, u32 flags,
					    struct iommu_domain *parent,
					    const struct iommu_user_data *user_data);
struct mock_domain *mock_domain_to_nest_parent(struct iommu_domain *domain);

struct mock_nested *mock_nested_s1(struct iommu_domain *domain);
int mock_viommu_pidx(struct mock_viommu *mv, struct mock_psmmu *psmmu);
bool mock_viommu_has_vdev(struct mock_viommu *mv, struct mock_dev *mdev);
struct iommu_domain *
mock_viommu_alloc_domain_nested(struct iommufd_viommu *viommu,
				struct device *dev, u32 flags,
				const struct iommu_user_data *user_data);

int mock_viommu_register(void);
void mock_viommu_unregister(void);

int mock_ctl_init(void);
void mock_ctl_exit(void);

/*
 * Command queue of each pSMMU (cmdq.c) and the hardware model that executes
 * its commands (cmdq-model.c): the vSMMU dispatcher's mock_cmdq_ops, and the
 * state MOCK_SMMU_CMDQ_LOG, MOCK_SMMU_CACHE_FILL/READ,
 * MOCK_SMMU_INJECT_FAULT, MOCK_SMMU_CMDQ_RAW and MOCK_SMMU_GET_COUNTERS show.
 */
struct iommufd_vsmmu_cmdq_ops;
struct mock_cmdq;
struct mock_cache;
struct mock_smmu_cache_entry;

/* Entries of each kind the cache model holds at most */
#define MOCK_CACHE_KIND_MAX	4096

extern const struct iommufd_vsmmu_cmdq_ops mock_cmdq_ops;

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
