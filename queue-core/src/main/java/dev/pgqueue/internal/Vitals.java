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
    /** System.nanoTime() when the pause watch's current read began, or 0 when none is in flight. */
    private volatile long readingSince;

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

    /** The pause watch's read (once a second) begins. */
    void reading() {
        readingSince = System.nanoTime();
    }

    /** The pause watch's read returned, either way. */
    void readDone() {
        readingSince = 0;
    }

    /**
     * How long the current once-a-second read has waited for the database: a pool waiting for a
     * connection to a vanished host may take its whole connection timeout (30 s by default) to fail.
     */
    java.time.Duration waiting() {
        long since = readingSince;
        return since == 0 ? java.time.Duration.ZERO : java.time.Duration.ofNanos(System.nanoTime() - since);
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
