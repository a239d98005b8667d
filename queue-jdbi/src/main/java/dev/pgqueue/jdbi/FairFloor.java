package dev.pgqueue.jdbi;

import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

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
 * an earlier run_at, given back by another claimer). Two kinds of those this store knows of itself, and
 * <em>owes</em> ({@link #owe}): the jobs one of its claims locked and did not take (a round that the
 * limit or the byte budget cut), which a claim of another thread, meanwhile, skipped as locked while it
 * raised their key's floor past them; and the jobs a claim took and then gave back by rolling back. Each
 * key's claims then start no later than just before the first job it owes, until a claim that started
 * after the owing takes a job of that key from there, or such a sweep finds the key's first due job. A
 * <em>sweep</em> finds the rest: a read-only walk of
 * the index's front (claim-fair-sweep.sql) on a thread and a connection of its own, which answers each
 * key's first due job; a key's floor goes back to just before it, and a new key is known from then on
 * ({@link #swept}). Sweeps run on {@link ClaimFloor}'s schedule ({@link SweepSchedule}), each over
 * {@link #SWEEP_KEYS} keys from where the previous one stopped, the next at once while they find that
 * many: so such a job waits about ten times as long as a sweep takes (1 to 60 s), plus the sweeps
 * before its key's turn. The fill (claim.sql, bounded by its own {@link ClaimFloor}) may take it sooner,
 * when a fair claim leaves room. Each sweep also judges again whether bounding pays; if sweeps stall,
 * claims start from the front again.
 *
 * <p>Claims are bounded only while a claim from the front takes at least twice, and 10 ms more than,
 * what its jobs cost a bounded claim ({@link ClaimFloor#walksDeadEntries}); deciding takes one bounded
 * claim (a probe) after two slow claims from the front in a row, which the caller tops up from the front if it
 * comes back short. A key's floor is forgotten when no claim or sweep has touched it for
 * {@link #FORGET_NANOS} (its jobs ran out; a sweep learns it again when it has due jobs). At most
 * {@link #MAX_KEYS} keys are kept: a sweep that finds a key it cannot keep makes claims start from the
 * front again, so that no key is left out while claims are bounded.
 *
 * <p>Thread-safe: several workers of one store may claim the same queue.
 */
final class FairFloor {

    /** The most keys whose floors are kept: a claim past the floors may visit them all. */
    static final int MAX_KEYS = 10_000;
    /** The most keys one sweep finds; one that finds this many is followed by another, from its last key, at once. */
    static final int SWEEP_KEYS = 1_000;
    /**
     * A key no claim took a job from, and no sweep found a due job of, for this long is forgotten: twice
     * the longest sweep period, so that sweeps keep every key that has due jobs.
     */
    static final long FORGET_NANOS = 2 * ClaimFloor.MAX_SWEEP_PERIOD_NANOS;

    /** A claim past the floors: the keys to visit, in this order, each with its floor. */
    record Bounds(LinkedHashMap<String, ClaimFloor.Key> startPast) {
        /** The keys to visit, in order. */
        List<String> keys() {
            return new ArrayList<>(startPast.keySet());
        }

        /** The floor of each key, in the order of {@link #keys}. */
        List<ClaimFloor.Key> floors() {
            return new ArrayList<>(startPast.values());
        }
    }

    /**
     * Where a key's claims start at the latest, whatever its floor: just before the first job of one
     * {@link #owe}, the {@code generation}th.
     */
    private record Owed(ClaimFloor.Key startPast, long generation) {}

    private final TreeMap<String, ClaimFloor.Key> floors = new TreeMap<>();
    /** Each key's debts not yet settled, oldest first: each settles on its own (a claim's window may span later ones). */
    private final Map<String, ArrayDeque<Owed>> owed = new HashMap<>();
    /**
     * Counts the owings: a claim or sweep that began once the count was at an owing's own saw its jobs
     * pending and unlocked (each owing comes after their locks are gone); one that began before may not have.
     */
    private long generation;
    /** The {@link #generation} when the running sweep started. */
    private long sweepGeneration;
    /** When a claim or a sweep last touched each key of {@link #floors}. */
    private final Map<String, Long> touched = new HashMap<>();
    private long lastForgetNanos;
    /** Where the next sweep starts: after this key (null: from the first). */
    private String sweepFrom;
    private boolean bounded;
    /** The next claim is bounded, to compare with the slow claim from the front just before it. */
    private boolean probe;
    /** Claims from the front slower than {@link ClaimFloor#SLOW_FULL_CLAIM_NANOS} in a row, since the latest probe. */
    private int slowFullClaims;
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
        LinkedHashMap<String, ClaimFloor.Key> startPast = new LinkedHashMap<>();
        (cursor == null ? floors : floors.tailMap(cursor, false)).forEach((key, floor) -> startPast.put(key, startPast(key, floor)));
        if (cursor != null) {
            floors.headMap(cursor, true).forEach((key, floor) -> startPast.put(key, startPast(key, floor)));
        }
        return new Bounds(startPast);
    }

    /** {@return the count of owings so far} Read before {@link #bound}, and passed to {@link #claimed}. */
    synchronized long generation() {
        return generation;
    }

    /**
     * This store's claim locked jobs and did not take them, or took jobs and rolled back: {@code first}, by
     * key, is the first of them in claim order, now pending and unlocked (the locks are gone). Claims of
     * the key start no later than just before it until a claim or sweep that begins after this one settles
     * it (see {@link #claimed}, {@link #swept}). A key without a floor gets one there; if no more keys can be
     * kept, claims start from the front again.
     */
    synchronized void owe(Map<String, ClaimFloor.Key> first, long nowNanos) {
        long owing = ++generation;
        first.forEach((key, job) -> {
            ClaimFloor.Key before = justBefore(job);
            owed.computeIfAbsent(key, k -> new ArrayDeque<>()).addLast(new Owed(before, owing));
            if (floors.containsKey(key)) {
                touched.put(key, nowNanos);
            } else if (!putFloor(key, before, nowNanos)) {
                bounded = false; // claims past the floors could not visit it
            }
        });
    }

    /**
     * A claim that {@link #bound} told to start at {@code bounds} (null: the index's front), with
     * {@link #generation} at {@code since} before that, ran from {@code startNanos} for {@code nanos} and
     * took {@code jobs} jobs; {@code highest} is the last job it took of each key, in claim order. A key
     * whose owed jobs it saw (owed by {@code since}) goes on from its last job, even if a claim of another
     * thread raised the floor further: those jobs may lie between.
     */
    synchronized void claimed(Bounds bounds, long since, long startNanos, long nanos, int jobs, Map<String, ClaimFloor.Key> highest) {
        long endNanos = startNanos + nanos;
        forgetUntouched(endNanos);
        if (bounds == null) {
            sweeps.frontClaimed(startNanos, nanos);
            fullNanos = nanos;
            fullJobs = jobs;
            // It took what sorted before the old floors, if anything: continue after it.
            highest.forEach((key, last) -> {
                settle(key, since);
                putFloor(key, last, endNanos);
            });
            slowFullClaims = nanos >= ClaimFloor.SLOW_FULL_CLAIM_NANOS && !floors.isEmpty() ? slowFullClaims + 1 : 0;
            probe = slowFullClaims >= ClaimFloor.SLOW_FULL_CLAIMS_TO_PROBE && !bounded;
            return;
        }
        boundedNanos = nanos;
        boundedJobs = jobs;
        highest.forEach((key, last) -> {
            ClaimFloor.Key floor = floors.get(key);
            ClaimFloor.Key from = bounds.startPast().get(key);
            boolean settled = settle(key, since);
            // A sweep, or a claim from the front, that ended while this claim ran may have lowered the
            // floor below where this one started: raising it again would skip what it left there.
            if (floor == null || from != null && from.compareTo(floor) <= 0 && (settled || last.compareTo(floor) > 0)) {
                putFloor(key, last, endNanos);
            }
        });
        if (probe) {
            probe = false;
            slowFullClaims = 0;
            bounded = ClaimFloor.walksDeadEntries(fullNanos, fullJobs, boundedNanos, boundedJobs);
            if (bounded) {
                sweeps.bounded(startNanos);
            }
        }
    }

    /**
     * {@return whether a sweep should start at {@code nowNanos}} If so, it is started: the caller runs it
     * and reports with {@link #swept} or {@link #sweepFailed}.
     */
    synchronized boolean startSweep(long nowNanos) {
        if (!bounded || !sweeps.start(nowNanos)) {
            return false;
        }
        sweepGeneration = generation;
        return true;
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

    /** {@return the key the next sweep starts after (null: from the first)} */
    synchronized String sweepFrom() {
        return sweepFrom;
    }

    /**
     * The sweep started by {@link #startSweep} ended at {@code endNanos}, took {@code nanos} and found
     * {@code first}: each key's first due job in claim order, for at most {@link #SWEEP_KEYS} keys in the
     * order it visited them (from after {@link #sweepFrom}, round to it). A key whose first job sorts at
     * or before its floor gets a floor just before that job; a key without a floor gets one, or, if no
     * more keys can be kept, claims start from the front again. The jobs owed of each key it found, or,
     * if it found fewer than {@link #SWEEP_KEYS} keys, of any key, are settled, if owed before it started:
     * still due, they sort at or after the first due job it found. {@return whether any floor went back or
     * was added: the store's workers should claim}
     */
    synchronized boolean swept(long endNanos, long nanos, LinkedHashMap<String, ClaimFloor.Key> first) {
        boolean full = first.size() >= SWEEP_KEYS;
        sweeps.swept(endNanos, nanos, full);
        String last = null;
        for (String key : first.keySet()) {
            last = key;
        }
        sweepFrom = full ? last : null;
        forgetUntouched(endNanos);
        boolean moved = false;
        boolean leftOut = false;
        for (Map.Entry<String, ClaimFloor.Key> entry : first.entrySet()) {
            String key = entry.getKey();
            ClaimFloor.Key job = entry.getValue();
            ClaimFloor.Key floor = floors.get(key);
            if (floor == null || job.compareTo(floor) <= 0) {
                moved |= putFloor(key, justBefore(job), endNanos);
                leftOut |= !floors.containsKey(key);
            } else {
                touched.put(key, endNanos);
            }
            settle(key, sweepGeneration);
        }
        if (!full) { // every key with a due job was found: the others owe none
            for (String key : new ArrayList<>(owed.keySet())) {
                if (!first.containsKey(key)) {
                    settle(key, sweepGeneration);
                }
            }
        }
        if (leftOut) {
            bounded = false; // a key with due jobs that claims past the floors could not visit
            return true;
        }
        if (bounded) {
            bounded = sweeps.stillPays(nanos, boundedNanos, boundedJobs);
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

    /** {@return where claims of {@code key}, whose floor is {@code floor}, start: no later than what it is owed} */
    private ClaimFloor.Key startPast(String key, ClaimFloor.Key floor) {
        ArrayDeque<Owed> debts = owed.get(key);
        if (debts == null) {
            return floor;
        }
        ClaimFloor.Key start = floor;
        for (Owed debt : debts) {
            start = ClaimFloor.Key.earlier(start, debt.startPast());
        }
        return start;
    }

    /** {@return whether {@code key} owed jobs by the {@code since}th owing} If so, it owes those no more. */
    private boolean settle(String key, long since) {
        ArrayDeque<Owed> debts = owed.get(key);
        if (debts == null || debts.peekFirst().generation() > since) {
            return false;
        }
        while (!debts.isEmpty() && debts.peekFirst().generation() <= since) {
            debts.pollFirst();
        }
        if (debts.isEmpty()) {
            owed.remove(key);
        }
        return true;
    }

    /** {@return a floor just before {@code job}: a microsecond earlier, or, at -infinity, before every other id} */
    static ClaimFloor.Key justBefore(ClaimFloor.Key job) {
        if (!job.runAt().isAfter(JdbcTime.NEGATIVE_INFINITY)) {
            return new ClaimFloor.Key(job.priority(), job.runAt(), new UUID(0, 0));
        }
        return new ClaimFloor.Key(job.priority(), job.runAt().minus(1, ChronoUnit.MICROS), job.id());
    }

    /** {@return whether the floor was kept: not when {@link #MAX_KEYS} other keys are} */
    private boolean putFloor(String key, ClaimFloor.Key floor, long nowNanos) {
        if (floors.size() >= MAX_KEYS && !floors.containsKey(key)) {
            return false;
        }
        floors.put(key, floor);
        touched.put(key, nowNanos);
        return true;
    }

    /** Forgets the keys untouched for {@link #FORGET_NANOS}, looking at most once a minimum sweep period. */
    private void forgetUntouched(long nowNanos) {
        if (nowNanos - lastForgetNanos < ClaimFloor.MIN_SWEEP_PERIOD_NANOS) {
            return;
        }
        lastForgetNanos = nowNanos;
        touched.entrySet().removeIf(entry -> {
            boolean stale = nowNanos - entry.getValue() >= FORGET_NANOS;
            if (stale) {
                floors.remove(entry.getKey());
                owed.remove(entry.getKey());
            }
            return stale;
        });
    }
}
