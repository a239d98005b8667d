package dev.pgqueue.jdbi;

import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * Where a fair queue's claims may start their walk of each partition key's jobs, so that they do not
 * walk the entries earlier claims left dead when something holds back the xmin horizon (issue 18): the
 * fair claim's counterpart of {@link ClaimFloor}.
 *
 * <p>A fair claim from the index's front (claim-fair.sql with claim-fair-keys.sql) finds the keys that
 * have a due job with one descent of {@code job_queue_fair_idx} each, and takes each key's first jobs in
 * claim order. Both walks start at the key's first entry: while a snapshot older than the claimed rows
 * is open, every claim walks every entry of each key's jobs claimed since, and a busy fair queue falls
 * behind (to 44-49 % of its rate, measured).
 *
 * <p>The floors are, per partition key, the claim order of the last job this store's fair claims took
 * from it. A claim <em>past the floors</em> (claim-fair-keys-past-floors.sql) visits only the keys it
 * knows, in key order from the cursor, each from just past its floor: one bounded descent per key, over
 * no entry of a job it claimed. What it cannot see: a key this store has not claimed from (a new
 * tenant), and a job that sorts before its key's floor (more urgent, released, retried or made due with
 * an earlier run_at, given back by another claimer). A <em>sweep</em> finds those: a read-only walk of
 * the index's front (claim-fair-sweep.sql) on a thread and a connection of its own, which answers each
 * key's first due job; a key's floor goes back to just before it, and a new key is known from then on
 * ({@link #swept}). Sweeps run on {@link ClaimFloor}'s schedule ({@link SweepSchedule}): so such a job
 * waits about ten times as long as a sweep takes (1 to 60 s). The fill (claim.sql, bounded by its own
 * {@link ClaimFloor}) may take it sooner, when a fair claim leaves room. Each sweep also judges again
 * whether bounding pays; if sweeps stall, claims start from the front again.
 *
 * <p>Claims are bounded only while a claim from the front takes at least twice, and 10 ms more than,
 * what its jobs cost a bounded claim ({@link ClaimFloor#walksDeadEntries}); deciding takes one bounded
 * claim (a probe) after a slow claim from the front. It keeps the floors of at most {@link #MAX_KEYS}
 * keys; keys beyond are claimed from the front only.
 *
 * <p>Thread-safe: several workers of one store may claim the same queue.
 */
final class FairFloor {

    /** The most keys whose floors are kept, and that one sweep finds: a claim past the floors may visit them all. */
    static final int MAX_KEYS = 10_000;

    /** A claim past the floors: the keys to visit, in this order, and the floor of each. */
    record Bounds(List<String> keys, List<ClaimFloor.Key> floors) {}

    private final TreeMap<String, ClaimFloor.Key> floors = new TreeMap<>();
    private boolean bounded;
    /** The next claim is bounded, to compare with the slow claim from the front just before it. */
    private boolean probe;
    /** The latest claim from the index's front: its time and jobs. */
    private long fullNanos;
    private int fullJobs;
    /** The latest bounded claim's time and jobs; -1 jobs before the first. */
    private long boundedNanos;
    private int boundedJobs = -1;
    private final SweepSchedule sweeps = new SweepSchedule();

    /**
     * {@return where the next claim starts: null for the index's front, else past the floors, visiting
     * the known keys in key order from just after {@code cursor} (null: from the first) round to it}
     */
    synchronized Bounds bound(String cursor) {
        if (floors.isEmpty() || !bounded && !probe) {
            return null;
        }
        List<String> keys = new ArrayList<>(floors.size());
        List<ClaimFloor.Key> keyFloors = new ArrayList<>(floors.size());
        NavigableMap<String, ClaimFloor.Key> after = cursor == null ? floors : floors.tailMap(cursor, false);
        after.forEach((key, floor) -> {
            keys.add(key);
            keyFloors.add(floor);
        });
        if (cursor != null) {
            floors.headMap(cursor, true).forEach((key, floor) -> {
                keys.add(key);
                keyFloors.add(floor);
            });
        }
        return new Bounds(keys, keyFloors);
    }

    /**
     * A claim that {@link #bound} told to start at {@code bounds} (null: the index's front) ran from
     * {@code startNanos} for {@code nanos} and took {@code jobs} jobs; {@code highest} is the last job it
     * took of each key, in claim order.
     */
    synchronized void claimed(Bounds bounds, long startNanos, long nanos, int jobs, Map<String, ClaimFloor.Key> highest) {
        if (bounds == null) {
            sweeps.frontClaimed(startNanos, nanos);
            fullNanos = nanos;
            fullJobs = jobs;
            // It took what sorted before the old floors, if anything: continue after it.
            highest.forEach(this::putFloor);
            probe = nanos >= ClaimFloor.SLOW_FULL_CLAIM_NANOS && !bounded && !floors.isEmpty();
            return;
        }
        boundedNanos = nanos;
        boundedJobs = jobs;
        Map<String, ClaimFloor.Key> startedPast = startedPast(bounds);
        highest.forEach((key, last) -> {
            ClaimFloor.Key floor = floors.get(key);
            ClaimFloor.Key from = startedPast.get(key);
            // A sweep, or a claim from the front, that ended while this claim ran may have lowered the
            // floor below where this one started: raising it again would skip what it left there.
            if (floor == null || from != null && from.compareTo(floor) <= 0 && last.compareTo(floor) > 0) {
                putFloor(key, last);
            }
        });
        if (probe) {
            probe = false;
            bounded = ClaimFloor.walksDeadEntries(fullNanos, fullJobs, boundedNanos, boundedJobs);
            if (bounded) {
                sweeps.bounded(startNanos);
            }
        }
    }

    /**
     * A claim past {@code bounds}, reported {@link #claimed}, rolled back with its transaction (a limit's):
     * its jobs are pending again, before the floors it raised. Those go back to where it started, so that
     * the next claims take the jobs again.
     */
    synchronized void rolledBack(Bounds bounds) {
        startedPast(bounds).forEach((key, from) -> floors.computeIfPresent(key, (k, floor) -> from.compareTo(floor) < 0 ? from : floor));
    }

    /**
     * {@return whether a sweep should start at {@code nowNanos}} If so, it is started: the caller runs it
     * and reports with {@link #swept} or {@link #sweepFailed}.
     */
    synchronized boolean startSweep(long nowNanos) {
        return bounded && sweeps.start(nowNanos);
    }

    /**
     * {@return whether claims were bounded, and no sweep succeeded for {@link ClaimFloor#SWEEPS_STALLED_NANOS}
     * up to {@code nowNanos}} If so, claims start from the index's front again from now on.
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
     * {@code first}: each key's first due job in claim order, for at most {@link #MAX_KEYS} keys. A key
     * whose first job sorts at or before its floor gets a floor just before that job; a key without a
     * floor gets one. {@return whether any floor went back or was added: the store's workers should claim}
     */
    synchronized boolean swept(long endNanos, long nanos, Map<String, ClaimFloor.Key> first) {
        sweeps.swept(endNanos, nanos, first.size() >= MAX_KEYS);
        boolean moved = false;
        for (Map.Entry<String, ClaimFloor.Key> entry : first.entrySet()) {
            ClaimFloor.Key floor = floors.get(entry.getKey());
            if (floor == null || entry.getValue().compareTo(floor) <= 0) {
                ClaimFloor.Key job = entry.getValue();
                putFloor(entry.getKey(), new ClaimFloor.Key(job.priority(), job.runAt().minus(1, ChronoUnit.MICROS), job.id()));
                moved |= floors.containsKey(entry.getKey());
            }
        }
        if (bounded) {
            // A claim from the front would walk what the sweep walked, then do what a bounded claim does.
            long asAFullClaim = nanos + boundedNanos;
            bounded = asAFullClaim >= ClaimFloor.SLOW_FULL_CLAIM_NANOS
                    && ClaimFloor.walksDeadEntries(asAFullClaim, boundedJobs, boundedNanos, boundedJobs);
        }
        return moved;
    }

    /** The sweep started by {@link #startSweep} failed, or could not start: the next starts a period after it. */
    synchronized void sweepFailed() {
        sweeps.failed();
    }

    /** {@return whether fair claims start past the floors now} For tests and logging. */
    synchronized boolean isBounded() {
        return bounded;
    }

    private void putFloor(String key, ClaimFloor.Key floor) {
        if (floors.size() < MAX_KEYS || floors.containsKey(key)) {
            floors.put(key, floor);
        }
    }

    private static Map<String, ClaimFloor.Key> startedPast(Bounds bounds) {
        Map<String, ClaimFloor.Key> from = new TreeMap<>();
        for (int i = 0; i < bounds.keys().size(); i++) {
            from.put(bounds.keys().get(i), bounds.floors().get(i));
        }
        return from;
    }
}
