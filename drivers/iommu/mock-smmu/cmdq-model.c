// SPDX-License-Identifier: GPL-2.0-only
/*
 * Mock SMMU: what a pSMMU does with a command taken from its command queue.
 *
 * mock_cmd_legal() is the command decoder of the hardware: it accepts the
 * commands the mock pSMMU implements with every RES0 bit clear, as the
 * vSMMU library's table arm_vsmmu_cmds[] describes them, as an
 * SMMUv3 with the features the mock reports (IDR0: S1P, S2P, ATS, ASID16,
 * VMID16, no HYP, no PRI; IDR1: SIDSIZE 32, SSIDSIZE 20; IDR3.RIL) decodes
 * them from its Non-secure command queue. Anything else is answered with
 * CERROR_ILL by the queue (cmdq.c):
 *
 * - opcodes the architecture does not define, and TLBI_EL3_* (Secure queue
 *   only), TLBI_EL2_* (no IDR0.HYP), PRI_RESP (no IDR0.PRI);
 * - opcodes the mock does not implement although an SMMU with its features
 *   would accept them: PREFETCH_CFG, PREFETCH_ADDR, TLBI_S2_IPA, RESUME,
 *   STALL_TERM (the mock models no prefetch, no stage-2 only TLB entries
 *   and no stalls);
 * - any bit outside the fields the opcode defines (RES0), including SSec
 *   (word 0 bit 10), which is RES0 on the Non-secure queue;
 * - CMD_SYNC with the reserved CS encoding 0b11.
 *
 * Values of defined fields are not checked (the architecture makes bad
 * values CONSTRAINED UNPREDICTABLE, not illegal): a TG/TTL/NUM/SCALE
 * combination is executed as the range it encodes, TTL and LEAF are only
 * hints, ATC_INV SIZE above 52 invalidates everything like 52.
 *
 * mock_cache_exec() executes a legal command against a small cache model:
 * TLB entries (VMID, ASID, 4K page of VA), configuration cache entries
 * (StreamID, SubstreamID: the CDs the pSMMU cached) and ATC entries of ATS
 * devices (StreamID, SubstreamID, 4K page of address). A test fills the
 * model as if the pSMMU had walked the tables, runs commands and reads back
 * what survived:
 *
 * - TLBI_NH_ALL(VMID), TLBI_S12_VMALL(VMID): every TLB entry of the VMID;
 *   TLBI_NH_ASID(VMID, ASID): those of the ASID too; TLBI_NSNH_ALL: all.
 * - TLBI_NH_VA(VMID, ASID, ADDR), TLBI_NH_VAA(VMID, ADDR) (any ASID): with
 *   TG == 0 the 4K page of ADDR; with TG != 0 the range of range
 *   invalidation, (NUM + 1) * 2^SCALE granules of TG (4K, 16K, 64K) from
 *   ADDR aligned down to the granule.
 * - CFGI_CD(SID, SSID): that CD; CFGI_CD_ALL(SID), CFGI_STE(SID): every CD
 *   of the StreamID (the STE itself is not modelled); CFGI_STE_RANGE(SID,
 *   RANGE): every CD of the 2^(RANGE + 1) StreamIDs from SID aligned down
 *   to that size (RANGE 31: all).
 * - ATC_INV(SID, SSV, SSID, GLOBAL, ADDR, SIZE): the entries of SID in the
 *   2^(SIZE + 12) bytes from ADDR aligned down to that size (SIZE >= 52:
 *   all addresses), of SSID when SSV is set, else of every SubstreamID (a
 *   PCIe invalidation without PASID hits entries with a PASID too). GLOBAL
 *   also hits every SubstreamID, since the model does not know which
 *   translations are global.
 * - CMD_SYNC changes nothing in the model.
 *
 * Each kind of entry is a red-black tree sorted by (StreamID or VMID,
 * SubstreamID or ASID, address), which is also the order entries are read
 * back in; an invalidation walks the part of the tree its key range covers.
 * The caller serialises all calls on a model.
 */
