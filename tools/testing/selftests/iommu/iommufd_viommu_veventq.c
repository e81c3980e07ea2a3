// SPDX-License-Identifier: GPL-2.0-only
/*
 * vEVENTQ (IOMMU_VEVENTQ_ALLOC) on the mock SMMUv3 driver, against the
 * contract of upstream's uAPI (6.15+): every errno of the ioctl, the
 * format read() returns (a struct iommufd_vevent_header and a 32-byte
 * SMMUv3 event record per event, oldest first, sequence numbers counting
 * every reported event), a full queue ending in a lost-events header and
 * recovering, the StreamID a guest sees (its vSID), which records the guest
 * never sees (counted by the mock), a spanning vIOMMU getting the events of
 * every pSMMU, poll(), and the object references at teardown.
 *
 * Events come from MOCK_SMMU_RAISE_EVENT: the pSMMU writes the record, the
 * driver's handler runs before the ioctl returns.
 */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "kselftest_harness.h"
#include "iommufd_viommu_utils.h"

#define MAX_PSMMUS		64

/* SMMUv3 event records (architecture: 7.3 Event records) */
#define EVT_DWORDS		4
#define EVT_SIZE		32
#define EVT0_ID			SMMU_GENMASK(7, 0)
#define EVT0_SSV		SMMU_BIT(11)
#define EVT0_SSID		SMMU_GENMASK(31, 12)
#define EVT0_SID		SMMU_GENMASK(63, 32)
#define EVT1_STALL		SMMU_BIT(31)
#define EVT1_S2			SMMU_BIT(39)

#define EVT_C_BAD_STREAMID	0x02
#define EVT_C_BAD_STE		0x04
#define EVT_F_TRANSLATION	0x10
#define EVT_F_PERMISSION	0x13

/* Upstream's bounds */
#define VEVENTQ_MAX_DEPTH	0x80000U	/* 2^19 */
#define VEVENTQ_ALLOC_MIN_SIZE	28

#define HDR_SIZE		8
#define REC_SIZE		(HDR_SIZE + EVT_SIZE)

#define PSID			0x31
#define VSID			0x7007
#define PSID_NOVDEV		0x32
#define PSID_S2ONLY		0x33
#define VSID_S2ONLY		0x7033
#define PSID_SPAN		0x60	/* on every pSMMU */
#define PSID_CLOSE		0x70
#define VSID_SPAN		0x8000	/* + pSMMU index */

static_assert(sizeof(struct iommufd_vevent_header) == HDR_SIZE, "header");
static_assert(sizeof(struct iommu_vevent_arm_smmuv3) == EVT_SIZE, "record");

struct rec {
	struct iommufd_vevent_header hdr;
	uint64_t evt[EVT_DWORDS];
};

static int veventq_alloc(int fd, uint32_t viommu_id, uint32_t type,
			 uint32_t depth, uint32_t *id, int *vfd)
{
	struct iommu_veventq_alloc cmd = {
		.size = sizeof(cmd),
		.viommu_id = viommu_id,
		.type = type,
		.veventq_depth = depth,
	};
	int rc = ioctl_errno(fd, IOMMU_VEVENTQ_ALLOC, &cmd);

	if (!rc) {
		if (id)
			*id = cmd.out_veventq_id;
		if (vfd)
			*vfd = cmd.out_veventq_fd;
		else
			close(cmd.out_veventq_fd);
	}
	return rc;
}

static int raise_event(int mfd, uint32_t psmmu, uint64_t w0, uint64_t w1,
		       uint64_t w2, uint64_t w3)
{
	struct mock_smmu_event cmd = {
		.psmmu = psmmu,
		.evt = { w0, w1, w2, w3 },
	};

	return ioctl_errno(mfd, MOCK_SMMU_RAISE_EVENT, &cmd);
}

/* An event of @type for @sid, its other words derived from @n */
static int raise_n(int mfd, uint32_t psmmu, uint32_t type, uint32_t sid,
		   uint64_t n)
{
	return raise_event(mfd, psmmu,
			   SMMU_FIELD(EVT0_ID, type) | SMMU_FIELD(EVT0_SID, sid),
			   0x1000 + n, 0xfeed0000ULL + (n << 12), 0x4000 + n);
}

static int evt_counters(int mfd, uint32_t psmmu,
			struct mock_smmu_event_counters *cnt)
{
	memset(cnt, 0, sizeof(*cnt));
	cnt->psmmu = psmmu;
	return ioctl_errno(mfd, MOCK_SMMU_GET_EVENT_COUNTERS, cnt);
}

/* read() of a vEVENTQ: bytes read or -errno */
static ssize_t vread(int vfd, void *buf, size_t len)
{
	ssize_t rc = read(vfd, buf, len);

	return rc < 0 ? -errno : rc;
}

static int poll_in(int vfd, int timeout_ms)
{
	struct pollfd pfd = { .fd = vfd, .events = POLLIN };
	int rc = poll(&pfd, 1, timeout_ms);

	return rc < 0 ? -errno : rc ? pfd.revents : 0;
}

FIXTURE(veventq)
{
	int fd;
	int mfd;
	int nr_psmmus;
	uint32_t ioas_id;
	/* Behind pSMMU 0: with a vDEVICE (VSID), attached to an S1 HWPT */
	uint32_t dev;
	uint32_t dev_id;
	uint32_t hwpt_id;	/* nesting parent */
	uint32_t viommu_id;
	uint32_t vdev_id;
	uint32_t s1_id;
	struct mock_smmu_event_counters base;
};

