/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ARM SMMUv3 command queue entries: opcodes and field positions, as the
 * architecture defines them. Shared by the vSMMU invalidation dispatcher of
 * iommufd.ko and the mock SMMU's command queue model.
 */
#ifndef __LINUX_SMMUV3_CMDQ_H
#define __LINUX_SMMUV3_CMDQ_H

#include <linux/bits.h>

/* A command is two 64-bit words */
#define SMMUV3_CMD_WORDS		2

/* Opcodes (word 0, bits 7:0) */
#define SMMUV3_OP_PREFETCH_CFG		0x01
#define SMMUV3_OP_PREFETCH_ADDR		0x02
#define SMMUV3_OP_CFGI_STE		0x03
#define SMMUV3_OP_CFGI_STE_RANGE	0x04
#define SMMUV3_OP_CFGI_CD		0x05
#define SMMUV3_OP_CFGI_CD_ALL		0x06
#define SMMUV3_OP_TLBI_NH_ALL		0x10
#define SMMUV3_OP_TLBI_NH_ASID		0x11
#define SMMUV3_OP_TLBI_NH_VA		0x12
#define SMMUV3_OP_TLBI_NH_VAA		0x13
#define SMMUV3_OP_TLBI_EL2_ALL		0x20
#define SMMUV3_OP_TLBI_S12_VMALL	0x28
#define SMMUV3_OP_TLBI_S2_IPA		0x2a
#define SMMUV3_OP_TLBI_NSNH_ALL		0x30
#define SMMUV3_OP_ATC_INV		0x40
#define SMMUV3_OP_PRI_RESP		0x41
#define SMMUV3_OP_RESUME		0x44
#define SMMUV3_OP_STALL_TERM		0x45
#define SMMUV3_OP_CMD_SYNC		0x46

/* Word 0 */
#define SMMUV3_CMD0_OP			GENMASK_ULL(7, 0)
#define SMMUV3_CMD0_GLOBAL		BIT_ULL(9)
#define SMMUV3_CMD0_SSEC		BIT_ULL(10)
#define SMMUV3_CMD0_SSV			BIT_ULL(11)
#define SMMUV3_CMD0_SSID		GENMASK_ULL(31, 12)
#define SMMUV3_CMD0_SID			GENMASK_ULL(63, 32)
#define SMMUV3_CMD0_NUM			GENMASK_ULL(16, 12)
#define SMMUV3_CMD0_SCALE		GENMASK_ULL(24, 20)
#define SMMUV3_CMD0_VMID		GENMASK_ULL(47, 32)
#define SMMUV3_CMD0_ASID		GENMASK_ULL(63, 48)
#define SMMUV3_CMD0_SYNC_CS		GENMASK_ULL(13, 12)

/* Word 1 */
#define SMMUV3_CMD1_LEAF		BIT_ULL(0)
#define SMMUV3_CMD1_TTL			GENMASK_ULL(9, 8)
#define SMMUV3_CMD1_TG			GENMASK_ULL(11, 10)
#define SMMUV3_CMD1_ADDR		GENMASK_ULL(63, 12)
#define SMMUV3_CMD1_ATC_SIZE		GENMASK_ULL(5, 0)

/* ATC_INV SIZE that invalidates every address */
#define SMMUV3_ATC_INV_SIZE_ALL		52

/* TG values of range invalidation */
#define SMMUV3_TG_NONE			0
#define SMMUV3_TG_4K			1
#define SMMUV3_TG_16K			2
#define SMMUV3_TG_64K			3

#endif /* __LINUX_SMMUV3_CMDQ_H */
