package dev.pgqueue.jdbi;

/**
 * When the sweeps of a floor start while claims are bounded by it ({@link ClaimFloor}, {@link FairFloor}):
 * every {@link ClaimFloor#SWEEP_PERIOD_PER_SWEEP} times as long as the latest sweep or claim from the
 * index's front took (1 s at least, 60 s at most), counted from when it started, one at a time; at once
 * after a sweep that found as many as it looks for. And whether sweeps have stalled: none succeeded for
 * {@link ClaimFloor#SWEEPS_STALLED_NANOS} since claims were bounded or the last one succeeded.
 *
 * <p>Not thread-safe: its owner calls it under its own lock.
 */
final class SweepSchedule {

    private boolean sweeping;
    /** Whether the next sweep may start at once: the latest found as many as it looks for. */
    private boolean sweepAgain;
    /** When the latest sweep, or claim from the index's front, started, and how long it took. */
    private long lastFrontStartNanos;
    private long frontNanos = -1;
    /** When claims were bounded, or a sweep last succeeded, whichever is later. */
    private long lastSweptNanos;
    /** Sweeps in a row, since claims were bounded, that judged the front quick to walk again. */
    private int quickSweeps;

    /** A claim from the index's front started at {@code startNanos} and took {@code nanos}. */
    void frontClaimed(long startNanos, long nanos) {
        lastFrontStartNanos = startNanos;
        frontNanos = nanos;
    }

    /** Claims were bounded at {@code nowNanos}: the stall clock starts. */
    void bounded(long nowNanos) {
        lastSweptNanos = nowNanos;
        quickSweeps = 0;
    }

    /**
     * {@return whether claims stay bounded after a sweep that took {@code sweepNanos}, the latest bounded
     * claim having taken {@code boundedNanos} for {@code boundedJobs} jobs} A claim from the front would
     * walk what the sweep walked, then do what a bounded claim does; bounding stops paying when that is
     * under {@link ClaimFloor#SLOW_FULL_CLAIM_NANOS} or no longer walks dead entries
     * ({@link ClaimFloor#walksDeadEntries}), judged so by two sweeps in a row: one bounded claim slowed by
     * something else (a pause, the sweep itself on a small machine) must not send every claim back over
     * the dead entries.
     */
    boolean stillPays(long sweepNanos, long boundedNanos, int boundedJobs) {
        long asAFullClaim = sweepNanos + boundedNanos;
        if (asAFullClaim >= ClaimFloor.SLOW_FULL_CLAIM_NANOS
                && ClaimFloor.walksDeadEntries(asAFullClaim, boundedJobs, boundedNanos, boundedJobs)) {
            quickSweeps = 0;
            return true;
        }
        return ++quickSweeps < 2;
    }

    /** {@return whether a sweep starts at {@code nowNanos}} If so, it is started: report it with {@link #swept} or {@link #failed}. */
    boolean start(long nowNanos) {
        if (sweeping || !sweepAgain && nowNanos - lastFrontStartNanos < periodNanos()) {
            return false;
        }
        sweeping = true;
        sweepAgain = false;
        lastFrontStartNanos = nowNanos;
        return true;
    }

    /** The sweep ended at {@code endNanos} and took {@code nanos}; {@code again}: it found as many as it looks for. */
    void swept(long endNanos, long nanos, boolean again) {
        sweeping = false;
        lastSweptNanos = endNanos;
        frontNanos = nanos;
        sweepAgain = again;
    }

    /** The sweep failed, or could not start: the next starts a period after it. */
    void failed() {
        sweeping = false;
    }

    /** {@return whether no sweep succeeded for {@link ClaimFloor#SWEEPS_STALLED_NANOS} up to {@code nowNanos}} */
    boolean stalled(long nowNanos) {
        return nowNanos - lastSweptNanos >= ClaimFloor.SWEEPS_STALLED_NANOS;
    }

    /** How long from one sweep's start to the next's: ten times a sweep, within 1 to 60 s. */
    private long periodNanos() {
        return Math.min(ClaimFloor.MAX_SWEEP_PERIOD_NANOS,
                Math.max(ClaimFloor.MIN_SWEEP_PERIOD_NANOS, ClaimFloor.SWEEP_PERIOD_PER_SWEEP * frontNanos));
    }
}
