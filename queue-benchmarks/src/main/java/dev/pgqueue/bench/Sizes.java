package dev.pgqueue.bench;

import java.time.Duration;
import java.util.List;

/**
 * How big each workload is. {@link #standard()} matches the peer benchmark's workloads;
 * {@link #quick()} is for smoke tests only, and its figures are not comparable.
 *
 * @param drainJobs       W1 and W4: jobs enqueued before the worker starts
 * @param latencyJobs     W2: jobs enqueued one at a time
 * @param latencyRate     W2: jobs per second on the producer's fixed schedule
 * @param latencyIdle     W2: how long the worker idles before the first enqueue
 * @param enqueueJobs     W3: single enqueues timed, then the size of the bulk enqueue
 * @param enqueueWarmup   W3: single enqueues before the clock starts
 * @param retained        W4: completed jobs in the table before the drain, one configuration each
 * @param memoryJobs      memory: jobs the child JVM's worker drains
 * @param memoryChunk     memory: jobs per enqueueAll call while filling the queue
 * @param drainTimeout    longest a drain may take before the measurement fails
 * @param memoryTimeout   longest the memory run's child JVM may take
 * @param workJobs        W5: real-work jobs enqueued before the worker starts
 * @param steadyWarmup    W5R: how long jobs arrive before the measured window
 * @param steadyDuration  W5R: the measured window
 * @param stepWarmup      W5R's highest steady rate: the warm-up of each step
 * @param stepDuration    W5R's highest steady rate: the measured window of each step
 */
record Sizes(
        int drainJobs,
        int latencyJobs,
        int latencyRate,
        Duration latencyIdle,
        int enqueueJobs,
        int enqueueWarmup,
        List<Integer> retained,
        int memoryJobs,
        int memoryChunk,
        Duration drainTimeout,
        Duration memoryTimeout,
        int workJobs,
        Duration steadyWarmup,
        Duration steadyDuration,
        Duration stepWarmup,
        Duration stepDuration) {

    static Sizes standard() {
        return new Sizes(20_000, 500, 50, Duration.ofSeconds(3), 10_000, 200,
                List.of(0, 100_000, 1_000_000), 1_000_000, 20_000, Duration.ofMinutes(10), Duration.ofMinutes(90),
                10_000, Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ofSeconds(3), Duration.ofSeconds(10));
    }

    static Sizes quick() {
        return new Sizes(2_000, 100, 50, Duration.ofSeconds(1), 1_000, 200,
                List.of(0, 10_000, 100_000), 50_000, 10_000, Duration.ofMinutes(2), Duration.ofMinutes(10),
                2_000, Duration.ofSeconds(2), Duration.ofSeconds(10), Duration.ofSeconds(2), Duration.ofSeconds(5));
    }

    /** The largest W4 prefill: the one that also runs with pruning on and on the raw ceiling. */
    int mostRetained() {
        return retained.get(retained.size() - 1);
    }

    /** {@code 0}, {@code 100k}, {@code 1m}: how many jobs, for system names. */
    static String count(int n) {
        if (n >= 1_000_000 && n % 1_000_000 == 0) {
            return n / 1_000_000 + "m";
        }
        if (n >= 1_000 && n % 1_000 == 0) {
            return n / 1_000 + "k";
        }
        return Integer.toString(n);
    }
}