FIXTURE_SETUP(veventq)
{
	if (!viommu_fixture_open(_metadata, &self->fd, &self->mfd,
				 &self->nr_psmmus, MAX_PSMMUS, 1))
		return;
	ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas_id));
	ASSERT_EQ(0, mock_dev_create_bind(self->mfd, self->fd, 0, PSID,
					  &self->dev, &self->dev_id));
	ASSERT_EQ(0, hwpt_alloc_nest_parent(self->fd, self->dev_id,
					    self->ioas_id, &self->hwpt_id));
	ASSERT_EQ(0, mock_dev_attach(self->mfd, self->dev, self->hwpt_id,
				     NULL));
	ASSERT_EQ(0, viommu_alloc_smmu(self->fd, 0, self->dev_id,
				       self->hwpt_id, &self->viommu_id));
	ASSERT_EQ(0, vdevice_alloc(self->fd, self->viommu_id, self->dev_id,
				   VSID, &self->vdev_id));
	ASSERT_EQ(0, hwpt_alloc_nested_s1(self->fd, self->dev_id,
					  self->viommu_id, 0x80000,
					  &self->s1_id));
	ASSERT_EQ(0, mock_dev_attach(self->mfd, self->dev, self->s1_id, NULL));
	ASSERT_EQ(0, evt_counters(self->mfd, 0, &self->base));
}

FIXTURE_TEARDOWN(veventq)
{
	close(self->mfd);
	close(self->fd);
}

/* Every errno of IOMMU_VEVENTQ_ALLOC, and the checks' order */
TEST_F(veventq, alloc_errnos)
{
	struct {
		struct iommu_veventq_alloc cmd;
		uint64_t tail;
	} big;
	struct iommu_veventq_alloc cmd;
	uint32_t id, id2;
	int vfd, vfd2, flags;

	memset(&cmd, 0, sizeof(cmd));
	cmd.size = sizeof(cmd);
	cmd.viommu_id = self->viommu_id;
	cmd.type = IOMMU_VEVENTQ_TYPE_ARM_SMMUV3;
	cmd.veventq_depth = 8;

	/* EOPNOTSUPP: flags, __reserved, type DEFAULT, before anything else */
	cmd.flags = 1;
	EXPECT_EQ(-EOPNOTSUPP, ioctl_errno(self->fd, IOMMU_VEVENTQ_ALLOC, &cmd));
	cmd.veventq_depth = 0;
	cmd.viommu_id = 0;
	EXPECT_EQ(-EOPNOTSUPP, ioctl_errno(self->fd, IOMMU_VEVENTQ_ALLOC, &cmd));
	cmd.flags = 0;
	cmd.__reserved = 1;
	EXPECT_EQ(-EOPNOTSUPP, ioctl_errno(self->fd, IOMMU_VEVENTQ_ALLOC, &cmd));
	cmd.__reserved = 0;
	cmd.type = IOMMU_VEVENTQ_TYPE_DEFAULT;
	EXPECT_EQ(-EOPNOTSUPP, ioctl_errno(self->fd, IOMMU_VEVENTQ_ALLOC, &cmd));
	cmd.type = IOMMU_VEVENTQ_TYPE_ARM_SMMUV3;

	/* EINVAL: depth 0 or above the limit, checked before the lookup */
	EXPECT_EQ(-EINVAL, ioctl_errno(self->fd, IOMMU_VEVENTQ_ALLOC, &cmd));
	cmd.veventq_depth = VEVENTQ_MAX_DEPTH + 1;
	EXPECT_EQ(-EINVAL, ioctl_errno(self->fd, IOMMU_VEVENTQ_ALLOC, &cmd));
	cmd.veventq_depth = UINT32_MAX;
	EXPECT_EQ(-EINVAL, ioctl_errno(self->fd, IOMMU_VEVENTQ_ALLOC, &cmd));
	cmd.veventq_depth = 8;

	/* ENOENT: no such object, or not a vIOMMU */
	EXPECT_EQ(-ENOENT, ioctl_errno(self->fd, IOMMU_VEVENTQ_ALLOC, &cmd));
	cmd.viommu_id = self->ioas_id;
	EXPECT_EQ(-ENOENT, ioctl_errno(self->fd, IOMMU_VEVENTQ_ALLOC, &cmd));
	cmd.viommu_id = self->vdev_id;
	EXPECT_EQ(-ENOENT, ioctl_errno(self->fd, IOMMU_VEVENTQ_ALLOC, &cmd));
	cmd.viommu_id = 0xfffffff;
	EXPECT_EQ(-ENOENT, ioctl_errno(self->fd, IOMMU_VEVENTQ_ALLOC, &cmd));
	cmd.viommu_id = self->viommu_id;

	/* The size: shorter than out_veventq_fd's end, or a non-zero tail */
	cmd.size = VEVENTQ_ALLOC_MIN_SIZE - 1;
	EXPECT_EQ(-EINVAL, ioctl_errno(self->fd, IOMMU_VEVENTQ_ALLOC, &cmd));
	memset(&big, 0, sizeof(big));
	big.cmd = cmd;
	big.cmd.size = sizeof(big);
	big.tail = 1;
	EXPECT_EQ(-E2BIG, ioctl_errno(self->fd, IOMMU_VEVENTQ_ALLOC, &big));

	/* The largest depth is accepted; the output is an fd with CLOEXEC */
	cmd.size = sizeof(cmd);
	cmd.veventq_depth = VEVENTQ_MAX_DEPTH;
	ASSERT_EQ(0, ioctl_errno(self->fd, IOMMU_VEVENTQ_ALLOC, &cmd));
	id = cmd.out_veventq_id;
	vfd = cmd.out_veventq_fd;
	ASSERT_LE(0, vfd);
	flags = fcntl(vfd, F_GETFD);
	ASSERT_LE(0, flags);
	EXPECT_TRUE(flags & FD_CLOEXEC);
	EXPECT_NE(0, id);
	EXPECT_NE(self->viommu_id, id);

	/* EEXIST: one queue per type per vIOMMU, the minimum size too */
	cmd.veventq_depth = 1;
	cmd.size = VEVENTQ_ALLOC_MIN_SIZE;
	EXPECT_EQ(-EEXIST, ioctl_errno(self->fd, IOMMU_VEVENTQ_ALLOC, &cmd));
	big.cmd.size = sizeof(big);
	big.tail = 0;
	EXPECT_EQ(-EEXIST, ioctl_errno(self->fd, IOMMU_VEVENTQ_ALLOC, &big));

	/* Another type: the core takes any but DEFAULT, as upstream does */
	EXPECT_EQ(0, veventq_alloc(self->fd, self->viommu_id, 2, 4, &id2,
				   &vfd2));
	EXPECT_EQ(-EEXIST, veventq_alloc(self->fd, self->viommu_id, 2, 4,
					 NULL, NULL));

	/* EBUSY: the file holds the vEVENTQ, the vEVENTQ its vIOMMU */
	EXPECT_EQ(-EBUSY, iommufd_destroy(self->fd, id));
	close(vfd);
	EXPECT_EQ(0, iommufd_destroy(self->fd, id));
	EXPECT_EQ(-ENOENT, iommufd_destroy(self->fd, id));
	close(vfd2);
	EXPECT_EQ(0, iommufd_destroy(self->fd, id2));

	/* Gone, so the type is free again; the minimum size is enough */
	ASSERT_EQ(0, ioctl_errno(self->fd, IOMMU_VEVENTQ_ALLOC, &cmd));
	close(cmd.out_veventq_fd);
	EXPECT_EQ(0, iommufd_destroy(self->fd, cmd.out_veventq_id));
}

