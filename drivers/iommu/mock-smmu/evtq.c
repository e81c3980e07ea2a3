// SPDX-License-Identifier: GPL-2.0-only
/*
 * Mock SMMU event queue: what an SMMUv3 driver's event queue handler does
 * with the records a pSMMU writes, for records a test makes the pSMMU
 * raise (MOCK_SMMU_RAISE_EVENT).
 *
 * The handler finds the device by the record's StreamID in the pSMMU's
 * stream table and, if the guest may see the record, its vDEVICE in the
 * pSMMU's StreamID -> vDEVICE table. The vSMMU library rewrites the
 * StreamID to the vDEVICE's virtual one and reports the record to the
 * vDEVICE's vIOMMU. As upstream's driver does, a record reaches the guest
 * only while the device is attached to a nested domain of that vIOMMU.
 * Every record is counted by what became of it.
 */
#include <linux/bitfield.h>

#include "mock-smmu.h"
#include "mock_smmu.h"

/**
 * mock_evtq_raise() - Handle an event record of a pSMMU
 * @psmmu: The pSMMU that raised it
 * @evt: The record, EVTQ_ENT_DWORDS words in CPU order
 *
 * Runs in process context, as a threaded interrupt handler would.
 */
void mock_evtq_raise(struct mock_psmmu *psmmu, const u64 *evt)
{
	u32 sid = FIELD_GET(EVTQ_0_SID, evt[0]);
	struct mock_vdevice *mvdev;
	struct arm_vsmmu *vsmmu;
	struct mock_dev *mdev;
	int rc;

	/* Keeps the vDEVICE: mock_vdevice_destroy() takes it too */
	mutex_lock(&psmmu->lock);
	psmmu->evtq.raised++;
	mdev = xa_load(&psmmu->streams, sid);
	if (!mdev || !arm_vsmmu_evt_for_guest(evt)) {
		psmmu->evtq.host++;
		goto out_unlock;
	}
	mvdev = xa_load(&psmmu->vdevs, sid);
	if (!mvdev) {
		psmmu->evtq.no_vdevice++;
		goto out_unlock;
	}
	vsmmu = mock_nested_vsmmu(mdev->domain);
	if (!vsmmu || &vsmmu->core != mvdev->vsmmu.core.viommu) {
		psmmu->evtq.host++;
		goto out_unlock;
	}

	rc = arm_vsmmu_report_event(&mvdev->vsmmu, evt);
	if (!rc)
		psmmu->evtq.reported++;
	else if (rc == -ENOMEM)
		psmmu->evtq.nomem++;
	else
		psmmu->evtq.no_veventq++;
out_unlock:
	mutex_unlock(&psmmu->lock);
}

/**
 * mock_evtq_get_counters() - Read a pSMMU's event counters
 * @psmmu: The pSMMU
 * @cnt: Output for MOCK_SMMU_GET_EVENT_COUNTERS; only the counters are
 *       written
 */
void mock_evtq_get_counters(struct mock_psmmu *psmmu,
			    struct mock_smmu_event_counters *cnt)
{
	mutex_lock(&psmmu->lock);
	cnt->raised = psmmu->evtq.raised;
	cnt->reported = psmmu->evtq.reported;
	cnt->no_vdevice = psmmu->evtq.no_vdevice;
	cnt->host = psmmu->evtq.host;
	cnt->no_veventq = psmmu->evtq.no_veventq;
	cnt->nomem = psmmu->evtq.nomem;
	mutex_unlock(&psmmu->lock);
}
