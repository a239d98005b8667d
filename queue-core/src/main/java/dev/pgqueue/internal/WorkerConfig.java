package dev.pgqueue.internal;

import dev.pgqueue.JobInterceptor;
import dev.pgqueue.JobStatus;
import dev.pgqueue.RetryPolicy;
import dev.pgqueue.WorkerListener;
import dev.pgqueue.spi.JobStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadFactory;

/** A worker's validated options, shared by its components. */
public record WorkerConfig(
        JobStore store,
        Map<String, HandlerRegistration<?>> handlers,
        Map<String, Integer> queues,
        int batchSize,
        Duration claimAhead,
        Duration pollInterval,
        Duration leaseDuration,
        Duration heartbeatInterval,
        Duration rescueInterval,
        Duration shutdownTimeout,
        Duration pruneInterval,
        Duration progressInterval,
        Duration tableHealthInterval,
        Duration presenceInterval,
        Duration unservedAfter,
        Map<JobStatus, Duration> retention,
        RetryPolicy retryPolicy,
        ExecutorService executor,
        ThreadFactory threadFactory,
        Clock clock,
        String workerId,
        PayloadCodec codec,
        List<WorkerListener> listeners,
        List<JobInterceptor> interceptors,
        List<RecurringJob> recurring,
        List<JobStore.QueuePolicy> policies,
        boolean logPayloads) {

    public WorkerConfig {
        handlers = Map.copyOf(handlers);
        recurring = List.copyOf(recurring);
        policies = List.copyOf(policies);
        listeners = List.copyOf(listeners);
        interceptors = List.copyOf(interceptors);
        queues = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(queues));
        retention = Map.copyOf(retention);
    }

    /** The job types this worker can run: the only ones it claims. */
    public Set<String> types() {
        return handlers.keySet();
    }

    public int totalConcurrency() {
        return queues.values().stream().mapToInt(Integer::intValue).sum();
    }

    /** "Now" for the store: null means the database's clock. */
    public Instant now() {
        return clock == null ? null : clock.instant();
    }
}