/* read(): whole records, oldest first, vSID in place of the pSID */
TEST_F(veventq, read_format)
{
	struct mock_smmu_event_counters cnt;
	struct rec recs[4];
	uint64_t w0;
	char small[REC_SIZE - 1];
	uint32_t id;
	int vfd, i;

	ASSERT_EQ(0, veventq_alloc(self->fd, self->viommu_id,
				   IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 16, &id,
				   &vfd));
	/* Empty: read() returns 0 at once, it does not block */
	EXPECT_EQ(0, vread(vfd, recs, sizeof(recs)));
	EXPECT_EQ(-EINVAL, vread(vfd, recs, HDR_SIZE - 1));

	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, raise_n(self->mfd, 0, EVT_F_TRANSLATION, PSID, i));
	/* Every field of word 0 but the StreamID is kept */
	w0 = SMMU_FIELD(EVT0_ID, EVT_C_BAD_STE) | EVT0_SSV |
	     SMMU_FIELD(EVT0_SSID, 0x5a5a5) | SMMU_FIELD(EVT0_SID, PSID);
	ASSERT_EQ(0, raise_event(self->mfd, 0, w0, 0, 0, 0));

	/* Below a header, or a buffer too small for the first record */
	EXPECT_EQ(-EINVAL, vread(vfd, small, HDR_SIZE - 1));
	EXPECT_EQ(-EINVAL, vread(vfd, small, sizeof(small)));
	EXPECT_EQ(-ESPIPE, pread(vfd, recs, sizeof(recs), 1) ? -errno : 0);

	/* One and a half records of room: one record */
	EXPECT_EQ(REC_SIZE, vread(vfd, recs, REC_SIZE + REC_SIZE / 2));
	EXPECT_EQ(0, recs[0].hdr.flags);
	EXPECT_EQ(0, recs[0].hdr.sequence);
	EXPECT_EQ(SMMU_FIELD(EVT0_ID, EVT_F_TRANSLATION) |
		  SMMU_FIELD(EVT0_SID, VSID), recs[0].evt[0]);
	EXPECT_EQ(0x1000, recs[0].evt[1]);
	EXPECT_EQ(0xfeed0000ULL, recs[0].evt[2]);
	EXPECT_EQ(0x4000, recs[0].evt[3]);

	/* The rest in one read */
	EXPECT_EQ(3 * REC_SIZE, vread(vfd, recs, sizeof(recs)));
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(0, recs[i].hdr.flags);
		EXPECT_EQ(i + 1, recs[i].hdr.sequence);
		EXPECT_EQ(SMMU_FIELD(EVT0_ID, EVT_F_TRANSLATION) |
			  SMMU_FIELD(EVT0_SID, VSID), recs[i].evt[0]);
		EXPECT_EQ(0x1000 + i + 1, recs[i].evt[1]);
		EXPECT_EQ(0xfeed0000ULL + ((i + 1ULL) << 12), recs[i].evt[2]);
		EXPECT_EQ(0x4000 + i + 1, recs[i].evt[3]);
	}
	EXPECT_EQ(0, recs[2].hdr.flags);
	EXPECT_EQ(3, recs[2].hdr.sequence);
	EXPECT_EQ((w0 & ~EVT0_SID) | SMMU_FIELD(EVT0_SID, VSID),
		  recs[2].evt[0]);
	EXPECT_EQ(0, vread(vfd, recs, sizeof(recs)));

	ASSERT_EQ(0, evt_counters(self->mfd, 0, &cnt));
	EXPECT_EQ(self->base.raised + 4, cnt.raised);
	EXPECT_EQ(self->base.reported + 4, cnt.reported);
	close(vfd);
	EXPECT_EQ(0, iommufd_destroy(self->fd, id));
}

