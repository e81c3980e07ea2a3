// SPDX-License-Identifier: GPL-2.0-only
/*
 * Concurrency stress of a spanning vIOMMU: for a bounded time, threads race
 * each other on one iommufd context over 2 to 4 mock pSMMUs, with two
 * devices on each, while another thread builds and tears down a whole
 * second context:
 *
 * - inv (2 threads): IOMMU_HWPT_INVALIDATE batches of 1 to 64 guest
 *   commands: CFGI_CD, CFGI_CD_ALL and ATC_INV naming the vSIDs of every
 *   device (current, previous or never allocated ones) and TLBI_NH_*;
 * - vdev: IOMMU_DESTROY of a device's vDEVICE, then IOMMU_VDEVICE_ALLOC
 *   again, with the device's other vSID;
 * - attach: replaces a device's attachment with one of two stage-1 nested
 *   HWPTs, a bypass one, the nesting parent, or detaches it;
 * - unbind: unbinds a device (its vDEVICE goes with it), every other time
 *   with an IOMMU_DESTROY of that vDEVICE racing from a helper thread, then
 *   binds it again and gives it a vDEVICE;
 * - ioas: IOMMU_IOAS_MAP and IOMMU_IOAS_UNMAP of a scratch range of the
 *   nesting parent's IOAS (each unmap invalidates the VMIDs on the pSMMUs);
 * - ctx2 (with its helper inv2): opens a second iommufd and mock file with
 *   a device on each pSMMU, a spanning vIOMMU, vDEVICEs and stage-1 HWPTs,
 *   and closes both files, in either order, while inv2 still invalidates
 *   on a duplicate of the iommufd.
 *
 * Every call must succeed or fail with an errno the uAPI documents for the
 * race it can lose (Documentation/userspace-api/iommufd-viommu.rst): EIO
 * from IOMMU_HWPT_INVALIDATE with entry_num at a device-scoped command (its
 * vSID has no vDEVICE at that moment), ENOENT from attaching a stage-1 HWPT
 * to a device whose vDEVICE is gone, ENOENT from IOMMU_DESTROY of a vDEVICE
 * the unbind took down. Anything else fails the test.
 *
 * The oracle: once IOMMU_DESTROY of a vDEVICE, or the unbind of its device,
 * has returned, no command naming the device's physical StreamID may run on
 * its pSMMU until the next vDEVICE of the device is being allocated. The
 * thread that destroys reads the position in the pSMMU's command log
 * (MOCK_SMMU_CMDQ_LOG's total, which counts every command executed since
 * the log was cleared) right after the call returned, t1, lets the others
 * run, then reads the log itself right before the next allocation, up to
 * t2: no ATC_INV, CFGI_CD or CFGI_CD_ALL with that physical SID may sit in
 * [t1, t2). The mock itself never issues a command naming a StreamID: only
 * the dispatcher does, for a guest's. The log keeps the last 8192 commands;
 * a window that no longer fits in it is counted as unchecked, not judged.
 * The same check runs for the second context's devices after both its
 * files were closed.
 *
 * When the time is up, the state left must be exact: the mock's counts of
 * vDEVICEs and stage-1 attached devices per pSMMU, a TLBI going to exactly
 * the pSMMUs with a stage-1 device, and every vSID resolving to its
 * device's physical SID, or not at all.
 *
 * IOMMUFD_STRESS_SECONDS sets the duration (default 12).
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "iommufd_viommu_utils.h"

#define MAXP		4	/* pSMMUs used, at most */
#define DEVS		2	/* devices per pSMMU */
#define NSLOT		(MAXP * DEVS)
#define LOG_SIZE	MOCK_SMMU_CMDQ_LOG_SIZE
#define BATCH		64

/* Physical SIDs: context A's devices, the second context's */
#define PSID_A(j)	(0x60 + (j))
#define PSID_B		0x300
/* Two vSIDs per device of context A, used in turn; one never allocated */
#define VSID_A(s, e)	(0x1000 + (s) * 2 + ((e) & 1))
#define VSID_NONE	0x1fff
#define VSID_B(p)	(0x5000 + (p))

#define SCRATCH_IOVA	0x8000000ULL
#define SCRATCH_LEN	0x10000UL
#define RAM_IOVA	0x100000ULL
#define RAM_LEN		0x40000UL

enum { AT_NONE, AT_S2, AT_S1A, AT_S1B, AT_BYP, AT_NUM };

struct slot {
	int s, p, j;
	int mfd;		/* the device's own mock file */
	uint32_t dev;		/* its mock handle */
	uint32_t psid;
	/* @lock serialises vDEVICE destroy/alloc and unbind/bind */
	pthread_mutex_t lock;
	uint32_t dev_id;	/* under @lock */
	uint32_t vdev;		/* under @lock; 0: none */
	int epoch;		/* under @lock; vSID VSID_A(s, epoch) */
	uint32_t cur_vsid;	/* that vSID, __atomic */
	/*
	 * Even while nothing changes the vDEVICE or the binding, odd while
	 * a change is under way (__atomic); the fields below are set with
	 * it odd
	 */
	int seq;
	int has_vdev;
	int bound;
	/* @att_lock: attach/detach and unbind/bind (the mock serialises them) */
	pthread_mutex_t att_lock;
	int att;		/* AT_*, under @att_lock */
};

/* Operation counts, __atomic */
struct counts {
	unsigned long inv_calls, inv_ok, inv_eio, inv_cmds;
	unsigned long vdev_destroy, vdev_alloc;
	unsigned long att[AT_NUM], att_s1_enoent, att_unbound;
	unsigned long unbind, unbind_race, race_destroy_ok, race_destroy_enoent;
	unsigned long race_destroy_ebusy;
	unsigned long rebind;
	unsigned long ioas_map, ioas_unmap;
	unsigned long ctx2_cycles, inv2_calls, inv2_eio;
	unsigned long win_checked, win_unchecked, win_cmds;
};

