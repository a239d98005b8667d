package dev.pgqueue.bench;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * What W5's and W5R's handlers record: every attempt, and every job done (its transaction
 * committed) with its payload's stamp and the {@link System#nanoTime()} right after the commit.
 * Latency is done minus stamp: enqueue call to commit, on this JVM's one monotonic clock. Thread-safe.
 */
final class Completions {

    private final AtomicInteger attempts = new AtomicInteger();
    private final AtomicInteger done = new AtomicInteger();
    private final AtomicLongArray stamps;
    private final AtomicLongArray doneAt;

    /** @param capacity how many completions to keep stamps of (more are counted only) */
    Completions(int capacity) {
        stamps = new AtomicLongArray(capacity);
        doneAt = new AtomicLongArray(capacity);
    }

    void attempted() {
        attempts.incrementAndGet();
    }

    /** The job stamped {@code stamp} committed just now. */
    void done(long stamp) {
        long now = System.nanoTime();
        int i = done.getAndIncrement();
        if (i < stamps.length()) {
            stamps.set(i, stamp);
            doneAt.set(i, now);
        }
    }

    int attempts() {
        return attempts.get();
    }

    int done() {
        return done.get();
    }

    /** Jobs done with their commit in [from, to). */
    int doneBetween(long from, long to) {
        int n = 0;
        for (int i = 0, end = Math.min(done.get(), stamps.length()); i < end; i++) {
            long at = doneAt.get(i);
            if (at >= from && at < to) {
                n++;
            }
        }
        return n;
    }

    /** Sorted latencies (nanoseconds) of the jobs done so far that were stamped in [from, to). */
    long[] latenciesOfStampedBetween(long from, long to) {
        int end = Math.min(done.get(), stamps.length());
        long[] all = new long[end];
        int n = 0;
        for (int i = 0; i < end; i++) {
            long stamp = stamps.get(i);
            if (stamp != Stamp.NONE && stamp >= from && stamp < to) {
                all[n++] = doneAt.get(i) - stamp;
            }
        }
        long[] latencies = java.util.Arrays.copyOf(all, n);
        java.util.Arrays.sort(latencies);
        return latencies;
    }
}