/* A full queue drops, ends with a lost-events header, then recovers */
TEST_F(veventq, overflow)
{
	struct rec recs[8];
	struct iommufd_vevent_header *hdr;
	char buf[sizeof(recs)];
	uint32_t id;
	int vfd, i;

	ASSERT_EQ(0, veventq_alloc(self->fd, self->viommu_id,
				   IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 2, &id,
				   &vfd));
	/* Events 0 and 1 are queued, 2..4 dropped */
	for (i = 0; i < 5; i++)
		ASSERT_EQ(0, raise_n(self->mfd, 0, EVT_F_PERMISSION, PSID, i));
	EXPECT_EQ(POLLIN, poll_in(vfd, 0));

	/* A header alone fits: the first record does not */
	EXPECT_EQ(-EINVAL, vread(vfd, buf, HDR_SIZE));

	EXPECT_EQ(2 * REC_SIZE + HDR_SIZE, vread(vfd, buf, sizeof(buf)));
	memcpy(recs, buf, 2 * REC_SIZE);
	EXPECT_EQ(0, recs[0].hdr.sequence);
	EXPECT_EQ(0x1000, recs[0].evt[1]);
	EXPECT_EQ(1, recs[1].hdr.sequence);
	EXPECT_EQ(0x1001, recs[1].evt[1]);
	/* The lost-events header: no data, the number of the last dropped */
	hdr = (void *)(buf + 2 * REC_SIZE);
	EXPECT_EQ(IOMMU_VEVENTQ_FLAG_LOST_EVENTS, hdr->flags);
	EXPECT_EQ(4, hdr->sequence);
	/* It is read once */
	EXPECT_EQ(0, vread(vfd, buf, sizeof(buf)));
	EXPECT_EQ(0, poll_in(vfd, 0));

	/* Room again: the numbers go on */
	ASSERT_EQ(0, raise_n(self->mfd, 0, EVT_F_PERMISSION, PSID, 5));
	EXPECT_EQ(REC_SIZE, vread(vfd, recs, sizeof(recs)));
	EXPECT_EQ(0, recs[0].hdr.flags);
	EXPECT_EQ(5, recs[0].hdr.sequence);
	EXPECT_EQ(0x1005, recs[0].evt[1]);

	/*
	 * Full again (6, 7 queued, 8 dropped), one record read, then an event
	 * is queued: it replaces the lost-events header, and the gap 7 -> 9
	 * tells the reader that one event was lost.
	 */
	for (i = 6; i < 9; i++)
		ASSERT_EQ(0, raise_n(self->mfd, 0, EVT_F_PERMISSION, PSID, i));
	EXPECT_EQ(REC_SIZE, vread(vfd, recs, REC_SIZE));
	EXPECT_EQ(6, recs[0].hdr.sequence);
	ASSERT_EQ(0, raise_n(self->mfd, 0, EVT_F_PERMISSION, PSID, 9));
	EXPECT_EQ(2 * REC_SIZE, vread(vfd, recs, sizeof(recs)));
	EXPECT_EQ(0, recs[0].hdr.flags);
	EXPECT_EQ(7, recs[0].hdr.sequence);
	EXPECT_EQ(0, recs[1].hdr.flags);
	EXPECT_EQ(9, recs[1].hdr.sequence);
	EXPECT_EQ(0x1009, recs[1].evt[1]);
	EXPECT_EQ(0, vread(vfd, recs, sizeof(recs)));

	/* Depth 1, many drops: one record and one header */
	close(vfd);
	EXPECT_EQ(0, iommufd_destroy(self->fd, id));
	ASSERT_EQ(0, veventq_alloc(self->fd, self->viommu_id,
				   IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 1, &id,
				   &vfd));
	for (i = 0; i < 100; i++)
		ASSERT_EQ(0, raise_n(self->mfd, 0, EVT_F_PERMISSION, PSID, i));
	EXPECT_EQ(REC_SIZE + HDR_SIZE, vread(vfd, buf, sizeof(buf)));
	memcpy(recs, buf, REC_SIZE);
	EXPECT_EQ(0, recs[0].hdr.sequence);
	hdr = (void *)(buf + REC_SIZE);
	EXPECT_EQ(IOMMU_VEVENTQ_FLAG_LOST_EVENTS, hdr->flags);
	EXPECT_EQ(99, hdr->sequence);
	close(vfd);
	EXPECT_EQ(0, iommufd_destroy(self->fd, id));
}

/* Which records the guest never sees, and how the mock counts them */
TEST_F(veventq, not_for_guest)
{
	struct mock_smmu_event_counters cnt;
	uint32_t novdev, novdev_id, s2only, s2only_id, s2only_vdev;
	struct rec recs[2];
	uint32_t id;
	int vfd;

	ASSERT_EQ(0, mock_dev_create_bind(self->mfd, self->fd, 0, PSID_NOVDEV,
					  &novdev, &novdev_id));
	ASSERT_EQ(0, mock_dev_attach(self->mfd, novdev, self->hwpt_id, NULL));
	ASSERT_EQ(0, mock_dev_create_bind(self->mfd, self->fd, 0, PSID_S2ONLY,
					  &s2only, &s2only_id));
	ASSERT_EQ(0, mock_dev_attach(self->mfd, s2only, self->hwpt_id, NULL));
	ASSERT_EQ(0, vdevice_alloc(self->fd, self->viommu_id, s2only_id,
				   VSID_S2ONLY, &s2only_vdev));

	/* No vEVENTQ yet: dropped as such */
	ASSERT_EQ(0, raise_n(self->mfd, 0, EVT_F_TRANSLATION, PSID, 0));
	ASSERT_EQ(0, evt_counters(self->mfd, 0, &cnt));
	EXPECT_EQ(self->base.raised + 1, cnt.raised);
	EXPECT_EQ(self->base.no_veventq + 1, cnt.no_veventq);
	EXPECT_EQ(self->base.reported, cnt.reported);

	ASSERT_EQ(0, veventq_alloc(self->fd, self->viommu_id,
				   IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 16, &id,
				   &vfd));
	/* A device without a vDEVICE */
	ASSERT_EQ(0, raise_n(self->mfd, 0, EVT_F_TRANSLATION, PSID_NOVDEV, 1));
	ASSERT_EQ(0, raise_n(self->mfd, 0, EVT_C_BAD_STE, PSID_NOVDEV, 2));
	/* With a vDEVICE, attached to the nesting parent only (upstream) */
	ASSERT_EQ(0, raise_n(self->mfd, 0, EVT_F_TRANSLATION, PSID_S2ONLY, 3));
	/* No device with the StreamID */
	ASSERT_EQ(0, raise_n(self->mfd, 0, EVT_F_TRANSLATION, 0x3fff, 4));
	/* A type the guest never gets, a stage-2 fault, a stall */
	ASSERT_EQ(0, raise_n(self->mfd, 0, EVT_C_BAD_STREAMID, PSID, 5));
	ASSERT_EQ(0, raise_event(self->mfd, 0,
				 SMMU_FIELD(EVT0_ID, EVT_F_TRANSLATION) |
				 SMMU_FIELD(EVT0_SID, PSID), EVT1_S2, 0, 0));
	ASSERT_EQ(0, raise_event(self->mfd, 0,
				 SMMU_FIELD(EVT0_ID, EVT_F_TRANSLATION) |
				 SMMU_FIELD(EVT0_SID, PSID), EVT1_STALL, 0, 0));
	/* None reached the queue */
	EXPECT_EQ(0, vread(vfd, recs, sizeof(recs)));
	ASSERT_EQ(0, evt_counters(self->mfd, 0, &cnt));
	EXPECT_EQ(self->base.raised + 8, cnt.raised);
	EXPECT_EQ(self->base.no_vdevice + 2, cnt.no_vdevice);
	EXPECT_EQ(self->base.host + 5, cnt.host);
	EXPECT_EQ(self->base.reported, cnt.reported);
	EXPECT_EQ(self->base.nomem, cnt.nomem);

	/* After IOMMU_DESTROY of its vDEVICE, a device gets no more events */
	ASSERT_EQ(0, mock_dev_attach(self->mfd, self->dev, self->hwpt_id,
				     NULL));
	ASSERT_EQ(0, iommufd_destroy(self->fd, self->s1_id));
	ASSERT_EQ(0, iommufd_destroy(self->fd, self->vdev_id));
	ASSERT_EQ(0, raise_n(self->mfd, 0, EVT_F_TRANSLATION, PSID, 6));
	EXPECT_EQ(0, vread(vfd, recs, sizeof(recs)));
	ASSERT_EQ(0, evt_counters(self->mfd, 0, &cnt));
	EXPECT_EQ(self->base.no_vdevice + 3, cnt.no_vdevice);

	/* An invalid pSMMU or a reserved field */
	EXPECT_EQ(-EINVAL, raise_n(self->mfd, self->nr_psmmus,
				   EVT_F_TRANSLATION, PSID, 0));
	{
		struct mock_smmu_event ev = { .__reserved = 1 };

		EXPECT_EQ(-EINVAL, ioctl_errno(self->mfd,
					       MOCK_SMMU_RAISE_EVENT, &ev));
	}
	EXPECT_EQ(-EINVAL, evt_counters(self->mfd, self->nr_psmmus, &cnt));
	close(vfd);
}