#define COUNT(st, f)	__atomic_fetch_add(&(st)->c.f, 1, __ATOMIC_RELAXED)
#define ADD(st, f, v)	__atomic_fetch_add(&(st)->c.f, (v), __ATOMIC_RELAXED)

struct stress {
	int fd;			/* context A */
	int mfd;		/* log and counter reads */
	int n;			/* pSMMUs used */
	int nr;			/* pSMMUs of the module */
	uint32_t ioas, parent, viommu;
	/* CERROR_ILL per pSMMU before the test (earlier tests raise some) */
	uint64_t cerror_ill[MAXP];
	uint32_t hwpt[AT_NUM];	/* pt_id per AT_* (AT_NONE: 0) */
	struct slot slot[NSLOT];
	int nslot;
	void *ram, *scratch;
	int stop;		/* __atomic */
	struct counts c;
	/* Errors found by the threads; the first message is kept */
	pthread_mutex_t err_lock;
	int nerr;
	int violations;
	char err[512];
	/* The unbind thread's helper: IOMMU_DESTROY racing the unbind */
	pthread_barrier_t race_bar;
	uint32_t race_vdev;
	int race_rc;
	int race_quit;
	/*
	 * Second context: phase 0 down, 1 up, 2 closing, 3 inv2 let go,
	 * 4 the ctx2 thread is done
	 */
	int ctx2_phase;		/* __atomic */
	int ctx2_dupfd;
	uint32_t ctx2_viommu;
};

static int stopping(struct stress *st)
{
	return __atomic_load_n(&st->stop, __ATOMIC_ACQUIRE);
}

static void __printf(2, 3)
stress_fail(struct stress *st, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&st->err_lock);
	if (st->nerr < 10)
		ksft_print_msg("error: %s\n", msg);
	if (!st->nerr++)
		snprintf(st->err, sizeof(st->err), "%s", msg);
	pthread_mutex_unlock(&st->err_lock);
	__atomic_store_n(&st->stop, 1, __ATOMIC_RELEASE);
}

static uint32_t rnd_r(unsigned int *seed)
{
	return rand_r(seed);
}

static void sleep_us(unsigned int *seed, unsigned int max)
{
	usleep(rnd_r(seed) % (max + 1));
}

/* ---- The oracle ---------------------------------------------------------- */

/* Position in the log of pSMMU @p, or 0 with an error recorded */
static uint64_t log_pos(struct stress *st, int p)
{
	uint64_t total = 0;
	int rc = mock_cmdq_log(st->mfd, p, 0, NULL, 0, NULL, &total);

	if (rc)
		stress_fail(st, "MOCK_SMMU_CMDQ_LOG of pSMMU %d: %d", p, rc);
	return total;
}

/*
 * No command naming @psid may sit in the log of pSMMU @p from position @t1
 * on: @what names the event @t1 was read after.
 */
static void check_window(struct stress *st, struct smmu_cmd *buf, int p,
			 uint32_t psid, uint64_t t1, const char *what)
{
	uint64_t t2 = 0, first;
	int n, i;

	n = mock_cmdq_log_num(st->mfd, p, 0, buf, LOG_SIZE, &t2);
	if (n < 0) {
		stress_fail(st, "MOCK_SMMU_CMDQ_LOG of pSMMU %d: %d", p, n);
		return;
	}
	first = t2 - n;
	if (t2 < t1) {
		stress_fail(st, "pSMMU %d: log went back from %llu to %llu", p,
			    (unsigned long long)t1, (unsigned long long)t2);
		return;
	}
	if (first > t1) {
		COUNT(st, win_unchecked);
		return;
	}
	COUNT(st, win_checked);
	ADD(st, win_cmds, t2 - t1);
	for (i = t1 - first; i < n; i++) {
		const struct smmu_cmd *c = &buf[i];

		if (!smmu_op_sid_scoped(smmu_cmd_op(c->w)) ||
		    smmu_field_get(SMMU_CMD0_SID, c->w[0]) != psid)
			continue;
		__atomic_fetch_add(&st->violations, 1, __ATOMIC_RELAXED);
		stress_fail(st, "pSMMU %d: %016llx %016llx, pSID 0x%x, at %llu: %s at %llu-%llu",
			    p, (unsigned long long)c->w[0],
			    (unsigned long long)c->w[1], psid,
			    (unsigned long long)(first + i), what,
			    (unsigned long long)t1, (unsigned long long)t2);
		return;
	}
}

/* ---- Invalidation -------------------------------------------------------- */

/*
 * A vSID of context A: mostly a device's current one; unless @clean, also
 * its other one or one never allocated
 */
static uint32_t pick_vsid(struct stress *st, unsigned int *seed, int clean)
{
	uint32_t r = rnd_r(seed);
	struct slot *sl = &st->slot[(r >> 8) % st->nslot];

	if (!clean && r % 4 == 0)
		return r % 32 == 0 ? VSID_NONE : VSID_A(sl->s, r >> 16);
	return __atomic_load_n(&sl->cur_vsid, __ATOMIC_RELAXED);
}

/* A guest command: device-scoped for @vsid, or a TLBI */
static void make_cmd(uint64_t *w, unsigned int *seed, uint32_t vsid)
{
	uint32_t r = rnd_r(seed);

	switch (r % 8) {
	case 0:
	case 1:
		smmu_cmd_cfgi_cd(w, vsid, (r >> 8) & 0xff, r & 0x800);
		break;
	case 2:
		smmu_cmd_cfgi_cd_all(w, vsid);
		break;
	case 3:
		smmu_cmd_atc_inv(w, vsid, -1, 0, 0, SMMU_ATC_SIZE_ALL);
		break;
	case 4:
		smmu_cmd_nh_asid(w, r >> 16, r >> 8);
		break;
	case 5:
		smmu_cmd_nh_va(w, 0, (r >> 8) & 0xffff, 0x40000000, 1, 0, 0,
			       0, 0);
		break;
	case 6:
		smmu_cmd_nh_all(w, 0);
		break;
	default:
		smmu_cmd_nsnh_all(w);
		break;
	}
}

