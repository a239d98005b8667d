package dev.pgqueue.internal;

import java.time.Instant;

/**
 * What a running attempt needs from whatever runs it: a worker's runtime, or the inline runner of
 * the test helpers. Kept this small so that both run jobs through the very same {@link RunningJob}
 * and {@link Outcomes}.
 */
interface AttemptHost {

    /** Maps payloads and results. */
    PayloadCodec codec();

    /** "Now" for the store: null means the database's clock. */
    Instant now();

    /** Extends the attempt's lease at once; throws {@link dev.pgqueue.LeaseLostException} if it is lost. */
    void extendLease(RunningJob run);

    /** Whether whatever runs the attempt is shutting down: handlers should stop ({@code shouldStop()}). */
    default boolean closing() {
        return false;
    }
}
