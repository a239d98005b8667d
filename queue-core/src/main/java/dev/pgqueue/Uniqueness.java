package dev.pgqueue;

import dev.pgqueue.internal.Check;
import java.time.Duration;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;

/**
 * When a job's {@linkplain EnqueueOptions#dedupeKey(String) dedupe key} blocks another job of the same
 * type and key: while the job is in one of {@code states} and, if a period is given, until that long
 * after it was enqueued. An enqueue that finds such a job enqueues nothing and returns that job's id.
 *
 * <p>The database enforces it (a partial unique index over the chosen states), so it holds across
 * any number of producers and transactions. A job's uniqueness ends by itself: when the job leaves
 * the chosen states (it completes, say, and completed is not among them), when its period has
 * passed (the next enqueue of that key then releases it), or when the job is deleted (pruned).
 *
 * <pre>{@code
 * Uniqueness.DEFAULT                                           // while pending or processing
 * Uniqueness.whileIn(PENDING, PROCESSING, COMPLETED)           // ... and once it has completed
 * Uniqueness.whileIn(PENDING, PROCESSING, COMPLETED).forPeriod(Duration.ofHours(1))   // at most one per hour
 * }</pre>
 *
 * @param states the statuses in which the job blocks duplicates; always includes {@code pending},
 *               the status every job is enqueued in
 * @param period how long after enqueue the uniqueness lasts at most, or null for as long as the job
 *               stays in {@code states}
 */
public record Uniqueness(Set<JobStatus> states, Duration period) {

    /** Unique while {@code pending} or {@code processing}, with no time limit. */
    public static final Uniqueness DEFAULT = new Uniqueness(EnumSet.of(JobStatus.PENDING, JobStatus.PROCESSING), null);

    /**
     * Checks and copies the states.
     *
     * @param states the blocking statuses; must include {@code pending}
     * @param period how long the uniqueness lasts at most, positive, or null for no limit
     * @throws ValidationException if {@code states} lacks {@code pending}, or the period is not positive
     */
    public Uniqueness {
        Check.notNull("uniqueness states", states);
        if (!states.contains(JobStatus.PENDING)) {
            throw new ValidationException("uniqueness states", "a set that includes PENDING (every job is enqueued pending)",
                    states);
        }
        states = Set.copyOf(states);
        if (period != null) {
            Check.positive("uniqueness period", period);
        }
    }

    /**
     * Unique while the job is in one of {@code states}; they must include {@code PENDING}.
     *
     * @param states the blocking statuses; must include {@code PENDING}
     * @return the uniqueness
     */
    public static Uniqueness whileIn(JobStatus... states) {
        Check.notNull("uniqueness states", states);
        EnumSet<JobStatus> set = EnumSet.noneOf(JobStatus.class);
        for (JobStatus state : states) {
            set.add(Check.notNull("uniqueness state", state));
        }
        return new Uniqueness(set, null);
    }

    /**
     * Unique in any status: at most one job of a type and key while the row exists.
     *
     * @return the uniqueness
     */
    public static Uniqueness always() {
        return new Uniqueness(EnumSet.allOf(JobStatus.class), null);
    }

    /**
     * A copy whose uniqueness also ends {@code period} after the job was enqueued (by the enqueuing
     * clock), even if the job is still in one of the states.
     *
     * @param period how long after enqueue; positive
     * @return the copy
     */
    public Uniqueness forPeriod(Duration period) {
        return new Uniqueness(states, Check.notNull("uniqueness period", period));
    }

    @Override
    public String toString() {
        JobStatus[] ordered = states.toArray(JobStatus[]::new);
        Arrays.sort(ordered);
        return "Uniqueness[while " + Arrays.toString(ordered) + (period == null ? "" : ", for " + period) + "]";
    }
}
