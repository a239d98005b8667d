package dev.pgqueue.internal;

import dev.pgqueue.StoreException;
import java.time.Instant;

/**
 * What the worker's threads last saw of the database, for {@code Worker.health()}: when a claim last
 * went through, and whether the latest round trip of any of them (claims, the pause watch's read
 * about every second, heartbeats) reached the database. A failure counts as "unreachable" when it is
 * transient (connection trouble, the server restarting); a rejected statement means it answered.
 */
final class Vitals {

    private volatile Instant lastClaim;
    private volatile boolean reachable = true;
    private volatile String lastFailure;

    /** A claim round reached the database (with or without jobs). */
    void claimed() {
        lastClaim = Instant.now();
        reachable = true;
    }

    /** Some other round trip reached the database. */
    void reached() {
        reachable = true;
    }

    /** A round trip failed with {@code e}. */
    void unreachable(Throwable e) {
        if (e instanceof StoreException store && !store.isTransient()) {
            reachable = true; // it answered, with an error
            return;
        }
        reachable = false;
        lastFailure = LogText.of(e.getMessage());
    }

    Instant lastClaim() {
        return lastClaim;
    }

    boolean reachable() {
        return reachable;
    }

    String lastFailure() {
        return lastFailure;
    }
}