#include <linux/bitfield.h>
#include <linux/overflow.h>
#include <linux/rbtree.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include "../arm/arm-smmu-v3/arm-smmu-v3-vsmmu.h"
#include "mock-smmu.h"
#include "mock_smmu.h"

#define MOCK_SYNC_CS_RESERVED	3

/* The StreamID/SubstreamID widths the mock reports in IDR1 */
#define MOCK_SSID_MAX		GENMASK(19, 0)

#define MOCK_CACHE_KINDS	3

/**
 * mock_cmd_legal() - Would the pSMMU accept a command?
 * @w0: Word 0 of the command, CPU order
 * @w1: Word 1
 *
 * Return: true for a command the mock pSMMU implements with all its RES0
 * bits clear, false for one that raises CERROR_ILL (see the top of this
 * file).
 */
bool mock_cmd_legal(u64 w0, u64 w1)
{
	unsigned int op = FIELD_GET(CMDQ_0_OP, w0);
	const struct arm_vsmmu_cmd_desc *d = &arm_vsmmu_cmds[op];

	/* The vSMMU library's table of what each opcode may contain */
	if (!d->w0 || (w0 & ~d->w0) || (w1 & ~d->w1))
		return false;
	return op != CMDQ_OP_CMD_SYNC ||
	       FIELD_GET(CMDQ_SYNC_0_CS, w0) != MOCK_SYNC_CS_RESERVED;
}

/* An entry: TLB (VMID, ASID, VA), CD (SID, SSID, 0), ATC (SID, SSID, addr) */
struct mock_cache_node {
	struct rb_node rb;
	u32 a;
	u32 b;
	u64 addr;
};

/**
 * struct mock_cache - the cache model of a pSMMU
 * @root: One tree per enum mock_smmu_cache_kind (index kind - 1)
 * @count: Number of entries in each tree, at most MOCK_CACHE_KIND_MAX
 */
struct mock_cache {
	struct rb_root root[MOCK_CACHE_KINDS];
	unsigned int count[MOCK_CACHE_KINDS];
};

/* The key range an invalidation covers, bounds included */
struct mock_cache_range {
	u32 a0, a1;
	u32 b0, b1;
	u64 x0, x1;
};

static int mock_cache_key_cmp(const struct mock_cache_node *n, u32 a, u32 b,
			      u64 addr)
{
	if (n->a != a)
		return n->a < a ? -1 : 1;
	if (n->b != b)
		return n->b < b ? -1 : 1;
	if (n->addr != addr)
		return n->addr < addr ? -1 : 1;
	return 0;
}

/* For rb_find_add(): the order of @new against @old */
static int mock_cache_node_cmp(struct rb_node *new, const struct rb_node *old)
{
	const struct mock_cache_node *o = rb_entry(old, struct mock_cache_node,
						   rb);

	return mock_cache_key_cmp(rb_entry(new, struct mock_cache_node, rb),
				  o->a, o->b, o->addr);
}

/* The first entry not below (@a, @b, @addr), or NULL */
static struct mock_cache_node *mock_cache_lower_bound(struct rb_root *root,
						      u32 a, u32 b, u64 addr)
{
	struct rb_node *node = root->rb_node;
	struct mock_cache_node *found = NULL;

	while (node) {
		struct mock_cache_node *n = rb_entry(node,
						     struct mock_cache_node, rb);

		if (mock_cache_key_cmp(n, a, b, addr) >= 0) {
			found = n;
			node = node->rb_left;
		} else {
			node = node->rb_right;
		}
	}
	return found;
}

/* Drop the entries of @kind whose key lies in @r */
static void mock_cache_inv(struct mock_cache *cache,
			   enum mock_smmu_cache_kind kind,
			   const struct mock_cache_range *r)
{
	struct rb_root *root = &cache->root[kind - 1];
	struct mock_cache_node *n, *next;

	n = mock_cache_lower_bound(root, r->a0, r->b0, r->x0);
	/* In key order, stopping after the last key of the range */
	while (n && mock_cache_key_cmp(n, r->a1, r->b1, r->x1) <= 0) {
		struct rb_node *rb = rb_next(&n->rb);

		next = rb ? rb_entry(rb, struct mock_cache_node, rb) : NULL;
		if (n->b >= r->b0 && n->b <= r->b1 &&
		    n->addr >= r->x0 && n->addr <= r->x1) {
			rb_erase(&n->rb, root);
			cache->count[kind - 1]--;
			kfree(n);
		}
		n = next;
	}
}