/*
 * One call: 0 on success; EIO only with entry_num below @num at a
 * device-scoped command. Return 1 for an EIO, 0 for success, -1 for an
 * error (recorded).
 */
static int invalidate_once(struct stress *st, int fd, uint32_t viommu,
			   struct smmu_cmd *cmds, uint32_t num,
			   const char *who)
{
	uint32_t done = 0;
	int rc;

	rc = viommu_invalidate_smmu(fd, viommu, cmds, num, &done);
	if (!rc && done == num)
		return 0;
	if (rc == -EIO && done < num &&
	    smmu_op_sid_scoped(smmu_cmd_op(cmds[done].w)))
		return 1;
	stress_fail(st, "%s: IOMMU_HWPT_INVALIDATE of %u commands: %d, entry_num %u",
		    who, num, rc, done);
	return -1;
}

static void *inv_thread(void *arg)
{
	struct stress *st = arg;
	struct smmu_cmd cmds[BATCH];
	unsigned int seed = (uintptr_t)&cmds;
	uint32_t i, num;
	int rc, clean;

	while (!stopping(st)) {
		num = 1 + rnd_r(&seed) % BATCH;
		/* Most batches name current vSIDs only */
		clean = rnd_r(&seed) % 4;
		for (i = 0; i < num; i++)
			make_cmd(cmds[i].w, &seed,
				 pick_vsid(st, &seed, clean));
		rc = invalidate_once(st, st->fd, st->viommu, cmds, num, "inv");
		COUNT(st, inv_calls);
		if (rc < 0)
			break;
		if (rc)
			COUNT(st, inv_eio);
		else
			COUNT(st, inv_ok);
		ADD(st, inv_cmds, num);
	}
	return NULL;
}

/* ---- vDEVICE destroy / re-alloc -------------------------------------------- */

static void seq_begin(struct slot *sl)
{
	__atomic_fetch_add(&sl->seq, 1, __ATOMIC_ACQ_REL);
}

static void seq_end(struct slot *sl)
{
	__atomic_fetch_add(&sl->seq, 1, __ATOMIC_ACQ_REL);
}

/* Give the slot's device a vDEVICE with its next vSID; under sl->lock */
static int slot_vdev_alloc(struct stress *st, struct slot *sl)
{
	uint32_t vdev = 0;
	int rc;

	seq_begin(sl);
	sl->epoch++;
	__atomic_store_n(&sl->cur_vsid, VSID_A(sl->s, sl->epoch),
			 __ATOMIC_RELAXED);
	rc = vdevice_alloc(st->fd, st->viommu, sl->dev_id,
			   VSID_A(sl->s, sl->epoch), &vdev);
	if (!rc) {
		sl->vdev = vdev;
		sl->has_vdev = 1;
	}
	seq_end(sl);
	if (rc)
		stress_fail(st, "slot %d: IOMMU_VDEVICE_ALLOC of vSID 0x%x: %d",
			    sl->s, VSID_A(sl->s, sl->epoch), rc);
	else
		COUNT(st, vdev_alloc);
	return rc;
}

static void *vdev_thread(void *arg)
{
	struct stress *st = arg;
	struct smmu_cmd *buf = calloc(LOG_SIZE, sizeof(*buf));
	unsigned int seed = 1234;
	uint64_t t1;
	int rc;

	if (!buf) {
		stress_fail(st, "vdev: no memory");
		return NULL;
	}
	while (!stopping(st)) {
		struct slot *sl = &st->slot[rnd_r(&seed) % st->nslot];

		pthread_mutex_lock(&sl->lock);
		if (!sl->bound || !sl->vdev) {
			pthread_mutex_unlock(&sl->lock);
			continue;
		}
		seq_begin(sl);
		rc = iommufd_destroy(st->fd, sl->vdev);
		t1 = log_pos(st, sl->p);
		sl->vdev = 0;
		sl->has_vdev = 0;
		seq_end(sl);
		if (rc) {
			stress_fail(st, "slot %d: IOMMU_DESTROY of its vDEVICE: %d",
				    sl->s, rc);
			pthread_mutex_unlock(&sl->lock);
			break;
		}
		COUNT(st, vdev_destroy);
		/* Let the invalidations run into the gap */
		sleep_us(&seed, 2000);
		check_window(st, buf, sl->p, sl->psid, t1, "IOMMU_DESTROY of the vDEVICE");
		rc = slot_vdev_alloc(st, sl);
		pthread_mutex_unlock(&sl->lock);
		if (rc)
			break;
		sleep_us(&seed, 1000);
	}
	free(buf);
	return NULL;
}

/* ---- Attach / replace ------------------------------------------------------ */

static void *attach_thread(void *arg)
{
	struct stress *st = arg;
	unsigned int seed = 99;

	while (!stopping(st)) {
		struct slot *sl = &st->slot[rnd_r(&seed) % st->nslot];
		int how = rnd_r(&seed) % AT_NUM, prev, seq0, seq1, had, rc;
		uint32_t out = 0;

		pthread_mutex_lock(&sl->att_lock);
		prev = sl->att;
		seq0 = __atomic_load_n(&sl->seq, __ATOMIC_ACQUIRE);
		had = __atomic_load_n(&sl->has_vdev, __ATOMIC_RELAXED);
		if (how == AT_NONE)
			rc = mock_dev_detach(sl->mfd, sl->dev);
		else
			rc = mock_dev_attach(sl->mfd, sl->dev, st->hwpt[how],
					     &out);
		seq1 = __atomic_load_n(&sl->seq, __ATOMIC_ACQUIRE);

		if (!sl->bound) {
			/* The mock's per-device ioctls on an unbound device */
			if (rc != -EINVAL)
				stress_fail(st, "slot %d: attach %d while unbound: %d",
					    sl->s, how, rc);
			COUNT(st, att_unbound);
		} else if (!rc) {
			if (how != AT_NONE && out != st->hwpt[how])
				stress_fail(st, "slot %d: attached to %u, not %u",
					    sl->s, out, st->hwpt[how]);
			sl->att = how;
			COUNT(st, att[how]);
		} else if (rc == -ENOENT && (how == AT_S1A || how == AT_S1B) &&
			   (seq0 != seq1 || (seq0 & 1) || !had)) {
			/* The vDEVICE was gone, or going or coming */
			COUNT(st, att_s1_enoent);
		} else {
			stress_fail(st, "slot %d: attach %d: %d (vDEVICE %s)",
				    sl->s, how, rc,
				    seq0 == seq1 && !(seq0 & 1) ?
				    (had ? "present" : "absent") : "changing");
		}
		/*
		 * Without a vDEVICE a stage-1 attach must fail, unless the
		 * device is attached to that HWPT already (nothing to do)
		 */
		if (!rc && sl->bound && (how == AT_S1A || how == AT_S1B) &&
		    prev != how && seq0 == seq1 && !(seq0 & 1) && !had)
			stress_fail(st, "slot %d: stage-1 attach without a vDEVICE succeeded",
				    sl->s);
		pthread_mutex_unlock(&sl->att_lock);
	}
	return NULL;
}