/* A guest abort STE: C_BAD_STE reaches the guest with its vSID */
TEST_F(veventq, abort_ste)
{
	struct rec recs[2];
	uint32_t id, abort_id;
	int vfd;

	ASSERT_EQ(0, hwpt_alloc_nested_smmu(self->fd, self->dev_id,
					    self->viommu_id, SMMU_STE0_V, 0,
					    &abort_id));
	ASSERT_EQ(0, mock_dev_attach(self->mfd, self->dev, abort_id, NULL));
	ASSERT_EQ(0, veventq_alloc(self->fd, self->viommu_id,
				   IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 4, &id,
				   &vfd));
	ASSERT_EQ(0, raise_n(self->mfd, 0, EVT_C_BAD_STE, PSID, 0));
	EXPECT_EQ(REC_SIZE, vread(vfd, recs, sizeof(recs)));
	EXPECT_EQ(SMMU_FIELD(EVT0_ID, EVT_C_BAD_STE) |
		  SMMU_FIELD(EVT0_SID, VSID), recs[0].evt[0]);
	close(vfd);
}

/* A spanning vIOMMU gets the events of every pSMMU, each with its vSID */
TEST_F(veventq, span)
{
	uint32_t dev[MAX_PSMMUS], dev_id[MAX_PSMMUS], s1[MAX_PSMMUS];
	struct mock_smmu_event_counters cnt;
	struct rec recs[2 * MAX_PSMMUS];
	uint32_t viommu_id, id, n = self->nr_psmmus, i;
	int vfd;

	if (n < 2)
		SKIP(return, "needs 2 pSMMUs, the module has %u", n);
	ASSERT_EQ(0, viommu_alloc_smmu(self->fd, 1, self->dev_id,
				       self->hwpt_id, &viommu_id));
	ASSERT_EQ(0, veventq_alloc(self->fd, viommu_id,
				   IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 2 * n, &id,
				   &vfd));
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, mock_dev_create_bind(self->mfd, self->fd, i,
						  PSID_SPAN, &dev[i],
						  &dev_id[i]));
		ASSERT_EQ(0, mock_dev_attach(self->mfd, dev[i], self->hwpt_id,
					     NULL));
		ASSERT_EQ(0, vdevice_alloc(self->fd, viommu_id, dev_id[i],
					   VSID_SPAN + i, NULL));
		ASSERT_EQ(0, hwpt_alloc_nested_s1(self->fd, dev_id[i],
						  viommu_id, 0x80000, &s1[i]));
		ASSERT_EQ(0, mock_dev_attach(self->mfd, dev[i], s1[i], NULL));
	}
	/* The same pSID on every pSMMU, last pSMMU first, then in order */
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, raise_n(self->mfd, n - 1 - i, EVT_F_TRANSLATION,
				     PSID_SPAN, i));
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, raise_n(self->mfd, i, EVT_C_BAD_STE, PSID_SPAN,
				     n + i));
	/* The fixture's vIOMMU is not spanning: its device's event is not ours */
	ASSERT_EQ(0, raise_n(self->mfd, 0, EVT_F_TRANSLATION, PSID, 0));

	ASSERT_EQ(2 * n * REC_SIZE, vread(vfd, recs, sizeof(recs)));
	for (i = 0; i < n; i++) {
		EXPECT_EQ(i, recs[i].hdr.sequence);
		EXPECT_EQ(SMMU_FIELD(EVT0_ID, EVT_F_TRANSLATION) |
			  SMMU_FIELD(EVT0_SID, VSID_SPAN + n - 1 - i),
			  recs[i].evt[0]);
		EXPECT_EQ(0x1000 + i, recs[i].evt[1]);
		EXPECT_EQ(n + i, recs[n + i].hdr.sequence);
		EXPECT_EQ(SMMU_FIELD(EVT0_ID, EVT_C_BAD_STE) |
			  SMMU_FIELD(EVT0_SID, VSID_SPAN + i),
			  recs[n + i].evt[0]);
	}
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, evt_counters(self->mfd, i, &cnt));
		EXPECT_LE(2, cnt.reported);
	}
	close(vfd);
}

struct poller {
	int vfd;
	int revents;
};

static void *poll_thread(void *arg)
{
	struct poller *p = arg;

	p->revents = poll_in(p->vfd, 10000);
	return NULL;
}

