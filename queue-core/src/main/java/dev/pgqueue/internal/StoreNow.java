package dev.pgqueue.internal;

import java.time.Clock;
import java.time.Instant;

/**
 * "Now" for the store's statements: the worker's clock in tests, or null, which lets the database's
 * own clock decide (production). Each part that writes leases or due times receives one, rather than
 * the clock and this rule for it.
 */
@FunctionalInterface
interface StoreNow {

    /** The instant to pass to the store, or null for the database's clock. */
    Instant now();

    /** @param clock the worker's clock, or null for the database's */
    static StoreNow of(Clock clock) {
        return clock == null ? () -> null : clock::instant;
    }
}
