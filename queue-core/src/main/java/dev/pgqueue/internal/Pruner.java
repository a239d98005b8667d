package dev.pgqueue.internal;

import dev.pgqueue.JobStatus;
import dev.pgqueue.spi.JobStore.PruneParams;
import java.time.Duration;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes finished jobs older than their status's retention, in small batches (each its own short
 * transaction, skipping locked rows) so that it never holds locks long or competes with claims.
 * Only jobs in a final status are ever deleted.
 */
final class Pruner {

    private static final Logger log = LoggerFactory.getLogger(Pruner.class);
    static final int BATCH = 1_000;

    private final WorkerRuntime runtime;

    Pruner(WorkerRuntime runtime) {
        this.runtime = runtime;
    }

    void prune() {
        try {
            int deleted = 0;
            for (Map.Entry<Duration, Set<JobStatus>> group : statusesByRetention().entrySet()) {
                int batch;
                do {
                    batch = runtime.config().store().jobPrune(
                            new PruneParams(group.getValue(), group.getKey(), BATCH, runtime.config().now()));
                    deleted += batch;
                } while (batch == BATCH && runtime.isRunning());
            }
            if (deleted > 0) {
                log.info("pruned {} finished jobs", deleted);
            }
        } catch (Throwable e) {
            log.warn("worker {} could not prune finished jobs ({}); trying again in {}",
                    runtime.config().workerId(), LogText.of(e.getMessage()), runtime.config().pruneInterval());
        }
    }

    private Map<Duration, Set<JobStatus>> statusesByRetention() {
        Map<Duration, Set<JobStatus>> groups = new LinkedHashMap<>();
        runtime.config().retention().forEach((status, keepFor) ->
                groups.computeIfAbsent(keepFor, k -> EnumSet.noneOf(JobStatus.class)).add(status));
        return groups;
    }
}
