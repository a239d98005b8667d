package dev.pgqueue.admin;

import dev.pgqueue.ValidationException;

/**
 * A number of jobs and how far it can be trusted: exact, a lower bound (counting stopped at a limit),
 * or an estimate from PostgreSQL's planner statistics. {@link JobAdmin#queueStats()} counts the
 * states an operator acts on exactly and may estimate the large historical ones;
 * {@link JobAdmin#countUpTo} stops at a limit. Whoever shows a count shows its accuracy with it
 * ({@code 1,204}, {@code 10,000+}, {@code ≈ 915,000}).
 *
 * @param value    the number: exact, the lower bound, or the estimate
 * @param accuracy which of the three it is
 */
public record JobCount(long value, Accuracy accuracy) {

    /** How far a {@link JobCount} can be trusted. */
    public enum Accuracy {
        /** Counted, every matching row: the number as of the statement that read it. */
        EXACT,
        /** Counting stopped at a limit: there are more than this many (at least {@code value + 1}). */
        AT_LEAST,
        /**
         * Estimated from the planner's statistics of the table (kept by ANALYZE, which autovacuum runs
         * after enough rows changed): near the truth for large numbers, stale by whatever changed since.
         */
        ESTIMATE;

        /** {@return the lower-case name used in JSON and by the CLI: {@code exact}, {@code at_least}, {@code estimate}} */
        public String jsonName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * @param value    the number, at least 0
     * @param accuracy which kind of number it is
     * @throws ValidationException if {@code value} is negative or {@code accuracy} is null
     */
    public JobCount {
        if (value < 0) {
            throw new ValidationException("value", ">= 0", value);
        }
        if (accuracy == null) {
            throw new ValidationException("accuracy", "non-null", null);
        }
    }

    /**
     * @param value the number counted
     * @return an exact count
     */
    public static JobCount exact(long value) {
        return new JobCount(value, Accuracy.EXACT);
    }

    /**
     * @param value the limit counting stopped at: there are more
     * @return a lower bound
     */
    public static JobCount atLeast(long value) {
        return new JobCount(value, Accuracy.AT_LEAST);
    }

    /**
     * @param value the planner's estimate
     * @return an estimate
     */
    public static JobCount estimate(long value) {
        return new JobCount(value, Accuracy.ESTIMATE);
    }

    /** {@return whether the value was counted exactly} */
    public boolean isExact() {
        return accuracy == Accuracy.EXACT;
    }

    /** {@return the value as people read it: {@code 1204}, {@code 10000+} or {@code ~915000}} */
    @Override
    public String toString() {
        return switch (accuracy) {
            case EXACT -> Long.toString(value);
            case AT_LEAST -> value + "+";
            case ESTIMATE -> "~" + value;
        };
    }
}