/* ---- Unbind / rebind ---------------------------------------------------------- */

static void *race_destroy_thread(void *arg)
{
	struct stress *st = arg;

	for (;;) {
		pthread_barrier_wait(&st->race_bar);
		if (__atomic_load_n(&st->race_quit, __ATOMIC_ACQUIRE))
			break;
		st->race_rc = iommufd_destroy(st->fd, st->race_vdev);
		pthread_barrier_wait(&st->race_bar);
	}
	return NULL;
}

static void *unbind_thread(void *arg)
{
	struct stress *st = arg;
	struct smmu_cmd *buf = calloc(LOG_SIZE, sizeof(*buf));
	unsigned int seed = 4321;
	unsigned long k = 0;
	uint64_t t1;
	uint32_t old;
	int rc, race;

	if (!buf) {
		stress_fail(st, "unbind: no memory");
		goto out;
	}
	while (!stopping(st)) {
		struct slot *sl = &st->slot[rnd_r(&seed) % st->nslot];

		pthread_mutex_lock(&sl->lock);
		pthread_mutex_lock(&sl->att_lock);
		old = sl->vdev;
		race = old && (k++ & 1);
		seq_begin(sl);
		if (race) {
			st->race_vdev = old;
			pthread_barrier_wait(&st->race_bar);
		}
		rc = mock_dev_unbind(sl->mfd, sl->dev);
		t1 = log_pos(st, sl->p);
		if (race)
			pthread_barrier_wait(&st->race_bar);
		sl->bound = 0;
		sl->vdev = 0;
		sl->has_vdev = 0;
		sl->att = AT_NONE;
		seq_end(sl);
		pthread_mutex_unlock(&sl->att_lock);
		if (rc) {
			stress_fail(st, "slot %d: MOCK_SMMU_DEV_UNBIND: %d", sl->s,
				    rc);
			pthread_mutex_unlock(&sl->lock);
			break;
		}
		COUNT(st, unbind);
		if (race) {
			COUNT(st, unbind_race);
			if (!st->race_rc)
				COUNT(st, race_destroy_ok);
			else if (st->race_rc == -ENOENT)
				COUNT(st, race_destroy_enoent);
			else if (st->race_rc == -EBUSY)
				COUNT(st, race_destroy_ebusy);
			else
				stress_fail(st, "slot %d: IOMMU_DESTROY racing the unbind: %d",
					    sl->s, st->race_rc);
		}
		/*
		 * The unbind took the vDEVICE down: its ID is a tombstone,
		 * unless the racing IOMMU_DESTROY won and the ID is free
		 */
		if (old && !(race && !st->race_rc)) {
			rc = iommufd_destroy(st->fd, old);
			if (rc != -ENOENT)
				stress_fail(st, "slot %d: IOMMU_DESTROY after the unbind: %d",
					    sl->s, rc);
		}
		sleep_us(&seed, 2000);
		if (old)
			check_window(st, buf, sl->p, sl->psid, t1,
				     race ? "the unbind (raced by IOMMU_DESTROY)" :
				     "the unbind");

		pthread_mutex_lock(&sl->att_lock);
		seq_begin(sl);
		rc = mock_dev_bind(sl->mfd, sl->dev, st->fd, &sl->dev_id);
		if (!rc)
			sl->bound = 1;
		seq_end(sl);
		pthread_mutex_unlock(&sl->att_lock);
		if (rc) {
			stress_fail(st, "slot %d: MOCK_SMMU_DEV_BIND: %d", sl->s, rc);
			pthread_mutex_unlock(&sl->lock);
			break;
		}
		COUNT(st, rebind);
		rc = slot_vdev_alloc(st, sl);
		pthread_mutex_unlock(&sl->lock);
		if (rc)
			break;
		sleep_us(&seed, 3000);
	}
out:
	__atomic_store_n(&st->race_quit, 1, __ATOMIC_RELEASE);
	pthread_barrier_wait(&st->race_bar);
	free(buf);
	return NULL;
}

/* ---- IOAS map / unmap --------------------------------------------------------- */

static void *ioas_thread(void *arg)
{
	struct stress *st = arg;
	unsigned int seed = 7;
	int rc;

	while (!stopping(st)) {
		rc = ioas_map(st->fd, st->ioas, st->scratch, SCRATCH_LEN,
			      SCRATCH_IOVA);
		if (rc) {
			stress_fail(st, "IOMMU_IOAS_MAP: %d", rc);
			break;
		}
		COUNT(st, ioas_map);
		sleep_us(&seed, 500);
		rc = ioas_unmap(st->fd, st->ioas, SCRATCH_IOVA, SCRATCH_LEN);
		if (rc) {
			stress_fail(st, "IOMMU_IOAS_UNMAP: %d", rc);
			break;
		}
		COUNT(st, ioas_unmap);
		sleep_us(&seed, 500);
	}
	return NULL;
}

