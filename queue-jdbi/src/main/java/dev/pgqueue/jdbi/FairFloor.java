package dev.pgqueue.jdbi;

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
 * no entry of a job it claimed. What it cannot see: a key this store has not claimed from yet (a new
 * tenant), and a job that sorts before its key's floor (more urgent, released, retried or made due with
 * an earlier run_at, given back by another claimer). The fill (claim.sql, bounded by its own
 * {@link ClaimFloor}) takes such jobs when a fair claim leaves room; else they wait for the next claim
 * from the front, which the store makes every period (ten times as long as such a claim took, 1 s at
 * least, 60 s at most, as {@link ClaimFloor}'s sweeps). That claim also judges again whether bounding
 * pays. Unlike a sweep it is a claim, on its caller's connection: one claim in a period waits for the walk.
 *
 * <p>Claims are bounded only while a claim from the front takes at least twice, and 10 ms more than,
 * what its jobs cost a bounded claim ({@link ClaimFloor#walksDeadEntries}); deciding takes one bounded
 * claim (a probe) after a slow claim from the front. It keeps the floors of at most {@link #MAX_KEYS}
 * keys; keys beyond are claimed from the front only.
 *
 * <p>Thread-safe: several workers of one store may claim the same queue.
 */
final class FairFloor {

    /** The most keys whose floors are kept: a claim past the floors may visit them all. */
    static final int MAX_KEYS = 10_000;

    /** A claim past the floors: the keys to visit, in this order, and the floor of each. */
    record Bounds(List<String> keys, List<ClaimFloor.Key> floors) {}

    private final TreeMap<String, ClaimFloor.Key> floors = new TreeMap<>();
    private boolean bounded;
    /** The next claim is bounded, to compare with the slow claim from the front just before it. */
    private boolean probe;
    /** The latest claim from the index's front: its time and jobs; and when the latest one started. */
    private long fullNanos;
    private int fullJobs;
    private long lastFullStartNanos;
    /** A claim from the front that {@link #bound} asked for while bounded is running. */
    private boolean fullRunning;
    /** The next claim is from the front, not a period after the last: one from the front rolled back. */
    private boolean frontNext;
    /** The latest bounded claim's time and jobs; -1 jobs before the first. */
    private long boundedNanos;
    private int boundedJobs = -1;

    /**
     * {@return where the claim starting at {@code nowNanos} starts: null for the index's front, else past
     * the floors, visiting the known keys in key order from just after {@code cursor} (null: from the first)
     * round to it} While bounded, one claim a period is from the front; the caller must report each claim
     * with {@link #claimed} or {@link #claimFailed}.
     */
    synchronized Bounds bound(String cursor, long nowNanos) {
        if (floors.isEmpty() || !bounded && !probe) {
            frontNext = false;
            return null;
        }
        if (frontNext || bounded && !fullRunning && nowNanos - lastFullStartNanos >= periodNanos()) {
            fullRunning = true;
            frontNext = false;
            lastFullStartNanos = nowNanos;
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
            fullRunning = false;
            lastFullStartNanos = startNanos;
            fullNanos = nanos;
            fullJobs = jobs;
            // It took what sorted before the old floors, if anything: continue after it.
            highest.forEach(this::putFloor);
            boolean slow = nanos >= ClaimFloor.SLOW_FULL_CLAIM_NANOS && !floors.isEmpty();
            if (bounded) {
                bounded = slow && ClaimFloor.walksDeadEntries(nanos, jobs, boundedNanos, boundedJobs);
            } else {
                probe = slow;
            }
            return;
        }
        boundedNanos = nanos;
        boundedJobs = jobs;
        Map<String, ClaimFloor.Key> startedPast = startedPast(bounds);
        highest.forEach((key, last) -> {
            ClaimFloor.Key floor = floors.get(key);
            ClaimFloor.Key from = startedPast.get(key);
            // A claim from the front that ended while this one ran may have lowered the floor below where
            // this one started: raising it again would skip what it left there.
            if (floor == null || from != null && from.compareTo(floor) <= 0 && last.compareTo(floor) > 0) {
                putFloor(key, last);
            }
        });
        if (probe) {
            probe = false;
            bounded = ClaimFloor.walksDeadEntries(fullNanos, fullJobs, boundedNanos, boundedJobs);
        }
    }

    /** The claim that {@link #bound} told to start at {@code bounds} failed. */
    synchronized void claimFailed(Bounds bounds) {
        if (bounds == null) {
            fullRunning = false;
        }
    }

    /**
     * A claim that {@link #bound} told to start at {@code bounds} was reported {@link #claimed}, then its
     * transaction (a limit's) rolled back: its jobs are pending again, before the floors it moved. After
     * a claim past the floors, those floors go back to where it started; after one from the front, the
     * next claim is from the front. Either way the next claims take those jobs again.
     */
    synchronized void rolledBack(Bounds bounds) {
        if (bounds == null) {
            frontNext = true;
            return;
        }
        startedPast(bounds).forEach((key, from) -> floors.computeIfPresent(key, (k, floor) -> from.compareTo(floor) < 0 ? from : floor));
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

    /** How long from one claim from the front to the next while bounded: ten times one, within 1 to 60 s. */
    private long periodNanos() {
        return Math.min(ClaimFloor.MAX_SWEEP_PERIOD_NANOS,
                Math.max(ClaimFloor.MIN_SWEEP_PERIOD_NANOS, ClaimFloor.SWEEP_PERIOD_PER_SWEEP * fullNanos));
    }
}
