package dev.pgqueue.bench;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the no-op handlers record, first thing when they run: that a job started and, if its payload
 * carries a timestamp, how long after its enqueue. Thread-safe.
 */
final class Recorder {

    private final AtomicInteger started = new AtomicInteger();
    /** {@code System.nanoTime()} when the first job started; 0 until then. */
    private final AtomicLong firstStarted = new AtomicLong();
    private final AtomicInteger latencyCount = new AtomicInteger();
    private final long[] latencies;
    /** Told of every job as it starts, with its stamp and the time; null for none. */
    private final Listener listener;

    /** What {@link StorageWorkloads} hears of each job as it starts. */
    @FunctionalInterface
    interface Listener {
        void started(long stamp, long nanoTime);
    }

    /** @param latencyCapacity how many latencies to keep at most (0 when only counting) */
    Recorder(int latencyCapacity) {
        this(latencyCapacity, null);
    }

    /** Keeps no latencies itself; tells {@code listener} of every job as it starts. */
    Recorder(Listener listener) {
        this(0, listener);
    }

    private Recorder(int latencyCapacity, Listener listener) {
        this.latencies = new long[latencyCapacity];
        this.listener = listener;
    }

    void jobStarted(long stamp) {
        long now = System.nanoTime();
        if (listener != null) {
            listener.started(stamp, now);
        }
        if (stamp != Stamp.NONE) {
            int i = latencyCount.getAndIncrement();
            if (i < latencies.length) {
                latencies[i] = now - stamp;
            }
        }
        if (started.getAndIncrement() == 0) {
            firstStarted.compareAndSet(0, now);
        }
    }

    int started() {
        return started.get();
    }

    /** {@code System.nanoTime()} when the first job started, or 0 if none has. */
    long firstStartedNanos() {
        return firstStarted.get();
    }

    /**
     * The {@code n} largest latencies so far as "#i: x ms", i counting jobs in the order their
     * handlers started (from 1): whether the tail is the first jobs of a fresh worker or spread out.
     */
    String slowest(int n) {
        int count = Math.min(latencyCount.get(), latencies.length);
        Integer[] order = new Integer[count];
        for (int i = 0; i < count; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Long.compare(latencies[b], latencies[a]));
        StringBuilder text = new StringBuilder();
        for (int k = 0; k < Math.min(n, count); k++) {
            text.append(k == 0 ? "" : ", ").append('#').append(order[k] + 1).append(": ")
                    .append(String.format(java.util.Locale.ROOT, "%.1f ms", latencies[order[k]] / 1e6));
        }
        return text.toString();
    }

    /** The latencies recorded so far, in nanoseconds, sorted. */
    long[] sortedLatencies() {
        long[] copy = Arrays.copyOf(latencies, Math.min(latencyCount.get(), latencies.length));
        Arrays.sort(copy);
        return copy;
    }
}