/* ---- A second context, opened and closed mid-flight ------------------------ */

static void *inv2_thread(void *arg)
{
	struct stress *st = arg;
	struct smmu_cmd cmds[16];
	unsigned int seed = 555;
	uint32_t i, num;
	int phase, rc;

	for (;;) {
		phase = __atomic_load_n(&st->ctx2_phase, __ATOMIC_ACQUIRE);
		if (phase == 2) {
			close(st->ctx2_dupfd);
			__atomic_store_n(&st->ctx2_phase, 3, __ATOMIC_RELEASE);
			continue;
		}
		if (phase == 4)
			break;
		if (phase != 1) {
			usleep(200);
			continue;
		}
		num = 1 + rnd_r(&seed) % 16;
		for (i = 0; i < num; i++)
			make_cmd(cmds[i].w, &seed,
				 VSID_B(rnd_r(&seed) % st->n));
		rc = invalidate_once(st, st->ctx2_dupfd, st->ctx2_viommu, cmds,
				     num, "inv2");
		COUNT(st, inv2_calls);
		if (rc > 0)
			COUNT(st, inv2_eio);
	}
	return NULL;
}

/* Record a failed step of the second context's set-up */
static int ctx2_step(struct stress *st, int rc, const char *what)
{
	if (rc)
		stress_fail(st, "ctx2: %s: %d", what, rc);
	return rc;
}

/* Build the second context; 0 or an errno (recorded) */
static int ctx2_build(struct stress *st, int fd, int mfd, void *ram)
{
	uint32_t dev[MAXP], dev_id[MAXP], ioas, parent, viommu, s1, vdev;
	struct smmu_cmd cmds[MAXP];
	uint32_t done;
	int p, rc;

	for (p = 0; p < st->n; p++) {
		rc = mock_dev_create_bind(mfd, fd, p, PSID_B, &dev[p],
					  &dev_id[p]);
		if (ctx2_step(st, rc, "device"))
			return rc;
	}
	rc = ioas_alloc(fd, &ioas);
	if (ctx2_step(st, rc, "IOMMU_IOAS_ALLOC"))
		return rc;
	rc = ioas_map(fd, ioas, ram, RAM_LEN, RAM_IOVA);
	if (ctx2_step(st, rc, "IOMMU_IOAS_MAP"))
		return rc;
	rc = hwpt_alloc_nest_parent(fd, dev_id[0], ioas, &parent);
	if (ctx2_step(st, rc, "nesting parent"))
		return rc;
	rc = viommu_alloc_smmu(fd, 1, dev_id[0], parent, &viommu);
	if (ctx2_step(st, rc, "IOMMU_VIOMMU_ALLOC"))
		return rc;
	rc = hwpt_alloc_nested_s1(fd, dev_id[0], viommu, 0x70000000, &s1);
	if (ctx2_step(st, rc, "stage-1 HWPT"))
		return rc;
	for (p = 0; p < st->n; p++) {
		rc = vdevice_alloc(fd, viommu, dev_id[p], VSID_B(p), &vdev);
		if (ctx2_step(st, rc, "IOMMU_VDEVICE_ALLOC"))
			return rc;
		rc = mock_dev_attach(mfd, dev[p], s1, NULL);
		if (ctx2_step(st, rc, "attach"))
			return rc;
		smmu_cmd_cfgi_cd_all(cmds[p].w, VSID_B(p));
	}
	rc = viommu_invalidate_smmu(fd, viommu, cmds, st->n, &done);
	if (!rc && done != (uint32_t)st->n)
		rc = -EIO;
	if (ctx2_step(st, rc, "IOMMU_HWPT_INVALIDATE"))
		return rc;
	st->ctx2_viommu = viommu;
	return 0;
}

static void *ctx2_thread(void *arg)
{
	struct stress *st = arg;
	struct smmu_cmd *buf = calloc(LOG_SIZE, sizeof(*buf));
	uint64_t t1[MAXP] = {};
	unsigned int seed = 2024;
	unsigned long k = 0;
	int fd, mfd, p, have_t1 = 0;

	if (!buf)
		stress_fail(st, "ctx2: no memory");
	while (!stopping(st)) {
		/* Nothing for the previous round's devices since it closed */
		for (p = 0; have_t1 && p < st->n; p++)
			check_window(st, buf, p, PSID_B, t1[p],
				     "closing the second context");
		fd = iommufd_open();
		mfd = mock_open();
		if (fd < 0 || mfd < 0) {
			stress_fail(st, "ctx2: open: %d", -errno);
			break;
		}
		if (ctx2_build(st, fd, mfd, st->ram)) {
			close(mfd);
			close(fd);
			break;
		}
		st->ctx2_dupfd = dup(fd);
		if (st->ctx2_dupfd < 0) {
			stress_fail(st, "ctx2: dup: %d", -errno);
			close(mfd);
			close(fd);
			break;
		}
		__atomic_store_n(&st->ctx2_phase, 1, __ATOMIC_RELEASE);
		sleep_us(&seed, 5000);
		/* Close both files, either first, while inv2 still runs */
		if (k++ & 1) {
			close(fd);
			sleep_us(&seed, 1000);
			close(mfd);
		} else {
			close(mfd);
			sleep_us(&seed, 1000);
			close(fd);
		}
		sleep_us(&seed, 1000);
		/* inv2 closes its duplicate: the last reference */
		__atomic_store_n(&st->ctx2_phase, 2, __ATOMIC_RELEASE);
		while (__atomic_load_n(&st->ctx2_phase, __ATOMIC_ACQUIRE) != 3)
			usleep(100);
		for (p = 0; p < st->n; p++)
			t1[p] = log_pos(st, p);
		have_t1 = 1;
		__atomic_store_n(&st->ctx2_phase, 0, __ATOMIC_RELEASE);
		COUNT(st, ctx2_cycles);
	}
	__atomic_store_n(&st->ctx2_phase, 4, __ATOMIC_RELEASE);
	free(buf);
	return NULL;
}