/* [@first, @last] of @size bytes from @addr aligned down to @size */
static void mock_aligned_span(u64 addr, u64 size, u64 *first, u64 *last)
{
	*first = addr & ~(size - 1);
	*last = *first + (size - 1);
}

/* The addresses TLBI_NH_VA/VAA invalidate */
static void mock_tlbi_span(u64 w0, u64 w1, u64 *first, u64 *last)
{
	u64 addr = w1 & CMDQ_TLBI_1_VA_MASK;
	unsigned int tg = FIELD_GET(CMDQ_TLBI_1_TG, w1);
	unsigned int shift;
	u64 size;

	if (tg == CMDQ_TLBI_TG_NONE) {
		mock_aligned_span(addr, SZ_4K, first, last);
		return;
	}
	/* TG 1, 2, 3: 4K, 16K, 64K granules */
	shift = 12 + 2 * (tg - CMDQ_TLBI_TG_4K);
	/* At most 32 << (31 + 16): no overflow */
	size = (FIELD_GET(CMDQ_TLBI_0_NUM, w0) + 1) <<
	       (FIELD_GET(CMDQ_TLBI_0_SCALE, w0) + shift);
	*first = addr & ~((1ULL << shift) - 1);
	if (check_add_overflow(*first, size - 1, last))
		*last = U64_MAX;
}

/* The kind of entries a legal command can invalidate, 0 for none */
static enum mock_smmu_cache_kind mock_cache_kind_of(unsigned int op)
{
	switch (op) {
	case CMDQ_OP_CFGI_CD:
	case CMDQ_OP_CFGI_CD_ALL:
	case CMDQ_OP_CFGI_STE:
	case CMDQ_OP_CFGI_ALL:
		return MOCK_SMMU_CACHE_CD;
	case CMDQ_OP_TLBI_NH_VA:
	case CMDQ_OP_TLBI_NH_VAA:
	case CMDQ_OP_TLBI_NH_ASID:
	case CMDQ_OP_TLBI_NH_ALL:
	case CMDQ_OP_TLBI_S12_VMALL:
	case CMDQ_OP_TLBI_NSNH_ALL:
		return MOCK_SMMU_CACHE_TLB;
	case CMDQ_OP_ATC_INV:
		return MOCK_SMMU_CACHE_ATC;
	}
	return 0;
}

/**
 * mock_cache_exec() - Execute a command against a cache model
 * @cache: The model
 * @w0: Word 0 of a command mock_cmd_legal() accepts, CPU order
 * @w1: Word 1
 *
 * See the top of this file for what each command invalidates.
 */