/* poll(): EPOLLIN while something is queued; a waiter is woken */
TEST_F(veventq, poll)
{
	struct poller p;
	struct rec recs[2];
	pthread_t thread;
	uint32_t id;
	int vfd;

	ASSERT_EQ(0, veventq_alloc(self->fd, self->viommu_id,
				   IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 1, &id,
				   &vfd));
	EXPECT_EQ(0, poll_in(vfd, 0));
	ASSERT_EQ(0, raise_n(self->mfd, 0, EVT_F_TRANSLATION, PSID, 0));
	EXPECT_EQ(POLLIN, poll_in(vfd, 0));
	EXPECT_EQ(REC_SIZE, vread(vfd, recs, sizeof(recs)));
	EXPECT_EQ(0, poll_in(vfd, 0));
	/* A lost-events header alone is something to read too */
	ASSERT_EQ(0, raise_n(self->mfd, 0, EVT_F_TRANSLATION, PSID, 1));
	ASSERT_EQ(0, raise_n(self->mfd, 0, EVT_F_TRANSLATION, PSID, 2));
	EXPECT_EQ(REC_SIZE, vread(vfd, recs, REC_SIZE));
	EXPECT_EQ(POLLIN, poll_in(vfd, 0));
	EXPECT_EQ(HDR_SIZE, vread(vfd, recs, sizeof(recs)));
	EXPECT_EQ(IOMMU_VEVENTQ_FLAG_LOST_EVENTS, recs[0].hdr.flags);
	EXPECT_EQ(2, recs[0].hdr.sequence);
	EXPECT_EQ(0, poll_in(vfd, 0));

	/* A thread waiting in poll() is woken by the next event */
	p.vfd = vfd;
	p.revents = -1;
	ASSERT_EQ(0, pthread_create(&thread, NULL, poll_thread, &p));
	usleep(200 * 1000);
	ASSERT_EQ(0, raise_n(self->mfd, 0, EVT_F_TRANSLATION, PSID, 3));
	ASSERT_EQ(0, pthread_join(thread, NULL));
	EXPECT_EQ(POLLIN, p.revents);
	EXPECT_EQ(REC_SIZE, vread(vfd, recs, sizeof(recs)));
	EXPECT_EQ(3, recs[0].hdr.sequence);
	close(vfd);
}

static void assert_viommus(struct __test_metadata *_metadata, int mfd,
			   uint64_t viommus, uint64_t vdevices)
{
	struct mock_smmu_counters cnt;

	ASSERT_EQ(0, mock_get_counters(mfd, 0, &cnt));
	EXPECT_EQ(viommus, cnt.viommus);
	EXPECT_EQ(vdevices, cnt.vdevices);
}

/* The vEVENTQ holds its vIOMMU; closing the file first, or not */
TEST_F(veventq, teardown_order)
{
	struct mock_smmu_counters base;
	struct rec recs[4];
	uint32_t viommu_id, id;
	int vfd, i;

	/* A vIOMMU with nothing but a vEVENTQ */
	ASSERT_EQ(0, mock_get_counters(self->mfd, 0, &base));
	ASSERT_EQ(0, viommu_alloc_smmu(self->fd, 0, self->dev_id,
				       self->hwpt_id, &viommu_id));
	ASSERT_EQ(0, veventq_alloc(self->fd, viommu_id,
				   IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 4, &id,
				   &vfd));
	EXPECT_EQ(-EBUSY, iommufd_destroy(self->fd, viommu_id));
	EXPECT_EQ(-EBUSY, iommufd_destroy(self->fd, id));
	close(vfd);
	EXPECT_EQ(-EBUSY, iommufd_destroy(self->fd, viommu_id));
	EXPECT_EQ(0, iommufd_destroy(self->fd, id));
	EXPECT_EQ(0, iommufd_destroy(self->fd, viommu_id));
	assert_viommus(_metadata, self->mfd, base.viommus, base.vdevices);

	/* Events queued, file closed: the object keeps them until destroyed */
	ASSERT_EQ(0, veventq_alloc(self->fd, self->viommu_id,
				   IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 4, &id,
				   &vfd));
	for (i = 0; i < 6; i++)
		ASSERT_EQ(0, raise_n(self->mfd, 0, EVT_F_TRANSLATION, PSID, i));
	close(vfd);
	/* Still there: no second queue of the type */
	EXPECT_EQ(-EEXIST, veventq_alloc(self->fd, self->viommu_id,
					 IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 4,
					 NULL, NULL));
	ASSERT_EQ(0, raise_n(self->mfd, 0, EVT_F_TRANSLATION, PSID, 6));
	EXPECT_EQ(0, iommufd_destroy(self->fd, id));
	/* A new queue starts empty, at sequence 0 */
	ASSERT_EQ(0, veventq_alloc(self->fd, self->viommu_id,
				   IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 4, &id,
				   &vfd));
	EXPECT_EQ(0, vread(vfd, recs, sizeof(recs)));
	ASSERT_EQ(0, raise_n(self->mfd, 0, EVT_F_TRANSLATION, PSID, 7));
	EXPECT_EQ(REC_SIZE, vread(vfd, recs, sizeof(recs)));
	EXPECT_EQ(0, recs[0].hdr.sequence);
	EXPECT_EQ(0x1007, recs[0].evt[1]);

	/* Tearing the vIOMMU down around a live vEVENTQ */
	ASSERT_EQ(0, raise_n(self->mfd, 0, EVT_F_TRANSLATION, PSID, 8));
	ASSERT_EQ(0, mock_dev_attach(self->mfd, self->dev, self->hwpt_id,
				     NULL));
	ASSERT_EQ(0, iommufd_destroy(self->fd, self->s1_id));
	ASSERT_EQ(0, iommufd_destroy(self->fd, self->vdev_id));
	EXPECT_EQ(-EBUSY, iommufd_destroy(self->fd, self->viommu_id));
	/* What was queued stays readable */
	EXPECT_EQ(REC_SIZE, vread(vfd, recs, sizeof(recs)));
	EXPECT_EQ(1, recs[0].hdr.sequence);
	close(vfd);
	EXPECT_EQ(0, iommufd_destroy(self->fd, id));
	EXPECT_EQ(0, iommufd_destroy(self->fd, self->viommu_id));
	assert_viommus(_metadata, self->mfd, base.viommus - 1,
		       base.vdevices - 1);
}