/* ---- The test ------------------------------------------------------------------ */

FIXTURE(stress)
{
	struct stress st;
};

FIXTURE_SETUP(stress)
{
	struct stress *st = &self->st;
	int p, j, s, nr;

	memset(st, 0, sizeof(*st));
	st->fd = iommufd_open();
	ASSERT_LE(0, st->fd);
	st->mfd = mock_open();
	ASSERT_LE(0, st->mfd);
	nr = mock_num_psmmus(st->mfd);
	ASSERT_LE(1, nr);
	st->nr = nr;
	st->n = nr;
	if (st->n > MAXP)
		st->n = MAXP;
	st->nslot = st->n * DEVS;
	pthread_mutex_init(&st->err_lock, NULL);

	st->ram = mmap(NULL, RAM_LEN, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, st->ram);
	st->scratch = mmap(NULL, SCRATCH_LEN, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, st->scratch);
	ASSERT_EQ(0, ioas_alloc(st->fd, &st->ioas));
	ASSERT_EQ(0, ioas_map(st->fd, st->ioas, st->ram, RAM_LEN, RAM_IOVA));

	for (p = 0; p < st->n; p++) {
		for (j = 0; j < DEVS; j++) {
			struct slot *sl = &st->slot[p * DEVS + j];

			sl->s = p * DEVS + j;
			sl->p = p;
			sl->j = j;
			sl->psid = PSID_A(j);
			pthread_mutex_init(&sl->lock, NULL);
			pthread_mutex_init(&sl->att_lock, NULL);
			/* A file per device, as VFIO has */
			sl->mfd = mock_open();
			ASSERT_LE(0, sl->mfd);
			ASSERT_EQ(0, mock_dev_create_bind(sl->mfd, st->fd, p,
							  sl->psid, &sl->dev,
							  &sl->dev_id));
			sl->bound = 1;
		}
	}
	ASSERT_EQ(0, hwpt_alloc_nest_parent(st->fd, st->slot[0].dev_id,
					    st->ioas, &st->parent));
	ASSERT_EQ(0, viommu_alloc_smmu(st->fd, 1, st->slot[0].dev_id,
				       st->parent, &st->viommu));
	st->hwpt[AT_S2] = st->parent;
	ASSERT_EQ(0, hwpt_alloc_nested_s1(st->fd, st->slot[0].dev_id,
					  st->viommu, 0x40000000,
					  &st->hwpt[AT_S1A]));
	ASSERT_EQ(0, hwpt_alloc_nested_s1(st->fd, st->slot[0].dev_id,
					  st->viommu, 0x50000000,
					  &st->hwpt[AT_S1B]));
	ASSERT_EQ(0, hwpt_alloc_nested_bypass(st->fd, st->slot[0].dev_id,
					      st->viommu, &st->hwpt[AT_BYP]));
	for (s = 0; s < st->nslot; s++) {
		struct slot *sl = &st->slot[s];

		ASSERT_EQ(0, vdevice_alloc(st->fd, st->viommu, sl->dev_id,
					   VSID_A(s, 0), &sl->vdev));
		sl->cur_vsid = VSID_A(s, 0);
		sl->has_vdev = 1;
		ASSERT_EQ(0, mock_dev_attach(sl->mfd, sl->dev,
					     st->hwpt[AT_S1A], NULL));
		sl->att = AT_S1A;
	}
	for (p = 0; p < nr; p++)
		ASSERT_EQ(0, mock_cmdq_log_clear(st->mfd, p));
	for (p = 0; p < st->n; p++) {
		struct mock_smmu_counters cnt;

		ASSERT_EQ(0, mock_get_counters(st->mfd, p, &cnt));
		st->cerror_ill[p] = cnt.cerror_ill;
	}
}

FIXTURE_TEARDOWN(stress)
{
	struct stress *st = &self->st;
	int s;

	if (st->fd > 0)
		close(st->fd);
	for (s = 0; s < st->nslot; s++)
		if (st->slot[s].mfd > 0)
			close(st->slot[s].mfd);
	if (st->mfd > 0)
		close(st->mfd);
}

/* The state left by the threads: counters, routing, TLBI fan-out */
static void check_final_state(struct __test_metadata *_metadata,
			      struct stress *st)
{
	uint64_t before[MAXP], after[MAXP];
	struct mock_smmu_counters cnt;
	uint64_t vdevs[MAXP] = {}, s1[MAXP] = {};
	struct smmu_cmd c, last[2];
	uint32_t done;
	int p, s, n;

	for (s = 0; s < st->nslot; s++) {
		struct slot *sl = &st->slot[s];

		vdevs[sl->p] += !!sl->vdev;
		s1[sl->p] += sl->att == AT_S1A || sl->att == AT_S1B;
	}
	for (p = 0; p < st->n; p++) {
		ASSERT_EQ(0, mock_get_counters(st->mfd, p, &cnt));
		ASSERT_EQ(DEVS, cnt.devices) TH_LOG("pSMMU %d", p);
		ASSERT_EQ(vdevs[p], cnt.vdevices) TH_LOG("pSMMU %d", p);
		ASSERT_EQ(s1[p], cnt.nested_attached) TH_LOG("pSMMU %d", p);
		/* No guest command ever reached a queue as an illegal one */
		ASSERT_EQ(st->cerror_ill[p], cnt.cerror_ill)
			TH_LOG("pSMMU %d", p);
	}

	/* A guest TLBI reaches exactly the pSMMUs with a stage-1 device */
	for (p = 0; p < st->n; p++)
		before[p] = log_pos(st, p);
	smmu_cmd_nh_all(c.w, 0);
	ASSERT_EQ(0, viommu_invalidate_smmu(st->fd, st->viommu, &c, 1, &done));
	for (p = 0; p < st->n; p++) {
		after[p] = log_pos(st, p);
		ASSERT_EQ(s1[p] ? 2 : 0, after[p] - before[p])
			TH_LOG("pSMMU %d, %llu stage-1 devices", p,
			       (unsigned long long)s1[p]);
	}

