package dev.pgqueue.jdbi;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Where one queue's claims may start their walk of the claim index, so that they do not walk the
 * entries earlier claims left dead when something holds back the xmin horizon (issue 18).
 *
 * <p>A claim takes pending jobs in claim order (priority, run_at, id) from the front of
 * {@code job_queue_claim_idx}. Each claimed job leaves its pending entry behind, dead; normally the
 * first claim that walks over it marks it so and vacuum removes it, but while any snapshot older than
 * those rows is open (an idle-in-transaction session, a long report, a replication slot) neither can
 * happen, and every claim walks every entry left since: claims slow down as the queue runs, and a busy
 * queue falls behind (at 14,000 jobs/s, a snapshot held two minutes cut throughput to 41 %).
 *
 * <p>The floor is the claim order of the last job this store claimed from the queue. Claims
 * <em>bounded</em> by it start their index scan just past it, where no dead entry of an earlier claim
 * lies. What a bounded claim cannot see is a pending job that sorts before the floor: a more urgent
 * priority, a job released, retried or made due with an earlier run_at, one another claimer locked and
 * then gave back, one whose transaction committed after a later job's. When two threads of one store
 * claim the same queue at once, that includes the jobs one claim locked and then left, which the other
 * skipped as locked while it moved the shared floor past them: a claim whose byte budget left jobs hands
 * their ids to {@link #giveBack} once its locks are gone, for the next claim to take first ({@link FairFloor}
 * owes a fair claim's to their keys' floors). So claims are bounded only while
 * a claim from the index's front takes at least twice, and 10 ms more than, what its jobs cost a bounded
 * claim: that difference is the walk over the dead entries. Deciding takes one bounded claim (a probe)
 * after two slow full claims in a row, never a second round trip.
 *
 * <p>While claims are bounded, a <em>sweep</em> finds what sorts before the floor (the floor's own key
 * too): a read-only walk from the index's front, on a thread and a connection of its own, so that no
 * claim waits for the walk ({@link FrontSweeps}). It wakes the store's workers for the queue if it
 * found any; the next claims take those jobs by id, before any other. A sweep starts every
 * period ({@link SweepSchedule}: ten times as long as a sweep takes, 1 s at least, 60 s at most), at the
 * first claim after that, or at once after one that found {@link #SWEEP_JOBS}. So such a job waits
 * about that long plus a sweep, longer only when sweeps fail (each is logged, and retried a period
 * later) or queue behind other queues' sweeps of the same store. Each sweep also judges again whether
 * bounding pays: when two sweeps in a row find the front quick to walk again, claims start from it
 * again, exactly as without this class.
 *
 * <p>Thread-safe: several workers of one store may claim the same queue.
 */
final class ClaimFloor {

    /**
     * A full claim slower than this may be walking dead entries: after {@link #SLOW_FULL_CLAIMS_TO_PROBE}
     * such claims in a row, the next claim probes with the floor.
     */
    static final long SLOW_FULL_CLAIM_NANOS = 20_000_000L;
    /**
     * Slow full claims in a row before a probe: one slowed by something else (a pause, a loaded machine, a
     * fresh JVM's first claim), followed by a quick probe, must not bound claims, as two quick sweeps in a row
     * are needed to end the bounding ({@link SweepSchedule#stillPays}). While bounded, a job enqueued more
     * urgent than the floor waits for a sweep (1 s or more).
     */
    static final int SLOW_FULL_CLAIMS_TO_PROBE = 2;
    /**
     * A full claim walks dead entries when it took at least this many times, and at least
     * {@link #DEAD_WALK_NANOS} longer than, what its jobs cost a bounded claim (at the bounded claim's
     * time per job): the difference is the walk.
     */
    static final int SLOWER_FACTOR = 2;
    static final long DEAD_WALK_NANOS = 10_000_000L;
    /** The least time between the starts of sweeps while bounded. */
    static final long MIN_SWEEP_PERIOD_NANOS = 1_000_000_000L;
    /**
     * The most time between the starts of sweeps while bounded: about the longest a job before the floor
     * waits. Sweeps grow slower as a pinned horizon lasts (each walks every entry left since); they do not
     * hold up claims, but they cost the server as much as the full claims they replace.
     */
    static final long MAX_SWEEP_PERIOD_NANOS = 60_000_000_000L;
    /**
     * Sweeps start at least ten of their own durations apart (but at most {@link #MAX_SWEEP_PERIOD_NANOS}):
     * while bounded, they keep one server backend busy about a tenth of the time, while they take under 6 s.
     */
    static final int SWEEP_PERIOD_PER_SWEEP = 10;
    /** The most jobs one sweep finds; one that finds this many is followed by another at once. */
    static final int SWEEP_JOBS = 1_000;
    /**
     * Claims stay bounded only while sweeps succeed: with none for this long since claims were bounded
     * or a sweep last succeeded (the longest period, plus the longest a sweep may run, plus a minute),
     * claims start from the index's front again, slow as that is, rather than leave what sorts before the
     * floor unclaimed (sweeps failing, or one hung on a dead connection).
     */
    static final long SWEEPS_STALLED_NANOS = MAX_SWEEP_PERIOD_NANOS
            + TimeUnit.SECONDS.toNanos(JobStatements.SWEEP_TIMEOUT_SECONDS) + TimeUnit.MINUTES.toNanos(1);

    /** A job's place in claim order, as the claim index sorts it (ids bytewise, as PostgreSQL's uuid). */
    record Key(int priority, Instant runAt, UUID id) implements Comparable<Key> {
        @Override
        public int compareTo(Key other) {
            int order = Integer.compare(priority, other.priority);
            if (order == 0) {
                order = runAt.compareTo(other.runAt);
            }
            if (order == 0) {
                order = Long.compareUnsigned(id.getMostSignificantBits(), other.id.getMostSignificantBits());
            }
            return order != 0 ? order : Long.compareUnsigned(id.getLeastSignificantBits(), other.id.getLeastSignificantBits());
        }

        /** {@return whichever of {@code a} and {@code b} comes later in claim order} For merging the last job claimed of each key. */
        static Key later(Key a, Key b) {
            return a.compareTo(b) >= 0 ? a : b;
        }

        /** {@return whichever of {@code a} and {@code b} comes first in claim order} */
        static Key earlier(Key a, Key b) {
            return a.compareTo(b) <= 0 ? a : b;
        }
    }

    private Key floor;
    /** Claims start past the floor; sweeps find what sorts before it. */
    private boolean bounded;
    /** The next claim is bounded, to compare with the slow full claim just before it. */
    private boolean probe;
    /** Claims from the index's front slower than {@link #SLOW_FULL_CLAIM_NANOS} in a row, since the latest probe. */
    private int slowFullClaims;
    /** The latest claim from the index's front: its time and jobs. */
    private long fullNanos = -1;
    private int fullJobs;
    /** The latest bounded claim's time and jobs; -1 jobs before the first. */
    private long boundedNanos;
    private int boundedJobs = -1;
    private final SweepSchedule sweeps = new SweepSchedule();
    /** What the latest sweep found before the floor and no claim has taken yet: the next claims take them by id first. */
    private ArrayDeque<UUID> found = new ArrayDeque<>();

    /** {@return the key the next claim should start past, or null for a claim from the index's front} */
    synchronized Key bound() {
        return floor != null && (probe || bounded) ? floor : null;
    }

    /**
     * {@return whether a sweep should start at {@code nowNanos}} If so, it is started: the caller runs it
     * and reports with {@link #swept} or {@link #sweepFailed}.
     */
    synchronized boolean startSweep(long nowNanos) {
        return bounded && sweeps.start(nowNanos);
    }

    /**
     * {@return whether claims were bounded, and no sweep succeeded for {@link #SWEEPS_STALLED_NANOS} up
     * to {@code nowNanos}} If so, claims start from the index's front again from now on.
     */
    synchronized boolean unboundIfSweepsStalled(long nowNanos) {
        if (!bounded || !sweeps.stalled(nowNanos)) {
            return false;
        }
        bounded = false;
        return true;
    }

    /**
     * The sweep started by {@link #startSweep} ended at {@code endNanos}, took {@code nanos} and found
     * {@code jobs}: due before the floor, in claim order, at most {@link #SWEEP_JOBS}. They replace what
     * an earlier sweep found.
     */
    synchronized void swept(long endNanos, long nanos, List<UUID> jobs) {
        sweeps.swept(endNanos, nanos, jobs.size() >= SWEEP_JOBS);
        found = new ArrayDeque<>(jobs);
        if (bounded && jobs.size() < SWEEP_JOBS) { // one that stopped at SWEEP_JOBS did not walk to the floor: no judge
            bounded = sweeps.stillPays(nanos, boundedNanos, boundedJobs);
        }
    }

    /** The sweep started by {@link #startSweep} failed, or could not start: the next starts a period after it. */
    synchronized void sweepFailed() {
        sweeps.failed();
    }

    /** {@return up to {@code limit} of the jobs sweeps found, in claim order, to claim by id} Each is handed out once. */
    synchronized List<UUID> takeFound(int limit) {
        if (found.isEmpty()) {
            return List.of();
        }
        List<UUID> jobs = new ArrayList<>(Math.min(limit, found.size()));
        while (jobs.size() < limit && !found.isEmpty()) {
            jobs.add(found.poll());
        }
        return jobs;
    }

    /** Jobs {@link #takeFound} handed out and not claimed (the claim failed, or its byte budget left them): first again. */
    synchronized void giveBack(List<UUID> jobs) {
        for (int i = jobs.size() - 1; i >= 0; i--) {
            found.addFirst(jobs.get(i));
        }
    }

    /**
     * Another claim of the queue, out of claim order (a fair claim's, round-robin over keys), took jobs up
     * to {@code highest}: while bounded, claims go on past it, so that they do not walk the entries it left
     * dead. What it left pending before it is found by sweeps, as what sorts before the floor always is.
     */
    synchronized void claimedElsewhere(Key highest) {
        if (bounded && floor != null && highest.compareTo(floor) > 0) {
            floor = highest;
        }
    }

    /**
     * A claim that {@link #bound} told to start past {@code bound} (null: from the index's front) ran from
     * {@code startNanos} for {@code nanos} and took {@code jobs} jobs, the last of them in claim order at
     * {@code highest} (null if none).
     */
    synchronized void claimed(Key bound, long startNanos, long nanos, int jobs, Key highest) {
        if (bound == null) {
            sweeps.frontClaimed(startNanos, nanos);
            fullNanos = nanos;
            fullJobs = jobs;
            if (highest != null) {
                floor = highest; // it took what sorted before the old floor, if anything: continue after it
            }
            slowFullClaims = nanos >= SLOW_FULL_CLAIM_NANOS && floor != null ? slowFullClaims + 1 : 0;
            probe = slowFullClaims >= SLOW_FULL_CLAIMS_TO_PROBE && !bounded;
            return;
        }
        boundedNanos = nanos;
        boundedJobs = jobs;
        // A full claim that ended while this one ran may have lowered the floor below this claim's bound
        // (it took jobs that sorted before it): raising the floor again would skip what it left there.
        if (highest != null && bound.compareTo(floor) <= 0 && highest.compareTo(floor) > 0) {
            floor = highest;
        }
        if (probe) {
            probe = false;
            slowFullClaims = 0;
            bounded = walksDeadEntries(fullNanos, fullJobs, boundedNanos, boundedJobs);
            sweeps.bounded(startNanos); // the stall clock starts with the bounding
        }
    }

    /**
     * Whether a claim from the index's front that took {@code frontNanos} for {@code jobs} jobs took so
     * much longer than they cost past the floor, where a claim took {@code boundedNanos} for
     * {@code boundedJobs} jobs (-1: none yet), that it walked dead entries.
     */
    static boolean walksDeadEntries(long frontNanos, int jobs, long boundedNanos, int boundedJobs) {
        if (boundedJobs < 0) {
            return false;
        }
        // At the bounded claim's time per job, over its jobs + 1, so that an empty claim counts.
        long pastTheFloor = boundedNanos / (boundedJobs + 1L) * (jobs + 1L);
        return frontNanos - pastTheFloor >= DEAD_WALK_NANOS && frontNanos >= SLOWER_FACTOR * pastTheFloor;
    }

    /** {@return whether claims start past the floor now} For tests and logging. */
    synchronized boolean isBounded() {
        return bounded;
    }
}