/*
 * One round of close_files: a context of its own with a vIOMMU, a vDEVICE,
 * a stage-1 HWPT and a vEVENTQ holding queued and lost events, its files
 * closed in the order @order gives: 0 the vEVENTQ's first, 1 /dev/iommu
 * and the mock's first with the vEVENTQ's read afterwards, 2 the mock's
 * first.
 */
static void close_round(struct __test_metadata *_metadata, int order)
{
	uint32_t dev, dev_id, ioas, hwpt, viommu, s1, id;
	struct rec recs[4];
	int fd, mfd, vfd, i;

	fd = iommufd_open();
	ASSERT_LE(0, fd);
	mfd = mock_open();
	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ioas_alloc(fd, &ioas));
	ASSERT_EQ(0, mock_dev_create_bind(mfd, fd, 0, PSID_CLOSE, &dev,
					  &dev_id));
	ASSERT_EQ(0, hwpt_alloc_nest_parent(fd, dev_id, ioas, &hwpt));
	ASSERT_EQ(0, mock_dev_attach(mfd, dev, hwpt, NULL));
	ASSERT_EQ(0, viommu_alloc_smmu(fd, 0, dev_id, hwpt, &viommu));
	ASSERT_EQ(0, vdevice_alloc(fd, viommu, dev_id, VSID, NULL));
	ASSERT_EQ(0, hwpt_alloc_nested_s1(fd, dev_id, viommu, 0x80000, &s1));
	ASSERT_EQ(0, mock_dev_attach(mfd, dev, s1, NULL));
	ASSERT_EQ(0, veventq_alloc(fd, viommu, IOMMU_VEVENTQ_TYPE_ARM_SMMUV3,
				   2, &id, &vfd));
	for (i = 0; i < 5; i++)
		ASSERT_EQ(0, raise_n(mfd, 0, EVT_F_TRANSLATION, PSID_CLOSE, i));

	switch (order) {
	case 0:
		ASSERT_EQ(0, close(vfd));
		ASSERT_EQ(0, close(fd));
		ASSERT_EQ(0, close(mfd));
		break;
	case 1:
		ASSERT_EQ(0, close(fd));
		ASSERT_EQ(0, close(mfd));
		/* The file keeps the context: what was queued is still there */
		EXPECT_EQ(2 * REC_SIZE + HDR_SIZE,
			  vread(vfd, recs, sizeof(recs)));
		EXPECT_EQ(0, recs[0].hdr.sequence);
		EXPECT_EQ(1, recs[1].hdr.sequence);
		ASSERT_EQ(0, close(vfd));
		break;
	default:
		ASSERT_EQ(0, close(mfd));
		ASSERT_EQ(0, close(fd));
		ASSERT_EQ(0, close(vfd));
		break;
	}
}

/* Closing the files with a vEVENTQ, its vIOMMU and queued events alive */
TEST_F(veventq, close_files)
{
	struct mock_smmu_counters before, after;
	int order, round;

	ASSERT_EQ(0, mock_get_counters(self->mfd, 0, &before));
	for (round = 0; round < 2; round++) {
		for (order = 0; order < 3; order++) {
			close_round(_metadata, order);
			/* Everything of the round is gone: its SID is free */
			ASSERT_EQ(0, mock_get_counters(self->mfd, 0, &after));
			EXPECT_EQ(before.devices, after.devices);
			EXPECT_EQ(before.viommus, after.viommus);
			EXPECT_EQ(before.vdevices, after.vdevices);
			EXPECT_EQ(before.vmids, after.vmids);
			EXPECT_EQ(before.nested_attached,
				  after.nested_attached);
		}
	}
}

/* Many queues, full and overflowing, all released: the mock's state too */
TEST_F(veventq, churn)
{
	struct mock_smmu_counters before, after;
	uint32_t id, id2, viommu_id;
	struct rec recs[4];
	int vfd, i, j;

	ASSERT_EQ(0, mock_get_counters(self->mfd, 0, &before));
	for (i = 0; i < 200; i++) {
		/* A second vIOMMU with a queue that gets no events */
		ASSERT_EQ(0, viommu_alloc_smmu(self->fd, 0, self->dev_id,
					       self->hwpt_id, &viommu_id));
		ASSERT_EQ(0, veventq_alloc(self->fd, viommu_id,
					   IOMMU_VEVENTQ_TYPE_ARM_SMMUV3,
					   1, &id2, NULL));
		ASSERT_EQ(0, veventq_alloc(self->fd, self->viommu_id,
					   IOMMU_VEVENTQ_TYPE_ARM_SMMUV3,
					   1 + i % 3, &id, &vfd));
		for (j = 0; j < i % 7; j++)
			ASSERT_EQ(0, raise_n(self->mfd, 0, EVT_F_TRANSLATION,
					     PSID, j));
		if (i & 1)
			ASSERT_LE(0, vread(vfd, recs, sizeof(recs)));
		if (i & 2) {
			close(vfd);
			ASSERT_EQ(0, iommufd_destroy(self->fd, id));
		} else {
			ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, id));
			close(vfd);
			ASSERT_EQ(0, iommufd_destroy(self->fd, id));
		}
		ASSERT_EQ(-EBUSY, iommufd_destroy(self->fd, viommu_id));
		ASSERT_EQ(0, iommufd_destroy(self->fd, id2));
		ASSERT_EQ(0, iommufd_destroy(self->fd, viommu_id));
	}
	ASSERT_EQ(0, mock_get_counters(self->mfd, 0, &after));
	EXPECT_EQ(before.viommus, after.viommus);
	EXPECT_EQ(before.vdevices, after.vdevices);
	EXPECT_EQ(before.vmids, after.vmids);
}

/* ---- Under fault injection (the debug kernel's fail-nth) ---------------- */

#define FAIL_NTH	"/proc/thread-self/fail-nth"
#define DEBUGFS		"/sys/kernel/debug"