	/* Each vSID names its device's physical SID on its pSMMU, or none */
	for (s = 0; s < st->nslot; s++) {
		struct slot *sl = &st->slot[s];
		int e;

		for (e = 0; e < 2; e++) {
			uint32_t vsid = VSID_A(s, sl->epoch + e);
			int live = sl->vdev && !e;
			int rc;

			smmu_cmd_cfgi_cd_all(c.w, vsid);
			before[sl->p] = log_pos(st, sl->p);
			rc = viommu_invalidate_smmu(st->fd, st->viommu, &c, 1,
						    &done);
			if (!live) {
				ASSERT_EQ(-EIO, rc) TH_LOG("vSID 0x%x", vsid);
				ASSERT_EQ(0, done);
				continue;
			}
			ASSERT_EQ(0, rc) TH_LOG("vSID 0x%x", vsid);
			n = mock_cmdq_log_num(st->mfd, sl->p, 0, last, 2,
					      &after[sl->p]);
			ASSERT_EQ(2, n);
			ASSERT_EQ(2, after[sl->p] - before[sl->p]);
			ASSERT_EQ(SMMU_OP_CFGI_CD_ALL, smmu_cmd_op(last[0].w));
			ASSERT_EQ(sl->psid,
				  smmu_field_get(SMMU_CMD0_SID, last[0].w[0]));
		}
	}
}

TEST_F_TIMEOUT(stress, race_all, 600)
{
	static void *(*const fn[])(void *) = {
		inv_thread, inv_thread, vdev_thread, attach_thread,
		unbind_thread, race_destroy_thread, ioas_thread, ctx2_thread,
		inv2_thread,
	};
	static const char *const names[] = {
		"inv", "inv", "vdev", "attach", "unbind", "unbind-race",
		"ioas", "ctx2", "inv2",
	};
	struct stress *st = &self->st;
	pthread_t th[ARRAY_SIZE(fn)];
	const char *env = getenv("IOMMUFD_STRESS_SECONDS");
	double secs = env ? atof(env) : 12, t0, t;
	struct counts *c = &st->c;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned int i, started;

	ASSERT_LT(0, secs);
	if (cpus < 2)
		ksft_print_msg("only %ld CPU online: the threads race by preemption only\n",
			       cpus);
	ksft_print_msg("%ld CPUs, %d pSMMUs of %d, %d devices, %zu threads, %.0f s\n",
		       cpus, st->n, st->nr, st->nslot, ARRAY_SIZE(fn), secs);
	if (st->n < 2)
		ksft_print_msg("one pSMMU only: the vIOMMU spans nothing more\n");

	ASSERT_EQ(0, pthread_barrier_init(&st->race_bar, NULL, 2));
	t0 = now_s();
	for (started = 0; started < ARRAY_SIZE(fn); started++) {
		if (pthread_create(&th[started], NULL, fn[started], st)) {
			stress_fail(st, "cannot start thread %s",
				    names[started]);
			break;
		}
	}
	while (!stopping(st) && now_s() - t0 < secs)
		usleep(100000);
	__atomic_store_n(&st->stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < started; i++)
		ASSERT_EQ(0, pthread_join(th[i], NULL));
	t = now_s() - t0;
	pthread_barrier_destroy(&st->race_bar);

	ksft_print_msg("ran %.1f s\n", t);
	ksft_print_msg("invalidate: %lu calls (%lu ok, %lu EIO: vSID unknown), %lu commands\n",
		       c->inv_calls, c->inv_ok, c->inv_eio, c->inv_cmds);
	ksft_print_msg("vDEVICE: %lu destroyed, %lu allocated\n",
		       c->vdev_destroy, c->vdev_alloc);
	ksft_print_msg("attach: %lu stage-1 A, %lu stage-1 B, %lu bypass, %lu parent, %lu detach\n",
		       c->att[AT_S1A], c->att[AT_S1B], c->att[AT_BYP],
		       c->att[AT_S2], c->att[AT_NONE]);
	ksft_print_msg("attach: %lu stage-1 ENOENT (no vDEVICE), %lu EINVAL (unbound)\n",
		       c->att_s1_enoent, c->att_unbound);
	ksft_print_msg("unbind: %lu, %lu rebinds; %lu raced by IOMMU_DESTROY\n",
		       c->unbind, c->rebind, c->unbind_race);
	ksft_print_msg("racing IOMMU_DESTROY: %lu ok, %lu ENOENT, %lu EBUSY\n",
		       c->race_destroy_ok, c->race_destroy_enoent,
		       c->race_destroy_ebusy);
	ksft_print_msg("IOAS: %lu maps, %lu unmaps\n", c->ioas_map,
		       c->ioas_unmap);
	ksft_print_msg("second context: %lu cycles, %lu invalidate calls (%lu EIO)\n",
		       c->ctx2_cycles, c->inv2_calls, c->inv2_eio);
	ksft_print_msg("oracle: %lu windows (%lu commands), %lu past the log, %d violations\n",
		       c->win_checked, c->win_cmds, c->win_unchecked,
		       st->violations);

	ASSERT_EQ(0, st->nerr) TH_LOG("%d errors, first: %s", st->nerr, st->err);
	ASSERT_EQ(0, st->violations);
	/* Every kind of operation ran, and the oracle judged */
	ASSERT_LT(0, c->inv_ok);
	ASSERT_LT(0, c->vdev_destroy);
	ASSERT_LT(0, c->att[AT_S1A] + c->att[AT_S1B]);
	ASSERT_LT(0, c->unbind_race);
	ASSERT_LT(0, c->ioas_unmap);
	ASSERT_LT(0, c->ctx2_cycles);
	ASSERT_LT(0, c->win_checked);
	check_final_state(_metadata, st);
}

/* ---- Unbind racing IOMMU_DESTROY of the vDEVICE, made deterministic ------ */

struct held {
	struct stress *st;
	uint32_t vsid;
	uint32_t vdev;
	int rc;
	double t_end;
};

