package dev.pgqueue.jdbi;

import java.time.Instant;
import java.util.UUID;

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
 * then gave back. So bounded claims are used only while a full claim (from the index's front) takes
 * at least twice, and 10 ms more than, what its jobs cost a bounded claim: that difference is the walk
 * over the dead entries. Even then a full claim runs at least every {@link #fullClaimPeriodNanos} (ten
 * times as long as a full claim takes, 1 s at least, 60 s at most), so such a job waits at most that
 * long. Otherwise every claim is full, exactly as without this class. Deciding takes one bounded claim
 * after a slow full claim, never a second round trip.
 *
 * <p>Thread-safe: several workers of one store may claim the same queue.
 */
final class ClaimFloor {

    /** A full claim slower than this may be walking dead entries: the next claim probes with the floor. */
    static final long SLOW_FULL_CLAIM_NANOS = 20_000_000L;
    /**
     * A full claim walks dead entries when it took at least this many times, and at least
     * {@link #DEAD_WALK_NANOS} longer than, what its jobs cost a bounded claim (at the bounded claim's
     * time per job): the difference is the walk.
     */
    static final int SLOWER_FACTOR = 2;
    static final long DEAD_WALK_NANOS = 10_000_000L;
    /** The least time between full claims while bounded. */
    static final long MIN_FULL_PERIOD_NANOS = 1_000_000_000L;
    /**
     * The most time between full claims while bounded: the longest a job before the floor waits. Full
     * claims grow slower as a pinned horizon lasts (each walks every entry left since), and a period
     * shorter than ten of them would let them take the claiming over again.
     */
    static final long MAX_FULL_PERIOD_NANOS = 60_000_000_000L;
    /** While bounded, full claims take at most about a tenth of the claiming time. */
    static final int FULL_PERIOD_PER_FULL_CLAIM = 10;

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
    }

    private Key floor;
    /** Claims start past the floor (but for a full claim each period). */
    private boolean bounded;
    /** The next claim is bounded, to compare with the slow full claim just before it. */
    private boolean probe;
    private long lastFullStartNanos;
    /** The latest full claim's time and jobs. */
    private long fullNanos = -1;
    private int fullJobs;
    /** The latest bounded claim's time per job (over its jobs + 1, so that an empty claim counts). */
    private long boundedNanosPerJob = -1;

    /** {@return the key the claim starting at {@code nowNanos} should start past, or null for a full claim} */
    synchronized Key bound(long nowNanos) {
        if (floor == null) {
            return null;
        }
        if (probe || bounded && nowNanos - lastFullStartNanos < fullClaimPeriodNanos()) {
            return floor;
        }
        return null;
    }

    /**
     * A claim that {@link #bound} told to start past {@code bound} (null: a full claim) ran from
     * {@code startNanos} for {@code nanos} and took {@code jobs} jobs, the last of them in claim order
     * at {@code highest} (null if none).
     */
    synchronized void claimed(Key bound, long startNanos, long nanos, int jobs, Key highest) {
        long perJob = nanos / (jobs + 1L);
        if (bound == null) {
            lastFullStartNanos = startNanos;
            fullNanos = nanos;
            fullJobs = jobs;
            if (highest != null) {
                floor = highest; // it took what sorted before the old floor, if anything: continue after it
            }
            boolean slow = nanos >= SLOW_FULL_CLAIM_NANOS && floor != null;
            if (bounded) {
                bounded = slow && walksDeadEntries();
            } else {
                probe = slow;
            }
            return;
        }
        boundedNanosPerJob = perJob;
        // A full claim that ended while this one ran may have lowered the floor below this claim's bound
        // (it took jobs that sorted before it): raising the floor again would skip what it left there.
        if (highest != null && bound.compareTo(floor) <= 0 && highest.compareTo(floor) > 0) {
            floor = highest;
        }
        if (probe) {
            probe = false;
            bounded = walksDeadEntries();
        }
    }

    /** Whether the latest full claim took so much longer than its jobs cost past the floor that it walked dead entries. */
    private boolean walksDeadEntries() {
        if (boundedNanosPerJob < 0) {
            return false;
        }
        long pastTheFloor = boundedNanosPerJob * (fullJobs + 1L);
        return fullNanos - pastTheFloor >= DEAD_WALK_NANOS && fullNanos >= SLOWER_FACTOR * pastTheFloor;
    }

    /** {@return whether claims start past the floor now} For tests and logging. */
    synchronized boolean isBounded() {
        return bounded;
    }

    /** How long bounded claims go on between full claims: ten times a full claim, within 1 to 60 s. */
    private long fullClaimPeriodNanos() {
        return Math.min(MAX_FULL_PERIOD_NANOS, Math.max(MIN_FULL_PERIOD_NANOS, FULL_PERIOD_PER_FULL_CLAIM * fullNanos));
    }
}
