package dev.pgqueue;

import java.util.Locale;

/**
 * The {@code job_queue.status} vocabulary, part of the public SQL contract. The seed's four values
 * keep their meaning; {@code cancelled} and {@code waiting} are pgqueue's additions.
 *
 * <pre>
 *  waiting ──(its last dependency completed)──► pending
 *     │                  claim               complete
 *     │     pending ────────► processing ──────────► completed
 *     │        ▲                  │  │  fail (retries left) / snooze / rescue / hand-back
 *     │        └──────────────────┘  │
 *     │                              ├─ fail (no retries left, or permanently) ──► failed
 *     │                              └─ cancel ──► cancelled   (pending jobs can be cancelled too)
 *     └─ cancelled (a dependency failed for good, or a producer cancelled it)
 * </pre>
 */
public enum JobStatus {
    /**
     * Waits for the jobs it depends on ({@link EnqueueOptions#dependsOn}); becomes {@code pending} in
     * the same transaction as the last of them completes. Never claimed.
     */
    WAITING,
    /** Waiting to run; claimable once {@code run_at} has passed. */
    PENDING,
    /** Claimed by a worker that holds a lease on it until {@code lease_expires_at}. */
    PROCESSING,
    /** Ran successfully. Final. */
    COMPLETED,
    /** Failed permanently or used up its retries; {@code error_message} says why. Final. */
    FAILED,
    /** Cancelled before or while it ran. Final. */
    CANCELLED;

    private static final JobStatus[] ALL = values();

    /** Made once: outcomes and claimed rows are read and written by this value, job after job. */
    private final String sqlValue = name().toLowerCase(Locale.ROOT);

    /** {@return the value stored in {@code job_queue.status}} */
    public String sqlValue() {
        return sqlValue;
    }

    /**
     * Whether a job in this status will never run again.
     *
     * @return true for completed, failed and cancelled
     */
    public boolean isFinal() {
        return this == COMPLETED || this == FAILED || this == CANCELLED;
    }

    /**
     * The status stored as {@code value} in {@code job_queue.status}.
     *
     * @param value the stored value, e.g. {@code "pending"}
     * @return the status
     * @throws IllegalArgumentException if no status is stored as {@code value}
     */
    public static JobStatus fromSql(String value) {
        for (JobStatus status : ALL) {
            if (status.sqlValue.equals(value)) {
                return status;
            }
        }
        return valueOf(value.toUpperCase(Locale.ROOT)); // another case, or no status at all
    }
}