/* A call whose CMD_SYNC stalls: its round keeps the vDEVICEs found */
static void *held_invalidate(void *arg)
{
	struct held *h = arg;
	struct smmu_cmd c;
	uint32_t done;

	smmu_cmd_cfgi_cd_all(c.w, h->vsid);
	h->rc = viommu_invalidate_smmu(h->st->fd, h->st->viommu, &c, 1, &done);
	h->t_end = now_s();
	return NULL;
}

static void *held_destroy(void *arg)
{
	struct held *h = arg;

	h->rc = iommufd_destroy(h->st->fd, h->vdev);
	return NULL;
}

/*
 * A device is unbound while IOMMU_DESTROY of its vDEVICE is under way and
 * cannot finish yet: an invalidation that found the vDEVICE holds it, its
 * CMD_SYNC stalled by an injected MOCK_SMMU_FAULT_SYNC_TIMEOUT. The unbind
 * must return only once the vDEVICE is gone, as it does without the race:
 * the pSMMU counts no vDEVICE for the device any more, and the device,
 * bound again, gets a vDEVICE at once, with its other vSID or the same.
 */
TEST_F_TIMEOUT(stress, unbind_waits_for_destroy, 120)
{
	struct stress *st = &self->st;
	struct slot *sl = &st->slot[0];
	struct mock_smmu_counters cnt;
	int attempt, conclusive = 0;

	for (attempt = 0; attempt < 5 && !conclusive; attempt++) {
		struct held inv = { .st = st, .vsid = VSID_A(0, sl->epoch) };
		struct held des = { .st = st, .vdev = sl->vdev };
		pthread_t ti, td;
		double t_des, t_unbind;
		uint64_t others;

		ASSERT_EQ(0, mock_get_counters(st->mfd, sl->p, &cnt));
		others = cnt.vdevices - 1;
		ASSERT_EQ(0, mock_inject_fault(st->mfd, sl->p,
					       MOCK_SMMU_FAULT_SYNC_TIMEOUT));
		ASSERT_EQ(0, pthread_create(&ti, NULL, held_invalidate, &inv));
		usleep(200000);
		t_des = now_s();
		ASSERT_EQ(0, pthread_create(&td, NULL, held_destroy, &des));
		usleep(200000);
		t_unbind = now_s();
		ASSERT_EQ(0, mock_dev_unbind(sl->mfd, sl->dev));
		ASSERT_EQ(0, mock_get_counters(st->mfd, sl->p, &cnt));
		ASSERT_EQ(0, pthread_join(ti, NULL));
		ASSERT_EQ(0, pthread_join(td, NULL));
		ASSERT_EQ(-ETIMEDOUT, inv.rc);
		ASSERT_EQ(0, des.rc);
		/* Both calls must have started while the round held */
		conclusive = t_des < inv.t_end && t_unbind < inv.t_end;
		if (conclusive)
			ASSERT_EQ(others, cnt.vdevices)
				TH_LOG("the unbind returned with the vDEVICE still on its pSMMU");

		ASSERT_EQ(0, mock_dev_bind(sl->mfd, sl->dev, st->fd,
					   &sl->dev_id));
		sl->epoch++;
		ASSERT_EQ(0, vdevice_alloc(st->fd, st->viommu, sl->dev_id,
					   VSID_A(0, sl->epoch), &sl->vdev));
		ASSERT_EQ(0, iommufd_destroy(st->fd, sl->vdev));
		sl->epoch++;
		ASSERT_EQ(0, vdevice_alloc(st->fd, st->viommu, sl->dev_id,
					   VSID_A(0, sl->epoch), &sl->vdev));
	}
	if (!conclusive)
		SKIP(return, "the calls never overlapped as needed");
}

/* ---- A failed replace puts the stage-1 HWPT back, vDEVICE or not --------- */

static long kernel_warns(void)
{
	FILE *f = fopen("/sys/kernel/warn_count", "r");
	long n = -1;

	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

/*
 * A device attached to a stage-1 HWPT loses its vDEVICE; replacing the
 * HWPT with another stage-1 one then fails with ENOENT, and the IOMMU core
 * attaches the first one again, which the driver must accept (it WARNs
 * otherwise): the device stays attached to it, with its nested STE.
 */
TEST_F(stress, replace_back_without_vdevice)
{
	struct stress *st = &self->st;
	struct slot *sl = &st->slot[0];
	struct mock_smmu_counters before, after;
	long warns = kernel_warns();
	uint64_t ste[4];
	uint32_t out;

	ASSERT_EQ(0, mock_get_counters(st->mfd, sl->p, &before));
	ASSERT_EQ(0, iommufd_destroy(st->fd, sl->vdev));
	ASSERT_EQ(-ENOENT, mock_dev_attach(sl->mfd, sl->dev,
					   st->hwpt[AT_S1B], &out));
	if (warns >= 0)
		ASSERT_EQ(warns, kernel_warns());
	ASSERT_EQ(0, mock_get_counters(st->mfd, sl->p, &after));
	ASSERT_EQ(before.nested_attached, after.nested_attached);
	ASSERT_EQ(before.vdevices - 1, after.vdevices);
	ASSERT_EQ(0, mock_get_ste(st->mfd, sl->p, sl->psid, ste));
	ASSERT_EQ(SMMU_STE_CFG_NESTED, SMMU_STE_CFG(ste[0]));
	/* The first HWPT's guest CD table, not the second's */
	ASSERT_EQ(0x40000000, ste[0] & SMMU_STE0_S1CTXPTR);
	/* With a vDEVICE again, the replace works */
	ASSERT_EQ(0, vdevice_alloc(st->fd, st->viommu, sl->dev_id,
				   VSID_A(0, 0), &sl->vdev));
	ASSERT_EQ(0, mock_dev_attach(sl->mfd, sl->dev, st->hwpt[AT_S1B],
				     &out));
	ASSERT_EQ(st->hwpt[AT_S1B], out);
}

TEST_HARNESS_MAIN
