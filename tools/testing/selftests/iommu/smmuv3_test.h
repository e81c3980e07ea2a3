/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ARM SMMUv3 encodings the iommufd kselftests use, at their architecture
 * positions: command queue entries (opcodes and fields, as a guest writes
 * them and as a pSMMU's command log returns them) and Stream Table Entry
 * fields (as a guest STE gives them to IOMMU_HWPT_ALLOC and as
 * MOCK_SMMU_GET_STE returns a physical STE). Masks are in place; the
 * SMMU_CMD_*() and SMMU_FIELD() macros give a value in its field and are
 * constant expressions, for tables.
 */
#ifndef __SMMUV3_TEST_H
#define __SMMUV3_TEST_H

#include <assert.h>
#include <stdint.h>

#define SMMU_BIT(n)		(1ULL << (n))
/* Bits @h down to @l */
#define SMMU_GENMASK(h, l)	((~0ULL >> (63 - (h))) & ~(SMMU_BIT(l) - 1))
/* @val placed in the field @mask */
#define SMMU_FIELD(mask, val) \
	((((uint64_t)(val)) << __builtin_ctzll(mask)) & (mask))

/* ---- Command queue entries: two 64-bit words ---------------------------- */

#define SMMU_OP_CFGI_STE	0x03
#define SMMU_OP_CFGI_STE_RANGE	0x04
#define SMMU_OP_CFGI_CD		0x05
#define SMMU_OP_CFGI_CD_ALL	0x06
#define SMMU_OP_TLBI_NH_ALL	0x10
#define SMMU_OP_TLBI_NH_ASID	0x11
#define SMMU_OP_TLBI_NH_VA	0x12
#define SMMU_OP_TLBI_NH_VAA	0x13
#define SMMU_OP_TLBI_S12_VMALL	0x28
#define SMMU_OP_TLBI_NSNH_ALL	0x30
#define SMMU_OP_ATC_INV		0x40
#define SMMU_OP_CMD_SYNC	0x46

/* Word 0 */
#define SMMU_CMD0_OP		SMMU_GENMASK(7, 0)
#define SMMU_CMD0_GLOBAL	SMMU_BIT(9)		/* ATC_INV */
#define SMMU_CMD0_SSEC		SMMU_BIT(10)
#define SMMU_CMD0_SSV		SMMU_BIT(11)		/* ATC_INV */
#define SMMU_CMD0_SSID		SMMU_GENMASK(31, 12)	/* CFGI_CD, ATC_INV */
#define SMMU_CMD0_SID		SMMU_GENMASK(63, 32)
#define SMMU_CMD0_NUM		SMMU_GENMASK(16, 12)	/* TLBI_NH_VA/VAA */
#define SMMU_CMD0_SCALE		SMMU_GENMASK(24, 20)	/* TLBI_NH_VA/VAA */
#define SMMU_CMD0_VMID		SMMU_GENMASK(47, 32)
#define SMMU_CMD0_ASID		SMMU_GENMASK(63, 48)
#define SMMU_CMD0_SYNC_CS	SMMU_GENMASK(13, 12)
#define SMMU_CMD0_SYNC_MSH	SMMU_GENMASK(23, 22)
#define SMMU_CMD0_SYNC_MSIATTR	SMMU_GENMASK(27, 24)
#define SMMU_CMD0_SYNC_MSIDATA	SMMU_GENMASK(63, 32)
/* Word 1 */
#define SMMU_CMD1_LEAF		SMMU_BIT(0)
#define SMMU_CMD1_RANGE		SMMU_GENMASK(4, 0)	/* CFGI_STE_RANGE */
#define SMMU_CMD1_TTL		SMMU_GENMASK(9, 8)
#define SMMU_CMD1_TG		SMMU_GENMASK(11, 10)
#define SMMU_CMD1_ADDR		SMMU_GENMASK(63, 12)
#define SMMU_CMD1_ATC_SIZE	SMMU_GENMASK(5, 0)
#define SMMU_CMD1_SYNC_MSIADDR	SMMU_GENMASK(51, 2)

/* Values in their field */
#define SMMU_CMD_SSID(x)	SMMU_FIELD(SMMU_CMD0_SSID, x)
#define SMMU_CMD_SID(x)		SMMU_FIELD(SMMU_CMD0_SID, x)
#define SMMU_CMD_NUM(x)		SMMU_FIELD(SMMU_CMD0_NUM, x)
#define SMMU_CMD_SCALE(x)	SMMU_FIELD(SMMU_CMD0_SCALE, x)
#define SMMU_CMD_VMID(x)	SMMU_FIELD(SMMU_CMD0_VMID, x)
#define SMMU_CMD_ASID(x)	SMMU_FIELD(SMMU_CMD0_ASID, x)
#define SMMU_CMD_SYNC_CS(x)	SMMU_FIELD(SMMU_CMD0_SYNC_CS, x)
#define SMMU_CMD_RANGE(x)	SMMU_FIELD(SMMU_CMD1_RANGE, x)
#define SMMU_CMD_TTL(x)		SMMU_FIELD(SMMU_CMD1_TTL, x)
#define SMMU_CMD_TG(x)		SMMU_FIELD(SMMU_CMD1_TG, x)
#define SMMU_CMD_ATC_SIZE(x)	SMMU_FIELD(SMMU_CMD1_ATC_SIZE, x)

/* TG: granule of a TLBI range (0: a single address, no range) */
#define SMMU_TG_4K		1
#define SMMU_TG_16K		2
#define SMMU_TG_64K		3
/* ATC_INV SIZE invalidating every address */
#define SMMU_ATC_SIZE_ALL	52
/* CMD_SYNC CS: no completion signal, an interrupt, SEV (3 is reserved) */
#define SMMU_SYNC_CS_NONE	0
#define SMMU_SYNC_CS_IRQ	1
#define SMMU_SYNC_CS_SEV	2

/* One command: two words, as both a guest and a pSMMU's log hold it */
struct smmu_cmd {
	uint64_t w[2];
};

#define SMMU_CMD(w0, w1)	((struct smmu_cmd){ { (w0), (w1) } })

/* @val placed in the field @mask */
static inline uint64_t smmu_field_prep(uint64_t mask, uint64_t val)
{
	return SMMU_FIELD(mask, val);
}

/* The value of the field @mask in @word */
static inline uint64_t smmu_field_get(uint64_t mask, uint64_t word)
{
	return (word & mask) >> __builtin_ctzll(mask);
}

static inline unsigned int smmu_cmd_op(const uint64_t *cmd)
{
	return smmu_field_get(SMMU_CMD0_OP, cmd[0]);
}

static inline int smmu_is_sync(const struct smmu_cmd *c)
{
	return smmu_cmd_op(c->w) == SMMU_OP_CMD_SYNC;
}

/* A command that names a device by its (virtual or physical) StreamID */
static inline int smmu_op_sid_scoped(unsigned int op)
{
	return op == SMMU_OP_ATC_INV || op == SMMU_OP_CFGI_CD ||
	       op == SMMU_OP_CFGI_CD_ALL;
}

/* A stage-1 TLB invalidation a guest may issue, scoped by VMID */
static inline int smmu_op_tlbi(unsigned int op)
{
	return op == SMMU_OP_TLBI_NH_ALL || op == SMMU_OP_TLBI_NH_ASID ||
	       op == SMMU_OP_TLBI_NH_VA || op == SMMU_OP_TLBI_NH_VAA ||
	       op == SMMU_OP_TLBI_NSNH_ALL;
}

static inline void smmu_cmd_cfgi_cd(uint64_t *cmd, uint32_t sid,
				    uint32_t ssid, int leaf)
{
	cmd[0] = SMMU_OP_CFGI_CD | SMMU_CMD_SSID(ssid) | SMMU_CMD_SID(sid);
	cmd[1] = leaf ? SMMU_CMD1_LEAF : 0;
}

static inline void smmu_cmd_cfgi_cd_all(uint64_t *cmd, uint32_t sid)
{
	cmd[0] = SMMU_OP_CFGI_CD_ALL | SMMU_CMD_SID(sid);
	cmd[1] = 0;
}

/* ATC_INV; @ssid is used (SSV set) when not negative */
static inline void smmu_cmd_atc_inv(uint64_t *cmd, uint32_t sid, int ssid,
				    int global, uint64_t addr,
				    unsigned int size)
{
	cmd[0] = SMMU_OP_ATC_INV | SMMU_CMD_SID(sid);
	if (ssid >= 0)
		cmd[0] |= SMMU_CMD0_SSV | SMMU_CMD_SSID(ssid);
	if (global)
		cmd[0] |= SMMU_CMD0_GLOBAL;
	cmd[1] = (addr & SMMU_CMD1_ADDR) | SMMU_CMD_ATC_SIZE(size);
}

static inline void smmu_cmd_nsnh_all(uint64_t *cmd)
{
	cmd[0] = SMMU_OP_TLBI_NSNH_ALL;
	cmd[1] = 0;
}

static inline void smmu_cmd_nh_all(uint64_t *cmd, uint16_t vmid)
{
	cmd[0] = SMMU_OP_TLBI_NH_ALL | SMMU_CMD_VMID(vmid);
	cmd[1] = 0;
}

static inline void smmu_cmd_nh_asid(uint64_t *cmd, uint16_t vmid,
				    uint16_t asid)
{
	cmd[0] = SMMU_OP_TLBI_NH_ASID | SMMU_CMD_VMID(vmid) |
		 SMMU_CMD_ASID(asid);
	cmd[1] = 0;
}

/*
 * TLBI_NH_VA (@asid >= 0) or TLBI_NH_VAA (@asid < 0). @tg 0 is a single
 * page (@num, @scale and @ttl must then be 0); else a range of (@num + 1)
 * << @scale granules of @tg (SMMU_TG_*).
 */
static inline void smmu_cmd_nh_va(uint64_t *cmd, uint16_t vmid, int asid,
				  uint64_t addr, int leaf, unsigned int tg,
				  unsigned int ttl, unsigned int num,
				  unsigned int scale)
{
	cmd[0] = SMMU_CMD_VMID(vmid) | SMMU_CMD_NUM(num) |
		 SMMU_CMD_SCALE(scale);
	if (asid >= 0)
		cmd[0] |= SMMU_OP_TLBI_NH_VA | SMMU_CMD_ASID(asid);
	else
		cmd[0] |= SMMU_OP_TLBI_NH_VAA;
	cmd[1] = (addr & SMMU_CMD1_ADDR) | (leaf ? SMMU_CMD1_LEAF : 0) |
		 SMMU_CMD_TG(tg) | SMMU_CMD_TTL(ttl);
}

/* ---- Stream Table Entries: words 0..3 of the 8 ---------------------------- */

/* Word 0 */
#define SMMU_STE0_V		SMMU_BIT(0)
#define SMMU_STE0_CFG		SMMU_GENMASK(3, 1)
#define SMMU_STE0_S1FMT		SMMU_GENMASK(5, 4)
#define SMMU_STE0_S1CTXPTR	SMMU_GENMASK(51, 6)
#define SMMU_STE0_S1CDMAX	SMMU_GENMASK(63, 59)
/* Word 1 */
#define SMMU_STE1_S1DSS		SMMU_GENMASK(1, 0)
#define SMMU_STE1_S1CIR		SMMU_GENMASK(3, 2)
#define SMMU_STE1_S1COR		SMMU_GENMASK(5, 4)
#define SMMU_STE1_S1CSH		SMMU_GENMASK(7, 6)
#define SMMU_STE1_MEV		SMMU_BIT(19)
#define SMMU_STE1_S1STALLD	SMMU_BIT(27)
#define SMMU_STE1_EATS		SMMU_GENMASK(29, 28)
/* Word 2 */
#define SMMU_STE2_S2VMID	SMMU_GENMASK(15, 0)

/* Config */
#define SMMU_STE_CFG_ABORT	0
#define SMMU_STE_CFG_BYPASS	4
#define SMMU_STE_CFG_S1_TRANS	5
#define SMMU_STE_CFG_S2_TRANS	6
#define SMMU_STE_CFG_NESTED	7
/* The Config of STE word 0 @ste0 */
#define SMMU_STE_CFG(ste0)	smmu_field_get(SMMU_STE0_CFG, ste0)

/* EATS: ATS translation requests aborted, or allowed */
#define SMMU_STE_EATS_ABT	0
#define SMMU_STE_EATS_TRANS	1

/* The fields of a guest STE that nesting accepts (iommufd's ARM uAPI) */
#define SMMU_STE0_NESTING_ALLOWED \
	(SMMU_STE0_V | SMMU_STE0_CFG | SMMU_STE0_S1FMT | SMMU_STE0_S1CTXPTR | \
	 SMMU_STE0_S1CDMAX)
#define SMMU_STE1_NESTING_ALLOWED \
	(SMMU_STE1_S1DSS | SMMU_STE1_S1CIR | SMMU_STE1_S1COR | \
	 SMMU_STE1_S1CSH | SMMU_STE1_S1STALLD | SMMU_STE1_EATS)
static_assert(SMMU_STE0_NESTING_ALLOWED == 0xf80fffffffffffffULL,
	      "STE word 0 fields a guest may set");
static_assert(SMMU_STE1_NESTING_ALLOWED == 0x380000ffULL,
	      "STE word 1 fields a guest may set");

/* ---- ID registers: IOMMU_GET_HW_INFO's idr[0..5] ---------------------- */

#define SMMU_IDR0_S2P		SMMU_BIT(0)
#define SMMU_IDR0_S1P		SMMU_BIT(1)
#define SMMU_IDR0_TTF		SMMU_GENMASK(3, 2)
#define SMMU_IDR0_ATS		SMMU_BIT(10)
#define SMMU_IDR0_TTENDIAN	SMMU_GENMASK(22, 21)
#define SMMU_IDR0_ST_LEVEL	SMMU_GENMASK(28, 27)
#define SMMU_IDR1_SIDSIZE	SMMU_GENMASK(5, 0)
#define SMMU_IDR1_SSIDSIZE	SMMU_GENMASK(10, 6)
#define SMMU_IDR3_RIL		SMMU_BIT(10)
#define SMMU_IDR5_OAS		SMMU_GENMASK(2, 0)
#define SMMU_IDR5_GRAN4K	SMMU_BIT(4)
#define SMMU_IDR5_GRAN16K	SMMU_BIT(5)
#define SMMU_IDR5_GRAN64K	SMMU_BIT(6)

/* TTF: AArch32, AArch64, or both; TTENDIAN: mixed, little, big endian */
#define SMMU_TTF_AARCH64	2
#define SMMU_TTENDIAN_LE	2
/* ST_LEVEL: linear stream table only, or 2-level too */
#define SMMU_ST_LEVEL_2LVL	1
/* OAS encodings 0..7 */
#define SMMU_OAS_44_BIT		4
#define SMMU_OAS_48_BIT		5

/* The output address size in bits of IDR5.OAS @oas, 0 if reserved */
static inline unsigned int smmu_oas_bits(unsigned int oas)
{
	static const unsigned char bits[] = { 32, 36, 40, 42, 44, 48, 52 };

	return oas < sizeof(bits) ? bits[oas] : 0;
}

#endif /* __SMMUV3_TEST_H */
