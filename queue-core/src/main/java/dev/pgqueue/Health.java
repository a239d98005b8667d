package dev.pgqueue;

import java.time.Instant;
import java.util.List;

/**
 * A worker's health as a readiness or liveness probe reads it ({@link Worker#health()}).
 *
 * @param status               UP, DEGRADED or DOWN
 * @param reasons              why it is not UP, one sentence each; empty when UP
 * @param lastClaim            when the worker last claimed from the database successfully (with or
 *                             without jobs), or null if never
 * @param databaseReachable    whether its last round trip to the database succeeded
 * @param listening            whether its LISTEN connection is up (false where notifications are off)
 * @param jobsPastTimeout      jobs it runs whose handlers have run longer than their job type's timeout
 */
public record Health(Status status, List<String> reasons, Instant lastClaim, boolean databaseReachable,
        boolean listening, int jobsPastTimeout) {

    /**
     * @param status            UP, DEGRADED or DOWN
     * @param reasons           why it is not UP
     * @param lastClaim         last successful claim, or null
     * @param databaseReachable whether the database answered
     * @param listening         whether LISTEN is up
     * @param jobsPastTimeout   jobs running past their timeout
     */
    public Health {
        reasons = List.copyOf(reasons);
    }

    /** A probe's reading. */
    public enum Status {
        /** Working as configured. */
        UP,
        /** Working, with a problem an operator should look at (for example, the table needs vacuum). */
        DEGRADED,
        /** Not working: the database is unreachable or the worker is not running. */
        DOWN
    }
}