void mock_cache_exec(struct mock_cache *cache, u64 w0, u64 w1)
{
	struct mock_cache_range r = {
		.a0 = 0, .a1 = U32_MAX, .b0 = 0, .b1 = U32_MAX,
		.x0 = 0, .x1 = U64_MAX,
	};
	u32 sid = FIELD_GET(CMDQ_CFGI_0_SID, w0);
	u32 ssid = FIELD_GET(CMDQ_CFGI_0_SSID, w0);
	u32 vmid = FIELD_GET(CMDQ_TLBI_0_VMID, w0);
	u32 asid = FIELD_GET(CMDQ_TLBI_0_ASID, w0);
	unsigned int op = FIELD_GET(CMDQ_0_OP, w0);
	enum mock_smmu_cache_kind kind = mock_cache_kind_of(op);
	u64 span;

	/*
	 * A model holding nothing the command could drop has nothing to look
	 * up: the usual case outside the coherence tests, which keeps the
	 * model's cost per command small where only the driver is measured.
	 */
	if (!kind || !cache->count[kind - 1])
		return;

	switch (op) {
	case CMDQ_OP_CFGI_CD:
		r.b0 = ssid;
		r.b1 = ssid;
		fallthrough;
	case CMDQ_OP_CFGI_CD_ALL:
	case CMDQ_OP_CFGI_STE:
		r.a0 = sid;
		r.a1 = sid;
		mock_cache_inv(cache, MOCK_SMMU_CACHE_CD, &r);
		break;
	case CMDQ_OP_CFGI_ALL:
		span = 2ULL << FIELD_GET(CMDQ_CFGI_1_RANGE, w1);
		r.a0 = sid & ~(span - 1);
		r.a1 = min_t(u64, (u64)r.a0 + span - 1, U32_MAX);
		mock_cache_inv(cache, MOCK_SMMU_CACHE_CD, &r);
		break;
	case CMDQ_OP_TLBI_NH_VA:
		r.b0 = asid;
		r.b1 = asid;
		fallthrough;
	case CMDQ_OP_TLBI_NH_VAA:
		mock_tlbi_span(w0, w1, &r.x0, &r.x1);
		r.a0 = vmid;
		r.a1 = vmid;
		mock_cache_inv(cache, MOCK_SMMU_CACHE_TLB, &r);
		break;
	case CMDQ_OP_TLBI_NH_ASID:
		r.b0 = asid;
		r.b1 = asid;
		fallthrough;
	case CMDQ_OP_TLBI_NH_ALL:
	case CMDQ_OP_TLBI_S12_VMALL:
		r.a0 = vmid;
		r.a1 = vmid;
		fallthrough;
	case CMDQ_OP_TLBI_NSNH_ALL:
		mock_cache_inv(cache, MOCK_SMMU_CACHE_TLB, &r);
		break;
	case CMDQ_OP_ATC_INV:
		r.a0 = sid;
		r.a1 = sid;
		if ((w0 & CMDQ_0_SSV) && !(w0 & CMDQ_ATC_0_GLOBAL)) {
			r.b0 = ssid;
			r.b1 = ssid;
		}
		span = FIELD_GET(CMDQ_ATC_1_SIZE, w1);
		if (span < CMDQ_ATC_1_SIZE_ALL)
			mock_aligned_span(w1 & CMDQ_TLBI_1_VA_MASK,
					  1ULL << (span + 12), &r.x0, &r.x1);
		mock_cache_inv(cache, MOCK_SMMU_CACHE_ATC, &r);
		break;
	}
}

/* Check a FILL entry: known kind, unused fields 0, aligned page */
static bool mock_cache_entry_valid(const struct mock_smmu_cache_entry *e)
{
	switch (e->kind) {
	case MOCK_SMMU_CACHE_TLB:
		return !e->sid && !e->ssid && IS_ALIGNED(e->addr, SZ_4K);
	case MOCK_SMMU_CACHE_CD:
		return !e->vmid && !e->asid && e->ssid <= MOCK_SSID_MAX &&
		       !e->addr;
	case MOCK_SMMU_CACHE_ATC:
		return !e->vmid && !e->asid && e->ssid <= MOCK_SSID_MAX &&
		       IS_ALIGNED(e->addr, SZ_4K);
	}
	return false;
}

/**
 * mock_cache_fill() - Insert entries into a cache model
 * @cache: The model
 * @ents: Entries as MOCK_SMMU_CACHE_FILL takes them
 * @num: Number of entries, 0 to empty the model
 *
 * All or nothing: on error the model is left as it was. An entry the model
 * holds already is not added twice.
 *
 * Return: 0; -EINVAL for an unknown kind, a field the kind does not use
 * that is not 0, a SubstreamID above 20 bits or an address that is not 4K
 * aligned; -ENOSPC when a kind would hold more than MOCK_CACHE_KIND_MAX
 * entries; -ENOMEM.
 */
