package dev.pgqueue.bench;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the no-op handlers record, first thing when they run: that a job started and, if its payload
 * carries a timestamp, how long after its enqueue. Thread-safe.
 */
final class Recorder {

    private final AtomicInteger started = new AtomicInteger();
    private final AtomicInteger latencyCount = new AtomicInteger();
    private final long[] latencies;

    /** @param latencyCapacity how many latencies to keep at most (0 when only counting) */
    Recorder(int latencyCapacity) {
        this.latencies = new long[latencyCapacity];
    }

    void jobStarted(long stamp) {
        long now = System.nanoTime();
        if (stamp != Stamp.NONE) {
            int i = latencyCount.getAndIncrement();
            if (i < latencies.length) {
                latencies[i] = now - stamp;
            }
        }
        started.incrementAndGet();
    }

    int started() {
        return started.get();
    }

    /** The latencies recorded so far, in nanoseconds, sorted. */
    long[] sortedLatencies() {
        long[] copy = Arrays.copyOf(latencies, Math.min(latencyCount.get(), latencies.length));
        Arrays.sort(copy);
        return copy;
    }
}