static const char *const fault_knobs[][2] = {
	{ "failslab/ignore-gfp-wait", "N" },
	{ "fail_page_alloc/ignore-gfp-wait", "N" },
	{ "failslab/verbose", "0" },
	{ "fail_page_alloc/verbose", "0" },
	{ "fail_usercopy/verbose", "0" },
};

static int knob_write(const char *name, const char *val)
{
	char path[128];
	ssize_t len;
	int kfd;

	snprintf(path, sizeof(path), DEBUGFS "/%s", name);
	kfd = open(path, O_WRONLY);
	if (kfd < 0)
		return -errno;
	len = write(kfd, val, strlen(val));
	close(kfd);
	return len == (ssize_t)strlen(val) ? 0 : -EIO;
}

static void nth_arm(struct __test_metadata *_metadata, int nfd, unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	ASSERT_EQ(len, pwrite(nfd, buf, len, 0));
}

/* Disarm; true if the fault was injected (see iommufd_viommu_fail_nth.c) */
static bool nth_disarm(struct __test_metadata *_metadata, int nfd)
{
	char buf[16];
	ssize_t len = pread(nfd, buf, sizeof(buf) - 1, 0);
	bool fired = false;

	if (len < 0) {
		EXPECT_EQ(EFAULT, errno);
	} else {
		buf[len] = 0;
		fired = strtoul(buf, NULL, 10) == 0;
	}
	if (pwrite(nfd, "0", 1, 0) != 1)
		EXPECT_EQ(1, pwrite(nfd, "0", 1, 0));
	return fired;
}

/*
 * Every fault point of IOMMU_VEVENTQ_ALLOC fails it with ENOMEM or EFAULT
 * and leaves nothing behind (the next allocation gets the same ID, no
 * EEXIST); a report that cannot get memory is lost and counted in the
 * sequence numbers like an overflow.
 */
TEST_F(veventq, fail_nth)
{
	struct mock_smmu_event_counters c0, c1;
	uint32_t id0, id, raised = 0, nomem, normal = 0, last = 0;
	struct rec recs[64];
	char buf[sizeof(recs)];
	unsigned int n, k;
	bool fired, lost_hdr = false;
	ssize_t len, off;
	int nfd, vfd, rc;

	nfd = open(FAIL_NTH, O_RDWR);
	if (nfd < 0)
		SKIP(return, "no " FAIL_NTH " (not the debug kernel)");
	for (k = 0; k < ARRAY_SIZE(fault_knobs); k++)
		ASSERT_EQ(0, knob_write(fault_knobs[k][0], fault_knobs[k][1]));

	ASSERT_EQ(0, veventq_alloc(self->fd, self->viommu_id,
				   IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 64, &id0,
				   &vfd));
	close(vfd);
	ASSERT_EQ(0, iommufd_destroy(self->fd, id0));
	for (n = 1; n < 1000; n++) {
		nth_arm(_metadata, nfd, n);
		rc = veventq_alloc(self->fd, self->viommu_id,
				   IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 64, &id,
				   &vfd);
		fired = nth_disarm(_metadata, nfd);
		if (rc) {
			ASSERT_TRUE(rc == -ENOMEM || rc == -EFAULT)
				TH_LOG("fault %u: errno %d", n, -rc);
			ASSERT_EQ(0, veventq_alloc(self->fd, self->viommu_id,
						   IOMMU_VEVENTQ_TYPE_ARM_SMMUV3,
						   64, &id, &vfd))
				TH_LOG("fault %u left a vEVENTQ behind", n);
		}
		ASSERT_EQ(id0, id) TH_LOG("fault %u leaked an ID", n);
		close(vfd);
		ASSERT_EQ(0, iommufd_destroy(self->fd, id));
		if (!rc && !fired)
			break;
	}
	ASSERT_GT(1000, n);
	ksft_print_msg("IOMMU_VEVENTQ_ALLOC: %u fault points\n", n - 1);

	/* Reports with each fault point of MOCK_SMMU_RAISE_EVENT failed */
	ASSERT_EQ(0, veventq_alloc(self->fd, self->viommu_id,
				   IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 64, &id,
				   &vfd));
	ASSERT_EQ(0, evt_counters(self->mfd, 0, &c0));
	for (n = 1; n < 60; n++) {
		nth_arm(_metadata, nfd, n);
		rc = raise_n(self->mfd, 0, EVT_F_TRANSLATION, PSID, n);
		fired = nth_disarm(_metadata, nfd);
		ASSERT_TRUE(rc == 0 || rc == -EFAULT) TH_LOG("errno %d", -rc);
		if (!rc)
			raised++;
		if (!rc && !fired)
			break;
	}
	ASSERT_EQ(0, evt_counters(self->mfd, 0, &c1));
	nomem = c1.nomem - c0.nomem;
	EXPECT_EQ(raised, c1.raised - c0.raised);
	EXPECT_EQ(raised - nomem, c1.reported - c0.reported);
	ksft_print_msg("raised %u, lost for lack of memory %u\n", raised,
		       nomem);

	/* The queued ones and the lost ones share the numbers 0..raised-1 */
	len = vread(vfd, buf, sizeof(buf));
	ASSERT_LE(0, len);
	for (off = 0; off < len; ) {
		struct iommufd_vevent_header *hdr = (void *)(buf + off);

		EXPECT_LE(last, hdr->sequence);
		last = hdr->sequence;
		if (hdr->flags & IOMMU_VEVENTQ_FLAG_LOST_EVENTS) {
			/* Only ever the last one */
			EXPECT_FALSE(lost_hdr);
			lost_hdr = true;
			off += HDR_SIZE;
			EXPECT_EQ(len, off);
		} else {
			normal++;
			off += REC_SIZE;
		}
	}
	EXPECT_EQ(raised - nomem, normal);
	/* The last number is the last report's, queued or lost */
	if (raised)
		EXPECT_EQ(raised - 1, last);
	EXPECT_TRUE(!lost_hdr || nomem);
	close(vfd);
	close(nfd);
}

TEST_HARNESS_MAIN