int mock_cache_fill(struct mock_cache *cache,
		    const struct mock_smmu_cache_entry *ents, unsigned int num)
{
	struct mock_cache_node **added;
	unsigned int i, k;
	int rc = 0;

	if (!num) {
		mock_cache_empty(cache);
		return 0;
	}
	for (i = 0; i != num; i++)
		if (!mock_cache_entry_valid(&ents[i]))
			return -EINVAL;

	/* What this call inserted, to undo it on error */
	added = kvcalloc(num, sizeof(*added), GFP_KERNEL);
	if (!added)
		return -ENOMEM;
	for (i = 0; i != num; i++) {
		const struct mock_smmu_cache_entry *e = &ents[i];
		struct mock_cache_node *n;

		k = e->kind - 1;
		n = kzalloc(sizeof(*n), GFP_KERNEL);
		if (!n) {
			rc = -ENOMEM;
			break;
		}
		n->a = e->kind == MOCK_SMMU_CACHE_TLB ? e->vmid : e->sid;
		n->b = e->kind == MOCK_SMMU_CACHE_TLB ? e->asid : e->ssid;
		n->addr = e->addr;
		if (rb_find_add(&n->rb, &cache->root[k], mock_cache_node_cmp)) {
			/* Cached already */
			kfree(n);
			continue;
		}
		if (cache->count[k] == MOCK_CACHE_KIND_MAX) {
			rb_erase(&n->rb, &cache->root[k]);
			kfree(n);
			rc = -ENOSPC;
			break;
		}
		cache->count[k]++;
		added[i] = n;
	}
	if (rc) {
		while (i--) {
			if (!added[i])
				continue;
			k = ents[i].kind - 1;
			rb_erase(&added[i]->rb, &cache->root[k]);
			cache->count[k]--;
			kfree(added[i]);
		}
	}
	kvfree(added);
	return rc;
}

/**
 * mock_cache_read() - Read a cache model's entries
 * @cache: The model
 * @ents: Output, in the order of MOCK_SMMU_CACHE_READ (kind, then
 *        StreamID or VMID, SubstreamID or ASID, address)
 * @max: Room in @ents
 *
 * Return: the number of entries the model holds; the first min(@max, that)
 * of them are in @ents.
 */
unsigned int mock_cache_read(struct mock_cache *cache,
			     struct mock_smmu_cache_entry *ents,
			     unsigned int max)
{
	unsigned int k, total = 0, out = 0;
	struct rb_node *rb;

	for (k = 0; k != MOCK_CACHE_KINDS; k++) {
		total += cache->count[k];
		for (rb = rb_first(&cache->root[k]); rb && out != max;
		     rb = rb_next(rb)) {
			struct mock_cache_node *n = rb_entry(rb,
						struct mock_cache_node, rb);
			struct mock_smmu_cache_entry *e = &ents[out++];

			memset(e, 0, sizeof(*e));
			e->kind = k + 1;
			if (e->kind == MOCK_SMMU_CACHE_TLB) {
				e->vmid = n->a;
				e->asid = n->b;
			} else {
				e->sid = n->a;
				e->ssid = n->b;
			}
			e->addr = n->addr;
		}
	}
	return total;
}

/**
 * mock_cache_empty() - Drop every entry of a cache model
 * @cache: The model
 */
void mock_cache_empty(struct mock_cache *cache)
{
	struct mock_cache_node *n, *next;
	unsigned int k;

	for (k = 0; k != MOCK_CACHE_KINDS; k++) {
		rbtree_postorder_for_each_entry_safe(n, next, &cache->root[k],
						     rb)
			kfree(n);
		cache->root[k] = RB_ROOT;
		cache->count[k] = 0;
	}
}

/**
 * mock_cache_alloc() - Allocate an empty cache model
 *
 * Return: the model or NULL.
 */
struct mock_cache *mock_cache_alloc(void)
{
	struct mock_cache *cache;
	unsigned int k;

	cache = kzalloc(sizeof(*cache), GFP_KERNEL);
	if (!cache)
		return NULL;
	for (k = 0; k != MOCK_CACHE_KINDS; k++)
		cache->root[k] = RB_ROOT;
	return cache;
}

/**
 * mock_cache_free() - Free a cache model and its entries
 * @cache: The model, or NULL
 */
void mock_cache_free(struct mock_cache *cache)
{
	if (!cache)
		return;
	mock_cache_empty(cache);
	kfree(cache);
}
